// Concurrency and shutdown: readers and writers at once; SIGTERM drains in-flight requests with /readyz failing
// first, flushes and exits 0. SIGKILL during wait=true upserts is kill.test.mjs.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { SLOW, sleep, startServer, tempDir, vec } from './quiverd.mjs';

const DIM = 8;
const create = (s, name) => s.request('PUT', `/collections/${name}`, { vectors: { size: DIM, distance: 'Cosine' } });

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
