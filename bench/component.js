// Issue 17's figures: the component's size over the core module it wraps (bytes and %), and
// the hello template's req/s and p50 under `jco serve` (through `wfn dev --target component`,
// jco's own worker-per-request isolation) beside `wfn dev`, measured in the same run.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fmt, table } from './lib.js';

const { packageComponent } = await import('../lib/adapters/component/package.js');
const { startComponentEmulator } = await import('../lib/src/server/component/emulator.js');
const { startDevServer } = await import('../lib/src/project/dev.js');
const { runLoad } = await import('../lib/src/bench/load.js');
const { DEFAULT_LIMITS } = await import('../lib/src/config/types.js');
const { DEFAULT_OUTBOUND } = await import('../lib/src/runtime/outbound/abi.js');

/**
 * A fixed number of requests (bounded by 120 s): jco serve's worker-per-request isolation
 * answers at the rate it replaces workers, seconds each on a loaded machine, so a short
 * time-boxed run would count only the pool's first answers.
 */
async function measure(url, connections, amount) {
  await runLoad(url, { connections, durationS: 30, amount: connections }); // warm-up
  const r = await runLoad(url, { connections, durationS: 120, amount, timeoutS: 60 });
  return { reqPerSec: r.reqPerSec, p50Ms: r.p50Ms, p99Ms: r.p99Ms, errors: r.errors + r.timeouts + r.non2xx, requests: r.requests };
}

export async function benchComponent(helloWasm, { requests = 40, connections = 4 } = {}) {
  const scratch = await mkdtemp(path.join(tmpdir(), 'wfn-bench-component-'));
  const artifact = { name: 'hello', wasmPath: helloWasm, env: {}, secrets: [], limits: DEFAULT_LIMITS, outbound: DEFAULT_OUTBOUND, projectDir: scratch };
  const bundle = await packageComponent(artifact);
  const d = bundle.details;
  const size = {
    functionBytes: d.functionSize,
    componentBytes: d.componentSize,
    bridgeBytes: d.bridgeSize,
    overheadBytes: d.componentSize - d.functionSize,
    overheadPct: ((d.componentSize - d.functionSize) / d.functionSize) * 100,
  };
  const quiet = () => {};
  const route = '/hello?name=bench';
  const dev = await startDevServer({ host: '127.0.0.1', port: 0, wasmPath: helloWasm, log: quiet, progress: quiet });
  const emulator = await startComponentEmulator(path.join(bundle.dir, bundle.files[0].path), { host: '127.0.0.1', port: 0, log: quiet, timeoutMs: 10_000 });
  let figures;
  try {
    // Alternating, so both see the same machine load.
    const devRuns = [];
    const jcoRuns = [];
    for (let i = 0; i < 2; i++) {
      devRuns.push(await measure(new URL(route, dev.url).href, connections, requests * 10));
      jcoRuns.push(await measure(new URL(route, emulator.url).href, connections, requests));
    }
    const best = (runs) => runs.sort((a, b) => b.reqPerSec - a.reqPerSec)[0];
    figures = { dev: best(devRuns), jcoServe: best(jcoRuns) };
  } finally {
    await emulator.close();
    await dev.close();
  }
  const result = { size, ...figures, ratio: { reqPerSec: figures.jcoServe.reqPerSec / figures.dev.reqPerSec, p50: figures.jcoServe.p50Ms / figures.dev.p50Ms } };
  table('Component (wasi:http/proxy): hello template', [
    ['figure', 'value'],
    ['core module (the function as built)', `${fmt.n(size.functionBytes)} B`],
    ['component', `${fmt.n(size.componentBytes)} B`],
    ['overhead (bridge, canonical-ABI glue, component sections)', `${fmt.n(size.overheadBytes)} B (+${size.overheadPct.toFixed(1)}%)`],
    ['bridge module alone', `${fmt.n(size.bridgeBytes)} B`],
  ]);
  const row = (name, f) => [name, fmt.n(f.reqPerSec), fmt.ms(f.p50Ms), fmt.ms(f.p99Ms), f.errors];
  table(`Component vs wfn dev, same run (${connections} connections; ${requests * 10} requests to wfn dev, ${requests} to jco serve, whose worker per request is the cost; best of 2 alternating)`, [
    ['server', 'req/s', 'p50', 'p99', 'errors'],
    row('wfn dev', figures.dev),
    row('jco serve (wfn dev --target component)', figures.jcoServe),
    ['ratio jco serve / wfn dev', fmt.x(result.ratio.reqPerSec), fmt.x(result.ratio.p50), '', ''],
  ]);
  return result;
}
