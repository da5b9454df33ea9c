#!/usr/bin/env bash
# Line coverage of the engine (engine/src) by the test suite: the `coverage` preset (clang 16's source-based
# coverage, no sanitizers) builds every test and program the tests run, ctest runs them all (the Catch2 suites,
# the C API, the CLI, quiverd under Node), and llvm-cov reports per file. docs/reliability.md ("Line coverage")
# records a run.
#
#   scripts/coverage.sh            report: build/coverage/coverage.txt; per-line: the command printed at the end
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
"$root/scripts/setup.sh" --fuzz  # clang 16 and its llvm tools
if [[ ! -f build/coverage/build.ninja ]]; then cmake --preset coverage >/dev/null; fi
echo "coverage: building"
cmake --build --preset coverage --target quiver_tests -- --quiet
rm -rf build/coverage/profiles && mkdir -p build/coverage/profiles
echo "coverage: running the tests"
status=0
ctest --preset coverage -j2 || status=$?
shopt -s nullglob
profiles=(build/coverage/profiles/*.profraw)
if ((${#profiles[@]} == 0)); then
  echo "FAILED: no coverage profile was written" >&2
  exit 1
fi
llvm-profdata-16 merge -sparse "${profiles[@]}" -o build/coverage/all.profdata
# Every instrumented executable and library the tests ran.
objects=()
while IFS= read -r f; do
  objects+=(-object "$f")
done < <(find build/coverage -type f \( -perm -u+x -o -name '*.so*' \) ! -name '*.sh' ! -path '*/CMakeFiles/*' \
  -exec sh -c 'readelf -S "$1" 2>/dev/null | grep -q __llvm_covmap' _ {} \; -print)
llvm-cov-16 report "${objects[@]:1}" -instr-profile=build/coverage/all.profdata "$root/engine/src" \
  | tee build/coverage/coverage.txt | tail -3
echo "coverage: per-file report in build/coverage/coverage.txt; per line:"
echo "  llvm-cov-16 show ${objects[*]:1} -instr-profile=build/coverage/all.profdata engine/src/FILE.cc"
if ((status != 0)); then
  echo "FAILED: tests failed under coverage (the report covers what ran)" >&2
  exit 1
fi
