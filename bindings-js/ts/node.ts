// quiverdb for Node: open({ path }) keeps the database in a folder (NODEFS: the engine's files on the host file
// system, fsync reaching the disk, so a write is durable when its Promise resolves, as natively); open({ memory:
// true }) keeps it in memory. Built as CommonJS only (dist/cjs/node.js); Node's `import` gets a thin ES module over
// it (npm/build.mjs writes dist/esm/node.js), so `import` and `require` share one module instance, and a server
// bundle (esbuild --platform=node) needs no import.meta.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

import { CommonOpenOptions, Database, QuiverError, QuiverModule, StorageHooks } from './core.js';
import { _setBlobHasher } from './sync.js';

export * from './core.js';

// Snapshot blobs are hashed by OpenSSL (SHA extensions where the processor has them) as their bytes arrive.
_setBlobHasher(() => {
  const h = createHash('sha256');
  return {
    update: (chunk) => void h.update(chunk),
    digest: () => h.digest('hex'),
  };
});

export interface OpenOptions extends CommonOpenOptions {
  /** The database's folder (created if missing). */
  path?: string;
  /** Keep everything in memory. */
  memory?: boolean;
  /**
   * The path of quiver-node.wasm, for a server bundle deployed without node_modules/quiverdb (by default it is
   * looked for beside the bundle, then in node_modules/quiverdb). Used by the first successful load.
   */
  wasmPath?: string;
}

// The Emscripten glue, required by a literal path so that server bundlers (esbuild --platform=node) include it.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const createQuiverModule = require('../quiver-node.cjs');

let modulePromise: Promise<QuiverModule> | undefined;
let mounts = 0;
const writers = new Set<string>();

// One writer per folder. Inside WASM the engine's flock is a no-op and every open gets its own mount point, so
// the wrapper keeps the rule itself: a set for this process, and a lock file naming the writer's pid for other
// processes (a file whose process is gone is stale and taken over). A writer killed with SIGKILL leaves its file
// behind, and process ids are reused (pid_max is often 32768): where the system shows a process's start time
// (Linux's /proc), the file names it too, and a live process with the same pid but another start time is not
// the writer.
const kLockFile = 'LOCK.quiverdb-js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// The start time of a process (clock ticks since boot, field 22 of /proc/PID/stat), or '' where unknown.
function startTime(pid: number | 'self'): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');  // from field 3 (the state) on
    return /^\d+$/.test(fields[19] ?? '') ? fields[19] : '';
  } catch {
    return '';
  }
}

// Whether the lock file's text ("PID" or "PID START") names a live process other than this one.
function heldByOther(text: string): number | null {
  const [pidText, start] = text.trim().split(' ');
  const owner = Number(pidText);
  if (!Number.isInteger(owner) || owner <= 0 || owner === process.pid || !alive(owner)) return null;
  if (start !== undefined && start !== '') {
    const now = startTime(owner);
    if (now !== '' && now !== start) return null;  // the pid was reused by another process
  }
  return owner;
}

function lockFolder(host: string): () => void {
  const busy = (who: string) =>
    new QuiverError('Busy', `${host} is already open for writing ${who}; open it with { readOnly: true } or close it there`);
  if (writers.has(host)) throw busy('in this process');
  const file = join(host, kLockFile);
  const self = startTime('self');
  const mine = self ? `${process.pid} ${self}` : String(process.pid);
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(file, mine, { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) {
        throw new QuiverError('IOError', `open: cannot create ${file}: ${(e as Error).message}`);
      }
      let owner: number | null = null;
      try {
        owner = heldByOther(readFileSync(file, 'utf8'));
      } catch {}
      if (owner !== null) throw busy(`by process ${owner}`);
      try {
        unlinkSync(file);
      } catch {}
    }
  }
  writers.add(host);
  return () => {
    writers.delete(host);
    try {
      if (readFileSync(file, 'utf8') === mine) unlinkSync(file);
    } catch {}
  };
}

// Where quiver-node.wasm may be: beside this file (a bundle with the .wasm copied next to it), in the package
// (dist/cjs/../quiver-node.wasm), or in node_modules/quiverdb as seen from the working directory.
function wasmCandidates(): string[] {
  const list: string[] = [];
  if (typeof __dirname === 'string') list.push(join(__dirname, 'quiver-node.wasm'), join(__dirname, '..', 'quiver-node.wasm'));
  try {
    list.push(createRequire(join(process.cwd(), 'index.js')).resolve('quiverdb/quiver-node.wasm'));
  } catch {}
  return list;
}

function readWasm(wasmPath: string | undefined): { path: string; bytes: Uint8Array } {
  const tried = wasmPath !== undefined ? [resolve(wasmPath)] : wasmCandidates();
  const path = tried.find((p) => existsSync(p));
  if (path === undefined) {
    throw new QuiverError(
      'IOError',
      `could not find quiver-node.wasm (looked at ${tried.join(', ') || 'nothing'}); copy ` +
        `node_modules/quiverdb/dist/quiver-node.wasm beside your bundle, or pass open({ wasmPath })`,
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new QuiverError('IOError', `could not read ${path}: ${(e as Error).message}`);
  }
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new QuiverError('IOError', `${path} is not a WebAssembly module (${bytes.length} bytes starting ${head})`);
  }
  return { path, bytes };
}

async function instantiate(wasmPath: string | undefined): Promise<QuiverModule> {
  const { path, bytes } = readWasm(wasmPath);
  try {
    const mod = createQuiverModule({ wasmBinary: bytes });
    return (mod.ready ? await mod.ready : mod) as QuiverModule;
  } catch (e) {
    throw new QuiverError('IOError', `starting the WebAssembly module ${path} failed (${String((e as Error)?.message ?? e)})`);
  }
}

/**
 * The WebAssembly module (loaded once per process). A failed load is a QuiverError (IOError) naming the files
 * tried; the next call tries again.
 */
export function loadModule(wasmPath?: string): Promise<QuiverModule> {
  if (!modulePromise) {
    const loading = instantiate(wasmPath);
    modulePromise = loading;
    loading.catch(() => {
      if (modulePromise === loading) modulePromise = undefined;
    });
  }
  return modulePromise;
}

/** Opens (creating if needed) a database in a folder, or in memory. */
export async function open(options: OpenOptions): Promise<Database> {
  if (!options || (!options.memory && !options.path)) {
    throw new QuiverError('InvalidArgument', 'open: pass { path } (a folder) or { memory: true }');
  }
  const mod = await loadModule(options.wasmPath);
  if (options.memory) {
    return Database._open(mod, '', options, { afterWrite() {}, async persist() {}, async release() {} });
  }
  const host = resolve(options.path as string);
  try {
    mkdirSync(host, { recursive: true });
  } catch (e) {
    throw new QuiverError('IOError', `open: cannot create ${host}: ${(e as Error).message}`);
  }
  const unlock = options.readOnly ? () => {} : lockFolder(host);
  const mountPoint = `/quiver-node/${++mounts}`;
  mod.FS.mkdirTree(mountPoint);
  mod.FS.mount(mod.NODEFS, { root: host }, mountPoint);
  const release = async () => {
    mod.FS.unmount(mountPoint);
    mod.FS.rmdir(mountPoint);
    unlock();
  };
  try {
    return Database._open(mod, mountPoint, options, { afterWrite() {}, async persist() {}, release });
  } catch (e) {
    await release();
    throw e;
  }
}
