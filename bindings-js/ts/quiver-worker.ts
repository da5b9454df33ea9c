// The script that runs inside the dedicated worker started by quiverdb/worker: the browser build (browser.ts)
// behind a small message protocol. The page sends { id, op, ... }; the worker answers { id, ok, value } or
// { id, ok: false, error: { name, code, message } }. Result vectors and snapshots are transferred, not copied.
// Bundlers that understand `new Worker(new URL(..., import.meta.url))` (Vite, webpack) build this file by
// themselves; with others, bundle it as its own entry (README: "Web Worker").
import { Collection, Database, open, QuiverError } from './browser.js';
import type { WorkerRequest, WorkerResponse } from './worker.js';

const databases = new Map<number, Database>();
let nextId = 1;

// The methods the page may call: the public API of Database and Collection, nothing internal.
const kDatabaseMethods = new Set([
  'createCollection', 'deleteCollection', 'listCollections', 'collectionExists', 'collection', 'getCollection',
  'restoreSnapshot', 'createAlias', 'deleteAlias', 'listAliases', 'repair', 'flush', 'close',
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
  postMessage(message: WorkerResponse, transfer: Transferable[]): void;
  addEventListener(type: 'message', listener: (e: MessageEvent<WorkerRequest>) => void): void;
};

scope.addEventListener('message', (event) => {
  const request = event.data;
  handle(request).then(
    (value) => scope.postMessage({ id: request.id, ok: true, value }, [...buffers(value, new Set())]),
    (e) => {
      const error = {
        name: String(e?.name ?? 'Error'),
        code: e instanceof QuiverError ? e.code : null,
        message: String(e?.message ?? e),
      };
      scope.postMessage({ id: request.id, ok: false, error }, []);
    },
  );
});
