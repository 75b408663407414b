// The baseline column: a second, independent `wfn dev` server must agree with the first
// (checks the harness itself and that answers are deterministic).
import { startDevServer } from '../../src/project/dev.js';
import { conformanceSuite } from './harness.js';

conformanceSuite('dev', (wasmPath, env) => startDevServer({ host: '127.0.0.1', port: 0, wasmPath, env, log: () => {}, progress: () => {} }));
