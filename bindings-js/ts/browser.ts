// quiverdb for browsers (and workers): open({ name }) keeps the database in IndexedDB through Emscripten's IDBFS.
// The engine writes to memory; flush() makes everything durable (IDBFS writes only the files that changed), and
// the wrapper flushes by itself shortly after writes and on pagehide. A Web Lock per database name keeps one
// writer per origin: a second tab gets QuiverError "Busy", or opens read-only when it asks to. A second open() of
// the same name on the same page (or in the same worker) shares the database already open there.
import { CommonOpenOptions, Database, OpenStore, QuiverError, QuiverModule } from './core.js';
import { _setBlobHasher } from './sync.js';
import { compileWasm, scriptUrl } from './wasm_load.js';
// @ts-ignore: the Emscripten glue has no type declarations
import createQuiverModule from '../quiver-web.mjs';
// @ts-ignore: a plain module beside quiver-web.wasm (npm/build.mjs writes it), so that bundlers see the .wasm
import { wasmUrl as packagedWasmUrl } from '../quiver-web-url.js';

export * from './core.js';

// Snapshot blobs are hashed by WebCrypto (off the main thread) where the page has it (secure contexts); elsewhere
// the engine hashes them.
_setBlobHasher(() => {
  const subtle = (globalThis as any).crypto?.subtle;
  if (!subtle || typeof subtle.digest !== 'function') return null;
  return {
    update() {},
    async digest(whole: Uint8Array) {
      const d = new Uint8Array(await subtle.digest('SHA-256', whole));
      return Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');
    },
  };
});

export interface OpenOptions extends CommonOpenOptions {
  /** The database's name within this origin's IndexedDB. */
  name?: string;
  /** Keep everything in memory. */
  memory?: boolean;
  /** Milliseconds after the last write before the automatic flush (default 250). */
  flushDelayMs?: number;
  /**
   * Where quiver-web.wasm is served from, when the bundler does not emit it (esbuild, Rollup: by default it is
   * looked for beside the bundle). Relative URLs are resolved against the page. Used by the first successful load.
   */
  wasmUrl?: string | URL;
}

// Where the package's .wasm is when no wasmUrl is given: rewritten by bundlers that emit it (Vite, webpack), else
// beside the module that holds this code. In an iife bundle import.meta.url is empty: then beside that script.
function defaultWasmUrl(): string {
  try {
    return packagedWasmUrl();
  } catch {
    return new URL('quiver-web.wasm', scriptUrl ?? (globalThis as any).location?.href).href;
  }
}

function baseUrl(): string | undefined {
  const g = globalThis as any;
  return g.document?.baseURI ?? g.location?.href;
}

async function instantiate(wasmUrl: string | URL | undefined): Promise<QuiverModule> {
  const url = wasmUrl === undefined ? defaultWasmUrl() : new URL(String(wasmUrl), baseUrl()).href;
  const hint =
    wasmUrl === undefined
      ? 'serve node_modules/quiverdb/dist/quiver-web.wasm beside your bundle (README: your bundler), or pass its URL as open({ wasmUrl })'
      : 'open({ wasmUrl }) must name quiverdb/dist/quiver-web.wasm as served';
  const wasm = await compileWasm(url, hint);
  let failed!: (e: unknown) => void;
  const failure = new Promise<never>((_, reject) => (failed = reject));
  const ready: Promise<QuiverModule> = createQuiverModule({
    instantiateWasm(imports: WebAssembly.Imports, done: (i: WebAssembly.Instance, m: WebAssembly.Module) => void) {
      WebAssembly.instantiate(wasm, imports).then(
        (instance) => done(instance, wasm),
        (e) => failed(new QuiverError('IOError', `the WebAssembly module at ${url} does not fit this version of quiverdb's JS (${String(e?.message ?? e)}); ${hint}`)),
      );
      return {};
    },
  });
  return Promise.race([ready, failure]).catch((e) => {
    throw e instanceof QuiverError ? e : new QuiverError('Internal', `starting the WebAssembly module from ${url} failed: ${String(e?.message ?? e)}`);
  });
}

let modulePromise: Promise<QuiverModule> | undefined;

/**
 * The WebAssembly module (loaded once per page or worker). A failed load is a QuiverError (IOError) naming the URL
 * and what came back; the next call tries again.
 */
export function loadModule(wasmUrl?: string | URL): Promise<QuiverModule> {
  if (!modulePromise) {
    const loading = instantiate(wasmUrl);
    modulePromise = loading;
    loading.catch(() => {
      if (modulePromise === loading) modulePromise = undefined;
    });
  }
  return modulePromise;
}

// Emscripten's IDBFS applies a sync in one IndexedDB transaction but reports an aborted transaction (what a
// full quota gives) to no one, so the sync never ends; this replaces its reconcile step with one that settles on
// every outcome: completed, a failed request (the transaction is aborted, so nothing of the sync is stored) or an
// abort. Entries move as IDBFS moves them (its own local-side steps; puts and deletes done here).
interface IdbfsEntry { timestamp: Date; mode: number; contents?: Uint8Array }
interface IdbfsSet { type: 'local' | 'remote'; entries: Record<string, IdbfsEntry>; db?: IDBDatabase }
type Done = (err: unknown) => void;
function patchIdbfs(mod: QuiverModule): void {
  const idbfs = mod.IDBFS;
  if (!idbfs || idbfs.quiverReconcile) return;
  idbfs.quiverReconcile = true;
  idbfs.reconcile = (src: IdbfsSet, dst: IdbfsSet, callback: Done) => {
    const create = Object.keys(src.entries)
      .filter((k) => !dst.entries[k] || src.entries[k].timestamp.getTime() !== dst.entries[k].timestamp.getTime())
      .sort();
    const remove = Object.keys(dst.entries).filter((k) => !src.entries[k]).sort().reverse();
    if (create.length + remove.length === 0) return callback(null);
    const db = (src.type === 'remote' ? src.db : dst.db) as IDBDatabase;
    let tx: IDBTransaction;
    try {
      tx = db.transaction([idbfs.DB_STORE_NAME], 'readwrite');
    } catch (e) {
      return callback(e);
    }
    const store = tx.objectStore(idbfs.DB_STORE_NAME);
    let failure: unknown = null;
    let settled = false;
    const settle = (err: unknown) => {
      if (settled) return;
      settled = true;
      callback(err);
    };
    const fail = (err: unknown) => {
      if (failure) return;
      failure = err ?? new Error('IndexedDB request failed');
      try {
        tx.abort();
      } catch {
        // already finished
      }
    };
    tx.oncomplete = () => settle(failure);
    tx.onabort = () => settle(failure ?? tx.error ?? new Error('IndexedDB transaction aborted'));
    tx.onerror = (e: Event) => {
      e.preventDefault();
      fail((e.target as IDBRequest | null)?.error ?? tx.error);
    };
    const request = (make: () => IDBRequest) => {
      try {
        make().onerror = (e: Event) => {
          e.preventDefault();
          e.stopPropagation();
          fail((e.target as IDBRequest).error);
        };
      } catch (e) {
        fail(e);
      }
    };
    for (const path of create) {
      if (dst.type === 'local') {
        const get = store.get(path);
        get.onsuccess = () => idbfs.storeLocalEntry(path, get.result, (err: unknown) => err && fail(err));
      } else {
        idbfs.loadLocalEntry(path, (err: unknown, entry: IdbfsEntry) => {
          if (err) return fail(err);
          request(() => store.put(entry, path));
        });
      }
    }
    for (const path of remove) {
      if (dst.type === 'local') {
        idbfs.removeLocalEntry(path, (err: unknown) => err && fail(err));
      } else {
        request(() => store.delete(path));
      }
    }
  };
}

// IDBFS writes a sync in one IndexedDB transaction: when it fails, nothing of it is stored and what earlier
// syncs stored stays; the files stay in memory and the next sync writes them again. A full disk or the origin's
// storage quota is ResourceExhausted, anything else IOError.
function syncfs(mod: QuiverModule, populate: boolean): Promise<void> {
  return new Promise((resolve, reject) =>
    mod.FS.syncfs(populate, (err: unknown) => {
      if (!err) return resolve();
      const name = (err as { name?: string })?.name ?? '';
      const text = (err as { message?: string })?.message || name || String(err);
      if (name === 'QuotaExceededError' || /quota/i.test(text)) {
        reject(new QuiverError('ResourceExhausted',
          `IndexedDB is full (the browser's storage quota for this site): ${text}; nothing was lost of what ` +
          'earlier flushes stored, and the unsaved changes are kept in memory for the next flush'));
        return;
      }
      reject(new QuiverError('IOError', `IndexedDB sync failed: ${text}`));
    }),
  );
}

// Holds the Web Lock named after the database until release() is called; null when another holder has it.
async function takeLock(name: string): Promise<(() => void) | null> {
  const locks = (globalThis.navigator as any)?.locks;
  if (!locks) return () => {};
  let release: () => void = () => {};
  const held = new Promise<void>((r) => (release = r));
  const acquired = await new Promise<boolean>((resolve, reject) => {
    locks
      .request(`quiverdb:${name}`, { ifAvailable: true }, (lock: unknown) => {
        resolve(lock !== null);
        return lock === null ? undefined : held;
      })
      .catch(reject);
  });
  return acquired ? release : null;
}

// The databases open on this page (or in this worker), by name: a second open() shares the first one's storage.
const stores = new Map<string, Promise<OpenStore>>();

/**
 * Opens (creating if needed) a database stored in IndexedDB, or in memory. Opening a name that is already open
 * on this page returns another handle on that database (close each one; the storage closes with the last).
 */
export async function open(options: OpenOptions): Promise<Database> {
  if (!options || (!options.memory && !options.name)) {
    throw new QuiverError('InvalidArgument', 'open: pass { name } (an IndexedDB database) or { memory: true }');
  }
  const mod = await loadModule(options.wasmUrl);
  if (options.memory) {
    return Database._open(mod, '', { durability: 'none', ...options }, {
      afterWrite() {},
      async persist() {},
      async release() {},
    });
  }
  const name = options.name as string;
  if (!/^[A-Za-z0-9._-]{1,200}$/.test(name)) {
    throw new QuiverError('InvalidArgument', `open: name "${name}" must be 1..200 letters, digits, '.', '_' or '-'`);
  }
  const readOnly = !!options.readOnly;
  for (let pending = stores.get(name); pending; pending = stores.get(name)) {
    const store = await pending.catch(() => undefined);
    if (!store) {
      if (stores.get(name) === pending) stores.delete(name);  // that open failed: open afresh
      continue;
    }
    if (stores.get(name) !== pending) continue;
    if (store.closing) {
      await store.closing.catch(() => {});
      continue;
    }
    if (store.readOnly && !readOnly) {
      throw new QuiverError(
        'Busy',
        `database "${name}" is already open read-only on this page; close it there before opening it for writing`,
      );
    }
    return Database._share(store, readOnly);
  }
  const opening = openStore(mod, name, options);
  stores.set(name, opening);
  opening.catch(() => {
    if (stores.get(name) === opening) stores.delete(name);
  });
  return new Database(await opening, readOnly);
}

// Takes the lock, mounts IDBFS, loads it and opens the engine; the store's release undoes all of it.
async function openStore(mod: QuiverModule, name: string, options: OpenOptions): Promise<OpenStore> {
  const readOnly = !!options.readOnly;
  let unlock: (() => void) | null = () => {};
  if (!readOnly) {
    unlock = await takeLock(name);
    if (!unlock) {
      throw new QuiverError(
        'Busy',
        `database "${name}" is open for writing in another tab or worker; close it there, or open with { readOnly: true }`,
      );
    }
  }
  const mountPoint = `/quiver-idb/${name}`;
  mod.FS.mkdirTree(mountPoint);
  // IDBFS names its IndexedDB database after the mount point.
  patchIdbfs(mod);
  mod.FS.mount(mod.IDBFS, {}, mountPoint);

  let timer: ReturnType<typeof setTimeout> | undefined;
  let chain: Promise<void> = Promise.resolve();
  let store: OpenStore | undefined;
  const flushSoon = () => {
    if (store && !store.closing) flushStore(store).catch(() => {});
  };
  // Best effort: a flush started on pagehide completes only if the browser keeps the page alive long enough for
  // IndexedDB (navigations often do not); a tab going to the background (visibilitychange) stays alive, and the
  // debounce bounds what can be lost to flushDelayMs.
  const onVisibility = () => {
    if ((globalThis as any).document?.visibilityState === 'hidden') flushSoon();
  };
  const release = async () => {
    if (timer !== undefined) clearTimeout(timer);
    globalThis.removeEventListener?.('pagehide', flushSoon);
    globalThis.removeEventListener?.('visibilitychange', onVisibility);
    await chain.catch(() => {});
    mod.FS.unmount(mountPoint);
    mod.FS.rmdir(mountPoint);
    stores.delete(name);
    unlock?.();
  };
  try {
    await syncfs(mod, true);
    store = Database._openStore(mod, mountPoint, { durability: 'none', ...options }, {
      afterWrite() {
        if (timer !== undefined) clearTimeout(timer);
        timer = setTimeout(() => {
          timer = undefined;
          flushSoon();
        }, options.flushDelayMs ?? 250);
      },
      persist() {
        chain = chain.catch(() => {}).then(() => syncfs(mod, false));
        return chain;
      },
      release,
    });
  } catch (e) {
    await release();
    throw e;
  }
  if (!readOnly) {
    globalThis.addEventListener?.('pagehide', flushSoon);
    globalThis.addEventListener?.('visibilitychange', onVisibility);
  }
  return store;
}

// The automatic flush: the engine's flush, then IndexedDB, whichever handles are still open.
function flushStore(store: OpenStore): Promise<void> {
  if (store.native.flush() !== 0) {
    return Promise.reject(new QuiverError(store.native.code(), store.native.message()));
  }
  return store.hooks.persist();
}
