#!/usr/bin/env bash
# Every test: set up, build the `fuzz` preset (clang 16 with ASan+UBSan: the whole native suite, quiverd and the
# libFuzzer targets in one sanitizer build) and WASM (release, as shipped), run the whole suite on each, the npm
# package's tests (their sync tests through the sanitizer build's quiverd), then each fuzz target for a few
# seconds. Exits non-zero, loudly, when anything fails.
#   scripts/test.sh [--release]    --release: also build native-release (gcc, -O3) and run the suite on it
# The native suite runs once, in the sanitizer build, to keep the whole command within CI's 30 minutes on two
# cores; the engine's optimised code is tested by the WASM suite, and the release build is what scripts/run.sh
# and scripts/bench.sh build. (The gcc ASan+UBSan preset stays available: scripts/build.sh native-asan && ctest
# --preset native-asan.)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
presets=(fuzz wasm-release)
case "${1:-}" in
  "") ;;
  --release) presets=(native-release "${presets[@]}") ;;
  *) echo "usage: scripts/test.sh [--release]" >&2; exit 2 ;;
esac
# Each phase's wall time is printed after it (the whole run must stay within CI's budget).
phase_start=$SECONDS
took() { echo "time: $1 took $((SECONDS - phase_start)) s (total $SECONDS s)"; phase_start=$SECONDS; }
"$root/scripts/setup.sh" --browser --fuzz
took setup
for preset in "${presets[@]}"; do
  # The tests and the programs they run; the benchmarks are built by scripts/bench.sh and bench/'s commands.
  QUIVER_BUILD_TARGET=quiver_tests "$root/scripts/build.sh" "$preset"
  took "build $preset"
done
failed=()
for preset in "${presets[@]}"; do
  echo "test: $preset"
  if ! ctest --preset "$preset" -j2; then failed+=("the $preset build's test suite"); fi
  took "test $preset"
done
echo "test: js (the npm package in Node and headless Chromium)"
if ! QUIVERD="$root/build/fuzz/bindings-native/quiverd" "$root/tests/js/run.sh"; then failed+=("the npm package's tests"); fi
took "test js"
echo "test: fuzz (each libFuzzer target for 2 s, after its seeds)"
if ! "$root/scripts/fuzz.sh" 2; then failed+=("the fuzz targets"); fi
took "fuzz"
if ((${#failed[@]})); then
  list=$(printf '%s; ' "${failed[@]}")
  echo "FAILED: ${list%; } (each suite's output above names its failing tests)" >&2
  exit 1
fi
echo "test: all suites passed (${presets[*]} js fuzz)"
