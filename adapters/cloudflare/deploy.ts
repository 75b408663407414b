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
import { ensureNamespaces, type KvApi, type Namespace, type PageInfo } from './kv-namespaces.js';
import { encodeMultipart, type Part } from './multipart.js';
import { checkWorkerName, ENTRY_FILE, METADATA_FILE, TARGET, wasmFileName, type WorkerMetadata } from './package.js';

export const DEFAULT_API_BASE = 'https://api.cloudflare.com/client/v4';

export interface CloudflareCredentials {
  token: string;
  accountId: string;
  baseUrl: string;
}

export function credentialsFrom(env: NodeJS.ProcessEnv): CloudflareCredentials {
  const token = env.CLOUDFLARE_API_TOKEN?.trim();
  const accountId = env.CLOUDFLARE_ACCOUNT_ID?.trim();
  const missing = [!token && 'CLOUDFLARE_API_TOKEN', !accountId && 'CLOUDFLARE_ACCOUNT_ID'].filter(Boolean);
  if (missing.length > 0) {
    throw new UserError(
      `Cloudflare credentials missing: set ${missing.join(' and ')}.`,
      'Create an API token with the "Edit Cloudflare Workers" template (dash.cloudflare.com/profile/api-tokens); the account ID is on the Workers & Pages overview. Then: export CLOUDFLARE_API_TOKEN=... CLOUDFLARE_ACCOUNT_ID=...',
    );
  }
  return { token: token!, accountId: accountId!, baseUrl: (env.CLOUDFLARE_API_BASE_URL?.trim() || DEFAULT_API_BASE).replace(/\/+$/, '') };
}

interface ApiMessage {
  code: number;
  message: string;
}

interface ApiEnvelope<T> {
  success: boolean;
  errors?: ApiMessage[];
  messages?: ApiMessage[];
  result: T;
  result_info?: PageInfo;
}

const AUTH_CODES = new Set([10000, 9106, 9107, 9109, 6003, 6111, 10001]);
const ACCOUNT_CODES = new Set([7003, 7000, 9103]);

/** A hint for the common failures (auth, account, size), keyed by Cloudflare's error codes. */
export function hintFor(codes: number[], status: number): string | undefined {
  if (codes.some((c) => AUTH_CODES.has(c)) || (codes.length === 0 && (status === 401 || status === 403))) {
    return 'Check CLOUDFLARE_API_TOKEN: it must be valid, not expired, and carry "Workers Scripts: Edit" for this account (the "Edit Cloudflare Workers" token template).';
  }
  if (codes.some((c) => ACCOUNT_CODES.has(c))) {
    return 'Check CLOUDFLARE_ACCOUNT_ID: the 32-character account ID from the Workers & Pages overview, for an account the token can access.';
  }
  if (codes.includes(10027)) {
    return 'The Worker is too large: Cloudflare allows 3 MB compressed on the free plan, 10 MB on paid plans. Try [build] optimize = "Oz", or see `wfn deploy --target cloudflare --dry-run` for the sizes.';
  }
  if (codes.includes(10063) || codes.includes(10007)) {
    return 'The account has no workers.dev subdomain yet: open Workers & Pages in the Cloudflare dashboard once to create it, then deploy again.';
  }
  if (codes.includes(10034)) return 'Verify the account\'s email address in the Cloudflare dashboard, then deploy again.';
  if (codes.includes(10021)) return 'Cloudflare refused the Worker at validation (for example its startup took too long). The message above has the detail.';
  return undefined;
}

export class CloudflareApiError extends UserError {
  constructor(
    readonly operation: string,
    readonly status: number,
    readonly errors: ApiMessage[],
  ) {
    const detail = errors.length > 0 ? errors.map((e) => `${e.message} [code ${e.code}]`).join('; ') : `HTTP ${status}`;
    const hint = hintFor(errors.map((e) => e.code), status);
    // The KV calls need one more permission than the upload.
    const kvHint = operation.includes('Workers KV') && hint?.startsWith('Check CLOUDFLARE_API_TOKEN')
      ? 'Check CLOUDFLARE_API_TOKEN: a Worker with [kv] stores needs "Workers KV Storage: Edit" as well as "Workers Scripts: Edit" for this account.'
      : undefined;
    super(`Cloudflare API: ${operation} failed: ${detail}`, kvHint ?? hint);
    this.name = 'CloudflareApiError';
  }
}

async function call<T>(creds: CloudflareCredentials, operation: string, method: string, route: string, body?: { data: Uint8Array | string; contentType: string }): Promise<T> {
  return (await callEnvelope<T>(creds, operation, method, route, body)).result;
}

async function callEnvelope<T>(creds: CloudflareCredentials, operation: string, method: string, route: string, body?: { data: Uint8Array | string; contentType: string }): Promise<ApiEnvelope<T>> {
  const url = `${creds.baseUrl}${route}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${creds.token}`, ...(body ? { 'content-type': body.contentType } : {}) },
      body: body?.data as BodyInit | undefined,
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new UserError(`Cannot reach the Cloudflare API at ${creds.baseUrl} (${operation}): ${cause?.code ?? cause?.message ?? (error as Error).message}`, 'Check the network, or CLOUDFLARE_API_BASE_URL if it is set.');
  }
  const text = await res.text();
  let envelope: ApiEnvelope<T> | undefined;
  try {
    envelope = JSON.parse(text) as ApiEnvelope<T>;
  } catch {
    envelope = undefined;
  }
  if (!envelope || typeof envelope !== 'object') {
    throw new CloudflareApiError(operation, res.status, [{ code: 0, message: `HTTP ${res.status}, not a Cloudflare API answer: ${text.slice(0, 200)}` }]);
  }
  if (!res.ok || envelope.success === false) throw new CloudflareApiError(operation, res.status, envelope.errors ?? []);
  return envelope;
}

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
