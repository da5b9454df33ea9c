#!/usr/bin/env node
// Two builds of the npm package against each other, in one Node process, through the public API: this build's
// npm/dist against another copy (a build made before a change, or with other compiler flags), so a change to the
// WebAssembly module is judged by same-run ratios, as docs/benchmarks.md asks.
//
//   node bench/js/ab.mjs --a <dist dir> --b <dist dir> [--base 20000] [--queries 1000] [--reps 5] [--ef 40]
//
// Each dist dir is a copy of npm/dist (`cp -r npm/dist /tmp/dist-before` before rebuilding). Data: the first
// --base points of the cached synthetic 384-d cosine set (.cache/bench, made by bench/ann.mjs / ann_bench prepare).
// Per rep, alternating A and B: an in-memory build (upsertDense in batches of 1,000, optimize), searches with
// float vectors (one query per call, k=10, hnsw_ef), a stored ingest (upsert with payloads in batches of 100,
// then close) of up to 10,000 points into a folder, and, reopened, the searches with a payload filter on an
// indexed keyword (half the points match).
// Prints each figure's median over the reps and the ratio B / A (for times, A / B: above 1 means B is faster).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const args = {};
for (let i = 2; i < process.argv.length; i++) {
  const key = process.argv[i].replace(/^--/, '');
  args[key] = process.argv[i + 1] && !process.argv[i + 1].startsWith('--') ? process.argv[++i] : true;
}
if (!args.a || !args.b) {
  process.stderr.write('usage: node bench/js/ab.mjs --a <dist dir> --b <dist dir> [--base N] [--queries N] [--reps N] [--ef N]\n');
  process.exit(2);
}
const root = resolve(import.meta.dirname, '..', '..');
const n = Number(args.base ?? 20000);
const queryCount = Number(args.queries ?? 1000);
const reps = Number(args.reps ?? 5);
const ef = Number(args.ef ?? 40);
const K = 10;

function readFvecs(path, limit) {
  const buf = readFileSync(path);
  const dim = buf.readInt32LE(0);
  const rows = Math.min(buf.length / (4 + 4 * dim), limit);
  const src = new Float32Array(buf.buffer, buf.byteOffset, (rows * (4 + 4 * dim)) / 4);
  const out = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) out.set(src.subarray(r * (dim + 1) + 1, (r + 1) * (dim + 1)), r * dim);
  return { dim, rows, data: out };
}

const cache = join(root, '.cache', 'bench');
const base = readFvecs(join(cache, 'synthetic-384.base.fvecs'), n);
const queries = readFvecs(join(cache, 'synthetic-384.query.fvecs'), queryCount);
const dim = base.dim;
const now = () => performance.now();
const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

async function load(dir) {
  const { open } = await import(join(resolve(dir), 'esm', 'node.js'));
  return open;
}

const config = { vectors: { size: dim, distance: 'Cosine' }, hnsw_config: { m: 16, ef_construct: 100 } };

async function run(open) {
  const out = {};
  let t = now();
  const db = await open({ memory: true });
  const c = await db.createCollection('ab', config);
  for (let i = 0; i < n; i += 1000) {
    const end = Math.min(n, i + 1000);
    await c.upsertDense({ ids: Array.from({ length: end - i }, (_, j) => i + j), vectors: base.data.subarray(i * dim, end * dim) });
  }
  await c.optimize();
  out['build (s)'] = (now() - t) / 1000;
  const request = { vector: null, limit: K, params: { hnsw_ef: ef } };
  const search = (req) => {
    for (let q = 0; q < 50; q++) { req.vector = queries.data.subarray(q * dim, (q + 1) * dim); c.search(req); }
    const s = now();
    for (let q = 0; q < queries.rows; q++) { req.vector = queries.data.subarray(q * dim, (q + 1) * dim); c.search(req); }
    return queries.rows / ((now() - s) / 1000);
  };
  out['search QPS'] = search(request);
  await db.close();

  const folder = mkdtempSync(join(tmpdir(), 'quiver-ab-'));
  t = now();
  const stored = await open({ path: folder });
  const sc = await stored.createCollection('ab', config);
  await sc.createPayloadIndex({ field_name: 'half', field_schema: 'keyword' });
  const ingest = Math.min(n, 10000);
  for (let i = 0; i < ingest; i += 100) {
    const batch = [];
    for (let j = i; j < Math.min(ingest, i + 100); j++) {
      batch.push({ id: j, vector: Array.from(base.data.subarray(j * dim, (j + 1) * dim)), payload: { half: j % 2 ? 'odd' : 'even', n: j } });
    }
    await sc.upsert(batch);
  }
  await stored.close();
  out['stored ingest (points/s)'] = ingest / ((now() - t) / 1000);
  const reopened = await open({ path: folder });
  const rc = reopened.collection('ab');
  const filtered = { vector: null, limit: K, params: { hnsw_ef: ef }, filter: { must: [{ key: 'half', match: { value: 'odd' } }] } };
  out['filtered search QPS (stored, 50%)'] = (() => {
    const s = now();
    for (let q = 0; q < queries.rows; q++) { filtered.vector = queries.data.subarray(q * dim, (q + 1) * dim); rc.search(filtered); }
    return queries.rows / ((now() - s) / 1000);
  })();
  await reopened.close();
  rmSync(folder, { recursive: true, force: true });
  return out;
}

const engines = { A: await load(args.a), B: await load(args.b) };
const results = { A: [], B: [] };
for (let r = 0; r < reps; r++) {
  for (const name of r % 2 ? ['B', 'A'] : ['A', 'B']) {
    results[name].push(await run(engines[name]));
    process.stderr.write(`[ab] rep ${r + 1}/${reps} ${name} done\n`);
  }
}
console.log(`| figure (median of ${reps}) | A: ${args.a} | B: ${args.b} | B vs A |`);
console.log('|---|---|---|---|');
for (const key of Object.keys(results.A[0])) {
  const a = median(results.A.map((x) => x[key]));
  const b = median(results.B.map((x) => x[key]));
  const ratio = key.includes('(s)') ? a / b : b / a;
  console.log(`| ${key} | ${a.toFixed(key.includes('(s)') ? 2 : 0)} | ${b.toFixed(key.includes('(s)') ? 2 : 0)} | ${ratio.toFixed(3)}x |`);
}
