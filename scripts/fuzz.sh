#!/usr/bin/env bash
# Builds the libFuzzer targets (the `fuzz` preset: clang 16, ASan + UBSan) and runs each for a while, one at a
# time. Exits non-zero, loudly, on any crash, leak, timeout or sanitizer report; the input that caused it is
# kept under build/fuzz/artifacts/<target>/.
#
#   scripts/fuzz.sh [seconds per target] [target ...]     default: 10 seconds, every target
#
# Each target starts from its checked-in seeds (tests/fuzz/corpus/<target>) plus what earlier runs found
# (build/fuzz/corpus/<target>, where new inputs go). tests/fuzz/README.md explains the targets and how to
# reproduce a finding; docs/reliability.md records the long runs.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
seconds="${1:-10}"
shift || true
"$root/scripts/setup.sh" --fuzz
if [[ ! -f build/fuzz/build.ninja ]]; then cmake --preset fuzz >/dev/null; fi
echo "fuzz: building"
cmake --build --preset fuzz -- --quiet
bin=build/fuzz/tests/fuzz
targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=($(sed -n '/^set(QUIVER_FUZZ_TARGETS/,/)/p' tests/fuzz/CMakeLists.txt | grep -o 'fuzz_[a-z_]*'))
fi
failed=()
for t in "${targets[@]}"; do
  corpus="build/fuzz/corpus/$t"
  artifacts="build/fuzz/artifacts/$t/"
  log="build/fuzz/logs/$t.log"
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  args=(-max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$artifacts")
  if [[ -f "tests/fuzz/$t.dict" ]]; then args+=(-dict="tests/fuzz/$t.dict"); fi
  if ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
      "$bin/$t" "${args[@]}" "$corpus" "tests/fuzz/corpus/$t" >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    last=$(grep -E '^#[0-9]+' "$log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+' || true)
    echo "fuzz: $t ok: $runs runs in ${seconds}s, $last"
  else
    echo "FAILED: $t (log $log)" >&2
    grep -E 'ERROR|FUZZ_CHECK|runtime error|SUMMARY|Test unit written|Assertion' "$log" | head -20 >&2 || true
    failed+=("$t")
  fi
done
if ((${#failed[@]})); then
  echo "FAILED: fuzz targets ${failed[*]} found a crash, leak, timeout or sanitizer report" >&2
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran ${seconds}s each without a finding"
