// Issue 16: the web APIs in JavaScript functions. The http template's module size and
// per-request time (with WFN_BASELINE=<a wfn checkout with lib/ built>, the same figures for
// that checkout beside them: the before/after), the module size of a function using streams +
// crypto.subtle + compression and of one naming every optional API, and SHA-256 of 1 MiB and
// one Ed25519 signature inside a function beside Node's own.
import { cp, mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { webcrypto } from 'node:crypto';
import { fmt, sampleUs, summarize, table, ROOT } from './lib.js';

const lib = (root, p) => import(path.join(root, 'lib', 'src', p));

async function templateFigures(root, tag) {
  const { scaffoldProject } = await lib(root, 'project/scaffold.js');
  const { loadConfig } = await lib(root, 'config/load.js');
  const { buildProject } = await lib(root, 'pipeline/build.js');
  const parent = path.join(ROOT, '.wfn', 'bench', 'js-web', tag);
  await rm(parent, { recursive: true, force: true });
  await mkdir(parent, { recursive: true });
  const project = await scaffoldProject('http', 'js', 'http', parent);
  const built = await buildProject(await loadConfig(project.dir), { noSmoke: true });
  return { bytes: built.size, run: await runner(root, await readFile(built.artifact)) };
}

/** Per-request times of several builds, sampled in turn so that the machine's noise hits them alike. */
async function interleaved(runs, samples) {
  const times = runs.map(() => []);
  for (let i = 0; i < samples + 30; i++) {
    for (const [j, run] of runs.entries()) {
      const t0 = performance.now();
      await run('/?name=bench');
      if (i >= 30) times[j].push((performance.now() - t0) * 1000);
    }
  }
  return times.map((t) => summarize(t));
}

/** A request's run as wfn dev and serve do it (fresh instance, recycled memory). */
async function runner(root, bytes) {
  const { runModule } = await lib(root, 'runtime/invoke.js');
  const { buildCgiEnvironment } = await lib(root, 'runtime/cgi.js');
  const { compileFunction } = await lib(root, 'runtime/node/load.js');
  const loaded = await compileFunction(bytes, 'bench.wasm', { memoryMiB: 256, timeoutMs: 600000, fn: { route: '/', env: {} } });
  return (url) => {
    const { env, args } = buildCgiEnvironment({ method: 'GET', url: `http://127.0.0.1${url}`, headers: [], body: new Uint8Array(0) }, { route: '/', env: {} });
    return runModule(loaded.module, { env, args, stdin: new Uint8Array(0) }, loaded.pooledMemory);
  };
}

async function buildFunction(name) {
  const { loadConfig } = await lib(ROOT, 'config/load.js');
  const { buildProject } = await lib(ROOT, 'pipeline/build.js');
  const dir = path.join(ROOT, '.wfn', 'bench', 'js-web', name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(path.join(dir, 'src'), { recursive: true });
  await cp(path.join(ROOT, 'bench', 'functions', `${name}.js`), path.join(dir, 'src', 'index.js'));
  const { writeFile } = await import('node:fs/promises');
  await writeFile(path.join(dir, 'wfn.toml'), `name = "${name}"\nlanguage = "js"\n`);
  const built = await buildProject(await loadConfig(dir), { noSmoke: true });
  return { bytes: built.size, wasm: await readFile(built.artifact) };
}

/** The function's own timing of the work (ms, median of `n`) and the whole request's. */
async function timed(run, url, n) {
  const inside = [];
  const request = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await run(url);
    request.push(performance.now() - t0);
    const body = new TextDecoder().decode(r.stdout).split('\n\n').slice(1).join('\n\n');
    inside.push(JSON.parse(body).ms);
  }
  return { insideMs: summarize(inside).p50, requestMs: summarize(request).p50 };
}

async function nodeTimes(n) {
  const data = new Uint8Array(1 << 20).fill(7);
  const key = await webcrypto.subtle.importKey('pkcs8', new Uint8Array([48, 46, 2, 1, 0, 48, 5, 6, 3, 43, 101, 112, 4, 34, 4, 32, ...new Array(32).fill(9)]), 'Ed25519', false, ['sign']);
  const sha = summarize(await sampleUs(() => webcrypto.subtle.digest('SHA-256', data), { warmup: 5, samples: n })).p50 / 1000;
  const ed = summarize(await sampleUs(() => webcrypto.subtle.sign('Ed25519', key, new TextEncoder().encode('bench message')), { warmup: 5, samples: n })).p50 / 1000;
  return { sha256Ms: sha, ed25519Ms: ed };
}

export async function benchJsWeb() {
  const current = await templateFigures(ROOT, 'current');
  const baseline = process.env.WFN_BASELINE ? await templateFigures(path.resolve(process.env.WFN_BASELINE), 'baseline') : null;
  const [now, before] = await interleaved(baseline ? [current.run, baseline.run] : [current.run], 400);
  const results = { template: { bytes: current.bytes, p50Us: now.p50, p90Us: now.p90 } };
  if (baseline) results.baseline = { bytes: baseline.bytes, p50Us: before.p50, p90Us: before.p90 };
  const rows = [['build', 'http template module', 'per request p50', 'p90']];
  const row = (name, f) => [name, `${fmt.n(f.bytes)} B`, fmt.us(f.p50Us), fmt.us(f.p90Us)];
  if (results.baseline) rows.push(row(`baseline (${process.env.WFN_BASELINE})`, results.baseline));
  rows.push(row('this checkout', results.template));
  if (results.baseline) {
    rows.push(['change', `${(100 * (results.template.bytes / results.baseline.bytes - 1)).toFixed(1)} %`, `${(100 * (results.template.p50Us / results.baseline.p50Us - 1)).toFixed(1)} %`, '']);
  }
  table('JS web APIs: the http template (goal: module +10% at most, p50 +10% at most)', rows);

  const scc = await buildFunction('streams-crypto-compression');
  const everything = await buildFunction('everything');
  results.sizes = { streamsCryptoCompression: scc.bytes, everything: everything.bytes };
  table('JS web APIs: module sizes', [
    ['function', 'module'],
    ['http template', `${fmt.n(results.template.bytes)} B`],
    ['streams + crypto.subtle + compression', `${fmt.n(scc.bytes)} B`],
    ['every optional web API', `${fmt.n(everything.bytes)} B`],
  ]);

  const run = await runner(ROOT, scc.wasm);
  const sha = await timed(run, '/sha256', 5);
  const ed = await timed(run, '/ed25519', 10);
  const node = await nodeTimes(20);
  results.crypto = { sha256: sha, ed25519: ed, node };
  table('JS web APIs: crypto inside a function (QuickJS, each request a fresh instance) vs Node', [
    ['work', 'in the function', 'whole request', 'Node (webcrypto)', 'ratio'],
    ['SHA-256 of 1 MiB', fmt.ms(sha.insideMs), fmt.ms(sha.requestMs), fmt.ms(node.sha256Ms), fmt.x(sha.insideMs / node.sha256Ms)],
    ['Ed25519 sign', fmt.ms(ed.insideMs), fmt.ms(ed.requestMs), fmt.ms(node.ed25519Ms), fmt.x(ed.insideMs / node.ed25519Ms)],
  ]);
  return results;
}
