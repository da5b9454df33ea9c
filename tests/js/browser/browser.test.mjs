// The package in Debian's Chromium (headless, driven by playwright-core), against a page served from 127.0.0.1:
// insert, flush, reload: data there; the automatic debounced flush; restart the browser on the same profile:
// data there; a second tab is refused the write lock (QuiverError Busy) and can open read-only; WASM SIMD in use.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { launchChromium } from './chromium.mjs';
import { serve } from './server.mjs';

const profile = mkdtempSync(join(tmpdir(), 'quiver-js-chromium-'));
let web;
let context;

async function launch() {
  context = await launchChromium(profile);
  return context;
}

async function newPage() {
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('[page error]', e.message));
  await page.goto(web.url);
  await page.waitForFunction(() => window.ready === true, null, { timeout: 20000 });
  return page;
}

// Runs `source` (an async function body with `quiver` and `arg` in scope) in the page, with a timeout that names
// the step.
async function run(page, step, source, arg) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`browser step "${step}" timed out`)), 30000);
  });
  try {
    return await Promise.race([page.evaluate(([s, a]) => window.run(s, a), [source, arg]), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function ok(page, step, source, arg) {
  const r = await run(page, step, source, arg);
  assert.ok(r.ok, `${step}: ${r.code} ${r.message}`);
  return r.value;
}

before(async () => {
  web = await serve();
  await launch();
});

after(async () => {
  await context?.close().catch(() => {});
  web?.server.close();
  rmSync(profile, { recursive: true, force: true });
});

const writeBody = `
  const db = await quiver.open({ name: 'persist' });
  window.db = db;
  const c = await db.createCollection('docs', { vectors: { size: 16, distance: 'Cosine' } });
  const n = 300;
  const vectors = new Float32Array(n * 16).map((_, i) => Math.sin(i * 0.37));
  await c.upsertDense({ ids: Array.from({ length: n }, (_, i) => i), vectors,
                        payloads: Array.from({ length: n }, (_, i) => ({ k: i % 3 })) });
  await c.upsert([{ id: 'a0e1b2c3-0000-4000-8000-000000000001', vector: new Float32Array(16).fill(1), payload: { uuid: true } }]);
  await db.flush();
  return { count: c.count().count, simd: db.simd };`;

const readBody = `
  const db = await quiver.open({ name: 'persist' });
  window.db = db;
  const c = db.collection('docs');
  const hit = c.search({ vector: new Float32Array(16).fill(1), limit: 1, with_payload: true })[0];
  const k0 = c.count({ filter: { must: [{ key: 'k', match: { value: 0 } }] } }).count;
  return { count: c.count().count, hit: hit.id, payload: hit.payload, k0, extra: c.get([9999]).length };`;

test('WASM SIMD is in use', async () => {
  const page = await newPage();
  const value = await ok(page, 'simd', `
    // The smallest module using a v128 instruction: WebAssembly.validate says whether the engine supports SIMD.
    const simdProbe = new Uint8Array([0,97,115,109,1,0,0,0,1,5,1,96,0,1,123,3,2,1,0,10,10,1,8,0,65,0,253,15,253,98,11]);
    const db = await quiver.open({ memory: true });
    const c = await db.createCollection('s', { vectors: { size: 4, distance: 'Dot' } });
    const simd = c.stats().simd;
    await db.close();
    return { validate: WebAssembly.validate(simdProbe), simd, moduleSimd: db.simd };`);
  assert.equal(value.validate, true, 'Chromium supports WASM SIMD');
  assert.equal(value.simd, 'wasm-simd128');
  assert.equal(value.moduleSimd, 'wasm-simd128');
  await page.close();
});

test('sparse vectors and BM25 documents in the browser, persisted across a reload', async () => {
  const page = await newPage();
  const written = await ok(page, 'sparse write', `
    const db = await quiver.open({ name: 'sparse' });
    const c = await db.createCollection('kw', { sparse_vectors: { bm25: { modifier: 'idf' }, raw: {} } });
    await c.upsert([
      { id: 1, vector: { bm25: { text: 'Keyword search in the browser', model: 'qdrant/bm25' }, raw: { indices: [9, 2], values: [1, 3] } } },
      { id: 2, vector: { bm25: { text: 'Dense retrieval with embeddings', model: 'qdrant/bm25' } } },
      { id: 3, vector: { bm25: { text: 'Searching keywords, searched keywords', model: 'qdrant/bm25' } } },
    ]);
    await db.flush();
    await db.close();
    return true;`);
  assert.equal(written, true);
  await page.reload();
  await page.waitForFunction(() => window.ready === true);
  const read = await ok(page, 'sparse read', `
    const db = await quiver.open({ name: 'sparse' });
    const c = db.collection('kw');
    const hits = c.search({ vector: { name: 'bm25', vector: { text: 'keyword searches', model: 'qdrant/bm25' } }, limit: 5 });
    const raw = c.get({ ids: [1], with_vector: ['raw'] })[0].vector.raw;
    const dot = c.search({ vector: { name: 'raw', vector: { indices: [2], values: [2] } } });
    await db.close();
    return { ids: hits.map((h) => h.id), raw, dot: dot.map((h) => [h.id, h.score]) };`);
  // "keyword searches" stems to keyword + search: point 3 holds both twice, point 1 once each, point 2 neither.
  assert.deepEqual(read.ids, [3, 1]);
  assert.deepEqual(read.raw, { indices: [2, 9], values: [3, 1] });
  assert.deepEqual(read.dot, [[1, 6]]);
  await page.close();
});

test('insert, flush, reload: data there; a second tab is refused the write lock and can read', async () => {
  const page = await newPage();
  const written = await ok(page, 'write', writeBody);
  assert.equal(written.count, 301);
  // Second tab while the first holds the database.
  const tab2 = await newPage();
  const refused = await run(tab2, 'second tab open', `await quiver.open({ name: 'persist' }); return 'opened';`);
  assert.equal(refused.ok, false, 'the second tab must not get the write lock');
  assert.equal(refused.isQuiverError, true);
  assert.equal(refused.name, 'QuiverError');
  assert.equal(refused.code, 'Busy');
  assert.match(refused.message, /another tab/);
  const readOnly = await ok(tab2, 'second tab read-only', `
    const db = await quiver.open({ name: 'persist', readOnly: true });
    const c = db.collection('docs');
    let code = null;
    try { await c.upsert([{ id: 1, vector: new Float32Array(16) }]); } catch (e) { code = e.code; }
    const count = c.count().count;
    await db.close();
    return { count, code };`);
  assert.deepEqual(readOnly, { count: 301, code: 'FailedPrecondition' });
  await tab2.close();
  // Reload the first tab: the page (and its lock) go away, the data stays.
  await page.reload();
  await page.waitForFunction(() => window.ready === true);
  const read = await ok(page, 'read after reload', readBody);
  assert.deepEqual(read, { count: 301, hit: 'a0e1b2c3-0000-4000-8000-000000000001', payload: { uuid: true }, k0: 100, extra: 0 });
  // Writes without flush() are persisted by the debounced automatic flush.
  await ok(page, 'write without flush', `
    await window.db.collection('docs').upsert([{ id: 9999, vector: new Float32Array(16).fill(0.5), payload: { late: 1 } }]);
    await new Promise((r) => setTimeout(r, 1200));
    return true;`);
  await page.reload();
  await page.waitForFunction(() => window.ready === true);
  const after = await ok(page, 'read after debounced flush', readBody);
  assert.equal(after.count, 302);
  assert.equal(after.extra, 1);
  await ok(page, 'close', `await window.db.close(); return true;`);
  await page.close();
});

test('restart the browser on the same profile: data there', async () => {
  await context.close();
  await launch();
  const page = await newPage();
  const read = await ok(page, 'read after browser restart', readBody);
  assert.equal(read.count, 302);
  assert.equal(read.k0, 100);
  // Snapshot round trip inside the browser.
  const snap = await ok(page, 'snapshot', `
    const c = window.db.collection('docs');
    const bytes = await c.createSnapshot();
    const mem = await quiver.open({ memory: true });
    const copy = await mem.restoreSnapshot('docs', bytes);
    const again = await copy.createSnapshot();
    const same = bytes.length === again.length && bytes.every((b, i) => b === again[i]);
    await mem.close();
    await window.db.close();
    // Close and open again on the same page: the mount and the lock are released and taken again.
    const reopened = await quiver.open({ name: 'persist' });
    const count = reopened.collection('docs').count().count;
    await reopened.close();
    return { same, count, size: bytes.length };`);
  assert.equal(snap.same, true);
  assert.equal(snap.count, 302);
  await page.close();
});

test('a full IndexedDB quota is ResourceExhausted; what earlier flushes stored stays, the next flush saves the rest', async () => {
  // A browser of its own on a fresh profile: Chromium applies the quota override reliably only to a site whose
  // storage it has not used yet in the session.
  const quotaProfile = mkdtempSync(join(tmpdir(), 'quiver-js-quota-'));
  const quotaContext = await launchChromium(quotaProfile);
  const page = await quotaContext.newPage();
  page.on('pageerror', (e) => console.error('[page error]', e.message));
  await page.goto(web.url);
  await page.waitForFunction(() => window.ready === true, null, { timeout: 20000 });
  const origin = new URL(web.url).origin;
  // Room for 1 MB more than the site holds now (IndexedDB compresses, so the vectors below are random).
  const cdp = await quotaContext.newCDPSession(page);
  const usage = await page.evaluate(async () => (await navigator.storage.estimate()).usage);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: usage + 1_000_000 });
  const count = `const db = await quiver.open({ name: 'quota' }); window.qdb = db; return db.collection('q').count().count;`;
  await ok(page, 'write within the quota', `
    const db = await quiver.open({ name: 'quota' });
    window.qdb = db;
    const c = await db.createCollection('q', { vectors: { size: 64, distance: 'Dot' } });
    await c.upsertDense({ ids: Array.from({ length: 100 }, (_, i) => i), vectors: new Float32Array(100 * 64).fill(0.5) });
    await db.flush();
    return true;`);
  // 8,000 more points (2 MB of vectors) do not fit.
  const more = `
    await window.qdb.collection('q').upsertDense({ ids: Array.from({ length: 8000 }, (_, i) => 1000 + i),
                                                   vectors: new Float32Array(8000 * 64).map(() => Math.random()) });
    await window.qdb.flush();
    return 'flushed';`;
  const full = await run(page, 'write beyond the quota', more);
  assert.equal(full.ok, false, 'the flush must fail');
  assert.equal(full.code, 'ResourceExhausted');
  assert.match(full.message, /IndexedDB is full/);
  // A reload loses only what was never flushed.
  await page.reload();
  await page.waitForFunction(() => window.ready === true);
  assert.equal(await ok(page, 'count after the failed flush', count), 100);
  // Again beyond the quota, then the quota lifted: the next flush stores what the failed one could not.
  const again = await run(page, 'write beyond the quota again', more);
  assert.equal(again.code, 'ResourceExhausted');
  await cdp.send('Storage.overrideQuotaForOrigin', { origin });
  await ok(page, 'flush with room', `await window.qdb.flush(); await window.qdb.close(); return true;`);
  await page.reload();
  await page.waitForFunction(() => window.ready === true);
  assert.equal(await ok(page, 'count after the later flush', `${count.replace('return', 'const n =')}; await db.close(); return n;`), 8100);
  await quotaContext.close();
  rmSync(quotaProfile, { recursive: true, force: true });
});
