// The npm package's sync (db.sync(), docs/sync.md) between Node databases in folders, through a real quiverd on a
// loopback port: writes of every kind converge, concurrent edits follow docs/sync.md's rules, a refused point
// reaches onConflict, a 401 asks getToken again, writeThrough resolves after the server's ack, a quiverd killed
// with SIGKILL and restarted loses no acknowledged write, live sync carries a write to the other replica, and
// answers that are not the protocol fail with a clear error and lose nothing local, and so does a snapshot blob
// that arrives damaged, short or cut off.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, test } from 'node:test';

import {
  CONFIG,
  QuiverError,
  contents,
  device,
  eventually,
  faultProxy,
  cleanUp,
  restPoints,
  searchIds,
  sleep,
  startServer,
  syncUntilOk,
  vec,
} from './helpers.mjs';

const servers = [];
async function server(opts = {}) {
  const s = await startServer({ tag: 'npm-sync', ...opts });
  servers.push(s);
  return s;
}
after(async () => {
  await cleanUp();
  for (const s of servers) await s.kill();
});

// Writes on two devices, synced A, B, A: both hold the same points and give the same search results.
async function settle(...syncs) {
  for (const s of syncs) await s.sync();
  for (const s of syncs) await s.sync();
}

describe('two Node databases through quiverd', () => {
  test('upserts, deletes and payload edits converge, and the server holds them', async () => {
    const s = await server();
    const a = await device('a');
    const b = await device('b');
    const sa = a.db.sync({ url: s.url, collections: ['docs'] });
    const sb = b.db.sync({ url: s.url, collections: ['docs'] });
    await a.c.upsert(Array.from({ length: 30 }, (_, i) => ({ id: i + 1, vector: vec(i + 1), payload: { n: i + 1, from: 'a' } })));
    await b.c.upsert(Array.from({ length: 10 }, (_, i) => ({ id: 100 + i, vector: vec(100 + i), payload: { from: 'b' } })));
    assert.equal(sa.status.pending, 30);
    await settle(sa, sb);
    assert.equal(sa.status.pending, 0);
    assert.equal(sa.status.state, 'connected');
    assert.equal(b.c.count().count, 40);

    await a.c.delete([3, 4]);
    await a.c.setPayload({ payload: { tag: 'red' }, points: [5, 101] });
    await b.c.overwritePayload({ payload: { only: true }, points: [6] });
    await b.c.deletePayloadKeys({ keys: ['n'], points: [7] });
    await b.c.clearPayload([8]);
    await b.c.upsert([{ id: 9, vector: vec(900), payload: { replaced: 1 } }]);
    await settle(sa, sb);

    const all = contents(a.c);
    assert.deepEqual(contents(b.c), all);
    assert.equal(all.length, 38);
    const byId = new Map(all.map((p) => [p.id, p.payload]));
    assert.equal(byId.has(3), false);
    assert.deepEqual(byId.get(5), { n: 5, from: 'a', tag: 'red' });
    assert.deepEqual(byId.get(101), { from: 'b', tag: 'red' });
    assert.deepEqual(byId.get(6), { only: true });
    assert.deepEqual(byId.get(7), { from: 'a' });
    assert.deepEqual(byId.get(8), {});
    assert.deepEqual(byId.get(9), { replaced: 1 });
    for (const i of [1, 9, 50]) assert.deepEqual(searchIds(a.c, i), searchIds(b.c, i));
    // The server's REST API sees the same collection.
    const rest = await restPoints(s, 'docs', [5, 3, 9]);
    assert.deepEqual(rest.map((p) => [p.id, p.payload]), [[5, { n: 5, from: 'a', tag: 'red' }], [9, { replaced: 1 }]]);
    await sa.close();
    await sb.close();
    await a.db.close();
    await b.db.close();
  });

  test('push() only pushes and pull() only pulls', async () => {
    const s = await server();
    const a = await device('a');
    const b = await device('b');
    const sa = a.db.sync({ url: s.url, collections: ['docs'] });
    const sb = b.db.sync({ url: s.url, collections: ['docs'] });
    await a.c.upsert([{ id: 1, vector: vec(1) }]);
    await b.c.upsert([{ id: 2, vector: vec(2) }]);
    await sa.pull();
    assert.equal(sa.status.pending, 1);
    assert.deepEqual(await restPoints(s, 'docs', [1]), []);
    await sa.push();
    assert.equal(sa.status.pending, 0);
    assert.equal((await restPoints(s, 'docs', [1])).length, 1);
    await sb.pull();
    assert.deepEqual(contents(b.c).map((p) => p.id), [1, 2]);
    assert.equal(sb.status.pending, 1);
    assert.deepEqual(await restPoints(s, 'docs', [2]), []);
    await sb.push();
    assert.equal(sb.status.pending, 0);
    await sa.pull();
    assert.deepEqual(contents(a.c), contents(b.c));
    await sa.close();
    await sb.close();
    await a.db.close();
    await b.db.close();
  });

  test('concurrent edits follow the rules of docs/sync.md', async () => {
    const s = await server();
    const a = await device('a');
    const b = await device('b');
    const sa = a.db.sync({ url: s.url, collections: ['docs'] });
    const sb = b.db.sync({ url: s.url, collections: ['docs'] });
    await a.c.upsert([1, 2, 3, 4, 5].map((id) => ({ id, vector: vec(id), payload: { title: `t${id}` } })));
    await settle(sa, sb);
    // Each pair is written without either side having seen the other's write; B writes later.
    await a.c.setPayload({ payload: { tag: 'x', a: 1 }, points: [1] });
    await a.c.setPayload({ payload: { tag: 'x' }, points: [2] });
    await a.c.upsert([{ id: 3, vector: vec(30), payload: { v: 'a' } }]);
    await a.c.upsert([{ id: 5, vector: vec(50), payload: { v: 'a' } }]);
    await sleep(5);
    await b.c.setPayload({ payload: { tag: 'y', b: 2 }, points: [1] });
    await b.c.delete([2]);
    await b.c.upsert([{ id: 3, vector: vec(31), payload: { v: 'b' } }]);
    await b.c.setPayload({ payload: { extra: true }, points: [5] });
    await settle(sa, sb);
    const got = new Map(contents(a.c).map((p) => [p.id, p]));
    assert.deepEqual(contents(b.c), [...got.values()]);
    // Keys merge one by one; the later value of `tag` wins.
    assert.deepEqual(got.get(1).payload, { title: 't1', tag: 'y', a: 1, b: 2 });
    // A payload write never brings back a point deleted concurrently.
    assert.equal(got.has(2), false);
    // The later upsert wins whole: its vector and its payload.
    assert.deepEqual(got.get(3).payload, { v: 'b' });
    assert.deepEqual(got.get(3).vector, contents(b.c).find((p) => p.id === 3).vector);
    const v31 = vec(31);
    const norm = Math.hypot(...v31);
    assert.deepEqual(got.get(3).vector, v31.map((x) => Math.round((x / norm) * 1e5) / 1e5));
    // A set_payload later than an upsert adds its key to the upsert's payload.
    assert.deepEqual(got.get(5).payload, { v: 'a', extra: true });
    await sa.close();
    await sb.close();
    await a.db.close();
    await b.db.close();
  });

  test('a point the server refuses reaches onConflict (stale_op: written before the tombstone horizon), also an asynchronous one', async () => {
    const s = await server({ args: ['--sync-retention-days', '1'] });
    // Two devices whose clocks are two days behind when they write, offline: the server's horizon is a day ago.
    const realNow = Date.now;
    const twoDays = 2 * 24 * 3600 * 1000;
    Date.now = () => realNow() - twoDays;
    let c, d, e;
    try {
      c = await device('c');
      d = await device('d');
      e = await device('e');
      await c.c.upsert([{ id: 500, vector: vec(500), payload: { by: 'c' } }]);
      await d.c.upsert([{ id: 600, vector: vec(600), payload: { by: 'd' } }]);
      await e.c.upsert([{ id: 700, vector: vec(700), payload: { by: 'e' } }, { id: 'a0e1b2c3-0000-4000-8000-000000000007', vector: vec(701), payload: { by: 'e' } }]);
    } finally {
      Date.now = realNow;
    }
    const asked = [];
    const events = [];
    const sc = c.db.sync({
      url: s.url,
      collections: ['docs'],
      onConflict(conflict) {
        asked.push(conflict);
        return 'reapply_local';
      },
    });
    sc.on('conflict', (e) => events.push(e));
    await sc.sync();
    assert.equal(asked.length, 1);
    assert.equal(asked[0].id, 500);
    assert.equal(asked[0].reason, 'stale_op');
    assert.equal(asked[0].collection, 'docs');
    assert.equal(asked[0].local.fields.by.v, 'c');
    assert.equal(asked[0].server, null);
    await sleep(0);
    assert.deepEqual(events.map((e) => [e.id, e.reason, e.resolution]), [[500, 'stale_op', 'reapply_local']]);
    // Written again with fresh stamps and pushed in the same round: the server has it now.
    assert.deepEqual((await restPoints(s, 'docs', [500])).map((p) => p.payload), [{ by: 'c' }]);
    assert.equal(sc.status.pending, 0);
    assert.equal(sc.conflicts('docs').length, 1);

    // Without onConflict the server's state is kept: the server has no point 600, so neither has the device.
    const sd = d.db.sync({ url: s.url, collections: ['docs'] });
    const dEvents = [];
    sd.on('conflict', (e) => dEvents.push(e));
    await sd.sync();
    await sleep(0);
    assert.deepEqual(dEvents.map((e) => [e.id, e.reason, e.resolution]), [[600, 'stale_op', 'keep_server']]);
    assert.deepEqual(d.c.get([600]), []);
    assert.deepEqual(contents(d.c).map((p) => p.id), [500]);
    assert.deepEqual(await restPoints(s, 'docs', [600]), []);

    // An asynchronous onConflict: the round waits for its answers (a numeric and a UUID id) before it settles.
    const uuid = 'a0e1b2c3-0000-4000-8000-000000000007';
    const asyncAsked = [];
    const se = e.db.sync({
      url: s.url,
      collections: ['docs'],
      async onConflict(conflict) {
        asyncAsked.push([conflict.id, conflict.reason, conflict.local.fields.by.v]);
        await sleep(30);
        return conflict.id === uuid ? 'reapply_local' : 'keep_server';
      },
    });
    const eEvents = [];
    se.on('conflict', (ev) => eEvents.push([ev.id, ev.resolution]));
    se.on('error', (err) => eEvents.push(['error', err.message]));
    await se.sync();
    await sleep(0);
    assert.deepEqual(asyncAsked.sort(), [[700, 'stale_op', 'e'], [uuid, 'stale_op', 'e']].sort());
    assert.deepEqual(eEvents.sort(), [[700, 'keep_server'], [uuid, 'reapply_local']].sort());
    assert.deepEqual((await restPoints(s, 'docs', [700, uuid])).map((p) => [p.id, p.payload]), [[uuid, { by: 'e' }]]);
    assert.equal(se.status.pending, 0);
    await sc.close();
    await sd.close();
    await se.close();
    await c.db.close();
    await d.db.close();
    await e.db.close();
  });

  test('a 401 asks getToken for a fresh token and repeats the request', async () => {
    const s = await server({ args: ['--api-key', 'the-right-key'] });
    const a = await device('a');
    await a.c.upsert([{ id: 1, vector: vec(1) }]);
    const tokens = ['an-expired-token', 'the-right-key'];
    let calls = 0;
    const sa = a.db.sync({
      url: s.url,
      collections: ['docs'],
      getToken: async () => tokens[Math.min(calls++, tokens.length - 1)],
    });
    await sa.sync();
    assert.equal(calls, 2);
    assert.equal(sa.status.pending, 0);
    assert.equal((await restPoints(s, 'docs', [1], { 'api-key': 'the-right-key' })).length, 1);
    // A token the server never accepts: the round fails, naming the 401.
    const b = await device('b');
    const sb = b.db.sync({ url: s.url, collections: ['docs'], getToken: () => 'wrong' });
    await assert.rejects(sb.sync(), (e) => e instanceof QuiverError && e.code === 'FailedPrecondition' && /HTTP 401/.test(e.message));
    assert.equal(sb.status.state, 'error');
    // apiKey: sent as is.
    const sb2 = (await sb.close(), b.db.sync({ url: s.url, collections: ['docs'], apiKey: 'the-right-key' }));
    await sb2.sync();
    assert.equal(b.c.count().count, 1);
    await sa.close();
    await sb2.close();
    await a.db.close();
    await b.db.close();
  });

  test('writeThrough: a write resolves after the server acknowledged it', async () => {
    const s = await server();
    const a = await device('a');
    const sa = a.db.sync({ url: s.url, collections: ['docs'], writeThrough: true });
    await a.c.upsert([{ id: 7, vector: vec(7), payload: { n: 7 } }]);
    // No sync call: the upsert's promise resolved only after the push was acknowledged.
    assert.deepEqual((await restPoints(s, 'docs', [7])).map((p) => p.payload), [{ n: 7 }]);
    assert.equal(sa.status.pending, 0);
    await a.c.setPayload({ payload: { m: 1 }, points: [7] });
    assert.deepEqual((await restPoints(s, 'docs', [7])).map((p) => p.payload), [{ n: 7, m: 1 }]);
    // With the server gone the write rejects, and stays local, in the outbox.
    await s.kill();
    await assert.rejects(a.c.upsert([{ id: 8, vector: vec(8) }]), (e) => e instanceof QuiverError && /writeThrough: the write is stored locally/.test(e.message));
    assert.equal(a.c.get([8]).length, 1);
    assert.equal(sa.status.pending, 1);
    assert.equal(sa.status.state, 'offline');
    await sa.close();
    await a.db.close();
  });

  test('quiverd killed with SIGKILL mid-sync and restarted: both converge with every acknowledged write', async () => {
    let s = await server();
    const port = s.port;
    const data = s.data;
    const a = await device('a');
    const b = await device('b');
    const sa = a.db.sync({ url: s.url, collections: ['docs'] });
    const sb = b.db.sync({ url: s.url, collections: ['docs'], live: true, waitMs: 2000, retry: { initialMs: 20, maxMs: 200 } });
    const acked = [];
    let failedPushes = 0;
    let next = 1;
    let killedAt = -1;
    for (let batch = 0; batch < 24; batch++) {
      const ids = Array.from({ length: 50 }, () => next++);
      await a.c.upsert(ids.map((id) => ({ id, vector: vec(id), payload: { batch } })));
      const pushing = sa.push();
      if (batch === 12) {
        // Kill the server while this push is in flight (or just answered), then restart it on the same port.
        await sleep(2);
        await s.kill();
        killedAt = batch;
      }
      try {
        await pushing;
        acked.push(...ids);
      } catch (e) {
        assert.ok(e instanceof QuiverError, String(e));
        failedPushes++;
      }
      if (batch === 14) s = await server({ data, args: ['--port', String(port)] });
    }
    assert.ok(killedAt > 0);
    assert.ok(failedPushes >= 2 && acked.length >= 12 * 50, `pushes failed while the server was down (${failedPushes})`);
    // Every write acknowledged before or after the crash is on the restarted server, before A pushes again.
    const have = new Set((await restPoints(s, 'docs', acked)).map((p) => p.id));
    assert.deepEqual(acked.filter((id) => !have.has(id)), []);
    await syncUntilOk(sa);
    // B's live loop recovers by itself once the server is back.
    await eventually(() => assert.equal(b.c.count().count, next - 1), 20_000, 'B catching up after the restart');
    await sb.sync();
    await sa.sync();
    assert.deepEqual(contents(b.c), contents(a.c));
    assert.equal(sa.status.pending, 0);
    assert.ok(sb.status.stats.failedRounds >= 1, 'B saw the server go');
    await sa.close();
    await sb.close();
    await a.db.close();
    await b.db.close();
  });

  test('a kept-alive connection the server closed meanwhile does not fail the next round', async () => {
    const s = await server({ args: ['--idle-timeout-ms', '100'] });
    const a = await device('a');
    const sa = a.db.sync({ url: s.url, collections: ['docs'] });
    for (let round = 0; round < 3; round++) {
      await a.c.upsert([{ id: round + 1, vector: vec(round + 1) }]);
      await sa.sync();
      // Long synchronous work (as an index build is): the server closes the idle connections meanwhile, and the
      // event loop sees it only when the next request is already on its way.
      const until = Date.now() + 400;
      while (Date.now() < until) {}
    }
    await sa.push();
    assert.equal(sa.status.pending, 0);
    await sleep(20);  // the test's own fetch below shares the pool of connections: let it see the closes
    assert.equal((await restPoints(s, 'docs', [1, 2, 3])).length, 3);
    await sa.close();
    await a.db.close();
  });

  test('live: a write on A reaches B by itself, with change events', async () => {
    const s = await server();
    const a = await device('a');
    const b = await device('b');
    const sa = a.db.sync({ url: s.url, collections: ['docs'], live: true, waitMs: 5000 });
    const sb = b.db.sync({ url: s.url, collections: ['docs'], live: true, waitMs: 5000 });
    const changes = [];
    sb.on('change', (ch) => changes.push(ch));
    // Both have installed the (empty) snapshot: from now on changes come through the feed.
    await eventually(() => {
      assert.equal(sa.status.stats.resyncs, 1);
      assert.equal(sb.status.stats.resyncs, 1);
    }, 10_000, 'A and B joining');
    assert.equal(sb.status.state, 'connected');
    await a.c.upsert([{ id: 42, vector: vec(42), payload: { live: true } }]);
    await eventually(() => assert.equal(b.c.get([42]).length, 1), 10_000, 'the write reaching B');
    assert.ok(changes.some((ch) => ch.collection === 'docs' && ch.ids.includes(42) && !ch.snapshot), JSON.stringify(changes));
    await b.c.delete([42]);
    await eventually(() => assert.equal(a.c.get([42]).length, 0), 10_000, 'the delete reaching A');
    await sa.close();
    await sb.close();
    // Closing releases everything: the database closes, and a closed sync refuses work.
    await assert.rejects(sa.sync(), /the sync was closed/);
    await a.db.close();
    await b.db.close();
  });

  test('answers that are not the protocol give a clear error and lose nothing local', async () => {
    const s = await server();
    const proxy = await faultProxy(s.url);
    const a = await device('a');
    const b = await device('b');
    const sa = a.db.sync({ url: proxy.url, collections: ['docs'] });
    const sb = b.db.sync({ url: proxy.url, collections: ['docs'] });
    await a.c.upsert(Array.from({ length: 20 }, (_, i) => ({ id: i + 1, vector: vec(i + 1), payload: { i } })));
    const before = contents(a.c);
    const errors = [];
    sa.on('error', (e) => errors.push(e));

    proxy.match = (method, path) => method === 'POST' && path.includes('/push');
    proxy.mode = 'garbage';
    await assert.rejects(sa.sync(), (e) => e instanceof QuiverError && e.code === 'InvalidArgument' && /push response/.test(e.message));
    proxy.mode = 'truncate';
    await assert.rejects(sa.sync(), (e) => e instanceof QuiverError && /push response/.test(e.message));
    proxy.mode = 'drop';
    await assert.rejects(sa.sync(), (e) => e instanceof QuiverError && e.code === 'IOError' && /network error/.test(e.message));
    assert.equal(sa.status.state, 'offline');
    await sleep(0);
    assert.equal(errors.length, 3);
    assert.deepEqual(contents(a.c), before);
    assert.equal(sa.status.pending, 20);

    proxy.mode = 'pass';
    await sa.sync();
    assert.equal(sa.status.pending, 0);
    // A pull answered with garbage leaves B as it was; the next pull takes everything.
    await sb.sync();
    await a.c.upsert([{ id: 99, vector: vec(99) }]);
    await sa.sync();
    const bBefore = contents(b.c);
    proxy.match = (method, path) => method === 'GET' && path.includes('/pull');
    proxy.mode = 'garbage';
    await assert.rejects(sb.pull(), (e) => e instanceof QuiverError && /pull response/.test(e.message));
    assert.deepEqual(contents(b.c), bBefore);
    proxy.mode = 'pass';
    await sb.pull();
    assert.deepEqual(contents(b.c), contents(a.c));
    await sa.close();
    await sb.close();
    await a.db.close();
    await b.db.close();
    await proxy.close();
  });

  test('a damaged, short or cut snapshot blob is refused with a clear error and loses nothing local', async () => {
    const s = await server();
    const proxy = await faultProxy(s.url);
    const a = await device('a');
    const sa = a.db.sync({ url: s.url, collections: ['docs'] });
    await a.c.upsert(Array.from({ length: 30 }, (_, i) => ({ id: i + 1, vector: vec(i + 1), payload: { i } })));
    await sa.sync();
    // B has local writes and no cursor: its first round installs the snapshot, carrying its writes over.
    const b = await device('b');
    await b.c.upsert(Array.from({ length: 5 }, (_, i) => ({ id: 100 + i, vector: vec(100 + i), payload: { mine: i } })));
    const before = contents(b.c);
    const sb = b.db.sync({ url: proxy.url, collections: ['docs'] });
    proxy.match = (method, path) => method === 'GET' && path.startsWith('/sync/v1/blobs/');
    proxy.mode = 'corrupt';
    await assert.rejects(
      sb.sync(),
      (e) => e instanceof QuiverError && e.code === 'Corruption' && /snapshot segment .* SHA-256 [0-9a-f]{64}, the manifest says/.test(e.message),
    );
    assert.deepEqual(contents(b.c), before);
    assert.equal(sb.status.pending, 5);
    proxy.mode = 'truncate';
    await assert.rejects(
      sb.sync(),
      (e) => e instanceof QuiverError && e.code === 'Corruption' && /snapshot segment .* arrived as \d+ bytes, the manifest says \d+ bytes/.test(e.message),
    );
    assert.deepEqual(contents(b.c), before);
    proxy.mode = 'cut';
    await assert.rejects(sb.sync(), (e) => e instanceof QuiverError && e.code === 'IOError' && /blobs/.test(e.message));
    assert.deepEqual(contents(b.c), before);
    assert.equal(sb.status.pending, 5);

    proxy.mode = 'pass';
    await sb.sync();
    assert.equal(sb.status.pending, 0);
    await sa.sync();
    assert.deepEqual(contents(b.c), contents(a.c));
    assert.equal(b.c.count().count, 35);
    for (const sync of [sa, sb]) await sync.close();
    await a.db.close();
    await b.db.close();
    await proxy.close();
  });
});

describe('db.sync options', () => {
  test('bad options are refused with a message naming the option', async () => {
    const a = await device('opts');
    // A loopback port nobody listens on (taken, then released).
    const probe = net.createServer();
    await new Promise((r) => probe.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${probe.address().port}`;
    await new Promise((r) => probe.close(r));
    const bad = (options, pattern) => assert.throws(() => a.db.sync(options), (e) => e instanceof QuiverError && pattern.test(e.message));
    bad({ url: 'not a url', collections: ['docs'] }, /sync\.url: expected an http/);
    bad({ url: 'ftp://127.0.0.1/', collections: ['docs'] }, /sync\.url/);
    bad({ url, collections: [] }, /sync\.collections: expected a non-empty array/);
    bad({ url, collections: ['nope'] }, /no collection named "nope"/);
    bad({ url, collections: ['docs'], apiKey: 'k', getToken: () => 'k' }, /apiKey or getToken, not both/);
    bad({ url, collections: ['docs'], waitMs: 60_000 }, /sync\.waitMs/);
    bad({ url, collections: ['docs'], onConflict: 'keep_server' }, /sync\.onConflict: expected a function/);
    const s = a.db.sync({ url, collections: ['docs'] });
    assert.throws(() => a.db.sync({ url, collections: ['docs'] }), /already syncing/);
    assert.throws(() => s.on('nope', () => {}), /unknown event/);
    // Nothing listens there: offline, with the cause.
    await assert.rejects(s.push(), (e) => e.code === 'IOError' && /network error: fetch failed \(ECONNREFUSED\)/.test(e.message));
    assert.equal(s.status.state, 'offline');
    assert.equal(s.status.pending, 0);
    await a.db.close();
    assert.equal(s.isClosed, true);
  });
});
