// Snapshots over plain HTTP: create, list, download (bytes match the checksum), upload (multipart) into a new
// collection and over an existing one, recover from file://, delete; errors for each.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';

import { startServer, vec } from './quiverd.mjs';

let s;
before(async () => {
  s = await startServer({ tag: 'snap' });
  await s.request('PUT', '/collections/src', { vectors: { size: 4, distance: 'Euclid' } });
  await s.request('PUT', '/collections/src/points', { points: [1, 2, 3].map((id) => ({ id, vector: vec(id), payload: { id } })) });
  await s.request('PUT', '/collections/src/index', { field_name: 'id', field_schema: 'integer' });
});
after(async () => {
  const exit = await s.stop();
  assert.equal(exit.code, 0, s.stderr);
});

const upload = (collection, bytes, query = '') => {
  const form = new FormData();
  form.append('snapshot', new Blob([bytes]), 'x.snapshot');
  return fetch(`${s.url}/collections/${collection}/snapshots/upload${query}`, { method: 'POST', body: form });
};

test('create, list, download, upload, recover, delete', async () => {
  const created = await s.request('POST', '/collections/src/snapshots?wait=true');
  assert.equal(created.status, 200, created.text);
  const snap = created.json.result;
  assert.deepEqual(Object.keys(snap).sort(), ['checksum', 'creation_time', 'name', 'size']);
  assert.match(snap.creation_time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
  assert.deepEqual((await s.request('GET', '/collections/src/snapshots')).json.result, [snap]);

  const download = await s.request('GET', `/collections/src/snapshots/${snap.name}`);
  assert.equal(download.status, 200);
  assert.equal(download.headers.get('content-type'), 'application/octet-stream');
  assert.equal(download.buffer.length, snap.size);
  assert.equal(createHash('sha256').update(download.buffer).digest('hex'), snap.checksum);

  let r = await upload('copy', download.buffer, `?checksum=${snap.checksum}&priority=snapshot&wait=true`);
  assert.equal(r.status, 200, await r.text());
  const copy = await s.request('GET', '/collections/copy');
  assert.equal(copy.json.result.points_count, 3);
  assert.ok('id' in copy.json.result.payload_schema, 'payload indexes come back');

  // Over an existing collection: replaced.
  await s.request('PUT', '/collections/copy/points', { points: [{ id: 99, vector: vec(99) }] });
  r = await upload('copy', download.buffer);
  assert.equal(r.status, 200);
  assert.equal((await s.request('POST', '/collections/copy/points/count', {})).json.result.count, 3);

  r = await s.request('PUT', '/collections/fromfile/snapshots/recover', { location: `file://${s.data}/snapshots/src/${snap.name}` });
  assert.equal(r.status, 200, r.text);
  assert.equal((await s.request('GET', '/collections/fromfile/points/2')).json.result.payload.id, 2);

  assert.equal((await s.request('DELETE', `/collections/src/snapshots/${snap.name}`)).json.result, true);
  assert.deepEqual((await s.request('GET', '/collections/src/snapshots')).json.result, []);
});

test('errors: missing collection or snapshot, bad names, damaged or mismatched uploads change nothing', async () => {
  assert.equal((await s.request('POST', '/collections/none/snapshots')).status, 404);
  assert.equal((await s.request('GET', '/collections/none/snapshots')).status, 404);
  assert.equal((await s.request('GET', '/collections/src/snapshots/nope.snapshot')).status, 404);
  assert.equal((await s.request('DELETE', '/collections/src/snapshots/nope.snapshot')).status, 404);
  assert.equal((await s.request('GET', '/collections/src/snapshots/..%2F..%2Fquiverd-owners.json')).status, 400);
  const snap = (await s.request('POST', '/collections/src/snapshots')).json.result;
  const bytes = (await s.request('GET', `/collections/src/snapshots/${snap.name}`)).buffer;

  const damaged = Uint8Array.from(bytes);
  damaged[damaged.length >> 1] ^= 0x5a;
  let r = await upload('src', damaged);
  assert.equal(r.status, 400);
  assert.match((await r.json()).status.error, /damaged|corrupt|checksum/i);
  r = await upload('src', bytes, `?checksum=${'0'.repeat(64)}`);
  assert.equal(r.status, 400);
  assert.equal((await s.request('POST', '/collections/src/points/count', {})).json.result.count, 3, 'src is untouched');

  r = await s.request('POST', '/collections/x/snapshots/upload', bytes, { 'content-type': 'application/octet-stream' });
  assert.equal(r.status, 400);
  assert.match(r.json.status.error, /multipart/);
  r = await s.request('PUT', '/collections/x/snapshots/recover', { location: 'http://127.0.0.1:1/x.snapshot' });
  assert.equal(r.status, 400);
  r = await s.request('PUT', '/collections/x/snapshots/recover', { location: `file://${s.data}/snapshots/../CURRENT` });
  assert.equal(r.status, 400);
  r = await s.request('PUT', '/collections/x/snapshots/recover', { location: `file://${s.data}/snapshots/src/${snap.name}`, where: 1 });
  assert.equal(r.status, 400);
  assert.match(r.json.status.error, /where/);
  assert.equal((await s.request('GET', '/collections/x/exists')).json.result.exists, false);
});
