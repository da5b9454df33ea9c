#!/usr/bin/env node
// Assembles the npm package in npm/dist from the Emscripten outputs (build/wasm-release/bindings-js) and the
// TypeScript sources (bindings-js/ts):
//   dist/esm/*.js       ES modules (browser.js for browsers, node.js for Node's import)
//   dist/cjs/*.js       CommonJS (node.js for Node's require)
//   dist/types/*.d.ts   declarations generated from the sources
//   dist/quiver-web.mjs + quiver-web.wasm, dist/quiver-node.cjs + quiver-node.wasm
// Run `cmake --build build/wasm-release --target quiver_js` first (scripts/test.sh does).
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const wasmDir = process.env.QUIVER_WASM_DIR ?? join(root, 'build', 'wasm-release', 'bindings-js');
const dist = join(here, 'dist');
const tsc = join(here, 'node_modules', 'typescript', 'bin', 'tsc');

for (const f of ['quiver-web.mjs', 'quiver-web.wasm', 'quiver-node.cjs', 'quiver-node.wasm']) {
  if (!existsSync(join(wasmDir, f))) {
    throw new Error(`${join(wasmDir, f)} is missing: cmake --build build/wasm-release --target quiver_js`);
  }
}
if (!existsSync(tsc)) throw new Error('TypeScript is missing: (cd npm && npm ci)');

rmSync(dist, { recursive: true, force: true });
const run = (args) => execFileSync(process.execPath, [tsc, '-p', join(here, 'tsconfig.json'), ...args], { stdio: 'inherit' });
run(['--module', 'ES2020', '--outDir', join(dist, 'esm'), '--declaration', 'false']);
run(['--module', 'CommonJS', '--outDir', join(dist, 'cjs'), '--declaration', 'false']);
run(['--module', 'ES2020', '--outDir', join(dist, 'types'), '--emitDeclarationOnly']);
writeFileSync(join(dist, 'esm', 'package.json'), '{"type": "module"}\n');
writeFileSync(join(dist, 'cjs', 'package.json'), '{"type": "commonjs"}\n');
mkdirSync(dist, { recursive: true });
for (const f of ['quiver-web.mjs', 'quiver-web.wasm', 'quiver-node.cjs', 'quiver-node.wasm']) {
  copyFileSync(join(wasmDir, f), join(dist, f));
}
console.log(`npm/dist assembled from ${wasmDir}`);
