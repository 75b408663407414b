/**
 * Operating what wfn deployed to Fastly (`wfn ls`, `versions`, `rollback`, `rm`, `logs`), through
 * the Fastly API as the Fastly CLI does (`service list`, `service-version list/activate`,
 * `service delete`, `log-tail`):
 *   GET    /service?page=&per_page=                 the services; wfn's carry the comment "deployed by wfn"
 *   GET    /service/search?name=                    the service of a function (deploy names it after the function)
 *   GET    /service/{id}/version                    its versions
 *   GET    /service/{id}/version/{v}/package        the package: its description holds main.wasm's sha256 and size
 *   GET    /service/{id}/version/{v}/domain         the domain (the URL)
 *   PUT    /service/{id}/version/{v}/activate       rollback: activate an earlier version
 *   PUT    /service/{id}/version/{v}/deactivate     rm: deactivate the active version, then
 *   DELETE /service/{id}                            delete the service
 * and the log stream (log-stream.ts). `--service-id` (flags.serviceId) names the service
 * directly, as for deploy. Versions are Fastly's version numbers.
 */
import type { DeployedFunction, DeployedVersion, LogsOptions, OperateOptions, TargetOperations } from '../../src/target/types.js';
import { UserError } from '../../src/util/errors.js';
import { fastlyApiFrom, type FastlyApi } from './deploy.js';
import { enableInstanceOutput, streamInstanceOutput } from './log-stream.js';
import { packageName, readDescription } from './package.js';

/** The comment deploy gives the services it creates: `wfn ls` lists by it. */
export const WFN_COMMENT = 'deployed by wfn';

interface Service {
  id: string;
  name: string;
  type?: string;
  comment?: string;
  version?: number;
  updated_at?: string;
}

interface Version {
  number: number;
  active?: boolean;
  locked?: boolean;
  created_at?: string;
  updated_at?: string;
  comment?: string;
}

const PER_PAGE = 100;
const MAX_PAGES = 50;

const quiet = () => {};

function serviceIdFlag(options: OperateOptions): string | undefined {
  const id = (options.flags as { serviceId?: unknown }).serviceId;
  if (id === undefined || id === '') return undefined;
  if (typeof id !== 'string' || !/^[A-Za-z0-9]{1,64}$/.test(id)) throw new UserError(`--service-id "${String(id)}" is not a Fastly service ID.`, 'A service ID is the alphanumeric ID on the service\'s page in the Fastly console (or in `wfn ls --target fastly`).');
  return id;
}

/** The service of `name`: --service-id, else the service named after the function (as deploy finds it); undefined when there is none. */
async function findService(api: FastlyApi, name: string, options: OperateOptions): Promise<string | undefined> {
  const flagged = serviceIdFlag(options);
  if (flagged) return flagged;
  const found = await api.call<{ id: string }>('GET', `/service/search?${new URLSearchParams({ name: packageName(name) })}`, undefined, true);
  return found?.id;
}

async function requireService(api: FastlyApi, name: string, options: OperateOptions): Promise<string> {
  const id = await findService(api, name, options);
  if (!id) throw new UserError(`There is no Fastly service named "${packageName(name)}".`, 'Check --name (default: wfn.toml\'s name), or pass --service-id; `wfn ls --target fastly` lists the services wfn deployed.');
  return id;
}

async function versionsOf(api: FastlyApi, serviceId: string): Promise<Version[]> {
  const versions = (await api.call<Version[]>('GET', `/service/${encodeURIComponent(serviceId)}/version`)) ?? [];
  return versions.filter((v) => Number.isInteger(v.number)).sort((a, b) => b.number - a.number);
}

async function packageOf(api: FastlyApi, serviceId: string, version: number): Promise<{ size?: number; sha256?: string }> {
  const pkg = await api.call<{ metadata?: { description?: string } }>('GET', `/service/${encodeURIComponent(serviceId)}/version/${version}/package`, undefined, true);
  return readDescription(pkg?.metadata?.description);
}

function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

export const operations: TargetOperations = {
  describe(name: string, options: OperateOptions): string {
    const id = (options.flags as { serviceId?: unknown }).serviceId;
    return typeof id === 'string' && id ? `the Fastly service ${id}` : `the Fastly service "${packageName(name)}"`;
  },

  async list(options: OperateOptions): Promise<DeployedFunction[]> {
    const api = fastlyApiFrom(options.env, quiet);
    const services: Service[] = [];
    for (let page = 1; page <= MAX_PAGES; page++) {
      const got = (await api.call<Service[]>('GET', `/service?page=${page}&per_page=${PER_PAGE}`)) ?? [];
      services.push(...got);
      if (got.length < PER_PAGE) break;
    }
    const out: DeployedFunction[] = [];
    for (const s of services.filter((x) => x.comment === WFN_COMMENT && (x.type === undefined || x.type === 'wasm'))) {
      const live = (await versionsOf(api, s.id)).find((v) => v.active);
      const pkg = live ? await packageOf(api, s.id, live.number) : {};
      const domains = live ? ((await api.call<{ name: string }[]>('GET', `/service/${encodeURIComponent(s.id)}/version/${live.number}/domain`)) ?? []) : [];
      out.push(defined({ name: s.name, version: live ? String(live.number) : '', size: pkg.size, sha256: pkg.sha256, deployedAt: live?.updated_at, url: domains[0] ? `https://${domains[0].name}/` : undefined }));
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  },

  async versions(name: string, options: OperateOptions): Promise<DeployedVersion[]> {
    const api = fastlyApiFrom(options.env, quiet);
    const serviceId = await requireService(api, name, options);
    const out: DeployedVersion[] = [];
    for (const v of await versionsOf(api, serviceId)) {
      const pkg = await packageOf(api, serviceId, v.number);
      out.push(defined({ version: String(v.number), live: v.active === true, size: pkg.size, sha256: pkg.sha256, deployedAt: v.updated_at ?? v.created_at }));
    }
    return out;
  },

  async rollback(name: string, to: string | undefined, options: OperateOptions): Promise<{ from: string; to: string }> {
    const api = fastlyApiFrom(options.env, quiet);
    const serviceId = await requireService(api, name, options);
    const versions = await versionsOf(api, serviceId);
    const live = versions.find((v) => v.active);
    let target: Version | undefined;
    if (to !== undefined) {
      target = versions.find((v) => String(v.number) === to.trim());
      if (!target) throw new UserError(`The Fastly service ${serviceId} has no version ${to}.`, `\`wfn versions --target fastly --name ${name}\` lists them.`);
      if (target === live) throw new UserError(`Version ${target.number} of the Fastly service ${serviceId} is already active.`);
    } else {
      if (!live) throw new UserError(`The Fastly service ${serviceId} has no active version to roll back from.`, 'Pass --to VERSION to activate one.');
      // The version before the live one: the newest earlier version that was activated once
      // (Fastly locks a version when it is activated; drafts a failed deploy left are skipped).
      target = versions.find((v) => v.number < live.number && v.locked);
      if (!target) throw new UserError(`The Fastly service ${serviceId} has no version before ${live.number} that was ever active.`, 'Pass --to VERSION to activate a given one.');
    }
    options.log(`activating version ${target.number} of the Fastly service ${serviceId}`);
    await api.call('PUT', `/service/${encodeURIComponent(serviceId)}/version/${target.number}/activate`);
    return { from: live ? String(live.number) : '', to: String(target.number) };
  },

  async remove(name: string, options: OperateOptions): Promise<{ removed: boolean }> {
    const api = fastlyApiFrom(options.env, quiet);
    const serviceId = await findService(api, name, options);
    if (!serviceId) return { removed: false };
    const versions = await api.call<Version[]>('GET', `/service/${encodeURIComponent(serviceId)}/version`, undefined, true);
    if (!versions) return { removed: false };
    // Fastly refuses to delete a service with an active version.
    for (const v of versions.filter((x) => x.active)) {
      options.log(`deactivating version ${v.number} of the Fastly service ${serviceId}`);
      await api.call('PUT', `/service/${encodeURIComponent(serviceId)}/version/${v.number}/deactivate`);
    }
    options.log(`deleting the Fastly service ${serviceId}`);
    const deleted = await api.call<{ status?: string }>('DELETE', `/service/${encodeURIComponent(serviceId)}`, undefined, true);
    return { removed: deleted !== undefined };
  },

  async logs(name: string, options: LogsOptions): Promise<void> {
    const api = fastlyApiFrom(options.env, quiet);
    const serviceId = await requireService(api, name, options);
    await enableInstanceOutput(api, serviceId, options.log);
    await streamInstanceOutput(api, serviceId, options);
  },
};
