// The lambda column: each function packaged into the Lambda zip and served by
// `wfn dev --target lambda` (the local Function URL gateway running that zip).
import { adapter } from '../../adapters/lambda/index.js';
import { artifactFrom } from '../../src/project/artifact.js';
import { conformanceSuite } from './harness.js';

conformanceSuite('lambda', async (wasmPath, env) => {
  const artifact = await artifactFrom({ kind: 'wasm', path: wasmPath }, { env });
  const bundle = await adapter.package(artifact);
  return adapter.emulate(bundle, { host: '127.0.0.1', port: 0, log: () => {} });
});
