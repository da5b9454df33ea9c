#!/usr/bin/env node
// The sync demo in one command: starts quiverd (build/native-release's, or $QUIVERD) on a free loopback port with
// its data in a new temporary folder and CORS allowing only this demo's origin, serves web-demo/ and npm/dist on
// 127.0.0.1, and prints the page to open: two devices (sync.html) syncing through that quiverd. Ctrl-C stops
// both and removes the folder.
//   node web-demo/sync-demo.mjs [--port 8080]
// Needs npm/dist (tests/js/run.sh --no-browser, or node npm/build.mjs) and quiverd (scripts/build.sh
// native-release).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { serveStatic } from '../scripts/static-server.mjs';

const root = fileURLToPath(new URL('../', import.meta.url));
const dist = join(root, 'npm', 'dist');
const quiverd = process.env.QUIVERD ?? join(root, 'build', 'native-release', 'bindings-native', 'quiverd');
if (!existsSync(join(dist, 'esm', 'browser.js'))) {
  console.error('sync-demo: npm/dist is missing; build it with tests/js/run.sh --no-browser or node npm/build.mjs');
  process.exit(1);
}
if (!existsSync(quiverd)) {
  console.error(`sync-demo: ${quiverd} is missing; build it with scripts/build.sh native-release (or set QUIVERD)`);
  process.exit(1);
}
const at = process.argv.indexOf('--port');
const port = at > 0 ? Number(process.argv[at + 1]) : 8080;

if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error('sync-demo: --port takes a port number (0 picks a free one)');
  process.exit(1);
}
const web = await serveStatic({ '/dist/': dist, '/': join(root, 'web-demo') }, { port }).catch((e) => {
  console.error(`sync-demo: cannot serve on 127.0.0.1:${port} (${e.code ?? e.message}); pick another with --port N`);
  process.exit(1);
});
const origin = new URL(web.url).origin;
const folder = mkdtempSync(join(tmpdir(), 'quiver-sync-demo-'));
const server = spawn(
  quiverd,
  ['--data', join(folder, 'db'), '--host', '127.0.0.1', '--port', '0', '--cors-origins', origin, '--log-requests=false'],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);

let stopping = false;
async function stop(code) {
  if (stopping) return;
  stopping = true;
  web.server.close();
  web.server.closeAllConnections?.();
  if (server.exitCode === null && server.signalCode === null) {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  }
  rmSync(folder, { recursive: true, force: true });
  process.exit(code);
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
server.on('exit', (code, signal) => {
  if (stopping) return;
  console.error(`sync-demo: quiverd exited (${signal ?? `code ${code}`})`);
  void stop(1);
});

// quiverd prints JSON lines on standard output; the first event says where it listens.
let pending = '';
let listening = false;
server.stdout.on('data', (chunk) => {
  pending += chunk;
  for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
    const line = pending.slice(0, nl);
    pending = pending.slice(nl + 1);
    let event;
    try {
      event = JSON.parse(line);
    } catch {
      continue;
    }
    if (event.event !== 'listening' || listening) continue;
    listening = true;
    const serverUrl = `http://127.0.0.1:${event.port}`;
    console.log(`quiverd: ${serverUrl} (data in ${folder}, CORS for ${origin} only)`);
    console.log(`Quiver sync demo: ${web.url}sync.html?server=${encodeURIComponent(serverUrl)}`);
    console.log('Ctrl-C stops quiverd and the page server and removes the data folder.');
  }
});
