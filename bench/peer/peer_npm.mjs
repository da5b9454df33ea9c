#!/usr/bin/env node
// The peer harness's JavaScript side: one engine per Node process, through its npm package as a web or edge
// developer runs it, measured and printed the way peer_quiver and peer_hnswlib measure the native engines (the
// same JSON lines, so bench/peer/run.py tables them together).
//
//   node bench/peer/peer_npm.mjs --engine quiverdb|hnswlib-wasm --dataset NAME [--ef 10,20,40,80,160,320]
//        [--passes 3] [--k 10]
//
// quiverdb: the package in npm/dist (node npm/build.mjs), `open({ memory: true })`, one collection with M=16 and
// ef_construct=200, `upsertDense` in batches of 1,000 and one `optimize()`, then one `search` per query with
// `params.hnsw_ef`. hnswlib-wasm (bench/js's node_modules: cd bench/js && npm ci): `initIndex(n, 16, 200, seed)`,
// `addPoint` per point, `setEfSearch`, one `searchKnn` per query. Both engines run on the main thread.
//
// Memory: RSS after the build and the peak (VmHWM, reset before the build), less the RSS with the data set
// loaded, as the native programs report them; "heap_bytes" is the engine's WebAssembly memory (its malloc's arena,
// which grows and never shrinks: what a browser tab keeps); the engine count is quiverdb's `memory_bytes`.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { loadDataset } from '../js/datasets.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    if (!argv[i].startsWith('--')) throw new Error(`unexpected argument '${argv[i]}'`);
    const key = argv[i].slice(2);
    out[key] = i + 1 < argv.length && !argv[i + 1].startsWith('--') ? argv[++i] : '1';
  }
  return out;
}

// A field of /proc/self/status in bytes (VmRSS: now, VmHWM: the peak).
function status(field) {
  const m = readFileSync('/proc/self/status', 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
  return m ? Number(m[1]) * 1024 : 0;
}

// Resets the peak to the current RSS; false where the kernel does not allow it.
function resetPeak() {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    return false;
  }
  return status('VmHWM') <= status('VmRSS') + (1 << 20);
}

function anonHugePages() {
  try {
    const m = readFileSync('/proc/self/smaps_rollup', 'utf8').match(/^AnonHugePages:\s+(\d+) kB/m);
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const now = () => performance.now() / 1000;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function quiverdb(ds) {
  const { open } = await import(join(root, 'npm', 'dist', 'esm', 'node.js'));
  const db = await open({ memory: true });
  const c = await db.createCollection('bench', {
    vectors: { size: ds.dim, distance: ds.metric === 'l2' ? 'Euclid' : 'Cosine' },
    hnsw_config: { m: 16, ef_construct: 200 },
  });
  const request = { vector: null, limit: 10, params: { hnsw_ef: 10 } };
  return {
    async build() {
      const batch = 1000;
      for (let i = 0; i < ds.n; i += batch) {
        const end = Math.min(ds.n, i + batch);
        await c.upsertDense({ ids: Array.from({ length: end - i }, (_, j) => i + j), vectors: ds.base.subarray(i * ds.dim, end * ds.dim) });
      }
      await c.optimize();
    },
    report() {
      const stats = c.stats();
      return { detail: `${stats.simd}`, engine_memory_bytes: stats.memory_bytes, heap_bytes: db.memoryUsage().wasm_bytes,
               segments: stats.segments, indexed_vectors: stats.indexed_vectors };
    },
    setEf(ef) {
      request.params.hnsw_ef = ef;
    },
    search(v, k) {
      request.vector = v;
      request.limit = k;
      return c.search(request).map((p) => Number(p.id));
    },
  };
}

async function hnswlibWasm(ds) {
  // Built for browsers only (ENVIRONMENT=web, the wasm inlined): it loads in Node when `window` exists while its
  // factory runs. Its IDBFS setup (loadHnswlib) is skipped; nothing is saved.
  const dist = join(here, '..', 'js', 'node_modules', 'hnswlib-wasm', 'dist');
  const inner = readFileSync(join(dist, 'hnswlib.js'), 'utf8').match(/import\("\.\/(hnswlib-[^"]+\.js)"\)/)[1];
  globalThis.window = globalThis;
  const lib = await (await import(join(dist, inner))).default();
  delete globalThis.window;
  const version = JSON.parse(readFileSync(join(dist, '..', 'package.json'), 'utf8')).version;
  const index = new lib.HierarchicalNSW(ds.metric === 'l2' ? 'l2' : 'cosine', ds.dim, '');
  return {
    async build() {
      index.initIndex(ds.n, 16, 200, 42);
      for (let i = 0; i < ds.n; i++) index.addPoint(ds.base.subarray(i * ds.dim, (i + 1) * ds.dim), i, false);
    },
    report() {
      return { detail: version, engine_memory_bytes: -1, heap_bytes: lib.HEAPU8.byteLength };
    },
    setEf(ef) {
      index.setEfSearch(ef);
    },
    search(v, k) {
      return index.searchKnn(v, k, undefined).neighbors;
    },
  };
}

const args = parseArgs(process.argv.slice(2));
const engineName = args.engine ?? 'quiverdb';
const k = Number(args.k ?? 10);
const passes = Number(args.passes ?? 3);
const efs = (args.ef ?? '10,20,40,80,160,320').split(',').map(Number);
const ds = loadDataset(args.dataset ?? 'fashion-mnist', { queryCount: 1000, k });
const engines = { quiverdb, 'hnswlib-wasm': hnswlibWasm };
if (!engines[engineName]) throw new Error(`--engine: quiverdb or hnswlib-wasm, not '${engineName}'`);
const engine = await engines[engineName](ds);

const datasetBytes = (ds.n + ds.queries.length) * ds.dim * 4;
const rssLoaded = status('VmRSS');
const peakReset = resetPeak();
const wall0 = now(), cpu0 = cpuSeconds();
await engine.build();
const build = {
  kind: 'build', dataset: ds.name, engine: engineName, mode: '', base: ds.n, dim: ds.dim, dataset_bytes: datasetBytes,
  build_seconds: now() - wall0, build_cpu_seconds: cpuSeconds() - cpu0, rss_loaded_bytes: rssLoaded,
  rss_after_build_bytes: status('VmRSS'), peak_rss_bytes: status('VmHWM'), peak_reset: peakReset,
  anon_huge_page_bytes: anonHugePages(), node: process.version,
};
Object.assign(build, engine.report());
console.log(JSON.stringify(build));

for (const ef of efs) {
  engine.setEf(ef);
  // Warm-up: every query once, outside the QPS (its rate is reported apart); recall@k from its answers.
  let hits = 0;
  const w0 = now(), wc0 = cpuSeconds();
  for (let q = 0; q < ds.queries.length; q++) {
    const want = new Set(ds.truth[q]);
    for (const id of engine.search(ds.queries[q], k).slice(0, k)) hits += want.has(id) ? 1 : 0;
  }
  const w1 = now(), wc1 = cpuSeconds();
  const qps = [], cpuQps = [];
  for (let p = 0; p < passes; p++) {
    const t0 = now(), c0 = cpuSeconds();
    for (let q = 0; q < ds.queries.length; q++) engine.search(ds.queries[q], k);
    const c1 = cpuSeconds(), t1 = now();
    qps.push(ds.queries.length / (t1 - t0));
    cpuQps.push(ds.queries.length / (c1 - c0));
  }
  console.log(JSON.stringify({
    kind: 'search', dataset: ds.name, engine: engineName, mode: '', k, ef, recall: hits / (ds.queries.length * k),
    qps: median(qps), cpu_qps: median(cpuQps), warmup_qps: ds.queries.length / (w1 - w0),
    warmup_cpu_qps: ds.queries.length / (wc1 - wc0), qps_passes: qps, cpu_qps_passes: cpuQps,
    peak_rss_bytes: status('VmHWM'),
  }));
}
