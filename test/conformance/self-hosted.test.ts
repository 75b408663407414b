// The self-hosted column of the conformance table: every example function and contract fixture,
// packaged as `wfn deploy --target self-hosted` would upload it and served by `wfn serve` at
// /<name>/, answers exactly as `wfn dev` does.
import { adapter } from '../../adapters/self-hosted/index.js';
import { artifactFrom } from '../../src/project/artifact.js';
import { conformanceSuite } from './harness.js';

conformanceSuite('self-hosted', async (wasmPath, env) => {
  const bundle = await adapter.package(await artifactFrom({ kind: 'wasm', path: wasmPath }, { env }));
  return adapter.emulate(bundle, { host: '127.0.0.1', port: 0, log: () => {} });
});
