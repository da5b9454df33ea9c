#!/usr/bin/env node
// The npm package's sync against quiverd on loopback (docs/benchmarks.md, "Sync in the npm package"):
//   1. push throughput: a Node database (folder) with N x D points (random, cosine) pushes them all (sync.push());
//   2. initial sync of an empty Node client by snapshot: segment files with their prebuilt HNSW, then the tail;
//   3. the same points through the feed: a client that joined while the collection was empty pulls them page by
//      page and then builds its index (optimize()); its time against the snapshot's is the ratio;
//   4. write-to-visibility latency with live pull: A writes one point, B (live, long-polling) sees it ('change').
// Everything runs in this process except quiverd; numbers are wall-clock ms, medians over --reps runs.
//   node bench/js/sync.mjs [--points 100000] [--dim 384] [--reps 1] [--latency 200] [--quiverd path] [--trace] [--snapshot-only]
//   [--gc-interval 20]
// --trace logs every request of the snapshot client (time to headers, to the last byte, and the engine's time
// before it). --snapshot-only stops after the snapshot sync (profiling; no feed, no ratio, no latency).
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const N = Number(args.points ?? 100_000);
const D = Number(args.dim ?? 384);
const REPS = Number(args.reps ?? 1);
const LATENCY = Number(args.latency ?? 200);
const TRACE = 'trace' in args;
const GC_INTERVAL = Number(args['gc-interval'] ?? 20);
const SNAPSHOT_ONLY = 'snapshot-only' in args;
const QUIVERD = args.quiverd ?? process.env.QUIVERD ?? join(root, 'build', 'native-release', 'bindings-native', 'quiverd');
const { open } = await import(join(root, 'npm', 'dist', 'esm', 'node.js'));

const CONFIG = { vectors: { size: D, distance: 'Cosine' } };
const now = () => performance.now();
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

async function startQuiverd(dir) {
  // The sync GC job (every --gc-interval s) ends with Optimize: it seals the write segment's tail (fewer points
  // than a segment, which the merge policy alone never indexes) and joins it to the graph, so the server reaches
  // the steady state where every point has its graph. It is a no-op once that is reached.
  const proc = spawn(QUIVERD, ['--data', join(dir, 'server'), '--port', '0', '--sync-gc-interval-s', String(GC_INTERVAL)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, QUIVERD_LOG_REQUESTS: 'false' },
  });
  const port = await new Promise((resolve, reject) => {
    let buf = '';
    proc.stdout.on('data', (d) => {
      const lines = (buf + d).split('\n');
      buf = lines.pop();
      for (const line of lines) {
        try {
          const j = JSON.parse(line);
          if (j.event === 'listening') resolve(j.port);
        } catch {}
      }
    });
    proc.on('exit', (code) => reject(new Error(`quiverd exited with ${code}`)));
  });
  return { proc, url: `http://127.0.0.1:${port}` };
}

// Deterministic pseudo-random vectors (xorshift), row-major.
function vectors(n, d, seed) {
  const out = new Float32Array(n * d);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < out.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = (x >>> 0) / 4294967296 - 0.5;
  }
  return out;
}

async function device(dir, name) {
  const db = await open({ path: join(dir, name) });
  const c = await db.createCollection('docs', CONFIG);
  return { db, c };
}

// Until the server has finished indexing: every point in a segment with its HNSW graph and the segment count
// unchanged for 2 s (the merge policy joins freshly indexed segments into the largest graph, one bounded step at a
// time), so the snapshot is the steady state a new device downloads. Gives up when nothing moved for 120 s.
async function waitIndexed(url) {
  let last = '';
  let since = now();
  for (;;) {
    const r = (await (await fetch(`${url}/collections/docs`)).json()).result;
    const key = `${r.indexed_vectors_count}/${r.segments_count}`;
    if (key !== last) {
      last = key;
      since = now();
    } else if (r.indexed_vectors_count >= r.points_count && now() - since > 2_000) {
      return r;
    } else if (now() - since > 120_000) {
      return r;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

// --trace: a fetch that logs each request's time to headers and to the last body byte (the body streams through
// untouched), its size, and the gap since the previous answer (time the client spent in the engine before asking
// again); and the time the engine spent in file writes, fsyncs and renames (NODEFS calls node:fs synchronously).
let lastAnswer = 0;
function tracingFetch(tag) {
  return async (url, init) => {
    const t0 = now();
    const gap = lastAnswer ? t0 - lastAnswer : 0;
    const res = await fetch(url, init);
    const t1 = now();
    const path = new URL(url).pathname.replace(/^\/sync\/v1/, '');
    const name = `${init.method} ${path.length > 60 ? path.slice(0, 60) + '...' : path} ${res.status}`;
    const reader = res.body.getReader();
    let bytes = 0;
    const body = new ReadableStream({
      async pull(controller) {
        const { done, value } = await reader.read();
        if (done) {
          const t2 = now();
          lastAnswer = t2;
          log(`[${tag}] ${name} ${bytes} B: headers ${(t1 - t0).toFixed(1)} ms, body ${(t2 - t1).toFixed(1)} ms ` +
              `(engine before it ${gap.toFixed(1)} ms)`);
          controller.close();
          return;
        }
        bytes += value.length;
        controller.enqueue(value);
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    });
    return new Response(body, { status: res.status, headers: res.headers });
  };
}
const fsTime = {};
if (TRACE) {
  const fs = createRequire(import.meta.url)('node:fs');
  for (const fn of ['writeSync', 'fsyncSync', 'fdatasyncSync', 'renameSync', 'readSync', 'openSync', 'closeSync']) {
    const orig = fs[fn];
    fs[fn] = function (...a) {
      const t = now();
      try {
        return orig.apply(this, a);
      } finally {
        fsTime[fn] = (fsTime[fn] ?? 0) + (now() - t);
      }
    };
  }
}
const log = (m) => process.stderr.write(`  ${m}\n`);

async function once(rep) {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-sync-bench-'));
  const server = await startQuiverd(dir);
  const row = {};
  try {
    const a = await device(dir, 'a');
    const feed = await device(dir, 'feed');
    const sa = a.db.sync({ url: server.url, collections: ['docs'] });
    const sf = feed.db.sync({ url: server.url, collections: ['docs'] });
    await sa.sync();
    await sf.sync();  // joins while the collection is empty: its cursor is at the start of the feed

    const data = vectors(N, D, 12345 + rep);
    const ids = Array.from({ length: N }, (_, i) => i + 1);
    for (let i = 0; i < N; i += 10_000) {
      const end = Math.min(N, i + 10_000);
      await a.c.upsertDense({ ids: ids.slice(i, end), vectors: data.subarray(i * D, end * D) });
    }
    let t = now();
    await sa.push();
    row.pushMs = now() - t;
    row.pushPointsPerS = N / (row.pushMs / 1000);
    log(`pushed in ${Math.round(row.pushMs)} ms`);

    // The server seals and indexes its segments; the snapshot carries what it has built.
    t = now();
    const info = await waitIndexed(server.url);
    row.serverIndexMs = now() - t;
    row.serverSegments = info.segments_count;
    row.serverIndexed = info.indexed_vectors_count;
    log(`server: ${info.segments_count} segments, ${info.indexed_vectors_count} of ${info.points_count} indexed`);

    const snap = await device(dir, 'snap');
    const ss = snap.db.sync({
      url: server.url,
      collections: ['docs'],
      ...(TRACE ? { fetch: tracingFetch('snapshot') } : {}),
    });
    t = now();
    lastAnswer = 0;
    for (const k of Object.keys(fsTime)) delete fsTime[k];
    await ss.sync();
    row.snapshotMs = now() - t;
    if (TRACE) {
      log(`[snapshot] after the last answer: ${(now() - lastAnswer).toFixed(1)} ms`);
      log(`[snapshot] node:fs time inside the sync: ${JSON.stringify(fsTime, (k, v) => (typeof v === 'number' ? Math.round(v) : v))}`);
    }
    row.snapshotIndexed = snap.c.info().indexed_vectors_count;
    log(`snapshot sync in ${Math.round(row.snapshotMs)} ms (${row.snapshotIndexed} indexed)`);

    if (SNAPSHOT_ONLY) {
      if (snap.c.count().count !== N) throw new Error('the snapshot client is missing points');
      await ss.close();
      await sa.close();
      await sf.close();
      for (const d of [a, feed, snap]) await d.db.close();
      return row;
    }
    t = now();
    await sf.pull();
    row.feedPullMs = now() - t;
    t = now();
    await feed.c.optimize();
    row.feedIndexMs = now() - t;
    row.feedTotalMs = row.feedPullMs + row.feedIndexMs;
    row.ratio = row.feedTotalMs / row.snapshotMs;
    log(`feed: pull ${Math.round(row.feedPullMs)} ms, index ${Math.round(row.feedIndexMs)} ms`);
    if (snap.c.count().count !== N || feed.c.count().count !== N) throw new Error('a client is missing points');

    // Latency: A writes, B (live) sees it. B is the snapshot client, now caught up.
    await ss.close();
    const live = snap.db.sync({ url: server.url, collections: ['docs'], live: true, waitMs: 25_000 });
    const liveA = (await sa.close(), a.db.sync({ url: server.url, collections: ['docs'], live: true, pushDelayMs: 0 }));
    await new Promise((r) => setTimeout(r, 300));
    const lat = [];
    const one = vectors(1, D, 999);
    for (let i = 0; i < LATENCY; i++) {
      const id = N + 1 + i;
      const seen = new Promise((resolve) => {
        const off = live.on('change', (ch) => {
          if (ch.ids.includes(id)) {
            off();
            resolve();
          }
        });
      });
      const t0 = now();
      await a.c.upsert([{ id, vector: one }]);
      await seen;
      lat.push(now() - t0);
    }
    row.latencyP50 = pct(lat, 50);
    row.latencyP99 = pct(lat, 99);
    await live.close();
    await liveA.close();
    await sf.close();
    for (const d of [a, feed, snap]) await d.db.close();
  } finally {
    server.proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
  return row;
}

const rows = [];
for (let rep = 0; rep < REPS; rep++) {
  const r = await once(rep);
  console.error(`rep ${rep + 1}: ${JSON.stringify(r, (k, v) => (typeof v === 'number' ? Math.round(v * 100) / 100 : v))}`);
  rows.push(r);
}
const m = (k) => median(rows.map((r) => r[k]));
const f = (x, d = 0) => (x === undefined ? "-" : x.toFixed(d));
console.log(`sync benchmark: ${N} x ${D} cosine points, quiverd on loopback, median of ${REPS} run(s)`);
console.log(`| step | median |`);
console.log(`|---|---|`);
console.log(`| push (A -> server) | ${f(m('pushMs'))} ms (${f(m('pushPointsPerS'))} points/s) |`);
console.log(`| server seals and indexes (after the push) | ${f(m('serverIndexMs'))} ms |`);
console.log(`| initial sync by snapshot (empty client, prebuilt index) | ${f(m('snapshotMs'))} ms |`);
console.log(`| the same points through the feed: pull | ${f(m('feedPullMs'))} ms |`);
console.log(`| the same points through the feed: index build on the client | ${f(m('feedIndexMs'))} ms |`);
console.log(`| feed (pull + build) / snapshot | ${f(m('ratio'), 1)}x |`);
console.log(`| write on A to visible on B, live pull (${LATENCY} writes) | p50 ${f(m('latencyP50'), 1)} ms, p99 ${f(m('latencyP99'), 1)} ms |`);
