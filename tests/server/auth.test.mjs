// Auth as Qdrant answers it (none, wrong, read-only, JWT: expired, bad signature, another collection), tenants
// with quotas and a rate limit (429 + Retry-After), CORS, and the refusal to listen openly without a key.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { QdrantClient, QdrantClientResourceExhaustedError } from '@qdrant/js-client-rest';

import { QUIVERD, request, startServer, tempDir, vec } from './quiverd.mjs';

const RW = 'rw-key-0123456789';
const RO = 'ro-key-0123456789';

function jwt(claims, secret = RW) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}
const now = () => Math.floor(Date.now() / 1000);

let s;
before(async () => {
  const dir = tempDir('auth');
  const config = join(dir, 'quiverd.json');
  writeFileSync(config, JSON.stringify({
    api_key: RW,
    read_only_api_key: RO,
    jwt_rbac: true,
    cors_origins: ['https://app.example'],
    tenants: [
      { name: 'acme', api_key: 'acme-key', max_collections: 1, max_points: 5 },
      { name: 'slow', api_key: 'slow-key', requests_per_second: 0.5, burst: 2 },
      { name: 'viewer', api_key: 'viewer-key', read_only: true },
      { name: 'sub-team', jwt_subject: 'team-7', max_collections: 0, requests_per_second: 1000 },
    ],
  }));
  s = await startServer({ args: ['--config', config], data: join(dir, 'db') });
  const admin = { 'api-key': RW };
  for (const name of ['a', 'b']) {
    assert.equal((await s.request('PUT', `/collections/${name}`, { vectors: { size: 4, distance: 'Dot' } }, admin)).status, 200);
    await s.request('PUT', `/collections/${name}/points`, { points: [{ id: 1, vector: vec(1), payload: { user: 'ann' } }] }, admin);
  }
});
after(async () => {
  const exit = await s.stop();
  assert.equal(exit.code, 0, s.stderr);
});

const as = (headers) => ({
  get: (path) => s.request('GET', path, undefined, headers),
  send: (method, path, body) => s.request(method, path, body, headers),
});
const search = { vector: vec(1), limit: 1 };
const upsert = { points: [{ id: 2, vector: vec(2) }] };

describe('keys', () => {
  test('no key: 401 for the API, public paths stay open', async () => {
    const r = await s.request('GET', '/collections');
    assert.equal(r.status, 401);
    assert.match(r.json.status.error, /Must provide an API key/);
    for (const p of ['/', '/healthz', '/livez', '/readyz']) assert.equal((await s.request('GET', p)).status, 200, p);
  });
  test('a wrong key is 401', async () => {
    assert.equal((await as({ 'api-key': 'nope' }).get('/collections')).status, 401);
    assert.equal((await as({ authorization: 'Bearer nope' }).get('/collections')).status, 401);
    assert.equal((await as({ 'api-key': RW.slice(0, -1) }).get('/collections')).status, 401);
  });
  test('the key in api-key or Authorization: Bearer', async () => {
    assert.equal((await as({ 'api-key': RW }).get('/collections')).status, 200);
    assert.equal((await as({ authorization: `Bearer ${RW}` }).send('PUT', '/collections/a/points', upsert)).status, 200);
  });
  test('the read-only key reads (GET and read-only POSTs) and is refused writes with 403', async () => {
    const ro = as({ 'api-key': RO });
    assert.equal((await ro.get('/collections/a')).status, 200);
    assert.equal((await ro.send('POST', '/collections/a/points/search', search)).status, 200);
    assert.equal((await ro.send('POST', '/collections/a/points/scroll', {})).status, 200);
    for (const [method, path, body] of [['PUT', '/collections/a/points', upsert], ['PUT', '/collections/c', { vectors: { size: 2, distance: 'Dot' } }],
      ['DELETE', '/collections/a'], ['POST', '/collections/a/snapshots'], ['POST', '/collections/aliases', { actions: [] }]]) {
      const r = await ro.send(method, path, body);
      assert.equal(r.status, 403, `${method} ${path}: ${r.text}`);
      assert.match(r.json.status.error, /^Forbidden/);
    }
    assert.equal((await as({ 'api-key': RW }).get('/collections/a/points/2')).status, 200, 'nothing was changed');
  });
  test('the official client with apiKey', async () => {
    const warn = console.warn;
    console.warn = () => {};  // "Api key is used with unsecure connection." (loopback here)
    try {
      const client = new QdrantClient({ url: s.url, apiKey: RW, checkCompatibility: false });
      assert.equal((await client.search('a', search))[0].id, 1);
      const reader = new QdrantClient({ url: s.url, apiKey: RO, checkCompatibility: false });
      await assert.rejects(reader.upsert('a', upsert), (e) => e.status === 403);
      const stranger = new QdrantClient({ url: s.url, apiKey: 'x', checkCompatibility: false });
      await assert.rejects(stranger.getCollections(), (e) => e.status === 401);
    } finally {
      console.warn = warn;
    }
  });
});

describe('JWT', () => {
  const bearer = (claims, secret) => as({ authorization: `Bearer ${jwt(claims, secret)}` });
  test('global manage and global read', async () => {
    assert.equal((await bearer({ exp: now() + 60, access: 'm' }).send('PUT', '/collections/j', { vectors: { size: 2, distance: 'Dot' } })).status, 200);
    assert.equal((await bearer({ exp: now() + 60 }).send('DELETE', '/collections/j')).status, 200, 'no access claim: full access');
    const reader = bearer({ exp: now() + 60, access: 'r' });
    assert.equal((await reader.send('POST', '/collections/a/points/search', search)).status, 200);
    assert.equal((await reader.send('PUT', '/collections/a/points', upsert)).status, 403);
  });
  test('expired, badly signed: 403; without exp or malformed: 401', async () => {
    const expired = await bearer({ exp: now() - 3600, access: 'm' }).get('/collections');
    assert.equal(expired.status, 403);
    assert.match(expired.json.status.error, /Expired/);
    const forged = await bearer({ exp: now() + 60, access: 'm' }, 'another-secret').get('/collections');
    assert.equal(forged.status, 403);
    assert.match(forged.json.status.error, /InvalidSignature/);
    assert.equal((await bearer({ access: 'm' }).get('/collections')).status, 401);
    assert.equal((await as({ authorization: 'Bearer a.b.c' }).get('/collections')).status, 401);
    assert.equal((await bearer({ exp: now() + 60, access: 'x' }).get('/collections')).status, 401);
  });
  test('per-collection access: r and rw on one collection, 403 for another', async () => {
    const readA = bearer({ exp: now() + 60, access: [{ collection: 'a', access: 'r' }] });
    assert.equal((await readA.get('/collections/a')).status, 200);
    assert.equal((await readA.send('POST', '/collections/a/points/search', search)).status, 200);
    assert.equal((await readA.send('PUT', '/collections/a/points', upsert)).status, 403);
    const other = await readA.get('/collections/b');
    assert.equal(other.status, 403);
    assert.match(other.json.status.error, /collection 'b'/);
    assert.equal((await readA.send('POST', '/collections/b/points/search', search)).status, 403);
    assert.deepEqual((await readA.get('/collections')).json.result.collections.map((c) => c.name), ['a']);
    const writeA = bearer({ exp: now() + 60, access: [{ collection: 'a', access: 'rw' }] });
    assert.equal((await writeA.send('PUT', '/collections/a/points', upsert)).status, 200);
    assert.equal((await writeA.send('DELETE', '/collections/a')).status, 403, 'deleting needs global manage access');
    assert.equal((await writeA.send('PUT', '/collections/z', { vectors: { size: 2, distance: 'Dot' } })).status, 403);
  });
  test('value_exists: valid while the point exists', async () => {
    const claims = { exp: now() + 60, access: 'r', value_exists: { collection: 'a', matches: [{ key: 'user', value: 'ann' }] } };
    assert.equal((await bearer(claims).get('/collections')).status, 200);
    const gone = { ...claims, value_exists: { collection: 'a', matches: [{ key: 'user', value: 'bob' }] } };
    assert.equal((await bearer(gone).get('/collections')).status, 401);
  });
});

describe('tenants and quotas', () => {
  const acme = as({ 'api-key': 'acme-key' });
  test('a tenant key sees and manages only its own collections', async () => {
    assert.equal((await acme.send('PUT', '/collections/acme1', { vectors: { size: 4, distance: 'Dot' } })).status, 200);
    assert.deepEqual((await acme.get('/collections')).json.result.collections.map((c) => c.name), ['acme1']);
    assert.equal((await acme.get('/collections/a')).status, 403);
    assert.equal((await acme.send('DELETE', '/collections/a')).status, 403);
    assert.equal((await acme.send('PUT', '/collections/a', { vectors: { size: 4, distance: 'Dot' } })).status, 403);
    const viewer = as({ 'api-key': 'viewer-key' });
    assert.equal((await viewer.send('PUT', '/collections/v1', { vectors: { size: 4, distance: 'Dot' } })).status, 403);
  });
  test('max_collections and max_points are refused with 403 naming the limit', async () => {
    const second = await acme.send('PUT', '/collections/acme2', { vectors: { size: 4, distance: 'Dot' } });
    assert.equal(second.status, 403);
    assert.match(second.json.status.error, /max_collections/);
    const five = Array.from({ length: 5 }, (_, i) => ({ id: i + 1, vector: vec(i) }));
    assert.equal((await acme.send('PUT', '/collections/acme1/points', { points: five })).status, 200);
    const sixth = await acme.send('PUT', '/collections/acme1/points', { points: [{ id: 6, vector: vec(6) }] });
    assert.equal(sixth.status, 403);
    assert.match(sixth.json.status.error, /max_points/);
    assert.equal((await acme.send('POST', '/collections/acme1/points/count', {})).json.result.count, 5);
  });
  test('the rate limit answers 429 with Retry-After, and the client raises its resource-exhausted error', async () => {
    const slow = as({ 'api-key': 'slow-key' });
    const statuses = [];
    let limited;
    for (let i = 0; i < 4; i++) {
      const r = await slow.get('/collections');
      statuses.push(r.status);
      if (r.status === 429) limited = r;
    }
    assert.deepEqual(statuses.slice(0, 2), [200, 200]);
    assert.ok(limited, `no 429 in ${statuses}`);
    assert.match(limited.headers.get('retry-after'), /^[1-9]\d*$/);
    assert.match(limited.json.status.error, /slow/);
    const warn = console.warn;
    console.warn = () => {};
    try {
      const client = new QdrantClient({ url: s.url, apiKey: 'slow-key', checkCompatibility: false });
      await assert.rejects(client.getCollections(), (e) => e instanceof QdrantClientResourceExhaustedError && e.retry_after >= 1);
    } finally {
      console.warn = warn;
    }
    const metrics = await as({ 'api-key': RW }).get('/metrics');
    assert.match(metrics.text, /quiver_tenant_rate_limited_total\{tenant="slow"\} [1-9]/);
    assert.match(metrics.text, /quiver_tenant_collection_quota_refused_total\{tenant="acme"\} 1/);
    assert.match(metrics.text, /quiver_tenant_point_quota_refused_total\{tenant="acme"\} 1/);
  });
  test('a JWT subject is a tenant too', async () => {
    const team = as({ authorization: `Bearer ${jwt({ exp: now() + 60, access: 'm', sub: 'team-7' })}` });
    assert.equal((await team.get('/collections')).status, 200);
    const metrics = await as({ 'api-key': RW }).get('/metrics');
    assert.match(metrics.text, /quiver_tenant_requests_total\{tenant="sub-team"\} 1/);
  });
});

describe('CORS', () => {
  test('allowed origins get the headers, preflight included; others do not', async () => {
    const pre = await s.request('OPTIONS', '/collections/a/points/search', undefined, {
      origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'api-key, content-type',
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), 'https://app.example');
    assert.match(pre.headers.get('access-control-allow-headers'), /api-key/);
    const get = await s.request('GET', '/collections', undefined, { origin: 'https://app.example', 'api-key': RW });
    assert.equal(get.headers.get('access-control-allow-origin'), 'https://app.example');
    const evil = await s.request('GET', '/collections', undefined, { origin: 'https://evil.example', 'api-key': RW });
    assert.equal(evil.headers.get('access-control-allow-origin'), null);
  });
});

describe('listening', () => {
  test('without a key, a non-loopback address is refused unless --allow-insecure', () => {
    const r = spawnSync(QUIVERD, ['--data', join(tempDir('open'), 'db'), '--host', '0.0.0.0', '--port', '0'], { encoding: 'utf8', timeout: 20000 });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /allow-insecure/);
  });
  test('bad configuration is refused naming the setting', () => {
    const r = spawnSync(QUIVERD, ['--data', join(tempDir('bad'), 'db'), '--port', 'seventy'], { encoding: 'utf8', timeout: 20000 });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /port/);
    const help = spawnSync(QUIVERD, ['--help'], { encoding: 'utf8', timeout: 20000 });
    assert.equal(help.status, 0);
    assert.match(help.stdout, /QUIVERD_API_KEY/);
  });
});
