// Test helpers: start quiverd on an ephemeral loopback port in a fresh folder, talk to it over plain HTTP,
// stop or kill it. The binary comes from $QUIVERD (tests/server/run.sh sets it).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const QUIVERD = process.env.QUIVERD;
if (!QUIVERD) throw new Error('set QUIVERD to the quiverd binary (tests/server/run.sh does)');

// Sanitizer builds are slower: tests scale their waits by this.
export const SLOW = Number(process.env.QUIVERD_SLOW ?? 1);

export function tempDir(tag) {
  return mkdtempSync(join(tmpdir(), `quiverd-${tag}-`));
}

// Starts quiverd; resolves when it prints its "listening" line. `data` defaults to a new folder.
export async function startServer({ args = [], env = {}, data, tag = 'test' } = {}) {
  const dir = data ?? join(tempDir(tag), 'db');
  const proc = spawn(QUIVERD, ['--data', dir, '--port', '0', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const server = { proc, data: dir, lines: [], stderr: '', exited: null };
  server.exitPromise = new Promise((resolve) => {
    proc.on('exit', (code, signal) => {
      server.exited = { code, signal };
      resolve(server.exited);
    });
  });
  proc.stderr.on('data', (d) => (server.stderr += d));
  let pending = '';
  const listening = new Promise((resolve, reject) => {
    proc.stdout.on('data', (d) => {
      pending += d;
      let nl;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        let parsed;
        try {
          parsed = JSON.parse(line);
        } catch {
          reject(new Error(`quiverd printed a line that is not JSON: ${line}`));
          continue;
        }
        server.lines.push(parsed);
        if (parsed.event === 'listening') resolve(parsed);
      }
    });
    server.exitPromise.then((e) => reject(new Error(`quiverd exited (${JSON.stringify(e)}): ${server.stderr}`)));
  });
  const info = await listening;
  server.port = info.port;
  server.url = `${info.tls ? 'https' : 'http'}://127.0.0.1:${info.port}`;
  server.stop = async () => {
    if (server.exited) return server.exited;
    proc.kill('SIGTERM');
    return server.exitPromise;
  };
  server.kill = async () => {
    if (server.exited) return server.exited;
    proc.kill('SIGKILL');
    return server.exitPromise;
  };
  // One request: {status, headers, text, json}.
  server.request = (method, path, body, headers = {}) => request(server.url, method, path, body, headers);
  return server;
}

export async function request(base, method, path, body, headers = {}) {
  const init = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
    if (!('content-type' in init.headers)) init.headers['content-type'] = 'application/json';
  }
  const res = await fetch(base + path, init);
  const buffer = new Uint8Array(await res.arrayBuffer());
  const text = new TextDecoder().decode(buffer);
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json, buffer };
}

// Sends raw bytes on a new connection and returns everything the server answers until it closes (or `ms`).
export function rawExchange(port, chunks, { ms = 5000, gapMs = 0 } = {}) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text: received, closed: false });
    }, ms);
    socket.on('data', (d) => (received += d.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text: received, closed: true });
    });
    socket.on('connect', async () => {
      for (const c of chunks) {
        if (socket.destroyed) break;
        socket.write(c);
        if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
      }
    });
    socket.on('timeout', reject);
  });
}

export function statusOf(raw) {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(raw);
  return m ? Number(m[1]) : null;
}

export function removeDir(dir) {
  rmSync(dir, { recursive: true, force: true });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A deterministic unit-ish vector for point i.
export function vec(i, dim = 4) {
  const v = [];
  for (let j = 0; j < dim; j++) v.push(Math.sin(i * 7.13 + j * 1.71) + (j === i % dim ? 1 : 0));
  return v;
}
