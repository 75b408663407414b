// Issue 18: per-request cost per language (hello, http template), in-process, side by side:
// wfn dev's invoke path (CGI environment, fresh instance, _start, CGI response), the same run in
// Wasmtime's terms (instantiate + _start), an empty `new WebAssembly.Instance` of the same module
// (the in-process reference), and wasmtime-py on the same file (the independent reference).
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { fmt, summarize, table, ROOT } from './lib.js';

const run = promisify(execFile);
const lib = (p) => import(path.join(ROOT, 'lib', 'src', p));

const FN = { route: '/', env: {} };
const REQUEST = { method: 'GET', url: 'http://127.0.0.1/?name=bench', headers: [['host', '127.0.0.1'], ['user-agent', 'bench'], ['accept', '*/*']], body: new Uint8Array(0) };

/** An instance of the module with every import a no-op and nothing run: what V8 alone costs. */
function emptyInstance(module) {
  const imports = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    imports[imp.module] ??= {};
    if (imp.kind === 'function') imports[imp.module][imp.name] = () => 0;
    else if (imp.kind === 'memory') throw new Error('reference module imports a memory');
  }
  return () => new WebAssembly.Instance(module, imports);
}

async function wasmtimeRef(file, samples) {
  const { buildCgiEnvironment } = await lib('runtime/cgi.js');
  const { env } = buildCgiEnvironment(REQUEST, FN);
  try {
    const { stdout } = await run(process.env.PYTHON ?? 'python3', [path.join(ROOT, 'bench', 'wasmtime-ref.py'), file, String(samples), ...env.map(([k, v]) => `${k}=${v}`)], { maxBuffer: 64 << 20 });
    const out = JSON.parse(stdout);
    if (out.skipped) return { skipped: out.skipped };
    return { instantiate: summarize(out.instantiateUs), total: summarize(out.totalUs) };
  } catch (error) {
    return { skipped: `wasmtime-py failed: ${String(error.message).split('\n')[0]}` };
  }
}

/** Per-request figures of one module; `samples` runs after a warm-up. */
export async function benchInvokeOne(file, { samples = 300 } = {}) {
  const { invokeHttp, tidyMemories } = await lib('runtime/invoke.js');
  const { compileFunction } = await lib('runtime/node/load.js');
  const { capMemory } = await lib('runtime/module.js');
  const bytes = await readFile(file);
  const loaded = await compileFunction(bytes, path.basename(file), { memoryMiB: 128, timeoutMs: 600000, fn: FN });
  const options = { memoryCapBytes: loaded.memoryCapBytes, pooledMemory: loaded.pooledMemory };
  const once = () => invokeHttp(loaded.module, { ...REQUEST }, FN, options);
  const first = await once();
  if (first.outcome !== 'ok' || first.response.status !== 200) throw new Error(`${file}: ${first.outcome} ${first.reason ?? first.response.status}`);
  const warmup = Math.min(50, samples);
  for (let i = 0; i < warmup; i++) await once();
  const total = [];
  const wasmtimeTerms = [];
  const instantiate = [];
  const reset = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    const r = await once();
    const t1 = performance.now();
    // As dev's worker does: the memory is reset once the reply is posted (timed apart).
    tidyMemories?.();
    reset.push((performance.now() - t1) * 1000);
    total.push((t1 - t0) * 1000);
    instantiate.push(r.timings.instantiateUs);
    wasmtimeTerms.push(r.timings.instantiateUs + r.timings.runUs);
  }
  const reference = emptyInstance(await WebAssembly.compile(capMemory(bytes, 128)));
  for (let i = 0; i < warmup; i++) reference();
  const empty = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    reference();
    empty.push((performance.now() - t0) * 1000);
  }
  return {
    bytes: bytes.length,
    dev: summarize(total),
    instantiateStart: summarize(wasmtimeTerms),
    instantiate: summarize(instantiate),
    resetAfterReply: summarize(reset),
    emptyInstance: summarize(empty),
    wasmtime: await wasmtimeRef(file, Math.min(samples, 200)),
  };
}

export async function benchInvoke(files) {
  const results = {};
  const rows = [['language', 'module', 'dev invoke p50 / p99', 'memory reset after reply p50', 'instantiate + _start p50 / p99', 'wasmtime-py inst + _start p50 / p99', 'vs wasmtime', 'empty Instance p50', 'dev / empty']];
  for (const [language, file] of Object.entries(files)) {
    if (!file) {
      rows.push([language, 'toolchain missing', '', '', '', '', '', '', '']);
      continue;
    }
    const r = (results[language] = await benchInvokeOne(file, { samples: language === 'go' || language === 'js' ? 150 : 400 }));
    const w = r.wasmtime.skipped ? r.wasmtime.skipped : `${fmt.us(r.wasmtime.total.p50)} / ${fmt.us(r.wasmtime.total.p99)}`;
    rows.push([
      language,
      fmt.kb(r.bytes),
      `${fmt.us(r.dev.p50)} / ${fmt.us(r.dev.p99)}`,
      fmt.us(r.resetAfterReply.p50),
      `${fmt.us(r.instantiateStart.p50)} / ${fmt.us(r.instantiateStart.p99)}`,
      w,
      r.wasmtime.skipped ? 'n/a' : fmt.x(r.instantiateStart.p50 / r.wasmtime.total.p50),
      fmt.us(r.emptyInstance.p50),
      fmt.x(r.dev.p50 / r.emptyInstance.p50),
    ]);
  }
  table('Per-request cost, hello (http template), in-process; "vs wasmtime" < 1 is faster than Wasmtime', rows);
  return results;
}
