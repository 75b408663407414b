/**
 * The Cloudflare API v4 client every Cloudflare operation shares (deploy, ls, versions,
 * rollback, rm, logs): credentials from the environment (CLOUDFLARE_API_TOKEN,
 * CLOUDFLARE_ACCOUNT_ID; CLOUDFLARE_API_BASE_URL overrides the base URL, as the tests do),
 * the JSON envelope, and errors that say what Cloudflare answered. The token is sent only in
 * the Authorization header, never logged.
 */
import { UserError } from '../../src/util/errors.js';
import type { PageInfo } from './kv-namespaces.js';

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

export interface ApiMessage {
  code: number;
  message: string;
}

export interface ApiEnvelope<T> {
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

export async function call<T>(creds: CloudflareCredentials, operation: string, method: string, route: string, body?: { data: Uint8Array | string; contentType: string }): Promise<T> {
  return (await callEnvelope<T>(creds, operation, method, route, body)).result;
}

export async function callEnvelope<T>(creds: CloudflareCredentials, operation: string, method: string, route: string, body?: { data: Uint8Array | string; contentType: string }): Promise<ApiEnvelope<T>> {
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
  // Some deletes answer 200 with no body at all.
  if (res.ok && text.trim() === '') return { success: true, result: null as T };
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

/** Cloudflare's "this Worker does not exist" (404, code 10007), not a 404 for a wrong account (7003) or route. */
export function isScriptNotFound(error: unknown): boolean {
  if (!(error instanceof CloudflareApiError) || error.status !== 404) return false;
  const codes = error.errors.map((e) => e.code);
  return codes.length === 0 || codes.includes(10007);
}
