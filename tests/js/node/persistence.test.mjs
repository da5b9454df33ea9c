// Node storage: a database folder written by one process is read back by the next (NODEFS, durable when the
// write's Promise resolves: the child exits without closing), one writer per folder, read-only opens.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { open } from './quiver.mjs';

const dir = mkdtempSync(join(tmpdir(), 'quiver-js-persist-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const quiver = fileURLToPath(new URL('./quiver.mjs', import.meta.url));

// Runs `body` in a fresh Node process with `open` and `path` in scope.
function child(path, body) {
  const script = `import { open } from ${JSON.stringify(quiver)}; const path = ${JSON.stringify(path)};\n${body}`;
  // stderr is kept (it is in the thrown error's message) rather than printed: a child that fails on purpose
  // should not print a stack trace among the test results.
  return execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

test('writes survive the process that made them, even without close()', async () => {
  const path = join(dir, 'db1');
  child(path, `
    const db = await open({ path });
    const c = await db.createCollection('docs', { vectors: { size: 3, distance: 'Cosine' } });
    await c.upsert([{ id: 1, vector: [1, 0, 0], payload: { n: 'one' } }, { id: 2, vector: [0, 1, 0] }]);
    const vectors = new Float32Array(3 * 1000).map((_, i) => (i % 7) + 1);
    await c.upsertDense({ ids: Array.from({ length: 1000 }, (_, i) => 100 + i), vectors });
    await c.createPayloadIndex({ field_name: 'n', field_schema: 'keyword' });
    await c.delete([2]);
    process.exit(0);  // no close: every resolved write must already be on disk
  `);
  assert.ok(readdirSync(path).length > 0, 'files were written to the host folder');
  const out = child(path, `
    const db = await open({ path });
    const c = db.collection('docs');
    await c.setPayload({ payload: { more: true }, points: [1] });
    console.log(JSON.stringify({ count: c.count().count, p: c.get([1])[0].payload, gone: c.get([2]).length }));
    await db.close();
  `);
  assert.deepEqual(JSON.parse(out), { count: 1001, p: { n: 'one', more: true }, gone: 0 });
  const db = await open({ path });
  const c = db.collection('docs');
  assert.equal(c.count().count, 1001);
  assert.deepEqual(c.get([1])[0].payload, { n: 'one', more: true });
  assert.equal(c.search({ vector: [1, 0, 0], limit: 1 })[0].id, 1);
  assert.ok(c.info().payload_schema.n);
  assert.deepEqual(c.verify(), []);
  await db.close();
});

test('many writes across a segment seal and optimize, then reopen', async () => {
  const path = join(dir, 'db2');
  const db = await open({ path, segmentPoints: 500 });
  const c = await db.createCollection('v', { vectors: { size: 16, distance: 'Euclid' } });
  for (let b = 0; b < 4; b++) {
    const vectors = new Float32Array(16 * 400).map((_, i) => Math.sin(b * 7919 + i));
    await c.upsertDense({ ids: Array.from({ length: 400 }, (_, i) => b * 400 + i), vectors });
  }
  await c.optimize();
  const q = new Float32Array(16).map((_, i) => Math.sin(2 * 7919 + 16 * 5 + i));
  const before = c.search({ vector: q, limit: 5 }).map((p) => p.id);
  assert.equal(before[0], 805);
  await db.close();
  const again = await open({ path });
  const c2 = again.collection('v');
  assert.equal(c2.count().count, 1600);
  assert.deepEqual(c2.search({ vector: q, limit: 5 }).map((p) => p.id), before);
  await again.close();
});

test('one writer per folder; read-only opens beside it and cannot write', async () => {
  const path = join(dir, 'db3');
  const db = await open({ path });
  const c = await db.createCollection('c', { vectors: { size: 2, distance: 'Dot' } });
  await c.upsert([{ id: 1, vector: [1, 2] }]);
  await db.flush();
  await assert.rejects(open({ path }), { code: 'Busy' });
  // Another process is refused too.
  assert.throws(() => child(path, `await open({ path });`), (e) => /Busy/.test(String(e.stderr)));
  const ro = await open({ path, readOnly: true });
  assert.equal(ro.readOnly, true);
  assert.equal(ro.collection('c').count().count, 1);
  await assert.rejects(ro.collection('c').upsert([{ id: 2, vector: [1, 1] }]), { code: 'FailedPrecondition' });
  await ro.close();
  await db.close();
  const reopened = await open({ path });
  await reopened.close();
});

test('a lock file left by a killed writer is taken over, also when its pid now belongs to another process',
  { skip: !existsSync('/proc/self/stat') && 'no /proc' }, async () => {
  const path = join(dir, 'stale-lock');
  // A writer killed with SIGKILL leaves its lock file.
  const killed = (e) => e.signal === 'SIGKILL';
  assert.throws(() => child(path, `await open({ path }); process.kill(process.pid, 'SIGKILL');`), killed);
  const lock = join(path, 'LOCK.quiverdb-js');
  const left = readFileSync(lock, 'utf8');
  assert.match(left, /^\d+/);
  // Its pid now belongs to a live process that is not a writer.
  const other = spawn('sleep', ['30'], { stdio: 'ignore' });
  const gone = new Promise((resolve) => other.once('exit', resolve));
  try {
    writeFileSync(lock, left.replace(/^\d+/, String(other.pid)));
    const db = await open({ path });
    assert.match(readFileSync(lock, 'utf8'), new RegExp(`^${process.pid}\\b`), 'the lock names this process now');
    await db.close();
    const start = readFileSync(`/proc/${other.pid}/stat`, 'utf8').split(') ')[1].split(' ')[19];
    // The same pid with its own start time is a live writer: the folder stays locked.
    writeFileSync(lock, `${other.pid} ${start}`);
    await assert.rejects(open({ path }), { code: 'Busy' });
    writeFileSync(lock, String(other.pid));  // a lock file of an earlier version: the pid alone
    await assert.rejects(open({ path }), { code: 'Busy' });
  } finally {
    other.kill('SIGKILL');
  }
  await gone;
  await (await open({ path })).close();  // its process is gone: taken over
});

test('a damaged collection is unavailable, not the database; repair() brings it back', async () => {
  const path = join(dir, 'damaged');
  {
    const db = await open({ path, segmentPoints: 50 });
    for (const name of ['d', 'e']) {
      const c = await db.createCollection(name, { vectors: { size: 4, distance: 'Euclid' } });
      await c.upsert(Array.from({ length: 120 }, (_, i) => ({ id: i, vector: [i, 1, 2, i % 7], payload: { n: i } })));
      await c.optimize();
    }
    await db.close();
  }
  // d is collection 1: flip a byte in the middle of its largest segment file.
  const segments = readdirSync(path).filter((f) => f.startsWith('seg-1-'));
  assert.ok(segments.length > 0, `segment files of d: ${readdirSync(path)}`);
  const victim = segments.map((f) => [statSync(join(path, f)).size, f]).sort((a, b) => b[0] - a[0])[0][1];
  const bytes = readFileSync(join(path, victim));
  bytes[bytes.length >> 1] ^= 0x5a;
  writeFileSync(join(path, victim), bytes);

  const db = await open({ path });
  assert.deepEqual(db.listCollections().sort(), ['d', 'e']);
  assert.throws(() => db.collection('d'), (e) => {
    assert.equal(e.code, 'Corruption');
    assert.match(e.message, /collection 'd' is unavailable/);
    assert.ok(e.message.includes(victim), e.message);
    return true;
  });
  assert.equal(db.collection('e').count().count, 120);
  const report = await db.repair('d');
  assert.equal(report.collection, 'd');
  assert.ok([...report.rebuilt, ...report.lost].some((line) => line.includes(victim)), JSON.stringify(report));
  const d = db.collection('d');
  assert.equal(d.count().count, report.points);
  assert.deepEqual(d.verify(), []);
  assert.deepEqual(await db.repair('e'), { collection: 'e', points: 120, rebuilt: [], lost: [] });
  await db.close();
});
