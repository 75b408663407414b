// Issue 15: what one outbound call costs. Per language, on `wfn dev`: the latency a call adds to a
// request (the proxy template calling the upstream, minus the same function answering without a
// call) beside a direct Node fetch() of the same loopback upstream, p50 and p99, as a ratio in one
// run (goal under 1.5x at p50 for Rust, AS and JS); the same on the Cloudflare (workerd, JSPI) and
// Fastly (the adapter on the emulated hostcalls) emulators, running the packaged function; and
// req/s of the proxy template on `wfn serve`.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fmt, load, percentile, startChild, table, BIN, ROOT } from './lib.js';
import { buildTemplate } from './templates.js';

const LANGUAGES = (process.env.WFN_OUTBOUND_LANGUAGES ?? 'rust,assemblyscript,js,go').split(',');
const SAMPLES = Number(process.env.WFN_OUTBOUND_SAMPLES ?? 600);

async function timeMs(url) {
  const t0 = performance.now();
  const res = await fetch(url);
  await res.arrayBuffer();
  if (res.status >= 500 && !url.includes('baseline')) throw new Error(`${url} answered ${res.status}: is the upstream allowed?`);
  return performance.now() - t0;
}

const stats = (samples) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
};

/**
 * The latency one call adds: the function calling the upstream minus the same function answering
 * without a call, beside a direct fetch of the upstream; sequential, interleaved, so the three
 * series see the same machine noise.
 */
async function extraLatency(upstreamUrl, proxyUrl, baselineUrl) {
  const direct = [];
  const called = [];
  const without = [];
  for (let i = 0; i < SAMPLES + 100; i++) {
    const d = await timeMs(upstreamUrl);
    const p = await timeMs(proxyUrl);
    const b = await timeMs(`${baselineUrl}?baseline`);
    if (i < 100) continue;
    direct.push(d);
    called.push(p);
    without.push(b);
  }
  const d = stats(direct);
  // Paired: each iteration's request with a call minus the same iteration's request without one.
  const extra = stats(called.map((v, i) => v - without[i]));
  return { direct: d, withCall: stats(called), withoutCall: stats(without), extra, ratioP50: extra.p50 / d.p50, ratioP99: extra.p99 / d.p99 };
}

const latencyRow = (name, r) => [name, `${fmt.ms(r.direct.p50)} / ${fmt.ms(r.direct.p99)}`, `${fmt.ms(r.extra.p50)} / ${fmt.ms(r.extra.p99)}`, fmt.x(r.ratioP50), fmt.x(r.ratioP99)];

/** The same measure on the Cloudflare and Fastly emulators, each running the packaged proxy template. */
async function targetLatency(upstreamUrl, outbound) {
  const { DEFAULT_LIMITS } = await import('../lib/src/config/types.js');
  const results = {};
  const rows = [['target, language', 'direct fetch p50 / p99', 'call from the function p50 / p99', 'ratio p50', 'ratio p99']];
  for (const target of ['cloudflare', 'fastly']) {
    const { adapter } = await import(`../lib/adapters/${target}/index.js`);
    for (const language of ['assemblyscript', 'rust', 'js']) {
      const wasmPath = await buildTemplate(language, 'proxy');
      const projectDir = await mkdtemp(path.join(tmpdir(), `wfn-bench-${target}-`));
      const artifact = (name, env) => ({ name, wasmPath, env, secrets: [], limits: DEFAULT_LIMITS, outbound, projectDir: path.join(projectDir, name) });
      const emulate = async (a) => adapter.emulate(await adapter.package(a), { host: '127.0.0.1', port: 0, log: () => {} });
      const proxy = await emulate(artifact('proxy', { UPSTREAM: upstreamUrl }));
      const baseline = await emulate(artifact('baseline', {}));
      try {
        const r = (results[`${target}/${language}`] = await extraLatency(upstreamUrl, proxy.url, baseline.url));
        rows.push(latencyRow(`${target}, ${language}`, r));
      } finally {
        await proxy.close();
        await baseline.close();
      }
    }
  }
  table(`Outbound: one call from the packaged function on the Cloudflare and Fastly emulators beside a direct Node fetch (${SAMPLES} sequential requests)`, rows);
  return results;
}

export async function benchOutbound() {
  const { startDevServer } = await import('../lib/src/project/dev.js');
  const { DEFAULT_OUTBOUND } = await import('../lib/src/runtime/outbound/abi.js');
  const upstream = await startChild([path.join(ROOT, 'bench', 'upstream.js')], /Upstream on (http:\/\/\S+)/);
  const origin = new URL(upstream.url).origin;
  const outbound = { ...DEFAULT_OUTBOUND, allow: [origin] };
  const results = { latency: {}, serve: {} };
  try {
    const rows = [['language', 'direct fetch p50 / p99', 'call from the function p50 / p99', 'ratio p50', 'ratio p99']];
    for (const language of LANGUAGES) {
      const wasmPath = await buildTemplate(language, 'proxy');
      // The same module twice: calling the upstream, and (UPSTREAM unset) answering without a call.
      const proxy = await startDevServer({ host: '127.0.0.1', port: 0, wasmPath, env: { UPSTREAM: upstream.url }, outbound, log: () => {}, progress: () => {} });
      const baseline = await startDevServer({ host: '127.0.0.1', port: 0, wasmPath, env: {}, log: () => {}, progress: () => {} });
      try {
        const r = (results.latency[language] = await extraLatency(upstream.url, proxy.url, baseline.url));
        rows.push(latencyRow(language, r));
      } finally {
        await proxy.close();
        await baseline.close();
      }
    }
    table(`Outbound: one call from a function on wfn dev beside a direct Node fetch (loopback upstream, ${SAMPLES} sequential requests; goal p50 ratio < 1.5x)`, rows);
    results.targets = await targetLatency(upstream.url, outbound);

    // req/s of the proxy template on `wfn serve` (a child process), beside the upstream alone.
    const dataDir = await mkdtemp(path.join(tmpdir(), 'wfn-bench-outbound-'));
    const token = 'bench-token-0123456789abcdef';
    // A function waiting on a call holds its worker: an I/O-bound function wants more workers than cores.
    const workers = Number(process.env.WFN_OUTBOUND_WORKERS ?? 0);
    const serve = await startChild([BIN, 'serve', '--port', '0', '--data-dir', dataDir, ...(workers ? ['--workers', String(workers), '--concurrency', String(workers)] : [])], /(http:\/\/127\.0\.0\.1:\d+)/, { env: { WFN_TOKEN: token } });
    try {
      const serveRows = [['server', 'req/s', 'p50', 'p99', 'errors']];
      const bare = await load(upstream.url, { connections: 10, duration: 5 });
      serveRows.push(['the upstream alone', fmt.n(bare.reqPerSec), fmt.ms(bare.p50ms), fmt.ms(bare.p99ms), bare.errors + bare.non2xx]);
      const deploy = async (name, wasmPath, config) => {
        const form = new FormData();
        form.append('config', new Blob([JSON.stringify(config)], { type: 'application/json' }));
        form.append('wasm', new Blob([await readFile(wasmPath)], { type: 'application/wasm' }));
        const put = await fetch(`${serve.url}/_wfn/functions/${name}`, { method: 'PUT', body: form, headers: { authorization: `Bearer ${token}` } });
        if (!put.ok) throw new Error(`deploy failed: ${put.status} ${await put.text()}`);
        await load(`${serve.url}/${name}/`, { connections: 10, duration: 1 });
        return load(`${serve.url}/${name}/`, { connections: 10, duration: 5 });
      };
      // The same server answering without a call: what the call costs under load.
      const hello = (results.serve.helloWithoutCall = await deploy('hello', await buildTemplate('assemblyscript', 'http'), {}));
      serveRows.push(['wfn serve, assemblyscript http template (no call)', fmt.n(hello.reqPerSec), fmt.ms(hello.p50ms), fmt.ms(hello.p99ms), hello.errors + hello.non2xx]);
      for (const language of ['rust', 'assemblyscript', 'js']) {
        const r = (results.serve[language] = await deploy(`proxy-${language}`, await buildTemplate(language, 'proxy'), { env: { UPSTREAM: upstream.url }, outbound }));
        serveRows.push([`wfn serve, ${language} proxy template`, fmt.n(r.reqPerSec), fmt.ms(r.p50ms), fmt.ms(r.p99ms), r.errors + r.non2xx]);
      }
      table(`Outbound: proxy template on wfn serve${workers ? ` --workers ${workers} --concurrency ${workers}` : ''} (autocannon, 10 connections, 5 s)`, serveRows);
    } finally {
      await serve.stop();
    }
  } finally {
    await upstream.stop();
  }
  return results;
}
