/**
 * The Fastly Compute target: the function merged with a small WAT adapter that puts the
 * contract (WASI preview1 + CGI) on Fastly's hostcalls, packaged as `fastly compute pack`
 * does, emulated locally from the hostcall definitions, deployed through the Fastly API.
 * docs/targets/fastly.md tells the whole story.
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { projectKvDir } from '../../src/runtime/node/kv-sqlite.js';
import type { Bundle, DeployOptions, EmulateOptions, TargetAdapter } from '../../src/target/types.js';
import { deployToFastly } from './deploy.js';
import { missingSecretsMessage, secretValues } from '../../src/config/secrets.js';
import { secretStoreName } from './adapter-module.js';
import { startFastlyEmulator } from './emulator/server.js';
import { isFastlyModule, packageForFastly } from './package.js';
import { operations } from './operate.js';

/** Where `wfn dev --target fastly` keeps the KV stores: apart from `wfn dev`'s, as Fastly's are apart. */
export function emulatorKvDir(bundle: Bundle): string {
  const { projectDir, name } = bundle.artifact;
  return projectDir ? path.join(projectKvDir(projectDir), 'fastly') : path.join(os.tmpdir(), 'wfn-kv', name, 'fastly');
}

/** The main.wasm inside a Fastly bundle. */
export function mainWasmPath(bundle: Bundle): string {
  return path.join(bundle.dir, bundle.name, 'bin', 'main.wasm');
}

export const adapter: TargetAdapter = {
  name: 'fastly',

  // A program already built for Fastly (it imports fastly_*) is packaged and served as it is.
  acceptsAsIs: (wasm) => isFastlyModule(wasm),

  package: (artifact) => packageForFastly(artifact),

  async emulate(bundle: Bundle, options: EmulateOptions) {
    const wasm = new Uint8Array(await readFile(mainWasmPath(bundle)));
    // The secret store deploy would fill, filled from this shell's environment.
    const secrets = secretValues(bundle.artifact.secrets, process.env);
    if (secrets.missing.length > 0) options.log(`fastly: ${missingSecretsMessage(secrets.missing)}`);
    const emulator = await startFastlyEmulator(wasm, {
      host: options.host,
      port: options.port,
      log: options.log,
      memoryMiB: bundle.artifact.limits.memoryMiB,
      timeoutMs: bundle.artifact.limits.timeoutMs,
      secretStores: { [secretStoreName(bundle.name)]: secrets.values },
      // Linked under their [kv] names, as deploy links them; files survive restarts.
      kv: bundle.artifact.kv && bundle.artifact.kv.stores.length > 0 ? { dir: emulatorKvDir(bundle), stores: bundle.artifact.kv.stores } : undefined,
    });
    return { url: emulator.url, close: () => emulator.close() };
  },

  deploy: (bundle: Bundle, options: DeployOptions) => deployToFastly(bundle, options),

  // ls, versions, rollback, rm, logs (operate.ts; logs: the instance output stream, log-stream.ts)
  operations,
};
