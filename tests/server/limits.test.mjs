// Bad and hostile requests: every one gets a clear error (413, 400, 431, 503, a timeout close), the server keeps
// serving, and nothing stored changes.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';

import { rawExchange, SLOW, sleep, startServer, statusOf, vec } from './quiverd.mjs';

let s;
before(async () => {
  s = await startServer({
    tag: 'limits',
    args: ['--max-body-mb', '0.05', '--max-upload-mb', '0.1', '--max-connections', '6', '--max-header-kb', '8', '--max-json-depth', '40'],
  });
  await s.request('PUT', '/collections/keep', { vectors: { size: 4, distance: 'Cosine' } });
  await s.request('PUT', '/collections/keep/points', { points: [1, 2, 3].map((id) => ({ id, vector: vec(id), payload: { id } })) });
});
after(async () => {
  const exit = await s.stop();
  assert.equal(exit.code, 0, s.stderr);
});

async function intact() {
  const r = await s.request('POST', '/collections/keep/points/count', {});
  assert.equal(r.status, 200);
  assert.equal(r.json.result.count, 3);
  assert.equal((await s.request('GET', '/collections/keep/points/2')).json.result.payload.id, 2);
}

async function badBody(body, pattern, path = '/collections/keep/points', method = 'PUT') {
  const r = await s.request(method, path, body);
  assert.equal(r.status, 400, `${r.status} ${r.text}`);
  assert.equal(typeof r.json.status.error, 'string');
  if (pattern) assert.match(r.json.status.error, pattern);
}

describe('bodies', () => {
  test('a body over the limit is 413 (Content-Length and chunked)', async () => {
    const big = JSON.stringify({ points: [{ id: 9, vector: vec(9), payload: { pad: 'x'.repeat(80000) } }] });
    const r = await s.request('PUT', '/collections/keep/points', big);
    assert.equal(r.status, 413);
    assert.match(r.json.status.error, /too large/);
    const head = 'PUT /collections/keep/points HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n';
    const chunk = 'x'.repeat(30000);
    const raw = await rawExchange(s.port, [head, `${(30000).toString(16)}\r\n${chunk}\r\n`, `${(30000).toString(16)}\r\n${chunk}\r\n`, '0\r\n\r\n']);
    assert.equal(statusOf(raw.text), 413);
    await intact();
  });
  test('malformed JSON, wrong types and empty bodies are 400 naming the problem', async () => {
    await badBody('{"points": [', /malformed JSON/);
    await badBody('{"points": [}', /malformed JSON/);
    await badBody('[1, 2]', /object/);
    await badBody('', /points/);
    await badBody('null', /object/);
    await badBody('{"points": "all"}', /points/);
    await badBody('{"points": [{"id": 1, "vector": "1,2,3,4"}]}', /vector/);
    await intact();
  });
  test('huge numbers are refused, not wrapped or rounded into stored data', async () => {
    await badBody('{"points": [{"id": 1e400, "vector": [1,2,3,4]}]}');
    await badBody('{"points": [{"id": 123456789012345678901234567890, "vector": [1,2,3,4]}]}');
    await badBody('{"points": [{"id": 1, "vector": [1e400, 1, 1, 1]}]}');
    await badBody('{"points": [{"id": 1, "vector": [1, 1, 1, 1], "payload": {"x": -1e999}}]}');
    await badBody('{"vector": [1,1,1,1], "limit": 1e30}', undefined, '/collections/keep/points/search', 'POST');
    await badBody('{"vector": [1,1,1,1], "limit": 18446744073709551616}', undefined, '/collections/keep/points/search', 'POST');
    await intact();
  });
  test('deep nesting is refused before parsing: over max_json_depth and far over it', async () => {
    const deep = (n) => `{"points": [{"id": 1, "vector": [1,2,3,4], "payload": {"a": ${'['.repeat(n)}${']'.repeat(n)}}}]}`;
    await badBody(deep(50), /nested 5\d levels deep; the limit is 40/);
    await badBody('['.repeat(40000), /nested/);
    await badBody(`{"filter": ${'{"must": ['.repeat(30)}${']}'.repeat(30)}}`, /nested/, '/collections/keep/points/count', 'POST');
    await intact();
  });
  test('invalid UTF-8 is 400', async () => {
    const prefix = Buffer.from('{"points": [{"id": 7, "vector": [1,2,3,4], "payload": {"name": "');
    const body = Buffer.concat([prefix, Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}}]}')]);
    await badBody(new Uint8Array(body));
    const key = Buffer.concat([Buffer.from('{"vector": [1,1,1,1], "limit": 1, "\xc3'), Buffer.from('": 1}')]);
    await badBody(new Uint8Array(key), undefined, '/collections/keep/points/search', 'POST');
    await intact();
  });
  test('a snapshot upload has its own limit, and a bad one changes nothing', async () => {
    const form = new FormData();
    form.append('snapshot', new Blob([new Uint8Array(200000)]), 'big.snapshot');
    let r = await fetch(`${s.url}/collections/keep/snapshots/upload`, { method: 'POST', body: form });
    assert.equal(r.status, 413);
    const junk = new FormData();
    junk.append('snapshot', new Blob([new Uint8Array(70000).fill(7)]), 'junk.snapshot');
    r = await fetch(`${s.url}/collections/keep/snapshots/upload`, { method: 'POST', body: junk });
    assert.equal(r.status, 400, await r.text());
    await intact();
  });
});

describe('HTTP', () => {
  test('malformed requests are 400 and the connection closes', async () => {
    for (const text of ['GARBAGE\r\n\r\n', 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n', 'GET / HTTP/9.9\r\n\r\n',
      'POST /collections/keep/points/count HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}']) {
      const raw = await rawExchange(s.port, [text]);
      assert.equal(statusOf(raw.text), 400, JSON.stringify(text) + ' -> ' + raw.text.slice(0, 80));
      assert.ok(raw.closed);
    }
  });
  test('an oversized head is 431', async () => {
    const raw = await rawExchange(s.port, [`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'y'.repeat(20000)}\r\n\r\n`]);
    assert.equal(statusOf(raw.text), 431);
  });
  test('keep-alive: pipelined requests are answered in order on one connection', async () => {
    const get = 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n';
    const count = 'POST /collections/keep/points/count HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}';
    const raw = await rawExchange(s.port, [get + count + get], { ms: 1000 * SLOW });
    const statuses = [...raw.text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
    assert.deepEqual(statuses, [200, 200, 200]);
    assert.match(raw.text, /"count":3/);
  });
  test('Expect: 100-continue is honoured', async () => {
    const body = '{}';
    const raw = await rawExchange(s.port, [`POST /collections/keep/points/count HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`, body], { gapMs: 100 });
    assert.match(raw.text, /^HTTP\/1\.1 100 Continue/);
    assert.match(raw.text, /HTTP\/1\.1 200 OK[\s\S]*"count":3/);
  });
  test('a slow head is cut off at the header timeout; an idle connection at the idle timeout', async () => {
    // A server of its own, reached only by raw sockets: short timeouts would race the fetch pool's reuse.
    const t = await startServer({ tag: 'timeouts', args: ['--header-timeout-ms', String(400 * SLOW), '--idle-timeout-ms', String(600 * SLOW)] });
    try {
      const start = Date.now();
      const slow = await rawExchange(t.port, ['GET /healthz HTTP/1.1\r\n', 'Host: x\r\n'], { ms: 5000 * SLOW, gapMs: 100 });
      assert.ok(slow.closed, 'the connection stayed open');
      assert.ok(Date.now() - start < 3000 * SLOW, `closed after ${Date.now() - start} ms`);
      const idle = await rawExchange(t.port, [], { ms: 5000 * SLOW });
      assert.ok(idle.closed);
      const served = await rawExchange(t.port, ['GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
      assert.equal(statusOf(served.text), 200);
    } finally {
      assert.equal((await t.stop()).code, 0);
    }
  });
  test('connections beyond the cap get 503; the others are unaffected', async () => {
    const sockets = [];
    for (let i = 0; i < 6; i++) {
      const sock = net.connect(s.port, '127.0.0.1');
      sock.on('error', () => {});
      await new Promise((r) => sock.on('connect', r));
      sockets.push(sock);
    }
    await sleep(50);
    const raw = await rawExchange(s.port, ['GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n']);
    assert.equal(statusOf(raw.text), 503);
    assert.match(raw.text, /max_connections/);
    for (const sock of sockets) sock.destroy();
    await sleep(100);
    await intact();
    const metrics = await s.request('GET', '/metrics');
    assert.match(metrics.text, /quiver_connections_refused_total [1-9]/);
  });
});
