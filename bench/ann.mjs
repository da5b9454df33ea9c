#!/usr/bin/env node
// Drives the ANN benchmark: Quiver native, hnswlib and Quiver WASM (under this Node) on the same data, in one
// run, and prints recall@10 / QPS tables and the ratios the targets are judged by.
//
//   node bench/ann.mjs [--datasets fashion-mnist,synthetic-384] [--reps 3] [--markdown]
//
// Needs build/native-release and build/wasm-release (scripts/bench.sh builds them). Data and ground truth are
// cached in .cache/bench. Builds run one per process (build time and peak RSS of each engine alone); searches
// load the saved indexes and interleave the engines rep by rep, so they share the machine's noise.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = parseArgs(process.argv.slice(2));
const datasets = (args.datasets ?? 'fashion-mnist').split(',');
const reps = args.reps ?? '3';
const efs = args.ef ?? '10,20,40,80,160,320';
const cache = join(root, '.cache', 'bench');
const nativeBench = join(root, 'build', 'native-release', 'bench', 'ann_bench');
const wasmBench = join(root, 'build', 'wasm-release', 'bench', 'ann_bench.js');
const fashionSource = '/usr/share/datasets/fashion-mnist';

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '');
    if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) out[key] = argv[++i];
    else out[key] = true;
  }
  return out;
}

function log(msg) {
  process.stderr.write(`[bench] ${msg}\n`);
}

function run(cmd, argv) {
  const out = execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 });
  const line = out.trim().split('\n').pop();
  return JSON.parse(line);
}

const native = (mode, rest) => run(nativeBench, [mode, '--cache', cache, ...rest]);
const wasm = (mode, rest) => run(process.execPath, [wasmBench, mode, '--cache', cache, ...rest]);

function ensureFashionMnist() {
  const dir = join(cache, 'fashion-mnist');
  mkdirSync(dir, { recursive: true });
  for (const name of ['train-images-idx3-ubyte', 't10k-images-idx3-ubyte']) {
    const target = join(dir, name);
    if (existsSync(target)) continue;
    const source = join(fashionSource, `${name}.gz`);
    if (!existsSync(source)) throw new Error(`${source} is missing: apt-get install dataset-fashion-mnist`);
    writeFileSync(target, gunzipSync(readFileSync(source)));
  }
}

// The QPS at the smallest ef whose recall reaches the threshold (null when none does).
function atRecall(rows, threshold = 0.95) {
  const row = rows.find((r) => r.recall >= threshold);
  return row ? { ef: row.ef, qps: row.qps, recall: row.recall } : null;
}

const mb = (bytes) => (bytes / 1048576).toFixed(0);
const pad = (s, n) => String(s).padEnd(n);

function benchDataset(name) {
  log(`${name}: preparing data and exact ground truth`);
  const info = native('prepare', ['--dataset', name]);
  const image = (tag) => join(cache, `${name}.${tag}`);

  log(`${name}: building Quiver native (1 thread)`);
  const qBuild = native('build', ['--dataset', name, '--engine', 'quiver', '--out', image('quiver-native.qvi')]);
  log(`${name}: building hnswlib (1 thread)`);
  const hBuild = native('build', ['--dataset', name, '--engine', 'hnswlib', '--out', image('hnswlib.bin')]);
  log(`${name}: building Quiver WASM under Node (1 thread)`);
  const wBuild = wasm('build', ['--dataset', name, '--engine', 'quiver', '--out', image('quiver-wasm.qvi')]);
  log(`${name}: building Quiver native (2 threads, for reference)`);
  const qBuild2 = native('build', ['--dataset', name, '--engine', 'quiver', '--threads', '2']);

  log(`${name}: searching, Quiver native and hnswlib interleaved, ${reps} reps`);
  const nSearch = native('search', ['--dataset', name, '--ef', efs, '--reps', reps,
    '--index', `quiver:${image('quiver-native.qvi')}`, '--index', `hnswlib:${image('hnswlib.bin')}`,
    '--index', `quiver-sq8:${image('quiver-native.qvi')}`]);
  log(`${name}: searching, Quiver WASM, ${reps} reps`);
  const wSearch = wasm('search', ['--dataset', name, '--ef', efs, '--reps', reps,
    '--index', `quiver:${image('quiver-wasm.qvi')}`, '--index', `quiver-sq8:${image('quiver-wasm.qvi')}`]);

  const engines = [
    { label: `Quiver native (${qBuild.detail})`, build: qBuild, search: nSearch.engines[0] },
    { label: 'hnswlib 0.6.2', build: hBuild, search: nSearch.engines[1] },
    { label: 'Quiver WASM (simd128)', build: wBuild, search: wSearch.engines[0] },
  ];
  // The same graphs with scalar quantization (int8 codes walked, results rescored with the floats): searched, not
  // built, so they have no build row.
  const quantized = [
    { label: 'Quiver native SQ8', search: nSearch.engines[2] },
    { label: 'Quiver WASM SQ8', search: wSearch.engines[1] },
  ];
  const q = atRecall(engines[0].search.rows), h = atRecall(engines[1].search.rows), w = atRecall(engines[2].search.rows);
  const ratios = {
    native_vs_hnswlib_qps: q && h ? q.qps / h.qps : null,
    native_vs_hnswlib_build: qBuild.build_seconds / hBuild.build_seconds,
    wasm_vs_native_qps: q && w ? w.qps / q.qps : null,
  };
  const qs = atRecall(quantized[0].search.rows), ws = atRecall(quantized[1].search.rows);
  const sq8 = {
    native_vs_hnswlib_qps: qs && h ? qs.qps / h.qps : null,
    wasm_vs_native_sq8_qps: qs && ws ? ws.qps / qs.qps : null,
    wasm_sq8_vs_native_qps: q && ws ? ws.qps / q.qps : null,
  };
  return { name, info, engines, quantized, build2: qBuild2, ratios, sq8, at95: { quiver: q, hnswlib: h, wasm: w, native_sq8: qs, wasm_sq8: ws } };
}

function report(r) {
  const lines = [];
  const metric = r.name === 'fashion-mnist' ? 'L2' : 'cosine';
  lines.push(`### ${r.name}: ${r.info.base} x ${r.info.dim}, ${metric}, ${r.info.queries} queries, k=10, M=16, ef_construction=200`);
  lines.push('');
  lines.push('| engine | build (s) | peak RSS (MB) | index memory (MB) |');
  lines.push('|---|---|---|---|');
  for (const e of r.engines) {
    lines.push(`| ${e.label} | ${e.build.build_seconds.toFixed(1)} | ${mb(e.build.peak_rss_bytes)} | ${mb(e.build.index_memory_bytes)} |`);
  }
  lines.push(`| Quiver native, 2 threads | ${r.build2.build_seconds.toFixed(1)} | ${mb(r.build2.peak_rss_bytes)} | ${mb(r.build2.index_memory_bytes)} |`);
  lines.push('');
  const columns = [...r.engines, ...r.quantized];
  lines.push(`| ef | ${columns.map((e) => `${e.label} recall / QPS`).join(' | ')} |`);
  lines.push(`|---|${columns.map(() => '---').join('|')}|`);
  const rows = r.engines[0].search.rows.length;
  for (let i = 0; i < rows; i++) {
    const cells = columns.map((e) => {
      const row = e.search.rows[i];
      return `${row.recall.toFixed(4)} / ${Math.round(row.qps)}`;
    });
    lines.push(`| ${r.engines[0].search.rows[i].ef} | ${cells.join(' | ')} |`);
  }
  lines.push('');
  const fmt = (x) => (x == null ? 'n/a' : `${x.toFixed(2)}x`);
  const verdict = (x, ok) => (x == null ? 'MISSED' : ok(x) ? 'met' : 'MISSED');
  const { native_vs_hnswlib_qps: a, native_vs_hnswlib_build: b, wasm_vs_native_qps: c } = r.ratios;
  const at = r.at95;
  const where = (p) => (p ? `ef=${p.ef}, recall ${p.recall.toFixed(3)}` : 'never reached');
  lines.push(`At recall@10 >= 0.95 (Quiver native ${where(at.quiver)}; hnswlib ${where(at.hnswlib)}; WASM ${where(at.wasm)}):`);
  lines.push(`- Quiver native QPS / hnswlib QPS = ${fmt(a)} (target >= 1.2x: ${verdict(a, (x) => x >= 1.2)})`);
  lines.push(`- Quiver native build time / hnswlib build time = ${fmt(b)} (target <= 1.0x: ${verdict(b, (x) => x <= 1.0)})`);
  lines.push(`- Quiver WASM QPS / Quiver native QPS = ${fmt(c)} (target >= 0.6x: ${verdict(c, (x) => x >= 0.6)})`);
  lines.push('');
  lines.push(`With scalar quantization (native SQ8 ${where(at.native_sq8)}; WASM SQ8 ${where(at.wasm_sq8)}):`);
  lines.push(`- Quiver native SQ8 QPS / hnswlib QPS = ${fmt(r.sq8.native_vs_hnswlib_qps)}`);
  lines.push(`- Quiver WASM SQ8 QPS / Quiver native SQ8 QPS = ${fmt(r.sq8.wasm_vs_native_sq8_qps)}`);
  lines.push(`- Quiver WASM SQ8 QPS / Quiver native (float) QPS = ${fmt(r.sq8.wasm_sq8_vs_native_qps)}`);
  return lines.join('\n');
}

if (!existsSync(nativeBench) || !existsSync(wasmBench)) {
  throw new Error('build the native-release and wasm-release presets first (scripts/bench.sh does)');
}
mkdirSync(cache, { recursive: true });
if (datasets.includes('fashion-mnist')) ensureFashionMnist();
const results = datasets.map(benchDataset);
writeFileSync(join(cache, 'ann-results.json'), JSON.stringify(results, null, 2));
const text = results.map(report).join('\n\n');
console.log(text);
