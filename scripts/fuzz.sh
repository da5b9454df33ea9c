#!/usr/bin/env bash
# Builds the libFuzzer targets (the `fuzz` preset: clang 16, ASan + UBSan) and runs each for a while, one at a
# time. Exits non-zero, loudly, on any crash, leak, timeout or sanitizer report; the input that caused it is
# kept under build/fuzz/artifacts/<target>/.
#
#   scripts/fuzz.sh [seconds per target] [target ...]     default: 10 seconds, every target
#   scripts/fuzz.sh --coverage [target ...]                line coverage of the engine by the corpora
#   FUZZ_MAX_RUNS=10000000 scripts/fuzz.sh 3600            stop each target at that many runs (the long run)
#
# Each target starts from its checked-in seeds (tests/fuzz/corpus/<target>) plus what earlier runs found
# (build/fuzz/corpus/<target>, where new inputs go). tests/fuzz/README.md explains the targets and how to
# reproduce a finding; docs/reliability.md records the long runs.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
"$root/scripts/setup.sh" --fuzz
all_targets=($(sed -n '/^set(QUIVER_FUZZ_TARGETS/,/)/p' tests/fuzz/CMakeLists.txt | grep -o 'fuzz_[a-z_]*'))

if [[ "${1:-}" == "--coverage" ]]; then
  # The same targets built without sanitizers and with clang's source-based coverage (build/fuzz-cov), run once
  # over the checked-in seeds and everything the fuzz runs found; the engine's line coverage per file.
  shift
  targets=("$@")
  ((${#targets[@]})) || targets=("${all_targets[@]}")
  flags="-fsanitize=fuzzer-no-link -fprofile-instr-generate -fcoverage-mapping"
  if [[ ! -f build/fuzz-cov/build.ninja ]]; then
    cmake --preset fuzz -B build/fuzz-cov -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" \
      -DCMAKE_EXE_LINKER_FLAGS="-fprofile-instr-generate" -DCMAKE_SHARED_LINKER_FLAGS="-fprofile-instr-generate" \
      >/dev/null
  fi
  echo "fuzz: building with coverage"
  cmake --build build/fuzz-cov --target "${targets[@]}" -- --quiet
  rm -rf build/fuzz-cov/profiles && mkdir -p build/fuzz-cov/profiles
  objects=()
  for t in "${targets[@]}"; do
    mkdir -p "build/fuzz/corpus/$t"
    LLVM_PROFILE_FILE="build/fuzz-cov/profiles/$t.profraw" "build/fuzz-cov/tests/fuzz/$t" -runs=0 \
      "build/fuzz/corpus/$t" "tests/fuzz/corpus/$t" >"build/fuzz-cov/profiles/$t.log" 2>&1 ||
      { echo "FAILED: $t under coverage (build/fuzz-cov/profiles/$t.log)" >&2; exit 1; }
    objects+=(-object "build/fuzz-cov/tests/fuzz/$t")
  done
  llvm-profdata-16 merge -sparse build/fuzz-cov/profiles/*.profraw -o build/fuzz-cov/profiles/all.profdata
  llvm-cov-16 report "${objects[@]:1}" -instr-profile=build/fuzz-cov/profiles/all.profdata \
    "$root/engine/src" | tee build/fuzz-cov/coverage.txt
  echo "fuzz: per-line report: llvm-cov-16 show ${objects[*]:1} -instr-profile=build/fuzz-cov/profiles/all.profdata"
  exit 0
fi

seconds="${1:-10}"
shift || true
if [[ ! -f build/fuzz/build.ninja ]]; then cmake --preset fuzz >/dev/null; fi
echo "fuzz: building"
cmake --build --preset fuzz -- --quiet
bin=build/fuzz/tests/fuzz
targets=("$@")
((${#targets[@]})) || targets=("${all_targets[@]}")
failed=()
for t in "${targets[@]}"; do
  corpus="build/fuzz/corpus/$t"
  artifacts="build/fuzz/artifacts/$t/"
  log="build/fuzz/logs/$t.log"
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  args=(-max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$artifacts")
  if [[ -n "${FUZZ_MAX_RUNS:-}" ]]; then args+=(-runs="$FUZZ_MAX_RUNS"); fi
  if [[ -f "tests/fuzz/$t.dict" ]]; then args+=(-dict="tests/fuzz/$t.dict"); fi
  start=$SECONDS
  if ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
      "$bin/$t" "${args[@]}" "$corpus" "tests/fuzz/corpus/$t" >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    last=$(grep -E '^#[0-9]+' "$log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' || true)
    echo "fuzz: $t ok: $runs runs in $((SECONDS - start))s, $last"
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
