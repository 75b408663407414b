/**
 * The KV stores of the Fastly emulator (`wfn dev --target fastly`): wfn's SQLite stores
 * (src/runtime/node/kv-sqlite.ts) under the project's .wfn/kv/fastly/, one file per `[kv]`
 * store, so values survive a restart. The program runs on worker threads and the fastly_kv_store
 * hostcalls are synchronous: each worker reaches the stores through a blocking link
 * (src/runtime/node/kv-link.ts) to the emulator's main thread, which opens the files once
 * (better-sqlite3 is loaded there only, never bundled into the worker).
 */
import { KvStoreError, performOn, type KvRequest, type KvResult } from '../../../src/runtime/kv/index.js';
import { blockingKv, openKvLink, type KvLink } from '../../../src/runtime/node/kv-link.js';
import type { WorkerSetup } from '../../../src/runtime/node/timed-pool.js';
import type { EmulatedKvStore } from './hostcalls.js';

/** Where the emulator keeps its stores, and their names (the resource link names on Fastly). */
export interface EmulatorKv {
  dir: string;
  stores: string[];
}

/** The main thread's side: per worker, a link whose calls run on the SQLite stores in `dir`. */
export async function kvWorkerSetup(kv: EmulatorKv): Promise<() => WorkerSetup> {
  const { openSqliteStore } = await import('../../../src/runtime/node/kv-sqlite.js');
  const perform = (_scope: string, request: KvRequest): KvResult | Promise<KvResult> => performOn((name) => openSqliteStore(kv.dir, name), request);
  return () => {
    const link = openKvLink(perform);
    return { workerData: { kv: link.guest }, transferList: [link.guest.port], dispose: () => link.server.close() };
  };
}

/** The worker's side: the stores by name, each call blocking on the link. */
export function linkedStores(link: KvLink, names: string[]): Record<string, EmulatedKvStore> {
  const perform = blockingKv(link);
  const call = (request: KvRequest) => {
    const result = perform('fastly', request);
    if ('error' in result) throw new KvStoreError(result.error.code, result.error.message);
    return result;
  };
  return Object.fromEntries(
    names.map((store): [string, EmulatedKvStore] => [
      store,
      {
        get: (key) => call({ op: 'get', store, key }).value,
        set: (key, value, ttlSeconds) => void call({ op: 'set', store, key, value, ttlSeconds }),
        delete: (key) => void call({ op: 'delete', store, key }),
        list: (prefix, cursor, limit) => call({ op: 'list', store, prefix, cursor, limit }).page ?? { keys: [] },
      },
    ]),
  );
}
