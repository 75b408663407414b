// Issue 8: the Fastly emulator beside `wfn dev` on the hello template; the adapter's cost in bytes.
import { fmt, load, startChild, table, BIN } from './lib.js';

export async function benchFastly(helloWasm) {
  const { adapter } = await import('../lib/adapters/fastly/index.js');
  const { DEFAULT_LIMITS } = await import('../lib/src/config/types.js');
  const bundle = await adapter.package({ name: 'bench-hello', wasmPath: helloWasm, env: {}, secrets: [], limits: DEFAULT_LIMITS });
  // Both servers as child processes, loaded the same way (autocannon in this process).
  const fastly = await startChild([BIN, 'dev', helloWasm, '--target', 'fastly', '--port', '0'], /Serving on (http:\/\/\S+)/);
  const dev = await startChild([BIN, 'dev', helloWasm, '--port', '0'], /Serving on (http:\/\/\S+)/);
  try {
    await load(fastly.url, { duration: 1 });
    await load(dev.url, { duration: 1 });
    const f = await load(fastly.url, { connections: 10, duration: 5 });
    const d = await load(dev.url, { connections: 10, duration: 5 });
    const details = bundle.details ?? {};
    const result = { emulator: f, dev: d, ratio: f.reqPerSec / d.reqPerSec, functionSize: details.functionSize, mainSize: details.mainSize, adapterSize: details.adapterSize };
    table('Fastly: emulator beside wfn dev, hello template (10 connections, 5 s)', [
      ['server', 'req/s', 'p50', 'p99', 'errors'],
      ['wfn dev --target fastly (merged main.wasm)', fmt.n(f.reqPerSec), fmt.ms(f.p50ms), fmt.ms(f.p99ms), f.errors + f.non2xx],
      ['wfn dev (the function itself)', fmt.n(d.reqPerSec), fmt.ms(d.p50ms), fmt.ms(d.p99ms), d.errors + d.non2xx],
      ['ratio fastly / dev', fmt.x(result.ratio), '', '', ''],
    ]);
    table("Fastly: the adapter's cost in bytes", [
      ['module', 'bytes'],
      ['the function (dist .wasm)', result.functionSize],
      ['main.wasm (function + adapter, merged)', result.mainSize],
      ['difference', result.mainSize - result.functionSize],
    ]);
    return result;
  } finally {
    await fastly.stop();
    await dev.stop();
  }
}
