#!/usr/bin/env node
// The npm package against the JavaScript vector-search libraries, in one Node process, in one run:
//   Quiver (WASM, the quiverdb package; with scalar quantization, then floats only)  hnswlib-wasm  hnswlib-node (native addon)  usearch (native addon)
// on the full sets (HNSW, M=16, ef_construction=200, single-threaded builds, one query per call, k=10), then the
// slow ones, voy-search (k-d tree, WASM) and @orama/orama (exact scan), on a documented subset together with
// Quiver on the same subset. Prints build time, recall@10 and QPS per ef, the QPS at the smallest ef whose recall
// reaches 0.95, the ratios the targets are judged by, and the package's shipped size (gzipped wasm + JS).
//
//   (cd bench/js && npm ci) && node bench/js/ann.mjs [--datasets synthetic-384,fashion-mnist] [--reps 3]
//        [--queries 1000] [--subset 10000] [--subset-queries 200] [--subset-ef 40] [--base N] [--out file.md]
//
// Needs npm/dist (node npm/build.mjs) and the data in .cache/bench (made by bench/ann.mjs / ann_bench prepare:
// Fashion-MNIST from Debian's dataset-fashion-mnist, the synthetic 384-d cosine mixture, cached exact ground truth).
// Searches interleave the engines rep by rep at each ef, so they share the machine's noise; QPS is the median.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDataset } from './datasets.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const require = createRequire(import.meta.url);
const args = parseArgs(process.argv.slice(2));
const datasets = (args.datasets ?? 'synthetic-384,fashion-mnist').split(',');
const reps = Number(args.reps ?? 3);
const queryCount = Number(args.queries ?? 1000);
const subsetSize = Number(args.subset ?? 10000);
const subsetQueries = Number(args['subset-queries'] ?? 200);
const efs = (args.ef ?? '10,20,40,80,160,320').split(',').map(Number);
const K = 10;
const M = 16;
const EF_CONSTRUCTION = 200;

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '');
    if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) out[key] = argv[++i];
    else out[key] = true;
  }
  return out;
}

const log = (msg) => process.stderr.write(`[bench-js] ${msg}\n`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const now = () => performance.now();

// The first `n` base points and `q` queries, with exact ground truth computed here.
function subset(ds, n, q) {
  const dim = ds.dim;
  const base = ds.base.subarray(0, n * dim);
  const norms = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += base[i * dim + j] ** 2;
    norms[i] = Math.sqrt(s) || 1;
  }
  const queries = ds.queries.slice(0, q);
  const truth = queries.map((v) => {
    const dist = new Float64Array(n);
    let qn = 0;
    for (let j = 0; j < dim; j++) qn += v[j] * v[j];
    qn = Math.sqrt(qn) || 1;
    for (let i = 0; i < n; i++) {
      let s = 0;
      const o = i * dim;
      if (ds.metric === 'l2') for (let j = 0; j < dim; j++) s += (base[o + j] - v[j]) ** 2;
      else {
        for (let j = 0; j < dim; j++) s += base[o + j] * v[j];
        s = -s / (norms[i] * qn);
      }
      dist[i] = s;
    }
    const idx = Array.from({ length: n }, (_, i) => i);
    idx.sort((a, b) => dist[a] - dist[b]);
    return Int32Array.from(idx.slice(0, K));
  });
  return { ...ds, name: `${ds.name}[0:${n}]`, n, base, queries, truth };
}

function recallAt(found, truth) {
  let hit = 0;
  for (let i = 0; i < truth.length; i++) {
    const t = new Set(truth[i]);
    for (const id of found[i].slice(0, K)) if (t.has(Number(id))) hit++;
  }
  return hit / (truth.length * K);
}

// ---- engines: build(ds) once, then prepare(ef) and query(vector) -> ids ----

// Quiver with float vectors only, or with scalar quantization (int8 codes walked, found points rescored with
// the floats: the collection's `quantization_config`).
async function quiverEngine({ sq8 = false } = {}) {
  const { open } = await import(join(root, 'npm', 'dist', 'esm', 'node.js'));
  let db, c;
  const engine = {
    name: sq8 ? 'Quiver (WASM, SQ8)' : 'Quiver (WASM)',
    async build(ds) {
      db = await open({ memory: true, segmentPoints: 1 << 30 });
      c = await db.createCollection('bench', {
        vectors: { size: ds.dim, distance: ds.metric === 'l2' ? 'Euclid' : 'Cosine' },
        hnsw_config: { m: M, ef_construct: EF_CONSTRUCTION },
        ...(sq8 ? { quantization_config: { scalar: { type: 'int8', quantile: 0.99 } } } : {}),
      });
      const batch = 10000;
      for (let i = 0; i < ds.n; i += batch) {
        const end = Math.min(ds.n, i + batch);
        await c.upsertDense({ ids: Array.from({ length: end - i }, (_, j) => i + j), vectors: ds.base.subarray(i * ds.dim, end * ds.dim) });
      }
      await c.optimize();
      engine.detail = `${c.stats().simd}, ${c.stats().indexed_vectors} indexed`;
    },
    prepare(ef) {
      engine.request = { vector: null, limit: K, params: { hnsw_ef: ef } };
    },
    query(v) {
      engine.request.vector = v;
      return c.search(engine.request).map((p) => p.id);
    },
    async dispose() {
      await db.close();
    },
  };
  return engine;
}

async function hnswlibWasmEngine() {
  // hnswlib-wasm is built for browsers only (ENVIRONMENT=web, wasm inlined as a data URI): it loads in Node when
  // `window` exists while its factory runs. Its IDBFS setup (loadHnswlib) is skipped; nothing is saved.
  const dist = join(here, 'node_modules', 'hnswlib-wasm', 'dist');
  const inner = readFileSync(join(dist, 'hnswlib.js'), 'utf8').match(/import\("\.\/(hnswlib-[^"]+\.js)"\)/)[1];
  globalThis.window = globalThis;
  const lib = await (await import(join(dist, inner))).default();
  delete globalThis.window;
  let index;
  const engine = {
    name: 'hnswlib-wasm',
    async build(ds) {
      index = new lib.HierarchicalNSW(ds.metric === 'l2' ? 'l2' : 'cosine', ds.dim, '');
      index.initIndex(ds.n, M, EF_CONSTRUCTION, 100);
      for (let i = 0; i < ds.n; i++) index.addPoint(ds.base.subarray(i * ds.dim, (i + 1) * ds.dim), i, false);
    },
    prepare(ef) {
      index.setEfSearch(ef);
    },
    query(v) {
      return index.searchKnn(v, K, undefined).neighbors;
    },
    async dispose() {
      index.delete?.();
    },
  };
  return engine;
}

async function hnswlibNodeEngine() {
  const { HierarchicalNSW } = require('hnswlib-node');
  let index;
  const engine = {
    name: 'hnswlib-node',
    arrays: true, // takes number[] only
    async build(ds) {
      index = new HierarchicalNSW(ds.metric === 'l2' ? 'l2' : 'cosine', ds.dim);
      index.initIndex(ds.n, M, EF_CONSTRUCTION, 100);
      for (let i = 0; i < ds.n; i++) index.addPoint(Array.from(ds.base.subarray(i * ds.dim, (i + 1) * ds.dim)), i);
    },
    prepare(ef) {
      index.setEf(ef);
    },
    query(v) {
      return index.searchKnn(v, K).neighbors;
    },
    async dispose() {},
  };
  return engine;
}

async function usearchEngine() {
  const { Index } = require('usearch');
  const dir = mkdtempSync(join(tmpdir(), 'quiver-bench-usearch-'));
  const file = join(dir, 'index.usearch');
  let index, config;
  const engine = {
    name: 'usearch (addon)',
    async build(ds) {
      config = { dimensions: ds.dim, metric: ds.metric === 'l2' ? 'l2sq' : 'cos', connectivity: M, expansion_add: EF_CONSTRUCTION, expansion_search: 64 };
      index = new Index(config);
      const keys = new BigUint64Array(ds.n);
      for (let i = 0; i < ds.n; i++) keys[i] = BigInt(i);
      index.add(keys, ds.base, 1); // one thread, like the others
      index.save(file);
    },
    // expansion_search is fixed at construction: reload the saved graph with each ef (outside the timing).
    prepare(ef) {
      index = new Index({ ...config, expansion_search: ef });
      index.load(file);
    },
    query(v) {
      return index.search(v, K, 1).keys;
    },
    async dispose() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return engine;
}

async function voyEngine() {
  const bg = await import(join(here, 'node_modules', 'voy-search', 'voy_search_bg.js'));
  const wasm = readFileSync(join(here, 'node_modules', 'voy-search', 'voy_search_bg.wasm'));
  const { instance } = await WebAssembly.instantiate(wasm, { './voy_search_bg.js': bg });
  bg.__wbg_set_wasm(instance.exports);
  let index, normalise;
  const unit = (v) => {
    let s = 0;
    for (const x of v) s += x * x;
    s = Math.sqrt(s) || 1;
    return Float32Array.from(v, (x) => x / s);
  };
  return {
    name: 'voy-search',
    async build(ds) {
      // Voy ranks by Euclidean distance: cosine data goes in normalised (same order as cosine).
      normalise = ds.metric !== 'l2';
      const embeddings = [];
      for (let i = 0; i < ds.n; i++) {
        const v = ds.base.subarray(i * ds.dim, (i + 1) * ds.dim);
        embeddings.push({ id: String(i), title: '', url: '', embeddings: Array.from(normalise ? unit(v) : v) });
      }
      // A Rust panic inside Voy is logged through console.error, then surfaces as an unrelated error: keep the
      // panic's first line as the reason.
      const log = console.error;
      const logged = [];
      console.error = (...m) => logged.push(m.map(String).join(' '));
      try {
        index = new bg.Voy({ embeddings });
      } catch (e) {
        const panic = logged.find((m) => m.includes('panicked at'));
        throw new Error(panic ? panic.slice(panic.indexOf('panicked at')).split('\n')[0] : String(e.message ?? e));
      } finally {
        console.error = log;
      }
    },
    prepare() {},
    query(v) {
      return index.search(normalise ? unit(v) : v, K).neighbors.map((n) => Number(n.id));
    },
    async dispose() {
      index.free();
    },
  };
}

async function oramaEngine() {
  const { create, insertMultiple, search } = await import('@orama/orama');
  let db;
  return {
    name: '@orama/orama',
    async build(ds) {
      db = create({ schema: { v: `vector[${ds.dim}]` } });
      const docs = [];
      for (let i = 0; i < ds.n; i++) docs.push({ id: String(i), v: Array.from(ds.base.subarray(i * ds.dim, (i + 1) * ds.dim)) });
      await insertMultiple(db, docs, 1000);
    },
    prepare() {},
    // Orama's vector mode is an exact scan by cosine similarity (its only metric).
    async query(v) {
      const r = await search(db, { mode: 'vector', vector: { value: v, property: 'v' }, similarity: -1, limit: K });
      return r.hits.map((h) => Number(h.id));
    },
    async dispose() {},
  };
}

// ---- running ----

const failures = new Map();

async function run(engines, ds, efList, repCount) {
  const rows = new Map(engines.map((e) => [e, { build: 0, byEf: new Map() }]));
  for (const e of [...engines]) {
    log(`${ds.name}: building ${e.name}`);
    const t0 = now();
    try {
      await e.build(ds);
    } catch (err) {
      // Reported in the table; voy-search's k-d tree panics on Fashion-MNIST (many equal pixel values).
      const why = String(err.message ?? err).split('\n')[0].slice(0, 240);
      log(`${ds.name}: ${e.name} failed to build: ${why}`);
      failures.set(`${ds.name} ${e.name}`, why);
      engines.splice(engines.indexOf(e), 1);
      rows.delete(e);
      continue;
    }
    rows.get(e).build = (now() - t0) / 1000;
    log(`${ds.name}: ${e.name} built in ${rows.get(e).build.toFixed(1)} s ${e.detail ?? ''}`);
  }
  const arrays = ds.queries.map((q) => Array.from(q));
  for (const ef of efList) {
    for (const e of engines) e.prepare(ef);
    // Warm-up (untimed): the first queries after a change of ef pay for JIT and cache misses.
    for (const e of engines) {
      const qs = e.arrays ? arrays : ds.queries;
      for (let i = 0; i < Math.min(50, qs.length); i++) await e.query(qs[i]);
    }
    for (let rep = 0; rep < repCount; rep++) {
      for (const e of engines) {
        const qs = e.arrays ? arrays : ds.queries;
        const found = new Array(qs.length);
        const isAsync = e.query.constructor.name === 'AsyncFunction';
        const t0 = now();
        if (isAsync) for (let i = 0; i < qs.length; i++) found[i] = await e.query(qs[i]);
        else for (let i = 0; i < qs.length; i++) found[i] = e.query(qs[i]);
        const qps = qs.length / ((now() - t0) / 1000);
        const r = rows.get(e).byEf.get(ef) ?? { qps: [], recall: 0 };
        r.qps.push(qps);
        r.recall = recallAt(Array.from(found, (f) => Array.from(f)), ds.truth);
        rows.get(e).byEf.set(ef, r);
      }
    }
    log(`${ds.name}: ef=${ef} ` + engines.map((e) => `${e.name} ${rows.get(e).byEf.get(ef).recall.toFixed(3)}/${median(rows.get(e).byEf.get(ef).qps).toFixed(0)}`).join(', '));
  }
  for (const e of engines) await e.dispose();
  return rows;
}

function atRecall(row, threshold = 0.95) {
  for (const [ef, r] of row.byEf) if (r.recall >= threshold) return { ef, recall: r.recall, qps: median(r.qps) };
  return null;
}

function table(title, engines, rows, dsName) {
  const out = [`### ${title}`, ''];
  for (const [key, why] of failures) if (key.startsWith(dsName + ' ')) out.push(`- ${key.slice(dsName.length + 1)}: could not build: ${why}`, '');
  out.push('| engine | build (s) | ' + [...rows.get(engines[0]).byEf.keys()].map((ef) => `ef=${ef} recall / QPS`).join(' | ') + ' | at recall >= 0.95 |');
  out.push('|---|---|' + [...rows.get(engines[0]).byEf.keys()].map(() => '---').join('|') + '|---|');
  for (const e of engines) {
    const row = rows.get(e);
    const at = atRecall(row);
    out.push(`| ${e.name} | ${row.build.toFixed(1)} | ` +
      [...row.byEf.values()].map((r) => `${r.recall.toFixed(4)} / ${median(r.qps).toFixed(0)}`).join(' | ') +
      ` | ${at ? `ef=${at.ef}: ${at.qps.toFixed(0)} QPS (recall ${at.recall.toFixed(3)})` : 'not reached'} |`);
  }
  const q = atRecall(rows.get(engines[0]));
  out.push('');
  for (const e of engines.slice(1)) {
    const p = atRecall(rows.get(e));
    const ratio = q && p ? (q.qps / p.qps).toFixed(2) + 'x' : 'n/a';
    const build = (rows.get(e).build / rows.get(engines[0]).build).toFixed(2);
    out.push(`- ${engines[0].name} QPS / ${e.name} QPS at recall >= 0.95: ${ratio}; ${e.name} build time / ${engines[0].name} build time: ${build}x`);
  }
  return out.join('\n');
}

// What a page downloads (bench/js/size.mjs: the browser entry's static imports, the glue and the .wasm).
function shippedSize() {
  const text = execFileSync(process.execPath, [join(here, 'size.mjs'), '--dist', join(root, 'npm', 'dist')], { encoding: 'utf8' });
  const browser = text.split('\nNode (')[0];
  const total = Number(/\*\*total\*\* \| [\d.]+ \| \*\*([\d.]+)\*\*/.exec(browser)[1]);
  return ['### Shipped size (npm/dist, gzip -9)', browser.trim(), '',
    `- wasm + JS gzipped (browser build): ${total} KB (target <= 300 KB: ${total <= 300 ? 'met' : 'MISSED'})`].join('\n');
}

const report = [];
report.push(`Node ${process.version}, ${datasets.join(' + ')}, ${queryCount} queries, k=${K}, M=${M}, ef_construction=${EF_CONSTRUCTION}, ` +
  `single-threaded builds, one query per call, QPS = median of ${reps} interleaved reps.`);
for (const name of datasets) {
  let ds = loadDataset(name, { queryCount, k: K, log });
  // --base N: a smaller set (its ground truth computed here), for a quick check of the script.
  if (args.base) ds = subset(ds, Number(args.base), ds.queries.length);
  log(`${name}: ${ds.n} x ${ds.dim} (${ds.metric}), ${ds.queries.length} queries`);
  const engines = [await quiverEngine({ sq8: true }), await quiverEngine(), await hnswlibWasmEngine(),
    await hnswlibNodeEngine(), await usearchEngine()];
  const rows = await run(engines, ds, efs, reps);
  report.push(table(`${name}: ${ds.n} x ${ds.dim}, ${ds.metric}, ${ds.queries.length} queries`, engines, rows, ds.name));
  const sub = subset(ds, Math.min(subsetSize, ds.n), Math.min(subsetQueries, ds.queries.length));
  const slow = [await quiverEngine(), await voyEngine(), await oramaEngine()];
  const subRows = await run(slow, sub, [Number(args['subset-ef'] ?? 40)], reps);
  report.push(table(`${sub.name} (subset for the slow libraries): ${sub.n} x ${sub.dim}, ${sub.metric}, ${sub.queries.length} queries`, slow, subRows, sub.name));
}
report.push(shippedSize());
const text = report.join('\n\n');
console.log(text);
if (args.out) writeFileSync(args.out, text + '\n');
