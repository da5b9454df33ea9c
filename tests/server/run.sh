#!/usr/bin/env bash
# quiverd end to end: installs tests/server's npm dev dependencies (the official Qdrant JS client) from its
# package-lock.json when missing or stale, then runs Node's test runner on tests/server/*.test.mjs against the
# given binary. Each test file starts its own quiverd on an ephemeral loopback port.
#   tests/server/run.sh path/to/quiverd [node --test options]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
binary="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
shift
cd "$here"
if [[ ! -d node_modules/@qdrant/js-client-rest || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "server-test: npm ci in tests/server/"
  npm ci --no-audit --no-fund --loglevel=error
fi
# A sanitizer build is several times slower: tests stretch their timing by QUIVERD_SLOW.
if [[ "$binary" == *asan* || "$binary" == *tsan* ]]; then export QUIVERD_SLOW="${QUIVERD_SLOW:-4}"; fi
export QUIVERD="$binary"
if [[ "$binary" != *tsan* ]]; then
  exec node --test --test-reporter=spec --test-concurrency=2 "$@" ./*.test.mjs
fi
# Under ThreadSanitizer every quiverd the tests start writes its reports to a file of its own (log_path), so a
# report fails the run even when a test only stops the server and never reads its stderr or exit code.
reports="$(mktemp -d)"
trap 'rm -rf "$reports"' EXIT
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1}:log_path=$reports/quiverd"
status=0
node --test --test-reporter=spec --test-concurrency=2 "$@" ./*.test.mjs || status=$?
if compgen -G "$reports/quiverd*" >/dev/null; then
  echo "server-test: quiverd wrote ThreadSanitizer reports:"
  cat "$reports"/quiverd*
  exit 1
fi
exit "$status"
