/**
 * The Fastly Compute target: the function merged with a small WAT adapter that puts the
 * contract (WASI preview1 + CGI) on Fastly's hostcalls, packaged as `fastly compute pack`
 * does, emulated locally from the hostcall definitions, deployed through the Fastly API.
 * docs/targets/fastly.md tells the whole story.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Bundle, DeployOptions, EmulateOptions, TargetAdapter } from '../../src/target/types.js';
import { deployToFastly } from './deploy.js';
import { secretStoreName } from './adapter-module.js';
import { startFastlyEmulator } from './emulator/server.js';
import { isFastlyModule, packageForFastly } from './package.js';

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
    // The secret store deploy would fill, filled from this process's environment.
    const secrets: Record<string, string> = {};
    for (const name of bundle.artifact.secrets) {
      const value = process.env[name];
      if (value === undefined) options.log(`warning: secret ${name} is not set in the environment; the function sees no such variable`);
      else secrets[name] = value;
    }
    const emulator = await startFastlyEmulator(wasm, {
      host: options.host,
      port: options.port,
      log: options.log,
      memoryMiB: bundle.artifact.limits.memoryMiB,
      timeoutMs: bundle.artifact.limits.timeoutMs,
      secretStores: { [secretStoreName(bundle.name)]: secrets },
    });
    return { url: emulator.url, close: () => emulator.close() };
  },

  deploy: (bundle: Bundle, options: DeployOptions) => deployToFastly(bundle, options),
};
