// The platform-neutral part of the quiverdb package: QuiverError, Database and Collection over the Embind module
// (bindings-js/src/js_api.h). Requests and responses use Qdrant's JSON shapes and the C++ API's names; vectors go
// in and come out as Float32Array. node.ts and browser.ts add open() with their storage; filter.ts has the filter
// types, types.ts the request and response shapes.
import type { Filter, PointId } from './filter.js';
import type {
  Vector,
  Payload,
  Distance,
  SparseVector,
  Bm25Config,
  Document,
  NamedVectorValue,
  PointStruct,
  VectorParams,
  QuantizationConfig,
  HnswConfig,
  SparseVectorParams,
  CollectionConfig,
  WithPayload,
  WithVector,
  SearchParams,
  SearchRequest,
  RecommendRequest,
  ScrollRequest,
  GetRequest,
  PointsSelector,
  CountRequest,
  PayloadSchemaType,
  CreatePayloadIndexRequest,
  SparseVectorOutput,
  Record_,
  ScoredPoint,
  ScrollResult,
  VectorInput,
  OrderBy,
  Fusion,
  Query,
  LookupLocation,
  Prefetch,
  QueryRequest,
  WithLookup,
  QueryGroupsRequest,
  QueryPoint,
  QueryResponse,
  PointGroup,
  GroupsResult,
  DenseBatch,
  MemoryUsage,
  RepairReport,
} from './types.js';

import { ErrorCode, ErrorCodes, QuiverError } from './errors.js';
import { NativeSync, Sync, SyncOwner } from './sync.js';
import type { SyncOptions } from './types.js';

export * from './filter.js';
export * from './types.js';
export { ErrorCodes, QuiverError, Sync };
export type { ErrorCode };


// ---- the Embind module ----

export interface NativeCollection {
  code(): number;
  message(): string;
  floats(): number;
  bytes(): number;
  bytesSize(): number;
  releaseBytes(): void;
  info(): string;
  stats(): string;
  upsert(body: string): number;
  upsertDense(ids: string, name: string, ptr: number, floats: number, payloads: string): number;
  get(body: string): string;
  deletePoints(body: string): number;
  setPayload(body: string): number;
  overwritePayload(body: string): number;
  deletePayloadKeys(body: string): number;
  clearPayload(body: string): number;
  search(body: string): string;
  searchVector(name: string, ptr: number, dim: number, options: string): string;
  searchBatch(body: string): string;
  recommend(body: string): string;
  scroll(body: string): string;
  count(body: string): number;
  createPayloadIndex(body: string): number;
  deletePayloadIndex(field: string): number;
  optimize(): number;
  createSnapshot(): number;
  verify(): string;
  delete(): void;
}
export interface NativeDatabase {
  code(): number;
  message(): string;
  open(path: string, readOnly: boolean, durability: number, segmentPoints: number, replicaId: number): number;
  close(): number;
  flush(): number;
  isOpen(): boolean;
  replicaId(): string;
  createCollection(name: string, config: string): number;
  deleteCollection(name: string): number;
  listCollections(): string;
  collectionExists(name: string): boolean;
  getCollection(name: string): NativeCollection | null;
  restoreSnapshot(name: string, ptr: number, size: number): number;
  createAlias(alias: string, collection: string): number;
  deleteAlias(alias: string): number;
  listAliases(): string;
  repair(name: string): string;
  floats(): number;
  query(collection: string, kind: number, body: string): string;
  delete(): void;
}
export interface QuiverModule {
  NativeDatabase: new () => NativeDatabase;
  NativeSync: new () => NativeSync;
  simdIsa(): string;
  /** The engine's status codes by number (a JSON array of ErrorCodes' names). */
  statusCodeSymbols(): string;
  HEAPF32: Float32Array;
  HEAPU8: Uint8Array;
  _malloc(size: number): number;
  _free(ptr: number): void;
  FS: any;
  NODEFS?: any;
  IDBFS?: any;
}

/** What a platform (Node, browser) plugs into a Database: when writes happen, flush and close. */
export interface StorageHooks {
  /** After every write (debounced flush in the browser). */
  afterWrite(): void;
  /** After the engine's own flush: make the writes durable (IDBFS sync in the browser). */
  persist(): Promise<void>;
  /** After the engine closed: unmount, release locks. */
  release(): Promise<void>;
}

export const Durabilities = { sync: 0, batched: 1, none: 2 } as const;
export type Durability = keyof typeof Durabilities;

export interface CommonOpenOptions {
  /** Open without the writer lock; writes fail with FailedPrecondition. */
  readOnly?: boolean;
  /** When a write is durable: "sync" (Node's default), "batched", or "none" (the browser's: at flush()). */
  durability?: Durability;
  /** Points per write segment before it is sealed (the engine's segment_points). */
  segmentPoints?: number;
}

// ---- helpers ----

const kBigPrefix = '\u0000qv-big:';

/** JSON text for the engine: typed arrays become arrays, bigint ids become exact integer literals. */
export function toJson(value: unknown): string {
  let hasBig = false;
  const text = JSON.stringify(value, (_key, v) => {
    if (typeof v === 'bigint') {
      hasBig = true;
      return kBigPrefix + v.toString();
    }
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>);
    return v;
  });
  if (text === undefined) throw new QuiverError('InvalidArgument', 'request: expected a JSON value');
  return hasBig ? text.replace(/"\\u0000qv-big:(-?\d+)"/g, '$1') : text;
}

// Ids above 2^53 - 1 come back as decimal strings: make them bigint. UUIDs contain '-' and stay strings.
function fixId(id: unknown): PointId {
  return typeof id === 'string' && /^\d+$/.test(id) ? BigInt(id) : (id as PointId);
}

class ModuleMemory {
  private scratch = 0;
  private scratchBytes = 0;
  constructor(readonly mod: QuiverModule) {}

  /** Copies a vector into a reused buffer in module memory; valid until the next call. */
  vector(v: Vector): number {
    const bytes = v.length * 4;
    if (bytes > this.scratchBytes) {
      if (this.scratch) this.mod._free(this.scratch);
      this.scratchBytes = Math.max(bytes, 4096);
      this.scratch = this.mod._malloc(this.scratchBytes);
    }
    this.mod.HEAPF32.set(v, this.scratch >>> 2);
    return this.scratch;
  }
}

const memories = new WeakMap<QuiverModule, ModuleMemory>();
function memoryOf(mod: QuiverModule): ModuleMemory {
  let m = memories.get(mod);
  if (!m) memories.set(mod, (m = new ModuleMemory(mod)));
  return m;
}

function isVector(v: unknown): v is Vector {
  return v instanceof Float32Array || (Array.isArray(v) && (v.length === 0 || typeof v[0] === 'number'));
}

// ---- Collection ----

/** A collection of a Database: points with vectors and payloads, searched with Qdrant's semantics. */
export class Collection {
  /** @internal */
  constructor(
    private readonly db: Database,
    readonly name: string,
  ) {}

  private native(): NativeCollection {
    return this.db._native(this.name);
  }

  private check<T>(c: NativeCollection, result: T, failed: boolean): T {
    if (failed) throw new QuiverError(c.code(), c.message());
    return result;
  }

  private number(c: NativeCollection, n: number): number {
    return this.check(c, n, n < 0);
  }

  private json(c: { code(): number; message(): string }, text: string): any {
    if (text === '' && c.code() !== 0) throw new QuiverError(c.code(), c.message());
    return JSON.parse(text);
  }

  // Turns [offset, length] vector references into Float32Arrays over one copy of the result's floats.
  private points<T extends Record_>(c: { floats(): number }, list: any[]): T[] {
    let floats = 0;
    for (const p of list) {
      p.id = fixId(p.id);
      const v = p.vector;
      if (v === undefined) continue;
      if (Array.isArray(v)) floats = Math.max(floats, v[0] + v[1]);
      else for (const k in v) if (Array.isArray(v[k])) floats = Math.max(floats, v[k][0] + v[k][1]);
    }
    if (floats === 0) {
      for (const p of list) if (p.vector !== undefined) p.vector = Array.isArray(p.vector) ? new Float32Array(0) : p.vector;
      return list;
    }
    const base = c.floats() >>> 2;
    const copy = this.db._module.HEAPF32.slice(base, base + floats);
    const view = (r: [number, number]) => copy.subarray(r[0], r[0] + r[1]);
    for (const p of list) {
      const v = p.vector;
      if (v === undefined) continue;
      if (Array.isArray(v)) p.vector = view(v as [number, number]);
      else for (const k in v) if (Array.isArray(v[k])) v[k] = view(v[k] as [number, number]);
    }
    return list;
  }

  private write<T>(run: (c: NativeCollection) => T): Promise<T> {
    try {
      this.db._checkWritable();
      const result = run(this.native());
      this.db._hooks.afterWrite();
      return this.db._afterLocalWrite(this.name, result);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Qdrant's collection info: status, points_count, config, payload_schema. */
  info(): any {
    const c = this.native();
    return this.json(c, c.info());
  }

  /** Counters and the SIMD kernels in use (`simd`, "wasm-simd128"). */
  stats(): any {
    const c = this.native();
    return this.json(c, c.stats());
  }

  /**
   * Inserts or replaces points: an array of `{ id, vector, payload }`, or Qdrant's body (`{ points }` or
   * `{ batch }`). A batch is validated whole: bad input (wrong dimension, NaN, ...) changes nothing.
   */
  upsert(points: PointStruct[] | { points: PointStruct[] } | { batch: unknown }): Promise<void> {
    return this.write((c) => {
      const list = Array.isArray(points) ? points : (points as { points?: PointStruct[] }).points;
      if (list && list.length > 0 && list.every((p) => isVector(p.vector))) {
        this.upsertRows(c, list);
        return;
      }
      const body = Array.isArray(points) ? { points } : points;
      this.check(c, undefined, c.upsert(toJson(body)) !== 0);
    });
  }

  // Unnamed vectors of one size: copied straight into one buffer in module memory and passed without JSON.
  private upsertRows(c: NativeCollection, list: PointStruct[]): void {
    const dim = (list[0].vector as Vector).length;
    if (dim === 0 || !list.every((p) => (p.vector as Vector).length === dim)) {
      this.check(c, undefined, c.upsert(toJson({ points: list })) !== 0);
      return;
    }
    const payloads = list.some((p) => p.payload != null) ? list.map((p) => p.payload ?? null) : undefined;
    this.dense(c, list.map((p) => p.id), list.length * dim, '', payloads, (heap, base) =>
      list.forEach((p, i) => heap.set(p.vector as Vector, base + i * dim)),
    );
  }

  private dense(
    c: NativeCollection,
    ids: PointId[],
    floats: number,
    using: string,
    payloads: (Payload | null)[] | undefined,
    fill: (heap: Float32Array, base: number) => void,
  ): void {
    // The engine checks that the floats make one vector per id, and names the mismatch.
    const mod = this.db._module;
    const ptr = mod._malloc(Math.max(1, floats * 4));
    try {
      fill(mod.HEAPF32, ptr >>> 2);
      const payloadJson = payloads ? toJson(payloads) : '';
      this.check(c, undefined, c.upsertDense(toJson(ids), using, ptr, floats, payloadJson) !== 0);
    } finally {
      mod._free(ptr);
    }
  }

  /**
   * The fast batch form: `ids.length` vectors of one name from one row-major Float32Array (C++ UpsertDense).
   */
  upsertDense(batch: DenseBatch): Promise<void> {
    return this.write((c) => {
      if (!(batch.vectors instanceof Float32Array)) {
        throw new QuiverError('InvalidArgument', 'upsertDense: vectors must be a Float32Array');
      }
      const { vectors } = batch;
      this.dense(c, batch.ids, vectors.length, batch.using ?? '', batch.payloads, (heap, base) => heap.set(vectors, base));
    });
  }

  /** Points by id (Qdrant's retrieve), in the order asked; missing ids are skipped. */
  get(request: PointId[] | GetRequest): Record_[] {
    const body = Array.isArray(request) ? { ids: request } : request;
    const c = this.native();
    return this.points(c, this.json(c, c.get(toJson(body))));
  }

  /** Deletes points by ids (`[ids]` or `{ points }`) or by `{ filter }`; resolves to how many existed. */
  delete(selector: PointId[] | PointsSelector): Promise<number> {
    const body = Array.isArray(selector) ? { points: selector } : selector;
    return this.write((c) => this.number(c, c.deletePoints(toJson(body))));
  }

  /** Merges payload keys into the selected points: `{ payload, points | filter }`. */
  setPayload(request: { payload: Payload } & PointsSelector): Promise<number> {
    return this.write((c) => this.number(c, c.setPayload(toJson(request))));
  }

  /** Replaces the whole payload of the selected points. */
  overwritePayload(request: { payload: Payload } & PointsSelector): Promise<number> {
    return this.write((c) => this.number(c, c.overwritePayload(toJson(request))));
  }

  /** Removes keys from the payload of the selected points: `{ keys, points | filter }`. */
  deletePayloadKeys(request: { keys: string[] } & PointsSelector): Promise<number> {
    return this.write((c) => this.number(c, c.deletePayloadKeys(toJson(request))));
  }

  /** Empties the payload of the selected points. */
  clearPayload(selector: PointId[] | PointsSelector): Promise<number> {
    const body = Array.isArray(selector) ? { points: selector } : selector;
    return this.write((c) => this.number(c, c.clearPayload(toJson(body))));
  }

  /**
   * Nearest points to `vector` (Qdrant's search body). The query vector goes to the engine without JSON, and
   * the other options are parsed once for a run of queries that share them.
   */
  search(request: SearchRequest): ScoredPoint[] {
    const c = this.native();
    const { vector, ...options } = request;
    let name = '';
    let v: unknown = vector;
    if (!isVector(vector) && vector && typeof vector === 'object') {
      name = (vector as { name: string }).name;
      v = (vector as { vector: Vector }).vector;
    }
    if (!isVector(v)) {
      // Sparse vectors and documents go as JSON.
      if (v && typeof v === 'object' && name) return this.points(c, this.json(c, c.search(toJson(request))));
      throw new QuiverError('InvalidArgument', 'search.vector: expected a Float32Array or number[]');
    }
    const ptr = memoryOf(this.db._module).vector(v);
    const text = c.searchVector(name, ptr, v.length, toJson(options));
    return this.points(c, this.json(c, text));
  }

  /** Several searches in one call: an array of search bodies or `{ searches }`. */
  searchBatch(request: SearchRequest[] | { searches: SearchRequest[] }): ScoredPoint[][] {
    const body = Array.isArray(request) ? { searches: request } : request;
    const c = this.native();
    const lists: any[][] = this.json(c, c.searchBatch(toJson(body)));
    // One flat pass so that all vectors come from one copy.
    const flat = this.points(c, lists.flat());
    let i = 0;
    return lists.map((l) => l.map(() => flat[i++]) as ScoredPoint[]);
  }

  /** Qdrant's recommend (average_vector): positive and negative example ids or vectors. */
  recommend(request: RecommendRequest): ScoredPoint[] {
    const c = this.native();
    return this.points(c, this.json(c, c.recommend(toJson(request))));
  }

  /**
   * Qdrant's Query API: nearest (a vector, or a point id), recommend, order_by a payload field, prefetches (nested
   * to any depth) rescored or fused by the outer query (`{ fusion: 'rrf' }`, `{ rrf: { k, weights } }`,
   * `{ fusion: 'dbsf' }`), filter, score_threshold, limit, offset, with_payload, with_vector, params. Runs on the
   * database, so `lookup_from` may name another collection.
   */
  query(request: QueryRequest = {}): QueryResponse {
    const n = this.db._nativeDatabase();
    const result = this.json(n, n.query(this.name, 0, toJson(request)));
    this.points(n, result.points);
    return result;
  }

  /** Several queries in one call: an array of query bodies or `{ searches }`. */
  queryBatch(request: QueryRequest[] | { searches: QueryRequest[] }): QueryResponse[] {
    const body = Array.isArray(request) ? { searches: request } : request;
    const n = this.db._nativeDatabase();
    const results: QueryResponse[] = this.json(n, n.query(this.name, 1, toJson(body)));
    this.points(n, results.flatMap((r) => r.points));
    return results;
  }

  /** The query's points grouped by a payload field: `{ groups: [{ id, hits, lookup? }] }`, best group first. */
  queryGroups(request: QueryGroupsRequest): GroupsResult {
    const n = this.db._nativeDatabase();
    const result: GroupsResult = this.json(n, n.query(this.name, 2, toJson(request)));
    const all: Record_[] = [];
    for (const g of result.groups) {
      all.push(...g.hits);
      if (g.lookup) all.push(g.lookup);
    }
    this.points(n, all);
    return result;
  }

  /** Points in id order, a page at a time: pass `next_page_offset` as `offset` to continue. */
  scroll(request: ScrollRequest = {}): ScrollResult {
    const c = this.native();
    const result = this.json(c, c.scroll(toJson(request)));
    this.points(c, result.points);
    result.next_page_offset = result.next_page_offset === null ? null : fixId(result.next_page_offset);
    return result;
  }

  /** Exact count of points matching the filter (all points without one). */
  count(request: CountRequest = {}): { count: number } {
    const c = this.native();
    return { count: this.number(c, c.count(toJson(request))) };
  }

  /** Qdrant's body: `{ field_name, field_schema }` ("keyword", "integer", "float", "bool", "uuid", "datetime", "geo", "text"). */
  createPayloadIndex(request: CreatePayloadIndexRequest): Promise<void> {
    return this.write((c) => {
      this.check(c, undefined, c.createPayloadIndex(toJson(request)) !== 0);
    });
  }

  deletePayloadIndex(field: string): Promise<void> {
    return this.write((c) => {
      this.check(c, undefined, c.deletePayloadIndex(field) !== 0);
    });
  }

  /** Seals the write segment and builds graph indexes now. */
  optimize(): Promise<void> {
    return this.write((c) => {
      this.check(c, undefined, c.optimize() !== 0);
    });
  }

  /** A point-in-time copy of the collection as one file: the same bytes natively and in WASM. */
  createSnapshot(): Promise<Uint8Array> {
    try {
      this.db._checkOpen();
      const c = this.native();
      this.check(c, undefined, c.createSnapshot() !== 0);
      const ptr = c.bytes();
      const bytes = this.db._module.HEAPU8.slice(ptr, ptr + c.bytesSize());
      c.releaseBytes();
      return Promise.resolve(bytes);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Re-reads stored files and checks index invariants; the problems found (empty when all is well). */
  verify(): string[] {
    const c = this.native();
    return this.json(c, c.verify());
  }
}

// ---- Database ----

/**
 * @internal What every Database handle on one opened storage shares: the native database, its collection handles
 * and the platform's hooks. The storage closes when the last handle does.
 */
export class OpenStore {
  readonly handles = new Map<string, NativeCollection>();
  /** The syncs running on this storage (at most one): told of every local write. */
  readonly syncs = new Set<Sync>();
  refs = 0;
  /** Set when the last handle closed: the native close and the platform's release, in progress or done. */
  closing: Promise<void> | undefined;
  constructor(
    readonly module: QuiverModule,
    readonly native: NativeDatabase,
    readonly hooks: StorageHooks,
    readonly readOnly: boolean,
  ) {}
}

/** A Quiver database: in memory, in IndexedDB (browser) or in a folder (Node). Open it with `open()`. */
export class Database {
  private closed = false;
  private readonly syncs = new Set<Sync>();
  private readonly db: NativeDatabase;
  /** @internal */ readonly _module: QuiverModule;
  /** @internal */ readonly _hooks: StorageHooks;

  /** @internal */
  constructor(
    /** @internal */ readonly _store: OpenStore,
    /** Opened without the writer lock (or as a read-only handle on a database open on this page). */
    readonly readOnly: boolean,
  ) {
    _store.refs++;
    this.db = _store.native;
    this._module = _store.module;
    this._hooks = _store.hooks;
  }

  /** @internal Another handle on the same open storage (a second open() of the same database on one page). */
  static _share(store: OpenStore, readOnly: boolean): Database {
    return new Database(store, readOnly || store.readOnly);
  }

  /** @internal */
  static _open(mod: QuiverModule, path: string, options: CommonOpenOptions, hooks: StorageHooks): Database {
    return new Database(Database._openStore(mod, path, options, hooks), !!options.readOnly);
  }

  /** @internal Opens the engine on `path`; the store has no handle yet. */
  static _openStore(mod: QuiverModule, path: string, options: CommonOpenOptions, hooks: StorageHooks): OpenStore {
    const db = new mod.NativeDatabase();
    const durability = Durabilities[options.durability ?? 'sync'];
    if (durability === undefined) {
      db.delete();
      throw new QuiverError('InvalidArgument', `durability: expected "sync", "batched" or "none"`);
    }
    const rc = db.open(path, !!options.readOnly, durability, options.segmentPoints ?? 0, 0);
    if (rc !== 0) {
      const error = new QuiverError(db.code(), db.message());
      db.delete();
      throw error;
    }
    return new OpenStore(mod, db, hooks, !!options.readOnly);
  }

  /**
   * @internal A write to `collection` is stored: a live sync pushes it soon; with writeThrough the result waits
   * for the server's acknowledgement.
   */
  _afterLocalWrite<T>(collection: string, result: T): Promise<T> {
    const waits: Promise<void>[] = [];
    for (const s of this._store.syncs) {
      const w = s._localWrite(collection);
      if (w) waits.push(w);
    }
    return waits.length ? Promise.all(waits).then(() => result) : Promise.resolve(result);
  }

  /**
   * Syncs collections of this database with a quiverd server (docs/sync.md): `{ url, apiKey | getToken,
   * collections, live, writeThrough, onConflict }`. Returns the running Sync (push(), pull(), sync(), status,
   * on('change' | 'conflict' | 'error'), close()). One sync per database at a time; closing the database closes it.
   */
  sync(options: SyncOptions): Sync {
    this._checkWritable();
    if (this._store.syncs.size > 0) {
      throw new QuiverError('FailedPrecondition', 'this database is already syncing; close that sync first');
    }
    const store = this._store;
    const owner: SyncOwner = {
      nativeDatabase: () => this._nativeDatabase(),
      newNativeSync: () => new this._module.NativeSync(),
      heap: () => this._module.HEAPU8,
      collectionExists: (name) => this.collectionExists(name),
      afterWrite: () => this._hooks.afterWrite(),
      detach: (s) => {
        store.syncs.delete(s);
        this.syncs.delete(s);
      },
    };
    const s = new Sync(owner, options);
    store.syncs.add(s);
    this.syncs.add(s);
    return s;
  }

  /** @internal */
  _checkOpen(): void {
    if (this.closed) throw new QuiverError('FailedPrecondition', 'the database is closed');
  }

  /** @internal */
  _checkWritable(): void {
    this._checkOpen();
    if (this.readOnly) throw new QuiverError('FailedPrecondition', 'the database was opened read-only');
  }

  /** @internal */
  _native(name: string): NativeCollection {
    this._checkOpen();
    const handles = this._store.handles;
    let c = handles.get(name);
    if (!c) {
      const got = this.db.getCollection(name);
      if (!got) throw new QuiverError(this.db.code(), this.db.message());
      handles.set(name, (c = got));
    }
    return c;
  }

  /** @internal The native database, for calls that may name other collections (the Query API). */
  _nativeDatabase(): NativeDatabase {
    this._checkOpen();
    return this.db;
  }

  private dropHandles(): void {
    const handles = this._store.handles;
    for (const c of handles.values()) c.delete();
    handles.clear();
  }

  private run(rc: number): void {
    if (rc !== 0) throw new QuiverError(this.db.code(), this.db.message());
  }

  private write(run: () => void): Promise<void> {
    try {
      this._checkWritable();
      run();
      this._hooks.afterWrite();
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** The SIMD kernels the engine runs ("wasm-simd128"). */
  get simd(): string {
    return this._module.simdIsa();
  }

  /**
   * The memory of the WebAssembly module this database runs in (shared by every database the module holds):
   * `wasm_bytes`, the size of its linear memory, which grows with what the engine allocates and never shrinks, so
   * it is the high-water mark a page or process keeps.
   */
  memoryUsage(): MemoryUsage {
    return { wasm_bytes: this._module.HEAPU8.byteLength };
  }

  /** This replica's 64-bit id, as a decimal string. */
  get replicaId(): string {
    this._checkOpen();
    return this.db.replicaId();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Qdrant's create-collection body: `{ vectors: { size, distance }, hnsw_config }` (or named vectors). */
  createCollection(name: string, config: CollectionConfig): Promise<Collection> {
    return this.write(() => this.run(this.db.createCollection(name, toJson(config)))).then(() => this.collection(name));
  }

  /** Deletes a collection and the aliases that point at it. */
  deleteCollection(name: string): Promise<void> {
    return this.write(() => {
      this.dropHandles();
      this.run(this.db.deleteCollection(name));
    });
  }

  listCollections(): string[] {
    this._checkOpen();
    const text = this.db.listCollections();
    if (text === '') throw new QuiverError(this.db.code(), this.db.message());
    return JSON.parse(text);
  }

  collectionExists(name: string): boolean {
    this._checkOpen();
    return this.db.collectionExists(name);
  }

  /** A collection by name or alias; NotFound if neither. */
  collection(name: string): Collection {
    this._native(name);
    return new Collection(this, name);
  }

  /** Same as collection(). */
  getCollection(name: string): Collection {
    return this.collection(name);
  }

  /** Creates collection `name` from a snapshot made by Collection.createSnapshot (here or natively). */
  restoreSnapshot(name: string, snapshot: Uint8Array): Promise<Collection> {
    return this.write(() => {
      const ptr = this._module._malloc(Math.max(1, snapshot.length));
      try {
        this._module.HEAPU8.set(snapshot, ptr);
        this.run(this.db.restoreSnapshot(name, ptr, snapshot.length));
      } finally {
        this._module._free(ptr);
      }
    }).then(() => this.collection(name));
  }

  createAlias(alias: string, collection: string): Promise<void> {
    return this.write(() => {
      this.dropHandles();
      this.run(this.db.createAlias(alias, collection));
    });
  }

  deleteAlias(alias: string): Promise<void> {
    return this.write(() => {
      this.dropHandles();
      this.run(this.db.deleteAlias(alias));
    });
  }

  /** `[{ alias_name, collection_name }]`, sorted by alias. */
  listAliases(): { alias_name: string; collection_name: string }[] {
    this._checkOpen();
    const text = this.db.listAliases();
    if (text === '') throw new QuiverError(this.db.code(), this.db.message());
    return JSON.parse(text);
  }

  /**
   * Repairs collection `name` after damage to its files (a database whose collection is damaged opens with
   * that collection unavailable: using it throws `Corruption` naming the file). Rebuilds derived data (HNSW
   * graphs, payload indexes) from the vectors and payloads, keeps whatever checks out and reports what was lost.
   * A healthy collection is left as it is (an empty report).
   */
  repair(name: string): Promise<RepairReport> {
    let report: RepairReport | undefined;
    return this.write(() => {
      this.dropHandles();
      const text = this.db.repair(name);
      if (text === '') throw new QuiverError(this.db.code(), this.db.message());
      report = JSON.parse(text) as RepairReport;
    }).then(() => report as RepairReport);
  }

  /** Makes every write so far durable: synced files in Node, IndexedDB in the browser. */
  async flush(): Promise<void> {
    this._checkOpen();
    if (this.readOnly) return;
    this.run(this.db.flush());
    await this._hooks.persist();
  }

  /**
   * Flushes, releases the storage and the writer lock. Later calls fail with FailedPrecondition. When the same
   * database was opened more than once on the page, this handle closes (after a flush) and the storage stays open
   * until the last handle closes.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    for (const s of [...this.syncs]) await s.close();
    this.closed = true;
    const store = this._store;
    if (--store.refs > 0) {
      if (!this.readOnly) {
        this.run(this.db.flush());
        await this._hooks.persist();
      }
      return;
    }
    store.closing = (async () => {
      this.dropHandles();
      const rc = this.db.close();
      const error = rc !== 0 ? new QuiverError(this.db.code(), this.db.message()) : null;
      this.db.delete();
      try {
        if (!store.readOnly && !error) await this._hooks.persist();
      } finally {
        await this._hooks.release();
      }
      if (error) throw error;
    })();
    await store.closing;
  }
}
