// Every endpoint over plain HTTP: Qdrant's paths, envelope, error body and status codes, success and error paths.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { startServer, vec } from './quiverd.mjs';

let s;
before(async () => {
  s = await startServer({ tag: 'http' });
});
after(async () => {
  const exit = await s.stop();
  assert.equal(exit.code, 0, `quiverd exited with ${JSON.stringify(exit)}: ${s.stderr}`);
});

// Asserts Qdrant's success envelope and returns its result.
async function ok(method, path, body) {
  const r = await s.request(method, path, body);
  assert.equal(r.status, 200, `${method} ${path}: ${r.text}`);
  assert.equal(r.json.status, 'ok');
  assert.equal(typeof r.json.time, 'number');
  return r.json.result;
}

// Asserts Qdrant's error body and status; returns the message.
async function fails(method, path, body, status, pattern) {
  const r = await s.request(method, path, body);
  assert.equal(r.status, status, `${method} ${path}: expected ${status}, got ${r.status} ${r.text}`);
  assert.equal(typeof r.json?.status?.error, 'string', `error body: ${r.text}`);
  assert.equal(typeof r.json.time, 'number');
  if (pattern) assert.match(r.json.status.error, pattern);
  return r.json.status.error;
}

const points = (n, from = 1) =>
  Array.from({ length: n }, (_, i) => ({ id: from + i, vector: vec(from + i), payload: { n: from + i, city: (from + i) % 2 ? 'Oslo' : 'Rome' } }));

describe('service endpoints', () => {
  test('GET / answers in Qdrant\'s shape with the API version and Quiver\'s', async () => {
    const r = await s.request('GET', '/');
    assert.equal(r.status, 200);
    assert.equal(r.json.version, '1.18.3');
    assert.match(r.json.quiver_version, /^\d+\.\d+\.\d+$/);
    assert.equal(typeof r.json.title, 'string');
  });
  test('health checks', async () => {
    for (const p of ['/healthz', '/livez', '/readyz']) {
      const r = await s.request('GET', p);
      assert.equal(r.status, 200, p);
      assert.match(r.headers.get('content-type'), /text\/plain/);
    }
  });
  test('unknown path is 404, known path with another method 405', async () => {
    await fails('GET', '/nothing/here', undefined, 404, /Unknown path/);
    await fails('DELETE', '/collections', undefined, 405, /not allowed/);
  });
  test('bad query parameters are 400 naming them', async () => {
    await ok('PUT', '/collections/q', { vectors: { size: 4, distance: 'Dot' } });
    await fails('PUT', '/collections/q/points?wait=maybe', { points: [] }, 400, /wait/);
    await fails('PUT', '/collections/q/points?timeout=0', { points: [] }, 400, /timeout/);
    await fails('PUT', '/collections/q/points?ordering=fast', { points: [] }, 400, /ordering/);
    await fails('POST', '/collections/q/points/count?consistency=some', {}, 400, /consistency/);
    await ok('PUT', '/collections/q/points?wait=false&ordering=strong&timeout=5', { points: points(1) });
    await ok('POST', '/collections/q/points/count?consistency=majority&timeout=3', {});
    await ok('DELETE', '/collections/q?timeout=10');
  });
});

describe('collections', () => {
  test('create, get, exists, list, update, delete', async () => {
    assert.equal(await ok('PUT', '/collections/docs', { vectors: { size: 4, distance: 'Cosine' }, shard_number: 1, replication_factor: 1, on_disk_payload: true }), true);
    const info = await ok('GET', '/collections/docs');
    assert.equal(info.points_count, 0);
    assert.equal(info.config.params.vectors.size, 4);
    assert.deepEqual(await ok('GET', '/collections/docs/exists'), { exists: true });
    assert.deepEqual(await ok('GET', '/collections/none/exists'), { exists: false });
    const list = await ok('GET', '/collections');
    assert.ok(list.collections.some((c) => c.name === 'docs'));
    assert.equal(await ok('PATCH', '/collections/docs', { hnsw_config: { m: 8 }, optimizers_config: { indexing_threshold: 1000 } }), true);
    assert.equal(await ok('DELETE', '/collections/docs'), true);
    assert.deepEqual(await ok('GET', '/collections/docs/exists'), { exists: false });
  });
  test('errors: existing 409, missing 404, unknown key 400 naming it, bad config 400', async () => {
    await ok('PUT', '/collections/dup', { vectors: { size: 2, distance: 'Dot' } });
    await fails('PUT', '/collections/dup', { vectors: { size: 2, distance: 'Dot' } }, 409, /already exists/);
    await fails('GET', '/collections/missing', undefined, 404, /missing/);
    await fails('PATCH', '/collections/missing', { hnsw_config: { m: 8 } }, 404);
    assert.equal(await ok('DELETE', '/collections/missing'), false);  // Qdrant's answer too
    await fails('PUT', '/collections/bad', { vectors: { size: 2, distance: 'Dot' }, colour: 'red' }, 400, /colour/);
    await fails('PUT', '/collections/bad', { vectors: { size: 0, distance: 'Dot' } }, 400, /size/);
    await fails('PUT', '/collections/bad', { vectors: { size: 2, distance: 'Loud' } }, 400, /Loud|distance/);
    await fails('PATCH', '/collections/dup', { hnsw_config: { m: 8, wibble: 1 } }, 400, /wibble/);
    await fails('PUT', '/collections/bad%20name', { vectors: { size: 2, distance: 'Dot' } }, 400);
    await fails('PUT', '/collections/bad', '{"vectors": ', 400, /malformed JSON/);
    await ok('DELETE', '/collections/dup');
  });
});

describe('aliases', () => {
  test('create, list, rename, delete; errors', async () => {
    await ok('PUT', '/collections/target', { vectors: { size: 4, distance: 'Cosine' } });
    await ok('POST', '/collections/aliases', { actions: [{ create_alias: { collection_name: 'target', alias_name: 'al' } }] });
    assert.deepEqual(await ok('GET', '/aliases'), { aliases: [{ alias_name: 'al', collection_name: 'target' }] });
    assert.deepEqual(await ok('GET', '/collections/target/aliases'), { aliases: [{ alias_name: 'al', collection_name: 'target' }] });
    await ok('PUT', '/collections/al/points', { points: points(2) });
    assert.deepEqual(await ok('POST', '/collections/target/points/count', {}), { count: 2 });
    await ok('POST', '/collections/aliases', { actions: [{ rename_alias: { old_alias_name: 'al', new_alias_name: 'al2' } }] });
    assert.deepEqual((await ok('GET', '/aliases')).aliases.map((a) => a.alias_name), ['al2']);
    await ok('POST', '/collections/aliases', { actions: [{ delete_alias: { alias_name: 'al2' } }] });
    assert.deepEqual(await ok('GET', '/aliases'), { aliases: [] });
    await fails('POST', '/collections/aliases', { actions: [{ create_alias: { collection_name: 'nope', alias_name: 'x' } }] }, 404);
    await fails('POST', '/collections/aliases', { actions: [{ make_alias: {} }] }, 400, /make_alias/);
    await fails('GET', '/collections/nope/aliases', undefined, 404);
    await ok('DELETE', '/collections/target');
  });
});

describe('points', () => {
  before(async () => {
    await ok('PUT', '/collections/pts', { vectors: { size: 4, distance: 'Cosine' } });
    const r = await ok('PUT', '/collections/pts/points?wait=true', { points: points(20) });
    assert.equal(r.status, 'completed');
  });

  test('upsert errors: wrong dimension, unknown key, missing collection, NaN', async () => {
    await fails('PUT', '/collections/pts/points', { points: [{ id: 1, vector: [1, 2, 3] }] }, 400, /dimension|3/);
    await fails('PUT', '/collections/pts/points', { points: [{ id: 1, vector: vec(1), extra: 1 }] }, 400, /extra/);
    await fails('PUT', '/collections/nope/points', { points: points(1) }, 404);
    await fails('PUT', '/collections/pts/points', '{"points":[{"id":1,"vector":[NaN,1,1,1]}]}', 400);
    await fails('PUT', '/collections/pts/points', { points: [{ id: -1, vector: vec(1) }] }, 400);
    assert.deepEqual(await ok('POST', '/collections/pts/points/count', {}), { count: 20 });
  });
  test('get one, get many, errors', async () => {
    const p = await ok('GET', '/collections/pts/points/3');
    assert.equal(p.id, 3);
    assert.equal(p.payload.n, 3);
    await fails('GET', '/collections/pts/points/999', undefined, 404);
    await fails('GET', '/collections/pts/points/not-an-id', undefined, 400);
    const many = await ok('POST', '/collections/pts/points', { ids: [2, 999, 1], with_payload: ['n'], with_vector: true });
    assert.deepEqual(many.map((r) => r.id), [2, 1]);
    assert.equal(many[0].vector.length, 4);
    await fails('POST', '/collections/pts/points', { ids: 'all' }, 400);
  });
  test('payload: set, overwrite, delete keys, clear', async () => {
    await ok('POST', '/collections/pts/points/payload', { payload: { tag: 'x' }, points: [1, 2] });
    assert.equal((await ok('GET', '/collections/pts/points/1')).payload.tag, 'x');
    await ok('PUT', '/collections/pts/points/payload', { payload: { only: true }, points: [1] });
    assert.deepEqual((await ok('GET', '/collections/pts/points/1')).payload, { only: true });
    await ok('POST', '/collections/pts/points/payload/delete', { keys: ['tag'], points: [2] });
    assert.equal((await ok('GET', '/collections/pts/points/2')).payload.tag, undefined);
    await ok('POST', '/collections/pts/points/payload/clear', { points: [2] });
    assert.deepEqual((await ok('GET', '/collections/pts/points/2')).payload, {});
    await fails('POST', '/collections/pts/points/payload', { payload: 5, points: [1] }, 400);
    await fails('POST', '/collections/pts/points/payload', { payload: { a: 1 }, points: [12345] }, 404);
    await fails('POST', '/collections/pts/points/payload/delete', { points: [1] }, 400, /keys/);
  });
  test('scroll and count with filters', async () => {
    const page = await ok('POST', '/collections/pts/points/scroll', { limit: 5, with_payload: true });
    assert.equal(page.points.length, 5);
    assert.equal(page.next_page_offset, 6);
    const rest = await ok('POST', '/collections/pts/points/scroll', { limit: 100, offset: page.next_page_offset });
    assert.equal(rest.points.length, 15);
    assert.equal(rest.next_page_offset, null);
    const rome = { must: [{ key: 'city', match: { value: 'Rome' } }] };
    assert.ok((await ok('POST', '/collections/pts/points/count', { filter: rome, exact: true })).count >= 8);
    await fails('POST', '/collections/pts/points/count', { filter: { must: [{ key: 'city', match: { nope: 1 } }] } }, 400);
    await fails('POST', '/collections/pts/points/scroll', { limit: -1 }, 400, /limit/);
  });
  test('search, search batch, recommend, recommend batch', async () => {
    const hits = await ok('POST', '/collections/pts/points/search', { vector: vec(5), limit: 3, with_payload: true, params: { hnsw_ef: 32, exact: false } });
    assert.equal(hits[0].id, 5);
    assert.equal(hits.length, 3);
    const filtered = await ok('POST', '/collections/pts/points/search', { vector: vec(5), limit: 20, filter: { must: [{ key: 'city', match: { value: 'Rome' } }] } });
    assert.ok(filtered.every((h) => h.id % 2 === 0));
    const batch = await ok('POST', '/collections/pts/points/search/batch', { searches: [{ vector: vec(7), limit: 1 }, { vector: vec(9), limit: 2 }] });
    assert.deepEqual(batch.map((b) => b.length), [1, 2]);
    assert.equal(batch[0][0].id, 7);
    const rec = await ok('POST', '/collections/pts/points/recommend', { positive: [4], limit: 3 });
    assert.equal(rec.length, 3);
    assert.ok(!rec.some((h) => h.id === 4));
    const recBatch = await ok('POST', '/collections/pts/points/recommend/batch', { searches: [{ positive: [4], limit: 2 }, { positive: [6], negative: [7], limit: 1 }] });
    assert.deepEqual(recBatch.map((b) => b.length), [2, 1]);
    await fails('POST', '/collections/pts/points/search', { vector: [1, 2], limit: 3 }, 400);
    await fails('POST', '/collections/pts/points/search', { limit: 3 }, 400, /vector/);
    await fails('POST', '/collections/pts/points/recommend', { positive: [424242], limit: 2 }, 404);
    await fails('POST', '/collections/pts/points/search/batch', { searches: [{ vector: vec(1), limt: 1 }] }, 400, /limt/);
  });
  test('delete by id and by filter; batch update', async () => {
    await ok('POST', '/collections/pts/points/delete', { points: [19, 20] });
    await ok('POST', '/collections/pts/points/delete', { filter: { must: [{ key: 'n', range: { gte: 17 } }] } });
    assert.deepEqual(await ok('POST', '/collections/pts/points/count', {}), { count: 16 });
    const results = await ok('POST', '/collections/pts/points/batch', {
      operations: [
        { upsert: { points: points(2, 100) } },
        { set_payload: { payload: { batch: 1 }, points: [100] } },
        { delete: { points: [101] } },
      ],
    });
    assert.equal(results.length, 3);
    assert.ok(results.every((r) => r.status === 'completed'));
    assert.equal((await ok('GET', '/collections/pts/points/100')).payload.batch, 1);
    await fails('GET', '/collections/pts/points/101', undefined, 404);
    await fails('POST', '/collections/pts/points/batch', { operations: [{ explode: {} }] }, 400, /explode/);
    await fails('POST', '/collections/pts/points/delete', {}, 400);
  });
  test('payload index create and delete', async () => {
    await ok('PUT', '/collections/pts/index?wait=true', { field_name: 'city', field_schema: 'keyword' });
    const info = await ok('GET', '/collections/pts');
    assert.ok('city' in info.payload_schema);
    await ok('DELETE', '/collections/pts/index/city?wait=true');
    await fails('PUT', '/collections/pts/index', { field_name: 'city', field_schema: 'colour' }, 400, /colour/);
    await fails('PUT', '/collections/pts/index', { field_schema: 'keyword' }, 400, /field_name/);
  });
});

describe('metrics and logs', () => {
  test('/metrics counts requests by endpoint and status, with collections, points and memory', async () => {
    await s.request('GET', '/collections/missing');
    const r = await s.request('GET', '/metrics');
    assert.equal(r.status, 200);
    for (const name of ['app_info', 'collections_total', 'collections_vector_total', 'rest_responses_total',
      'rest_responses_duration_seconds_bucket', 'memory_resident_bytes', 'quiver_connections_active']) {
      assert.match(r.text, new RegExp(`^${name}`, 'm'), name);
    }
    assert.match(r.text, /rest_responses_total\{method="GET",endpoint="\/collections\/\{name\}",status="404"\} \d+/);
    assert.match(r.text, /rest_responses_fail_total\{method="GET",endpoint="\/collections\/\{name\}",status="404"\}/);
    assert.match(r.text, /quiver_collection_points\{collection="pts"\} \d+/);
  });
  test('one JSON log line per request', async () => {
    const before = s.lines.length;
    await s.request('POST', '/collections/pts/points/count', {});
    await new Promise((r) => setTimeout(r, 100));
    const line = s.lines.slice(before).find((l) => l.operation === 'count_points');
    assert.ok(line, 'no log line for count_points');
    assert.equal(line.status, 200);
    assert.equal(line.collection, 'pts');
    assert.equal(typeof line.duration_us, 'number');
  });
});
