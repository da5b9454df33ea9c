// The Query API through the npm package in Debian's Chromium (headless): a hybrid query (two prefetches fused by
// RRF), rescoring, order_by, groups with lookup, a batch and an error, on the browser build and through
// quiverdb/worker; the references are computed here, in Node, from the same generated points.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { launchChromium } from './chromium.mjs';
import { serve } from './server.mjs';

const profile = mkdtempSync(join(tmpdir(), 'quiver-js-query-'));
let web;
let context;

before(async () => {
  web = await serve();
  context = await launchChromium(profile);
});

after(async () => {
  await context?.close().catch(() => {});
  web?.server.close();
  rmSync(profile, { recursive: true, force: true });
});

async function run(page, step, source) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`browser step "${step}" timed out`)), 60000);
  });
  try {
    const r = await Promise.race([page.evaluate((s) => window.run(s), source), timeout]);
    assert.ok(r.ok, `${step}: ${r.code} ${r.message}`);
    return r.value;
  } finally {
    clearTimeout(timer);
  }
}

// The points, generated the same way in the page and here.
const points = `
  let s = 11;
  const r = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const points = [];
  for (let i = 0; i < 150; i++) {
    points.push({ id: i + 1, vector: { a: Array.from({ length: 5 }, r), b: Array.from({ length: 3 }, r) },
                  payload: { n: i, grp: 'g' + (i % 4), price: (i * 29) % 53 } });
  }
  return points;`;

// The scenario, run by the browser build (`api` = quiver) or quiverdb/worker (`api` = worker, every call awaited).
const scenario = (api) => `
  const points = (() => { ${points} })();
  const db = await ${api}.open({ memory: true });
  const c = await db.createCollection('q', { vectors: { a: { size: 5, distance: 'Cosine' }, b: { size: 3, distance: 'Euclid' } } });
  const info = await db.createCollection('info', { vectors: { size: 2, distance: 'Dot' } });
  await c.upsert(points);
  await info.upsert([{ id: 2, vector: [1, 0], payload: { name: 'two' } }]);
  const qa = [0.5, -0.1, 0.3, 0.9, -0.4], qb = [0.2, -0.3, 0.1];
  const prefetch = [{ query: new Float32Array(qa), using: 'a', limit: 15 },
                    { query: qb, using: 'b', limit: 12, filter: { must: [{ key: 'n', range: { lt: 100 } }] } }];
  const out = {};
  out.rrf = (await c.query({ prefetch, query: { fusion: 'rrf' }, limit: 10 })).points.map((p) => [p.id, p.score]);
  const rescored = await c.query({ prefetch, query: qa, using: 'a', limit: 5, with_vector: ['b'] });
  out.rescored = rescored.points.map((p) => p.id);
  out.vectorIsFloat32 = rescored.points[0].vector.b instanceof Float32Array;
  out.ordered = (await c.query({ query: { order_by: { key: 'price', direction: 'desc' } }, limit: 6 })).points.map((p) => [p.id, p.order_value]);
  const groups = await c.queryGroups({ query: qa, using: 'a', group_by: 'grp', limit: 2, group_size: 2, with_lookup: 'info' });
  out.groups = groups.groups.map((g) => [g.id, g.hits.map((h) => h.id), g.lookup ? g.lookup.payload : null]);
  out.batch = (await c.queryBatch([{ limit: 2 }, { query: 3, using: 'b', limit: 1 }])).map((r) => r.points.map((p) => p.id));
  try { await c.query({ query: { fusion: 'rrf' } }); out.error = null; } catch (e) { out.error = [e.name, e.code, e.message]; }
  await db.close();
  return out;`;

function references() {
  const pts = new Function(points)();
  const cosine = (q, v) => {
    let qq = 0, vv = 0, qv = 0;
    for (let j = 0; j < q.length; j++) (qq += q[j] * q[j]), (vv += v[j] * v[j]), (qv += q[j] * v[j]);
    return qv / Math.sqrt(qq * vv);
  };
  const euclid = (q, v) => Math.hypot(...q.map((x, j) => x - v[j]));
  const nearest = (space, q, limit, keep = () => true) =>
    pts.filter(keep)
      .map((p) => ({ id: p.id, score: space === 'a' ? cosine(q, p.vector.a) : euclid(q, p.vector.b) }))
      .sort((x, y) => (space === 'a' ? y.score - x.score : x.score - y.score))
      .slice(0, limit);
  const qa = [0.5, -0.1, 0.3, 0.9, -0.4], qb = [0.2, -0.3, 0.1];
  const la = nearest('a', qa, 15), lb = nearest('b', qb, 12, (p) => p.payload.n < 100);
  const score = new Map();
  for (const list of [la, lb]) list.forEach((h, p) => score.set(h.id, Math.fround((score.get(h.id) ?? 0) + Math.fround(1 / (p + 2)))));
  const rrf = [...score].sort((x, y) => y[1] - x[1] || x[0] - y[0]).slice(0, 10);
  const union = new Set([...la, ...lb].map((h) => h.id));
  const rescored = nearest('a', qa, 5, (p) => union.has(p.id)).map((h) => h.id);
  const ordered = [...pts].sort((x, y) => y.payload.price - x.payload.price || y.id - x.id).slice(0, 6).map((p) => [p.id, p.payload.price]);
  const groups = new Map();
  for (const h of nearest('a', qa, 150)) {
    const g = pts[h.id - 1].payload.grp;
    if (!groups.has(g)) {
      if (groups.size === 2) continue;
      groups.set(g, []);
    }
    if (groups.get(g).length < 2) groups.get(g).push(h.id);
  }
  return {
    rrf, rescored, vectorIsFloat32: true, ordered,
    groups: [...groups].map(([g, hits]) => [g, hits, null]),
    batch: [[1, 2], [nearest('b', pts[2].vector.b, 1, (p) => p.id !== 3)[0].id]],
    error: ['QuiverError', 'InvalidArgument', "query.query: a fusion needs prefetches to fuse: give 'prefetch' with the queries whose results it fuses"],
  };
}

test('query API in Chromium: the browser build and quiverdb/worker', async () => {
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('[page error]', e.message));
  await page.goto(web.url);
  await page.waitForFunction(() => window.ready === true, null, { timeout: 20000 });
  const want = references();
  for (const api of ['quiver', 'worker']) {
    const got = await run(page, `query scenario (${api})`, scenario(api));
    assert.deepEqual(got.rrf.map((x) => x[0]), want.rrf.map((x) => x[0]), `${api}: rrf ids`);
    got.rrf.forEach((x, i) => assert.equal(Math.fround(x[1]), want.rrf[i][1], `${api}: rrf score ${i}`));
    assert.deepEqual(got.rescored, want.rescored, `${api}: rescored`);
    assert.equal(got.vectorIsFloat32, true, `${api}: vectors are Float32Array`);
    assert.deepEqual(got.ordered, want.ordered, `${api}: order_by`);
    assert.deepEqual(got.groups, want.groups, `${api}: groups`);
    assert.deepEqual(got.batch, want.batch, `${api}: batch`);
    assert.deepEqual(got.error, want.error, `${api}: error`);
  }
  await page.close();
});
