// Concurrency and crashes: readers and writers at once; SIGKILL during wait=true upserts, restart, every
// acknowledged write there; SIGTERM drains in-flight requests with /readyz failing first, flushes and exits 0.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { SLOW, sleep, startServer, tempDir, vec } from './quiverd.mjs';

const DIM = 8;
const create = (s, name) => s.request('PUT', `/collections/${name}`, { vectors: { size: DIM, distance: 'Cosine' } });

async function fetchIds(s, collection, ids) {
  const found = new Set();
  for (let i = 0; i < ids.length; i += 500) {
    const r = await s.request('POST', `/collections/${collection}/points`, { ids: ids.slice(i, i + 500), with_payload: true });
    assert.equal(r.status, 200, r.text);
    for (const p of r.json.result) {
      assert.equal(p.payload.id, p.id, 'payload belongs to its point');
      found.add(p.id);
    }
  }
  return found;
}

describe('concurrency', () => {
  test('readers and writers at once: every write lands, every read succeeds', async () => {
    const s = await startServer({ tag: 'conc' });
    assert.equal((await create(s, 'c')).status, 200);
    const writers = 4, batches = 25 * 1, batch = 20;
    let stop = false;
    const readErrors = [];
    let reads = 0;
    const reader = async () => {
      while (!stop) {
        const r = await s.request('POST', '/collections/c/points/search', { vector: vec(reads, DIM), limit: 5, with_payload: true });
        if (r.status !== 200) readErrors.push(r.text);
        const c = await s.request('POST', '/collections/c/points/count', {});
        if (c.status !== 200) readErrors.push(c.text);
        reads += 2;
      }
    };
    const writer = async (w) => {
      for (let b = 0; b < batches; b++) {
        const points = Array.from({ length: batch }, (_, i) => {
          const id = w * 100000 + b * batch + i;
          return { id, vector: vec(id, DIM), payload: { id, writer: w } };
        });
        const r = await s.request('PUT', '/collections/c/points?wait=true', { points });
        assert.equal(r.status, 200, r.text);
      }
    };
    const readers = [reader(), reader(), reader()];
    await Promise.all(Array.from({ length: writers }, (_, w) => writer(w)));
    stop = true;
    await Promise.all(readers);
    assert.deepEqual(readErrors, []);
    assert.ok(reads > 0);
    assert.equal((await s.request('POST', '/collections/c/points/count', {})).json.result.count, writers * batches * batch);
    assert.equal((await s.stop()).code, 0);
  });
});

describe('crashes', () => {
  test('SIGKILL during wait=true upserts: after a restart every acknowledged write is there', async () => {
    const data = join(tempDir('kill'), 'db');
    let s = await startServer({ data });
    assert.equal((await create(s, 'k')).status, 200);
    for (let round = 0; round < 2; round++) {
      const acked = [];
      let killed = false;
      const writer = async (w) => {
        for (let b = 0; !killed; b++) {
          const ids = Array.from({ length: 10 }, (_, i) => round * 1e6 + w * 1e5 + b * 10 + i);
          const points = ids.map((id) => ({ id, vector: vec(id, DIM), payload: { id } }));
          try {
            const r = await s.request('PUT', '/collections/k/points?wait=true', { points });
            if (r.status === 200 && r.json.result.status === 'completed') acked.push(...ids);
          } catch {
            return;  // the connection died with the server
          }
        }
      };
      const writing = Promise.all([0, 1, 2, 3].map(writer));
      await sleep(400 * SLOW + round * 200);
      killed = true;
      const exit = await s.kill();
      assert.equal(exit.signal, 'SIGKILL');
      await writing;
      assert.ok(acked.length > 0, 'no write was acknowledged before the kill');
      s = await startServer({ data });
      const found = await fetchIds(s, 'k', acked);
      const lost = acked.filter((id) => !found.has(id));
      assert.deepEqual(lost.slice(0, 10), [], `${lost.length} of ${acked.length} acknowledged points lost`);
    }
    assert.equal((await s.stop()).code, 0);
  });

  test('SIGTERM: /readyz fails first, in-flight requests finish, data is flushed, exit 0', async () => {
    const data = join(tempDir('term'), 'db');
    const s = await startServer({ data, args: ['--shutdown-delay-ms', String(600 * SLOW)] });
    assert.equal((await create(s, 't')).status, 200);
    const points = Array.from({ length: 4000 }, (_, i) => ({ id: i, vector: vec(i, DIM), payload: { id: i } }));
    const big = s.request('PUT', '/collections/t/points?wait=true', { points });
    await sleep(100 * SLOW);  // the request is on its way (the listener stays open for shutdown_delay_ms anyway)
    s.proc.kill('SIGTERM');
    await sleep(100 * SLOW);
    assert.equal((await s.request('GET', '/readyz')).status, 503);
    assert.equal((await s.request('GET', '/livez')).status, 200, 'alive while draining');
    const answered = await big;
    assert.equal(answered.status, 200, answered.text);
    const exit = await s.exitPromise;
    assert.equal(exit.code, 0, s.stderr);
    const stopped = s.lines.find((l) => l.event === 'stopped');
    assert.deepEqual(stopped, { event: 'stopped', flush: 'ok', close: 'ok' });
    const again = await startServer({ data });
    assert.equal((await again.request('POST', '/collections/t/points/count', {})).json.result.count, 4000);
    assert.equal((await again.stop()).code, 0);
  });
});
