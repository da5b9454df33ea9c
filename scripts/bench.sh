#!/usr/bin/env bash
# The full ANN benchmark recorded in docs/benchmarks.md: Fashion-MNIST and the synthetic 100,000 x 384 cosine
# set. Extra arguments go to bench/ann.mjs (e.g. --reps 5).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
"$root/scripts/build.sh" native-release wasm-release
node "$root/bench/ann.mjs" --datasets fashion-mnist,synthetic-384 "$@"
