#!/usr/bin/env bash
# Every test: set up, build native release, the `fuzz` preset (clang 16 with ASan+UBSan: the whole suite and the
# libFuzzer targets in one sanitizer build) and WASM, run the whole suite on each, the npm package's tests, then
# each fuzz target for a few seconds. Exits non-zero, loudly, when anything fails. (The gcc ASan+UBSan build,
# preset native-asan, stays available: scripts/build.sh native-asan && ctest --preset native-asan.)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# Each phase's wall time is printed after it (the whole run must stay within CI's budget).
phase_start=$SECONDS
took() { echo "time: $1 took $((SECONDS - phase_start)) s (total $SECONDS s)"; phase_start=$SECONDS; }
"$root/scripts/setup.sh" --browser --fuzz
took setup
presets=(native-release fuzz wasm-release)
for preset in "${presets[@]}"; do
  # The tests and the programs they run; the benchmarks are built by scripts/bench.sh and bench/'s commands.
  QUIVER_BUILD_TARGET=quiver_tests "$root/scripts/build.sh" "$preset"
  took "build $preset"
done
failed=()
for preset in "${presets[@]}"; do
  echo "test: $preset"
  if ! ctest --preset "$preset" -j2; then failed+=("$preset"); fi
  took "test $preset"
done
echo "test: js (the npm package in Node and headless Chromium)"
if ! "$root/tests/js/run.sh"; then failed+=(js); fi
took "test js"
echo "test: fuzz (each libFuzzer target for 2 s, after its seeds)"
if ! "$root/scripts/fuzz.sh" 2; then failed+=(fuzz); fi
took "fuzz"
if ((${#failed[@]})); then
  echo "FAILED: tests failed in ${failed[*]}" >&2
  exit 1
fi
echo "test: all suites passed (${presets[*]} js fuzz)"
