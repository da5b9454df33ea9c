// The Query API through the npm package (collection.query, queryBatch, queryGroups), against references computed
// here: exact nearest lists by brute force, the RRF formula, rescoring of the prefetched union, payload order and
// grouping written out in the test.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { open, QuiverError } from './quiver.mjs';

function rng(seed) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}

const N = 200;
const cosine = (q, v) => {
  let qq = 0, vv = 0, qv = 0;
  for (let j = 0; j < q.length; j++) (qq += q[j] * q[j]), (vv += v[j] * v[j]), (qv += q[j] * v[j]);
  return qv / Math.sqrt(qq * vv);
};
const euclid = (q, v) => Math.hypot(...q.map((x, j) => x - v[j]));

async function fixture() {
  const r = rng(7);
  const points = [];
  for (let i = 0; i < N; i++) {
    const a = Array.from({ length: 6 }, r);
    const b = Array.from({ length: 3 }, r);
    const payload = { n: i, grp: i % 4 === 0 ? 'even' : `g${i % 3}` };
    if (i % 5 !== 0) payload.price = (i * 37) % 101;
    points.push({ id: i + 1, vector: { a: new Float32Array(a), b }, payload });
  }
  const db = await open({ memory: true });
  const c = await db.createCollection('q', {
    vectors: { a: { size: 6, distance: 'Cosine' }, b: { size: 3, distance: 'Euclid' } },
  });
  await c.upsert(points);
  return { db, c, points };
}

// Exact nearest among points passing `keep` (and in `among`), best first.
function nearest(points, space, q, limit, keep = () => true, among = null) {
  const score = space === 'a' ? cosine : euclid;
  return points
    .filter((p) => keep(p) && (!among || among.has(p.id)))
    .map((p) => ({ id: p.id, score: score(q, Array.from(p.vector[space])) }))
    .sort((x, y) => (space === 'a' ? y.score - x.score : x.score - y.score))
    .slice(0, limit);
}

// RRF in float arithmetic, lists summed in order, ties by id.
function rrf(lists, k = 2, weights = null) {
  const score = new Map();
  lists.forEach((list, l) => {
    const w = weights ? weights[l] : 1;
    list.forEach((h, p) => {
      const s = Math.fround(1 / Math.fround(Math.fround(Math.fround((p + 1) / w) + k) - 1));
      score.set(h.id, Math.fround((score.get(h.id) ?? 0) + s));
    });
  });
  return [...score].map(([id, s]) => ({ id, score: s })).sort((x, y) => y.score - x.score || x.id - y.id);
}

const qa = [0.3, -0.2, 0.9, 0.1, -0.5, 0.4];
const qb = [0.1, 0.2, -0.3];
const ids = (list) => list.map((p) => p.id);

test('query: nearest, offset, filter, payloads and vectors', async () => {
  const { db, c, points } = await fixture();
  const got = c.query({ query: new Float32Array(qa), using: 'a', limit: 5, with_payload: ['n'], with_vector: ['b'] });
  const want = nearest(points, 'a', qa, 5);
  assert.deepEqual(ids(got.points), ids(want));
  got.points.forEach((p, i) => assert.ok(Math.abs(p.score - want[i].score) < 1e-5));
  assert.deepEqual(got.points[0].payload, { n: want[0].id - 1 });
  assert.ok(got.points[0].vector.b instanceof Float32Array);
  assert.equal(got.points[0].vector.b.length, 3);
  const below = (p) => p.payload.n < 80;
  const filtered = c.query({ query: { nearest: qb }, using: 'b', limit: 4, offset: 2, filter: { must: [{ key: 'n', range: { lt: 80 } }] } });
  assert.deepEqual(ids(filtered.points), ids(nearest(points, 'b', qb, 6, below).slice(2)));
  // Nearest by id leaves the point out.
  const byId = c.query({ query: 5, using: 'a', limit: 3 });
  assert.deepEqual(ids(byId.points), ids(nearest(points, 'a', Array.from(points[4].vector.a), 3, (p) => p.id !== 5)));
  // No query: id order, score 1.
  assert.deepEqual(c.query({ limit: 3 }).points, [{ id: 1, score: 1 }, { id: 2, score: 1 }, { id: 3, score: 1 }]);
  await db.close();
});

test('query: rrf of two prefetches equals the formula; rescoring equals exact scores of the union', async () => {
  const { db, c, points } = await fixture();
  const odd = (p) => p.payload.n % 2 === 1;
  const prefetch = [
    { query: qa, using: 'a', limit: 20 },
    { query: qb, using: 'b', limit: 15, filter: { must_not: [{ key: 'n', match: { any: points.filter((p) => !odd(p)).map((p) => p.payload.n) } }] } },
  ];
  const la = nearest(points, 'a', qa, 20);
  const lb = nearest(points, 'b', qb, 15, odd);
  const fused = c.query({ prefetch, query: { fusion: 'rrf' }, limit: 12 });
  const want = rrf([la, lb]).slice(0, 12);
  assert.deepEqual(ids(fused.points), ids(want));
  // Scores print as the shortest text that reads back as the same float32.
  fused.points.forEach((p, i) => assert.equal(Math.fround(p.score), want[i].score));
  const weighted = c.query({ prefetch, query: { rrf: { k: 5, weights: [2, 0.5] } }, limit: 40 });
  assert.deepEqual(ids(weighted.points), ids(rrf([la, lb], 5, [2, 0.5])));
  const union = new Set([...ids(la), ...ids(lb)]);
  const rescored = c.query({ prefetch, query: qb, using: 'b', limit: 7 });
  assert.deepEqual(ids(rescored.points), ids(nearest(points, 'b', qb, 7, () => true, union)));
  // Nested: the inner rrf's points rescored at the root.
  const inner = new Set(ids(rrf([la, lb]).slice(0, 10)));
  const nested = c.query({ prefetch: { prefetch, query: { fusion: 'rrf' }, limit: 10 }, query: qa, using: 'a', limit: 4 });
  assert.deepEqual(ids(nested.points), ids(nearest(points, 'a', qa, 4, () => true, inner)));
  // DBSF: every point of both lists once, best first.
  const dbsf = c.query({ prefetch, query: { fusion: 'dbsf' }, limit: 100 });
  assert.equal(dbsf.points.length, union.size);
  for (let i = 1; i < dbsf.points.length; i++) assert.ok(dbsf.points[i - 1].score >= dbsf.points[i].score);
  await db.close();
});

test('query: order_by, deletions, batch', async () => {
  const { db, c, points } = await fixture();
  await c.delete([2, 3, 4]);
  const live = points.filter((p) => ![2, 3, 4].includes(p.id));
  const byPrice = live
    .filter((p) => p.payload.price !== undefined && p.payload.price <= 50)
    .sort((x, y) => y.payload.price - x.payload.price || y.id - x.id);
  const ordered = c.query({ query: { order_by: { key: 'price', direction: 'desc', start_from: 50 } }, limit: 15 });
  assert.deepEqual(ids(ordered.points), ids(byPrice.slice(0, 15)));
  assert.deepEqual(ordered.points.map((p) => p.order_value), byPrice.slice(0, 15).map((p) => p.payload.price));
  const batch = c.queryBatch([{ query: qa, using: 'a', limit: 3 }, { limit: 2 }]);
  assert.deepEqual(ids(batch[0].points), ids(nearest(live, 'a', qa, 3)));
  assert.deepEqual(ids(batch[1].points), [1, 5]);
  assert.deepEqual(c.queryBatch({ searches: [{ limit: 1 }] }).map((r) => ids(r.points)), [[1]]);
  await db.close();
});

test('query: groups equal grouping the exact ranked list; with_lookup', async () => {
  const { db, c, points } = await fixture();
  const info = await db.createCollection('info', { vectors: { size: 2, distance: 'Dot' } });
  await info.upsert([{ id: 1, vector: [1, 0], payload: { name: 'one' } }]);
  const ranked = nearest(points, 'a', qa, N);
  const groups = new Map();
  for (const h of ranked) {
    const g = points[h.id - 1].payload.grp;
    if (!groups.has(g)) {
      if (groups.size === 3) continue;
      groups.set(g, []);
    }
    if (groups.get(g).length < 2) groups.get(g).push(h.id);
  }
  const got = c.queryGroups({ query: qa, using: 'a', group_by: 'grp', limit: 3, group_size: 2, with_vector: ['a'] });
  assert.deepEqual(got.groups.map((g) => [g.id, ids(g.hits)]), [...groups]);
  assert.ok(got.groups[0].hits[0].vector.a instanceof Float32Array);
  const looked = c.queryGroups({ query: { order_by: 'n' }, group_by: 'n', limit: 2, group_size: 1, with_lookup: { collection: 'info', with_vectors: true } });
  assert.deepEqual(looked.groups.map((g) => g.id), [0, 1]);
  assert.equal(looked.groups[0].lookup, undefined);
  assert.deepEqual(looked.groups[1].lookup.payload, { name: 'one' });
  assert.ok(looked.groups[1].lookup.vector instanceof Float32Array);
  await db.close();
});

test('query: bad input throws QuiverError naming the part', async () => {
  const { db, c } = await fixture();
  const fails = (request, code, message, kind = 'query') => {
    assert.throws(() => c[kind](request), (e) => e instanceof QuiverError && e.code === code && e.message.includes(message));
  };
  fails({ query: { fusion: 'rrf' } }, 'InvalidArgument', 'query.query: a fusion needs prefetches to fuse');
  fails({ query: qa, using: 'zz' }, 'InvalidArgument', "query.using: collection q has no vector named 'zz'");
  fails({ query: qa, using: 'a', limit: -1 }, 'InvalidArgument', 'query.limit: expected an integer from 1 to 1000000');
  fails({ query: qa, using: 'a', limit: 1e12 }, 'InvalidArgument', 'query.limit');
  fails({ prefetch: [{ query: qa, using: 'a' }, { query: [1, 2], using: 'nope' }], query: { fusion: 'rrf' } }, 'InvalidArgument',
    "query.prefetch[1].using: collection q has no vector named 'nope'");
  fails({ query: { indices: [1, 4], values: [0.5, 0.1] }, using: 'sparse' }, 'NotSupported', 'sparse vectors');
  fails({ query: { text: 'red shoes', model: 'qdrant/bm25' }, using: 'bm25' }, 'NotSupported', 'documents');
  fails({ group_by: 'grp', group_size: 0 }, 'InvalidArgument', 'query_groups.group_size', 'queryGroups');
  fails({ searches: [{ limit: 1 }, { query: { fusion: 'dbsf' } }] }, 'InvalidArgument', 'query_batch.searches[1].query', 'queryBatch');
  fails({ query: 99999, using: 'a' }, 'NotFound', 'no point with id 99999');
  await db.close();
  assert.throws(() => c.query({}), (e) => e.code === 'FailedPrecondition');
});
