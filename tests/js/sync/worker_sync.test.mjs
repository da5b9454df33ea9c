// db.sync through quiverdb/worker in Debian's Chromium (headless): the databases live in dedicated workers, the
// sync handles (WorkerSync) in the pages, against a real quiverd on a loopback port that allows the page's origin
// (CORS) and asks for an API key. Two pages (two workers, two IndexedDB stores) converge live, one of them after
// it went offline (its live sync closed, its writes pushed by hand with push() and pull()); getToken (a function
// of the page) is asked again after a 401; a round that fails reaches the page's 'error' listener; writeThrough
// resolves a write after the server's ack; a point the server refuses as stale_op reaches the page's onConflict,
// whose asynchronous answer the round waits for.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';

import { serveStatic } from '../../../scripts/static-server.mjs';
import { launchChromium } from '../browser/chromium.mjs';
import { eventually, restPoints, startServer } from './helpers.mjs';

const KEY = 'worker-sync-key';
const profile = mkdtempSync(join(tmpdir(), 'quiver-worker-sync-chromium-'));
let web;
let quiverd;
let context;

before(async () => {
  web = await serveStatic({
    '/dist/': fileURLToPath(new URL('../../../npm/dist/', import.meta.url)),
    '/sync/': fileURLToPath(new URL('./page/', import.meta.url)),
    '/': fileURLToPath(new URL('../browser/page/', import.meta.url)),
  });
  // A one-day tombstone horizon: writes stamped two days ago are stale_op.
  quiverd = await startServer({
    tag: 'npm-sync-worker',
    args: ['--cors-origins', new URL(web.url).origin, '--api-key', KEY, '--sync-retention-days', '1'],
  });
  context = await launchChromium(profile);
});

after(async () => {
  await context?.close().catch(() => {});
  await quiverd?.kill();
  web?.server.close();
  rmSync(profile, { recursive: true, force: true });
});

async function newPage() {
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('[page error]', e.message));
  await page.goto(web.url);
  await page.waitForFunction(() => window.ready === true, null, { timeout: 20000 });
  return page;
}

// Runs `source` (an async function body with `worker` (quiverdb/worker) and `arg` in scope) in the page, with a
// timeout naming the step; returns its value or throws the page's error.
async function run(page, step, source, arg) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`browser step "${step}" timed out`)), 30000);
  });
  try {
    const r = await Promise.race([page.evaluate(([s, a]) => window.run(s, a), [source, arg]), timeout]);
    if (!r.ok) throw new Error(`${step}: ${r.code} ${r.message}`);
    return r.value;
  } finally {
    clearTimeout(timer);
  }
}

const VEC = 'const vec = (i) => [Math.sin(i * 1.3) + 2, Math.cos(i * 0.7), (i % 5) - 2, 1 + (i % 3)];';

// Opens database `name` in the page's worker with collection docs, kept on window.dev.
const OPEN = `
  const db = await worker.open({ name: arg.name });
  const c = (await db.collectionExists('docs')) ? await db.collection('docs')
    : await db.createCollection('docs', { vectors: { size: 4, distance: 'Cosine' } });
  window.dev = { db, c, changes: [], errors: [], conflicts: [], tokens: 0 };`;

// Starts a live sync on window.dev (getToken: the first token is refused, the next one is right).
const LIVE = `
  const dev = window.dev;
  dev.s = await dev.db.sync({
    url: arg.url, collections: ['docs'], live: true, waitMs: 2000, retry: { initialMs: 50, maxMs: 400 },
    getToken: async () => (dev.tokens++ === 0 ? 'an-expired-token' : arg.key),
  });
  dev.s.on('change', (ch) => dev.changes.push(ch));
  dev.s.on('error', (e) => dev.errors.push(e.message));`;

function contents(page) {
  return run(
    page,
    'contents',
    `${VEC}
     const c = window.dev.c;
     const points = [];
     let offset;
     do {
       const r = await c.scroll({ limit: 500, offset, with_payload: true });
       for (const p of r.points) points.push([p.id, p.payload]);
       offset = r.next_page_offset ?? undefined;
     } while (offset !== undefined);
     const searches = [];
     for (const i of [1, 7, 22]) searches.push((await c.search({ vector: vec(i), limit: 5 })).map((p) => p.id));
     return { points, searches };`,
  );
}

const STATUS = `const s = window.dev.s.status;
  return { state: s.state, pending: s.pending, rounds: s.stats.rounds, failedRounds: s.stats.failedRounds, lastRoundAt: s.lastRoundAt instanceof Date,
           closed: window.dev.s.isClosed, errors: window.dev.errors.slice(-3) };`;
const status = (page) => run(page, 'status', STATUS);

test('two workers converge live, one of them after being offline; getToken after a 401; errors reach the page', async () => {
  const [one, two] = [await newPage(), await newPage()];
  const arg = { url: quiverd.url, key: KEY };
  await run(one, 'open one', OPEN, { name: 'worker-one' });
  await run(two, 'open two', OPEN, { name: 'worker-two' });
  await run(one, 'sync one', LIVE, arg);
  await run(two, 'sync two', LIVE, arg);
  // Each starts from the server's snapshot (empty); what is written afterwards arrives as pulled changes.
  for (const p of [one, two]) {
    await eventually(async () => assert.ok((await run(p, 'snapshot', 'return window.dev.changes;')).some((c) => c.snapshot)), 10000, 'the first snapshot installed');
  }

  await run(one, 'first writes', `${VEC}
    await window.dev.c.upsert(Array.from({ length: 10 }, (_, i) => ({ id: i + 1, vector: vec(i + 1), payload: { n: i + 1 } })));`);
  await eventually(async () => assert.equal((await contents(two)).points.length, 10), 15000, 'page two receiving the first writes');
  const changes = await run(two, 'changes', 'return window.dev.changes;');
  assert.deepEqual([...new Set(changes.flatMap((c) => c.ids))].sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.ok(changes.every((c) => c.collection === 'docs'));
  assert.equal(changes.filter((c) => c.snapshot).length, 1);
  await eventually(async () => {
    const s = await status(one);
    assert.equal(s.pending, 0);
    assert.equal(s.state, 'connected');
    assert.equal(s.lastRoundAt, true);
  }, 10000, 'page one settled');
  // The first token was refused (401): getToken was asked once more, and the fresh token is kept. No round
  // failed on the way (the worker asks for the first token before the sync's start is answered).
  assert.equal(await run(one, 'tokens', 'return window.dev.tokens;'), 2);
  assert.deepEqual((await status(one)).errors, []);
  assert.equal((await status(one)).failedRounds, 0);

  // Page two goes offline: its live sync closes; a sync that runs no rounds by itself shows its outbox.
  await run(two, 'offline', `await window.dev.s.close();
    const closed = window.dev.s.isClosed;
    window.dev.s = await window.dev.db.sync({ url: arg.url, collections: ['docs'], apiKey: arg.key });
    return closed;`, arg);
  await run(two, 'offline writes', `${VEC}
    await window.dev.c.upsert([20, 21, 22, 23].map((id) => ({ id, vector: vec(id), payload: { by: 'two' } })));
    await window.dev.c.setPayload({ payload: { mark: 'two' }, points: [1] });
    await window.dev.c.delete([2]);`);
  const offline = await status(two);
  assert.equal(offline.pending, 6, JSON.stringify(offline));
  await run(one, 'online writes', `${VEC}
    await window.dev.c.upsert([30, 31].map((id) => ({ id, vector: vec(id), payload: { by: 'one' } })));
    await window.dev.c.setPayload({ payload: { tag: 'one' }, points: [1] });`);
  await eventually(async () => assert.equal((await status(one)).pending, 0), 10000, 'page one pushing');
  assert.equal((await contents(two)).points.some(([id]) => id === 30), false, 'nothing reached page two offline');

  // Back online by hand: push() then pull() through the worker, then live again.
  const pushed = await run(two, 'push and pull', `await window.dev.s.push();
    const afterPush = window.dev.s.status.pending;
    await window.dev.s.pull();
    await window.dev.s.close();
    ${LIVE.replace('dev.tokens++ === 0', 'false')}
    return afterPush;`, arg);
  assert.equal(pushed, 0);
  let final;
  await eventually(async () => {
    const [a, b] = [await contents(one), await contents(two)];
    assert.deepEqual(a, b);
    assert.equal(a.points.length, 15);
    final = a;
  }, 15000, 'both pages converging');
  const byId = new Map(final.points);
  assert.deepEqual(byId.get(1), { n: 1, tag: 'one', mark: 'two' });
  assert.equal(byId.has(2), false);
  assert.deepEqual(byId.get(22), { by: 'two' });
  const rest = await restPoints(quiverd, 'docs', [1, 22, 30], { 'api-key': KEY });
  assert.equal(rest.length, 3);

  // A key the server refuses: the round rejects in the page with the QuiverError, and 'error' listeners hear it.
  const refused = await run(two, 'refused', `const s = await window.dev.db.sync({ url: arg.url, collections: ['docs'], getToken: () => 'wrong' }).catch((e) => e);
    return s.code;`, arg);
  assert.equal(refused, 'FailedPrecondition', 'one sync per database: the live one is still running');
  const failed = await run(two, 'refused round', `await window.dev.s.close();
    const s = await window.dev.db.sync({ url: arg.url, collections: ['docs'], getToken: () => 'wrong' });
    const heard = [];
    s.on('error', (e) => heard.push([e.name, e.code]));
    const error = await s.sync().then(() => null, (e) => ({ name: e.name, code: e.code, message: e.message, isQuiverError: e instanceof worker.QuiverError }));
    await new Promise((r) => setTimeout(r, 0));
    const st = s.status;
    await s.close();
    return { error, heard, state: st.state, lastError: st.lastError?.code, closed: s.isClosed };`, arg);
  assert.equal(failed.error.isQuiverError, true);
  assert.equal(failed.error.code, 'FailedPrecondition');
  assert.match(failed.error.message, /HTTP 401/);
  assert.deepEqual(failed.heard, [['QuiverError', 'FailedPrecondition']]);
  assert.equal(failed.state, 'error');
  assert.equal(failed.lastError, 'FailedPrecondition');
  assert.equal(failed.closed, true);

  for (const p of [one, two]) {
    await run(p, 'close', 'await window.dev.s.close(); await window.dev.db.close();');
    await p.close();
  }
});

test('a point refused as stale_op reaches the page\'s onConflict, whose asynchronous answer the round waits for; writeThrough', async () => {
  const page = await newPage();
  // Written by a worker whose clock is two days behind (before the server's one-day horizon), offline.
  await run(page, 'stale writes', `${VEC}
    const db = await worker.open({ name: 'worker-stale', worker: new Worker('/sync/skewed-worker.js?skew=' + 2 * 86400000, { type: 'module' }) });
    const c = await db.createCollection('stale', { vectors: { size: 4, distance: 'Cosine' } });
    await c.upsert([{ id: 500, vector: vec(500), payload: { by: 'stale' } }, { id: 501, vector: vec(501), payload: { by: 'stale' } }]);
    await db.close();
    worker.terminate();`);
  // The same database in a worker with the right clock: its push is refused; the page answers after a pause.
  const result = await run(page, 'sync with onConflict', `
    const db = await worker.open({ name: 'worker-stale' });
    const asked = [];
    const events = [];
    const s = await db.sync({
      url: arg.url, collections: ['stale'], apiKey: arg.key,
      onConflict: async (conflict) => {
        asked.push({ id: conflict.id, reason: conflict.reason, collection: conflict.collection, by: conflict.local.fields.by.v, server: conflict.server });
        await new Promise((r) => setTimeout(r, 50));
        return conflict.id === 500 ? 'reapply_local' : 'keep_server';
      },
    });
    s.on('conflict', (e) => events.push([e.id, e.reason, e.resolution]));
    await s.sync();
    await new Promise((r) => setTimeout(r, 0));
    const recorded = (await s.conflicts('stale')).map((c) => c.id).sort();
    await s.clearConflicts('stale');
    const left = (await s.conflicts('stale')).length;
    const c = await db.collection('stale');
    const ids = (await c.scroll({ limit: 10 })).points.map((p) => p.id);
    const pending = s.status.pending;
    await s.close();
    window.dev = { db, c };
    return { asked, events, recorded, left, ids, pending };`, { url: quiverd.url, key: KEY });
  result.asked.sort((a, b) => a.id - b.id);
  assert.deepEqual(result.asked, [
    { id: 500, reason: 'stale_op', collection: 'stale', by: 'stale', server: null },
    { id: 501, reason: 'stale_op', collection: 'stale', by: 'stale', server: null },
  ]);
  assert.deepEqual(result.events.sort((a, b) => a[0] - b[0]), [[500, 'stale_op', 'reapply_local'], [501, 'stale_op', 'keep_server']]);
  assert.deepEqual(result.recorded, [500, 501]);
  assert.equal(result.left, 0);
  // 500 was written again with fresh stamps and pushed in the same round; 501 became the server's (nothing).
  assert.deepEqual(result.ids, [500]);
  assert.equal(result.pending, 0);
  assert.deepEqual((await restPoints(quiverd, 'stale', [500, 501], { 'api-key': KEY })).map((p) => [p.id, p.payload]), [[500, { by: 'stale' }]]);

  // writeThrough: the write resolves once the server acknowledged it.
  const through = await run(page, 'writeThrough', `${VEC}
    const s = await window.dev.db.sync({ url: arg.url, collections: ['stale'], apiKey: arg.key, writeThrough: true });
    await window.dev.c.upsert([{ id: 502, vector: vec(502), payload: { by: 'through' } }]);
    const pending = s.status.pending;
    await s.close();
    await window.dev.db.close();
    return pending;`, { url: quiverd.url, key: KEY });
  assert.equal(through, 0);
  assert.deepEqual((await restPoints(quiverd, 'stale', [502], { 'api-key': KEY })).map((p) => p.payload), [{ by: 'through' }]);
  await page.close();
});
