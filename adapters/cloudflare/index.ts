/**
 * The Cloudflare Workers target: an ES-module Worker (shim + runtime bundled by esbuild, the
 * function's .wasm as a module import), emulated in the real workerd, deployed through the
 * Cloudflare API as Wrangler does.
 */
import os from 'node:os';
import path from 'node:path';
import type { Bundle, TargetAdapter } from '../../src/target/types.js';
import { openSqliteStore, projectKvDir } from '../../src/runtime/node/kv-sqlite.js';
import { deployWorker } from './deploy.js';
import { startCloudflareEmulator } from './emulator.js';
import { operations } from './operate.js';
import { packageWorker, TARGET } from './package.js';

/** Where `wfn dev --target cloudflare` keeps the KV namespaces: apart from `wfn dev`'s (as Wrangler's local state is). */
export function emulatorKvDir(bundle: Bundle): string {
  const { projectDir, name } = bundle.artifact;
  return projectDir ? path.join(projectKvDir(projectDir), TARGET) : path.join(os.tmpdir(), 'wfn-kv', name, TARGET);
}

export const adapter: TargetAdapter = {
  name: TARGET,
  package: (artifact) => packageWorker(artifact),
  // Each KV binding is served from a SQLite file (values survive a restart of `wfn dev`).
  emulate: (bundle, options) => startCloudflareEmulator(bundle, { ...options, kvStore: (name) => openSqliteStore(emulatorKvDir(bundle), name) }),
  deploy: (bundle, options) => deployWorker(bundle, options),
  // ls, versions, rollback, rm, logs (operate.ts; logs: a Workers Tail, tail.ts)
  operations,
};
