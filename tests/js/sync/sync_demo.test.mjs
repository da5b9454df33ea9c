// The sync demo (web-demo/sync-demo.mjs: quiverd plus the page server, started by the one documented command)
// in Debian's Chromium, headless: a colour added on device A shows up on device B; B goes offline, both write
// (B's write waits in its outbox, A deletes a colour), B comes back online: both devices show the same palette.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';

import { launchChromium } from '../browser/chromium.mjs';
import { eventually } from './helpers.mjs';

const profile = mkdtempSync(join(tmpdir(), 'quiver-sync-demo-chromium-'));
let demo;
let url;
let context;

before(async () => {
  demo = spawn(process.execPath, [fileURLToPath(new URL('../../../web-demo/sync-demo.mjs', import.meta.url)), '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  demo.stderr.on('data', (d) => (err += d));
  url = await new Promise((resolve, reject) => {
    demo.stdout.on('data', (d) => {
      out += d;
      const m = /Quiver sync demo: (\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    demo.on('exit', (code) => reject(new Error(`sync-demo.mjs exited (${code}): ${err}`)));
  });
  assert.match(out, /quiverd: http:\/\/127\.0\.0\.1:\d+ \(data in .*quiver-sync-demo-/);
  context = await launchChromium(profile);
});

after(async () => {
  await context?.close().catch(() => {});
  if (demo && demo.exitCode === null) {
    const exited = new Promise((r) => demo.once('exit', r));
    demo.kill('SIGTERM');
    await exited;
  }
  rmSync(profile, { recursive: true, force: true });
});

// The palette a device shows, as sorted hex codes; and its status lines.
const palette = (frame) => frame.locator('#points li').evaluateAll((lis) => lis.map((li) => li.dataset.hex).sort());
const text = (frame, id) => frame.locator(`#${id}`).textContent();

async function add(frame, colour) {
  await frame.locator('#colour').fill(colour);
  await frame.locator('#add').click();
  await eventually(async () => assert.ok((await palette(frame)).includes(colour)), 5000, `${colour} added`);
}

test('two devices sync through quiverd: live, then after one was offline while both wrote', async () => {
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('[page error]', e.message));
  await page.goto(url);
  const [a, b] = await eventually(() => {
    const frames = [page.frame({ name: 'device-a' }), page.frame({ name: 'device-b' })];
    assert.ok(frames.every(Boolean));
    return frames;
  }, 10000, 'the two device frames');
  for (const f of [a, b]) await f.waitForFunction(() => window.deviceReady === true, null, { timeout: 20000 });
  assert.equal(await text(a, 'title'), 'Device A');
  assert.equal(await text(b, 'database'), 'quiver-sync-demo-b (IndexedDB)');
  await eventually(async () => {
    assert.equal(await text(a, 'state'), 'connected');
    assert.equal(await text(b, 'state'), 'connected');
  }, 10000, 'both devices connected');

  // Live: A's colour arrives on B.
  await add(a, '#ff0000');
  await eventually(async () => assert.deepEqual(await palette(b), ['#ff0000']), 10000, 'device B receiving #ff0000');
  assert.match(await text(b, 'last-pull'), /^\d\d?:\d\d:\d\d.* \(\d+ points? pulled so far\)$/);
  await eventually(async () => assert.equal(await text(a, 'pending'), '0'), 5000, 'device A pushed');

  // B goes offline; both write, and A deletes red.
  await b.locator('#online').uncheck();
  await eventually(async () => assert.equal(await text(b, 'state'), 'offline (sync closed)'), 5000, 'device B offline');
  await add(a, '#00ff00');
  await add(b, '#0000ff');
  await a.locator('#points li[data-hex="#ff0000"] button').click();
  await eventually(async () => assert.deepEqual(await palette(a), ['#00ff00']), 5000, 'red deleted on A');
  await eventually(async () => assert.equal(await text(b, 'pending'), '1'), 5000, "B's write pending");
  await eventually(async () => assert.equal(await text(a, 'pending'), '0'), 5000, "A's writes pushed");
  assert.deepEqual(await palette(b), ['#0000ff', '#ff0000'], 'nothing reached device B offline');

  // Back online: both show the same palette.
  await b.locator('#online').check();
  await eventually(async () => {
    assert.deepEqual(await palette(a), ['#0000ff', '#00ff00']);
    assert.deepEqual(await palette(b), ['#0000ff', '#00ff00']);
    assert.equal(await text(b, 'pending'), '0');
    assert.equal(await text(b, 'state'), 'connected');
  }, 15000, 'both devices converging');
  assert.equal(await text(a, 'conflicts'), '0');
  // Who wrote what travels with the point.
  const by = await b.locator('#points li[data-hex="#00ff00"] .by').textContent();
  assert.equal(by, 'A');
  await page.close();
});
