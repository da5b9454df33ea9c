// The web demo (web-demo/) in Debian's Chromium, headless: load the colour sample, search by colour, with a
// filter and by point id, import JSONL (a good file and a bad one), reload: everything is still there.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';

import { serveStatic } from '../../../scripts/static-server.mjs';
import { launchChromium } from './chromium.mjs';

const profile = mkdtempSync(join(tmpdir(), 'quiver-demo-chromium-'));
let web;
let context;
let page;

before(async () => {
  web = await serveStatic({
    '/dist/': fileURLToPath(new URL('../../../npm/dist/', import.meta.url)),
    '/': fileURLToPath(new URL('../../../web-demo/', import.meta.url)),
  });
  context = await launchChromium(profile);
  page = await context.newPage();
  page.on('pageerror', (e) => console.error('[page error]', e.message));
});

after(async () => {
  await context?.close().catch(() => {});
  web?.server.close();
  rmSync(profile, { recursive: true, force: true });
});

async function ready() {
  await page.goto(web.url);
  await page.waitForFunction(() => window.demoReady === true, null, { timeout: 20000 });
}

const message = () => page.locator('#message').textContent();
const rows = (table) => page.locator(`#${table} tbody tr`).evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));

async function searchFor() {
  await page.click('#search');
  await page.waitForFunction(() => document.querySelector('#timing').textContent.includes('results'));
  const found = await rows('results');
  await page.evaluate(() => { document.querySelector('#timing').textContent = ''; });
  return found;
}

test('the colour sample: load, search by colour, filter, more like a point, bad filter', async () => {
  await ready();
  assert.match(await page.locator('#status').textContent(), /wasm-simd128 kernels/);
  await page.click('#sample');
  await page.waitForFunction(() => document.querySelector('#message').textContent.startsWith('loaded'));
  assert.deepEqual((await rows('collections')).map((r) => r.slice(0, 3)), [['colours', '4096', '3-d Euclid']]);

  await page.locator('#colour').fill('#ff0000');
  let found = await searchFor();
  assert.equal(found.length, 10);
  assert.equal(JSON.parse(found[0][4]).hex, '#ff0000');
  assert.equal(Number(found[0][2]), 0);
  assert.ok(found.every((r) => JSON.parse(r[4]).family === 'red' || JSON.parse(r[4]).family === 'pink' || JSON.parse(r[4]).family === 'orange'));

  await page.fill('#filter', '{"must": [{"key": "family", "match": {"value": "green"}}]}');
  found = await searchFor();
  assert.equal(found.length, 10);
  assert.ok(found.every((r) => JSON.parse(r[4]).family === 'green'));

  await page.fill('#filter', '');
  await page.fill('#like', '1');
  found = await searchFor();
  assert.equal(found.length, 10);
  assert.ok(found.every((r) => r[1] !== '1'));
  assert.equal(JSON.parse(found[0][4]).family, 'grey');  // point 1 is black: its neighbours are dark greys

  await page.fill('#like', '');
  await page.fill('#filter', '{"must": [{"key": "family", "range": {"gte": "x"}}]}');
  await page.click('#search');
  await page.waitForFunction(() => document.querySelector('#message').className === 'error');
  assert.match(await message(), /^InvalidArgument: .*range/);
  await page.fill('#filter', '');
});

test('JSONL import: a good file goes in, a bad line is named, a wrong dimension is refused, neither leaves anything; reload keeps everything', async () => {
  await page.fill('#import-name', 'mine');
  await page.selectOption('#import-distance', 'Dot');
  const good = ['{"id": 1, "vector": [1, 0], "payload": {"t": "a"}}', '{"id": 2, "vector": [0, 1]}',
    '{"id": "550e8400-e29b-41d4-a716-446655440000", "vector": [0.7, 0.7], "payload": {"t": "c"}}'].join('\n');
  await page.setInputFiles('#import-file', { name: 'good.jsonl', mimeType: 'text/plain', buffer: Buffer.from(good) });
  await page.waitForFunction(() => document.querySelector('#message').textContent.startsWith('imported'));
  assert.equal(await message(), 'imported 3 points into "mine"');

  await page.fill('#import-name', 'broken');
  await page.setInputFiles('#import-file', { name: 'bad.jsonl', mimeType: 'text/plain', buffer: Buffer.from('{"id": 1, "vector": [1, 0]}\n{"id": 2, "vector": [0, 1]\n') });
  await page.waitForFunction(() => document.querySelector('#message').className === 'error');
  assert.match(await message(), /bad\.jsonl line 2: not JSON/);
  await page.setInputFiles('#import-file', { name: 'short.jsonl', mimeType: 'text/plain', buffer: Buffer.from('{"id": 1, "vector": [1, 0]}\n{"id": 2, "vector": [1]}\n') });
  await page.waitForFunction(() => /InvalidArgument/.test(document.querySelector('#message').textContent));
  assert.match(await message(), /^InvalidArgument: .*dimension/);

  await page.reload();
  await page.waitForFunction(() => window.demoReady === true, null, { timeout: 20000 });
  assert.deepEqual((await rows('collections')).map((r) => r.slice(0, 3)), [['colours', '4096', '3-d Euclid'], ['mine', '3', '2-d Dot']]);
  await page.selectOption('#collection', 'mine');
  await page.fill('#vector', '[1, 0.1]');
  const found = await searchFor();
  assert.deepEqual(found.map((r) => r[1]), ['1', '550e8400-e29b-41d4-a716-446655440000', '2']);
});
