/**
 * A Workers KV namespace binding as the key-value API's store (src/runtime/kv's KvStore), for
 * the Worker shim: the hostcalls of wfn_kv_v1 await these promises under JSPI. Platform-neutral
 * (bundled into worker.js). The binding is `env.<store>`, named as in `[kv] stores`, on
 * Cloudflare (deploy binds the namespace) and in workerd locally (the emulator's KV service).
 *
 * Workers KV's smallest `expirationTtl` is 60 seconds: a shorter TTL is raised to 60 here
 * (docs/targets/cloudflare.md says so), as Workers KV would refuse it.
 */
import { CLOUDFLARE_MIN_TTL_SECONDS, KV_ERROR } from '../../src/runtime/kv/abi.js';
import { KvStoreError, type KvStore } from '../../src/runtime/kv/store.js';

/** The part of Workers KV's KVNamespace the API uses. */
export interface KvNamespace {
  get(key: string, type: 'arrayBuffer'): Promise<ArrayBuffer | null>;
  put(key: string, value: ArrayBuffer | ArrayBufferView, options?: { expirationTtl?: number }): Promise<void>;
  delete(key: string): Promise<void>;
  list(options: { prefix?: string; cursor?: string; limit?: number }): Promise<{ keys: { name: string }[]; list_complete: boolean; cursor?: string }>;
}

/** The TTL Workers KV is given for the API's `ttl_seconds` (0: none). */
export function workersTtl(ttlSeconds: number): number | undefined {
  if (ttlSeconds <= 0) return undefined;
  return Math.max(ttlSeconds, CLOUDFLARE_MIN_TTL_SECONDS);
}

function isNamespace(value: unknown): value is KvNamespace {
  const v = value as Partial<KvNamespace> | undefined;
  return typeof v?.get === 'function' && typeof v.put === 'function' && typeof v.delete === 'function' && typeof v.list === 'function';
}

/** The store behind `env[name]`; UNAVAILABLE on every call when the Worker has no such binding. */
export function workersKvStore(env: Record<string, unknown>, name: string): KvStore {
  const binding = env[name];
  if (!isNamespace(binding)) {
    const missing = (): never => {
      throw new KvStoreError(KV_ERROR.UNAVAILABLE, `the Worker has no KV namespace binding "${name}" (wfn deploy --target cloudflare binds one per [kv] store)`);
    };
    return { get: missing, set: missing, delete: missing, list: missing };
  }
  return {
    async get(key) {
      const value = await binding.get(key, 'arrayBuffer');
      return value === null ? undefined : new Uint8Array(value);
    },
    async set(key, value, ttlSeconds) {
      const ttl = workersTtl(ttlSeconds);
      await binding.put(key, value, ttl === undefined ? undefined : { expirationTtl: ttl });
    },
    async delete(key) {
      await binding.delete(key);
    },
    async list(prefix, cursor, limit) {
      let page: Awaited<ReturnType<KvNamespace['list']>>;
      try {
        page = await binding.list({ ...(prefix ? { prefix } : {}), ...(cursor !== undefined ? { cursor } : {}), limit });
      } catch (error) {
        // Workers KV answers 400 for a cursor it did not issue.
        if (cursor !== undefined && /\b400\b/.test(String(error))) throw new KvStoreError(KV_ERROR.INVALID, 'the cursor is not one this store issued');
        throw error;
      }
      return { keys: page.keys.map((k) => k.name), cursor: page.list_complete ? undefined : page.cursor };
    },
  };
}
