#!/usr/bin/env bash
# Quiver's main job on its embedded default: set up, build the quiver CLI, import Fashion-MNIST into the default
# embedded database with `quiver import` (progress bar), then run the 1,000 test queries with `quiver bench` and
# print recall@10 and QPS against exact ground truth.
#
#   scripts/run.sh [--db PATH]      (default database: $QUIVER_DATA, else $XDG_DATA_HOME/quiver, else
#                                    ~/.local/share/quiver)
#
# The Fashion-MNIST IDX files (Debian's dataset-fashion-mnist) are converted to .npy (uint8) in .cache/fmnist:
# an .npy file is the IDX bytes behind a NumPy header, so the conversion is a header swap. The collection
# 'fashion-mnist' is dropped and re-imported on every run. The peer comparison (hnswlib, WASM) is scripts/bench.sh.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
"$root/scripts/setup.sh"
if [[ ! -f build/native-release/build.ninja ]]; then cmake --preset native-release >/dev/null; fi
echo "build: native-release (quiver CLI)"
cmake --build --preset native-release --target quiver_cli -- --quiet

quiver=(build/native-release/bindings-native/quiver "$@")
source_dir=/usr/share/datasets/fashion-mnist
cache="$root/.cache/fmnist"
mkdir -p "$cache"

# idx_to_npy SRC.gz ROWS OUT: the first ROWS images of a gzipped IDX image file as a (ROWS, 784) uint8 .npy.
idx_to_npy() {
  local src=$1 rows=$2 out=$3 dim=784
  [[ -f "$out" ]] && return 0
  local magic
  magic=$(gunzip -c "$src" | head -c 4 | od -An -tx1 | tr -d ' \n' || true)
  if [[ "$magic" != "00000803" ]]; then echo "run: $src is not an IDX image file" >&2; exit 1; fi
  local dict="{'descr': '|u1', 'fortran_order': False, 'shape': ($rows, $dim), }"
  local total=$(((10 + ${#dict} + 1 + 63) / 64 * 64))
  local hlen=$((total - 10)) pad=$((total - 10 - ${#dict} - 1))
  {
    printf '\x93NUMPY\x01\x00'
    printf "\\x$(printf %02x $((hlen & 255)))\\x$(printf %02x $((hlen >> 8)))"
    printf '%s%*s\n' "$dict" "$pad" ''
    (set +o pipefail; gunzip -c "$src" | tail -c +17 | head -c $((rows * dim)))
  } >"$out.tmp"
  mv "$out.tmp" "$out"
}
idx_to_npy "$source_dir/train-images-idx3-ubyte.gz" 60000 "$cache/train.npy"
idx_to_npy "$source_dir/t10k-images-idx3-ubyte.gz" 1000 "$cache/queries.npy"

echo
echo "== quiver stats / drop / import (default embedded database)"
if "${quiver[@]}" info fashion-mnist >/dev/null 2>&1; then "${quiver[@]}" drop fashion-mnist; fi
# M=16, ef_construct=200 as in docs/benchmarks.md; --progress shows the bar even when stderr is not a terminal.
"${quiver[@]}" import fashion-mnist "$cache/train.npy" --create --distance Euclid --m 16 --ef-construct 200 --progress
"${quiver[@]}" stats fashion-mnist

echo
echo "== quiver search (one query, by point id)"
"${quiver[@]}" search fashion-mnist --id 0 --limit 5

echo
echo "== quiver bench: 1,000 Fashion-MNIST test images, recall@10 and QPS against exact ground truth"
"${quiver[@]}" bench fashion-mnist --queries "$cache/queries.npy" --k 10 --ef 10,20,40,80,160,320
