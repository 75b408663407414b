// The component column: each function packaged as deploy writes it (the function linked with
// the bridge, wrapped as a wasi:http/proxy component) and served by `jco serve` behind the
// emulator's front proxy (what `wfn dev --target component <wasm>` does).
import { vi } from 'vitest';
import { adapter } from '../../adapters/component/index.js';
import { artifactFrom } from '../../src/project/artifact.js';
import { conformanceSuite, type Answer } from './harness.js';

// Linking (wasm-merge) and jco's transpile take seconds of CPU per function on a busy machine.
vi.setConfig({ testTimeout: 900_000 });

/** jco serve's preview2-shim builds the response headers with Object.fromEntries: a repeated name keeps its first place and its last value. */
function lastValueWins(answer: Answer): Answer {
  const headers: [string, string][] = [];
  for (const [name, value] of answer.headers) {
    const at = headers.findIndex(([n]) => n === name);
    if (at >= 0) headers[at] = [name, value];
    else headers.push([name, value]);
  }
  return { ...answer, headers };
}

conformanceSuite(
  'component',
  async (wasmPath, env) => {
    const bundle = await adapter.package(await artifactFrom({ kind: 'wasm', path: wasmPath }, { env }));
    return adapter.emulate(bundle, { host: '127.0.0.1', port: 0, log: () => {} });
  },
  {
    hostDifferences: [
      {
        label: 'fixture: repeated Set-Cookie GET /',
        why: 'jco serve (preview2-shim 0.26) keeps one value per header name; the component sets both (wasmtime serve and Spin keep both)',
        expect: lastValueWins,
      },
    ],
  },
);
