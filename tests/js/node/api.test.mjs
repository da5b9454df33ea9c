// The whole JS API on an in-memory database: collections, aliases, upsert (objects, Qdrant bodies, the dense
// batch form), get, delete, payload operations, search, search batch, recommend, scroll, count, payload indexes,
// snapshots, info and stats.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { open, QuiverError } from './quiver.mjs';

const uuid = '550e8400-e29b-41d4-a716-446655440000';

function rng(seed) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}

async function fixture() {
  const db = await open({ memory: true });
  const c = await db.createCollection('docs', { vectors: { size: 4, distance: 'Cosine' } });
  await c.upsert([
    { id: 1, vector: new Float32Array([1, 0, 0, 0]), payload: { city: 'Paris', year: 1990, tags: ['a'] } },
    { id: 2, vector: [0, 1, 0, 0], payload: { city: 'Berlin', year: 2000 } },
    { id: 3, vector: [0.9, 0.1, 0, 0], payload: { city: 'Paris', year: 2010 } },
    { id: uuid, vector: [0, 0, 1, 0], payload: { city: 'Rome' } },
  ]);
  return { db, c };
}

test('collections: create, list, exists, get, aliases, delete', async () => {
  const db = await open({ memory: true });
  assert.deepEqual(db.listCollections(), []);
  await db.createCollection('a', { vectors: { size: 3, distance: 'Dot' } });
  await db.createCollection('b', { vectors: { text: { size: 8, distance: 'Cosine' }, image: { size: 2, distance: 'Euclid' } } });
  assert.deepEqual(db.listCollections().sort(), ['a', 'b']);
  assert.equal(db.collectionExists('a'), true);
  assert.equal(db.collectionExists('zz'), false);
  const info = db.collection('b').info();
  assert.equal(info.config.params.vectors.text.size, 8);
  assert.equal(info.points_count, 0);
  await db.createAlias('main', 'a');
  assert.deepEqual(db.listAliases(), [{ alias_name: 'main', collection_name: 'a' }]);
  assert.equal(db.collection('main').info().config.params.vectors.size, 3);
  await db.deleteAlias('main');
  await assert.rejects(db.createCollection('a', { vectors: { size: 3, distance: 'Dot' } }), { code: 'AlreadyExists' });
  await db.deleteCollection('a');
  assert.deepEqual(db.listCollections(), ['b']);
  assert.throws(() => db.collection('a'), (e) => e instanceof QuiverError && e.code === 'NotFound' && e.status === 2);
  assert.match(db.replicaId, /^\d+$/);
  assert.equal(db.simd, 'wasm-simd128');
  await db.close();
});

test('memoryUsage: the WebAssembly memory grows with the data and never shrinks', async () => {
  const db = await open({ memory: true });
  const before = db.memoryUsage().wasm_bytes;
  assert.ok(before > 0 && before % 65536 === 0, String(before));  // whole WebAssembly pages
  const c = await db.createCollection('big', { vectors: { size: 256, distance: 'Dot' } });
  const n = 20000;  // 20 MB of floats: more than a module starts with
  const next = rng(7);
  await c.upsertDense({ ids: Array.from({ length: n }, (_, i) => i), vectors: Float32Array.from({ length: n * 256 }, next) });
  const grown = db.memoryUsage().wasm_bytes;
  assert.ok(grown > before + (n * 256 * 4) / 2, `${before} -> ${grown}`);
  await db.deleteCollection('big');
  assert.equal(db.memoryUsage().wasm_bytes, grown);
  await db.close();
});

test('upsert and get: Float32Array and number[] vectors, payloads, UUID and bigint ids', async () => {
  const { db, c } = await fixture();
  const big = 2n ** 60n + 7n;
  await c.upsert({ points: [{ id: big, vector: [1, 1, 1, 1], payload: { n: 1 } }] });
  const got = c.get({ ids: [3, uuid, big, 99], with_payload: true, with_vector: true });
  assert.deepEqual(got.map((p) => p.id), [3, uuid, big]);
  assert.ok(got[0].vector instanceof Float32Array);
  assert.equal(got[0].vector.length, 4);
  assert.ok(Math.abs(got[0].vector[0] - 0.9 / Math.hypot(0.9, 0.1)) < 1e-6, 'cosine vectors come back normalised');
  assert.deepEqual(got[1].payload, { city: 'Rome' });
  assert.deepEqual(c.get([1])[0].payload, { city: 'Paris', year: 1990, tags: ['a'] });
  assert.equal(c.get({ ids: [1], with_payload: false })[0].payload, undefined);
  // Qdrant's batch body.
  await c.upsert({ batch: { ids: [10, 11], vectors: [[1, 2, 3, 4], [4, 3, 2, 1]], payloads: [{ k: 1 }, { k: 2 }] } });
  assert.deepEqual(c.get([11])[0].payload, { k: 2 });
  // Replacing a point replaces its payload.
  await c.upsert([{ id: 10, vector: [1, 2, 3, 4] }]);
  assert.deepEqual(c.get([10])[0].payload, {});
  assert.equal(c.count().count, 7);
  await db.close();
});

test('upsertDense: one Float32Array for many points, with and without payloads, named vectors', async () => {
  const db = await open({ memory: true });
  const c = await db.createCollection('v', { vectors: { size: 8, distance: 'Euclid' } });
  const n = 500;
  const r = rng(7);
  const vectors = new Float32Array(n * 8).map(() => r());
  await c.upsertDense({ ids: Array.from({ length: n }, (_, i) => i), vectors });
  assert.equal(c.count().count, n);
  const hit = c.search({ vector: vectors.subarray(8 * 123, 8 * 124), limit: 1 });
  assert.equal(hit[0].id, 123);
  assert.ok(hit[0].score < 1e-5);
  await c.upsertDense({ ids: [1000, 1001], vectors: vectors.slice(0, 16), payloads: [{ a: 1 }, null] });
  assert.deepEqual(c.get([1000, 1001]).map((p) => p.payload), [{ a: 1 }, {}]);
  const m = await db.createCollection('m', { vectors: { t: { size: 2, distance: 'Dot' }, u: { size: 3, distance: 'Dot' } } });
  await m.upsertDense({ ids: [1, 2], vectors: new Float32Array([1, 0, 0, 1]), using: 't' });
  assert.equal(m.search({ vector: { name: 't', vector: [0, 1] }, limit: 1 })[0].id, 2);
  await assert.rejects(m.upsertDense({ ids: [1], vectors: new Float32Array([1, 0]), using: 'nope' }), { code: 'InvalidArgument' });
  // Named vectors through the object form.
  await m.upsert([{ id: 3, vector: { t: new Float32Array([2, 2]), u: [1, 2, 3] } }]);
  const rec = m.get({ ids: [3], with_vector: true })[0];
  assert.ok(rec.vector.t instanceof Float32Array && rec.vector.u instanceof Float32Array);
  assert.deepEqual(Array.from(rec.vector.u), [1, 2, 3]);
  await db.close();
});

test('search: filters, limit/offset, with_payload/with_vector, score_threshold, params, exact = hnsw', async () => {
  const { db, c } = await fixture();
  const res = c.search({ vector: [1, 0, 0, 0], limit: 2, with_payload: true });
  assert.deepEqual(res.map((p) => p.id), [1, 3]);
  assert.ok(res[0].score > res[1].score);
  assert.equal(res[0].payload.city, 'Paris');
  assert.equal(res[0].vector, undefined);
  const filtered = c.search({
    vector: [1, 0, 0, 0],
    filter: { must: [{ key: 'city', match: { value: 'Paris' } }], must_not: [{ key: 'year', range: { lt: 2000 } }] },
    limit: 10,
  });
  assert.deepEqual(filtered.map((p) => p.id), [3]);
  assert.deepEqual(c.search({ vector: [1, 0, 0, 0], limit: 1, offset: 1 }).map((p) => p.id), [3]);
  assert.deepEqual(c.search({ vector: [1, 0, 0, 0], score_threshold: 0.5 }).map((p) => p.id), [1, 3]);
  const withVec = c.search({ vector: [0, 0, 1, 0], limit: 1, with_vector: true, with_payload: ['city'] });
  assert.equal(withVec[0].id, uuid);
  assert.ok(withVec[0].vector instanceof Float32Array);
  assert.deepEqual(withVec[0].payload, { city: 'Rome' });
  const exact = c.search({ vector: [0.5, 0.5, 0, 0], limit: 4, params: { exact: true } });
  const approx = c.search({ vector: [0.5, 0.5, 0, 0], limit: 4, params: { hnsw_ef: 64 } });
  assert.deepEqual(approx.map((p) => p.id), exact.map((p) => p.id));
  // The same options in a loop reuse the parsed request; new options are parsed again.
  for (let i = 0; i < 3; i++) assert.equal(c.search({ vector: [0, 1, 0, 0], limit: 1 })[0].id, 2);
  assert.equal(c.search({ vector: [0, 1, 0, 0], limit: 1, filter: { must: [{ key: 'city', match: { value: 'Rome' } }] } })[0].id, uuid);
  await db.close();
});

test('search batch and recommend', async () => {
  const { db, c } = await fixture();
  const batch = c.searchBatch([
    { vector: new Float32Array([1, 0, 0, 0]), limit: 1, with_vector: true },
    { vector: [0, 1, 0, 0], limit: 2, filter: { must: [{ key: 'city', match: { any: ['Berlin', 'Rome'] } }] } },
  ]);
  assert.equal(batch.length, 2);
  assert.equal(batch[0][0].id, 1);
  assert.ok(batch[0][0].vector instanceof Float32Array);
  assert.deepEqual(batch[1].map((p) => p.id).sort(), [2, uuid].sort());
  assert.equal(c.searchBatch({ searches: [{ vector: [0, 0, 1, 0], limit: 1 }] })[0][0].id, uuid);
  const rec = c.recommend({ positive: [1], limit: 2 });
  assert.equal(rec[0].id, 3, 'the nearest to the positive example, which is itself left out');
  assert.ok(!rec.some((p) => p.id === 1));
  const byVector = c.recommend({ positive: [new Float32Array([0, 1, 0, 0])], negative: [1], limit: 1 });
  assert.equal(byVector[0].id, 2);
  await db.close();
});

test('delete by ids and by filter; payload set / overwrite / delete keys / clear', async () => {
  const { db, c } = await fixture();
  assert.equal(await c.setPayload({ payload: { stars: 5 }, points: [1, 2] }), 2);
  assert.deepEqual(c.get([1])[0].payload, { city: 'Paris', year: 1990, tags: ['a'], stars: 5 });
  assert.equal(await c.setPayload({ payload: { checked: true }, filter: { must: [{ key: 'city', match: { value: 'Paris' } }] } }), 2);
  assert.equal(c.count({ filter: { must: [{ key: 'checked', match: { value: true } }] } }).count, 2);
  assert.equal(await c.overwritePayload({ payload: { only: 1 }, points: [2] }), 1);
  assert.deepEqual(c.get([2])[0].payload, { only: 1 });
  assert.equal(await c.deletePayloadKeys({ keys: ['stars', 'tags'], points: [1] }), 1);
  assert.deepEqual(c.get([1])[0].payload, { city: 'Paris', year: 1990, checked: true });
  assert.equal(await c.clearPayload([1]), 1);
  assert.deepEqual(c.get([1])[0].payload, {});
  await assert.rejects(c.setPayload({ payload: { a: 1 }, points: [404] }), { code: 'NotFound' });
  assert.equal(await c.delete([2, 404]), 1);
  assert.equal(await c.delete({ filter: { must: [{ key: 'city', match: { value: 'Paris' } }] } }), 1);
  assert.deepEqual(c.scroll().points.map((p) => p.id), [1, uuid]);
  assert.equal(await c.delete({ points: [uuid] }), 1);
  assert.equal(c.count().count, 1);
  await db.close();
});

test('scroll pages in id order; count with filters', async () => {
  const db = await open({ memory: true });
  const c = await db.createCollection('s', { vectors: { size: 2, distance: 'Dot' } });
  await c.upsertDense({
    ids: Array.from({ length: 25 }, (_, i) => 100 - i),
    vectors: new Float32Array(50).fill(1),
    payloads: Array.from({ length: 25 }, (_, i) => ({ even: i % 2 === 0 })),
  });
  const seen = [];
  let offset = null;
  do {
    const page = c.scroll({ limit: 10, offset, with_payload: false });
    seen.push(...page.points.map((p) => p.id));
    offset = page.next_page_offset;
  } while (offset !== null);
  assert.deepEqual(seen, Array.from({ length: 25 }, (_, i) => 76 + i));
  assert.equal(c.count({ filter: { must: [{ key: 'even', match: { value: true } }] }, exact: true }).count, 13);
  const withVectors = c.scroll({ limit: 2, with_vector: true });
  assert.ok(withVectors.points.every((p) => p.vector instanceof Float32Array && p.vector.length === 2));
  await db.close();
});

test('payload indexes change speed, not results; info lists them', async () => {
  const db = await open({ memory: true });
  const c = await db.createCollection('p', { vectors: { size: 8, distance: 'Cosine' } });
  const r = rng(3);
  const n = 2000;
  await c.upsertDense({
    ids: Array.from({ length: n }, (_, i) => i),
    vectors: new Float32Array(n * 8).map(() => r()),
    payloads: Array.from({ length: n }, (_, i) => ({ color: ['red', 'green', 'blue'][i % 3], n: i })),
  });
  const filter = { must: [{ key: 'color', match: { value: 'green' } }, { key: 'n', range: { gte: 500, lt: 1500 } }] };
  const q = new Float32Array(8).map(() => r());
  const before = c.search({ vector: q, filter, limit: 10, params: { exact: true } });
  await c.createPayloadIndex({ field_name: 'color', field_schema: 'keyword' });
  await c.createPayloadIndex({ field_name: 'n', field_schema: { type: 'integer' } });
  const schema = c.info().payload_schema;
  assert.ok(schema.color && schema.n);
  assert.deepEqual(c.search({ vector: q, filter, limit: 10, params: { exact: true } }).map((p) => p.id), before.map((p) => p.id));
  assert.equal(c.count({ filter }).count, 333);
  await c.deletePayloadIndex('n');
  assert.equal(c.info().payload_schema.n, undefined);
  await c.optimize();
  assert.deepEqual(c.verify(), []);
  const stats = c.stats();
  assert.equal(stats.simd, 'wasm-simd128');
  await db.close();
});

test('snapshot: export to Uint8Array and restore under a new name, same state and same bytes', async () => {
  const { db, c } = await fixture();
  const snap = await c.createSnapshot();
  assert.ok(snap instanceof Uint8Array && snap.length > 0);
  const copy = await db.restoreSnapshot('copy', snap);
  assert.equal(copy.count().count, 4);
  assert.deepEqual(copy.get([1])[0].payload, c.get([1])[0].payload);
  // The snapshot names its collection: restored under the same name elsewhere, it exports the same bytes.
  const other = await open({ memory: true });
  const same = await other.restoreSnapshot('docs', snap);
  assert.deepEqual(Buffer.from(await same.createSnapshot()), Buffer.from(snap));
  await other.close();
  await assert.rejects(db.restoreSnapshot('copy', snap), { code: 'AlreadyExists' });
  const bad = snap.slice(0, snap.length - 5);
  await assert.rejects(db.restoreSnapshot('broken', bad), { code: 'Corruption' });
  await db.close();
});

test('scalar quantization: config in info, rescored scores, params.quantization', async () => {
  const db = await open({ memory: true });
  const dim = 24;
  const config = (quantized) => ({
    vectors: { size: dim, distance: 'Euclid' },
    hnsw_config: { full_scan_threshold: 0 },
    ...(quantized ? { quantization_config: { scalar: { type: 'int8', quantile: 0.99 } } } : {}),
  });
  const plain = await db.createCollection('plain', config(false));
  const sq = await db.createCollection('sq', config(true));
  const info = sq.info();
  assert.deepEqual(info.config.quantization_config, { scalar: { type: 'int8', quantile: 0.99, always_ram: true } });
  assert.equal(plain.info().config.quantization_config, null);
  const next = rng(5);
  const n = 2000;
  const vectors = new Float32Array(n * dim).map(() => next());
  const ids = Array.from({ length: n }, (_, i) => i);
  await plain.upsertDense({ ids, vectors });
  await sq.upsertDense({ ids, vectors });
  await sq.optimize();
  assert.ok(sq.stats().memory_bytes > plain.stats().memory_bytes + (n * dim) / 2, 'the codes take memory');
  let hits = 0;
  let differ = 0;
  for (let q = 0; q < 20; q++) {
    const vector = vectors.subarray(q * 7 * dim, (q * 7 + 1) * dim).map((x) => x + 0.05 * next());
    const truth = plain.search({ vector, limit: 10, params: { exact: true } });
    const got = sq.search({ vector, limit: 10, params: { hnsw_ef: 100 } });
    const want = new Set(truth.map((p) => p.id));
    hits += got.filter((p) => want.has(p.id)).length;
    // Rescored scores are the float distances of the same points.
    const exactScores = new Map(plain.search({ vector, limit: 200, params: { exact: true } }).map((p) => [p.id, p.score]));
    for (const p of got) if (exactScores.has(p.id)) assert.ok(Math.abs(exactScores.get(p.id) - p.score) < 1e-4);
    const ignored = sq.search({ vector, limit: 10, params: { hnsw_ef: 100, quantization: { ignore: true } } });
    assert.deepEqual(ignored.map((p) => p.id), plain.search({ vector, limit: 10, params: { hnsw_ef: 100 } }).map((p) => p.id));
    const raw = sq.search({ vector, limit: 10, params: { hnsw_ef: 100, quantization: { rescore: false, oversampling: 2 } } });
    differ += raw.filter((p, i) => got[i] && p.score !== got[i].score).length;
  }
  assert.ok(hits / 200 >= 0.95, `recall ${hits / 200}`);
  assert.ok(differ > 0, 'unrescored scores are the codes\' estimates');
  assert.throws(() => sq.search({ vector: vectors.subarray(0, dim), params: { quantization: { oversampling: 0 } } }),
    (e) => e instanceof QuiverError && e.code === 'InvalidArgument' && /params\.quantization\.oversampling/.test(e.message));
  await assert.rejects(db.createCollection('bad', { vectors: { size: 2, distance: 'Dot' }, quantization_config: { binary: {} } }),
    (e) => e instanceof QuiverError && e.code === 'InvalidArgument' && /only scalar quantization/.test(e.message));
  await db.close();
});

test('vectors in results survive memory growth (they are copies, not views into the heap)', async () => {
  const db = await open({ memory: true });
  const c = await db.createCollection('g', { vectors: { size: 256, distance: 'Dot' } });
  await c.upsert([{ id: 1, vector: new Float32Array(256).fill(0.5) }]);
  const [p] = c.get({ ids: [1], with_vector: true });
  // Grow the module's memory.
  await c.upsertDense({ ids: Array.from({ length: 20000 }, (_, i) => i + 2), vectors: new Float32Array(20000 * 256).fill(1) });
  assert.equal(p.vector.length, 256);
  assert.equal(p.vector[255], 0.5);
  await db.close();
});
