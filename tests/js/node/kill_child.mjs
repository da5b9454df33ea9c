// The writer of the kill loop (kill.test.mjs): opens a stored database with durability "sync" and writes
// batches from a given number on, printing "ack B" after batch B's Promise resolved. It never stops by itself:
// the parent kills it with SIGKILL. The batches and the state they lead to are defined here so that the parent
// checks against the same definition.
//   node kill_child.mjs FOLDER FIRST_BATCH
import { fileURLToPath } from 'node:url';

export const COLLECTION = 'k';
export const DIM = 4;
export const BATCH = 20;
export const SEGMENT_POINTS = 100;  // a seal about every six batches, merges after them
export const OPTIMIZE_EVERY = 25;   // an explicit optimize after every 25th batch

const ids = (b) => Array.from({ length: BATCH }, (_, j) => b * BATCH + j);
export const vectorOf = (b, j) => [b + j / 100, b - j / 100, j, 1];

// Batch b, by b % 5: 0 and 1 upsert 20 new points; 2 upserts 20 new points and overwrites batch b-2's (new
// vectors, new payloads); 3 merges a payload key into batch b-1's points; 4 deletes batch b-3's points.
export function batchOf(b) {
  const kind = b % 5;
  if (kind <= 2) {
    const points = ids(b).map((id, j) => ({ id, vector: vectorOf(b, j), payload: { batch: b, v: 0 } }));
    if (kind === 2) {
      ids(b - 2).forEach((id, j) => points.push({ id, vector: vectorOf(b, BATCH + j), payload: { batch: b, v: 0 } }));
    }
    return { upsert: points };
  }
  if (kind === 3) return { setPayload: { payload: { v: b }, points: ids(b - 1) } };
  return { delete: ids(b - 3) };
}

// The points after `batch` is applied to `state` (a Map id -> { vector, payload }), in place.
export function applyBatch(state, b) {
  const op = batchOf(b);
  if (op.upsert) for (const p of op.upsert) state.set(p.id, { vector: p.vector, payload: { ...p.payload } });
  if (op.setPayload) {
    for (const id of op.setPayload.points) {
      const p = state.get(id);
      if (p) state.set(id, { vector: p.vector, payload: { ...p.payload, ...op.setPayload.payload } });
    }
  }
  if (op.delete) for (const id of op.delete) state.delete(id);
  return state;
}

async function main() {
  const [path, first] = [process.argv[2], Number(process.argv[3])];
  const { open } = await import('./quiver.mjs');
  const db = await open({ path, durability: 'sync', segmentPoints: SEGMENT_POINTS });
  if (!db.collectionExists(COLLECTION)) {
    const config = { vectors: { size: DIM, distance: 'Euclid' }, hnsw_config: { m: 8, ef_construct: 32 } };
    await db.createCollection(COLLECTION, config);
  }
  const c = db.collection(COLLECTION);
  await c.createPayloadIndex({ field_name: 'batch', field_schema: 'integer' });
  process.stdout.write('open\n');
  for (let b = first; ; b++) {
    const op = batchOf(b);
    if (op.upsert) await c.upsert(op.upsert);
    else if (op.setPayload) await c.setPayload(op.setPayload);
    else await c.delete(op.delete);
    // A pipe's write is synchronous on Linux: the line is in the pipe before the next batch starts.
    process.stdout.write(`ack ${b}\n`);
    if (b % OPTIMIZE_EVERY === OPTIMIZE_EVERY - 1) await c.optimize();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
