// Issue 2's figures: cold start, `wfn dev` throughput vs bare node:http, fib(32) vs plain JS.
import { readFile } from 'node:fs/promises';
import { fmt, load, sampleUs, startChild, summarize, table, BIN, ROOT } from './lib.js';

const EMPTY_MODULE = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);

export async function benchCore({ helloWasm, fibWasm }) {
  const { runModule } = await import('../lib/src/runtime/invoke.js');
  const { buildCgiEnvironment } = await import('../lib/src/runtime/cgi.js');
  const results = {};

  // Cold start: fresh instance + _start of the hello template, beside the floor. "As served" is
  // the module as dev/serve load it (memory imported and recycled, zeroed between requests).
  const { compileFunction } = await import('../lib/src/runtime/node/load.js');
  const bytes = await readFile(helloWasm);
  const served = await compileFunction(bytes, helloWasm, { memoryMiB: 128, timeoutMs: 10000, fn: { route: '/', env: {} } });
  const plain = await WebAssembly.compile(bytes);
  const { env, args } = buildCgiEnvironment({ method: 'GET', url: 'http://127.0.0.1/', headers: [], body: new Uint8Array(0) }, { route: '/', env: {} });
  const io = () => ({ env, args, stdin: new Uint8Array(0) });
  const instUs = (runs) => summarize(runs.map((r) => r.instantiateUs));
  const servedRuns = [];
  const cold = summarize(await sampleUs(async () => servedRuns.push(await runModule(served.module, io(), served.pooledMemory)), { warmup: 200, samples: 2000 }));
  const plainRuns = [];
  const coldPlain = summarize(await sampleUs(async () => plainRuns.push(await runModule(plain, io())), { warmup: 200, samples: 2000 }));
  const empty = await WebAssembly.compile(EMPTY_MODULE);
  const floor = summarize(await sampleUs(() => new WebAssembly.Instance(empty, {}), { warmup: 200, samples: 2000 }));
  results.coldStart = { helloUs: cold, helloNewMemoryUs: coldPlain, instantiateUs: instUs(servedRuns.slice(200)), instantiateNewMemoryUs: instUs(plainRuns.slice(200)), emptyInstanceUs: floor };
  table('Cold start (fresh instance + _start, in-process, 2000 samples)', [
    ['what', 'p50', 'p99', 'instantiate p50'],
    ['hello template (AssemblyScript), as wfn serves it', fmt.us(cold.p50), fmt.us(cold.p99), fmt.us(results.coldStart.instantiateUs.p50)],
    ['same, with a new WebAssembly.Memory per instance', fmt.us(coldPlain.p50), fmt.us(coldPlain.p99), fmt.us(results.coldStart.instantiateNewMemoryUs.p50)],
    ['new WebAssembly.Instance(empty module) — the floor', fmt.us(floor.p50), fmt.us(floor.p99), ''],
  ]);

  // Throughput: wfn dev vs a bare node:http server sending the same bytes, both as child processes.
  const dev = await startChild([BIN, 'dev', helloWasm, '--port', '0'], /Serving on (http:\/\/\S+)/);
  const sample = await fetch(dev.url);
  const answer = Buffer.from(await sample.arrayBuffer());
  const contentType = sample.headers.get('content-type');
  const bareScript = `const http=require('node:http');const body=Buffer.from(${JSON.stringify(answer.toString("base64"))},'base64');http.createServer((q,s)=>{q.resume();q.on('end',()=>{s.writeHead(200,{'content-type':${JSON.stringify(contentType)},'content-length':body.length});s.end(body)})}).listen(0,'127.0.0.1',function(){console.log('listening http://127.0.0.1:'+this.address().port+'/')})`;
  const bare = await startChild(['-e', bareScript], /listening (http:\/\/\S+)/);
  try {
    await load(dev.url, { duration: 1 }); // warm-up
    await load(bare.url, { duration: 1 });
    const devLoad = await load(dev.url, { connections: 10, duration: 5 });
    const bareLoad = await load(bare.url, { connections: 10, duration: 5 });
    results.devThroughput = { dev: devLoad, bare: bareLoad, ratio: devLoad.reqPerSec / bareLoad.reqPerSec };
    table('wfn dev throughput, hello template (autocannon, 10 connections, 5 s)', [
      ['server', 'req/s', 'p50', 'p99', 'errors'],
      ['wfn dev', fmt.n(devLoad.reqPerSec), fmt.ms(devLoad.p50ms), fmt.ms(devLoad.p99ms), devLoad.errors + devLoad.non2xx],
      ['bare node:http, same bytes (ceiling)', fmt.n(bareLoad.reqPerSec), fmt.ms(bareLoad.p50ms), fmt.ms(bareLoad.p99ms), bareLoad.errors + bareLoad.non2xx],
      ['ratio wfn dev / bare (goal >= 0.7)', fmt.x(results.devThroughput.ratio), '', '', ''],
    ]);
  } finally {
    await dev.stop();
    await bare.stop();
  }

  // fib(32): the module's run time vs the same function in plain JavaScript.
  const fib = await WebAssembly.compile(await readFile(fibWasm));
  const fibEnv = buildCgiEnvironment({ method: 'GET', url: 'http://127.0.0.1/?n=32', headers: [], body: new Uint8Array(0) }, { route: '/', env: {} });
  const wasmRuns = [];
  for (let i = 0; i < 7; i++) wasmRuns.push((await runModule(fib, { ...fibEnv, stdin: new Uint8Array(0) })).runUs / 1000);
  const jsFib = (n) => (n < 2 ? n : jsFib(n - 1) + jsFib(n - 2));
  const jsRuns = [];
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    jsFib(32);
    jsRuns.push(performance.now() - t0);
  }
  const w = summarize(wasmRuns).p50;
  const j = summarize(jsRuns).p50;
  results.fib32 = { wasmMs: w, jsMs: j, ratio: w / j };
  table('fib(32), median of 7', [
    ['implementation', 'time'],
    ['AssemblyScript fib template (wasm, _start)', fmt.ms(w)],
    ['plain JavaScript, same algorithm', fmt.ms(j)],
    ['ratio wasm / JS', fmt.x(w / j)],
  ]);
  return results;
}
