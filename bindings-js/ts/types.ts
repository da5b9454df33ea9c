// The shapes of Qdrant's request and response bodies as the package takes and returns them (points, vectors,
// collection configs, searches, the Query API), apart from the classes that use them (core.ts).
import type { Filter, PointId } from './filter.js';

export type Vector = Float32Array | number[];
export type Payload = Record<string, unknown>;
export type Distance = 'Cosine' | 'Euclid' | 'Dot' | 'Manhattan';

/** Qdrant's sparse vector: the value of each listed index (indices unique, any order; stored sorted). */
export interface SparseVector {
  indices: number[] | Uint32Array;
  values: number[] | Float32Array;
}
/** Qdrant's Bm25Config: how `qdrant/bm25` turns text into a sparse vector (defaults as Qdrant's). */
export interface Bm25Config {
  /** Term frequency saturation (default 1.2). */
  k?: number;
  /** Length normalisation, 0..1 (default 0.75). */
  b?: number;
  /** Expected average document length in tokens (default 256). */
  avg_len?: number;
  /** Quiver embeds with `word` (default) and `whitespace`; `prefix` and `multilingual` are refused. */
  tokenizer?: 'word' | 'whitespace' | 'prefix' | 'multilingual';
  /** Default stop words and stemmer ("english" when absent); "none" turns both off. */
  language?: string | null;
  lowercase?: boolean | null;
  ascii_folding?: boolean | null;
  stopwords?: string | { languages?: string[] | null; custom?: string[] | null } | null;
  stemmer?: { type: 'snowball'; language: string } | null;
  min_token_len?: number | null;
  max_token_len?: number | null;
}
/** Text that Quiver embeds itself as a BM25 sparse vector (Qdrant 1.18's Document with `qdrant/bm25`). */
export interface Document {
  text: string;
  model: 'qdrant/bm25' | (string & {});
  options?: Bm25Config | null;
}
/** A named vector's value: dense, sparse, or a document to embed into a sparse vector. */
export type NamedVectorValue = Vector | SparseVector | Document;

export interface PointStruct {
  id: PointId;
  vector?: Vector | Record<string, NamedVectorValue>;
  payload?: Payload | null;
}

export interface VectorParams {
  size: number;
  distance: Distance;
  index?: 'hnsw' | 'flat';
  hnsw_config?: HnswConfig;
  quantization_config?: QuantizationConfig | null;
  /** Accepted for Qdrant compatibility and ignored. */
  on_disk?: boolean | null;
  /** Accepted for Qdrant compatibility and ignored. */
  datatype?: string | null;
  /** Accepted for Qdrant compatibility and ignored. */
  multivector_config?: unknown;
}
/** Scalar quantization: int8 codes walked by searches, found points rescored with the float vectors. */
export interface QuantizationConfig {
  scalar: { type: 'int8'; quantile?: number; always_ram?: boolean };
}
export interface HnswConfig {
  m?: number;
  ef_construct?: number;
  full_scan_threshold?: number;
  /** Accepted for Qdrant compatibility and ignored. */
  on_disk?: boolean | null;
  /** Accepted for Qdrant compatibility and ignored. */
  max_indexing_threads?: number | null;
  /** Accepted for Qdrant compatibility and ignored. */
  payload_m?: number | null;
}
/** Qdrant's SparseVectorParams: a named sparse vector, searched by dot product over shared indices. */
export interface SparseVectorParams {
  index?: {
    /** Below this many points passing a filter, their vectors are scored directly (default 5000). */
    full_scan_threshold?: number | null;
    /** Accepted for Qdrant compatibility; vectors live in memory. */
    on_disk?: boolean | null;
    /** Only "float32" is stored. */
    datatype?: 'float32' | null;
  } | null;
  /** "idf": query weights times each index's inverse document frequency over the collection. */
  modifier?: 'none' | 'idf' | null;
}
/** Qdrant's create-collection body. The fields after sparse_vectors are accepted and ignored. */
export interface CollectionConfig {
  /** Dense vectors; may be left out when the collection has sparse vectors only. */
  vectors?: VectorParams | Record<string, VectorParams>;
  hnsw_config?: HnswConfig;
  quantization_config?: QuantizationConfig | null;
  sparse_vectors?: Record<string, SparseVectorParams> | null;
  shard_number?: number | null;
  replication_factor?: number | null;
  write_consistency_factor?: number | null;
  on_disk_payload?: boolean | null;
  optimizers_config?: unknown;
  wal_config?: unknown;
  init_from?: unknown;
  sharding_method?: unknown;
}

export type WithPayload = boolean | string[] | { include?: string[]; exclude?: string[] };
export type WithVector = boolean | string[];

export interface SearchParams {
  limit?: number;
  offset?: number;
  filter?: Filter | null;
  with_payload?: WithPayload;
  with_vector?: WithVector;
  score_threshold?: number | null;
  params?: {
    hnsw_ef?: number;
    exact?: boolean;
    /** On a quantized collection: walk the floats (`ignore`), rescore with them (`rescore`, default true), and
     * walk a beam of at least limit * `oversampling` (>= 1). */
    quantization?: { ignore?: boolean; rescore?: boolean; oversampling?: number };
  };
}
export interface SearchRequest extends SearchParams {
  /** A dense vector, a named dense vector, Qdrant's NamedSparseVector, or a named document (embedded as a
   * BM25 query: distinct tokens of weight 1). */
  vector: Vector | { name: string; vector: Vector | SparseVector | Document };
}
export interface RecommendRequest extends SearchParams {
  positive: (PointId | Vector)[];
  negative?: (PointId | Vector)[];
  using?: string;
  strategy?: 'average_vector';
}
export interface ScrollRequest {
  filter?: Filter | null;
  limit?: number;
  offset?: PointId | null;
  with_payload?: WithPayload;
  with_vector?: WithVector;
}
export interface GetRequest {
  ids: PointId[];
  with_payload?: WithPayload;
  with_vector?: WithVector;
}
/** Qdrant's points selector: ids or a filter. */
export type PointsSelector = { points: PointId[] } | { filter: Filter };
export interface CountRequest {
  filter?: Filter | null;
  exact?: boolean;
}
export type PayloadSchemaType = 'keyword' | 'integer' | 'float' | 'bool' | 'uuid' | 'datetime' | 'geo' | 'text';
/** Qdrant's create-index body; the object form's other parameters are accepted and ignored. */
export interface CreatePayloadIndexRequest {
  field_name: string;
  field_schema: PayloadSchemaType | { type: PayloadSchemaType; [param: string]: unknown };
}

/** A sparse vector as returned: indices increasing. */
export interface SparseVectorOutput {
  indices: number[];
  values: number[];
}
export interface Record_ {
  id: PointId;
  payload?: Payload;
  vector?: Float32Array | Record<string, Float32Array | SparseVectorOutput>;
}
export interface ScoredPoint extends Record_ {
  score: number;
}
export interface ScrollResult {
  points: Record_[];
  next_page_offset: PointId | null;
}

// ---- the Query API (Qdrant's /points/query, /points/query/batch, /points/query/groups) ----

/** A dense vector, a point id (the stored vector of that point, of `using` or `lookup_from`; the point is left
 * out of the results), a sparse vector, or a document (embedded as a BM25 query: distinct tokens, weight 1). The
 * stage's `using` decides which kind it must be. */
export type VectorInput = Vector | PointId | SparseVector | Document;
export interface OrderBy {
  key: string;
  /** Default "asc". A point with several values is ordered by its first one in that direction. */
  direction?: 'asc' | 'desc';
  /** A number, or a datetime string (then datetime strings are ordered). */
  start_from?: number | string;
}
export type Fusion = 'rrf' | 'dbsf';
/** Qdrant's QueryInterface: a nearest query (a bare VectorInput or `{ nearest }`), recommend (average_vector),
 * order_by a payload field, or a fusion of the prefetches (`{ fusion: 'rrf' | 'dbsf' }`, `{ rrf: { k, weights } }`). */
export type Query =
  | VectorInput
  | { nearest: VectorInput }
  | { recommend: { positive?: VectorInput[]; negative?: VectorInput[]; strategy?: 'average_vector' } }
  | { order_by: string | OrderBy }
  | { fusion: Fusion }
  | { rrf: { k?: number; weights?: number[] } };
export interface LookupLocation {
  collection: string;
  /** The vector of that collection (default: `using`). */
  vector?: string | null;
}
/** A prefetch: a query (or prefetches merged by a query) whose points the outer query rescores or fuses. */
export interface Prefetch {
  prefetch?: Prefetch | Prefetch[] | null;
  query?: Query | null;
  /** The named vector to query ("" or absent: the unnamed vector). */
  using?: string | null;
  filter?: Filter | null;
  params?: SearchParams['params'] & { indexed_only?: boolean };
  score_threshold?: number | null;
  /** Default 10. */
  limit?: number | null;
  lookup_from?: LookupLocation | null;
}
/** Qdrant's QueryRequest. Without a query (and prefetches), points in id order through the filter. */
export interface QueryRequest extends Prefetch {
  offset?: number | null;
  with_payload?: WithPayload;
  with_vector?: WithVector;
}
export interface WithLookup {
  collection: string;
  /** Default true. */
  with_payload?: WithPayload;
  with_vectors?: WithVector;
}
/** Qdrant's QueryGroupsRequest: `limit` is the number of groups (default 10). */
export interface QueryGroupsRequest extends Omit<QueryRequest, 'offset'> {
  group_by: string;
  /** Points per group (default 3). */
  group_size?: number | null;
  with_lookup?: string | WithLookup | null;
}
/** A point of a query's result; `order_value` is the payload value an order_by query ordered it by. */
export interface QueryPoint extends ScoredPoint {
  order_value?: number;
}
export interface QueryResponse {
  points: QueryPoint[];
}
export interface PointGroup {
  /** The group_by value the hits share. */
  id: string | number;
  hits: QueryPoint[];
  /** with_lookup: the point of the lookup collection whose id is the group id. */
  lookup?: Record_;
}
export interface GroupsResult {
  groups: PointGroup[];
}

/** The batch form of upsert: `ids.length` vectors packed row-major in one Float32Array. */
/** `db.memoryUsage()`: the WebAssembly memory the engine runs in, in bytes (it grows and never shrinks). */
export interface MemoryUsage {
  wasm_bytes: number;
}

/** What `db.repair(name)` did. */
export interface RepairReport {
  collection: string;
  /** Live points after the repair. */
  points: number;
  /** Derived data rebuilt from the vectors and payloads (HNSW graphs, payload indexes), each naming its file. */
  rebuilt: string[];
  /** What could not be salvaged, each naming its file and what it held. */
  lost: string[];
}

export interface DenseBatch {
  ids: PointId[];
  vectors: Float32Array;
  /** The vector's name ("" or absent: the unnamed vector). */
  using?: string;
  payloads?: (Payload | null)[];
}

// ---- sync (docs/sync.md; Database.sync) ----

/** How a sync round ended for the app: keep the server's point, or write the local values again on top of it. */
export type ConflictResolution = 'keep_server' | 'reapply_local';

/**
 * A point as the sync protocol carries it (docs/sync.md, "Points"): its registers with their stamps. Vectors are
 * base64 of little-endian float32 (`dense`), sparse ones `{ i, v }` base64 of uint32 indices and float32 values.
 */
export interface SyncPoint {
  id: number | string;
  vec?: { ts: string; dense?: Record<string, string>; sparse?: Record<string, { i: string; v: string }> };
  del?: string;
  reset?: string;
  fields?: Record<string, { ts: string; v?: unknown; del?: boolean }>;
}

/** A point of a push the server refused (docs/sync.md, "Rejections"). */
export interface SyncConflict {
  collection: string;
  id: import('./filter.js').PointId;
  /** stale_op, invalid, forbidden or collection_gone (clock_skew is repaired without the app). */
  reason: string;
  /** The registers this replica pushed. */
  local: SyncPoint | null;
  /** The server's whole point (null: the server has no such point). */
  server: SyncPoint | null;
}

/** Pulled changes committed to a local collection: the points of a page, or a whole snapshot installed. */
export interface SyncChange {
  collection: string;
  /** The points that changed (empty for a snapshot). */
  ids: import('./filter.js').PointId[];
  /** A snapshot was installed (first sync, or a resync the server asked for). */
  snapshot: boolean;
}

export interface SyncOptions {
  /** The server's base URL, as for its REST API: `http://127.0.0.1:6333` (the protocol lives under `/sync`). */
  url: string;
  /** The server's API key (or a tenant key), sent as `Authorization: Bearer`. */
  apiKey?: string;
  /** Called for the bearer token before the first request and again after a 401 (then the request is repeated once). */
  getToken?: () => string | Promise<string>;
  /** Local collections to sync; each must exist here (created with the same vectors configuration as on the server). */
  collections: string[];
  /**
   * Keep syncing: rounds follow one another, each ending with a long-poll (`waitMs`); local writes are pushed
   * `pushDelayMs` after they happen; a failed round is retried after a backoff with jitter, and at once when the
   * browser comes back online. Without it, rounds run only when push(), pull() or sync() is called.
   */
  live?: boolean;
  /**
   * Writes through this database (to the synced collections) resolve only after the server acknowledged them: each
   * write is followed by a push round (for short-lived processes such as edge functions). A write the server did
   * not acknowledge rejects (with the sync's error) but stays stored locally, in the outbox.
   */
  writeThrough?: boolean;
  /**
   * Asked, while a round runs, what to do with a point the server refused as `stale_op` (stamped before the
   * server's tombstone horizon): 'keep_server' (the default) or 'reapply_local' (the local values are written
   * again with fresh stamps and pushed). Other refusals always keep the server's point. Must not throw or call
   * into the database; the 'conflict' event reports every refusal afterwards. It may answer with a Promise (the
   * round waits for it before it settles the push; quiverdb/worker asks the page this way); the refusals of a
   * collection that was deleted on the server are only shown to it (it is not waited for).
   */
  onConflict?: (conflict: SyncConflict) => ConflictResolution | Promise<ConflictResolution>;
  /** Long-poll length of live rounds in ms (default 25000, at most 25000). */
  waitMs?: number;
  /** Live: ms between a local write and its push (default 20; writes in between go in one push). */
  pushDelayMs?: number;
  /** Backoff after a failed live round: min(maxMs, initialMs * 2^(failures-1)) times [0.5, 1) (defaults 500, 60000). */
  retry?: { initialMs?: number; maxMs?: number };
  /** A request without an answer after this many ms (plus the long-poll's wait) fails (default 30000). */
  timeoutMs?: number;
  /** The fetch to use (default globalThis.fetch). */
  fetch?: SyncFetch;
}

/** The part of the Fetch API that sync calls: globalThis.fetch fits it. Spelled out so that the package's typings
 * need neither the DOM library nor Node's. */
export type SyncFetch = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string | Uint8Array; signal?: unknown },
) => Promise<{
  status: number;
  headers: { get(name: string): string | null };
  arrayBuffer(): Promise<ArrayBuffer>;
  /** When present (a ReadableStream), snapshot blobs are read from it chunk by chunk. */
  body?: {
    getReader(): { read(): Promise<{ done: boolean; value?: Uint8Array }>; cancel(): Promise<void> };
  } | null;
}>;

export type SyncState = 'connected' | 'offline' | 'error';

export interface SyncStats {
  rounds: number;
  failedRounds: number;
  pushedPoints: number;
  pulledPoints: number;
  rejectedPoints: number;
  resyncs: number;
  clockRepairs: number;
  digestMismatches: number;
  requests: number;
}

export interface SyncStatus {
  /**
   * 'connected' once the server answered a request of a round that has not failed; 'offline' after a round that
   * failed because the server could not be reached (network down, no answer); 'error' after one the server (or
   * its answer) failed. Before the first answer: 'offline'.
   */
  state: SyncState;
  /** When the last successful round ended. */
  lastRoundAt: Date | null;
  /** The failure of the last round (null after a success). */
  lastError: Error | null;
  /** Local points with writes the server has not acknowledged yet, over the synced collections. */
  pending: number;
  stats: SyncStats;
}
