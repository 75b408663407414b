// Issue 15: what one outbound call costs. Per language, on `wfn dev`: the latency a call adds to a
// request (the proxy template calling the upstream, minus the same function answering without a
// call) beside a direct Node fetch() of the same loopback upstream, p50 and p99, as a ratio in one
// run (goal under 1.5x at p50 for Rust, AS and JS); and req/s of the proxy template on `wfn serve`.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fmt, load, percentile, startChild, table, BIN, ROOT } from './lib.js';
import { buildTemplate } from './templates.js';

const LANGUAGES = ['rust', 'assemblyscript', 'js', 'go'];
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

export async function benchOutbound() {
  const { startDevServer } = await import('../lib/src/server/dev.js');
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
        const direct = [];
        const called = [];
        const without = [];
        for (let i = 0; i < SAMPLES + 100; i++) {
          // Interleaved, so the three series see the same machine noise.
          const d = await timeMs(upstream.url);
          const p = await timeMs(proxy.url);
          const b = await timeMs(`${baseline.url}?baseline`);
          if (i < 100) continue;
          direct.push(d);
          called.push(p);
          without.push(b);
        }
        const d = stats(direct);
        const p = stats(called);
        const b = stats(without);
        const extra = { p50: p.p50 - b.p50, p99: p.p99 - b.p99 };
        const r = { direct: d, withCall: p, withoutCall: b, extra, ratioP50: extra.p50 / d.p50, ratioP99: extra.p99 / d.p99 };
        results.latency[language] = r;
        rows.push([language, `${fmt.ms(d.p50)} / ${fmt.ms(d.p99)}`, `${fmt.ms(extra.p50)} / ${fmt.ms(extra.p99)}`, fmt.x(r.ratioP50), fmt.x(r.ratioP99)]);
      } finally {
        await proxy.close();
        await baseline.close();
      }
    }
    table(`Outbound: one call from a function on wfn dev beside a direct Node fetch (loopback upstream, ${SAMPLES} sequential requests; goal p50 ratio < 1.5x)`, rows);

    // req/s of the proxy template on `wfn serve` (a child process), beside the upstream alone.
    const dataDir = await mkdtemp(path.join(tmpdir(), 'wfn-bench-outbound-'));
    const token = 'bench-token-0123456789abcdef';
    const serve = await startChild([BIN, 'serve', '--port', '0', '--data-dir', dataDir], /(http:\/\/127\.0\.0\.1:\d+)/, { env: { WFN_TOKEN: token } });
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
      table('Outbound: proxy template on wfn serve (autocannon, 10 connections, 5 s)', serveRows);
    } finally {
      await serve.stop();
    }
  } finally {
    await upstream.stop();
  }
  return results;
}
