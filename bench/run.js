#!/usr/bin/env node
// `npm run bench`: every figure the issues ask for, measured side by side in one run.
// Machines here are shared and noisy: read medians and ratios, not absolute numbers.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fmt, table, ROOT } from './lib.js';

const only = process.argv.slice(2);
const want = (section) => only.length === 0 || only.includes(section);

const { buildTemplate } = await import('./templates.js');
const results = { startedAt: new Date().toISOString() };

if (want('core')) {
  const { benchCore } = await import('./core.js');
  results.core = await benchCore({ helloWasm: await buildTemplate('assemblyscript', 'http'), fibWasm: await buildTemplate('assemblyscript', 'fib') });
}

if (want('invoke')) {
  // Issue 18: per-request cost per language beside an empty Instance and beside Wasmtime (wasmtime-py).
  const { benchInvoke } = await import('./invoke.js');
  const files = {};
  for (const language of ['assemblyscript', 'rust', 'go', 'js']) {
    files[language] = await buildTemplate(language, 'http').catch((error) => {
      console.log(`${language}: not built (${String(error.message).split('\n')[0]})`);
      return undefined;
    });
  }
  results.invoke = await benchInvoke(files);
}

if (want('serve')) {
  const { benchServe, soakServe } = await import('../lib/src/bench/serve.js');
  const hello = await buildTemplate('assemblyscript', 'http');
  const b = (results.serve = await benchServe(hello, { durationS: 10, connections: 10 }));
  // workerd on the same .wasm (the shipped Worker bundle), same client and load, in this run.
  const { runLoad } = await import('../lib/src/bench/load.js');
  const { startWorkerdTarget } = await import('../lib/adapters/cloudflare/bench.js');
  let workerd;
  try {
    const wd = await startWorkerdTarget(hello);
    try {
      await runLoad(wd.url, { durationS: 2, connections: 10 });
      workerd = results.serveWorkerd = await runLoad(wd.url, { durationS: 10, connections: 10 });
    } finally {
      await wd.close();
    }
  } catch (error) {
    console.log(`workerd: skipped (${String(error.message).split('\n')[0]})`);
  }
  const row = (name, r) => [name, fmt.n(r.reqPerSec), fmt.ms(r.p50Ms), fmt.ms(r.p99Ms), r.errors + r.timeouts + r.non2xx];
  table('wfn serve, hello template (autocannon, 10 connections, 10 s)', [
    ['server', 'req/s', 'p50', 'p99', 'errors'],
    row('wfn serve', b.serve),
    row('bare node:http, same bytes', b.bare),
    ...(workerd ? [row('workerd, the Worker bundle of the same .wasm', workerd), ['ratio serve / workerd (goal >= 1.5)', fmt.x(b.serve.reqPerSec / workerd.reqPerSec), '', '', '']] : []),
    ['worker hand-off per request p50 / p99 (pool round trip - worker time)', `${fmt.us(b.handoffP50Us)} / ${fmt.us(b.handoffP99Us)}`, '', '', ''],
    row("seed design: compile per request (Listing 4.1), V8 default", b.seed),
    row('seed design: compile per request, optimizing up front', b.seedOptimizing),
    ['ratio serve / bare (goals: >= 0.3 issue 18, >= 0.7 the seed)', fmt.x(b.ratioToBare), '', '', ''],
    ['speed-up over the seed design (goal >= 20x)', `${fmt.x(b.speedupOverSeed)} / ${fmt.x(b.speedupOverSeedOptimizing)} optimizing`, '', '', ''],
    ['instantiate per request p50 / p99', `${fmt.us(b.instantiateP50Us)} / ${fmt.us(b.instantiateP99Us)}`, '', '', ''],
  ]);
  const soakSeconds = Number(process.env.WFN_SOAK_SECONDS ?? 60);
  const soak = (results.soak = await soakServe(hello, { durationS: soakSeconds }));
  table(`wfn serve soak (${soakSeconds} s)`, [
    ['figure', 'value'],
    ['requests (errors)', `${fmt.n(soak.requests)} (${soak.errors + soak.non2xx})`],
    ['RSS start -> end', `${soak.rssStartMiB} MiB -> ${soak.rssEndMiB} MiB (${soak.rssGrowthMiB >= 0 ? '+' : ''}${soak.rssGrowthMiB} MiB)`],
  ]);
}

if (want('cloudflare')) {
  const { benchCloudflare } = await import('../lib/adapters/cloudflare/bench.js');
  const cf = (results.cloudflare = await benchCloudflare(await buildTemplate('assemblyscript', 'http'), { path: '/?name=bench' }));
  const dev = results.core?.devThroughput?.dev;
  const row = (name, f) => [name, fmt.n(f.reqPerSec), fmt.ms(f.p50Ms ?? f.p50ms), dev ? fmt.x(f.reqPerSec / dev.reqPerSec) : 'n/a', fmt.x(f.reqPerSec / cf.plainJsWorker.reqPerSec)];
  table('Cloudflare: hello template in workerd (10 connections)', [
    ['server', 'req/s', 'p50', 'vs wfn dev', 'vs plain-JS Worker'],
    row('wasm Worker, direct to workerd', cf.wasmWorker),
    row('wasm Worker via wfn dev --target cloudflare', cf.viaEmulator),
    row('plain-JS Worker, same bytes', cf.plainJsWorker),
  ]);
  table('Cloudflare bundle', [['file', 'bytes'], ['worker.js', cf.bundle.workerJsBytes], ['function .wasm', cf.bundle.wasmBytes], ['total raw', cf.bundle.rawBytes], ['total gzipped', cf.bundle.gzipBytes]]);
}

if (want('lambda')) {
  const { benchLambda } = await import('../lib/adapters/lambda/bench.js');
  const l = (results.lambda = await benchLambda(await buildTemplate('assemblyscript', 'http'), { path: '/hello', query: 'name=wasm' }));
  table('Lambda: handler from the zip, in-process (hello template)', [
    ['figure', 'value'],
    ['zip size', fmt.kb(l.zipBytes)],
    ['cold init (fresh process; median / min)', `${fmt.ms(l.coldInitMs.median)} / ${fmt.ms(l.coldInitMs.min)}`],
    ['first invocation after init', fmt.ms(l.firstInvokeMs)],
    ['warm invocation p50 / p99', `${fmt.us(l.warmInvokeUs.p50)} / ${fmt.us(l.warmInvokeUs.p99)}`],
  ]);
}

if (want('fastly')) {
  const { benchFastly } = await import('./targets.js');
  results.fastly = await benchFastly(await buildTemplate('assemblyscript', 'http'));
}

if (want('component')) {
  const { benchComponent } = await import('./component.js');
  results.component = await benchComponent(await buildTemplate('assemblyscript', 'http'));
}

if (want('languages')) {
  const { benchLanguages } = await import('./languages.js');
  results.languages = await benchLanguages();
}

if (want('outbound')) {
  const { benchOutbound } = await import('./outbound.js');
  results.outbound = await benchOutbound();
}

if (want('kv')) {
  const { benchKv } = await import('./kv.js');
  results.kv = await benchKv();
}

if (want('snapshots')) {
  const { benchSnapshots } = await import('./languages.js');
  results.snapshots = await benchSnapshots();
}

if (want('files')) {
  const { benchFiles } = await import('./files.js');
  results.files = await benchFiles();
}

if (want('jsweb')) {
  const { benchJsWeb } = await import('./js-web.js');
  results.jsWeb = await benchJsWeb();
}

await mkdir(path.join(ROOT, '.wfn', 'bench'), { recursive: true });
const file = path.join(ROOT, '.wfn', 'bench', 'npm-bench-latest.json');
await writeFile(file, JSON.stringify(results, null, 2));
console.log(`\nAll figures: ${path.relative(process.cwd(), file)}`);
