#!/usr/bin/env bash
# quiver sync end to end against a real quiverd on a loopback port: one-shot rounds print what moved and two
# database folders converge; bad credentials, URLs and collections fail with the CLI's exit codes and a clear
# message; --live keeps pulling until SIGINT/SIGTERM (exit 0), riding out a server killed with SIGKILL and
# restarted; https with a certificate made now by the openssl command and --ca.
# Usage: cli_sync_test.sh QUIVER_BINARY QUIVERD_BINARY WORK_DIR
set -euo pipefail
quiver=$1
quiverd=$2
work=$3
rm -rf "$work"
mkdir -p "$work"
cd "$work"
unset QUIVER_API_KEY
failures=0
server_pid=
live_pid=
trap 'kill -9 $server_pid $live_pid 2>/dev/null || true' EXIT

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# expect CODE PATTERN CMD...: runs CMD, checks its exit code and that stderr+stdout contain PATTERN.
expect() {
  local code=$1 pattern=$2
  shift 2
  local out rc=0
  out=$("$@" 2>&1) || rc=$?
  if [[ $rc -ne $code ]]; then fail "'$*' exited $rc, expected $code; output: $out"; return; fi
  if [[ -n "$pattern" && "$out" != *"$pattern"* ]]; then fail "'$*' output lacks '$pattern': $out"; fi
}

# wait_for FILE PATTERN: up to 20 s for PATTERN to appear in FILE.
wait_for() {
  for _ in $(seq 1 200); do
    grep -q -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  fail "'$2' did not appear in $1: $(cat "$1" 2>/dev/null)"
  return 1
}

# start_server DATA PORT ARGS...: quiverd in the background; sets server_pid and port.
start_server() {
  local data=$1 want=$2
  shift 2
  : > server.out
  "$quiverd" --data "$data" --port "$want" --log-requests=false "$@" > server.out 2>> server.err &
  server_pid=$!
  wait_for server.out '"listening"'
  port=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' server.out | head -n 1)
}

start_server "$work/server" 0 --api-key secret
url="http://127.0.0.1:$port"

# ---- one shot: A pushes, B pulls --------------------------------------------------------------------------
"$quiver" --db a create docs --dim 3 --distance Euclid > /dev/null
"$quiver" --db a create notes --dim 2 --distance Dot > /dev/null
cat > points.jsonl <<'JSONL'
{"id":1,"payload":{"city":"Oslo"},"vector":[1,0,0]}
{"id":2,"payload":{"city":"Rome"},"vector":[0,1,0]}
{"id":3,"payload":{},"vector":[0,0,1]}
JSONL
"$quiver" --db a import docs points.jsonl > /dev/null
expect 0 "synced docs, notes with $url: pushed 3 points, pulled 0 points, 2 snapshots installed; points now: docs 3, notes 0" \
  "$quiver" --db a sync --url "$url" --api-key secret
expect 0 "pushed 0 points, pulled 0 points; points now: docs 3, notes 0" "$quiver" --db a sync --url "$url" --api-key secret
"$quiver" --db b create docs --dim 3 --distance Euclid > /dev/null
expect 0 "synced docs with $url: pushed 0 points, pulled 0 points, 1 snapshot installed; points now: docs 3" \
  env QUIVER_API_KEY=secret "$quiver" --db b sync --url "$url" docs
expect 0 '"city":"Rome"' "$quiver" --db b get docs 2
expect 0 "3" "$quiver" --db b count docs

# ---- errors -------------------------------------------------------------------------------------------------
expect 1 "HTTP 401" "$quiver" --db a sync --url "$url" --api-key wrong
expect 2 "sync needs --url" "$quiver" --db a sync
expect 2 "--wait-ms is for --live" "$quiver" --db a sync --url "$url" --wait-ms 10
expect 3 "nope" "$quiver" --db a sync --url "$url" --api-key secret nope
expect 4 "http:// or https://" "$quiver" --db a sync --url "ftp://127.0.0.1:1" --api-key secret
expect 1 "connecting to 127.0.0.1:1" "$quiver" --db a sync --url "http://127.0.0.1:1"
expect 3 "no collections to sync" "$quiver" --db empty sync --url "$url"
# The other configuration under the same name on the server: the server's 409, named.
"$quiver" --db c create docs --dim 4 --distance Cosine > /dev/null
expect 1 "409" "$quiver" --db c sync --url "$url" --api-key secret docs

# ---- live: B follows A until SIGINT; a server killed and restarted meanwhile ---------------------------------
"$quiver" --db b sync --url "$url" --api-key secret --live --wait-ms 2000 docs > live.out 2> live.err &
live_pid=$!
wait_for live.out "syncing docs with $url live"
echo '{"id":4,"payload":{"city":"Lima"},"vector":[1,1,0]}' > four.jsonl
"$quiver" --db a import docs four.jsonl > /dev/null
expect 0 "pushed 1 point," "$quiver" --db a sync --url "$url" --api-key secret docs
wait_for live.out "pushed 0 points, pulled 1 point"
# SIGKILL the server under the live sync, write meanwhile, restart it on the same port: B catches up.
kill -9 "$server_pid"
wait "$server_pid" 2>/dev/null || true
wait_for live.err "retrying in"
echo '{"id":5,"payload":{"city":"Kyiv"},"vector":[0,1,1]}' > five.jsonl
"$quiver" --db a import docs five.jsonl > /dev/null
start_server "$work/server" "$port" --api-key secret
expect 0 "pushed 1 point," "$quiver" --db a sync --url "$url" --api-key secret docs
# Up to 90 s: the live client may be in a backoff of up to 60 s when the server comes back.
for _ in $(seq 1 900); do [[ $(grep -c "pulled 1 point" live.out) -ge 2 ]] && break; sleep 0.1; done
[[ $(grep -c "pulled 1 point" live.out) -ge 2 ]] || fail "the live sync missed the write made while quiverd was down"
kill -INT "$live_pid"
rc=0
wait "$live_pid" || rc=$?
live_pid=
[[ $rc -eq 0 ]] || fail "live sync exited $rc after SIGINT: $(cat live.out live.err)"
grep -q "stopped by SIGINT after .* rounds: pushed 0 points, pulled 2 points$" live.out ||
  fail "live sync's last line: $(tail -n 1 live.out)"
expect 0 '"city":"Kyiv"' "$quiver" --db b get docs 5
# SIGTERM during a long-poll ends it at once, cleanly.
"$quiver" --db b sync --url "$url" --api-key secret --live docs > live2.out 2> live2.err &
live_pid=$!
wait_for live2.out "syncing docs"
sleep 1
kill -TERM "$live_pid"
rc=0
wait "$live_pid" || rc=$?
live_pid=
[[ $rc -eq 0 ]] || fail "live sync exited $rc after SIGTERM: $(cat live2.out live2.err)"
grep -q "stopped by SIGTERM" live2.out || fail "no 'stopped by SIGTERM' line: $(cat live2.out)"
kill -9 "$server_pid"
wait "$server_pid" 2>/dev/null || true

# ---- https with --ca ----------------------------------------------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 1 -subj /CN=localhost \
  -addext subjectAltName=IP:127.0.0.1,DNS:localhost 2>/dev/null
start_server "$work/tls-server" 0 --tls-cert cert.pem --tls-key key.pem
"$quiver" --db t create docs --dim 3 --distance Euclid > /dev/null
"$quiver" --db t import docs points.jsonl > /dev/null
expect 1 "certificate verify failed: self-signed certificate" "$quiver" --db t sync --url "https://127.0.0.1:$port"
expect 0 "synced docs with https://127.0.0.1:$port: pushed 3 points" \
  "$quiver" --db t sync --url "https://127.0.0.1:$port" --ca cert.pem
expect 3 "cannot read the CA file" "$quiver" --db t sync --url "https://127.0.0.1:$port" --ca missing.pem
kill -9 "$server_pid"

# A sanitizer report from any quiverd started above (their stderr accumulates in server.err) is a failure.
if grep -q "Sanitizer" server.err 2>/dev/null; then fail "quiverd reported: $(cat server.err)"; fi

if [[ $failures -ne 0 ]]; then
  echo "cli_sync_test: $failures failure(s)" >&2
  exit 1
fi
echo "cli_sync_test: all checks passed"
