// bigint values in payloads and filters reach the engine as exact JSON integers, negative ones included (issue
// 10: `{a: -5n}` used to be stored as a tagged string, so it failed `range {lt: 0}` and `match {value: -5}`).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { open } from './quiver.mjs';

test('bigint payload values: negative ones are numbers too', async () => {
  const db = await open({ memory: true });
  const c = await db.createCollection('b', { vectors: { size: 2, distance: 'Dot' } });
  const huge = -(2n ** 60n) - 3n;
  await c.upsert([
    { id: 1, vector: [1, 0], payload: { a: -5n } },
    { id: 2, vector: [0, 1], payload: { a: 5n } },
    { id: 3, vector: [1, 1], payload: { a: huge } },
    { id: 4, vector: [1, 2], payload: { a: [-7n, 0n] } },
  ]);
  const ids = (filter) => c.scroll({ filter }).points.map((p) => p.id);
  assert.deepEqual(ids({ must: [{ key: 'a', range: { lt: 0 } }] }), [1, 3, 4]);
  assert.deepEqual(ids({ must: [{ key: 'a', match: { value: -5 } }] }), [1]);
  assert.deepEqual(ids({ must: [{ key: 'a', match: { value: -5n } }] }), [1]);
  assert.deepEqual(ids({ must: [{ key: 'a', match: { value: huge } }] }), [3]);
  assert.deepEqual(ids({ must: [{ key: 'a', match: { any: [-7n, 5n] } }] }), [2, 4]);
  assert.equal(c.count({ filter: { must: [{ key: 'a', range: { gte: -5n, lte: 5n } }] } }).count, 3);
  const [p1] = c.get({ ids: [1], with_payload: true });
  assert.equal(p1.payload.a, -5);
  await db.close();
});
