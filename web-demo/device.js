// One device of the sync demo (sync.html shows two): the quiverdb package in a page, its database in IndexedDB,
// syncing the collection "palette" live with quiverd. Colours are written locally (and kept while offline);
// the sync pushes them and pulls the other device's. "online" closes and reopens the live sync.
//   device.html?device=A&server=http://127.0.0.1:6333
import { open, QuiverError } from '/dist/esm/browser.js';

import { hex, lab, parseHex } from './colours.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const device = (params.get('device') || 'A').replace(/[^A-Za-z0-9]/g, '').slice(0, 8) || 'A';
const server = params.get('server') || '';
const DB_NAME = `quiver-sync-demo-${device.toLowerCase()}`;
const COLLECTION = 'palette';

let db;
let palette;
let sync;
let online = true;
let lastPull = null;
let pulled = 0;
let conflicts = 0;
let renderQueued = false;

function say(text, error = false) {
  $('message').textContent = text;
  $('message').className = error ? 'error' : '';
}

function describe(e) {
  return e instanceof QuiverError ? `${e.code}: ${e.message}` : String(e?.message ?? e);
}

function log(text) {
  const li = document.createElement('li');
  li.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  $('log').prepend(li);
  while ($('log').children.length > 40) $('log').lastChild.remove();
}

const time = (d) => (d ? d.toLocaleTimeString() : 'never');

// ---- sync ----

// Online: a live sync (rounds follow one another; local writes are pushed within ~20 ms; each round ends with a
// long-poll that the server answers as soon as the other device's writes land). Offline: the live sync is closed
// and a sync that runs no rounds by itself takes its place, so that the outbox (pending pushes) stays visible.
async function connect(live) {
  const previous = sync;
  sync = null;
  await previous?.close();
  const s = db.sync({ url: server, collections: [COLLECTION], live, retry: { initialMs: 250, maxMs: 4000 } });
  s.on('change', (change) => {
    lastPull = new Date();
    pulled += change.ids.length;
    log(change.snapshot ? 'installed the server\'s snapshot' : `pulled ${change.ids.length} change${change.ids.length === 1 ? '' : 's'}`);
    queueRender();
  });
  s.on('conflict', (c) => {
    conflicts++;
    log(`conflict on ${c.id}: ${c.reason}, ${c.resolution}`);
  });
  s.on('error', (e) => log(`sync error: ${describe(e)}`));
  sync = s;
  showStatus();
}

async function setOnline(value) {
  $('online').disabled = true;
  try {
    online = value;
    await connect(value);
    log(value ? 'online: live sync started' : 'offline: live sync closed');
  } catch (e) {
    say(describe(e), true);
  } finally {
    $('online').disabled = false;
  }
}

function showStatus() {
  if (!sync) return;
  const s = sync.status;
  const state = online ? s.state : 'closed';
  $('state').textContent = online ? s.state : 'offline (sync closed)';
  $('state').className = state;
  $('pending').textContent = String(s.pending);
  $('last-pull').textContent = lastPull
    ? `${time(lastPull)} (${pulled} point${pulled === 1 ? '' : 's'} pulled so far)`
    : 'nothing pulled yet';
  let recorded = 0;
  try {
    recorded = sync.conflicts(COLLECTION).length;
  } catch {
    // closed in between
  }
  $('conflicts').textContent = String(Math.max(recorded, conflicts));
}

// ---- the palette ----

async function add(colour) {
  const [r, g, b] = parseHex(colour);
  await palette.upsert([{ id: crypto.randomUUID(), vector: lab(r, g, b), payload: { hex: colour, by: device, at: Date.now() } }]);
  log(`added ${colour}`);
  queueRender();
}

async function remove(id, colour) {
  await palette.delete([id]);
  log(`deleted ${colour}`);
  queueRender();
}

function points() {
  const out = [];
  let offset;
  do {
    const page = palette.scroll({ limit: 500, offset, with_payload: true });
    out.push(...page.points);
    offset = page.next_page_offset ?? undefined;
  } while (offset !== undefined);
  return out.sort((a, b) => (a.payload?.at ?? 0) - (b.payload?.at ?? 0) || String(a.id).localeCompare(String(b.id)));
}

function queueRender() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    render();
  });
}

function render() {
  const list = $('points');
  list.replaceChildren();
  for (const p of points()) {
    const li = document.createElement('li');
    li.dataset.id = String(p.id);
    li.dataset.hex = p.payload?.hex ?? '';
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    swatch.style.background = p.payload?.hex ?? '#fff';
    const label = document.createElement('span');
    label.textContent = p.payload?.hex ?? String(p.id);
    const by = document.createElement('span');
    by.className = 'by';
    by.textContent = p.payload?.by ?? '';
    const del = document.createElement('button');
    del.textContent = '×';
    del.title = `delete ${p.payload?.hex ?? p.id}`;
    del.addEventListener('click', () => guarded(() => remove(p.id, p.payload?.hex ?? String(p.id))));
    li.append(swatch, label, by, del);
    list.append(li);
  }
  nearest();
  showStatus();
}

// The stored colours nearest the picked one (a search of the 3-d Lab vectors).
function nearest() {
  const picked = $('colour').value;
  const found = palette.search({ vector: lab(...parseHex(picked)), limit: 3, with_payload: true });
  $('nearest').textContent = found.length
    ? `nearest to ${picked}: ` + found.map((p) => `${p.payload.hex} (${p.score.toFixed(1)})`).join(', ')
    : '';
}

async function guarded(action) {
  try {
    say('');
    await action();
  } catch (e) {
    say(describe(e), true);
  }
}

async function main() {
  $('title').textContent = `Device ${device}`;
  $('database').textContent = `${DB_NAME} (IndexedDB)`;
  document.title = `Quiver sync: device ${device}`;
  if (!server) throw new Error('no server: open sync.html through node web-demo/sync-demo.mjs');
  try {
    db = await open({ name: DB_NAME });
  } catch (e) {
    if (e instanceof QuiverError && e.code === 'Busy') throw new Error(`${DB_NAME} is open in another tab; close it there`);
    throw e;
  }
  palette = db.collectionExists(COLLECTION)
    ? db.collection(COLLECTION)
    : await db.createCollection(COLLECTION, { vectors: { size: 3, distance: 'Euclid' } });
  await connect(true);
  log(`opened ${DB_NAME} (replica ${db.replicaId}); live sync with ${server}`);
  $('online').disabled = false;
  $('add').disabled = false;
  $('random').disabled = false;
  $('online').addEventListener('change', () => setOnline($('online').checked));
  $('add').addEventListener('click', () => guarded(() => add($('colour').value)));
  $('random').addEventListener('click', () => {
    const c = hex(...[0, 1, 2].map(() => Math.floor(Math.random() * 256)));
    $('colour').value = c;
    guarded(() => add(c));
  });
  $('colour').addEventListener('input', () => guarded(async () => nearest()));
  addEventListener('pagehide', () => {
    void sync?.close();
  });
  setInterval(showStatus, 250);
  render();
  window.deviceReady = true;
}

main().catch((e) => {
  $('state').textContent = 'failed';
  $('state').className = 'error';
  say(describe(e), true);
});
