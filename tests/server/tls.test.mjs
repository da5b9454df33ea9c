// TLS: a certificate made now with the openssl CLI; HTTPS requests and the official client (in a child Node that
// trusts the certificate) work; plain HTTP on the TLS port gets nothing.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { rawExchange, startServer, tempDir } from './quiverd.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
let s;
let dir;
let ca;
before(async () => {
  dir = tempDir('tls');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  ca = readFileSync(join(dir, 'cert.pem'));
  s = await startServer({ data: join(dir, 'db'), args: ['--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem'), '--api-key', 'tls-secret'] });
});
after(async () => {
  const exit = await s.stop();
  assert.equal(exit.code, 0, s.stderr);
});

function get(path, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port: s.port, path, ca, headers }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('HTTPS with the generated certificate', async () => {
  assert.ok(s.url.startsWith('https://'));
  const root = await get('/');
  assert.equal(root.status, 200);
  assert.equal(JSON.parse(root.body).version, '1.18.3');
  assert.equal((await get('/collections')).status, 401);
  assert.equal((await get('/collections', { 'api-key': 'tls-secret' })).status, 200);
});

test('an untrusted client is refused, plain HTTP gets no answer', async () => {
  await assert.rejects(fetch(`${s.url}/`), /fetch failed/);
  const raw = await rawExchange(s.port, ['GET / HTTP/1.1\r\nHost: x\r\n\r\n'], { ms: 3000 });
  assert.doesNotMatch(raw.text, /^HTTP\/1\.1 200/);
});

test('the official client over TLS', () => {
  const script = join(dir, 'client.mjs');
  writeFileSync(script, `
    import { QdrantClient } from ${JSON.stringify(join(here, 'node_modules/@qdrant/js-client-rest/dist/esm/index.js'))};
    const client = new QdrantClient({ url: process.argv[2], apiKey: 'tls-secret' });
    await client.createCollection('t', { vectors: { size: 3, distance: 'Euclid' } });
    await client.upsert('t', { points: [{ id: 1, vector: [0, 0, 1] }, { id: 2, vector: [1, 0, 0] }] });
    const hits = await client.search('t', { vector: [0.9, 0, 0], limit: 1 });
    console.log(JSON.stringify({ version: (await client.versionInfo()).version, hit: hits[0].id }));
  `);
  const r = spawnSync(process.execPath, [script, s.url], {
    env: { ...process.env, NODE_EXTRA_CA_CERTS: join(dir, 'cert.pem') }, encoding: 'utf8', timeout: 60000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').pop()), { version: '1.18.3', hit: 2 });
  assert.doesNotMatch(r.stderr, /incompatible|Failed to obtain/);
});
