#!/usr/bin/env bash
# The npm package's tests: builds the WASM module (build/wasm-release, target quiver_js), installs npm/'s dev
# dependencies from its package-lock.json (and tests/js/fixtures' pinned bundlers from theirs), assembles
# npm/dist, then runs Node's test runner on tests/js/node (the whole API, error codes, persistence across
# processes, golden snapshot bytes, npm pack + import/require), tests/js/browser (Debian's Chromium, headless) and
# tests/js/fixtures/toolchains.test.mjs (apps built from the packed tarball by Vite, webpack, esbuild, Rollup and
# tsc), and tests/js/sync (db.sync between Node databases, between Chromium profiles, and through quiverdb/worker,
# through a real quiverd: $QUIVERD, by default build/native-release's; and the sync demo, web-demo/sync-demo.mjs).
# Exits non-zero, loudly, when anything fails.
#   tests/js/run.sh [--no-browser]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
export NODE_PATH=/usr/share/nodejs  # Emscripten's JS optimizer needs Debian's acorn

if [[ ! -f build/wasm-release/build.ninja ]]; then cmake --preset wasm-release >/dev/null; fi
cmake --build build/wasm-release --target quiver_js -- --quiet

if [[ ! -d npm/node_modules/typescript || npm/package-lock.json -nt npm/node_modules/.package-lock.json ]]; then
  echo "test-js: npm ci in npm/"
  (cd npm && npm ci --no-audit --no-fund --loglevel=error)
fi
fixtures=tests/js/fixtures
if [[ ! -d $fixtures/node_modules/vite || $fixtures/package-lock.json -nt $fixtures/node_modules/.package-lock.json ]]; then
  echo "test-js: npm ci in $fixtures/"
  (cd "$fixtures" && npm ci --no-audit --no-fund --loglevel=error)
fi
node npm/build.mjs

failed=()
echo "test-js: node"
node --test --test-reporter=spec tests/js/node/ || failed+=(node)
export QUIVERD="${QUIVERD:-$root/build/native-release/bindings-native/quiverd}"
if [[ ! -x $QUIVERD ]]; then
  echo "test-js: sync: $QUIVERD is missing (scripts/build.sh native-release, or set QUIVERD)" >&2
  failed+=(sync)
else
  echo "test-js: sync (Node databases through quiverd)"
  node --test --test-reporter=spec tests/js/sync/node_sync.test.mjs || failed+=(sync)
  if [[ "${1:-}" != "--no-browser" ]]; then
    echo "test-js: sync in Chromium (two profiles through quiverd; quiverdb/worker; the sync demo)"
    node --test --test-reporter=spec tests/js/sync/browser_sync.test.mjs tests/js/sync/worker_sync.test.mjs \
      tests/js/sync/sync_demo.test.mjs || failed+=(sync-browser)
  fi
fi
if [[ "${1:-}" != "--no-browser" ]]; then
  echo "test-js: browser (Chromium headless)"
  node --test --test-reporter=spec tests/js/browser/ || failed+=(browser)
  echo "test-js: toolchains (Vite, webpack, esbuild, Rollup, tsc; from the packed tarball)"
  node --test --test-reporter=spec $fixtures/toolchains.test.mjs || failed+=(toolchains)
else
  echo "test-js: toolchains without the browser (esbuild --platform=node, tsc)"
  QUIVER_NO_BROWSER=1 node --test --test-reporter=spec $fixtures/toolchains.test.mjs || failed+=(toolchains)
fi
if ((${#failed[@]})); then
  echo "FAILED: JS package tests failed: ${failed[*]}" >&2
  exit 1
fi
echo "test-js: all passed"
