// The script that runs inside the dedicated worker started by quiverdb/worker: the browser build (browser.ts)
// behind a small message protocol. The page sends { id, op, ... }; the worker answers { id, ok, value } or
// { id, ok: false, error: { name, code, message } }. Result vectors and snapshots are transferred, not copied.
// A sync also sends { kind: 'sync', ... } (status, events) and { kind: 'ask', ... } (the page's getToken or
// onConflict), which the page answers with { op: 'answer', ... } (worker.ts has the types).
// Bundlers that understand `new Worker(new URL(..., import.meta.url))` (Vite, webpack) build this file by
// themselves; with others, bundle it as its own entry (README: "Web Worker").
import { Collection, Database, open, QuiverError, Sync } from './browser.js';
import type { SyncOptions } from './types.js';
import type { WorkerInbound, WorkerMessage, WorkerRequest, WorkerSyncStatus } from './worker.js';

const databases = new Map<number, Database>();
let nextId = 1;

// Syncs (Database.sync) run here; the page holds a WorkerSync per id (the page numbers them: its handle exists
// before the sync starts, which may ask for a token at once). Their status, events and the app's callbacks
// (getToken, onConflict: functions of the page) cross as messages: the worker asks, the page answers.
const syncs = new Map<number, { sync: Sync; db: number }>();
const asks = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
let nextAsk = 1;
const kSyncMethods = new Set(['push', 'pull', 'sync', 'close', 'conflicts', 'clearConflicts']);

function errorOf(e: any): { name: string; code: string | null; message: string } {
  return { name: String(e?.name ?? 'Error'), code: e instanceof QuiverError ? e.code : null, message: String(e?.message ?? e) };
}

function ask(sync: number, callback: 'getToken' | 'onConflict', arg?: unknown): Promise<any> {
  const id = nextAsk++;
  return new Promise((resolve, reject) => {
    asks.set(id, { resolve, reject });
    post({ kind: 'ask', ask: id, sync, callback, arg });
  });
}

function statusOf(sync: Sync): WorkerSyncStatus {
  const s = sync.status;
  return { ...s, lastError: s.lastError ? errorOf(s.lastError) : null, closed: sync.isClosed };
}

function postStatus(id: number): void {
  const entry = syncs.get(id);
  if (!entry) return;
  post({ kind: 'sync', sync: id, status: statusOf(entry.sync) });
  if (entry.sync.isClosed) syncs.delete(id);
}

function startSync(
  db: number,
  id: number,
  options: Omit<SyncOptions, 'getToken' | 'onConflict'> & { getToken: boolean; onConflict: boolean },
): unknown {
  if (syncs.has(id)) throw new QuiverError('InvalidArgument', `sync ${id} is running already`);
  const sync = database(db).sync({
    ...options,
    getToken: options.getToken ? () => ask(id, 'getToken') : undefined,
    onConflict: options.onConflict ? (conflict) => ask(id, 'onConflict', conflict) : undefined,
  });
  syncs.set(id, { sync, db });
  for (const event of ['change', 'conflict', 'error'] as const) {
    sync.on(event, (arg: any) => {
      if (!syncs.has(id)) return;
      post({ kind: 'sync', sync: id, status: statusOf(sync), event, arg: event === 'error' ? errorOf(arg) : arg });
    });
  }
  sync._watch(() => postStatus(id));
  return { status: statusOf(sync) };
}

async function callSync(id: number, method: string, args: unknown[]): Promise<unknown> {
  const entry = syncs.get(id);
  if (!entry) {
    if (method === 'close') return undefined;
    throw new QuiverError('FailedPrecondition', 'the sync was closed');
  }
  if (!kSyncMethods.has(method)) throw new QuiverError('InvalidArgument', `no method Sync.${method}`);
  return (entry.sync as any)[method](...args);
}

// The methods the page may call: the public API of Database and Collection, nothing internal.
const kDatabaseMethods = new Set([
  'createCollection', 'deleteCollection', 'listCollections', 'collectionExists', 'collection', 'getCollection',
  'restoreSnapshot', 'createAlias', 'deleteAlias', 'listAliases', 'repair', 'flush', 'close', 'memoryUsage',
]);
const kCollectionMethods = new Set([
  'info', 'stats', 'upsert', 'upsertDense', 'get', 'delete', 'setPayload', 'overwritePayload', 'deletePayloadKeys',
  'clearPayload', 'search', 'searchBatch', 'recommend', 'query', 'queryBatch', 'queryGroups', 'scroll', 'count',
  'createPayloadIndex',
  'deletePayloadIndex', 'optimize', 'createSnapshot', 'verify',
]);

function database(id: number): Database {
  const db = databases.get(id);
  if (!db) throw new QuiverError('FailedPrecondition', 'the database is closed');
  return db;
}

async function handle(request: WorkerRequest): Promise<unknown> {
  if (request.op === 'open') {
    const db = await open(request.options);
    const id = nextId++;
    databases.set(id, db);
    return { id, readOnly: db.readOnly, simd: db.simd, replicaId: db.replicaId };
  }
  if (request.op === 'sync') return startSync(request.db, request.sync, request.options);
  if (request.op === 'syncCall') return callSync(request.sync, request.method, request.args);
  const db = database(request.db);
  if (request.collection === undefined) {
    if (!kDatabaseMethods.has(request.method)) throw new QuiverError('InvalidArgument', `no method Database.${request.method}`);
    const value = await (db as any)[request.method](...request.args);
    if (request.method === 'close') databases.delete(request.db);
    return value instanceof Collection ? { collection: value.name } : value;
  }
  if (!kCollectionMethods.has(request.method)) throw new QuiverError('InvalidArgument', `no method Collection.${request.method}`);
  const collection = db.collection(request.collection) as any;
  return collection[request.method](...request.args);
}

// The buffers under a result's typed arrays (the vectors of one result share one), to transfer with it.
function buffers(value: unknown, out: Set<ArrayBuffer>, depth = 0): Set<ArrayBuffer> {
  if (ArrayBuffer.isView(value)) {
    if (value.buffer instanceof ArrayBuffer) out.add(value.buffer);
  } else if (value && typeof value === 'object' && depth < 4) {
    for (const v of Array.isArray(value) ? value : Object.values(value)) buffers(v, out, depth + 1);
  }
  return out;
}

const scope = globalThis as unknown as {
  postMessage(message: WorkerMessage, transfer: Transferable[]): void;
  addEventListener(type: 'message', listener: (e: MessageEvent<WorkerInbound>) => void): void;
};

function post(message: WorkerMessage, transfer: Transferable[] = []): void {
  scope.postMessage(message, transfer);
}

// The statuses of a database's syncs, sent before the answer to a call on it (a write changes what is pending).
function statusesOf(request: WorkerRequest): void {
  if (request.op !== 'call') return;
  for (const [id, entry] of syncs) if (entry.db === request.db) postStatus(id);
}

scope.addEventListener('message', (event) => {
  const request = event.data;
  if (request.op === 'answer') {
    const pending = asks.get(request.ask);
    asks.delete(request.ask);
    if (!pending) return;
    if (request.ok) {
      pending.resolve(request.value);
    } else {
      const e = request.error.name === 'QuiverError' && request.error.code ? new QuiverError(request.error.code as any, request.error.message) : new Error(request.error.message);
      pending.reject(e);
    }
    return;
  }
  handle(request).then(
    (value) => {
      statusesOf(request);
      post({ id: request.id, ok: true, value }, [...buffers(value, new Set())]);
    },
    (e) => {
      statusesOf(request);
      post({ id: request.id, ok: false, error: errorOf(e) });
    },
  );
});
