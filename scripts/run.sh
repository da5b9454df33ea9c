#!/usr/bin/env bash
# Quiver's main job on its embedded default: set up, build, and run the Fashion-MNIST benchmark (Quiver native,
# hnswlib and Quiver WASM under Node, in one run), printing recall@10 and QPS.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
"$root/scripts/build.sh" native-release wasm-release
node "$root/bench/ann.mjs" --datasets fashion-mnist "$@"
