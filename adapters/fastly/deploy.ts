/**
 * Deploy through the Fastly API (https://api.fastly.com, or FASTLY_API_ENDPOINT as in the
 * Fastly CLI), authenticated with the `Fastly-Key` header (FASTLY_API_TOKEN):
 *   no service yet:  POST /service (type wasm), POST .../version/1/domain
 *   a service:       GET .../version, PUT .../version/{active or latest}/clone
 *   then:            PUT .../version/{v}/package (multipart, field "package"), PUT .../version/{v}/activate
 * With secrets, a secret store is filled and linked to the version first (secret-store.ts); with
 * [kv] stores, a KV store per name is found or created and linked under that name (kv-store.ts).
 * Request bodies are form-encoded or JSON, as the API documents each. The token and the
 * secrets are never logged.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../../src/util/errors.js';
import type { Bundle, DeployOptions, DeployResult } from '../../src/target/types.js';
import { secretStoreName } from './adapter-module.js';
import { secretValues } from '../../src/config/secrets.js';
import { ensureKvStores } from './kv-store.js';
import { fillSecretStore, linkResource } from './secret-store.js';

export const DEFAULT_FASTLY_API = 'https://api.fastly.com';
const STATE_FILE = 'service.json';

interface Version {
  number: number;
  active?: boolean;
  locked?: boolean;
}

interface ServiceState {
  serviceId: string;
  name: string;
  version?: number;
  domain?: string;
}

/** Form-encoded, multipart, or (a plain object) JSON. */
type Body = URLSearchParams | FormData | Record<string, unknown> | undefined;

export class FastlyApi {
  constructor(private readonly base: string, private readonly token: string, private readonly log: (m: string) => void = () => {}) {}

  /** Where the API is (for messages: never the token). */
  get endpoint(): string {
    return this.base;
  }

  /** The raw response (any status), for the streaming log endpoint; `signal` aborts the request. */
  async fetch(method: string, apiPath: string, signal?: AbortSignal, body?: Body): Promise<Response> {
    const json = body !== undefined && !(body instanceof URLSearchParams) && !(body instanceof FormData);
    try {
      return await fetch(`${this.base}${apiPath}`, {
        method,
        signal,
        // fetch sets the form or multipart Content-Type from the body itself.
        headers: { 'Fastly-Key': this.token, Accept: 'application/json', 'User-Agent': 'wfn', ...(json ? { 'Content-Type': 'application/json' } : {}) },
        body: json ? JSON.stringify(body) : (body as URLSearchParams | FormData | undefined),
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new UserError(
        `Cannot reach the Fastly API at ${this.base}: ${(error as Error).message}`,
        'Check your network, or FASTLY_API_ENDPOINT if you set it.',
      );
    }
  }

  async call<T>(method: string, apiPath: string, body?: Body, allow404 = false): Promise<T | undefined> {
    const res = await this.fetch(method, apiPath, undefined, body);
    const text = await res.text();
    if (res.status === 404 && allow404) return undefined;
    if (!res.ok) throw apiError(method, apiPath, res.status, text);
    this.log(`fastly: ${method} ${apiPath} -> ${res.status}`);
    try {
      return (text ? JSON.parse(text) : {}) as T;
    } catch {
      throw new UserError(`The Fastly API answered ${method} ${apiPath} with something that is not JSON: ${text.slice(0, 200)}`);
    }
  }
}

/** Fastly's own message (`msg`, `detail`) and a hint for the usual causes. */
export function apiError(method: string, apiPath: string, status: number, text: string): UserError {
  let msg = text.slice(0, 300);
  try {
    const json = JSON.parse(text) as { msg?: string; detail?: string; message?: string };
    const head = json.msg ?? json.message;
    if (head) msg = json.detail ? `${head}: ${json.detail}` : head;
  } catch {
    // not JSON: keep the text
  }
  let hint: string | undefined;
  if (status === 401 || status === 403) {
    hint = 'Check FASTLY_API_TOKEN: it must be a valid API token with the "global" scope, for a user allowed to change this service (https://manage.fastly.com/account/personal/tokens).';
  } else if (status === 404 && apiPath.startsWith('/service/')) {
    hint = 'Check --service-id: the service does not exist, or this token cannot see it.';
  } else if (status === 429) {
    hint = 'The Fastly API rate limit was hit: wait a minute and deploy again.';
  }
  return new UserError(`Fastly API ${method} ${apiPath} failed (HTTP ${status}): ${msg}`, hint);
}

function form(fields: Record<string, string>): URLSearchParams {
  return new URLSearchParams(fields);
}

async function readState(dir: string): Promise<ServiceState | undefined> {
  try {
    return JSON.parse(await readFile(path.join(dir, STATE_FILE), 'utf8')) as ServiceState;
  } catch {
    return undefined;
  }
}

/** A fresh domain on Fastly's shared Compute domain, as `fastly compute deploy` makes one. */
export function defaultDomain(name: string): string {
  return `${name}-${randomBytes(4).toString('hex')}.edgecompute.app`;
}

/** The API client for this environment: FASTLY_API_TOKEN (required), FASTLY_API_ENDPOINT (optional, as in the Fastly CLI). */
export function fastlyApiFrom(env: NodeJS.ProcessEnv, log: (m: string) => void = () => {}): FastlyApi {
  const token = env.FASTLY_API_TOKEN;
  if (!token) {
    throw new UserError(
      'FASTLY_API_TOKEN is not set.',
      'Create an API token with the "global" scope at https://manage.fastly.com/account/personal/tokens, then: export FASTLY_API_TOKEN=<token>',
    );
  }
  return new FastlyApi((env.FASTLY_API_ENDPOINT || DEFAULT_FASTLY_API).replace(/\/+$/, ''), token, log);
}

export async function deployToFastly(bundle: Bundle, options: DeployOptions): Promise<DeployResult> {
  const api = fastlyApiFrom(options.env, options.log);
  if (!bundle.archive) throw new Error('the Fastly bundle has no package archive');
  const archive = await readFile(bundle.archive);
  const name = bundle.name;
  const flags = options.flags as { serviceId?: string; domain?: string };
  const { values: secrets, missing } = secretValues(bundle.artifact.secrets, options.env);
  if (missing.length > 0) {
    throw new UserError(
      `Secret${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not set in the environment.`,
      `Export ${missing[0]}=... before deploying: wfn puts secrets into a Fastly secret store, never into the package.`,
    );
  }
  const store = secretStoreName(name);
  // Secrets first: their values change in place, even when the package does not.
  const storeId = bundle.artifact.secrets.length > 0 ? await fillSecretStore(api, store, secrets, options.log) : undefined;
  // The KV stores too: the version links them before it is activated.
  const kvStores = await ensureKvStores(api, name, bundle.artifact.kv?.stores ?? [], options.log);

  // Which service: --service-id, else the one this package was deployed to before, else one named like the function.
  const state = await readState(bundle.dir);
  let serviceId = flags.serviceId || (state?.name === name ? state.serviceId : undefined);
  if (!serviceId) {
    const found = await api.call<{ id: string }>('GET', `/service/search?${form({ name })}`, undefined, true);
    serviceId = found?.id;
    if (serviceId) options.log(`using the existing Fastly service "${name}" (${serviceId})`);
  }

  let version: number;
  let domain: string | undefined;
  if (!serviceId) {
    options.log(`creating the Fastly service "${name}"`);
    const created = await api.call<{ id: string; versions?: Version[] }>('POST', '/service', form({ name, type: 'wasm', comment: 'deployed by wfn' /* operate.ts WFN_COMMENT: `wfn ls` lists by it */ }));
    serviceId = created!.id;
    version = created!.versions?.[0]?.number ?? 1;
    domain = flags.domain || defaultDomain(name);
    await api.call('POST', `/service/${serviceId}/version/${version}/domain`, form({ name: domain }));
  } else {
    const versions = (await api.call<Version[]>('GET', `/service/${serviceId}/version`)) ?? [];
    const from = versions.find((v) => v.active) ?? versions.reduce<Version | undefined>((a, v) => (!a || v.number > a.number ? v : a), undefined);
    if (!from) throw new UserError(`The Fastly service ${serviceId} has no versions.`);
    if (from.active) {
      // The same bytes already active: nothing to do.
      const current = await api.call<{ metadata?: { hashsum?: string } }>('GET', `/service/${serviceId}/version/${from.number}/package`, undefined, true);
      const hashsum = createHash('sha512').update(archive).digest('hex');
      // (and every KV store linked already: one created since must be linked on a new version)
      const links = Object.keys(kvStores).length > 0 ? ((await api.call<{ resource_id: string; name: string }[]>('GET', `/service/${serviceId}/version/${from.number}/resource`)) ?? []) : [];
      const linked = Object.entries(kvStores).every(([store, id]) => links.some((l) => l.resource_id === id && l.name === store));
      if (current?.metadata?.hashsum === hashsum && linked) {
        const domains = (await api.call<{ name: string }[]>('GET', `/service/${serviceId}/version/${from.number}/domain`)) ?? [];
        domain = domains[0]?.name;
        return { target: 'fastly', name, version: from.number, unchanged: true, url: domain ? `https://${domain}/` : undefined, details: { serviceId, domain } };
      }
    }
    const cloned = await api.call<Version>('PUT', `/service/${serviceId}/version/${from.number}/clone`);
    version = cloned!.number;
    const domains = ((await api.call<{ name: string }[]>('GET', `/service/${serviceId}/version/${version}/domain`)) ?? []).map((d) => d.name);
    if (flags.domain && !domains.includes(flags.domain)) {
      domain = flags.domain;
      await api.call('POST', `/service/${serviceId}/version/${version}/domain`, form({ name: domain }));
    } else if (domains.length === 0) {
      // A version cannot be activated without a domain.
      domain = defaultDomain(name);
      await api.call('POST', `/service/${serviceId}/version/${version}/domain`, form({ name: domain }));
    } else {
      domain = flags.domain ?? domains[0];
    }
  }

  if (storeId) await linkResource(api, serviceId, version, storeId, store);
  for (const [kvName, kvId] of Object.entries(kvStores)) await linkResource(api, serviceId, version, kvId, kvName);

  const upload = new FormData();
  upload.append('package', new Blob([archive], { type: 'application/gzip' }), path.basename(bundle.archive));
  options.log(`uploading ${path.basename(bundle.archive)} (${archive.length} bytes) to version ${version}`);
  await api.call('PUT', `/service/${serviceId}/version/${version}/package`, upload);
  await api.call('PUT', `/service/${serviceId}/version/${version}/activate`);

  const saved: ServiceState = { serviceId, name, version, domain };
  await writeFile(path.join(bundle.dir, STATE_FILE), JSON.stringify(saved, null, 2) + '\n');
  return { target: 'fastly', name, version, url: domain ? `https://${domain}/` : undefined, details: { serviceId, domain, ...(Object.keys(kvStores).length > 0 ? { kvStores } : {}) } };
}
