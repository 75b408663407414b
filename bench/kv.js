// Issue 20: what a key-value operation costs a function. Per language, on `wfn dev` (the project's
// SQLite file) and `wfn serve` (the function's SQLite file in the data dir, fsync per write): the
// latency a get and a set add to a request (the kv template's GET/PUT of a 1 KiB value, minus the
// same function answering a request that does no store operation) beside the same operation made
// directly from Node on the same store file, p50 and p99, as ratios, measured interleaved in one run.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fmt, percentile, table } from './lib.js';
import { buildTemplate } from './templates.js';

const LANGUAGES = (process.env.WFN_KV_LANGUAGES ?? 'rust,js').split(',');
const SAMPLES = Number(process.env.WFN_KV_SAMPLES ?? 300);
const WARMUP = 50;
const VALUE = new Uint8Array(1024).map((_, i) => i & 0xff);

async function timeMs(url, init) {
  const t0 = performance.now();
  const res = await fetch(url, init);
  await res.arrayBuffer();
  if (res.status >= 500) throw new Error(`${url} answered ${res.status}`);
  return performance.now() - t0;
}

function timeDirect(run) {
  const t0 = performance.now();
  run();
  return performance.now() - t0;
}

const stats = (samples) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
};

/**
 * Interleaved series: a request that gets, one that sets, two that touch no store (405, without
 * and with the 1 KiB body), and
 * the same get and set made directly on `store` (the same SQLite file, from this process).
 */
async function measure(base, store) {
  const series = { get: [], set: [], none: [], noneWithBody: [], directGet: [], directSet: [] };
  await timeMs(`${base}bench`, { method: 'PUT', body: VALUE });
  for (let i = 0; i < SAMPLES + WARMUP; i++) {
    const get = await timeMs(`${base}bench`);
    const set = await timeMs(`${base}bench`, { method: 'PUT', body: VALUE });
    // The template answers POST with 405 without a store operation: the same request shape as a get (no body) and a set (1 KiB).
    const none = await timeMs(`${base}bench`, { method: 'POST' });
    const noneWithBody = await timeMs(`${base}bench`, { method: 'POST', body: VALUE });
    const directGet = timeDirect(() => store.get('bench'));
    const directSet = timeDirect(() => store.set('bench', VALUE, 0));
    if (i < WARMUP) continue;
    series.get.push(get);
    series.set.push(set);
    series.none.push(none);
    series.noneWithBody.push(noneWithBody);
    series.directGet.push(directGet);
    series.directSet.push(directSet);
  }
  // Paired: each iteration's request with the operation minus the same iteration's request without one.
  const extraGet = stats(series.get.map((v, i) => v - series.none[i]));
  const extraSet = stats(series.set.map((v, i) => v - series.noneWithBody[i]));
  const directGet = stats(series.directGet);
  const directSet = stats(series.directSet);
  return {
    request: { get: stats(series.get), set: stats(series.set), none: stats(series.none) },
    extraGet,
    extraSet,
    directGet,
    directSet,
    ratioGetP50: extraGet.p50 / directGet.p50,
    ratioSetP50: extraSet.p50 / directSet.p50,
  };
}

const row = (name, r) => [
  name,
  `${fmt.ms(r.extraGet.p50)} / ${fmt.ms(r.directGet.p50)}`,
  fmt.x(r.ratioGetP50),
  `${fmt.ms(r.extraSet.p50)} / ${fmt.ms(r.directSet.p50)}`,
  fmt.x(r.ratioSetP50),
  `${fmt.ms(r.request.get.p50)} / ${fmt.ms(r.request.none.p50)}`,
];

export async function benchKv() {
  const { startDevServer } = await import('../lib/src/project/dev.js');
  const { startServe } = await import('../lib/src/server/serve/server.js');
  const { FileStore } = await import('../lib/src/server/serve/store-file.js');
  const { createServeLog } = await import('../lib/src/server/serve/log.js');
  const { SqliteKvStore } = await import('../lib/src/runtime/node/kv-sqlite.js');
  const results = {};
  const rows = [['host, language', 'get: from the function / direct p50', 'ratio', 'set: from the function / direct p50', 'ratio', 'request with get / without p50']];
  for (const language of LANGUAGES) {
    const wasmPath = await buildTemplate(language, 'kv');
    const projectDir = path.dirname(path.dirname(wasmPath));

    const dev = await startDevServer({ host: '127.0.0.1', port: 0, projectDir, watch: false, log: () => {}, progress: () => {} });
    const devStore = new SqliteKvStore(path.join(projectDir, '.wfn', 'kv', 'default.sqlite'));
    try {
      rows.push(row(`wfn dev, ${language}`, (results[`dev/${language}`] = await measure(dev.url, devStore))));
    } finally {
      devStore.close();
      await dev.close();
    }

    const dataDir = await mkdtemp(path.join(tmpdir(), 'wfn-bench-kv-'));
    const serve = await startServe({
      host: '127.0.0.1',
      port: 0,
      store: new FileStore(dataDir),
      defaultLimits: { memoryMiB: 128, timeoutMs: 10_000 },
      log: createServeLog('text', { access: () => {}, messages: () => {} }),
    });
    try {
      await serve.deploy('kv', new Uint8Array(await readFile(wasmPath)), { kv: { stores: ['default'] } });
      // The same file the server's workers use, with the same fsync per write.
      const serveStore = new SqliteKvStore(path.join(dataDir, 'kv', 'kv', 'default.sqlite'), { durable: true });
      try {
        rows.push(row(`wfn serve, ${language}`, (results[`serve/${language}`] = await measure(`${serve.url}/kv/`, serveStore))));
      } finally {
        serveStore.close();
      }
    } finally {
      await serve.close();
    }
  }
  table(`Key-value: a get and a set of 1 KiB from the function (request with it minus request without) beside the same operation directly from Node on the same SQLite file (${SAMPLES} sequential requests)`, rows);
  return results;
}
