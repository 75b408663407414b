// The fastly column of the conformance table: every example function and contract fixture,
// packaged for Fastly (merged with the adapter) and served by the Fastly emulator, must
// answer as `wfn dev` does.
import path from 'node:path';
import { vi } from 'vitest';
import { adapter } from '../../adapters/fastly/index.js';
import { DEFAULT_LIMITS } from '../../src/config/types.js';
import { DEFAULT_OUTBOUND } from '../../src/runtime/outbound/abi.js';
import { conformanceSuite } from './harness.js';

// Packaging merges every function with the adapter (wasm-merge, ~1.5 s of CPU each when the
// merge cache is cold): more than the harness's default time on a busy machine.
vi.setConfig({ testTimeout: 600_000 });

conformanceSuite('fastly', async (wasmPath, env) => {
  const bundle = await adapter.package({ name: path.basename(wasmPath, '.wasm'), wasmPath, env, secrets: [], limits: DEFAULT_LIMITS, outbound: DEFAULT_OUTBOUND });
  return adapter.emulate(bundle, { host: '127.0.0.1', port: 0, log: () => {} });
});
