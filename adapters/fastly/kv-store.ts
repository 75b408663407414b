/**
 * The function's `[kv] stores` on Fastly: one KV store per name, called `wfn-<service>-<store>`
 * (found by listing the account's KV stores, every page, and created when absent), linked to the
 * service version being deployed under the store's own name, which is what the adapter's
 * `fastly_kv_store.open` asks for (kv.wat). Stores are never deleted here: their data outlives
 * a deploy.
 *   GET  /resources/stores/kv?cursor=...          find the stores by name
 *   POST /resources/stores/kv                      {"name"}
 * and the resource links of secret-store.ts (linkResource).
 */
import type { FastlyApi } from './deploy.js';

interface StoreList {
  data?: { id: string; name: string }[];
  meta?: { next_cursor?: string };
}

/** The Fastly KV store name of `store` for the service `service`. */
export function kvStoreName(service: string, store: string): string {
  return `wfn-${service}-${store}`.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 255);
}

async function findStores(api: FastlyApi, names: Set<string>): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  let cursor: string | undefined;
  for (let page = 0; page < 100 && found.size < names.size; page++) {
    const query = new URLSearchParams({ limit: '1000', ...(cursor ? { cursor } : {}) });
    const list = await api.call<StoreList>('GET', `/resources/stores/kv?${query}`);
    for (const s of list?.data ?? []) if (names.has(s.name) && !found.has(s.name)) found.set(s.name, s.id);
    cursor = list?.meta?.next_cursor || undefined;
    if (!cursor) break;
  }
  return found;
}

/** Store name ([kv]) -> Fastly KV store id, creating the stores that do not exist yet. */
export async function ensureKvStores(api: FastlyApi, service: string, stores: string[], log: (m: string) => void): Promise<Record<string, string>> {
  if (stores.length === 0) return {};
  const names = new Map(stores.map((s) => [s, kvStoreName(service, s)]));
  const found = await findStores(api, new Set(names.values()));
  const ids: Record<string, string> = {};
  for (const [store, name] of names) {
    let id = found.get(name);
    if (!id) {
      log(`creating the Fastly KV store "${name}"`);
      id = (await api.call<{ id: string }>('POST', '/resources/stores/kv', { name }))!.id;
    }
    ids[store] = id;
  }
  return ids;
}
