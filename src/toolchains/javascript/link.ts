/**
 * Re-linking, part 2: binaryen's wasm-merge links runtime + glue + host into the "engine";
 * everything but `_start` and `memory` is un-exported and wasm-opt removes what nothing uses.
 * The engine does not depend on the user's script (only main does), so it is cached by the
 * hash of its inputs; each build then splices its main module in (splice.ts) and folds the
 * constant expressions so Node 20 (no extended-const) accepts the result.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ToolchainMissingError } from '../../util/errors.js';
import { MERGE_NAMES, type LinkPlan } from './relink.js';
import { spliceMain } from './splice.js';
import { findWasmMerge, findWasmOpt, runTool, supportedFlags, type BinaryenTool } from '../binaryen.js';
import { FIX_NPM } from './tools.js';
import { keepExports } from '../../runtime/wasm-binary.js';
import { foldConstantExpressions } from './const-exprs.js';

/**
 * The features the QuickJS runtime and the glue use, listed one by one: `-all` makes
 * wasm-merge write a compact import encoding that wabt and V8 reject.
 */
const FEATURES = [
  '--enable-mutable-globals',
  '--enable-sign-ext',
  '--enable-bulk-memory',
  '--enable-bulk-memory-opt',
  '--enable-nontrapping-float-to-int',
  '--enable-multivalue',
  '--enable-reference-types',
  '--enable-extended-const',
  '--enable-call-indirect-overlong',
  '--enable-tail-call',
];

export const COMMAND_EXPORTS = ['_start', 'memory'];

/** Bump when the engine's layout or the host module's contract changes (invalidates caches). */
const ENGINE_FORMAT = 'wfn-js-engine-1';

export interface LinkTimings {
  /** wasm-merge + cleanup of the engine; 0 when it came from the cache. */
  engineMs: number;
  engineCached: boolean;
  spliceMs: number;
}

/** Where linked engines are cached: $WFN_CACHE_DIR, else $XDG_CACHE_HOME/wfn, else ~/.cache/wfn. */
export function engineCacheDir(): string {
  const base = process.env.WFN_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'wfn');
  return join(base, 'js-engine');
}

async function requireTool(find: () => Promise<BinaryenTool[]>, name: string): Promise<BinaryenTool> {
  const [tool] = await find();
  if (!tool) throw new ToolchainMissingError(`${name} (binaryen)`, FIX_NPM);
  return tool;
}

async function engineKey(plan: LinkPlan, merge: BinaryenTool, opt: BinaryenTool): Promise<string> {
  const hash = createHash('sha256').update(ENGINE_FORMAT);
  for (const m of plan.modules) hash.update(m.name).update(m.bytes);
  hash.update(plan.hostWat);
  hash.update(`${merge.path}@${merge.release} ${opt.path}@${opt.release}`);
  return hash.digest('hex').slice(0, 32);
}

/** Links runtime + glue + host with wasm-merge and cleans the result up. */
async function linkEngine(plan: LinkPlan, dir: string, merge: BinaryenTool, opt: BinaryenTool): Promise<Uint8Array> {
  await mkdir(dir, { recursive: true });
  const mergeArgs: string[] = [];
  for (const m of plan.modules) {
    await writeFile(join(dir, `${m.name}.wasm`), m.bytes);
    mergeArgs.push(`${m.name}.wasm`, m.name);
  }
  await writeFile(join(dir, 'host.wat'), plan.hostWat);
  mergeArgs.push('host.wat', MERGE_NAMES.host);
  await runTool(merge, [...mergeArgs, '--rename-export-conflicts', ...FEATURES, '-o', 'merged.wasm'], dir);
  const merged = new Uint8Array(await readFile(join(dir, 'merged.wasm')));
  await writeFile(join(dir, 'engine-exports.wasm'), keepExports(merged, COMMAND_EXPORTS));
  const cleanup = async (tool: BinaryenTool) =>
    runTool(tool, ['engine-exports.wasm', ...(await supportedFlags(tool, FEATURES)), '--remove-unused-module-elements', '-o', 'engine.wasm'], dir);
  try {
    await cleanup(opt);
  } catch (error) {
    // An older native wasm-opt may not read what wasm-merge 132 wrote: npm's always does.
    const npm = (await findWasmOpt()).find((t) => !t.native);
    if (!opt.native || !npm) throw error;
    await cleanup(npm);
  }
  return new Uint8Array(await readFile(join(dir, 'engine.wasm')));
}

/**
 * The linked engine for this plan, from the cache when an identical one was linked before.
 * The cache write is atomic (temp file + rename), so concurrent builds never see half a file.
 */
export async function cachedEngine(
  plan: LinkPlan,
  workDir: string,
  options: { ignoreCache?: boolean } = {},
): Promise<{ engine: Uint8Array; cached: boolean; ms: number }> {
  const merge = await requireTool(findWasmMerge, 'wasm-merge');
  const opt = await requireTool(findWasmOpt, 'wasm-opt');
  const cacheDir = engineCacheDir();
  const file = join(cacheDir, `${await engineKey(plan, merge, opt)}.wasm`);
  if (!options.ignoreCache) {
    try {
      return { engine: new Uint8Array(await readFile(file)), cached: true, ms: 0 };
    } catch {
      // not cached yet
    }
  }
  const t0 = performance.now();
  const engine = await linkEngine(plan, join(workDir, 'link'), merge, opt);
  const ms = Math.round(performance.now() - t0);
  try {
    await mkdir(cacheDir, { recursive: true });
    const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(tmp, engine);
    await rename(tmp, file);
  } catch {
    // A read-only cache only costs time.
  }
  return { engine, cached: false, ms };
}

/** The final WASI command module: cached engine + this build's main module. */
export async function linkCommand(plan: LinkPlan, main: Uint8Array, workDir: string): Promise<{ wasm: Uint8Array; timings: LinkTimings }> {
  let { engine, cached, ms } = await cachedEngine(plan, workDir);
  const t0 = performance.now();
  const splice = () => {
    const wasm = foldConstantExpressions(spliceMain(engine, main, plan.mainName));
    if (!WebAssembly.validate(wasm as Uint8Array<ArrayBuffer>)) throw new Error('the spliced module does not validate');
    return wasm;
  };
  let wasm: Uint8Array;
  try {
    wasm = splice();
  } catch (error) {
    // A damaged cache entry must not block builds: link afresh (and replace it) once.
    if (!cached) throw error;
    ({ engine, cached, ms } = await cachedEngine(plan, workDir, { ignoreCache: true }));
    wasm = splice();
  }
  return { wasm, timings: { engineMs: ms, engineCached: cached, spliceMs: Math.round(performance.now() - t0) } };
}
