#!/usr/bin/env bash
# End-to-end tests of the quiver CLI: import (JSONL, CSV, .fvecs, .npy), search, get, scroll, count, export round
# trips, snapshots, compaction, verify, stats; bad input gives a clear message, a non-zero exit code and loses
# nothing stored. Usage: cli_test.sh QUIVER_BINARY WORK_DIR
set -euo pipefail
quiver=$1
work=$2
rm -rf "$work"
mkdir -p "$work"
cd "$work"
export QUIVER_DATA="$work/data"   # the default data folder when --db is not given
failures=0

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

# float32 little-endian bytes of small integers, for .fvecs and .npy files written with printf.
f32() {
  case $1 in
    0) printf '\x00\x00\x00\x00' ;;
    1) printf '\x00\x00\x80\x3f' ;;
    2) printf '\x00\x00\x00\x40' ;;
    3) printf '\x00\x00\x40\x40' ;;
    nan) printf '\x00\x00\xc0\x7f' ;;
  esac
}
i32() { printf "\\x$(printf %02x "$1")\\x00\\x00\\x00"; }

# ---- create, import JSONL, export round trip --------------------------------------------------------------
expect 0 "" "$quiver" list
expect 0 "created collection 'points'" "$quiver" create points --dim 3 --distance Euclid
expect 7 "already exists" "$quiver" create points --dim 3
cat > points.jsonl <<'EOF'
{"id":1,"payload":{"city":"Oslo","n":1},"vector":[1,0,0]}
{"id":2,"payload":{"city":"Rome","n":2,"tags":["a","b"]},"vector":[0,1,0]}
{"id":3,"payload":{},"vector":[0.5,0.25,0.125]}
{"id":"550e8400-e29b-41d4-a716-446655440000","payload":{"nested":{"x":1.5}},"vector":[0.1,0.2,0.3]}
EOF
expect 0 "imported 4 points" "$quiver" import points points.jsonl
expect 0 "" "$quiver" export points --output exported.jsonl
# The same data, byte for byte: payload numbers print in their shortest form (1.5, not 1.5E0).
cp points.jsonl expected.jsonl
if ! diff <(sort expected.jsonl) <(sort exported.jsonl) >/dev/null; then
  fail "export differs from the imported JSONL"; diff <(sort expected.jsonl) <(sort exported.jsonl) >&2 || true
fi
# Second round trip through a new collection created by import.
expect 0 "imported 4 points" "$quiver" import copy exported.jsonl --create --distance Euclid
"$quiver" export copy > exported2.jsonl
cmp -s exported.jsonl exported2.jsonl || fail "second export round trip differs"
[[ $("$quiver" count copy) == 4 ]] || fail "count copy"

# ---- search, get, scroll, count ---------------------------------------------------------------------------
out=$("$quiver" search points --vector '[1, 0, 0]' --limit 2)
[[ $(echo "$out" | sed -n 2p | awk '{print $2}') == 1 ]] || fail "search table: $out"
out=$("$quiver" search points --vector '0 1 0' --limit 1 --json)
[[ "$out" == '[{"id":2,"version":0,"score":0}]' ]] || fail "search --json: $out"
echo '[0.5, 0.25, 0.125]' > query.json
out=$("$quiver" search points --vector-file query.json --limit 1 --json)
[[ "$out" == '[{"id":3,'* ]] || fail "search --vector-file: $out"
out=$(echo '0,1,0' | "$quiver" search points --vector-file - --limit 1 --json --with-payload)
[[ "$out" == *'"city":"Rome"'* ]] || fail "search stdin: $out"
out=$("$quiver" search points --id 1 --limit 1 --json)
[[ "$out" == '[{"id":1,'* ]] || fail "search --id: $out"
out=$("$quiver" search points --vector '[1,0,0]' --filter '{"must":[{"key":"city","match":{"value":"Rome"}}]}' --json)
[[ "$out" == '[{"id":2,'* && "$out" != *'"id":1'* ]] || fail "search --filter: $out"
out=$("$quiver" get points 2 3)
[[ "$out" == '[{"id":2,'*'{"id":3,'* ]] || fail "get: $out"
expect 3 "not found" "$quiver" get points 2 77
out=$("$quiver" scroll points --limit 2)
[[ "$out" == *'"next_page_offset":3'* ]] || fail "scroll: $out"
[[ $("$quiver" count points --filter '{"must":[{"key":"n","range":{"gte":1}}]}') == 2 ]] || fail "count --filter"
expect 0 '"points_count":4' "$quiver" info points

# ---- a quantized collection: config shown by info, searches walk the codes ------------------------------------
expect 4 "quantization_config.scalar.quantile" "$quiver" create sq --config \
  '{"vectors":{"size":3,"distance":"Euclid"},"quantization_config":{"scalar":{"type":"int8","quantile":2}}}'
expect 0 "created collection 'sq'" "$quiver" create sq --config \
  '{"vectors":{"size":3,"distance":"Euclid"},"quantization_config":{"scalar":{"type":"int8","quantile":0.99}}}'
expect 0 '"quantization_config":{"scalar":{"type":"int8","quantile":0.99,"always_ram":true}}' "$quiver" info sq
expect 0 "imported 4 points" "$quiver" import sq points.jsonl
out=$("$quiver" search sq --vector '[1, 0, 0]' --limit 1 --json)
[[ "$out" == '[{"id":1,'* ]] || fail "search on a quantized collection: $out"
expect 0 "dropped collection 'sq'" "$quiver" drop sq

# ---- CSV with payload columns, .fvecs, .npy --------------------------------------------------------------
cat > points.csv <<'EOF'
id,vector,city,score,flag
10,"[1, 2, 3]",Oslo,4.5,true
11,1 0 1,"Rome, Italy",,false
EOF
expect 0 "imported 2 points" "$quiver" import csv points.csv --create --distance Dot
out=$("$quiver" get csv 10 11)
[[ "$out" == *'"city":"Oslo","score":4.5,"flag":true'*'"city":"Rome, Italy","flag":false'* ]] || fail "csv payloads: $out"
printf 'v0,v1,v2,label\n1,2,3,x\n3,2,1,y\n' > components.csv
expect 0 "imported 2 points" "$quiver" import csv components.csv --id-start 20
[[ $("$quiver" count csv) == 4 ]] || fail "csv count"
{ i32 3; f32 1; f32 0; f32 0; i32 3; f32 0; f32 2; f32 0; i32 3; f32 0; f32 0; f32 3; } > three.fvecs
expect 0 "imported 3 points" "$quiver" import vecs three.fvecs --create --distance Euclid --id-start 100
out=$("$quiver" search vecs --vector '[0, 0, 3]' --limit 1 --json)
[[ "$out" == '[{"id":102,'* ]] || fail "fvecs search: $out"
npy_header() {  # rows dim descr
  local dict="{'descr': '$3', 'fortran_order': False, 'shape': ($1, $2), }"
  local total=$(((10 + ${#dict} + 1 + 63) / 64 * 64))
  printf '\x93NUMPY\x01\x00'
  printf "\\x$(printf %02x $((total - 10)))\\x00"
  printf '%s%*s\n' "$dict" $((total - 11 - ${#dict})) ''
}
{ npy_header 2 3 '<f4'; f32 1; f32 1; f32 1; f32 2; f32 2; f32 2; } > two.npy
expect 0 "imported 2 points" "$quiver" import vecs two.npy --id-start 200
{ npy_header 2 3 '|u1'; printf '\x01\x02\x03\x04\x05\x06'; } > bytes.npy
expect 0 "imported 2 points" "$quiver" import vecs bytes.npy --id-start 300 --progress
out=$("$quiver" get vecs 301 --with-vector)
[[ "$out" == *'"vector":[4,5,6]'* ]] || fail "uint8 npy: $out"
[[ $("$quiver" count vecs) == 7 ]] || fail "vecs count"

# ---- bench: recall against exact ground truth on a small random set ----------------------------------------
{
  echo "v0,v1,v2,v3"
  for ((i = 0; i < 300; ++i)); do echo "$((RANDOM % 256)),$((RANDOM % 256)),$((RANDOM % 256)),$((RANDOM % 256))"; done
} > random.csv
expect 0 "imported 300 points" "$quiver" import bench random.csv --create --distance Euclid
{ npy_header 5 4 '|u1'; printf '\x01\x02\x03\x04\x50\x60\x70\x80\xff\x00\xff\x00\x10\x20\x30\x40\x80\x80\x80\x80'; } > queries.npy
out=$("$quiver" bench bench --queries queries.npy --k 5 --ef 10,50 --reps 1 --truth truth.ivecs 2>&1) || fail "bench: $out"
[[ "$out" == *"| 50 | "* && "$out" == *"ground truth: exact top"* ]] || fail "bench output: $out"
out=$("$quiver" bench bench --queries queries.npy --k 5 --ef 50 --reps 1 --truth truth.ivecs 2>&1) || fail "bench cached: $out"
[[ "$out" == *"read from truth.ivecs"* ]] || fail "bench --truth cache: $out"
expect 2 "needs --queries" "$quiver" bench bench
expect 4 "4 dimensions" "$quiver" bench bench --queries two.npy

# ---- bad input: clear error, non-zero exit, nothing stored lost -------------------------------------------
printf '{"id":50,"vector":[1,2,3]}\n{"id":51,"vector":[1,2\n' > bad.jsonl
expect 4 "bad.jsonl:2" "$quiver" import points bad.jsonl
printf '{"id":52,"vector":[1,2]}\n' > short.jsonl
expect 4 "dimensions" "$quiver" import points short.jsonl
printf 'id,vector\n60,1 nan 2\n' > nan.csv
expect 4 "" "$quiver" import points nan.csv
printf 'id,vector\n61,1 x 2\n' > text.csv
expect 4 "nan.csv" "$quiver" import points nan.csv
expect 4 "text.csv:2" "$quiver" import points text.csv
{ i32 3; f32 1; f32 0; f32 0; i32 3; f32 0; } > truncated.fvecs
expect 4 "truncated" "$quiver" import vecs truncated.fvecs
{ i32 3; f32 1; f32 nan; f32 0; } > nan.fvecs
expect 4 "" "$quiver" import vecs nan.fvecs --id-start 900
{ i32 2; f32 1; f32 0; } > wrongdim.fvecs
expect 4 "3 dimensions" "$quiver" import vecs wrongdim.fvecs
printf 'garbage that is not numpy' > bad.npy
expect 4 "not a .npy file" "$quiver" import vecs bad.npy
{ npy_header 4 3 '<f4'; f32 1; f32 1; f32 1; } > short.npy
expect 4 "does not match its header" "$quiver" import vecs short.npy
expect 4 "format" "$quiver" import vecs data.unknown-extension
expect 3 "cannot open" "$quiver" import vecs missing.fvecs
expect 3 "no collection 'nope'" "$quiver" import nope three.fvecs
expect 3 "no collection 'nope'" "$quiver" search nope --vector '[1,2,3]'
expect 3 "no collection 'nope'" "$quiver" count nope
expect 4 "dimensions" "$quiver" search points --vector '[1,2]'
expect 4 "malformed" "$quiver" search points --vector '[1,2'
expect 4 "" "$quiver" search points --vector '[1,2,3]' --filter '{"must": 7}'
expect 2 "unknown option --bogus" "$quiver" count points --bogus
expect 2 "unknown command" "$quiver" frobnicate
expect 2 "expects a non-negative integer" "$quiver" search points --vector '[1,2,3]' --limit ten
expect 2 "takes 1 argument" "$quiver" count
expect 2 "exactly one of" "$quiver" search points
[[ $("$quiver" count points) == 4 ]] || fail "points lost after bad imports"
[[ $("$quiver" count vecs) == 7 ]] || fail "vecs changed by bad imports"
expect 0 "usage: quiver import" "$quiver" import --help
for cmd in create list info drop import search query get scroll count export snapshot alias compact verify stats bench; do
  expect 0 "usage: quiver $cmd" "$quiver" "$cmd" --help
done

# ---- snapshot, compact, verify, stats, drop, --db --------------------------------------------------------
expect 0 "wrote snapshot" "$quiver" snapshot create points points.snapshot
expect 0 "restored collection 'points2'" "$quiver" snapshot restore points2 points.snapshot
"$quiver" export points2 > exported3.jsonl
cmp -s exported.jsonl exported3.jsonl || fail "snapshot round trip differs"
expect 7 "already exists" "$quiver" snapshot restore points2 points.snapshot
printf 'not a snapshot' > junk.snapshot
expect 5 "" "$quiver" snapshot restore junk junk.snapshot
expect 2 "expected 'create' or 'restore'" "$quiver" snapshot frob points x
expect 0 "compacted 'points'" "$quiver" compact points
expect 0 "points: ok" "$quiver" verify
expect 0 "SIMD kernels" "$quiver" stats points
expect 0 '"simd"' "$quiver" stats --json
expect 0 "alias create: ok" "$quiver" alias create latest points2
[[ $("$quiver" count latest) == 4 ]] || fail "count through an alias"
expect 0 "latest -> points2" "$quiver" list
expect 0 "alias rename: ok" "$quiver" alias rename latest newest
expect 3 "" "$quiver" alias delete latest
expect 0 "alias delete: ok" "$quiver" alias delete newest
expect 2 "expected 'create'" "$quiver" alias frob x
# request: any Qdrant operation by its id, through the request layer.
expect 0 "true" "$quiver" request create_collection reqs --body '{"vectors":{"size":2,"distance":"Dot"}}'
expect 0 '"status":"completed"' "$quiver" request upsert_points reqs \
  --body '{"points":[{"id":1,"vector":[1,2],"payload":{"a":1}},{"id":2,"vector":[2,1]}]}'
printf '{"vector":[1,1],"limit":1,"with_payload":true,"filter":{"must":[{"key":"a","match":{"value":1}}]}}' > req.json
expect 0 '[{"id":1,"version":0,"score":3,"payload":{"a":1}}]' "$quiver" request search_points reqs --body-file req.json
expect 0 '{"id":2,"payload":{},"vector":[2,1]}' "$quiver" request get_point reqs --key 2
expect 0 '{"count":2}' "$quiver" request count_points reqs
expect 4 "search.limit" "$quiver" request search_points reqs --body '{"vector":[1,1],"limit":-1}'
expect 3 "no point with id 9" "$quiver" request get_point reqs --key 9
expect 2 "unknown operation 'frobnicate'" "$quiver" request frobnicate
expect 0 '{"count":2}' "$quiver" request count_points reqs
# Sparse vectors and BM25 documents through the request layer (their own folder, so the listing below holds).
sp=(--db "$work/sparse")
expect 0 "true" "$quiver" "${sp[@]}" request create_collection kw \
  --body '{"sparse_vectors":{"bm25":{"modifier":"idf"},"raw":{}}}'
expect 0 '"sparse_vectors":{"bm25":{"modifier":"idf"},"raw":{}}' "$quiver" "${sp[@]}" request get_collection kw
expect 0 '"status":"completed"' "$quiver" "${sp[@]}" request upsert_points kw --body \
  '{"points":[{"id":1,"vector":{"bm25":{"text":"Fast keyword search","model":"qdrant/bm25"},"raw":{"indices":[5,1],"values":[1,2]}}},
              {"id":2,"vector":{"bm25":{"text":"Slow dense retrieval","model":"qdrant/bm25"}}}]}'
expect 0 '[{"id":1,"version":0,"score":' "$quiver" "${sp[@]}" request search_points kw \
  --body '{"vector":{"name":"bm25","vector":{"text":"searching keywords","model":"qdrant/bm25"}}}'
expect 0 '{"id":1,"vector":{"raw":{"indices":[1,5],"values":[2,1]}}}' "$quiver" "${sp[@]}" request get_points kw \
  --body '{"ids":[1],"with_vector":["raw"],"with_payload":false}'
expect 0 '[{"id":1,"version":0,"score":4}]' "$quiver" "${sp[@]}" request search_points kw \
  --body '{"vector":{"name":"raw","vector":{"indices":[1],"values":[2]}}}'
expect 4 "upsert.points[0].vector.raw: duplicate index 3" "$quiver" "${sp[@]}" request upsert_points kw \
  --body '{"points":[{"id":3,"vector":{"raw":{"indices":[3,3],"values":[1,1]}}}]}'
expect 0 '{"count":2}' "$quiver" "${sp[@]}" request count_points kw
# query: Qdrant's Query API, from a body or from options.
expect 0 '"status":"completed"' "$quiver" request upsert_points reqs \
  --body '{"points":[{"id":3,"vector":[0,1],"payload":{"a":2,"g":"x"}},{"id":4,"vector":[1,0],"payload":{"a":3,"g":"y"}}]}'
expect 0 '{"points":[{"id":1,"version":0,"score":3},{"id":2,"version":0,"score":3}]}' "$quiver" query reqs --vector '[1,1]' --limit 2
expect 0 '{"points":[{"id":2,"version":0,"score":4}]}' "$quiver" query reqs --id 1 --limit 1
expect 0 '{"points":[{"id":4,"version":0,"score":1,"order_value":3,"payload":{"a":3,"g":"y"}},{"id":3,"version":0,"score":1,"order_value":2,"payload":{"a":2,"g":"x"}}]}' \
  "$quiver" query reqs --order-by a --desc --limit 2 --with-payload
# RRF of [1,0] -> (2, 1) and [0,1] -> (1, 2): both 1/2 + 1/3, the tie to the smaller id.
expect 0 '{"points":[{"id":1,"version":0,"score":0.833333' "$quiver" query reqs \
  --body '{"prefetch":[{"query":[1,0],"limit":2},{"query":[0,1],"limit":2}],"query":{"fusion":"rrf"},"limit":3}'
printf '{"searches":[{"limit":1},{"limit":1,"offset":1}]}' > query.json
expect 0 '[{"points":[{"id":1,"version":0,"score":1}]},{"points":[{"id":2,"version":0,"score":1}]}]' "$quiver" query reqs --batch --body-file query.json
expect 0 '{"groups":[{"id":"x","hits":[{"id":3,"version":0,"score":1}]},{"id":"y","hits":[{"id":4,"version":0,"score":1}]}]}' \
  "$quiver" query reqs --vector '[1,1]' --group-by g --group-size 1
expect 0 '{"groups":[{"id":"x",' "$quiver" query reqs --groups --body '{"query":[1,1],"group_by":"g","limit":1}'
expect 4 "query.query: a fusion needs prefetches to fuse" "$quiver" query reqs --body '{"query":{"fusion":"rrf"}}'
expect 4 "query.using: collection reqs has no vector named 'nope'" "$quiver" query reqs --vector '[1,1]' --using nope
expect 4 "query.limit: expected an integer from 1 to 1000000" "$quiver" query reqs --body '{"limit":-5}'
expect 4 "query.query: the unnamed vector of collection reqs is dense; a sparse vector is not its kind" "$quiver" query reqs --body '{"query":{"indices":[1],"values":[1]}}'
expect 3 "query_points: not found: collection 'nope' does not exist" "$quiver" query nope --vector '[1,1]'
expect 2 "does not go with a body" "$quiver" query reqs --body '{}' --limit 3
expect 2 "--batch needs --body" "$quiver" query reqs --batch
expect 2 "at most one of --vector" "$quiver" query reqs --vector '[1,1]' --id 1
expect 0 '{"count":4}' "$quiver" request count_points reqs
expect 0 "dropped collection 'points2'" "$quiver" drop points2
expect 3 "not found" "$quiver" drop points2
expect 0 "created" "$quiver" --db "$work/other" create x --dim 2
[[ $("$quiver" --db "$work/other" list) == x* ]] || fail "--db list"
[[ $("$quiver" list | wc -l) -eq 6 ]] || fail "default folder list: $("$quiver" list)"

# verify reports damage: flip bytes in the middle of the largest file of a copy of the database.
cp -r "$work/data" "$work/damaged"
victim=$(find "$work/damaged" -type f -size +1k -printf '%s %p\n' | sort -n | tail -1 | cut -d' ' -f2-)
if [[ -n "$victim" ]]; then
  size=$(stat -c %s "$victim")
  printf '\xde\xad\xbe\xef' | dd of="$victim" bs=1 seek=$((size / 2)) conv=notrunc status=none
  rc=0
  "$quiver" --db "$work/damaged" verify >"$work/verify.out" 2>&1 || rc=$?
  [[ $rc -eq 5 ]] || fail "verify exited $rc on a damaged file ($victim): $(cat "$work/verify.out")"
  grep -q "checksum" "$work/verify.out" || fail "verify does not say what is wrong: $(cat "$work/verify.out")"
  # The damage stays with its collection: the database opens, list shows the collection as unavailable, and
  # repair brings it back (rebuilding what it can, listing what it cannot), after which verify passes.
  if [[ $(basename "$victim") != MANIFEST* ]]; then
    grep -q "unavailable" "$work/verify.out" || fail "verify does not name the unavailable collection: $(cat "$work/verify.out")"
    expect 0 "unavailable" "$quiver" --db "$work/damaged" list
    expect 0 "repaired" "$quiver" --db "$work/damaged" repair
    expect 0 "ok" "$quiver" --db "$work/damaged" verify
    expect 0 "nothing to repair" "$quiver" --db "$work/damaged" repair
  fi
fi

if ((failures)); then
  echo "cli_test: $failures failure(s)" >&2
  exit 1
fi
echo "cli_test: all passed"
