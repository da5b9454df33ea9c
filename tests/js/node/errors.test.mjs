// Bad input gets a QuiverError with the engine's code and a message naming the problem, and changes nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ErrorCodes, open, QuiverError } from './quiver.mjs';

const is = (code, pattern) => (e) => {
  assert.ok(e instanceof QuiverError, `expected a QuiverError, got ${e}`);
  assert.ok(e instanceof Error);
  assert.equal(e.code, code, e.message);
  assert.equal(e.status, ErrorCodes.indexOf(code));
  if (pattern) assert.match(e.message, pattern);
  return true;
};

test('wrong dimension: upsert (every form) and search', async () => {
  const db = await open({ memory: true });
  const c = await db.createCollection('c', { vectors: { size: 4, distance: 'Cosine' } });
  await c.upsert([{ id: 1, vector: [1, 2, 3, 4] }]);
  await assert.rejects(c.upsert([{ id: 2, vector: [1, 2, 3] }]), is('InvalidArgument', /dimension/));
  await assert.rejects(c.upsert([{ id: 2, vector: [1, 2, 3, 4] }, { id: 3, vector: [1, 2] }]), is('InvalidArgument'));
  await assert.rejects(c.upsert({ points: [{ id: 4, vector: { x: [1, 2] } }] }), is('InvalidArgument'));
  await assert.rejects(c.upsertDense({ ids: [5, 6], vectors: new Float32Array(6) }), is('InvalidArgument', /dimension/));
  await assert.rejects(c.upsertDense({ ids: [5, 6], vectors: new Float32Array(7) }), is('InvalidArgument'));
  assert.throws(() => c.search({ vector: [1, 2, 3] }), is('InvalidArgument'));
  assert.equal(c.count().count, 1, 'a failed batch changes nothing');
  await db.close();
});

test('a dense upsert whose floats do not fit its ids names the mismatch', async () => {
  const db = await open({ memory: true });
  const c = await db.createCollection('c', { vectors: { size: 128, distance: 'Dot' } });
  await assert.rejects(
    c.upsertDense({ ids: [1, 2], vectors: new Float32Array(200) }),
    is('InvalidArgument', /^200 floats for 2 ids: vector of collection c has 128 dimensions, so 2 points need 256 floats$/),
  );
  assert.equal(c.count().count, 0);
  await db.close();
});

test('ErrorCodes are the engine\'s status codes, in the engine\'s order', async () => {
  const db = await open({ memory: true });
  assert.deepEqual(JSON.parse(db._module.statusCodeSymbols()), [...ErrorCodes]);
  await db.close();
});

test('NaN, bad ids, bad payloads', async () => {
  const db = await open({ memory: true });
  const c = await db.createCollection('c', { vectors: { size: 2, distance: 'Dot' } });
  await assert.rejects(c.upsert([{ id: 1, vector: [NaN, 1] }]), is('InvalidArgument'));
  await assert.rejects(c.upsert([{ id: -1, vector: [1, 1] }]), is('InvalidArgument'));
  await assert.rejects(c.upsert([{ id: 'not-a-uuid', vector: [1, 1] }]), is('InvalidArgument'));
  await assert.rejects(c.upsertDense({ ids: [1.5], vectors: new Float32Array(2) }), is('InvalidArgument', /ids\[0\]/));
  await assert.rejects(c.upsertDense({ ids: [1], vectors: new Float32Array(2), payloads: [5] }), is('InvalidArgument'));
  await assert.rejects(c.upsert({ points: [{ id: 1, vector: [1, 1], payload: [1] }] }), is('InvalidArgument'));
  assert.equal(c.count().count, 0);
  await db.close();
});

test('malformed filters and requests', async () => {
  const db = await open({ memory: true });
  const c = await db.createCollection('c', { vectors: { size: 2, distance: 'Dot' } });
  await c.upsert([{ id: 1, vector: [1, 1], payload: { a: 1 } }]);
  assert.throws(() => c.search({ vector: [1, 1], filter: { must: [{ key: 'a', match: { nonsense: 1 } }] } }), is('InvalidArgument', /filter/));
  assert.throws(() => c.search({ vector: [1, 1], filter: { must: 3 } }), is('InvalidArgument', /filter/));
  assert.throws(() => c.count({ filter: { should: [{ key: 'a', range: { gte: 'x' } }] } }), is('InvalidArgument'));
  assert.throws(() => c.scroll({ filter: { bogus: [] } }), is('InvalidArgument'));
  await assert.rejects(c.delete({ filter: { must: [{ nokey: 1 }] } }), is('InvalidArgument'));
  assert.throws(() => c.search({ vector: [1, 1], limit: -1 }), is('InvalidArgument'));
  assert.throws(() => c.search({ vector: 'x' }), is('InvalidArgument'));
  assert.throws(() => c.searchBatch([{ vector: [1, 1], filter: 7 }]), is('InvalidArgument'));
  await assert.rejects(c.createPayloadIndex({ field_name: 'a', field_schema: 'nonsense' }), is('InvalidArgument'));
  await assert.rejects(db.createCollection('bad name!', { vectors: { size: 2, distance: 'Dot' } }), is('InvalidArgument'));
  await assert.rejects(db.createCollection('x', { vectors: { size: 0, distance: 'Dot' } }), is('InvalidArgument'));
  await assert.rejects(db.createCollection('y', { vectors: { size: 2, distance: 'Hamming' } }), is('InvalidArgument'));
  assert.equal(c.count().count, 1);
  await db.close();
});

test('not found: collections, deleted collections', async () => {
  const db = await open({ memory: true });
  assert.throws(() => db.collection('nope'), is('NotFound'));
  const c = await db.createCollection('c', { vectors: { size: 2, distance: 'Dot' } });
  await db.deleteCollection('c');
  assert.throws(() => c.count(), is('NotFound'));
  await assert.rejects(db.deleteCollection('c'), is('NotFound'));
  await db.close();
});

test('closed database: every call fails with FailedPrecondition; close is idempotent', async () => {
  const db = await open({ memory: true });
  const c = await db.createCollection('c', { vectors: { size: 2, distance: 'Dot' } });
  await db.close();
  await db.close();
  assert.equal(db.isClosed, true);
  assert.throws(() => c.count(), is('FailedPrecondition', /closed/));
  assert.throws(() => c.search({ vector: [1, 1] }), is('FailedPrecondition'));
  await assert.rejects(c.upsert([{ id: 1, vector: [1, 1] }]), is('FailedPrecondition'));
  await assert.rejects(c.createSnapshot(), is('FailedPrecondition'));
  assert.throws(() => db.listCollections(), is('FailedPrecondition'));
  await assert.rejects(db.createCollection('d', { vectors: { size: 2, distance: 'Dot' } }), is('FailedPrecondition'));
  await assert.rejects(db.flush(), is('FailedPrecondition'));
});

test('open: bad options', async () => {
  await assert.rejects(open({}), is('InvalidArgument'));
  await assert.rejects(open({ memory: true, durability: 'sometimes' }), is('InvalidArgument'));
});

test('a module that cannot load: QuiverError naming the files; the next open() in the process loads it', async () => {
  // A fresh process: the module loads once per process.
  const { execFileSync } = await import('node:child_process');
  const script = `
    import { open } from ${JSON.stringify(new URL('../../../npm/dist/esm/node.js', import.meta.url).href)};
    const errors = [];
    for (const wasmPath of ['/nonexistent/quiver-node.wasm', ${JSON.stringify(new URL(import.meta.url).pathname)}]) {
      try { await open({ memory: true, wasmPath }); } catch (e) { errors.push([e.name, e.code, e.message]); }
    }
    const db = await open({ memory: true });
    console.log(JSON.stringify({ errors, simd: db.simd }));`;
  const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }));
  assert.deepEqual(out.errors[0], ['QuiverError', 'IOError',
    'could not find quiver-node.wasm (looked at /nonexistent/quiver-node.wasm); copy node_modules/quiverdb/dist/quiver-node.wasm beside your bundle, or pass open({ wasmPath })']);
  assert.equal(out.errors[1][1], 'IOError');
  assert.match(out.errors[1][2], /errors\.test\.mjs is not a WebAssembly module \(\d+ bytes starting 2f 2f 20 42 61 64 20 69\)/);
  assert.equal(out.simd, 'wasm-simd128');
});
