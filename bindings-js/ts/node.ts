// quiverdb for Node: open({ path }) keeps the database in a folder (NODEFS: the engine's files on the host file
// system, fsync reaching the disk, so a write is durable when its Promise resolves, as natively); open({ memory:
// true }) keeps it in memory.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';

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
  const mountPoint = `/quiver-node/${++mounts}`;
  mod.FS.mkdirTree(mountPoint);
  mod.FS.mount(mod.NODEFS, { root: host }, mountPoint);
  const release = async () => {
    mod.FS.unmount(mountPoint);
    mod.FS.rmdir(mountPoint);
  };
  try {
    return Database._open(mod, mountPoint, options, { afterWrite() {}, async persist() {}, release });
  } catch (e) {
    await release();
    throw e;
  }
}
