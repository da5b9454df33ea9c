// SIGKILL of the npm package in Node: a child process (kill_child.mjs) writes batches to a stored database with
// durability "sync" (upserts, overwrites, payload updates, deletes; seals every few batches, merges after them,
// an explicit optimize every 25) and prints each acknowledged batch; the parent kills it with SIGKILL at a random
// moment, reopens the folder and checks that the collection holds exactly the state after the acknowledged
// batches, or that state plus the whole in-flight batch: nothing acknowledged lost, no batch half visible, nothing
// beyond. The database must then take a write and close. A folder lives for ten rounds, so later kills land on a
// database that was recovered from earlier ones; one round in four kills at a random moment from the child's
// start, often while it opens (replaying the log the previous kill left). The WebAssembly engine has no threads
// option: its background work (seals, merges, index builds) runs on the writing thread.
//
// Rounds: QUIVER_KILL_ROUNDS (default 4; the full run is 1,000:
//   QUIVER_KILL_ROUNDS=1000 node --test tests/js/node/kill.test.mjs).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { COLLECTION, SEGMENT_POINTS, applyBatch } from './kill_child.mjs';
import { open } from './quiver.mjs';

import { rng } from '../../common/rng.mjs';

const ROUNDS = Number(process.env.QUIVER_KILL_ROUNDS ?? 4);
const ROUNDS_PER_FOLDER = 10;
const childScript = fileURLToPath(new URL('./kill_child.mjs', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'quiver-js-kill-'));
after(() => rmSync(root, { recursive: true, force: true }));


// Runs the child from batch `first` and kills it: after `delayMs` from its first acknowledgement, or (fromStart)
// `delayMs` after it was started. Resolves to { last, opened, signal, stderr }.
function runChild(path, first, { delayMs, fromStart }) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [childScript, path, String(first)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let last = first - 1, opened = false, pending = '', stderr = '', timer;
    const kill = () => child.kill('SIGKILL');
    if (fromStart) timer = setTimeout(kill, delayMs);
    const guard = setTimeout(kill, 30000);  // a child that hangs is killed too, and the round fails below
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d) => {
      pending += d;
      let nl;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (line === 'open') opened = true;
        else if (line.startsWith('ack ')) {
          last = Number(line.slice(4));
          if (!timer) timer = setTimeout(kill, delayMs);
        }
      }
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(guard);
      resolve({ last, opened, code, signal, stderr, hung: signal === 'SIGKILL' && last < first && !fromStart });
    });
  });
}

// Payloads compared by their keys in order, whatever order the engine gives them in.
const canon = (payload) => JSON.stringify(Object.keys(payload ?? {}).sort().map((k) => [k, payload[k]]));

const sameState = (got, want) => {
  if (got.size !== want.size) return false;
  for (const [id, p] of want) {
    const g = got.get(id);
    if (!g || canon(g.payload) !== canon(p.payload)) return false;
    if (g.vector.length !== p.vector.length || g.vector.some((x, i) => x !== Math.fround(p.vector[i]))) return false;
  }
  return true;
};

// What the database holds: a Map id -> { vector, payload }, or null when the collection does not exist.
function readState(db) {
  if (!db.collectionExists(COLLECTION)) return null;
  const c = db.collection(COLLECTION);
  const state = new Map();
  let offset = null;
  do {
    const page = c.scroll({ limit: 1000, offset, with_payload: true, with_vector: true });
    for (const p of page.points) state.set(p.id, { vector: Array.from(p.vector), payload: p.payload });
    offset = page.next_page_offset ?? null;
  } while (offset !== null);
  return state;
}

const title = `SIGKILL during durable writes (${ROUNDS} rounds): every acknowledged batch whole, the in-flight one ` +
  'all or nothing';
test(title, async (t) => {
  const random = rng(2026);
  const stats = {
    rounds: 0, acked: 0, lost: 0, failedOpens: 0, inFlightWhole: 0, inFlightAbsent: 0, killedBeforeOpen: 0,
  };
  let path, applied, state;
  for (let round = 0; round < ROUNDS; round++) {
    if (round % ROUNDS_PER_FOLDER === 0) {
      path = join(root, `db-${round}`);
      applied = 0;  // batches 0 .. applied-1 are in the database
      state = new Map();
    }
    const fromStart = round % 4 === 3;
    const delayMs = Math.floor(random() * (fromStart ? 700 : 300));
    const run = await runChild(path, applied, { delayMs, fromStart });
    const after = fromStart ? 'start' : 'the first ack';
    const where = `round ${round} (folder ${path}, from batch ${applied}, kill ${delayMs} ms after ${after})`;
    assert.equal(run.signal, 'SIGKILL', `${where}: the child exited with ${run.code} before the kill: ${run.stderr}`);
    assert.ok(!run.hung, `${where}: no acknowledgement within 30 s: ${run.stderr}`);
    if (!run.opened) stats.killedBeforeOpen++;
    stats.acked += run.last - applied + 1;

    // The acknowledged state, and the same plus the in-flight batch.
    for (let b = applied; b <= run.last; b++) applyBatch(state, b);
    const inFlight = run.last + 1;
    const withInFlight = applyBatch(new Map(state), inFlight);

    let db;
    try {
      db = await open({ path, segmentPoints: SEGMENT_POINTS });
    } catch (e) {
      stats.failedOpens++;
      assert.fail(`${where}: the database does not open after the kill: ${e.message}`);
    }
    const got = readState(db) ?? new Map();
    if (sameState(got, state)) {
      stats.inFlightAbsent++;
      applied = inFlight;
    } else if (sameState(got, withInFlight)) {
      stats.inFlightWhole++;
      applied = inFlight + 1;
      state = withInFlight;
    } else {
      const lost = [...state.keys()].filter((id) => !got.has(id));
      const extra = [...got.keys()].filter((id) => !withInFlight.has(id));
      const changed = [...got.keys()].filter((id) => state.has(id) && withInFlight.has(id) &&
        canon(got.get(id).payload) !== canon(state.get(id).payload) &&
        canon(got.get(id).payload) !== canon(withInFlight.get(id).payload));
      stats.lost += lost.length;
      await db.close();
      assert.fail(`${where}: after acknowledged batch ${run.last} the collection holds ${got.size} points ` +
        `(${state.size} acknowledged, ${withInFlight.size} with the in-flight batch); missing ${lost.slice(0, 5)}, ` +
        `beyond ${extra.slice(0, 5)}, payloads of neither state ${changed.slice(0, 5)}`);
    }
    if (db.collectionExists(COLLECTION)) {
      const c = db.collection(COLLECTION);
      assert.deepEqual(c.verify(), [], `${where}: verify after the kill`);
      // It takes writes: a point in and out again (the state the next round starts from is unchanged).
      await c.upsert([{ id: 1e9, vector: [1, 2, 3, 4], payload: { probe: round } }]);
      assert.equal(c.get([1e9]).length, 1);
      assert.equal(await c.delete([1e9]), 1);
    }
    await db.close();
    stats.rounds++;
    // Long runs report as they go (run the file with plain node to see the lines at once).
    if (stats.rounds % 50 === 0) console.log(`kill loop after ${stats.rounds} rounds: ${JSON.stringify(stats)}`);
  }
  t.diagnostic(`kill loop: ${JSON.stringify(stats)}`);
  assert.equal(stats.rounds, ROUNDS);
  assert.equal(stats.lost, 0);
  assert.equal(stats.failedOpens, 0);
  assert.ok(stats.acked > 0, 'no batch was acknowledged in any round');
});
