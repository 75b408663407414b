/**
 * The Cloudflare Workers target: an ES-module Worker (shim + runtime bundled by esbuild, the
 * function's .wasm as a module import), emulated in the real workerd, deployed through the
 * Cloudflare API as Wrangler does.
 */
import type { TargetAdapter } from '../../src/target/types.js';
import { deployWorker } from './deploy.js';
import { startCloudflareEmulator } from './emulator.js';
import { packageWorker, TARGET } from './package.js';

export const adapter: TargetAdapter = {
  name: TARGET,
  package: (artifact) => packageWorker(artifact),
  emulate: (bundle, options) => startCloudflareEmulator(bundle, options),
  deploy: (bundle, options) => deployWorker(bundle, options),
};
