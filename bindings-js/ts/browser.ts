// quiverdb for browsers (and workers): open({ name }) keeps the database in IndexedDB through Emscripten's IDBFS.
// The engine writes to memory; flush() makes everything durable (IDBFS writes only the files that changed), and
// the wrapper flushes by itself shortly after writes and on pagehide. A Web Lock per database name keeps one
// writer per origin: a second tab gets QuiverError "Busy", or opens read-only when it asks to.
import { CommonOpenOptions, Database, QuiverError, QuiverModule } from './core.js';

export * from './core.js';

export interface OpenOptions extends CommonOpenOptions {
  /** The database's name within this origin's IndexedDB. */
  name?: string;
  /** Keep everything in memory. */
  memory?: boolean;
  /** Milliseconds after the last write before the automatic flush (default 250). */
  flushDelayMs?: number;
  /** Where quiver-web.wasm is served from, if not beside the package's JS. */
  wasmUrl?: string;
}

let modulePromise: Promise<QuiverModule> | undefined;

/** The WebAssembly module (loaded once per page or worker). */
export function loadModule(wasmUrl?: string): Promise<QuiverModule> {
  if (!modulePromise) {
    // @ts-ignore: the Emscripten glue has no type declarations
    modulePromise = import('../quiver-web.mjs').then((m: any) =>
      m.default(wasmUrl ? { locateFile: (f: string, dir: string) => (f.endsWith('.wasm') ? wasmUrl : dir + f) } : {}),
    );
  }
  return modulePromise as Promise<QuiverModule>;
}

function syncfs(mod: QuiverModule, populate: boolean): Promise<void> {
  return new Promise((resolve, reject) =>
    mod.FS.syncfs(populate, (err: unknown) =>
      err ? reject(new QuiverError('IOError', `IndexedDB sync failed: ${String(err)}`)) : resolve(),
    ),
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

const openNames = new Set<string>();

/** Opens (creating if needed) a database stored in IndexedDB, or in memory. */
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
  if (openNames.has(mountPoint)) {
    unlock?.();
    throw new QuiverError('Busy', `database "${name}" is already open on this page`);
  }
  openNames.add(mountPoint);
  mod.FS.mkdirTree(mountPoint);
  // IDBFS names its IndexedDB database after the mount point.
  mod.FS.mount(mod.IDBFS, {}, mountPoint);

  let timer: ReturnType<typeof setTimeout> | undefined;
  let chain: Promise<void> = Promise.resolve();
  let db: Database | undefined;
  // Best effort: a flush started on pagehide completes only if the browser keeps the page alive long enough for
  // IndexedDB (navigations often do not); a tab going to the background (visibilitychange) stays alive, and the
  // debounce bounds what can be lost to flushDelayMs.
  const onPageHide = () => {
    if (db && !db.isClosed) db.flush().catch(() => {});
  };
  const onVisibility = () => {
    if ((globalThis as any).document?.visibilityState === 'hidden') onPageHide();
  };
  const release = async () => {
    if (timer !== undefined) clearTimeout(timer);
    globalThis.removeEventListener?.('pagehide', onPageHide);
    globalThis.removeEventListener?.('visibilitychange', onVisibility);
    await chain.catch(() => {});
    mod.FS.unmount(mountPoint);
    mod.FS.rmdir(mountPoint);
    openNames.delete(mountPoint);
    unlock?.();
  };
  try {
    await syncfs(mod, true);
    db = Database._open(mod, mountPoint, { durability: 'none', ...options }, {
      afterWrite() {
        if (timer !== undefined) clearTimeout(timer);
        timer = setTimeout(() => {
          timer = undefined;
          if (db && !db.isClosed) db.flush().catch(() => {});
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
    globalThis.addEventListener?.('pagehide', onPageHide);
    globalThis.addEventListener?.('visibilitychange', onVisibility);
  }
  return db;
}
