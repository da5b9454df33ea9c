// The sync protocol served by quiverd (docs/sync.md) over HTTP on a loopback port, spoken by hand: replicas
// register, identify a collection, push point deltas (dense and sparse vectors, payload keys) and pull them on
// another replica; long-polls end on a commit; snapshot blobs come whole or by Range with their SHA-256; replicas
// are bound to the principal that registered them and to the REST API's access rules. quiverd is killed with
// SIGKILL in the middle of a stream of pushes and restarted: every acknowledged batch is there, a batch in flight
// landed whole or not at all, and cursors and acknowledgements stay valid.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';

import { SLOW, sleep, startServer } from './quiverd.mjs';

const hex16 = (n) => BigInt(n).toString(16).padStart(16, '0');
const f32 = (values) => Buffer.from(new Float32Array(values).buffer).toString('base64');
const u32 = (values) => Buffer.from(new Uint32Array(values).buffer).toString('base64');
const fromF32 = (text) => Array.from(new Float32Array(new Uint8Array(Buffer.from(text, 'base64')).buffer));
const fromU32 = (text) => Array.from(new Uint32Array(new Uint8Array(Buffer.from(text, 'base64')).buffer));

const CONFIG = { vectors: { size: 4, distance: 'Dot' }, sparse_vectors: { text: {} } };

// One replica: its id, an HLC that only grows, the headers of the protocol, and the acknowledged local seq.
class Replica {
  constructor(server, { key, id } = {}) {
    this.server = server;
    this.key = key;
    this.id = id ?? hex16(BigInt('0x' + randomBytes(8).toString('hex')) | 1n);
    this.hlc = 0n;
    this.acked = 0;
    this.localSeq = 0;
  }
  stamp() {
    const now = BigInt(Date.now()) << 16n;
    this.hlc = this.hlc >= now ? this.hlc + 1n : now;
    return hex16(this.hlc) + this.id;
  }
  headers(extra = {}) {
    const h = { 'x-replica': this.id, 'x-protocol': '1', 'x-push-cursor': String(this.acked), ...extra };
    if (this.key) h.authorization = `Bearer ${this.key}`;
    return h;
  }
  request(method, path, body, extra) {
    return this.server.request(method, `/sync${path}`, body, this.headers(extra));
  }
  register() {
    return this.request('POST', '/v1/replicas', { replica: this.id, client: 'sync.test' });
  }
  async identify(name, config = CONFIG) {
    const uid = randomBytes(16).toString('hex');
    const r = await this.request('PUT', `/v1/collections/by-name/${name}`, { uid, config });
    if (r.status === 200) this.uid = r.json.collection.uid;
    return r;
  }
  // An upsert of point `id`: one stamp for its vectors, payload reset and keys.
  upsert(id, { dense, sparse, payload = {} }) {
    const ts = this.stamp();
    const vec = { ts, dense: { '': f32(dense) } };
    if (sparse) vec.sparse = { text: { i: u32(sparse.indices), v: f32(sparse.values) } };
    const fields = {};
    for (const [k, v] of Object.entries(payload)) fields[k] = { ts, v };
    return { id, vec, reset: ts, fields };
  }
  async push(points, { cursor } = {}) {
    const from = this.localSeq;
    const to = from + points.length;
    const body = { replica: this.id, batch: { from_local_seq: from, to_local_seq: to }, hlc: hex16(this.hlc), points };
    const q = cursor ? `?cursor=${cursor}` : '';
    const r = await this.request('POST', `/v1/collections/${this.uid}/push${q}`, body);
    if (r.status === 200) {
      this.localSeq = to;
      this.acked = r.json.acked_local_seq;
    }
    return r;
  }
  // The cursor of an empty collection's snapshot (its epoch, seq 0 or the snapshot's), as a client installing
  // it would hold.
  async startCursor() {
    const r = await this.request('GET', `/v1/collections/${this.uid}/snapshot`);
    assert.equal(r.status, 200, r.text);
    this.cursor = `${r.json.epoch}:${r.json.snapshot_seq}`;
    return r.json;
  }
  pull({ cursor = this.cursor, since, limit = 1000, waitMs } = {}) {
    let q = `cursor=${cursor}&limit=${limit}`;
    if (since) q += `&since=${since}`;
    if (waitMs !== undefined) q += `&wait_ms=${waitMs}`;
    return this.request('GET', `/v1/collections/${this.uid}/pull?${q}`);
  }
  // Pulls pages until caught up; returns every point delta by id (later pages override earlier ones).
  async pullAll() {
    const got = new Map();
    const since = this.cursor;
    for (;;) {
      const r = await this.pull({ since, limit: 50 });
      assert.equal(r.status, 200, r.text);
      for (const p of r.json.points) got.set(p.id, p);
      this.cursor = r.json.cursor;
      if (!r.json.has_more) return got;
    }
  }
}

async function twoReplicas(server, name = 'docs') {
  const a = new Replica(server);
  const b = new Replica(server);
  for (const r of [a, b]) assert.equal((await r.register()).status, 200);
  const ia = await a.identify(name);
  assert.equal(ia.status, 200, ia.text);
  assert.equal(ia.json.created, true);
  const ib = await b.identify(name);
  assert.equal(ib.status, 200, ib.text);
  assert.equal(b.uid, a.uid, 'the second replica adopts the server uid');
  await b.startCursor();
  return { a, b };
}

describe('sync over HTTP', () => {
  test('push on one replica, pull on another: dense and sparse vectors, payload keys, REST writes', async () => {
    const s = await startServer({ tag: 'sync-basic' });
    const { a, b } = await twoReplicas(s);
    const pushed = await a.push([
      a.upsert(1, { dense: [1, 2, 3, 4], sparse: { indices: [3, 70], values: [0.5, -2] }, payload: { title: 'one' } }),
      a.upsert(2, { dense: [0, 1, 0, 1], payload: { tags: ['x', 'y'] } }),
    ]);
    assert.equal(pushed.status, 200, pushed.text);
    assert.deepEqual(pushed.json.rejected, []);
    assert.equal(pushed.json.acked_local_seq, 2);
    assert.ok(pushed.headers.get('x-server-time-ms'), 'server time on every response');
    assert.match(pushed.headers.get('x-server-hlc'), /^[0-9a-f]{16}$/);

    const got = await b.pullAll();
    assert.deepEqual([...got.keys()].sort(), [1, 2]);
    const p1 = got.get(1);
    assert.deepEqual(fromF32(p1.vec.dense['']), [1, 2, 3, 4]);
    assert.deepEqual(fromU32(p1.vec.sparse.text.i), [3, 70]);
    assert.deepEqual(fromF32(p1.vec.sparse.text.v), [0.5, -2]);
    assert.equal(p1.fields.title.v, 'one');
    assert.equal(got.get(2).vec.sparse, undefined);

    // The REST API sees synced points, and its writes reach replicas through the feed.
    const rest = await s.request('GET', '/collections/docs/points/1');
    assert.equal(rest.status, 200, rest.text);
    assert.deepEqual(rest.json.result.payload, { title: 'one' });
    const up = await s.request('PUT', '/collections/docs/points?wait=true', {
      points: [{ id: 3, vector: { '': [1, 1, 1, 1], text: { indices: [9], values: [1] } }, payload: { via: 'rest' } }],
    });
    assert.equal(up.status, 200, up.text);
    const more = await b.pullAll();
    assert.deepEqual([...more.keys()], [3]);
    assert.equal(more.get(3).fields.via.v, 'rest');
    assert.deepEqual(fromU32(more.get(3).vec.sparse.text.i), [9]);

    // The pusher does not get its own registers back.
    a.cursor = `${(await a.startCursor()).epoch}:${'0'.repeat(16)}`;
    const echo = await a.pullAll();
    assert.deepEqual([...echo.keys()], [3]);

    // Digest, and a replay of the same batch changes nothing.
    const d1 = await a.request('GET', `/v1/collections/${a.uid}/digest`);
    assert.equal(d1.status, 200, d1.text);
    assert.equal(d1.json.points, 3);
    a.localSeq = 10;  // past the acknowledged batch, so the server merges it again instead of answering at once
    const again = await a.push([got.get(1), got.get(2)].map((p) => ({ ...p })));
    assert.equal(again.status, 200, again.text);
    const d2 = await a.request('GET', `/v1/collections/${a.uid}/digest`);
    assert.equal(d2.json.digest, d1.json.digest);
    assert.equal(d2.json.cursor, d1.json.cursor, 'a duplicate push allocates no seqs');
    assert.equal((await s.stop()).code, 0);
  });

  test('bad input gets a clear error and changes nothing', async () => {
    const s = await startServer({ tag: 'sync-bad' });
    const { a, b } = await twoReplicas(s);
    assert.equal((await a.push([a.upsert(1, { dense: [1, 2, 3, 4] })])).status, 200);
    const before = (await a.request('GET', `/v1/collections/${a.uid}/digest`)).json;

    const wrongDim = a.upsert(2, { dense: [1, 2, 3] });
    const unsorted = a.upsert(3, { dense: [1, 2, 3, 4], sparse: { indices: [5, 1], values: [1, 1] } });
    const r = await a.push([wrongDim, unsorted]);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.rejected.map((x) => [x.id, x.reason]), [[2, 'invalid'], [3, 'invalid']]);
    assert.match(r.json.rejected[0].message, /3 dimensions, expected 4/);
    assert.match(r.json.rejected[1].message, /increasing order/);

    const garbage = await a.request('POST', `/v1/collections/${a.uid}/push`, '{"replica": 12', { 'content-type': 'application/json' });
    assert.equal(garbage.status, 400);
    assert.equal(garbage.json.error, 'invalid');
    const badStamp = await a.request('POST', `/v1/collections/${a.uid}/push`, {
      replica: a.id, batch: { from_local_seq: 9, to_local_seq: 10 }, hlc: hex16(a.hlc),
      points: [{ id: 4, vec: { ts: 'nope', dense: { '': f32([1, 2, 3, 4]) } } }],
    });
    assert.equal(badStamp.status, 400);
    assert.match(badStamp.json.message, /points\[0\]\.vec\.ts/);
    const badProtocol = await a.request('GET', `/v1/collections/${a.uid}/digest`, undefined, { 'x-protocol': '7' });
    assert.equal(badProtocol.status, 426);
    assert.equal(badProtocol.json.min_protocol, 1);
    const badCursor = await b.pull({ cursor: 'zz' });
    assert.equal(badCursor.status, 400);

    const after = (await a.request('GET', `/v1/collections/${a.uid}/digest`)).json;
    assert.equal(after.digest, before.digest);
    assert.equal(after.cursor, before.cursor);
    assert.equal((await s.request('POST', '/collections/docs/points/count', {})).json.result.count, 1);
    assert.equal((await s.stop()).code, 0);
  });

  test('a long-poll ends on the next commit, or when its wait is over', async () => {
    const s = await startServer({ tag: 'sync-poll' });
    const { a, b } = await twoReplicas(s);
    const t0 = Date.now();
    const idle = await b.pull({ waitMs: 400 });
    assert.equal(idle.status, 200, idle.text);
    assert.deepEqual(idle.json.points, []);
    assert.ok(Date.now() - t0 >= 350, 'held until the wait ended');

    const t1 = Date.now();
    const waiting = b.pull({ waitMs: 20000 });
    await sleep(300);
    assert.equal((await a.push([a.upsert(7, { dense: [1, 0, 0, 0], payload: { n: 7 } })])).status, 200);
    const woke = await waiting;
    assert.equal(woke.status, 200, woke.text);
    assert.deepEqual(woke.json.points.map((p) => p.id), [7]);
    assert.ok(Date.now() - t1 < 5000 * SLOW, 'answered on the commit, not at the end of the wait');

    // SIGTERM answers a parked pull at once instead of holding shutdown for its wait.
    b.cursor = woke.json.cursor;
    const parked = b.pull({ waitMs: 20000 });
    await sleep(200);
    const t2 = Date.now();
    const stopped = s.stop();
    const answered = await parked;
    assert.equal(answered.status, 200);
    assert.equal((await stopped).code, 0);
    assert.ok(Date.now() - t2 < 5000 * SLOW);
  });

  test('snapshot blobs: whole or by Range, with their SHA-256', async () => {
    const s = await startServer({ tag: 'sync-blob' });
    const { a, b } = await twoReplicas(s);
    const points = [];
    for (let i = 0; i < 300; i++) points.push(a.upsert(i, { dense: [i, 1, 2, 3], payload: { i, text: 'x'.repeat(50) } }));
    assert.equal((await a.push(points)).status, 200);
    const manifest = await b.startCursor();
    assert.ok(manifest.segments.length >= 1, JSON.stringify(manifest));
    const seg = manifest.segments[0];
    const whole = await b.request('GET', seg.url);
    assert.equal(whole.status, 200);
    assert.equal(whole.buffer.length, seg.bytes);
    assert.equal(createHash('sha256').update(whole.buffer).digest('hex'), seg.sha256);
    assert.equal(whole.headers.get('x-content-sha256'), seg.sha256);
    assert.equal(whole.headers.get('etag'), `"${seg.sha256}"`);
    assert.equal(whole.headers.get('accept-ranges'), 'bytes');

    // Resumed in three pieces: a range, an open-ended range and the suffix form.
    const cut1 = Math.floor(seg.bytes / 3), cut2 = Math.floor((2 * seg.bytes) / 3);
    const parts = [];
    for (const range of [`bytes=0-${cut1 - 1}`, `bytes=${cut1}-${cut2 - 1}`, `bytes=-${seg.bytes - cut2}`]) {
      const r = await b.request('GET', seg.url, undefined, { range });
      assert.equal(r.status, 206, range);
      assert.match(r.headers.get('content-range'), new RegExp(`^bytes \\d+-\\d+/${seg.bytes}$`));
      parts.push(r.buffer);
    }
    assert.equal(createHash('sha256').update(Buffer.concat(parts)).digest('hex'), seg.sha256);
    const open = await b.request('GET', seg.url, undefined, { range: `bytes=${cut2}-` });
    assert.equal(open.status, 206);
    assert.equal(open.buffer.length, seg.bytes - cut2);
    const outside = await b.request('GET', seg.url, undefined, { range: `bytes=${seg.bytes}-` });
    assert.equal(outside.status, 416);
    assert.equal(outside.headers.get('content-range'), `bytes */${seg.bytes}`);
    const unknown = await b.request('GET', `/v1/blobs/${'0'.repeat(64)}`);
    assert.equal(unknown.status, 404);

    // The snapshot holds the pushed state: the pull after it brings nothing more.
    const rest = await b.pullAll();
    assert.equal(rest.size, 0);
    assert.equal((await s.stop()).code, 0);
  });

  test('replicas are bound to their principal; collections follow the REST access rules', async () => {
    const key = 'sync-test-key', ro = 'sync-test-read-only';
    const s = await startServer({ tag: 'sync-auth', args: ['--api-key', key, '--read-only-api-key', ro] });
    const anonymous = new Replica(s);
    const none = await anonymous.register();
    assert.equal(none.status, 401);

    const a = new Replica(s, { key });
    assert.equal((await a.register()).status, 200);
    assert.equal((await a.identify('docs')).status, 200);
    assert.equal((await a.push([a.upsert(1, { dense: [1, 2, 3, 4] })])).status, 200);

    // The same replica id with another credential: refused.
    const thief = new Replica(s, { key: ro, id: a.id });
    thief.uid = a.uid;
    const taken = await thief.register();
    assert.equal(taken.status, 409);
    assert.equal(taken.json.error, 'replica_taken');
    const stolen = await thief.pull({ cursor: `${(await a.startCursor()).epoch}:0000000000000000` });
    assert.equal(stolen.status, 403);
    assert.equal(stolen.json.reason, 'replica_principal');

    // A read-only replica may pull but not push, nor create collections.
    const reader = new Replica(s, { key: ro });
    assert.equal((await reader.register()).status, 200);
    assert.equal((await reader.identify('docs')).status, 200);
    reader.cursor = `${(await reader.startCursor()).epoch}:${'0'.repeat(16)}`;
    const pulled = await reader.pullAll();
    assert.deepEqual([...pulled.keys()], [1]);
    const denied = await reader.push([reader.upsert(2, { dense: [1, 1, 1, 1] })]);
    assert.equal(denied.status, 403);
    assert.equal(denied.json.error, 'forbidden');
    const create = await reader.identify('other');
    assert.equal(create.status, 403);
    assert.equal((await s.request('GET', '/collections/other/exists', undefined, { 'api-key': key })).json.result.exists, false);
    assert.equal((await s.stop()).code, 0);
  });

  test('SIGKILL in the middle of pushes: nothing acknowledged is lost, a batch lands whole or not at all', async () => {
    let s = await startServer({ tag: 'sync-kill' });
    const data = s.data;
    const { a, b } = await twoReplicas(s);
    const batch = 40, batches = 30;
    const expected = new Map();  // id -> payload of every acknowledged point
    let inFlight = null;
    let kills = 0;
    const restart = async () => {
      const exited = await s.kill();
      assert.equal(exited.signal, 'SIGKILL');
      kills += 1;
      s = await startServer({ data, tag: 'sync-kill' });
      a.server = s;
      b.server = s;
    };
    for (let n = 0; n < batches; n++) {
      const points = [];
      for (let i = 0; i < batch; i++) {
        const id = n * batch + i;
        points.push(a.upsert(id, { dense: [id, 1, 0, 0], sparse: { indices: [id % 97], values: [1] }, payload: { n, id } }));
      }
      inFlight = points;
      if (n % 7 === 3) {
        // Kill while this push may be on its way, applied, or answered: the client cannot tell which.
        const sending = a.push(points).catch((e) => ({ status: 0, error: e }));
        await sleep([0, 1, 3, 8][kills % 4]);
        await restart();
        const settled = await sending;
        // The batch landed whole or not at all.
        const count = (await s.request('POST', '/collections/docs/points', { ids: points.map((p) => p.id) })).json.result.length;
        assert.ok(count === 0 || count === batch, `batch ${n}: ${count} of ${batch} points after the crash`);
        if (settled.status !== 200) {
          // Unanswered: the client pushes it again (idempotent).
          const again = await a.push(points);
          assert.equal(again.status, 200, again.text);
        }
      } else {
        const r = await a.push(points);
        assert.equal(r.status, 200, r.text);
        assert.deepEqual(r.json.rejected, []);
      }
      for (const p of inFlight) expected.set(p.id, { n, id: p.id });
      inFlight = null;
    }
    assert.ok(kills >= 4);
    // The acknowledgement survived: the replica's push cursor is not ahead of the server (no regression, same
    // epoch), and the other replica's cursor from before the crashes is still valid.
    const last = await a.push([a.upsert(100000, { dense: [1, 1, 1, 1], payload: { last: true } })]);
    assert.equal(last.status, 200, last.text);
    expected.set(100000, { last: true });
    const got = await b.pullAll();
    assert.equal(got.size, expected.size);
    for (const [id, payload] of expected) {
      const p = got.get(id);
      assert.ok(p, `point ${id} arrived`);
      const fields = Object.fromEntries(Object.entries(p.fields).map(([k, v]) => [k, v.v]));
      assert.deepEqual(fields, payload, `point ${id}`);
      if (id !== 100000) assert.deepEqual(fromU32(p.vec.sparse.text.i), [id % 97]);
    }
    const count = await s.request('POST', '/collections/docs/points/count', { exact: true });
    assert.equal(count.json.result.count, expected.size);
    assert.equal((await s.stop()).code, 0);
  });
});
