// The package as users get it: `npm pack` of npm/, installed into an empty project, used from `import` and
// `require`, with the .wasm shipped as a file and the .d.ts types usable from TypeScript.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const npmDir = fileURLToPath(new URL('../../../npm/', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'quiver-js-pack-'));
after(() => rmSync(work, { recursive: true, force: true }));

const npm = (args, cwd) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

test('npm pack, install the tarball into an empty project, use it from import and require', () => {
  const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', work], npmDir));
  const files = packed[0].files.map((f) => f.path);
  for (const f of ['dist/quiver-web.wasm', 'dist/quiver-node.wasm', 'dist/esm/browser.js', 'dist/esm/node.js',
    'dist/cjs/node.js', 'dist/cjs/node.d.ts', 'dist/esm/node.d.ts', 'dist/esm/browser.d.ts', 'dist/esm/worker.js',
    'dist/esm/quiver-worker.js', 'dist/quiver-web-url.js', 'README.md', 'package.json']) {
    assert.ok(files.includes(f), `${f} is in the package`);
  }
  assert.ok(!files.some((f) => f.startsWith('node_modules/') || f.endsWith('.ts') && !f.endsWith('.d.ts')));
  const app = join(work, 'app');
  execFileSync('mkdir', ['-p', app]);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  npm(['install', '--offline', '--no-audit', '--no-fund', join(work, packed[0].filename)], app);
  assert.ok(existsSync(join(app, 'node_modules', 'quiverdb', 'dist', 'quiver-node.wasm')));

  const body = `
    const db = await open({ memory: true });
    const c = await db.createCollection('docs', { vectors: { size: 3, distance: 'Cosine' } });
    await c.upsert([{ id: 1, vector: new Float32Array([1, 0, 0]), payload: { t: 'x' } }, { id: 2, vector: [0, 1, 0] }]);
    const hit = c.search({ vector: [1, 0.1, 0], limit: 1, with_payload: true })[0];
    let code = null;
    try { c.search({ vector: [1, 0] }); } catch (e) { code = (e instanceof QuiverError) && e.code; }
    await db.close();
    console.log(JSON.stringify({ id: hit.id, t: hit.payload.t, code, simd: db.simd }));`;
  writeFileSync(join(app, 'esm.mjs'), `import { open, QuiverError } from 'quiverdb';\n${body}`);
  writeFileSync(join(app, 'cjs.cjs'), `const { open, QuiverError } = require('quiverdb');\n(async () => {${body}\n})();`);
  const expected = { id: 1, t: 'x', code: 'InvalidArgument', simd: 'wasm-simd128' };
  for (const script of ['esm.mjs', 'cjs.cjs']) {
    const out = execFileSync(process.execPath, [script], { cwd: app, encoding: 'utf8' });
    assert.deepEqual(JSON.parse(out.trim()), expected, script);
  }
  // import and require in one process share one module instance (no dual-package copies of classes or locks).
  writeFileSync(join(app, 'both.mjs'), `import { createRequire } from 'node:module';
import * as esm from 'quiverdb';
const cjs = createRequire(import.meta.url)('quiverdb');
console.log(JSON.stringify([esm.QuiverError === cjs.QuiverError, esm.open === cjs.open, Object.keys(esm).length > 5]));`);
  assert.equal(execFileSync(process.execPath, ['both.mjs'], { cwd: app, encoding: 'utf8' }).trim(), '[true,true,true]');
  // The .d.ts types resolve through the exports map and describe the API.
  writeFileSync(join(app, 'check.mts'), `import { open, QuiverError, type ScoredPoint } from 'quiverdb';
const db = await open({ path: './data', durability: 'sync' });
const c = await db.createCollection('c', { vectors: { size: 2, distance: 'Dot' } });
await c.upsertDense({ ids: [1], vectors: new Float32Array(2) });
const hits: ScoredPoint[] = c.search({ vector: new Float32Array(2), limit: 1, filter: { must: [] } });
const n: number = c.count().count + hits.length;
const e = new QuiverError('NotFound', 'x');
const code: 'NotFound' | string = e.code;
export { n, code };
`);
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'node16', moduleResolution: 'node16', target: 'es2022', strict: true, noEmit: true, skipLibCheck: false, types: [] }, files: ['check.mts'] }));
  const tsc = join(npmDir, 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '-p', join(app, 'tsconfig.json')], { cwd: app, encoding: 'utf8' });
  // The browser entry resolves under the "browser" condition.
  const resolved = execFileSync(process.execPath, ['--conditions=browser', '--input-type=module', '-e',
    'console.log(import.meta.resolve("quiverdb"))'], { cwd: app, encoding: 'utf8' });
  assert.match(resolved, /dist[\\/]esm[\\/]browser\.js/);
});
