/**
 * Operating what wfn deployed to Cloudflare (`wfn ls`, `versions`, `rollback`, `rm`, `logs`),
 * through the Workers API as Wrangler does:
 *   GET    /accounts/{a}/workers/scripts?tags=wfn:yes             the Workers wfn deployed (deploy tags them "wfn")
 *   GET    /accounts/{a}/workers/scripts/{name}/versions?page&per_page   {items: [...]}, newest first
 *   GET    /accounts/{a}/workers/scripts/{name}/versions/{id}     one version (its annotations)
 *   GET    /accounts/{a}/workers/scripts/{name}/deployments       {deployments: [...]}: the latest says what is live
 *   POST   /accounts/{a}/workers/scripts/{name}/deployments       {strategy: "percentage", versions: [{version_id, percentage: 100}]}: rollback
 *   DELETE /accounts/{a}/workers/scripts/{name}                    rm (404: already gone)
 *   GET    /accounts/{a}/workers/subdomain                        the workers.dev URL
 * A version is named by its id (a UUID, what `wrangler rollback` takes); `--to` also takes its
 * number. The sha256 and size of the uploaded .wasm come from the version's annotations
 * (`workers/tag`, `workers/message`), written by deploy (package.ts).
 */
import type { DeployedFunction, DeployedVersion, LogsOptions, OperateOptions, TargetOperations } from '../../src/target/types.js';
import { UserError } from '../../src/util/errors.js';
import { call, callEnvelope, credentialsFrom, isScriptNotFound, type CloudflareCredentials } from './api.js';
import { checkWorkerName, readAnnotations, WFN_TAG } from './package.js';
import { notFound, tailWorker } from './tail.js';

interface ApiScript {
  id: string;
  tags?: string[] | null;
  created_on?: string;
  modified_on?: string;
}

export interface ApiVersion {
  id: string;
  number?: number;
  metadata?: { created_on?: string; modified_on?: string; source?: string };
  annotations?: Record<string, string | undefined>;
}

export interface ApiDeployment {
  id: string;
  created_on: string;
  versions: { version_id: string; percentage: number }[];
  annotations?: Record<string, string | undefined>;
}

const PER_PAGE = 50;
/** Enough for any Worker's history (Cloudflare keeps the latest 100 versions or so). */
const MAX_PAGES = 20;

const scriptPath = (creds: CloudflareCredentials, name: string) => `/accounts/${encodeURIComponent(creds.accountId)}/workers/scripts/${encodeURIComponent(name)}`;

/** Runs `fn`, turning Cloudflare's 404 for the script into "there is no Worker named ...". */
async function onScript<T>(name: string, creds: CloudflareCredentials, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (isScriptNotFound(error)) throw notFound(name, creds);
    throw error;
  }
}

async function listVersions(creds: CloudflareCredentials, name: string): Promise<ApiVersion[]> {
  const out: ApiVersion[] = [];
  for (let page = 1; page <= MAX_PAGES; page++) {
    const got = await call<{ items?: ApiVersion[] } | null>(creds, `list the versions of the Worker ${name}`, 'GET', `${scriptPath(creds, name)}/versions?page=${page}&per_page=${PER_PAGE}`);
    const items = got?.items ?? [];
    out.push(...items);
    if (items.length < PER_PAGE) break;
  }
  return out;
}

/** The version the latest deployment sends all (or most) traffic to. */
async function liveVersionId(creds: CloudflareCredentials, name: string): Promise<string | undefined> {
  const got = await call<{ deployments?: ApiDeployment[] } | null>(creds, `list the deployments of the Worker ${name}`, 'GET', `${scriptPath(creds, name)}/deployments`);
  const latest = [...(got?.deployments ?? [])].sort((a, b) => b.created_on.localeCompare(a.created_on))[0];
  if (!latest) return undefined;
  return [...latest.versions].sort((a, b) => b.percentage - a.percentage)[0]?.version_id;
}

async function workersDevUrl(name: string, subdomain: Promise<string | undefined>): Promise<string | undefined> {
  const sub = await subdomain;
  return sub ? `https://${name}.${sub}.workers.dev` : undefined;
}

function toVersion(v: ApiVersion, live: string | undefined): DeployedVersion {
  const { sha256, size } = readAnnotations(v.annotations);
  return { version: v.id, live: v.id === live, ...(size !== undefined ? { size } : {}), ...(sha256 ? { sha256 } : {}), ...(v.metadata?.created_on ? { deployedAt: v.metadata.created_on } : {}) };
}

export const operations: TargetOperations = {
  describe(name: string, options: OperateOptions): string {
    const account = options.env.CLOUDFLARE_ACCOUNT_ID?.trim();
    return `the Cloudflare Worker ${name} in account ${account ?? '(CLOUDFLARE_ACCOUNT_ID is not set)'}`;
  },

  async list(options: OperateOptions): Promise<DeployedFunction[]> {
    const creds = credentialsFrom(options.env);
    const account = `/accounts/${encodeURIComponent(creds.accountId)}`;
    const scripts = (await call<ApiScript[] | null>(creds, 'list the Workers', 'GET', `${account}/workers/scripts?tags=${encodeURIComponent(`${WFN_TAG}:yes`)}`)) ?? [];
    // The filter is Cloudflare's; a listing that carries tags is checked again here.
    const ours = scripts.filter((s) => typeof s.id === 'string' && (!Array.isArray(s.tags) || s.tags.includes(WFN_TAG)));
    const subdomain = ours.length > 0
      ? call<{ subdomain?: string } | null>(creds, 'read the workers.dev subdomain', 'GET', `${account}/workers/subdomain`).then((s) => s?.subdomain, () => undefined)
      : Promise.resolve(undefined);
    const out: DeployedFunction[] = [];
    for (const script of ours) {
      const live = await liveVersionId(creds, script.id);
      const version = live ? await call<ApiVersion>(creds, `read version ${live} of the Worker ${script.id}`, 'GET', `${scriptPath(creds, script.id)}/versions/${encodeURIComponent(live)}`) : undefined;
      const { sha256, size } = readAnnotations(version?.annotations);
      const url = await workersDevUrl(script.id, subdomain);
      out.push({
        name: script.id,
        version: live ?? '',
        ...(size !== undefined ? { size } : {}),
        ...(sha256 ? { sha256 } : {}),
        ...((version?.metadata?.created_on ?? script.modified_on) ? { deployedAt: version?.metadata?.created_on ?? script.modified_on } : {}),
        ...(url ? { url } : {}),
      });
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  },

  async versions(name: string, options: OperateOptions): Promise<DeployedVersion[]> {
    checkWorkerName(name);
    const creds = credentialsFrom(options.env);
    return onScript(name, creds, async () => {
      const versions = await listVersions(creds, name);
      const live = await liveVersionId(creds, name);
      return versions.map((v) => toVersion(v, live));
    });
  },

  async rollback(name: string, to: string | undefined, options: OperateOptions): Promise<{ from: string; to: string }> {
    checkWorkerName(name);
    const creds = credentialsFrom(options.env);
    return onScript(name, creds, async () => {
      const versions = await listVersions(creds, name);
      const live = await liveVersionId(creds, name);
      const liveAt = versions.findIndex((v) => v.id === live);
      let target: ApiVersion | undefined;
      if (to !== undefined) {
        target = versions.find((v) => v.id === to || String(v.number) === to);
        if (!target) throw new UserError(`The Worker ${name} has no version ${to}.`, `\`wfn versions --target cloudflare --name ${name}\` lists them.`);
      } else {
        // The version before the live one: the next older in Cloudflare's newest-first list.
        target = liveAt >= 0 ? versions[liveAt + 1] : undefined;
        if (!target) throw new UserError(`The Worker ${name} has no version older than the live one (${live ?? 'none'}) to roll back to.`);
      }
      if (target.id === live) throw new UserError(`Version ${target.id} of the Worker ${name} is already live.`);
      options.log(`deploying version ${target.id} of ${name} to 100% of traffic`);
      await call(creds, `deploy version ${target.id} of the Worker ${name}`, 'POST', `${scriptPath(creds, name)}/deployments`, {
        data: JSON.stringify({ strategy: 'percentage', versions: [{ version_id: target.id, percentage: 100 }], annotations: { 'workers/message': `wfn rollback from ${live ?? 'none'}` } }),
        contentType: 'application/json',
      });
      return { from: live ?? '', to: target.id };
    });
  },

  async remove(name: string, options: OperateOptions): Promise<{ removed: boolean }> {
    checkWorkerName(name);
    const creds = credentialsFrom(options.env);
    try {
      await callEnvelope(creds, `delete the Worker ${name}`, 'DELETE', scriptPath(creds, name));
      return { removed: true };
    } catch (error) {
      if (isScriptNotFound(error)) return { removed: false };
      throw error;
    }
  },

  logs(name: string, options: LogsOptions): Promise<void> {
    checkWorkerName(name);
    return tailWorker(name, options);
  },
};
