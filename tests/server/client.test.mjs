// The official Qdrant JS client (@qdrant/js-client-rest 1.18, unchanged) against quiverd: every method Quiver
// supports, success and error paths, and no compatibility warning.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { QdrantClient } from '@qdrant/js-client-rest';

import { startServer, vec } from './quiverd.mjs';

let s;
let client;
const warnings = [];
const originalWarn = console.warn;

before(async () => {
  s = await startServer({ tag: 'client' });
  console.warn = (...args) => warnings.push(args.join(' '));
  client = new QdrantClient({ url: s.url });
  await new Promise((r) => setTimeout(r, 200));  // the constructor's version check runs in the background
});
after(async () => {
  console.warn = originalWarn;
  const exit = await s.stop();
  assert.equal(exit.code, 0, s.stderr);
});

// Runs `call`, expecting the client to throw an ApiError with HTTP `status`; returns Qdrant's error message.
async function rejects(call, status, pattern) {
  try {
    await call();
  } catch (e) {
    assert.equal(e.status, status, `expected ${status}, got ${e.status}: ${e.message}`);
    const message = e.data?.status?.error;
    assert.equal(typeof message, 'string', `no Qdrant error body: ${JSON.stringify(e.data)}`);
    if (pattern) assert.match(message, pattern);
    return message;
  }
  assert.fail(`expected an error with status ${status}`);
}

const points = (n, from = 1) =>
  Array.from({ length: n }, (_, i) => ({ id: from + i, vector: vec(from + i), payload: { n: from + i, group: (from + i) % 3 } }));

describe('the client', () => {
  test('versionInfo and the compatibility check pass', async () => {
    const v = await client.versionInfo();
    assert.equal(v.version, '1.18.3');
    assert.deepEqual(warnings, []);
  });

  test('collections: create, exists, get, list, update, recreate, delete', async () => {
    assert.equal(await client.createCollection('c', { vectors: { size: 4, distance: 'Cosine' }, hnsw_config: { m: 16, ef_construct: 64 }, optimizers_config: { default_segment_number: 2 }, shard_number: 1 }), true);
    assert.deepEqual(await client.collectionExists('c'), { exists: true });
    assert.deepEqual(await client.collectionExists('zzz'), { exists: false });
    const info = await client.getCollection('c');
    assert.equal(info.config.params.vectors.size, 4);
    assert.ok((await client.getCollections()).collections.some((x) => x.name === 'c'));
    assert.equal(await client.updateCollection('c', { hnsw_config: { ef_construct: 80 } }), true);
    assert.equal(await client.recreateCollection('r', { vectors: { size: 2, distance: 'Dot' } }), true);
    assert.equal(await client.recreateCollection('r', { vectors: { size: 2, distance: 'Dot' } }), true);
    assert.equal(await client.deleteCollection('r'), true);
    await rejects(() => client.getCollection('zzz'), 404, /zzz/);
    await rejects(() => client.createCollection('c', { vectors: { size: 4, distance: 'Cosine' } }), 409);
    assert.equal(await client.createCollection('sp', { vectors: { size: 4, distance: 'Cosine' }, sparse_vectors: { s: { modifier: 'idf' } } }), true);
    assert.equal((await client.getCollection('sp')).config.params.sparse_vectors.s.modifier, 'idf');
    await client.upsert('sp', { wait: true, points: [{ id: 1, vector: { s: { indices: [7, 2], values: [0.5, 1] } } }] });
    const [sp] = await client.retrieve('sp', { ids: [1], with_vector: true });
    assert.deepEqual(sp.vector.s, { indices: [2, 7], values: [1, 0.5] });
    await rejects(() => client.upsert('sp', { wait: true, points: [{ id: 2, vector: { s: { indices: [1, 1], values: [1, 2] } } }] }), 400, /duplicate|twice/i);
    await rejects(() => client.createCollection('bad', { vectors: { size: 4, distance: 'Cosine' }, sparse_vectors: { s: { modifier: 'tfidf' } } }), 400, /modifier/);
    assert.equal(await client.deleteCollection('sp'), true);
    assert.equal(await client.deleteCollection('zzz'), false);
  });

  test('points: upsert (list and batch forms), retrieve, count, scroll', async () => {
    const r = await client.upsert('c', { wait: true, points: points(30) });
    assert.equal(r.status, 'completed');
    await client.upsert('c', { batch: { ids: [31, 32], vectors: [vec(31), vec(32)], payloads: [{ n: 31 }, { n: 32 }] } });
    assert.deepEqual(await client.count('c', { exact: true }), { count: 32 });
    const got = await client.retrieve('c', { ids: [3, 31], with_vector: true });
    assert.deepEqual(got.map((p) => p.id), [3, 31]);
    assert.equal(got[0].vector.length, 4);
    const page = await client.scroll('c', { limit: 10, filter: { must: [{ key: 'group', match: { value: 0 } }] } });
    assert.equal(page.points.length, 10);
    assert.ok(page.points.every((p) => p.payload.group === 0));
    await rejects(() => client.upsert('c', { points: [{ id: 1, vector: [1, 2] }] }), 400);
    await rejects(() => client.upsert('zzz', { points: points(1) }), 404);
    await rejects(() => client.scroll('c', { filter: { must: [{ key: 'group', bogus: 1 }] } }), 400);
  });

  test('search, searchBatch, recommend, recommendBatch', async () => {
    const hits = await client.search('c', { vector: vec(7), limit: 3, with_payload: true, params: { hnsw_ef: 64 } });
    assert.equal(hits[0].id, 7);
    assert.equal(hits[0].payload.n, 7);
    const batch = await client.searchBatch('c', { searches: [{ vector: vec(1), limit: 1 }, { vector: vec(2), limit: 2, filter: { must: [{ key: 'n', range: { gt: 10 } }] } }] });
    assert.equal(batch[0][0].id, 1);
    assert.ok(batch[1].every((h) => h.id > 10));
    const rec = await client.recommend('c', { positive: [5], negative: [6], limit: 4 });
    assert.equal(rec.length, 4);
    const recs = await client.recommendBatch('c', { searches: [{ positive: [5], limit: 2 }, { positive: [8], limit: 1 }] });
    assert.deepEqual(recs.map((x) => x.length), [2, 1]);
    await rejects(() => client.search('c', { vector: [1, 2, 3], limit: 3 }), 400);
    await rejects(() => client.recommend('c', { positive: [99999], limit: 2 }), 404);
  });

  test('query, queryBatch, queryGroups: dense, hybrid RRF with a BM25 document, groups', async () => {
    const near = await client.query('c', { query: vec(7), limit: 3, with_payload: true });
    assert.equal(near.points[0].id, 7);
    assert.equal(near.points[0].payload.n, 7);
    const byId = await client.query('c', { query: 7, limit: 2 });
    assert.ok(byId.points.every((p) => p.id !== 7));
    const fused = await client.query('c', {
      prefetch: [{ query: vec(3), limit: 5 }, { query: vec(4), limit: 5 }],
      query: { fusion: 'rrf' }, limit: 4,
    });
    assert.equal(fused.points.length, 4);
    assert.ok(fused.points.some((p) => p.id === 3) && fused.points.some((p) => p.id === 4));
    const batch = await client.queryBatch('c', { searches: [{ query: vec(1), limit: 1 }, { query: { order_by: { key: 'n', direction: 'desc' } }, limit: 2 }] });
    assert.equal(batch[0].points[0].id, 1);
    assert.deepEqual(batch[1].points.map((p) => p.order_value), [32, 31]);
    const groups = await client.queryGroups('c', { query: vec(9), group_by: 'group', group_size: 2, limit: 3 });
    assert.equal(groups.groups.length, 3);
    assert.ok(groups.groups.every((g) => g.hits.length === 2 && g.hits.every((h) => h.id % 3 === g.id)));

    // Hybrid search: a dense vector and BM25 documents, fused.
    await client.createCollection('docs', { vectors: { d: { size: 4, distance: 'Cosine' } }, sparse_vectors: { text: { modifier: 'idf' } } });
    const texts = ['red running shoes', 'blue garden hose', 'running in the rain', 'red garden gloves'];
    await client.upsert('docs', { wait: true, points: texts.map((t, i) => ({ id: i + 1, vector: { d: vec(i + 1), text: { text: t, model: 'qdrant/bm25' } }, payload: { t } })) });
    const words = await client.query('docs', { query: { text: 'running', model: 'qdrant/bm25' }, using: 'text', limit: 10 });
    assert.deepEqual(words.points.map((p) => p.id).sort(), [1, 3]);
    const hybrid = await client.query('docs', {
      prefetch: [{ query: vec(2), using: 'd', limit: 2 }, { query: { text: 'garden', model: 'qdrant/bm25' }, using: 'text', limit: 2 }],
      query: { fusion: 'rrf' }, limit: 3, with_payload: true,
    });
    assert.equal(hybrid.points[0].id, 2);  // first in both lists
    await rejects(() => client.query('docs', { query: [1, 2, 3, 4], using: 'text' }), 400, /sparse/);
    await rejects(() => client.query('docs', { query: { fusion: 'rrf' } }), 400, /prefetch/);
    assert.equal(await client.deleteCollection('docs'), true);
  });

  test('payloads: set, overwrite, delete, clear', async () => {
    await client.setPayload('c', { payload: { colour: 'red' }, points: [1, 2] });
    await client.overwritePayload('c', { payload: { only: 1 }, points: [2] });
    await client.deletePayload('c', { keys: ['colour'], points: [1] });
    await client.clearPayload('c', { points: [3] });
    const [p1, p2, p3] = await client.retrieve('c', { ids: [1, 2, 3] });
    assert.equal(p1.payload.colour, undefined);
    assert.deepEqual(p2.payload, { only: 1 });
    assert.deepEqual(p3.payload, {});
    await client.setPayload('c', { payload: { flagged: true }, filter: { must: [{ key: 'n', range: { gte: 29 } }] } });
    assert.deepEqual(await client.count('c', { filter: { must: [{ key: 'flagged', match: { value: true } }] } }), { count: 4 });
    await rejects(() => client.setPayload('c', { payload: { a: 1 }, points: [424242] }), 404);
  });

  test('delete points and batchUpdate', async () => {
    const r = await client.delete('c', { points: [31, 32] });
    assert.equal(r.status, 'completed');
    await client.delete('c', { filter: { must: [{ key: 'n', range: { gte: 29 } }] } });
    const results = await client.batchUpdate('c', {
      operations: [{ upsert: { points: points(2, 200) } }, { delete: { points: [200] } }, { overwrite_payload: { payload: { b: 1 }, points: [201] } }],
    });
    assert.equal(results.length, 3);
    assert.deepEqual(await client.count('c'), { count: 29 });
    await rejects(() => client.batchUpdate('c', { operations: [{ nonsense: {} }] }), 400, /nonsense/);
  });

  test('aliases: update, list, list by collection', async () => {
    assert.equal(await client.updateCollectionAliases({ actions: [{ create_alias: { collection_name: 'c', alias_name: 'ca' } }] }), true);
    assert.deepEqual(await client.getAliases(), { aliases: [{ alias_name: 'ca', collection_name: 'c' }] });
    assert.deepEqual(await client.getCollectionAliases('c'), { aliases: [{ alias_name: 'ca', collection_name: 'c' }] });
    assert.equal((await client.search('ca', { vector: vec(4), limit: 1 }))[0].id, 4);
    await client.updateCollectionAliases({ actions: [{ delete_alias: { alias_name: 'ca' } }] });
    await rejects(() => client.updateCollectionAliases({ actions: [{ delete_alias: { alias_name: 'ca' } }] }), 404);
  });

  test('payload indexes', async () => {
    const r = await client.createPayloadIndex('c', { field_name: 'group', field_schema: 'integer', wait: true });
    assert.equal(r.status, 'completed');
    assert.ok('group' in (await client.getCollection('c')).payload_schema);
    await client.deletePayloadIndex('c', 'group');
    await rejects(() => client.createPayloadIndex('c', { field_name: 'group', field_schema: 'shape' }), 400);
  });

  test('snapshots: create, list, recover from file://, delete', async () => {
    const snap = await client.createSnapshot('c');
    assert.match(snap.name, /^c-.*\.snapshot$/);
    assert.match(snap.checksum, /^[0-9a-f]{64}$/);
    const list = await client.listSnapshots('c');
    assert.deepEqual(list.map((x) => x.name), [snap.name]);
    const location = `file://${s.data}/snapshots/c/${snap.name}`;
    assert.equal(await client.recoverSnapshot('restored', { location, checksum: snap.checksum }), true);
    assert.deepEqual(await client.count('restored'), await client.count('c'));
    await rejects(() => client.recoverSnapshot('x', { location: 'https://example.invalid/s.snapshot' }), 400, /upload/);
    await rejects(() => client.recoverSnapshot('x', { location: 'file:///etc/passwd' }), 400, /snapshots folder/);
    await rejects(() => client.recoverSnapshot('x', { location, checksum: '00'.repeat(32) }), 400, /checksum/);
    assert.equal(await client.deleteSnapshot('c', snap.name), true);
    assert.deepEqual(await client.listSnapshots('c'), []);
    await rejects(() => client.deleteSnapshot('c', snap.name), 404);
    await rejects(() => client.createSnapshot('zzz'), 404);
  });
});
