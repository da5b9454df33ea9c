// The benchmark data sets as the JavaScript harnesses read them (bench/js/ann.mjs, bench/peer/peer_npm.mjs), from
// the cache bench/ann.mjs and ann_bench make in .cache/bench: Fashion-MNIST (Debian's dataset-fashion-mnist,
// decompressed), the synthetic 384-d cosine mixture (fvecs) and the exact ground truth (ivecs).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const cache = join(root, '.cache', 'bench');

function readVecs(path, kind) {
  const buf = readFileSync(path);
  const dim = buf.readInt32LE(0);
  const rowBytes = 4 + 4 * dim;
  const rows = buf.length / rowBytes;
  const out = kind === 'f' ? new Float32Array(rows * dim) : new Int32Array(rows * dim);
  const src = kind === 'f' ? new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4) : new Int32Array(buf.buffer, buf.byteOffset, buf.length / 4);
  for (let r = 0; r < rows; r++) out.set(src.subarray(r * (dim + 1) + 1, (r + 1) * (dim + 1)), r * dim);
  return { dim, rows, data: out };
}

function readIdx(path, limit) {
  const buf = readFileSync(path);
  const count = Math.min(buf.readUInt32BE(4), limit ?? Infinity);
  const dim = buf.readUInt32BE(8) * buf.readUInt32BE(12);
  const out = new Float32Array(count * dim);
  for (let i = 0; i < count * dim; i++) out[i] = buf[16 + i];
  return { dim, rows: count, data: out };
}

function prepare(name, log) {
  const truth = join(cache, `${name}.truth.ivecs`);
  if (existsSync(truth)) return;
  if (name === 'fashion-mnist') {
    const dir = join(cache, 'fashion-mnist');
    mkdirSync(dir, { recursive: true });
    for (const f of ['train-images-idx3-ubyte', 't10k-images-idx3-ubyte']) {
      const src = `/usr/share/datasets/fashion-mnist/${f}.gz`;
      if (!existsSync(join(dir, f))) writeFileSync(join(dir, f), gunzipSync(readFileSync(src)));
    }
  }
  const tool = join(root, 'build', 'native-release', 'bench', 'ann_bench');
  if (!existsSync(tool)) throw new Error(`${truth} is missing and ${tool} is not built: scripts/build.sh native-release`);
  log?.(`${name}: generating data and exact ground truth with ann_bench prepare`);
  execFileSync(tool, ['prepare', '--dataset', name, '--cache', cache], { stdio: ['ignore', 'ignore', 'inherit'] });
}

// { name, metric ('l2' | 'cosine'), dim, n, base (Float32Array, n x dim), queries and truth (the first
// `queryCount` queries and their k nearest, as subarrays) }; generates what the cache lacks first.
export function loadDataset(name, { queryCount = 1000, k = 10, log } = {}) {
  prepare(name, log);
  let base, queries, metric;
  if (name === 'fashion-mnist') {
    base = readIdx(join(cache, 'fashion-mnist', 'train-images-idx3-ubyte'));
    queries = readIdx(join(cache, 'fashion-mnist', 't10k-images-idx3-ubyte'), 1000);
    metric = 'l2';
  } else {
    base = readVecs(join(cache, `${name}.base.fvecs`), 'f');
    queries = readVecs(join(cache, `${name}.query.fvecs`), 'f');
    metric = 'cosine';
  }
  const truth = readVecs(join(cache, `${name}.truth.ivecs`), 'i');
  const q = Math.min(queryCount, queries.rows);
  return {
    name, metric, dim: base.dim, n: base.rows, base: base.data,
    queries: Array.from({ length: q }, (_, i) => queries.data.subarray(i * base.dim, (i + 1) * base.dim)),
    truth: Array.from({ length: q }, (_, i) => truth.data.subarray(i * truth.dim, i * truth.dim + k)),
  };
}
