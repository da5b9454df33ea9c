// Sparse vectors and BM25 documents through the npm package in Node: the configuration, points with sparse
// vectors and documents (points and batch forms), get/scroll shapes, NamedSparseVector and document searches
// with BM25 scores equal to a reference computed here, and errors that name the part.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { open, QuiverError } from './quiver.mjs';

// Tokens as qdrant/bm25 makes them with {"language": "none"}: runs of ASCII letters and digits, lower-cased.
function tokens(text) {
  return text.toLowerCase().split(/[^a-z0-9]+/).filter((t) => t.length > 0);
}

// BM25: sum over distinct query tokens in the document of idf * tf * (k + 1) / (tf + k * (1 - b + b * len / avg)).
function referenceBm25(docs, query, k, b, avgLen) {
  const counted = docs.map((d) => {
    const t = tokens(d);
    const m = new Map();
    for (const x of t) m.set(x, (m.get(x) ?? 0) + 1);
    return { m, len: t.length };
  });
  const df = new Map();
  for (const { m } of counted) for (const x of m.keys()) df.set(x, (df.get(x) ?? 0) + 1);
  const n = docs.length;
  const out = new Map();
  for (let i = 0; i < docs.length; ++i) {
    let score = 0;
    let shared = false;
    for (const q of new Set(tokens(query))) {
      const tf = counted[i].m.get(q);
      if (!tf) continue;
      shared = true;
      const nq = df.get(q);
      const idf = Math.log((n - nq + 0.5) / (nq + 0.5) + 1);
      score += (idf * tf * (k + 1)) / (tf + k * (1 - b + (b * counted[i].len) / avgLen));
    }
    if (shared) out.set(i, score);
  }
  return out;
}

test('sparse vectors: config, upsert, get, scroll and search', async () => {
  const db = await open({ memory: true });
  const c = await db.createCollection('hybrid', {
    vectors: { dense: { size: 2, distance: 'Dot' } },
    sparse_vectors: { text: { modifier: 'idf' }, raw: { index: { full_scan_threshold: 100 } } },
  });
  assert.deepEqual(c.info().config.params.sparse_vectors, {
    raw: { index: { full_scan_threshold: 100 } },
    text: { modifier: 'idf' },
  });
  await c.upsert([
    { id: 1, vector: { dense: [1, 0], raw: { indices: [7, 2], values: [0.5, 2] } }, payload: { k: 'a' } },
    { id: 2, vector: { raw: { indices: new Uint32Array([2]), values: new Float32Array([1]) } } },
    { id: 3, vector: { dense: [0, 1] } },
  ]);
  const got = c.get({ ids: [1, 2, 3], with_vector: true });
  assert.ok(got[0].vector.dense instanceof Float32Array);
  assert.deepEqual(got[0].vector.raw, { indices: [2, 7], values: [2, 0.5] });
  assert.deepEqual(got[1].vector, { raw: { indices: [2], values: [1] } });
  assert.deepEqual(Array.from(got[2].vector.dense), [0, 1]);
  const page = c.scroll({ limit: 1, with_vector: ['raw'], with_payload: false });
  assert.deepEqual(page.points[0].vector, { raw: { indices: [2, 7], values: [2, 0.5] } });
  const hits = c.search({ vector: { name: 'raw', vector: { indices: [7, 2, 99], values: [2, 1, 5] } }, limit: 5 });
  assert.deepEqual(hits.map((h) => [h.id, h.score]), [[1, 3], [2, 1]]);
  const dense = c.search({ vector: { name: 'dense', vector: [1, 1] }, limit: 5, with_vector: true });
  assert.deepEqual(dense.map((h) => h.id), [1, 3]);
  assert.deepEqual(dense[0].vector.raw, { indices: [2, 7], values: [2, 0.5] });
  await assert.rejects(
    c.upsert([{ id: 4, vector: { raw: { indices: [3, 3], values: [1, 2] } } }]),
    (e) => e instanceof QuiverError && e.code === 'InvalidArgument' && /upsert\.points\[0\]\.vector\.raw: duplicate index 3/.test(e.message),
  );
  await assert.rejects(c.upsert([{ id: 4, vector: { raw: [1, 2] } }]), /vector 'raw' is a sparse vector/);
  assert.throws(() => c.search({ vector: { name: 'raw', vector: { indices: [1, 2], values: [1] } } }),
    /indices and values have different lengths \(2 and 1\)/);
  assert.equal(c.count().count, 3);
  await db.close();
});

test('BM25 documents: scores equal a reference BM25, and the default English pipeline stems', async () => {
  const db = await open({ memory: true });
  const c = await db.createCollection('docs', { sparse_vectors: { bm25: { modifier: 'idf' } } });
  const words = ['vector', 'search', 'database', 'browser', 'index', 'query', 'text', 'node', 'sparse', 'dense'];
  const docs = [];
  for (let i = 0; i < 40; ++i) {
    const n = 3 + (i % 7);
    const w = [];
    for (let j = 0; j < n; ++j) w.push(words[(i * 3 + j * j + j) % words.length]);
    docs.push(w.join(i % 2 ? ' ' : ', '));
  }
  const options = { k: 1.3, b: 0.6, avg_len: 5, language: 'none' };
  await c.upsert(docs.slice(0, 20).map((text, id) => ({ id, vector: { bm25: { text, model: 'qdrant/bm25', options } } })));
  await c.upsert({
    batch: {
      ids: docs.slice(20).map((_, i) => 20 + i),
      vectors: { bm25: docs.slice(20).map((text) => ({ text, model: 'qdrant/bm25', options })) },
    },
  });
  for (const query of ['sparse vector search', 'browser', 'node index query text', 'nothing']) {
    const want = referenceBm25(docs, query, options.k, options.b, options.avg_len);
    const hits = c.search({ vector: { name: 'bm25', vector: { text: query, model: 'qdrant/bm25', options } }, limit: 100 });
    assert.equal(hits.length, want.size, query);
    let previous = Infinity;
    for (const h of hits) {
      assert.ok(want.has(h.id), `${query}: ${h.id}`);
      assert.ok(Math.abs(h.score - want.get(h.id)) <= 1e-5 * Math.max(1, want.get(h.id)), `${query}: ${h.id} ${h.score} ${want.get(h.id)}`);
      assert.ok(h.score <= previous);
      previous = h.score;
    }
  }
  // Defaults: English stop words and Snowball stemming, the same as the native build.
  const e = await db.createCollection('english', { sparse_vectors: { bm25: { modifier: 'idf' } } });
  await e.upsert([
    { id: 1, vector: { bm25: { text: 'The runner runs quickly', model: 'qdrant/bm25' } } },
    { id: 2, vector: { bm25: { text: 'A slow walker', model: 'qdrant/bm25' } } },
  ]);
  const stemmed = e.search({ vector: { name: 'bm25', vector: { text: 'running', model: 'qdrant/bm25' } }, limit: 5 });
  assert.deepEqual(stemmed.map((h) => h.id), [1]);
  assert.deepEqual(e.search({ vector: { name: 'bm25', vector: { text: 'the', model: 'qdrant/bm25' } } }), []);
  await assert.rejects(
    e.upsert([{ id: 3, vector: { bm25: { text: 'x', model: 'openai/embed' } } }]),
    (err) => err.code === 'NotSupported' && /model/.test(err.message),
  );
  await db.close();
});
