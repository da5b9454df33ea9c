// db.sync in Debian's Chromium (headless, playwright-core): two persistent profiles are two devices with their
// own IndexedDB stores, syncing live with a real quiverd on a loopback port that allows the test page's origin
// (CORS). One device goes offline (context.setOffline), both write, it comes back: both converge to the same
// points and the same search results. A device whose browser store is wiped (a new profile: a new replica id)
// resyncs from the server's snapshot.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { launchChromium } from '../browser/chromium.mjs';
import { serve } from '../browser/server.mjs';
import { eventually, startServer } from './helpers.mjs';

const profiles = [];
const contexts = [];
let web;
let quiverd;

function newProfile() {
  const p = mkdtempSync(join(tmpdir(), 'quiver-sync-chromium-'));
  profiles.push(p);
  return p;
}

// A device: a browser profile with the test page open.
async function device() {
  const context = await launchChromium(newProfile());
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('[page error]', e.message));
  await page.goto(web.url);
  await page.waitForFunction(() => window.ready === true, null, { timeout: 20000 });
  return { context, page };
}

// Runs `source` (an async function body with `quiver` and `arg` in scope) in the page, with a timeout naming the
// step; returns its value or throws the page's error.
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

// Opens the device's database (IndexedDB), its collection, and a live sync kept on window.dev.
function startSync(page) {
  return run(
    page,
    'open and sync',
    `const db = await quiver.open({ name: 'sync-device' });
     const c = db.collectionExists('docs') ? db.collection('docs')
       : await db.createCollection('docs', { vectors: { size: 4, distance: 'Cosine' } });
     const s = db.sync({ url: arg.url, collections: ['docs'], live: true, waitMs: 2000, retry: { initialMs: 50, maxMs: 400 } });
     window.dev = { db, c, s, changes: [], errors: [] };
     s.on('change', (ch) => window.dev.changes.push(ch));
     s.on('error', (e) => window.dev.errors.push(e.message));
     return db.replicaId;`,
    { url: quiverd.url },
  );
}

function contents(page) {
  return run(
    page,
    'contents',
    `${VEC}
     const c = window.dev.c;
     const points = [];
     let offset;
     do {
       const r = c.scroll({ limit: 500, offset, with_payload: true });
       for (const p of r.points) points.push([p.id, p.payload]);
       offset = r.next_page_offset ?? undefined;
     } while (offset !== undefined);
     const searches = [1, 7, 22, 40].map((i) => c.search({ vector: vec(i), limit: 5 }).map((p) => p.id));
     return { points, searches };`,
  );
}

function status(page) {
  return run(
    page,
    'status',
    `const s = window.dev.s.status;
     return { state: s.state, pending: s.pending, stats: s.stats, lastError: s.lastError?.message ?? null, errors: window.dev.errors.slice(-3) };`,
  );
}

before(async () => {
  web = await serve();
  // The page's origin is the only one the server lets read its answers.
  quiverd = await startServer({ tag: 'npm-sync-browser', args: ['--cors-origins', new URL(web.url).origin] });
});

after(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await quiverd?.kill();
  web?.server.close();
  for (const p of profiles) rmSync(p, { recursive: true, force: true });
});

test('two browser profiles converge after one was offline while both wrote; a wiped store resyncs from the snapshot', async () => {
  const one = await device();
  const two = await device();
  const id1 = await startSync(one.page);
  const id2 = await startSync(two.page);
  assert.notEqual(id1, id2);

  await run(one.page, 'first writes', `${VEC}
    await window.dev.c.upsert(Array.from({ length: 10 }, (_, i) => ({ id: i + 1, vector: vec(i + 1), payload: { n: i + 1 } })));`);
  await eventually(async () => {
    const n = (await contents(two.page)).points.length;
    assert.equal(n, 10, JSON.stringify([await status(one.page), await status(two.page)]));
  }, 15000, 'device two receiving the first writes');

  // Device one goes offline; both write.
  await one.context.setOffline(true);
  await run(one.page, 'offline writes', `${VEC}
    await window.dev.c.upsert([11, 12, 13, 14, 15].map((id) => ({ id, vector: vec(id), payload: { by: 'one' } })));
    await window.dev.c.setPayload({ payload: { tag: 'one' }, points: [1] });
    await window.dev.c.delete([3]);`);
  await run(two.page, 'online writes', `${VEC}
    await window.dev.c.upsert([20, 21, 22, 23, 24, 25].map((id) => ({ id, vector: vec(id), payload: { by: 'two' } })));
    await window.dev.c.setPayload({ payload: { mark: 'two' }, points: [1, 2] });
    await window.dev.c.delete([4]);`);
  await eventually(async () => {
    const s = await status(one.page);
    assert.equal(s.state, 'offline');
    assert.equal(s.pending, 7);
  }, 15000, 'device one noticing it is offline, with its writes pending');
  await eventually(async () => assert.equal((await status(two.page)).pending, 0), 15000, 'device two pushing');
  assert.equal((await contents(one.page)).points.some(([id]) => id === 20), false, 'nothing reached device one offline');

  // Back online: the live loop notices (the 'online' event ends its backoff) and both converge.
  await one.context.setOffline(false);
  let final;
  await eventually(async () => {
    const [a, b] = [await contents(one.page), await contents(two.page)];
    assert.deepEqual(a, b);
    assert.equal(a.points.length, 19);
    final = a;
  }, 20000, 'both devices converging');
  const byId = new Map(final.points);
  assert.deepEqual(byId.get(1), { n: 1, tag: 'one', mark: 'two' });
  assert.deepEqual(byId.get(2), { n: 2, mark: 'two' });
  assert.equal(byId.has(3) || byId.has(4), false);
  assert.deepEqual(byId.get(22), { by: 'two' });
  assert.equal((await status(one.page)).pending, 0);

  // Device two's browser store is wiped: a new profile, a new store, a new replica id. It installs the server's
  // snapshot and catches up.
  await two.context.close();
  const three = await device();
  const id3 = await startSync(three.page);
  assert.notEqual(id3, id2);
  await eventually(async () => assert.deepEqual(await contents(three.page), final), 20000, 'the wiped device resyncing');
  const s3 = await status(three.page);
  assert.ok(s3.stats.resyncs >= 1, JSON.stringify(s3.stats));
  const changes = await run(three.page, 'changes', 'return window.dev.changes;');
  assert.ok(changes.some((c) => c.snapshot === true && c.collection === 'docs'), JSON.stringify(changes));

  // And it syncs on: a write there reaches device one.
  await run(three.page, 'write after resync', `${VEC} await window.dev.c.upsert([{ id: 40, vector: vec(40), payload: { by: 'three' } }]);`);
  await eventually(async () => assert.deepEqual(await contents(one.page), await contents(three.page)), 15000, 'device one receiving the write');
  for (const p of [one.page, three.page]) await run(p, 'close', 'await window.dev.s.close(); await window.dev.db.close();');
});
