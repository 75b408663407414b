/**
 * Deploys a packaged Worker the way Wrangler does, through the Cloudflare API v4:
 *   PUT  /accounts/{account}/workers/scripts/{name}            multipart upload
 *   POST /accounts/{account}/workers/scripts/{name}/subdomain  {"enabled":true}
 *   GET  /accounts/{account}/workers/subdomain                 -> https://{name}.{sub}.workers.dev
 * and before the upload, for a Worker with [kv] stores, its KV namespaces (kv-namespaces.ts).
 * Credentials: CLOUDFLARE_API_TOKEN, CLOUDFLARE_ACCOUNT_ID; CLOUDFLARE_API_BASE_URL
 * overrides the base URL. The token is sent only in the Authorization header, never logged.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Bundle, DeployOptions, DeployResult } from '../../src/target/types.js';
import { UserError } from '../../src/util/errors.js';
import { call, callEnvelope, credentialsFrom } from './api.js';
import { ensureNamespaces, type KvApi, type Namespace } from './kv-namespaces.js';
import { encodeMultipart, type Part } from './multipart.js';
import { checkWorkerName, ENTRY_FILE, METADATA_FILE, TARGET, wasmFileName, type WorkerMetadata } from './package.js';

export { CloudflareApiError, credentialsFrom, DEFAULT_API_BASE, hintFor, type CloudflareCredentials } from './api.js';

/**
 * The upload exactly as sent: the bundle's files as parts; secrets and KV namespace ids
 * (`namespaces`: store -> id) filled into the metadata.
 */
export async function uploadParts(bundle: Bundle, env: NodeJS.ProcessEnv, namespaces: Record<string, string> = {}): Promise<Part[]> {
  const metadataBytes = await readFile(path.join(bundle.dir, METADATA_FILE));
  const metadata = JSON.parse(metadataBytes.toString('utf8')) as WorkerMetadata;
  const secretBindings = metadata.bindings.filter((b) => b.type === 'secret_text');
  const missing = secretBindings.filter((b) => env[b.name] === undefined).map((b) => b.name);
  if (missing.length > 0) {
    throw new UserError(`Secret${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not set in the environment.`, `Export ${missing.map((m) => `${m}=...`).join(' ')} before deploying: secret values are read at deploy time and never written to the bundle.`);
  }
  const kvBindings = metadata.bindings.filter((b) => b.type === 'kv_namespace');
  const unbound = kvBindings.filter((b) => !namespaces[b.name]).map((b) => b.name);
  if (unbound.length > 0) throw new Error(`no KV namespace for the store(s) ${unbound.join(', ')}`);
  // Without secrets and KV bindings the metadata part is metadata.json byte for byte.
  const metadataPart =
    secretBindings.length === 0 && kvBindings.length === 0
      ? new Uint8Array(metadataBytes)
      : new TextEncoder().encode(
          JSON.stringify({
            ...metadata,
            bindings: metadata.bindings.map((b) =>
              b.type === 'secret_text' ? { ...b, text: env[b.name] } : b.type === 'kv_namespace' ? { ...b, namespace_id: namespaces[b.name] } : b,
            ),
          }),
        );
  const wasmName = wasmFileName(bundle.name);
  return [
    { name: 'metadata', contentType: 'application/json', data: metadataPart },
    { name: metadata.main_module, filename: metadata.main_module, contentType: 'application/javascript+module', data: new Uint8Array(await readFile(path.join(bundle.dir, ENTRY_FILE))) },
    { name: wasmName, filename: wasmName, contentType: 'application/wasm', data: new Uint8Array(await readFile(path.join(bundle.dir, wasmName))) },
  ];
}

export async function deployWorker(bundle: Bundle, options: DeployOptions): Promise<DeployResult> {
  checkWorkerName(bundle.name);
  const creds = credentialsFrom(options.env);
  const account = `/accounts/${encodeURIComponent(creds.accountId)}`;
  const script = `${account}/workers/scripts/${encodeURIComponent(bundle.name)}`;

  // The KV namespaces first: the upload binds them by id.
  const kvApi: KvApi = {
    list: async (page) => {
      const got = await callEnvelope<Namespace[] | null>(creds, 'list the Workers KV namespaces', 'GET', `${account}/storage/kv/namespaces?page=${page}&per_page=100`);
      return { result: got.result, result_info: got.result_info };
    },
    create: (title) => call<Namespace>(creds, `create the Workers KV namespace "${title}"`, 'POST', `${account}/storage/kv/namespaces`, { data: JSON.stringify({ title }), contentType: 'application/json' }),
  };
  const namespaces = await ensureNamespaces(kvApi, bundle.name, bundle.artifact.kv?.stores ?? [], options.log);
  const upload = encodeMultipart(await uploadParts(bundle, options.env, namespaces));
  options.log(`uploading ${bundle.name} (${upload.body.length} bytes) to Cloudflare account ${creds.accountId.slice(0, 6)}…`);
  const uploaded = await call<{ id?: string; etag?: string; modified_on?: string } | null>(creds, 'upload Worker', 'PUT', script, { data: upload.body, contentType: upload.contentType });

  options.log('enabling the workers.dev route');
  await call(creds, 'enable workers.dev', 'POST', `${script}/subdomain`, { data: JSON.stringify({ enabled: true }), contentType: 'application/json' });
  const sub = await call<{ subdomain?: string } | null>(creds, 'read the workers.dev subdomain', 'GET', `${account}/workers/subdomain`);
  const url = sub?.subdomain ? `https://${bundle.name}.${sub.subdomain}.workers.dev` : undefined;
  return {
    target: TARGET,
    name: bundle.name,
    url,
    details: { etag: uploaded?.etag, modifiedOn: uploaded?.modified_on, accountId: creds.accountId, ...(Object.keys(namespaces).length > 0 ? { kvNamespaces: namespaces } : {}) },
  };
}
