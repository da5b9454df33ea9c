#!/usr/bin/env node
// Assembles the npm package in npm/dist from the Emscripten outputs (build/wasm-release/bindings-js) and the
// TypeScript sources (bindings-js/ts):
//   dist/esm/*.js + .d.ts   ES modules for browsers and workers: browser.js, worker.js (the page side of
//                           quiverdb/worker), quiver-worker.js (the worker's script), core.js, ...
//   dist/cjs/*.js + .d.ts   CommonJS for Node: node.js (require and, through dist/esm/node.js, import)
//   dist/esm/node.js        a thin ES module over dist/cjs/node.js: one module instance for import and require
//   dist/quiver-web.mjs + quiver-web.wasm    the browser glue and module, fetched by esm/browser.js
//   dist/quiver-web-url.js  `new URL('./quiver-web.wasm', import.meta.url)` beside the .wasm, for bundlers
//   dist/quiver-node.cjs + quiver-node.wasm  the Node glue (required by cjs/node.js) and module
// Declarations sit beside the JS they describe, so TypeScript reads dist/cjs/*.d.ts as CommonJS (the folder's
// package.json says so) and dist/esm/*.d.ts as ES modules.
// Run `cmake --build build/wasm-release --target quiver_js` first (tests/js/run.sh does).
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const wasmDir = process.env.QUIVER_WASM_DIR ?? join(root, 'build', 'wasm-release', 'bindings-js');
const dist = join(here, 'dist');
const tsc = join(here, 'node_modules', 'typescript', 'bin', 'tsc');
const outputs = ['quiver-web.mjs', 'quiver-web.wasm', 'quiver-node.cjs', 'quiver-node.wasm'];

for (const f of outputs) {
  if (!existsSync(join(wasmDir, f))) {
    throw new Error(`${join(wasmDir, f)} is missing: cmake --build build/wasm-release --target quiver_js`);
  }
}
if (!existsSync(tsc)) throw new Error('TypeScript is missing: (cd npm && npm ci)');

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
for (const f of outputs) copyFileSync(join(wasmDir, f), join(dist, f));
// The Node glue finds its .wasm through __dirname, which an ES module bundle of it (esbuild --platform=node
// --format=esm) lacks. The wrapper always passes the bytes (wasmBinary), so the glue's own directory is unused:
// let it be empty there instead of a ReferenceError.
const nodeGlue = readFileSync(join(dist, 'quiver-node.cjs'), 'utf8');
const dirnameUse = 'scriptDirectory=__dirname+"/"';
if (nodeGlue.split(dirnameUse).length !== 2) throw new Error(`quiver-node.cjs: expected one ${dirnameUse} to patch`);
writeFileSync(join(dist, 'quiver-node.cjs'), nodeGlue.replace(dirnameUse, 'scriptDirectory=typeof __dirname!="undefined"?__dirname+"/":""'));
writeFileSync(join(dist, 'quiver-web-url.js'), `// The URL of quiver-web.wasm, written so that bundlers (Vite, webpack, Parcel) emit the file and rewrite it;
// without one, the file beside this module or beside the bundle that holds it.
export function wasmUrl() {
  return new URL('./quiver-web.wasm', import.meta.url).href;
}
`);

const run = (config) => execFileSync(process.execPath, [tsc, '-p', join(here, config)], { stdio: 'inherit' });
run('tsconfig.esm.json');
run('tsconfig.cjs.json');
writeFileSync(join(dist, 'esm', 'package.json'), '{"type": "module"}\n');
writeFileSync(join(dist, 'cjs', 'package.json'), '{"type": "commonjs"}\n');

// Node's import: the CommonJS build's exports, named one by one (as read from it now).
const names = Object.keys(createRequire(import.meta.url)(join(dist, 'cjs', 'node.js'))).filter((n) => n !== '__esModule');
writeFileSync(join(dist, 'esm', 'node.js'), `// quiverdb for Node's import: the CommonJS build (../cjs/node.js), so that import and require share one
// module instance (one WebAssembly module, one set of open folders per process).
import quiver from '../cjs/node.js';

export const { ${names.sort().join(', ')} } = quiver;
`);
writeFileSync(join(dist, 'esm', 'node.d.ts'), `export * from '../cjs/node.js';\n`);
console.log(`npm/dist assembled from ${wasmDir}`);
