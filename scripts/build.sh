#!/usr/bin/env bash
# Configures and builds the given CMake presets (default: native-release wasm-release).
#   scripts/build.sh [native-release] [native-asan] [wasm-release]
#   QUIVER_BUILD_TARGET=quiver_tests scripts/build.sh ...   only that target (the test command: no benchmarks)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export NODE_PATH=/usr/share/nodejs  # Emscripten's JS optimizer needs Debian's acorn
presets=("$@")
((${#presets[@]})) || presets=(native-release wasm-release)
for preset in "${presets[@]}"; do
  if [[ ! -f "build/$preset/build.ninja" ]]; then
    cmake --preset "$preset" >/dev/null
  fi
  echo "build: $preset"
  cmake --build --preset "$preset" ${QUIVER_BUILD_TARGET:+--target "$QUIVER_BUILD_TARGET"} -- --quiet
done
