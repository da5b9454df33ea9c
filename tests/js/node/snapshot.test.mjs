// Format version 1 golden files, written natively (tests/tools/golden_gen.cc): the JS package restores the
// native snapshot and exports the same bytes, and reads the native database folder to the same snapshot.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { open } from './quiver.mjs';

const golden = fileURLToPath(new URL('../../data/golden/v1/', import.meta.url));
const snapshot = new Uint8Array(readFileSync(join(golden, 'docs.snapshot')));
const tmp = mkdtempSync(join(tmpdir(), 'quiver-js-golden-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('native snapshot -> restore in WASM -> export: the same bytes', async () => {
  const db = await open({ memory: true });
  const c = await db.restoreSnapshot('docs', snapshot);
  assert.equal(c.count().count, 117);
  const info = c.info();
  assert.equal(info.config.params.vectors.text.size, 8);
  assert.ok(info.payload_schema.city && info.payload_schema.year);
  const out = await c.createSnapshot();
  assert.equal(out.length, snapshot.length);
  assert.ok(Buffer.from(out).equals(Buffer.from(snapshot)), 'exported snapshot differs from the native one');
  await db.close();
});

test('the snapshot survives a stored round trip: restore into a folder, reopen, export', async () => {
  const path = join(tmp, 'restored');
  const db = await open({ path });
  await db.restoreSnapshot('docs', snapshot);
  await db.close();
  const again = await open({ path });
  const out = await again.collection('docs').createSnapshot();
  assert.ok(Buffer.from(out).equals(Buffer.from(snapshot)));
  await again.close();
});

test('the native database folder opens in WASM and snapshots to the same bytes', async () => {
  const path = join(tmp, 'db');
  cpSync(join(golden, 'db'), path, { recursive: true });
  const db = await open({ path, readOnly: true });
  assert.deepEqual(db.listAliases(), [{ alias_name: 'main', collection_name: 'docs' }]);
  const c = db.collection('main');
  assert.equal(c.count().count, 117);
  const res = c.search({
    vector: { name: 'text', vector: [1, -2, 3, -4, 5, -1, 2, 0] },
    limit: 5,
    filter: { must: [{ key: 'year', range: { gte: 1995 } }] },
  });
  const exact = c.search({
    vector: { name: 'text', vector: [1, -2, 3, -4, 5, -1, 2, 0] },
    limit: 5,
    filter: { must: [{ key: 'year', range: { gte: 1995 } }] },
    params: { exact: true },
  });
  assert.deepEqual(res.map((p) => p.id), exact.map((p) => p.id));
  const out = await c.createSnapshot();
  assert.ok(Buffer.from(out).equals(Buffer.from(snapshot)));
  await db.close();
});
