/**
 * The function's secrets on Fastly: a secret store named after the function (created when
 * missing), each secret put into it (create or recreate, base64 as the API wants), and the
 * store linked to the service version being deployed under the name the adapter opens.
 * Values go only into the PUT bodies; nothing here logs or returns them.
 *   GET  /resources/stores/secret?cursor=...          find the store by name
 *   POST /resources/stores/secret                      {"name"}
 *   PUT  /resources/stores/secret/{id}/secrets         {"name", "secret"}
 *   GET  /service/{sid}/version/{v}/resource           the version's resource links
 *   POST /service/{sid}/version/{v}/resource           resource_id, name (form)
 */
import type { FastlyApi } from './deploy.js';

interface StoreList {
  data?: { id: string; name: string }[];
  meta?: { next_cursor?: string };
}

async function findStore(api: FastlyApi, name: string): Promise<string | undefined> {
  let cursor: string | undefined;
  for (let page = 0; page < 100; page++) {
    const query = new URLSearchParams({ limit: '200', ...(cursor ? { cursor } : {}) });
    const list = await api.call<StoreList>('GET', `/resources/stores/secret?${query}`);
    const found = list?.data?.find((s) => s.name === name);
    if (found) return found.id;
    cursor = list?.meta?.next_cursor || undefined;
    if (!cursor) return undefined;
  }
  return undefined;
}

/** The store's id, after putting every secret into it (created when missing). */
export async function fillSecretStore(api: FastlyApi, store: string, values: Record<string, string>, log: (m: string) => void): Promise<string> {
  let id = await findStore(api, store);
  if (!id) {
    log(`creating the Fastly secret store "${store}"`);
    id = (await api.call<{ id: string }>('POST', '/resources/stores/secret', { name: store }))!.id;
  }
  for (const [name, value] of Object.entries(values)) {
    await api.call('PUT', `/resources/stores/secret/${id}/secrets`, { name, secret: Buffer.from(value, 'utf8').toString('base64') });
  }
  log(`${Object.keys(values).length} secret(s) put into the Fastly secret store "${store}"`);
  return id;
}

/** Links a store (secret or KV) to the version (unless linked already) under the name the adapter opens. */
export async function linkResource(api: FastlyApi, serviceId: string, version: number, storeId: string, linkName: string): Promise<void> {
  const links = (await api.call<{ resource_id: string; name: string }[]>('GET', `/service/${serviceId}/version/${version}/resource`)) ?? [];
  if (links.some((l) => l.resource_id === storeId && l.name === linkName)) return;
  await api.call('POST', `/service/${serviceId}/version/${version}/resource`, new URLSearchParams({ resource_id: storeId, name: linkName }));
}
