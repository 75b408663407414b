/**
 * The self-hosted target: the function as it is (.wasm + manifest) for `wfn serve`.
 * emulate = a local `wfn serve` with the function deployed; deploy = the admin API's PUT;
 * operations (logs, ls, versions, rollback, rm) = the admin API's other routes.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sameConfig } from '../../src/server/serve/config.js';
import { createServeLog } from '../../src/server/serve/log.js';
import { startServe } from '../../src/server/serve/server.js';
import { FileStore } from '../../src/server/serve/store-file.js';
import { UserError } from '../../src/util/errors.js';
import type { OperateOptions, TargetAdapter, TargetOperations } from '../../src/target/types.js';
import { AdminClient } from './client.js';
import { deployConfig, packageSelfHosted, readBundle, TARGET } from './manifest.js';

/** The admin client for --url (or $WFN_URL) with $WFN_TOKEN. */
function clientFor(options: { env: NodeJS.ProcessEnv; flags: Record<string, unknown> }): AdminClient {
  const url = (options.flags.url as string | undefined) ?? options.env.WFN_URL;
  if (!url) throw new UserError('--target self-hosted needs the server URL.', 'Pass --url http://host:8080 (where wfn serve listens) or set WFN_URL.');
  return new AdminClient({ url, token: options.env.WFN_TOKEN });
}

const operations: TargetOperations = {
  describe(name: string, options: OperateOptions) {
    return `function ${name} on wfn serve at ${clientFor(options).base}`;
  },

  async list(options) {
    const client = clientFor(options);
    return (await client.list()).map((f) => ({ name: f.name, version: String(f.version), size: f.size, sha256: f.sha256, deployedAt: f.deployedAt, url: client.functionUrl(f.name) }));
  },

  async versions(name, options) {
    const client = clientFor(options);
    const info = await client.get(name);
    if (!info) throw new UserError(`There is no function ${name} on ${client.base}.`, `See what is deployed there: wfn ls --target self-hosted --url ${client.base}`);
    return [...info.versions].reverse().map((v) => ({ version: String(v.version), live: v.version === info.current, size: v.size, sha256: v.sha256, deployedAt: v.deployedAt }));
  },

  async rollback(name, to, options) {
    if (to !== undefined && !/^\d+$/.test(to)) throw new UserError(`--to ${to} is not a version of wfn serve (a number: see wfn versions).`);
    const client = clientFor(options);
    if (!(await client.get(name))) throw new UserError(`There is no function ${name} on ${client.base}.`, `See what is deployed there: wfn ls --target self-hosted --url ${client.base}`);
    const moved = await client.rollback(name, to === undefined ? undefined : Number(to));
    return { from: String(moved.from ?? moved.version), to: String(moved.version) };
  },

  async remove(name, options) {
    return { removed: await clientFor(options).remove(name) };
  },

  async logs(name, options) {
    await clientFor(options).logs(name, options);
  },
};

export const adapter: TargetAdapter = {
  operations,

  name: TARGET,

  package: packageSelfHosted,

  async emulate(bundle, options) {
    const { manifest, bytes } = await readBundle(bundle);
    const dataDir = await mkdtemp(path.join(tmpdir(), 'wfn-self-hosted-'));
    const server = await startServe({
      host: options.host,
      port: options.port,
      store: new FileStore(dataDir),
      token: randomBytes(24).toString('hex'), // the function is deployed in-process below; the admin API stays closed
      defaultLimits: manifest.config.limits,
      log: createServeLog('text', { access: options.log, messages: () => {} }),
    });
    try {
      await server.deploy(manifest.name, bytes, deployConfig(manifest, { ...process.env }));
    } catch (error) {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
      throw error;
    }
    return {
      url: `${server.url}/${manifest.name}/`,
      async close() {
        await server.close();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  },

  async deploy(bundle, options) {
    const client = clientFor(options);
    const { manifest, bytes } = await readBundle(bundle);
    const config = deployConfig(manifest, options.env);
    // Same bytes and config already live: nothing to upload. (With secrets the server decides: it
    // never shows their values, so only it can tell whether they changed.)
    const live = manifest.secrets.length === 0 ? await client.get(manifest.name) : undefined;
    if (live && live.sha256 === manifest.sha256 && sameConfig(live.manifest.config, manifest.config)) {
      return { target: TARGET, name: manifest.name, url: client.functionUrl(manifest.name), version: live.current, unchanged: true, details: { sha256: manifest.sha256 } };
    }
    options.log(`uploading ${manifest.size} bytes to ${client.base}`);
    const put = await client.put(manifest.name, bytes, config);
    return { target: TARGET, name: manifest.name, url: client.functionUrl(manifest.name), version: put.version, unchanged: put.unchanged, details: { sha256: put.sha256 } };
  },
};
