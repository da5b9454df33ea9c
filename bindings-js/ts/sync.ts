// Sync of a Database with a quiverd server (docs/sync.md): the handle Database.sync() returns. The protocol runs
// in the engine (SyncClient, driven through bindings-js/src/js_sync.h); this file performs its requests with
// fetch, supplies the token, schedules rounds (on demand, live, write-through) and turns the engine's callbacks
// into events. Everything runs on the JavaScript thread: a round is a chain of fetches, never a blocking call.
import type { PointId } from './filter.js';
import type {
  ConflictResolution,
  SyncChange,
  SyncConflict,
  SyncFetch,
  SyncOptions,
  SyncState,
  SyncStats,
  SyncStatus,
} from './types.js';
import { QuiverError } from './errors.js';

type SyncFetchResponse = Awaited<ReturnType<SyncFetch>>;

/** The Embind object behind a Sync (bindings-js/src/js_sync.h). */
export interface NativeSync {
  code(): number;
  message(): string;
  start(db: unknown, options: string, host: SyncHost): number;
  run(kind: number, waitMs: number, checkDigest: boolean, done: (code: number, message: string) => void): void;
  cancelWait(): boolean;
  busy(): boolean;
  retryDelayMs(): number;
  stats(): string;
  pending(collection: string): number;
  conflicts(collection: string): string;
  clearConflicts(collection: string): number;
  /** Where the body of request `id`'s answer goes: `size` bytes of module memory (0: unknown id or no room). */
  bodyBuffer(id: number, size: number): number;
  complete(id: number, status: number, contentType: string, sha256: string): void;
  fail(id: number, message: string): void;
  close(): void;
  delete(): void;
}

/** What the engine calls back (js_sync.h). */
interface SyncHost {
  send(
    id: number, method: string, path: string, query: string, replica: string, pushCursor: string, protocol: string,
    body: string, collection: string,
  ): void;
  conflict(conflict: string): string;
  applied(collection: string, ids: string, snapshot: boolean): void;
}

/**
 * @internal A platform's SHA-256 for snapshot blobs (Node: node:crypto, fed as the bytes arrive; browsers:
 * WebCrypto, given the whole body), faster than the engine's portable one. The engine checks the result against
 * the manifest; without one it hashes the body itself.
 */
export interface BlobHasher {
  update(chunk: Uint8Array): void;
  /** The hex digest of everything given to update; `whole` is the same bytes in one view (copied at once if kept). */
  digest(whole: Uint8Array): Promise<string> | string;
}
let blobHasher: (() => BlobHasher | null) | undefined;
/** @internal Set by the platform's entry module (node.ts, browser.ts). */
export function _setBlobHasher(factory: () => BlobHasher | null): void {
  blobHasher = factory;
}

/** @internal What a Sync needs of its Database. */
export interface SyncOwner {
  /** The module's memory as it is now (it is replaced when the memory grows). */
  heap(): Uint8Array;
  /** The native database (for start), checked open and writable. */
  nativeDatabase(): unknown;
  newNativeSync(): NativeSync;
  collectionExists(name: string): boolean;
  /** After a round: the platform persists what it committed (IndexedDB in the browser). */
  afterWrite(): void;
  /** The Sync closed: forget it. */
  detach(sync: Sync): void;
}

type Kind = 'full' | 'push' | 'pull';
const kKinds: Record<Kind, number> = { full: 0, push: 1, pull: 2 };
const kMaxWaitMs = 25_000;
// The anti-entropy digest is a pass over every local point: live rounds compare it at most this often.
const kLiveDigestMs = 60_000;

interface Waiter {
  resolve(): void;
  reject(e: unknown): void;
}

type Events = {
  change: (change: SyncChange) => void;
  conflict: (conflict: SyncConflict & { resolution: ConflictResolution }) => void;
  error: (error: QuiverError) => void;
};

function fixId(id: string): PointId {
  if (!/^\d+$/.test(id)) return id;
  const n = Number(id);
  return Number.isSafeInteger(n) ? n : BigInt(id);
}

function invalid(message: string): QuiverError {
  return new QuiverError('InvalidArgument', message);
}

/**
 * A running sync of some collections of a Database with a server. Rounds run one at a time; push(), pull() and
 * sync() ask for a round (starting after the call) and resolve when it ends. Close it before the process exits
 * (a live sync keeps a long-poll open).
 */
export class Sync {
  private readonly native: NativeSync;
  private readonly base: string;
  private readonly collections: string[];
  private readonly live: boolean;
  private readonly writeThrough: boolean;
  private readonly waitMs: number;
  private readonly pushDelayMs: number;
  private readonly timeoutMs: number;
  private readonly fetchFn: SyncFetch;
  private readonly getToken?: () => string | Promise<string>;
  private readonly apiKey?: string;
  private readonly onConflict?: (c: SyncConflict) => ConflictResolution | Promise<ConflictResolution>;
  // onConflict's answers for the refusals of the push answer being handed to the engine (askFirst).
  private readonly answers = new Map<string, { value?: unknown; error?: unknown }>();
  private readonly watchers = new Set<() => void>();
  private token: string | undefined;
  private closed = false;
  private driving = false;
  private queued: { kind: Kind; waiters: Waiter[] } | null = null;
  private roundEnd: ((e: QuiverError | null) => void) | null = null;
  private networkFailed = false;
  private wake: (() => void) | null = null;
  private pushTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly aborts = new Set<AbortController>();
  private readonly listeners: { [K in keyof Events]: Set<Events[K]> } = {
    change: new Set(),
    conflict: new Set(),
    error: new Set(),
  };
  private state: SyncState = 'offline';
  private lastRoundAt: Date | null = null;
  private lastDigest = -Infinity;
  private lastError: QuiverError | null = null;
  private readonly onOnline = () => this.wakeUp();
  // The last answer read whole (not a blob), for askFirst.
  private lastBody: Uint8Array | null = null;

  /** @internal Use Database.sync(). */
  constructor(
    private readonly owner: SyncOwner,
    options: SyncOptions,
  ) {
    if (!options || typeof options !== 'object') throw invalid('sync: expected options { url, collections, ... }');
    let url: URL;
    try {
      url = new URL(String(options.url));
    } catch {
      throw invalid(`sync.url: expected an http:// or https:// URL, got ${JSON.stringify(options.url)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw invalid(`sync.url: expected an http:// or https:// URL, got ${JSON.stringify(options.url)}`);
    }
    this.base = url.href.replace(/\/+$/, '');
    const cols = options.collections;
    if (!Array.isArray(cols) || cols.length === 0 || !cols.every((c) => typeof c === 'string' && c !== '')) {
      throw invalid('sync.collections: expected a non-empty array of collection names');
    }
    for (const c of cols) {
      if (!owner.collectionExists(c)) {
        throw new QuiverError(
          'NotFound',
          `sync.collections: no collection named ${JSON.stringify(c)} here; create it locally (with the server's vectors configuration) before syncing it`,
        );
      }
    }
    if (options.apiKey !== undefined && options.getToken !== undefined) {
      throw invalid('sync: pass apiKey or getToken, not both');
    }
    if (options.apiKey !== undefined && typeof options.apiKey !== 'string') throw invalid('sync.apiKey: expected a string');
    if (options.getToken !== undefined && typeof options.getToken !== 'function') {
      throw invalid('sync.getToken: expected a function returning the token (or a Promise of it)');
    }
    if (options.onConflict !== undefined && typeof options.onConflict !== 'function') {
      throw invalid('sync.onConflict: expected a function');
    }
    const number = (name: string, v: unknown, fallback: number, max = Number.MAX_SAFE_INTEGER): number => {
      if (v === undefined) return fallback;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > max) {
        throw invalid(`sync.${name}: expected a number from 0 to ${max}, got ${JSON.stringify(v)}`);
      }
      return v;
    };
    this.waitMs = number('waitMs', options.waitMs, kMaxWaitMs, kMaxWaitMs);
    this.pushDelayMs = number('pushDelayMs', options.pushDelayMs, 20);
    this.timeoutMs = number('timeoutMs', options.timeoutMs, 30_000);
    const retryInitial = number('retry.initialMs', options.retry?.initialMs, 500);
    const retryMax = number('retry.maxMs', options.retry?.maxMs, 60_000);
    const f = options.fetch ?? (globalThis as any).fetch;
    if (typeof f !== 'function') throw invalid('sync: no fetch in this environment; pass options.fetch');
    this.fetchFn = f.bind(globalThis);
    this.collections = [...cols];
    this.live = !!options.live;
    this.writeThrough = !!options.writeThrough;
    this.apiKey = options.apiKey;
    this.getToken = options.getToken;
    this.onConflict = options.onConflict;

    const host: SyncHost = {
      send: (id, method, path, query, replica, pushCursor, protocol, body, collection) => {
        void this.perform(id, method, path, query, replica, pushCursor, protocol, body, collection);
      },
      conflict: (text) => this.conflict(text),
      applied: (collection, ids, snapshot) => {
        const change: SyncChange = { collection, ids: (JSON.parse(ids) as string[]).map(fixId), snapshot };
        this.emit('change', change);
      },
    };
    this.native = owner.newNativeSync();
    const db = owner.nativeDatabase();
    const rc = this.native.start(
      db,
      JSON.stringify({
        collections: this.collections,
        client: 'quiverdb-js',
        on_conflict: !!this.onConflict,
        backoff_initial_ms: retryInitial,
        backoff_max_ms: retryMax,
      }),
      host,
    );
    if (rc !== 0) {
      const error = new QuiverError(this.native.code(), this.native.message());
      this.native.delete();
      throw error;
    }
    const g = globalThis as any;
    if (typeof g.addEventListener === 'function') g.addEventListener('online', this.onOnline);
    if (this.live) void this.drive();
  }

  // ---- rounds ----

  /** Pushes the local writes not yet acknowledged (a round that starts after this call). */
  push(): Promise<void> {
    return this.request('push');
  }

  /** Pulls the server's changes until caught up. */
  pull(): Promise<void> {
    return this.request('pull');
  }

  /** Pushes, then pulls until caught up (and checks the anti-entropy digest). */
  sync(): Promise<void> {
    return this.request('full');
  }

  /** Where the sync stands (`pending` counts the outbox now). */
  get status(): SyncStatus {
    let pending = 0;
    let stats: SyncStats = JSON.parse(this.closed ? '{}' : this.native.stats());
    if (!this.closed) {
      for (const c of this.collections) {
        const n = this.native.pending(c);
        if (n > 0) pending += n;
      }
    }
    return { state: this.state, lastRoundAt: this.lastRoundAt, lastError: this.lastError, pending, stats };
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The refusals recorded for a collection (kept until clearConflicts). */
  conflicts(collection: string): SyncConflict[] {
    this.checkOpen();
    const text = this.native.conflicts(collection);
    if (text === '') throw new QuiverError(this.native.code(), this.native.message());
    return (JSON.parse(text) as any[]).map((c) => ({ collection, id: fixId(c.id), reason: c.reason, local: c.local, server: c.server }));
  }

  clearConflicts(collection: string): void {
    this.checkOpen();
    if (this.native.clearConflicts(collection) !== 0) throw new QuiverError(this.native.code(), this.native.message());
  }

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof Events>(event: K, fn: Events[K]): () => void {
    const set = this.listeners[event] as Set<Events[K]> | undefined;
    if (!set) throw invalid(`sync.on: unknown event ${JSON.stringify(event)} (change, conflict, error)`);
    if (typeof fn !== 'function') throw invalid('sync.on: expected a listener function');
    set.add(fn);
    return () => this.off(event, fn);
  }

  off<K extends keyof Events>(event: K, fn: Events[K]): void {
    (this.listeners[event] as Set<Events[K]> | undefined)?.delete(fn);
  }

  /**
   * Stops syncing: a round in flight is abandoned (what it committed stays; the rest is redone by a later sync),
   * pending push()/pull()/sync() calls reject. Local data and the outbox stay in the database.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const g = globalThis as any;
    if (typeof g.removeEventListener === 'function') g.removeEventListener('online', this.onOnline);
    if (this.pushTimer) clearTimeout(this.pushTimer);
    for (const a of this.aborts) a.abort();
    this.native.close();
    this.native.delete();
    const closedError = new QuiverError('FailedPrecondition', 'the sync was closed');
    this.roundEnd?.(closedError);
    this.wake?.();
    const job = this.queued;
    this.queued = null;
    for (const w of job?.waiters ?? []) w.reject(closedError);
    this.owner.detach(this);
    this.changed();
  }

  /** @internal Calls `fn` whenever status may have changed (a round ended, the server answered, closed). */
  _watch(fn: () => void): void {
    this.watchers.add(fn);
  }

  private changed(): void {
    for (const fn of this.watchers) fn();
  }

  /** @internal A local write to `collection` happened: push it (write-through: the returned promise waits for the ack). */
  _localWrite(collection: string): Promise<void> | undefined {
    if (this.closed || !this.collections.includes(collection)) return undefined;
    if (this.writeThrough) {
      return this.push().catch((e: QuiverError) => {
        throw new QuiverError(
          e.code ?? 'IOError',
          `writeThrough: the write is stored locally but the server did not acknowledge it (it stays in the outbox): ${e.message}`,
        );
      });
    }
    if (this.live && !this.pushTimer) {
      this.pushTimer = setTimeout(() => {
        this.pushTimer = null;
        // A failed push is reported through the 'error' event and retried by the live loop.
        this.request('push').catch(() => {});
      }, this.pushDelayMs);
    }
    return undefined;
  }

  private checkOpen(): void {
    if (this.closed) throw new QuiverError('FailedPrecondition', 'the sync was closed');
  }

  private request(kind: Kind): Promise<void> {
    if (this.closed) return Promise.reject(new QuiverError('FailedPrecondition', 'the sync was closed'));
    return new Promise<void>((resolve, reject) => {
      const waiter = { resolve, reject };
      if (this.queued) {
        if (this.queued.kind !== kind) this.queued.kind = 'full';
        this.queued.waiters.push(waiter);
      } else {
        this.queued = { kind, waiters: [waiter] };
      }
      // A live round waiting in its long-poll gives way (it ends as a success; its answer is dropped).
      this.native.cancelWait();
      this.wakeUp();
      void this.drive();
    });
  }

  private wakeUp(): void {
    this.wake?.();
  }

  private async drive(): Promise<void> {
    if (this.driving) return;
    this.driving = true;
    try {
      while (!this.closed) {
        const job = this.queued;
        this.queued = null;
        let kind: Kind;
        let wait = 0;
        // sync() compares the digest; push() has none to compare; pull() and live rounds now and then.
        let digest = false;
        if (job) {
          kind = job.kind;
          digest = kind === 'full';
        } else if (this.live) {
          kind = 'full';
          wait = this.waitMs;
        } else {
          break;
        }
        if (kind !== 'push' && Date.now() - this.lastDigest >= kLiveDigestMs) digest = true;
        if (digest) this.lastDigest = Date.now();
        const error = await this.round(kind, wait, digest);
        if (job) for (const w of job.waiters) error ? w.reject(error) : w.resolve();
        if (error && this.live && !this.closed && !this.queued) await this.sleep(this.native.retryDelayMs());
      }
    } finally {
      this.driving = false;
    }
  }

  private round(kind: Kind, wait: number, digest: boolean): Promise<QuiverError | null> {
    this.networkFailed = false;
    return new Promise((resolve) => {
      let ended = false;
      const end = (error: QuiverError | null) => {
        if (ended) return;
        ended = true;
        this.roundEnd = null;
        resolve(error);
      };
      this.roundEnd = end;
      this.native.run(kKinds[kind], wait, digest, (code, message) => {
        const error = code === 0 ? null : new QuiverError(code, message);
        if (!this.closed) this.afterRound(error);
        end(error);
      });
    });
  }

  private afterRound(error: QuiverError | null): void {
    if (error) {
      this.lastError = error;
      this.state = this.networkFailed ? 'offline' : 'error';
      this.emit('error', error);
    } else {
      this.lastError = null;
      this.state = 'connected';
      this.lastRoundAt = new Date();
    }
    this.owner.afterWrite();
    this.changed();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.wake === done) this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  // ---- the engine's callbacks ----

  private async token_(refresh: boolean): Promise<string | undefined> {
    if (this.apiKey !== undefined) return this.apiKey;
    if (!this.getToken) return undefined;
    if (refresh || this.token === undefined) {
      const t = await this.getToken();
      if (typeof t !== 'string') throw new Error(`getToken returned ${typeof t}, expected a string`);
      this.token = t;
    }
    return this.token;
  }

  // Performs one request of the engine and answers it (complete or fail) exactly once, unless closed.
  private async perform(
    id: number,
    method: string,
    path: string,
    queryText: string,
    replica: string,
    pushCursor: string,
    protocol: string,
    body: string,
    collection: string,
  ): Promise<void> {
    const query = JSON.parse(queryText) as [string, string][];
    let url = `${this.base}/sync${path}`;
    if (query.length) url += '?' + query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
    const waitMs = Number(query.find(([k]) => k === 'wait_ms')?.[1] ?? 0);
    const what = `${method} ${url}`;
    // A round asked for while this one was busy (request() found nothing to cancel then) must not wait behind
    // the long-poll this round is starting now: give it up as soon as the engine returns from send.
    if (waitMs > 0 && this.queued) queueMicrotask(() => this.closed || this.native.cancelWait());
    let refreshed = false;
    let refreshNow = false;
    let resent = 0;
    for (;;) {
      let token: string | undefined;
      try {
        token = await this.token_(refreshNow);
        refreshNow = false;
      } catch (e) {
        if (!this.closed) this.native.fail(id, `sync: getToken failed: ${(e as Error)?.message ?? String(e)}`);
        return;
      }
      if (this.closed) return;
      const headers: Record<string, string> = { 'X-Replica': replica, 'X-Protocol': protocol };
      if (pushCursor !== '') headers['X-Push-Cursor'] = pushCursor;
      if (token) headers['Authorization'] = `Bearer ${token}`;
      if (body !== '' || method === 'POST' || method === 'PUT') headers['Content-Type'] = 'application/json';
      const abort = new AbortController();
      this.aborts.add(abort);
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        abort.abort();
      }, this.timeoutMs + waitMs);
      let status: number;
      let contentType: string;
      let sha256 = '';
      try {
        const res = await this.fetchFn(url, { method, headers, body: body === '' ? undefined : body, signal: abort.signal });
        status = res.status;
        contentType = res.headers.get('content-type') ?? '';
        const blob = method === 'GET' && path.startsWith('/v1/blobs/') && status === 200;
        const got = await this.receive(id, res, blob);
        if (got === null) return;  // closed meanwhile
        sha256 = got;
      } catch (e) {
        if (this.closed) return;
        const why = timedOut ? `no answer within ${this.timeoutMs + waitMs} ms` : (e as Error)?.message ?? String(e);
        const cause = (e as any)?.cause?.code ?? (e as any)?.cause?.message;
        // A kept-alive connection the server closed while idle fails the next request on it (Node: EPIPE,
        // ECONNRESET, "other side closed"), more so after a long synchronous call into the engine (an index
        // build) kept the event loop from seeing the close. Every request of the protocol is idempotent (a push
        // batch applies once), so it goes again, after a pause that lets the closes be seen, before the engine
        // hears of a failure.
        if (!timedOut && resent < 2) {
          resent++;
          await new Promise((r) => setTimeout(r, 10));
          if (this.closed) return;
          continue;
        }
        this.networkFailed = true;
        this.native.fail(id, `sync: ${what}: network error: ${why}${cause ? ` (${cause})` : ''}`);
        return;
      } finally {
        clearTimeout(timer);
        this.aborts.delete(abort);
      }
      if (this.closed) return;
      if (status === 401 && !refreshed && this.getToken) {
        refreshed = refreshNow = true;  // a fresh token, once
        continue;
      }
      // A live round spends most of its time in a long-poll: the server answering is what "connected" means.
      if (status >= 200 && status < 300 && this.state !== 'connected') {
        this.state = 'connected';
        this.changed();
      }
      if (this.onConflict && status === 200 && method === 'POST' && path.endsWith('/push') && this.lastBody) {
        await this.askFirst(collection, body, this.lastBody);
        if (this.closed) return;
      }
      this.native.complete(id, status, contentType, sha256);
      return;
    }
  }

  // The engine asks for a refused point's resolution synchronously, inside complete(); onConflict may answer
  // with a Promise. So the refusals of a push answer are shown to onConflict first, here, from the points the
  // push sent (the engine's `local`: what it pushed) and the server's, and conflict() hands the engine the
  // answers. clock_skew refusals are repaired by the engine without the app.
  private async askFirst(collection: string, requestBody: string, bytes: Uint8Array): Promise<void> {
    this.answers.clear();
    let rejected: any[];
    let sent: Map<string, unknown>;
    try {
      const reply = JSON.parse(new TextDecoder().decode(bytes));
      rejected = Array.isArray(reply?.rejected) ? reply.rejected.filter((r: any) => r?.reason !== 'clock_skew') : [];
      if (rejected.length === 0) return;
      const points = JSON.parse(requestBody)?.points;
      sent = new Map((Array.isArray(points) ? points : []).map((p: any) => [String(p?.id), p]));
    } catch {
      return;  // not the protocol: the engine reports it
    }
    for (const r of rejected) {
      const id = String(r.id);
      const local = sent.get(id);
      if (local === undefined) continue;
      const conflict: SyncConflict = { collection, id: fixId(id), reason: String(r.reason), local: local as any, server: r.server ?? null };
      const key = `${collection}\n${id}\n${conflict.reason}`;
      try {
        this.answers.set(key, { value: await this.onConflict!(conflict) });
      } catch (e) {
        this.answers.set(key, { error: e });
      }
      if (this.closed) return;
    }
  }

  // Places the body of request `id`'s answer in module memory (JsTransport::BodyBuffer). A blob streams there
  // chunk by chunk as it arrives (its size from Content-Length), hashed on the way when the platform has a
  // hasher; other answers are read whole, then copied. Returns the blob's SHA-256 ('' when not computed), or
  // null when the sync closed meanwhile (the engine forgot the request: nothing may be written for it).
  private async receive(id: number, res: SyncFetchResponse, blob: boolean): Promise<string | null> {
    const place = (size: number): number => {
      const ptr = this.native.bodyBuffer(id, size);
      if (ptr === 0 && size > 0) throw new Error(`no room in the module's memory for a body of ${size} bytes`);
      return ptr;
    };
    const length = Number(res.headers.get('content-length') ?? NaN);
    const reader = blob && res.body && typeof res.body.getReader === 'function' && Number.isSafeInteger(length) && length >= 0
      ? res.body.getReader()
      : null;
    if (!reader) {
      const bytes = new Uint8Array(await res.arrayBuffer());
      if (this.closed) return null;
      this.lastBody = blob ? null : bytes;
      const ptr = place(bytes.length);
      this.owner.heap().set(bytes, ptr);
      if (!blob || !blobHasher) return '';
      return this.digest(blobHasher(), bytes, bytes);
    }
    this.lastBody = null;
    let hasher = blobHasher?.() ?? null;
    let ptr = place(length);
    let at = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (this.closed) {
        void reader.cancel().catch(() => {});
        return null;
      }
      if (done) break;
      if (!value) continue;
      if (at + value.length > length) {
        // More than Content-Length announced: keep it all, so the engine's size check names the real size.
        ptr = place(at + value.length);
      }
      this.owner.heap().set(value, ptr + at);
      try {
        hasher?.update(value);
      } catch {
        hasher = null;  // the engine hashes instead
      }
      at += value.length;
    }
    if (at < length) ptr = place(at);
    return this.digest(hasher, null, this.owner.heap().subarray(ptr, ptr + at));
  }

  // The platform hasher's digest, or '' (the engine hashes) when there is none or it fails; null when the sync
  // closed meanwhile.
  private async digest(hasher: BlobHasher | null, update: Uint8Array | null, whole: Uint8Array): Promise<string | null> {
    if (!hasher) return '';
    let hex = '';
    try {
      if (update) hasher.update(update);
      const d = hasher.digest(whole);
      hex = typeof d === 'string' ? d : await d;
    } catch {
      hex = '';
    }
    return this.closed ? null : /^[0-9a-f]{64}$/.test(hex) ? hex : '';
  }

  // Called by the engine, inside a round, for each point the server refused.
  private conflict(text: string): string {
    let resolution: ConflictResolution = 'keep_server';
    try {
      const raw = JSON.parse(text);
      const conflict: SyncConflict = { collection: raw.collection, id: fixId(raw.id), reason: raw.reason, local: raw.local, server: raw.server };
      // Every refusal is shown to onConflict; its answer counts for stale_op only (the engine keeps the server's
      // point for the others: writing them again would be refused again).
      if (raw.ask && this.onConflict) {
        const key = `${raw.collection}\n${raw.id}\n${raw.reason}`;
        const early = this.answers.get(key);
        this.answers.delete(key);
        if (early && 'error' in early) throw early.error;
        let answer: unknown = early ? early.value : this.onConflict(conflict);
        if (answer && typeof (answer as any).then === 'function') {
          // Not asked ahead: a refusal after a pull (collection_gone), shown only, with nothing to decide; or a
          // point askFirst could not match (a numeric id beyond 2^53 read from JSON as a rounded number).
          (answer as Promise<unknown>).then(
            () => {},
            () => {},
          );
          if (raw.reason === 'stale_op') {
            this.emit('error', invalid(`sync.onConflict: point ${raw.id} was not asked ahead, and its answer is a Promise (kept the server's point)`));
          }
          answer = 'keep_server';
        }
        if (answer === 'reapply_local' || answer === 'keep_server') {
          resolution = answer;
        } else {
          this.emit('error', invalid(`sync.onConflict returned ${JSON.stringify(answer)}; expected 'keep_server' or 'reapply_local' (kept the server's point)`));
        }
      }
      if (raw.reason !== 'stale_op') resolution = 'keep_server';
      this.emit('conflict', { ...conflict, resolution });
    } catch (e) {
      this.emit('error', new QuiverError('Internal', `sync.onConflict threw (kept the server's point): ${(e as Error)?.message ?? String(e)}`));
      resolution = 'keep_server';
    }
    return resolution;
  }

  // Listeners run after the engine's call returns, never inside it.
  private emit<K extends keyof Events>(event: K, arg: Parameters<Events[K]>[0]): void {
    const set = this.listeners[event] as Set<(a: unknown) => void>;
    if (set.size === 0) return;
    queueMicrotask(() => {
      for (const fn of [...set]) fn(arg);
    });
  }
}
