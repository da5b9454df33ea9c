#!/usr/bin/env bash
# Every test: set up, build native (release and ASan+UBSan) and WASM, and run the whole suite on each, then each
# fuzz target for a few seconds. Exits non-zero, loudly, when anything fails.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
"$root/scripts/setup.sh" --browser --fuzz
presets=(native-release native-asan wasm-release)
"$root/scripts/build.sh" "${presets[@]}"
failed=()
for preset in "${presets[@]}"; do
  echo "test: $preset"
  if ! ctest --preset "$preset" -j2; then failed+=("$preset"); fi
done
echo "test: js (the npm package in Node and headless Chromium)"
if ! "$root/tests/js/run.sh"; then failed+=(js); fi
echo "test: fuzz (each libFuzzer target for 5 s)"
if ! "$root/scripts/fuzz.sh" 5; then failed+=(fuzz); fi
if ((${#failed[@]})); then
  echo "FAILED: tests failed in ${failed[*]}" >&2
  exit 1
fi
echo "test: all suites passed (${presets[*]} js fuzz)"
