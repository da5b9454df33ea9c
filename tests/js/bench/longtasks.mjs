#!/usr/bin/env node
// Main-thread long tasks during a large import, with quiverdb on the page's main thread and in quiverdb/worker,
// measured in Debian's Chromium (headless) with PerformanceObserver('longtask') (tasks over 50 ms).
//   node tests/js/bench/longtasks.mjs [--points 100000] [--dim 128] [--batch 1000] [--reps 1]
// Each run: a fresh IndexedDB database, `points` random vectors (cosine) upserted with upsertDense in batches of
// `batch`, yielding to the event loop between batches (setTimeout 0, as a page that wants to stay responsive
// would), then optimize() (graph build), 100 filtered searches with limit 100, flush(). The main-thread modes
// alternate run by run. Needs npm/dist (tests/js/run.sh or node npm/build.mjs).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

import { serveStatic } from '../../../scripts/static-server.mjs';
import { launchChromium } from '../browser/chromium.mjs';

const { values } = parseArgs({ options: {
  points: { type: 'string', default: '100000' }, dim: { type: 'string', default: '128' },
  batch: { type: 'string', default: '1000' }, reps: { type: 'string', default: '1' },
} });
const config = { points: Number(values.points), dim: Number(values.dim), batch: Number(values.batch) };

const page = mkdtempSync(join(tmpdir(), 'quiver-longtasks-page-'));
const profile = mkdtempSync(join(tmpdir(), 'quiver-longtasks-profile-'));
writeFileSync(join(page, 'index.html'), `<!doctype html><meta charset="utf-8"><title>long tasks</title>
<script type="module">
  import * as quiver from '/dist/esm/browser.js';
  import * as worker from '/dist/esm/worker.js';
  window.measure = async ({ mode, points, dim, batch, name }) => {
    const api = mode === 'worker' ? worker : quiver;
    // Data first, outside the measurement.
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) - 0.5;
    const vectors = new Float32Array(points * dim).map(random);
    const tasks = [];
    const observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) tasks.push({ start: e.startTime, duration: e.duration });
    });
    observer.observe({ type: 'longtask' });
    const phases = {};
    const phase = async (label, body) => {
      const start = performance.now();
      await body();
      phases[label] = { start, end: performance.now() };
    };
    const t0 = performance.now();
    const db = await api.open({ name });
    const c = await db.createCollection('c', { vectors: { size: dim, distance: 'Cosine' } });
    await phase('import', async () => {
      for (let i = 0; i < points; i += batch) {
        const n = Math.min(batch, points - i);
        await c.upsertDense({ ids: Array.from({ length: n }, (_, k) => i + k), vectors: vectors.subarray(i * dim, (i + n) * dim),
                              payloads: Array.from({ length: n }, (_, k) => ({ g: (i + k) % 10 })) });
        await new Promise((r) => setTimeout(r, 0));
      }
    });
    await phase('optimize', () => c.optimize());
    await phase('search', async () => {
      for (let q = 0; q < 100; q++) {
        await c.search({ vector: vectors.subarray(q * dim, (q + 1) * dim), limit: 100,
                         filter: { must: [{ key: 'g', match: { value: q % 10 } }] } });
        await new Promise((r) => setTimeout(r, 0));
      }
    });
    await phase('flush', () => db.flush());
    const count = (await c.count()).count;
    await db.close();
    const total = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 200));
    observer.disconnect();
    const summary = (from, to) => {
      const mine = tasks.filter((t) => t.start >= from && t.start < to);
      return { count: mine.length, totalMs: Math.round(mine.reduce((s, t) => s + t.duration, 0)),
               maxMs: Math.round(mine.reduce((m, t) => Math.max(m, t.duration), 0)) };
    };
    const out = { mode, count, wallMs: Math.round(total), all: summary(t0, Infinity) };
    for (const [label, p] of Object.entries(phases)) out[label] = { wallMs: Math.round(p.end - p.start), ...summary(p.start, p.end) };
    return out;
  };
  window.ready = true;
</script>`);

const web = await serveStatic({ '/dist/': fileURLToPath(new URL('../../../npm/dist/', import.meta.url)), '/': page });
const context = await launchChromium(profile);
const runs = [];
try {
  for (let rep = 0; rep < Number(values.reps); rep++) {
    for (const mode of rep % 2 ? ['worker', 'main'] : ['main', 'worker']) {
      const tab = await context.newPage();
      await tab.goto(web.url);
      await tab.waitForFunction(() => window.ready === true);
      const r = await tab.evaluate((a) => window.measure(a), { ...config, mode, name: `lt-${mode}-${rep}` });
      console.error(JSON.stringify(r));
      runs.push(r);
      await tab.close();
    }
  }
} finally {
  await context.close();
  web.server.close();
  rmSync(page, { recursive: true, force: true });
  rmSync(profile, { recursive: true, force: true });
}

const cell = (s) => `${s.count} / ${s.totalMs} / ${s.maxMs}`;
console.log(`${config.points} x ${config.dim} cosine, batches of ${config.batch}; long tasks on the main thread: count / total ms / longest ms\n`);
console.log('| mode | import (wall s) | import | optimize | 100 searches | flush | whole run (wall s) | whole run |');
console.log('|---|---|---|---|---|---|---|---|');
for (const r of runs) {
  console.log(`| ${r.mode === 'main' ? 'main thread' : 'quiverdb/worker'} | ${(r.import.wallMs / 1000).toFixed(1)} | ${cell(r.import)} | ${cell(r.optimize)} | ${cell(r.search)} | ${cell(r.flush)} | ${(r.wallMs / 1000).toFixed(1)} | ${cell(r.all)} |`);
}
