// Loading and sharing in Debian's Chromium (headless): a wrong wasmUrl is a QuiverError naming the URL and what
// came back, and the next open() on the same page loads the module; a second open() of a name open on the page
// shares that database; quiverdb/worker runs the same API in a dedicated worker (results, errors, a failed load
// and its retry, terminate).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { launchChromium } from './chromium.mjs';
import { serve } from './server.mjs';

const profile = mkdtempSync(join(tmpdir(), 'quiver-js-loading-'));
let web;
let context;

before(async () => {
  web = await serve();
  context = await launchChromium(profile);
});

after(async () => {
  await context?.close().catch(() => {});
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

// Runs `source` in the page (an async function body with quiver, worker and arg in scope), with a timeout.
async function run(page, step, source, arg) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`browser step "${step}" timed out`)), 30000);
  });
  try {
    const r = await Promise.race([page.evaluate(([s, a]) => window.run(s, a), [source, arg]), timeout]);
    assert.ok(r.ok, `${step}: ${r.code} ${r.message}`);
    return r.value;
  } finally {
    clearTimeout(timer);
  }
}

// In-page helper: the error an async body throws, as plain data.
const caught = `async function caught(body) {
  try { await body(); return null; } catch (e) {
    return { isQuiverError: e instanceof (typeof quiverError !== 'undefined' ? quiverError : quiver.QuiverError), name: e.name, code: e.code, message: e.message };
  }
}`;

test('a wrong wasmUrl: QuiverError naming the URL and what came back; the next open() on the page works', async () => {
  const page = await newPage();
  const r = await run(page, 'bad wasmUrl', `${caught}
    const missing = await caught(() => quiver.open({ memory: true, wasmUrl: '/nowhere/quiver-web.wasm' }));
    const html = await caught(() => quiver.open({ memory: true, wasmUrl: '/' }));
    const js = await caught(() => quiver.open({ memory: true, wasmUrl: new URL('/dist/esm/core.js', location.href) }));
    const db = await quiver.open({ memory: true });
    const c = await db.createCollection('c', { vectors: { size: 2, distance: 'Dot' } });
    await c.upsert([{ id: 1, vector: [1, 0] }]);
    const count = c.count().count;
    await db.close();
    return { missing, html, js, count, origin: location.origin };`);
  const url = (path) => `${r.origin}${path}`;
  assert.equal(r.missing.isQuiverError, true);
  assert.equal(r.missing.code, 'IOError');
  assert.ok(r.missing.message.startsWith(`could not load the WebAssembly module from ${url('/nowhere/quiver-web.wasm')}: HTTP 404`), r.missing.message);
  assert.match(r.missing.message, /open\(\{ wasmUrl \}\)/);
  assert.equal(r.html.code, 'IOError');
  assert.match(r.html.message, new RegExp(`from ${url('/')}: not a WebAssembly module \\(HTTP 200 OK, text/html; charset=utf-8, \\d+ bytes starting 3c 21 64 6f 63 74 79 70 \\.\\.\\. \\("<!doctype html>`));
  assert.match(r.js.message, /not a WebAssembly module \(HTTP 200 OK, text\/javascript, \d+ bytes starting /);
  assert.equal(r.count, 1, 'the retry on the same page loads the module');
  await page.close();
});

test('a second open() of a name open on the page shares it; read-only and writable handles; close order', async () => {
  const page = await newPage();
  const r = await run(page, 'shared open', `${caught}
    const [a, b] = await Promise.all([quiver.open({ name: 'shared' }), quiver.open({ name: 'shared' })]);
    const c = await a.createCollection('c', { vectors: { size: 2, distance: 'Dot' } });
    await c.upsert([{ id: 1, vector: [1, 0] }]);
    const seen = b.collection('c').count().count;
    const reader = await quiver.open({ name: 'shared', readOnly: true });
    const readerWrite = await caught(() => reader.collection('c').upsert([{ id: 2, vector: [0, 1] }]));
    await a.close();
    const afterClose = await caught(() => a.collection('c'));
    await b.collection('c').upsert([{ id: 2, vector: [0, 1] }]);
    await b.close();
    const readerCount = reader.collection('c').count().count;
    await reader.close();
    // All closed: the next open takes the storage (and the lock) afresh.
    const again = await quiver.open({ name: 'shared' });
    const count = again.collection('c').count().count;
    await again.close();
    // Read-only first: a writable open is refused with a message naming the read-only one.
    const ro = await quiver.open({ name: 'shared', readOnly: true });
    const writable = await caught(() => quiver.open({ name: 'shared' }));
    await ro.close();
    return { seen, readerWrite, afterClose, readerCount, count, writable, readOnly: [a.readOnly, b.readOnly, reader.readOnly] };`);
  assert.equal(r.seen, 1);
  assert.equal(r.readerWrite.code, 'FailedPrecondition');
  assert.equal(r.afterClose.code, 'FailedPrecondition');
  assert.equal(r.readerCount, 2);
  assert.equal(r.count, 2);
  assert.deepEqual(r.readOnly, [false, false, true]);
  assert.equal(r.writable.code, 'Busy');
  assert.match(r.writable.message, /already open read-only on this page/);
  await page.close();
});

test('quiverdb/worker: the same API in a dedicated worker; errors, a failed load and its retry, terminate', async () => {
  const page = await newPage();
  const r = await run(page, 'worker', `${caught}
    const quiverError = worker.QuiverError;
    const badLoad = await caught(() => worker.open({ memory: true, wasmUrl: '/missing.wasm' }));
    const db = await worker.open({ name: 'in-worker' });
    const c = await db.createCollection('c', { vectors: { size: 4, distance: 'Euclid' } });
    const n = 1000;
    const vectors = new Float32Array(n * 4).map((_, i) => (i * 7919) % 101);
    await c.upsertDense({ ids: Array.from({ length: n }, (_, i) => i), vectors,
                          payloads: Array.from({ length: n }, (_, i) => ({ even: i % 2 === 0 })) });
    const hits = await c.search({ vector: vectors.subarray(40, 44), limit: 3, with_vector: true,
                                  filter: { must: [{ key: 'even', match: { value: true } }] } });
    const wrongDim = await caught(() => c.search({ vector: [1, 2] }));
    const missing = await caught(() => db.collection('nope'));
    const count = (await c.count({ filter: { must: { key: 'even', match: { value: false } } } })).count;
    const memory = await db.memoryUsage();
    const snapshot = await c.createSnapshot();
    await db.close();
    const again = await worker.open({ name: 'in-worker' });
    const reopened = (await (await again.collection('c')).count()).count;
    const pending = again.listCollections();
    worker.terminate();
    const terminated = await caught(() => pending);
    const restarted = await worker.open({ memory: true });
    const list = await restarted.listCollections();
    return { badLoad, first: hits[0].id, vector: Array.from(hits[0].vector), expected: Array.from(vectors.subarray(40, 44)), isF32: hits[0].vector instanceof Float32Array,
             wrongDim, missing, count, snapshot: snapshot instanceof Uint8Array && snapshot.length > 0, reopened, terminated,
             list, simd: db.simd, memory, origin: location.origin };`);
  assert.equal(r.badLoad.isQuiverError, true);
  assert.equal(r.badLoad.code, 'IOError');
  assert.ok(r.badLoad.message.startsWith(`could not load the WebAssembly module from ${r.origin}/missing.wasm: HTTP 404`), r.badLoad.message);
  assert.equal(r.first, 10);
  assert.deepEqual(r.vector, r.expected);
  assert.equal(r.isF32, true);
  assert.equal(r.wrongDim.isQuiverError, true);
  assert.equal(r.wrongDim.code, 'InvalidArgument');
  assert.equal(r.missing.code, 'NotFound');
  assert.equal(r.count, 500);
  assert.equal(r.snapshot, true);
  assert.equal(r.reopened, 1000);
  assert.equal(r.terminated.code, 'FailedPrecondition');
  assert.deepEqual(r.list, []);
  assert.equal(r.simd, 'wasm-simd128');
  assert.ok(r.memory.wasm_bytes >= 1 << 20 && r.memory.wasm_bytes % 65536 === 0, JSON.stringify(r.memory));
  await page.close();
});
