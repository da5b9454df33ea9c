#!/usr/bin/env node
// What a web page downloads for the npm package: the files reached from the browser entry point (dist/esm/
// browser.js) by static imports, the Emscripten glue and the .wasm it fetches, each raw and gzipped (level 9).
// The Node entry point the same way. The worker entry (dist/esm/worker.js and the worker script) is listed
// apart: a page loads it only when it asks for the worker.
//
//   node bench/js/size.mjs [--dist npm/dist] [--limit-kb 300]
//
// Exits 1 when the browser total passes --limit-kb (when given).
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

const args = {};
for (let i = 2; i < process.argv.length; i++) {
  const key = process.argv[i].replace(/^--/, '');
  args[key] = process.argv[i + 1] && !process.argv[i + 1].startsWith('--') ? process.argv[++i] : true;
}
const dist = resolve(args.dist ?? join(import.meta.dirname, '..', '..', 'npm', 'dist'));

// The files a module reaches through static `import ... from './x.js'` / `export ... from './x.js'`.
function reach(entry, extra = []) {
  const seen = new Set();
  const visit = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
      visit(resolve(dirname(file), m[1]));
    }
  };
  visit(join(dist, entry));
  for (const f of extra) seen.add(join(dist, f));
  return [...seen];
}

const kb = (b) => (b / 1024).toFixed(1);
function report(name, files) {
  let raw = 0;
  let gz = 0;
  const rows = files.map((f) => {
    const bytes = readFileSync(f);
    const z = gzipSync(bytes, { level: 9 }).length;
    raw += bytes.length;
    gz += z;
    return `| ${relative(dist, f)} | ${kb(bytes.length)} | ${kb(z)} |`;
  });
  console.log(`\n${name}\n\n| file | raw (KB) | gzipped (KB) |\n|---|---|---|\n${rows.join('\n')}\n| **total** | ${kb(raw)} | **${kb(gz)}** |`);
  return gz;
}

const browser = report('Browser (dist/esm/browser.js)', reach('esm/browser.js', ['quiver-web.mjs', 'quiver-web.wasm']));
report('Node (dist/esm/node.js)', reach('esm/node.js', ['quiver-node.cjs', 'quiver-node.wasm']));
report('The worker, when a page asks for it (dist/esm/worker.js and its script)', reach('esm/worker.js', ['esm/quiver-worker.js']));
if (args['limit-kb'] && browser > Number(args['limit-kb']) * 1024) {
  console.log(`\nbrowser total ${kb(browser)} KB gzipped is over the limit of ${args['limit-kb']} KB`);
  process.exit(1);
}
