// Helpers of the npm package's sync tests: quiverd on a loopback port (tests/server/quiverd.mjs), Node databases
// in temporary folders, what a collection holds (compared across replicas), waiting for a condition, and a
// fault-injecting HTTP proxy in front of the real server.
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export { startServer, sleep, SLOW } from '../../server/quiverd.mjs';
export { open, QuiverError } from '../node/quiver.mjs';
import { open } from '../node/quiver.mjs';

export const CONFIG = { vectors: { size: 4, distance: 'Cosine' } };

const dirs = [];
const opened = [];
export function tempDir(tag) {
  const d = mkdtempSync(join(tmpdir(), `quiver-sync-${tag}-`));
  dirs.push(d);
  return d;
}
// Closes every database device() opened (and so their syncs: a live sync left open after a failed assertion
// would keep the test process alive) and removes the folders.
export async function cleanUp() {
  for (const db of opened.splice(0)) await db.close().catch(() => {});
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

// A database in a new folder with collection `name`.
export async function device(tag, name = 'docs', config = CONFIG) {
  const path = join(tempDir(tag), 'db');
  const db = await open({ path });
  opened.push(db);
  const c = await db.createCollection(name, config);
  return { db, c, path };
}

export function vec(i) {
  return [Math.sin(i * 1.3) + 2, Math.cos(i * 0.7), (i % 5) - 2, 1 + (i % 3)];
}

// Everything visible in a collection, in id order: id, payload and vector rounded (compared across replicas).
export function contents(c) {
  const out = [];
  let offset;
  do {
    const page = c.scroll({ limit: 500, offset, with_payload: true, with_vector: true });
    for (const p of page.points) {
      out.push({ id: p.id, payload: p.payload ?? {}, vector: Array.from(p.vector, (x) => Math.round(x * 1e5) / 1e5) });
    }
    offset = page.next_page_offset ?? undefined;
  } while (offset !== undefined);
  return out;
}

export function searchIds(c, i) {
  return c.search({ vector: vec(i), limit: 10 }).map((p) => p.id);
}

// Polls `check` (which throws until it holds) every 20 ms until it passes or `ms` pass.
export async function eventually(check, ms = 10_000, what = 'the condition') {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > end) throw new Error(`${what} did not hold within ${ms} ms: ${e.message}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

// Runs sync() until it succeeds (the server may still be starting): at most `tries` times.
export async function syncUntilOk(s, tries = 50) {
  let last;
  for (let i = 0; i < tries; i++) {
    try {
      await s.sync();
      return;
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw last;
}

export async function restPoints(server, name, ids, headers = {}) {
  const r = await server.request('POST', `/collections/${name}/points`, { ids, with_payload: true }, headers);
  assert.equal(r.status, 200, r.text);
  return r.json.result;
}

// An HTTP proxy on a loopback port in front of `target` (a base URL). `mode` decides what it answers:
//   'pass'      forward the request and its answer
//   'garbage'   forward it, then answer 200 with a body that is not JSON
//   'truncate'  forward it, then answer with the first half of the real body
//   'corrupt'   forward it, then answer with the real body with one byte in its middle changed
//   'cut'       forward it, then send the real status and Content-Length but only half the body, and close
//   'drop'      close the connection without answering
// `match(method, path)` picks the requests the mode applies to (others pass). Counts what it did.
export async function faultProxy(target) {
  const proxy = { mode: 'pass', match: () => true, seen: [] };
  const server = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const ch of req) chunks.push(ch);
    const body = Buffer.concat(chunks);
    const applies = proxy.match(req.method, req.url);
    proxy.seen.push(`${req.method} ${req.url.split('?')[0]}${applies ? ` [${proxy.mode}]` : ''}`);
    const mode = applies ? proxy.mode : 'pass';
    if (mode === 'drop') {
      req.socket.destroy();
      return;
    }
    const headers = { ...req.headers };
    delete headers.host;
    delete headers['content-length'];
    let upstream;
    try {
      upstream = await fetch(target + req.url, { method: req.method, headers, body: body.length ? body : undefined });
    } catch {
      req.socket.destroy();
      return;
    }
    const bytes = Buffer.from(await upstream.arrayBuffer());
    const out = { 'content-type': upstream.headers.get('content-type') ?? 'application/json' };
    if (mode === 'garbage') {
      res.writeHead(200, out).end('<html>this is not the sync protocol</html>');
    } else if (mode === 'truncate') {
      res.writeHead(upstream.status, out).end(bytes.subarray(0, bytes.length >> 1));
    } else if (mode === 'corrupt') {
      const bad = Buffer.from(bytes);
      bad[bad.length >> 1] ^= 0x5a;
      res.writeHead(upstream.status, out).end(bad);
    } else if (mode === 'cut') {
      res.writeHead(upstream.status, { ...out, 'content-length': String(bytes.length) });
      res.write(bytes.subarray(0, bytes.length >> 1), () => setTimeout(() => req.socket.destroy(), 20));
    } else {
      res.writeHead(upstream.status, out).end(bytes);
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  proxy.url = `http://127.0.0.1:${server.address().port}`;
  proxy.close = () => new Promise((r) => server.close(r));
  return proxy;
}
