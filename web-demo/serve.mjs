#!/usr/bin/env node
// Serves the web demo on 127.0.0.1: the page from web-demo/, the package from npm/dist (build it first with
// tests/js/run.sh or node npm/build.mjs).   node web-demo/serve.mjs [--port 8080]
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { serveStatic } from '../scripts/static-server.mjs';

const dist = fileURLToPath(new URL('../npm/dist/', import.meta.url));
if (!existsSync(dist + 'esm/browser.js')) {
  console.error('web-demo: npm/dist is missing; build it with tests/js/run.sh --no-browser or node npm/build.mjs');
  process.exit(1);
}
const at = process.argv.indexOf('--port');
const port = at > 0 ? Number(process.argv[at + 1]) : 8080;
const { url } = await serveStatic({ '/dist/': dist, '/': fileURLToPath(new URL('./', import.meta.url)) }, { port });
console.log(`Quiver web demo: ${url}`);
