#!/usr/bin/env bash
# The quiverd benchmark recorded in docs/benchmarks.md: builds quiverd and server_bench (native-release), then
# runs them on the synthetic 100,000 x 384 cosine set. Extra arguments go to server_bench (e.g. --reps 5).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
scripts/setup.sh
if [[ ! -f build/native-release/build.ninja ]]; then cmake --preset native-release >/dev/null; fi
cmake --build build/native-release --target quiverd server_bench -- --quiet
build/native-release/bench/server/server_bench --quiverd build/native-release/bindings-native/quiverd \
  --cache .cache/bench "$@"
