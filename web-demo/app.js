// The web demo: the quiverdb package in a page, its database in IndexedDB. Load a sample of colours or import
// your own JSONL points, then search by colour, by a point's id or by a vector, with a Qdrant filter.
import { open, QuiverError } from '/dist/esm/browser.js';

import { family, hex, lab, parseHex } from './colours.js';

const $ = (id) => document.getElementById(id);
const DB_NAME = 'quiver-demo';
let db;

function say(text, error = false) {
  $('message').textContent = text;
  $('message').className = error ? 'error' : '';
}

// Runs an action, reporting a QuiverError's code and message instead of throwing.
async function guarded(action) {
  try {
    await action();
  } catch (e) {
    say(e instanceof QuiverError ? `${e.code}: ${e.message}` : String(e.message ?? e), true);
  }
}

async function loadSample() {
  if (db.collectionExists('colours')) await db.deleteCollection('colours');
  const c = await db.createCollection('colours', { vectors: { size: 3, distance: 'Euclid' } });
  await c.createPayloadIndex({ field_name: 'family', field_schema: 'keyword' });
  // A 16 x 16 x 16 grid of the RGB cube: 4,096 colours.
  const ids = [], payloads = [], vectors = new Float32Array(4096 * 3);
  for (let i = 0; i < 4096; i++) {
    const r = ((i >> 8) & 15) * 17, g = ((i >> 4) & 15) * 17, b = (i & 15) * 17;
    vectors.set(lab(r, g, b), i * 3);
    ids.push(i + 1);
    payloads.push({ hex: hex(r, g, b), family: family(r, g, b), light: lab(r, g, b)[0] > 50 });
  }
  await c.upsertDense({ ids, vectors, payloads });
  await db.flush();
  say('loaded 4,096 colours into "colours" (stored in IndexedDB)');
}

// ---- JSONL import ----

async function importJsonl(file) {
  const name = $('import-name').value.trim();
  const text = await file.text();
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  if (!lines.length) throw new Error(`${file.name} is empty`);
  const points = lines.map((line, i) => {
    try {
      return JSON.parse(line);
    } catch (e) {
      throw new Error(`${file.name} line ${i + 1}: not JSON (${e.message})`);
    }
  });
  const first = points[0].vector;
  if (!Array.isArray(first)) throw new Error(`${file.name} line 1: "vector" must be an array of numbers`);
  const existed = db.collectionExists(name);
  const c = existed ? db.collection(name)
    : await db.createCollection(name, { vectors: { size: first.length, distance: $('import-distance').value } });
  try {
    for (let i = 0; i < points.length; i += 1000) {
      await c.upsert(points.slice(i, i + 1000));
      say(`importing into "${name}": ${Math.min(i + 1000, points.length)} / ${points.length}`);
    }
  } catch (e) {
    // A bad line fails its batch; nothing stored before it is lost. A collection made for this file alone goes.
    if (!existed && c.count().count === 0) await db.deleteCollection(name);
    throw e;
  }
  await db.flush();
  say(`imported ${points.length} points into "${name}"`);
}

// ---- views ----

function refresh() {
  const body = $('collections').tBodies[0];
  body.replaceChildren();
  const select = $('collection');
  const chosen = select.value;
  select.replaceChildren();
  for (const name of db.listCollections()) {
    const c = db.collection(name);
    const info = c.info();
    const vectors = info.config.params.vectors;
    const row = body.insertRow();
    row.insertCell().textContent = name;
    row.insertCell().textContent = String(info.points_count);
    row.insertCell().textContent = vectors.size ? `${vectors.size}-d ${vectors.distance}` : Object.keys(vectors).join(', ');
    const drop = document.createElement('button');
    drop.textContent = 'delete';
    drop.onclick = () => guarded(async () => {
      await db.deleteCollection(name);
      await db.flush();
      say(`deleted "${name}"`);
      refresh();
    });
    row.insertCell().append(drop);
    select.add(new Option(name, name));
  }
  if ([...select.options].some((o) => o.value === chosen)) select.value = chosen;
  $('search').disabled = select.options.length === 0;
}

function queryVector(c) {
  const like = $('like').value.trim();
  if (like) return { id: /^\d+$/.test(like) ? Number(like) : like };
  const text = $('vector').value.trim();
  if (text) {
    const v = JSON.parse(text);
    if (!Array.isArray(v)) throw new Error('vector: expected a JSON array of numbers');
    return { vector: v };
  }
  if (c.info().config.params.vectors.size === 3) return { vector: lab(...parseHex($('colour').value)) };
  throw new Error('give a point id or a vector to search with');
}

function showResults(points, ms) {
  const body = $('results').tBodies[0];
  body.replaceChildren();
  points.forEach((p, i) => {
    const row = body.insertRow();
    row.insertCell().textContent = String(i + 1);
    row.insertCell().textContent = String(p.id);
    row.insertCell().textContent = p.score.toFixed(4);
    const swatch = row.insertCell();
    if (typeof p.payload?.hex === 'string') {
      const box = document.createElement('span');
      box.className = 'swatch';
      box.style.background = p.payload.hex;
      swatch.append(box);
    }
    const payload = row.insertCell();
    payload.className = 'payload';
    payload.textContent = JSON.stringify(p.payload ?? {});
  });
  $('timing').textContent = `${points.length} results in ${ms.toFixed(2)} ms`;
}

async function search() {
  const c = db.collection($('collection').value);
  const filterText = $('filter').value.trim();
  const filter = filterText ? JSON.parse(filterText) : null;
  const common = { limit: Number($('limit').value), filter, with_payload: true, params: { hnsw_ef: Number($('ef').value) } };
  const query = queryVector(c);
  const t0 = performance.now();
  const points = 'id' in query ? c.recommend({ positive: [query.id], ...common }) : c.search({ vector: query.vector, ...common });
  showResults(points, performance.now() - t0);
  say('');
}

async function main() {
  try {
    db = await open({ name: DB_NAME });
  } catch (e) {
    if (!(e instanceof QuiverError && e.code === 'Busy')) throw e;
    db = await open({ name: DB_NAME, readOnly: true });
    say('another tab has this database open for writing: this one is read-only', true);
    $('sample').disabled = $('import-file').disabled = true;
  }
  $('status').textContent = `quiverdb ready: WebAssembly with ${db.simd} kernels, database "${DB_NAME}" in IndexedDB`;
  $('sample').onclick = () => guarded(async () => {
    await loadSample();
    refresh();
    $('collection').value = 'colours';
  });
  $('import-file').onchange = (e) => guarded(async () => {
    const file = e.target.files[0];
    e.target.value = '';
    if (file) await importJsonl(file);
    refresh();
  });
  $('search').onclick = () => guarded(search);
  refresh();
  window.demoReady = true;
}

main().catch((e) => {
  $('status').textContent = `could not start: ${e.message ?? e}`;
});
