// Issues 3 and 4: per language build times, sizes, cold start, fib; snapshots on/off; wasm-opt levels.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile, mkdir, rm, cp } from 'node:fs/promises';
import path from 'node:path';
import { fmt, sampleUs, summarize, table, ROOT } from './lib.js';

const LANGS = ['assemblyscript', 'rust', 'go', 'js'];

async function lib(p) {
  return import(path.join(ROOT, 'lib', 'src', p));
}

async function usable(language) {
  const { getToolchain } = await lib('toolchains/index.js');
  const tools = await (await getToolchain(language)).detect();
  return tools.some((t) => t.usable);
}

async function freshProject(language, template, tag) {
  const { scaffoldProject } = await lib('project/scaffold.js');
  const { loadConfig } = await lib('config/load.js');
  const parent = path.join(ROOT, '.wfn', 'bench', 'fresh', `${language}-${template}-${tag}`);
  await rm(parent, { recursive: true, force: true });
  await mkdir(parent, { recursive: true });
  const p = await scaffoldProject(`b-${template}`, language, template, parent);
  return loadConfig(p.dir);
}

const MAIN_FILE = { assemblyscript: 'assembly/index.ts', rust: 'src/main.rs', go: 'main.go', js: 'src/index.js' };

/** One request's run, as wfn dev/serve run it (memory capped, imported and recycled). */
async function request(bytes, query) {
  const { runModule } = await lib('runtime/invoke.js');
  const { buildCgiEnvironment } = await lib('runtime/cgi.js');
  const { compileFunction } = await lib('runtime/node/load.js');
  const loaded = await compileFunction(bytes, 'bench.wasm', { memoryMiB: 128, timeoutMs: 600000, fn: { route: '/', env: {} } });
  const { env, args } = buildCgiEnvironment({ method: 'GET', url: `http://127.0.0.1/?${query}`, headers: [], body: new Uint8Array(0) }, { route: '/', env: {} });
  return (stdin = new Uint8Array(0)) => runModule(loaded.module, { env, args, stdin }, loaded.pooledMemory);
}

export async function benchLanguages() {
  const { buildProject } = await lib('pipeline/build.js');
  const results = {};
  const rows = [['language', 'build cold', 'rebuild (1-line edit)', 'raw', 'O3', 'Oz', 'cold start p50', 'fib(32)', 'fib(40)']];
  for (const language of LANGS) {
    if (!(await usable(language))) {
      rows.push([language, 'toolchain missing (wfn doctor)', '', '', '', '', '', '', '']);
      continue;
    }
    const http = await freshProject(language, 'http', 'lang');
    const t0 = performance.now();
    const built = await buildProject(http, { noSmoke: true });
    const cold = performance.now() - t0;
    const main = path.join(http.dir, MAIN_FILE[language]);
    await writeFile(main, (await readFile(main, 'utf8')) + (language === 'go' || language === 'rust' || language === 'js' || language === 'assemblyscript' ? '\n// edited\n' : ''));
    const t1 = performance.now();
    await buildProject(http, { noSmoke: true });
    const rebuild = performance.now() - t1;
    const oz = await buildProject(http, { noSmoke: true, optimize: 'Oz' });
    const run = await request(await readFile(built.artifact), 'name=bench');
    const coldStart = summarize(await sampleUs(run, { warmup: 20, samples: language === 'go' || language === 'js' ? 100 : 400 }));

    const fibConfig = await freshProject(language, 'fib', 'lang');
    const fibBuilt = await buildProject(fibConfig, { noSmoke: true });
    const fibBytes = await readFile(fibBuilt.artifact);
    const fibTime = async (n, times) => {
      const go = await request(fibBytes, `n=${n}`);
      const samples = [];
      for (let i = 0; i < times; i++) samples.push((await go()).runUs / 1000);
      return summarize(samples).p50;
    };
    const fib32 = await fibTime(32, 5);
    const fib40 = language === 'js' ? NaN : await fibTime(40, 3); // recursive fib(40) in QuickJS takes minutes
    results[language] = { buildColdMs: cold, rebuildMs: rebuild, rawBytes: built.manifest.sizes.raw, o3Bytes: built.size, ozBytes: oz.size, coldStartUs: coldStart, fib32Ms: fib32, fib40Ms: fib40 };
    rows.push([language, fmt.ms(cold), fmt.ms(rebuild), fmt.kb(built.manifest.sizes.raw), fmt.kb(built.size), fmt.kb(oz.size), fmt.us(coldStart.p50), fmt.ms(fib32), Number.isNaN(fib40) ? 'skipped' : fmt.ms(fib40)]);
  }
  table('Languages: build, size, cold start (instantiate + _start, http template), fib (median)', rows);

  // fib(40): wasm (Rust) beside a native build of the same Rust source.
  if (results.rust) {
    const fibConfig = await freshProject('rust', 'fib', 'native');
    const target = path.join(fibConfig.dir, 'native-target');
    try {
      execFileSync('cargo', ['build', '--release', '--offline', '--target-dir', target], { cwd: fibConfig.dir, stdio: 'ignore', env: { ...process.env, RUSTC: process.env.RUSTC_NATIVE ?? 'rustc' } });
      const bin = path.join(target, 'release', 'b-fib');
      const times = [];
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        execFileSync(bin, { env: { QUERY_STRING: 'n=40', REQUEST_METHOD: 'GET', PATH_INFO: '/' } });
        times.push(performance.now() - t0);
      }
      const native = summarize(times).p50;
      results.fib40Native = { nativeMs: native, wasmMs: results.rust.fib40Ms, ratio: results.rust.fib40Ms / native };
      table('fib(40): Rust compiled to wasm (run in V8) beside the same source built natively', [
        ['build', 'time', 'ratio'],
        ['native (cargo --release, host target)', fmt.ms(native), '1.00x'],
        ['wasm32-wasi via wfn (V8)', fmt.ms(results.rust.fib40Ms), fmt.x(results.fib40Native.ratio)],
        ['seed thesis: Wasmtime 1.35x, Node.js 1.42x', '', ''],
      ]);
    } catch (error) {
      console.log(`\n(native Rust build unavailable: ${error.message.split('\n')[0]})`);
    }
  }
  return results;
}

export async function benchSnapshots() {
  const { buildProject } = await lib('pipeline/build.js');
  const results = {};
  const rows = [['init template', 'first response (load+compile+inst+_start)', 'warm per request', 'ratio first / warm', 'size']];
  for (const language of ['assemblyscript', 'rust', 'js']) {
    if (!(await usable(language)) || !existsSync(path.join(ROOT, 'templates', language, 'init'))) continue;
    const config = await freshProject(language, 'init', 'snap');
    const measure = async (snapshot) => {
      const built = await buildProject(config, { noSmoke: true, snapshot, force: true });
      const bytes = await readFile(built.artifact);
      // First response: load (validate, cap, compile) + instantiate + _start, as a fresh server does.
      const firsts = [];
      for (let i = 0; i < 5; i++) {
        const unique = new Uint8Array(bytes.length + 12);
        unique.set(bytes);
        unique.set([0, 10, 5, 0x62, 0x65, 0x6e, 0x63, 0x68, i, 0, 0, 0], bytes.length); // a custom section: defeats V8's compile cache
        const t0 = performance.now();
        await (await request(unique, 'n=97'))();
        firsts.push(performance.now() - t0);
      }
      const warm = summarize(await sampleUs(await request(bytes, 'n=97'), { warmup: 3, samples: 20 }));
      return { firstMs: summarize(firsts).p50, warmMs: warm.p50 / 1000, size: bytes.length };
    };
    const on = await measure(true);
    const off = await measure(false);
    results[language] = { snapshot: on, noSnapshot: off, firstRatio: off.firstMs / on.firstMs, warmRatio: off.warmMs / on.warmMs, sizeGrowth: on.size / off.size };
    rows.push([`${language} without snapshot`, fmt.ms(off.firstMs), fmt.ms(off.warmMs), '', fmt.kb(off.size)]);
    rows.push([`${language} with snapshot`, fmt.ms(on.firstMs), fmt.ms(on.warmMs), '', fmt.kb(on.size)]);
    rows.push([`${language} speed-up (goal >= 10x; seed: 1.35x-6x, 14x UA parsing)`, fmt.x(off.firstMs / on.firstMs), fmt.x(off.warmMs / on.warmMs), '', `${fmt.x(on.size / off.size)} size`]);
  }
  table('Snapshots (Wizer): init templates, ?n=97, medians', rows);
  return results;
}
