// SIGKILL of quiverd during wait=true upserts. Each round starts quiverd on a database folder (threads 0, 1 and 2
// in turn: --threads, the pool that serves connections, runs requests and builds indexes in the background), four
// clients on their own connections upsert batches with wait=true (new points, and every third batch also
// overwrites the writer's previous batch with new payloads), and quiverd is killed with SIGKILL a random while
// after the first answer, so that requests are in flight. After the restart every point is read back: each point
// answered 200 is there with the payload of its last answered write, each writer's in-flight batch is there whole
// or not at all, and nothing else is there. A folder lives for 20 rounds, so later rounds run on a database
// recovered from earlier kills; one round in five kills quiverd while it starts (opening, replaying the log).
//
// Rounds: QUIVERD_KILL_ROUNDS (default 5, the fifth killed while it starts too; the full run is 1,000:
//   QUIVERD=build/native-release/bindings-native/quiverd QUIVERD_KILL_ROUNDS=1000 \
//     node --test tests/server/kill.test.mjs).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';

import { QUIVERD, SLOW, removeDir, sleep, startServer, tempDir, vec } from './quiverd.mjs';

import { rng } from '../common/rng.mjs';

const ROUNDS = Number(process.env.QUIVERD_KILL_ROUNDS ?? 5);
const ROUNDS_PER_FOLDER = 20;
const WRITERS = 4;
const BATCH = 10;
const DIM = 8;


// Every point of the collection: a Map id -> payload.
async function readAll(s) {
  const all = new Map();
  let offset = null;
  do {
    const r = await s.request('POST', '/collections/k/points/scroll', { limit: 5000, offset, with_payload: true });
    assert.equal(r.status, 200, r.text);
    for (const p of r.json.result.points) all.set(p.id, p.payload);
    offset = r.json.result.next_page_offset ?? null;
  } while (offset !== null);
  return all;
}

// Starts quiverd and kills it after `ms`, wherever it is (opening the database, replaying the log, listening).
async function killWhileStarting(data, threads, ms) {
  const proc = spawn(QUIVERD, ['--data', data, '--port', '0', '--threads', String(threads)], { stdio: 'ignore' });
  const exit = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  await sleep(ms);
  proc.kill('SIGKILL');
  return exit;
}

const title = `SIGKILL during wait=true upserts (${ROUNDS} rounds): every answered upsert there, in-flight batches ` +
  'all or nothing';
test(title, async (t) => {
  const random = rng(2026);
  const stats = {
    rounds: 0, answered: 0, lost: 0, failedStarts: 0, inFlightWhole: 0, inFlightAbsent: 0, killedWhileStarting: 0,
  };
  let data, expected, folder, s;
  const argsFor = (round) => ['--threads', String(round % 3), '--log-requests=false'];
  const start = async (where, round) => {
    try {
      return await startServer({ data, args: argsFor(round) });
    } catch (e) {
      stats.failedStarts++;
      assert.fail(`${where}: quiverd does not start after the kill: ${e.message}`);
    }
  };
  t.after(() => s?.kill());  // a failed round leaves no server behind
  for (let round = 0; round < ROUNDS; round++) {
    const where = `round ${round} (threads ${round % 3})`;
    if (round % ROUNDS_PER_FOLDER === 0) {
      if (s) assert.equal((await s.stop()).code, 0, s.stderr);
      if (folder) removeDir(folder);
      folder = tempDir('kill');
      data = join(folder, 'db');
      expected = new Map();  // id -> the payload of its last answered write
      s = await start(where, round);
      const r = await s.request('PUT', '/collections/k', { vectors: { size: DIM, distance: 'Cosine' } });
      assert.equal(r.status, 200, r.text);
    }

    // Writers: each keeps one request in flight; `flying[w]` is its unanswered batch when the server dies.
    let firstAnswer;
    const answered = new Promise((resolve) => (firstAnswer = resolve));
    const flying = [];
    const writer = async (w) => {
      let previous = [];
      for (let b = 0; ; b++) {
        const fresh = Array.from({ length: BATCH }, (_, i) => ((round * WRITERS + w) * 1e5 + b * BATCH + i));
        const ids = b % 3 === 2 ? [...fresh, ...previous] : fresh;
        const points = ids.map((id) => ({ id, vector: vec(id + b, DIM), payload: { id, round, w, b } }));
        flying[w] = points;
        let r;
        try {
          r = await s.request('PUT', '/collections/k/points?wait=true', { points });
        } catch {
          return;  // the connection died with the server: this batch is in flight
        }
        assert.equal(r.status, 200, `${where}: ${r.text}`);
        assert.equal(r.json.result.status, 'completed');
        for (const p of points) expected.set(p.id, p.payload);
        stats.answered += points.length;
        flying[w] = null;
        previous = fresh;
        firstAnswer();
      }
    };
    const writing = Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
    await answered;
    await sleep(Math.floor(random() * 300 * SLOW));
    const exit = await s.kill();
    assert.equal(exit.signal, 'SIGKILL');
    await writing;

    // Restart (as the next round's server); one time in five it is killed while starting first.
    if (round % 5 === 4) {
      await killWhileStarting(data, (round + 1) % 3, Math.floor(random() * 150 * SLOW));
      stats.killedWhileStarting++;
    }
    s = await start(where, round + 1);
    const got = await readAll(s);
    // Each in-flight batch: whole (every point with the batch's payload) or absent (every point as before).
    for (const batch of flying.filter(Boolean)) {
      const whole = batch.every((p) => JSON.stringify(got.get(p.id)) === JSON.stringify(p.payload));
      const absent = batch.every((p) => JSON.stringify(got.get(p.id)) === JSON.stringify(expected.get(p.id)));
      assert.ok(whole || absent, `${where}: an in-flight batch is neither whole nor absent (or acknowledged ` +
        'points it overwrote are lost), batch of each id: ' +
        JSON.stringify(batch.map((p) => [p.id, got.get(p.id)?.b ?? null])));
      if (whole) {
        stats.inFlightWhole++;
        for (const p of batch) expected.set(p.id, p.payload);
      } else {
        stats.inFlightAbsent++;
      }
    }
    const lost = [...expected].filter(([id, p]) => JSON.stringify(got.get(id)) !== JSON.stringify(p)).map(([id]) => id);
    stats.lost += lost.length;
    assert.deepEqual(lost.slice(0, 10), [],
      `${where}: ${lost.length} of ${expected.size} answered points lost or changed`);
    const beyond = [...got.keys()].filter((id) => !expected.has(id));
    assert.deepEqual(beyond.slice(0, 10), [], `${where}: points nobody wrote, or of a batch not in flight`);
    stats.rounds++;
    // Long runs report as they go (run the file with plain node to see the lines at once).
    if (stats.rounds % 50 === 0) console.log(`kill loop after ${stats.rounds} rounds: ${JSON.stringify(stats)}`);
  }
  if (s) assert.equal((await s.stop()).code, 0, s.stderr);
  if (folder) removeDir(folder);
  t.diagnostic(`kill loop: ${JSON.stringify(stats)}`);
  assert.equal(stats.rounds, ROUNDS);
  assert.equal(stats.lost, 0);
  assert.equal(stats.failedStarts, 0);
});
