/**
 * The Workers KV namespaces of a Worker's `[kv] stores`, made ready at deploy as Wrangler's
 * `kv namespace create` would: one namespace per store, titled `wfn-<worker>-<store>`, found
 * by listing the account's namespaces (every page) and created when absent; deploy then binds
 * each in the upload's metadata (`{"type":"kv_namespace","name":<store>,"namespace_id":<id>}`).
 *   GET  /accounts/{account}/storage/kv/namespaces?page=N&per_page=100
 *   POST /accounts/{account}/storage/kv/namespaces           {"title"}
 * Namespaces are never deleted or renamed here: their data outlives a deploy.
 */

export interface Namespace {
  id: string;
  title: string;
}

export interface PageInfo {
  page?: number;
  total_pages?: number;
}

/** The API calls this needs (deploy.ts's, with its errors and credentials). */
export interface KvApi {
  list(page: number): Promise<{ result: Namespace[] | null; result_info?: PageInfo }>;
  create(title: string): Promise<Namespace>;
}

/** The namespace title of `store` for the Worker `worker`. */
export function namespaceTitle(worker: string, store: string): string {
  return `wfn-${worker}-${store}`;
}

/** At most this many pages are read (100 namespaces each: far past an account's usual count). */
const MAX_PAGES = 100;

async function findAll(api: KvApi, titles: Set<string>): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (let page = 1; page <= MAX_PAGES && found.size < titles.size; page++) {
    const { result, result_info } = await api.list(page);
    const namespaces = Array.isArray(result) ? result : [];
    for (const ns of namespaces) if (typeof ns?.id === 'string' && titles.has(ns.title) && !found.has(ns.title)) found.set(ns.title, ns.id);
    if (namespaces.length === 0 || page >= (result_info?.total_pages ?? page)) break;
  }
  return found;
}

/** Store name -> namespace id, creating the namespaces that do not exist yet. */
export async function ensureNamespaces(api: KvApi, worker: string, stores: string[], log: (m: string) => void): Promise<Record<string, string>> {
  if (stores.length === 0) return {};
  const titles = new Map(stores.map((s) => [s, namespaceTitle(worker, s)]));
  const found = await findAll(api, new Set(titles.values()));
  const ids: Record<string, string> = {};
  for (const [store, title] of titles) {
    let id = found.get(title);
    if (!id) {
      log(`creating the Workers KV namespace "${title}"`);
      id = (await api.create(title)).id;
    }
    ids[store] = id;
  }
  return ids;
}
