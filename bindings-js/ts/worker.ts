// quiverdb/worker: the browser build running in a dedicated Web Worker, behind the same API with every method
// returning a Promise. Imports, index builds and large searches then run off the page's main thread; only the
// requests and results cross (results' vectors are transferred). One worker serves every open() of the page.
import {
  CollectionConfig, CountRequest, CreatePayloadIndexRequest, DenseBatch, GetRequest, GroupsResult, PointId,
  PointsSelector, PointStruct, Payload, QueryGroupsRequest, QueryRequest, QueryResponse, QuiverError,
  RecommendRequest, Record_, MemoryUsage, RepairReport, ScoredPoint, ScrollRequest, ScrollResult, SearchRequest,
} from './core.js';
import type { OpenOptions as BrowserOpenOptions } from './browser.js';
import type { ConflictResolution, SyncChange, SyncConflict, SyncOptions, SyncStatus } from './types.js';
import { scriptUrl } from './wasm_load.js';

// The types of the API, and its values that do not need the engine (Database and Collection are WorkerDatabase
// and WorkerCollection here).
export type * from './core.js';
export { Durabilities, ErrorCodes, QuiverError } from './core.js';

export interface OpenOptions extends BrowserOpenOptions {
  /**
   * The worker script (quiverdb/quiver-worker, bundled), when the bundler does not build it from
   * `new Worker(new URL('./quiver-worker.js', import.meta.url))` by itself (esbuild, Rollup). Relative URLs are
   * resolved against the page. Used when the page's worker starts.
   */
  workerUrl?: string | URL;
  /** A worker you started yourself on the quiver-worker script (used when the page's worker starts). */
  worker?: Worker;
}

/** @internal The page-to-worker protocol (quiver-worker.ts answers). */
export type WorkerCall =
  | { op: 'open'; options: BrowserOpenOptions }
  | { op: 'call'; db: number; collection?: string; method: string; args: unknown[] }
  // Database.sync: the options without functions (getToken and onConflict say whether the page has them).
  | { op: 'sync'; db: number; sync: number; options: Omit<SyncOptions, 'getToken' | 'onConflict' | 'fetch'> & { getToken: boolean; onConflict: boolean } }
  | { op: 'syncCall'; sync: number; method: string; args: unknown[] };
/** @internal */
export type WorkerRequest = WorkerCall & { id: number };
/** @internal An error as it crosses. */
export type WorkerError = { name: string; code: string | null; message: string };
/** @internal The page's answer to a WorkerAsk (no reply). */
export type WorkerAnswer = { op: 'answer'; ask: number } & ({ ok: true; value: unknown } | { ok: false; error: WorkerError });
/** @internal */
export type WorkerInbound = WorkerRequest | WorkerAnswer;
/** @internal */
export type WorkerResponse = { id: number; ok: true; value: any } | { id: number; ok: false; error: WorkerError };
/** @internal A sync's status changed, and maybe one of its events (arg: the event's argument). */
export type WorkerSyncStatus = Omit<SyncStatus, 'lastError'> & { lastError: WorkerError | null; closed: boolean };
/** @internal */
export type WorkerSyncNote = { kind: 'sync'; sync: number; status: WorkerSyncStatus; event?: 'change' | 'conflict' | 'error'; arg?: any };
/** @internal The worker asks the page to run one of a sync's callbacks; the page posts a WorkerAnswer. */
export type WorkerAsk = { kind: 'ask'; ask: number; sync: number; callback: 'getToken' | 'onConflict'; arg?: any };
/** @internal Everything the worker posts. */
export type WorkerMessage = WorkerResponse | WorkerSyncNote | WorkerAsk;

const g = globalThis as any;
const baseUrl = (): string | undefined => g.document?.baseURI ?? g.location?.href;

function errorFrom(e: WorkerError): Error {
  if (e.name === 'QuiverError' && e.code) return new QuiverError(e.code as any, e.message);
  const error = new Error(e.message);
  error.name = e.name;
  return error;
}

function errorOf(e: any): WorkerError {
  return { name: String(e?.name ?? 'Error'), code: e instanceof QuiverError ? e.code : null, message: String(e?.message ?? e) };
}

class Channel {
  private next = 1;
  private readonly pending = new Map<number, { resolve: (v: any) => void; reject: (e: unknown) => void }>();
  /** The page's handles of the syncs running in the worker, by id (numbered here). */
  readonly syncs = new Map<number, WorkerSync>();
  nextSync = 1;

  constructor(
    readonly worker: Worker,
    private readonly url: string,
  ) {
    worker.addEventListener('message', (e: MessageEvent<WorkerMessage>) => {
      const message = e.data;
      if ('kind' in message) {
        if (message.kind === 'sync') this.syncs.get(message.sync)?._note(message);
        else void this.answer(message);
        return;
      }
      const reply = message;
      const call = this.pending.get(reply.id);
      if (!call) return;
      this.pending.delete(reply.id);
      if (reply.ok) call.resolve(reply.value);
      else call.reject(errorFrom(reply.error));
    });
    // A script that failed to load or evaluate: every call fails, and the next open() starts a new worker.
    worker.addEventListener('error', (e: ErrorEvent) => {
      e.preventDefault?.();
      this.fail(new QuiverError('IOError', `the quiverdb worker ${this.url} failed: ${e.message || 'the script did not load (check its URL and that it is served as JavaScript)'}`));
    });
  }

  call<T>(request: WorkerCall): Promise<T> {
    const id = this.next++;
    if (request.op === 'call') request.args = request.args.map((a) => compact(a, 0));
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...request, id });
    });
  }

  // Runs a sync's callback for the worker and posts its answer (a failure crosses as an error).
  private async answer(ask: WorkerAsk): Promise<void> {
    let reply: WorkerAnswer;
    try {
      const sync = this.syncs.get(ask.sync);
      if (!sync) throw new QuiverError('FailedPrecondition', 'the sync was closed');
      reply = { op: 'answer', ask: ask.ask, ok: true, value: await sync._callback(ask.callback, ask.arg) };
    } catch (e) {
      reply = { op: 'answer', ask: ask.ask, ok: false, error: errorOf(e) };
    }
    if (channel === this) this.worker.postMessage(reply);
  }

  fail(error: QuiverError): void {
    if (channel === this) channel = undefined;
    this.worker.terminate();
    for (const call of this.pending.values()) call.reject(error);
    this.pending.clear();
    for (const sync of this.syncs.values()) sync._lost();
    this.syncs.clear();
  }
}

let channel: Channel | undefined;

// postMessage copies the whole buffer under a typed array, so a view onto part of a larger buffer (a row of a
// big Float32Array, one batch of an import) would copy all of it on every call: copy just the view instead.
// Containers are copied only where something inside changed; arrays of numbers are not walked.
function compact(value: unknown, depth: number): unknown {
  if (ArrayBuffer.isView(value)) {
    const view = value as Float32Array;
    return !(value instanceof DataView) && view.byteLength < view.buffer.byteLength ? view.slice() : value;
  }
  if (depth > 3 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    if (value.length === 0 || typeof value[0] !== 'object') return value;
    let copy: unknown[] | undefined;
    value.forEach((v, i) => {
      const c = compact(v, depth + 1);
      if (c !== v) (copy ??= value.slice())[i] = c;
    });
    return copy ?? value;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  let copy: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(value)) {
    const c = compact(v, depth + 1);
    if (c !== v) (copy ??= { ...(value as Record<string, unknown>) })[k] = c;
  }
  return copy ?? value;
}

function start(options: OpenOptions): Channel {
  if (channel) return channel;
  if (options.worker) return (channel = new Channel(options.worker, 'given as open({ worker })'));
  if (options.workerUrl !== undefined) {
    const url = new URL(String(options.workerUrl), baseUrl()).href;
    return (channel = new Channel(new Worker(url, { type: 'module' }), url));
  }
  try {
    // The literal form that Vite and webpack turn into a worker bundle of their own; without them, the file
    // quiver-worker.js beside the module (or the bundle) holding this code.
    const worker = new Worker(new URL('./quiver-worker.js', import.meta.url), { type: 'module' });
    return (channel = new Channel(worker, 'quiver-worker.js (beside quiverdb/worker, or as your bundler emitted it)'));
  } catch {
    // An iife bundle (import.meta.url is empty): quiver-worker.js beside the script.
    const url = new URL('quiver-worker.js', scriptUrl ?? baseUrl()).href;
    return (channel = new Channel(new Worker(url, { type: 'module' }), url));
  }
}

/** Ends the page's worker: open databases are dropped without a flush, pending calls fail. */
export function terminate(): void {
  channel?.fail(new QuiverError('FailedPrecondition', 'the quiverdb worker was terminated'));
}

/**
 * Opens a database in the page's quiverdb worker (started on first use): the options of quiverdb's browser
 * open(), plus workerUrl / worker. The database and its collections have the usual methods, each returning a
 * Promise.
 */
export async function open(options: OpenOptions): Promise<WorkerDatabase> {
  const { worker, workerUrl, ...rest } = options ?? ({} as OpenOptions);
  const forward: BrowserOpenOptions = { ...rest };
  if (forward.wasmUrl !== undefined) forward.wasmUrl = new URL(String(forward.wasmUrl), baseUrl()).href;
  const c = start(options ?? ({} as OpenOptions));
  const opened = await c.call<{ id: number; readOnly: boolean; simd: string; replicaId: string }>({ op: 'open', options: forward });
  return new WorkerDatabase(c, opened.id, opened.readOnly, opened.simd, opened.replicaId);
}

/** A database open in the worker: Database's methods, each returning a Promise. */
export class WorkerDatabase {
  private closed = false;
  /** @internal */
  constructor(
    private readonly channel: Channel,
    private readonly id: number,
    readonly readOnly: boolean,
    readonly simd: string,
    readonly replicaId: string,
  ) {}

  get isClosed(): boolean {
    return this.closed;
  }

  /** @internal */
  _call<T>(method: string, args: unknown[], collection?: string): Promise<T> {
    return this.channel.call<T>({ op: 'call', db: this.id, collection, method, args });
  }

  private collectionOf = (reply: { collection: string }) => new WorkerCollection(this, reply.collection);

  createCollection(name: string, config: CollectionConfig): Promise<WorkerCollection> {
    return this._call<{ collection: string }>('createCollection', [name, config]).then(this.collectionOf);
  }
  deleteCollection(name: string): Promise<void> {
    return this._call('deleteCollection', [name]);
  }
  listCollections(): Promise<string[]> {
    return this._call('listCollections', []);
  }
  collectionExists(name: string): Promise<boolean> {
    return this._call('collectionExists', [name]);
  }
  /** A collection by name or alias; NotFound if neither. */
  collection(name: string): Promise<WorkerCollection> {
    return this._call<{ collection: string }>('collection', [name]).then(this.collectionOf);
  }
  getCollection(name: string): Promise<WorkerCollection> {
    return this.collection(name);
  }
  restoreSnapshot(name: string, snapshot: Uint8Array): Promise<WorkerCollection> {
    return this._call<{ collection: string }>('restoreSnapshot', [name, snapshot]).then(this.collectionOf);
  }
  createAlias(alias: string, collection: string): Promise<void> {
    return this._call('createAlias', [alias, collection]);
  }
  deleteAlias(alias: string): Promise<void> {
    return this._call('deleteAlias', [alias]);
  }
  listAliases(): Promise<{ alias_name: string; collection_name: string }[]> {
    return this._call('listAliases', []);
  }
  repair(name: string): Promise<RepairReport> {
    return this._call('repair', [name]);
  }
  flush(): Promise<void> {
    return this._call('flush', []);
  }
  /** The worker's WebAssembly memory (Database.memoryUsage). */
  memoryUsage(): Promise<MemoryUsage> {
    return this._call('memoryUsage', []);
  }

  /**
   * Syncs collections of this database with a quiverd server, in the worker (docs/sync.md): the options of
   * Database.sync (`{ url, apiKey | getToken, collections, live, writeThrough, onConflict, ... }`, without
   * `fetch`). getToken and onConflict run here, in the page: the worker asks for them and waits for the answer.
   * Resolves to the running sync once it started.
   */
  async sync(options: SyncOptions): Promise<WorkerSync> {
    if (!options || typeof options !== 'object') throw new QuiverError('InvalidArgument', 'sync: expected options { url, collections, ... }');
    const { getToken, onConflict, fetch, ...rest } = options;
    if (fetch !== undefined) throw new QuiverError('InvalidArgument', 'sync.fetch: not available through quiverdb/worker (the worker fetches)');
    if (getToken !== undefined && typeof getToken !== 'function') {
      throw new QuiverError('InvalidArgument', 'sync.getToken: expected a function returning the token (or a Promise of it)');
    }
    if (onConflict !== undefined && typeof onConflict !== 'function') throw new QuiverError('InvalidArgument', 'sync.onConflict: expected a function');
    // The handle exists first: the worker may ask for a token (or report) before it answers.
    const id = this.channel.nextSync++;
    const sync = new WorkerSync(this.channel, id, getToken, onConflict);
    this.channel.syncs.set(id, sync);
    try {
      const started = await this.channel.call<{ status: WorkerSyncStatus }>({
        op: 'sync',
        db: this.id,
        sync: id,
        options: { ...rest, getToken: getToken !== undefined, onConflict: onConflict !== undefined },
      });
      sync._note({ kind: 'sync', sync: id, status: started.status });
    } catch (e) {
      this.channel.syncs.delete(id);
      throw e;
    }
    return sync;
  }

  /** Closes the database (and its sync). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this._call('close', []);
  }
}

type SyncEvents = {
  change: (change: SyncChange) => void;
  conflict: (conflict: SyncConflict & { resolution: ConflictResolution }) => void;
  error: (error: QuiverError) => void;
};

/**
 * A sync running in the worker (WorkerDatabase.sync): Sync's API, with conflicts() and clearConflicts() returning
 * Promises. `status` is the latest the worker reported: it reports after every round, every event and every call
 * on the database, before that call's answer.
 */
export class WorkerSync {
  private current: SyncStatus = {
    state: 'offline',
    lastRoundAt: null,
    lastError: null,
    pending: 0,
    stats: {
      rounds: 0, failedRounds: 0, pushedPoints: 0, pulledPoints: 0, rejectedPoints: 0, resyncs: 0, clockRepairs: 0,
      digestMismatches: 0, requests: 0,
    },
  };
  private closed = false;
  private readonly listeners: { [K in keyof SyncEvents]: Set<SyncEvents[K]> } = {
    change: new Set(),
    conflict: new Set(),
    error: new Set(),
  };

  /** @internal */
  constructor(
    private readonly channel: Channel,
    private readonly id: number,
    private readonly getToken?: () => string | Promise<string>,
    private readonly onConflict?: (c: SyncConflict) => ConflictResolution | Promise<ConflictResolution>,
  ) {}

  private static statusFrom(s: WorkerSyncStatus): SyncStatus {
    const { closed: _closed, lastError, ...rest } = s;
    return { ...rest, lastError: lastError ? errorFrom(lastError) : null };
  }

  private call<T>(method: string, ...args: unknown[]): Promise<T> {
    if (this.closed && method !== 'close') return Promise.reject(new QuiverError('FailedPrecondition', 'the sync was closed'));
    return this.channel.call<T>({ op: 'syncCall', sync: this.id, method, args });
  }

  /** Pushes the local writes not yet acknowledged (a round that starts after this call). */
  push(): Promise<void> {
    return this.call('push');
  }
  /** Pulls the server's changes until caught up. */
  pull(): Promise<void> {
    return this.call('pull');
  }
  /** Pushes, then pulls until caught up (and checks the anti-entropy digest). */
  sync(): Promise<void> {
    return this.call('sync');
  }
  /** Where the sync stands, as the worker last reported it. */
  get status(): SyncStatus {
    return { ...this.current, stats: { ...this.current.stats } };
  }
  get isClosed(): boolean {
    return this.closed;
  }
  /** The refusals recorded for a collection (kept until clearConflicts). */
  conflicts(collection: string): Promise<SyncConflict[]> {
    return this.call('conflicts', collection);
  }
  clearConflicts(collection: string): Promise<void> {
    return this.call('clearConflicts', collection);
  }
  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof SyncEvents>(event: K, fn: SyncEvents[K]): () => void {
    const set = this.listeners[event] as Set<SyncEvents[K]> | undefined;
    if (!set) throw new QuiverError('InvalidArgument', `sync.on: unknown event ${JSON.stringify(event)} (change, conflict, error)`);
    if (typeof fn !== 'function') throw new QuiverError('InvalidArgument', 'sync.on: expected a listener function');
    set.add(fn);
    return () => this.off(event, fn);
  }
  off<K extends keyof SyncEvents>(event: K, fn: SyncEvents[K]): void {
    (this.listeners[event] as Set<SyncEvents[K]> | undefined)?.delete(fn);
  }
  /** Stops syncing (as Sync.close): pending push()/pull()/sync() calls reject; local data and the outbox stay. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.call('close');
    this.closed = true;
    this.channel.syncs.delete(this.id);
  }

  /** @internal A status (and maybe an event) from the worker. */
  _note(note: WorkerSyncNote): void {
    this.current = WorkerSync.statusFrom(note.status);
    if (note.status.closed) {
      this.closed = true;
      this.channel.syncs.delete(this.id);
    }
    if (!note.event) return;
    const arg = note.event === 'error' ? errorFrom(note.arg) : note.arg;
    for (const fn of [...this.listeners[note.event]] as ((a: unknown) => void)[]) fn(arg);
  }

  /** @internal The worker asks for getToken() or onConflict(conflict). */
  async _callback(callback: 'getToken' | 'onConflict', arg: unknown): Promise<unknown> {
    if (callback === 'getToken') {
      if (!this.getToken) throw new QuiverError('FailedPrecondition', 'sync: no getToken');
      return await this.getToken();
    }
    if (!this.onConflict) throw new QuiverError('FailedPrecondition', 'sync: no onConflict');
    return await this.onConflict(arg as SyncConflict);
  }

  /** @internal The worker ended. */
  _lost(): void {
    this.closed = true;
  }
}

/** A collection of a WorkerDatabase: Collection's methods, each returning a Promise. */
export class WorkerCollection {
  /** @internal */
  constructor(
    private readonly db: WorkerDatabase,
    readonly name: string,
  ) {}

  private call<T>(method: string, ...args: unknown[]): Promise<T> {
    return this.db._call<T>(method, args, this.name);
  }

  info(): Promise<any> {
    return this.call('info');
  }
  stats(): Promise<any> {
    return this.call('stats');
  }
  upsert(points: PointStruct[] | { points: PointStruct[] } | { batch: unknown }): Promise<void> {
    return this.call('upsert', points);
  }
  upsertDense(batch: DenseBatch): Promise<void> {
    return this.call('upsertDense', batch);
  }
  get(request: PointId[] | GetRequest): Promise<Record_[]> {
    return this.call('get', request);
  }
  delete(selector: PointId[] | PointsSelector): Promise<number> {
    return this.call('delete', selector);
  }
  setPayload(request: { payload: Payload } & PointsSelector): Promise<number> {
    return this.call('setPayload', request);
  }
  overwritePayload(request: { payload: Payload } & PointsSelector): Promise<number> {
    return this.call('overwritePayload', request);
  }
  deletePayloadKeys(request: { keys: string[] } & PointsSelector): Promise<number> {
    return this.call('deletePayloadKeys', request);
  }
  clearPayload(selector: PointId[] | PointsSelector): Promise<number> {
    return this.call('clearPayload', selector);
  }
  search(request: SearchRequest): Promise<ScoredPoint[]> {
    return this.call('search', request);
  }
  searchBatch(request: SearchRequest[] | { searches: SearchRequest[] }): Promise<ScoredPoint[][]> {
    return this.call('searchBatch', request);
  }
  recommend(request: RecommendRequest): Promise<ScoredPoint[]> {
    return this.call('recommend', request);
  }
  query(request: QueryRequest = {}): Promise<QueryResponse> {
    return this.call('query', request);
  }
  queryBatch(request: QueryRequest[] | { searches: QueryRequest[] }): Promise<QueryResponse[]> {
    return this.call('queryBatch', request);
  }
  queryGroups(request: QueryGroupsRequest): Promise<GroupsResult> {
    return this.call('queryGroups', request);
  }
  scroll(request: ScrollRequest = {}): Promise<ScrollResult> {
    return this.call('scroll', request);
  }
  count(request: CountRequest = {}): Promise<{ count: number }> {
    return this.call('count', request);
  }
  createPayloadIndex(request: CreatePayloadIndexRequest): Promise<void> {
    return this.call('createPayloadIndex', request);
  }
  deletePayloadIndex(field: string): Promise<void> {
    return this.call('deletePayloadIndex', field);
  }
  optimize(): Promise<void> {
    return this.call('optimize');
  }
  createSnapshot(): Promise<Uint8Array> {
    return this.call('createSnapshot');
  }
  verify(): Promise<string[]> {
    return this.call('verify');
  }
}
