// The Cloudflare column: each function packaged exactly as deploy would upload it, run in the
// real workerd behind the emulator's front proxy (what `wfn dev --target cloudflare <wasm>` does:
// artifactFrom -> adapter.package -> adapter.emulate).
import { adapter } from '../../adapters/cloudflare/index.js';
import { artifactFrom } from '../../src/project/artifact.js';
import { conformanceSuite } from './harness.js';

conformanceSuite('cloudflare', async (wasmPath, env) => {
  const bundle = await adapter.package(await artifactFrom({ kind: 'wasm', path: wasmPath }, { env }));
  return adapter.emulate(bundle, { host: '127.0.0.1', port: 0, log: () => {} });
});
