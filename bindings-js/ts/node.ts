// quiverdb for Node: open({ path }) keeps the database in a folder (NODEFS: the engine's files on the host file
// system, fsync reaching the disk, so a write is durable when its Promise resolves, as natively); open({ memory:
// true }) keeps it in memory.
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { CommonOpenOptions, Database, QuiverError, QuiverModule, StorageHooks } from './core.js';

export * from './core.js';

export interface OpenOptions extends CommonOpenOptions {
  /** The database's folder (created if missing). */
  path?: string;
  /** Keep everything in memory. */
  memory?: boolean;
}

let modulePromise: Promise<QuiverModule> | undefined;
let mounts = 0;
const writers = new Set<string>();

// One writer per folder. Inside WASM the engine's flock is a no-op and every open gets its own mount point, so
// the wrapper keeps the rule itself: a set for this process, and a lock file naming the writer's pid for other
// processes (a file whose process is gone is stale and taken over).
const kLockFile = 'LOCK.quiverdb-js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function lockFolder(host: string): () => void {
  const busy = (who: string) =>
    new QuiverError('Busy', `${host} is already open for writing ${who}; open it with { readOnly: true } or close it there`);
  if (writers.has(host)) throw busy('in this process');
  const file = join(host, kLockFile);
  const mine = String(process.pid);
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(file, mine, { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) {
        throw new QuiverError('IOError', `open: cannot create ${file}: ${(e as Error).message}`);
      }
      let owner = NaN;
      try {
        owner = Number(readFileSync(file, 'utf8'));
      } catch {}
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
        throw busy(`by process ${owner}`);
      }
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

/** The WebAssembly module (loaded once per process). */
export function loadModule(): Promise<QuiverModule> {
  if (!modulePromise) {
    // A variable specifier keeps TypeScript from resolving the Emscripten glue; ../quiver-node.cjs sits beside
    // dist/esm and dist/cjs and finds quiver-node.wasm next to itself.
    const glue = '../quiver-node.cjs';
    modulePromise = import(glue).then(async (m: any) => {
      const factory = m.default ?? m;
      const mod = factory();
      return (mod.ready ? await mod.ready : mod) as QuiverModule;
    });
  }
  return modulePromise;
}

/** Opens (creating if needed) a database in a folder, or in memory. */
export async function open(options: OpenOptions): Promise<Database> {
  if (!options || (!options.memory && !options.path)) {
    throw new QuiverError('InvalidArgument', 'open: pass { path } (a folder) or { memory: true }');
  }
  const mod = await loadModule();
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
