/**
 * Links a contract module (WASI preview1 + CGI) with the adapter into one Fastly Compute
 * module: wasm-merge binds the function's preview1 imports to the adapter's exports, then
 * --multi-memory-lowering folds the adapter's own memory into the function's, above it,
 * so the function never sees the adapter's pages (src/toolchains/wasm-link.ts does both;
 * docs/targets/fastly.md, "How the adapter works").
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { checkContract } from '../../src/runtime/contract.js';
import { LINK_FEATURES, lowerMemories, npmWasmMerge, wasmMerge } from '../../src/toolchains/wasm-link.js';
import { definedMemories, keepExports, readExports, renameExports, WasmFormatError } from '../../src/runtime/wasm-binary.js';
import { readImports, renameImports } from '../../src/runtime/wasm-imports.js';
import { UserError } from '../../src/util/errors.js';
import { DEFAULT_OUTBOUND, OUTBOUND_MODULE, type OutboundSettings } from '../../src/runtime/outbound/abi.js';
import { DEFAULT_KV, KV_MODULE, type KvSettings } from '../../src/runtime/kv/abi.js';
import { PREVIEW1_FUNCTIONS } from '../../src/runtime/wasi.js';
import { buildAdapter, type AdapterOptions } from './adapter-module.js';

/** Bumped when the merge steps change: merged modules cached by an older wfn are not reused. */
const MERGE_RECIPE = '2 zeroed growth';

/** The function's `_start`, renamed so the adapter's `_start` can wrap it. */
export const GUEST_START = '__wfn_guest_start';

export interface MergeOptions {
  /** Configured variables, baked into the adapter. */
  env: Record<string, string>;
  /** Secrets, read from this Fastly secret store at run time. */
  secrets?: AdapterOptions['secrets'];
  /** [outbound] of wfn.toml (used when the function imports wfn_http_v1; none = deny every call). */
  outbound?: OutboundSettings;
  /** [kv] of wfn.toml (used when the function imports wfn_kv_v1; none = every open is denied). */
  kv?: KvSettings;
  /** Where compiled adapters and merged modules are cached between runs (default: the temp folder). */
  cacheDir?: string;
}

export interface MergedModule {
  wasm: Uint8Array;
  /** Bytes of the adapter module alone. */
  adapterSize: number;
  /** Bytes of the function as given. */
  functionSize: number;
}

/** Why a module cannot be merged (contract violations, memory shape); empty when it can. */
export async function mergeProblems(fn: Uint8Array): Promise<string[]> {
  let module: WebAssembly.Module;
  try {
    module = await WebAssembly.compile(fn as BufferSource);
  } catch (error) {
    return [`not a valid WebAssembly module: ${(error as Error).message}`];
  }
  const problems = checkContract(module, { bytes: fn });
  const memories = definedMemories(fn);
  if (memories.length !== 1) problems.push(`the module must define exactly one memory (it defines ${memories.length})`);
  else if (memories[0].memory64 || memories[0].shared) problems.push('a 64-bit or shared memory is not supported on Fastly');
  return problems;
}

const PREVIEW1 = new Set<string>(PREVIEW1_FUNCTIONS);

/** Problems of a merged module: imports other than fastly_* / preview1, missing exports. */
export function checkMerged(wasm: Uint8Array): string[] {
  const problems: string[] = [];
  if (!WebAssembly.validate(wasm as BufferSource)) problems.push('the merged module does not validate');
  for (const imp of readImports(wasm)) {
    // (a wasi_snapshot_preview1 import that is not a preview1 function is one the adapter left unresolved)
    if (!imp.module.startsWith('fastly_') && !(imp.module === 'wasi_snapshot_preview1' && PREVIEW1.has(imp.name))) {
      problems.push(`unexpected import ${imp.module}.${imp.name}`);
    }
  }
  const module = new WebAssembly.Module(wasm as BufferSource);
  const exports = WebAssembly.Module.exports(module).map((e) => `${e.name}:${e.kind}`).sort();
  if (exports.join(',') !== '_start:function,memory:memory') problems.push(`exports are ${exports.join(', ')} (expected _start and memory)`);
  if (definedMemories(wasm).length !== 1) problems.push('the merged module must have exactly one memory');
  return problems;
}

export async function mergeFunction(fn: Uint8Array, options: MergeOptions): Promise<MergedModule> {
  const problems = await mergeProblems(fn);
  if (problems.length > 0) {
    throw new UserError(
      `The function cannot be packaged for Fastly:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      'A function is a WASI preview1 command module: see docs/contract.md.',
    );
  }
  // The function's wfn_http_v1 imports bind to the adapter too: wasm-merge resolves by module
  // name, so they become wasi_snapshot_preview1."wfn_http_v1.<name>", which the adapter exports.
  const outbound = readImports(fn).some((i) => i.module === OUTBOUND_MODULE);
  // wfn_kv_v1 likewise: "wfn_kv_v1.<name>" exports of kv.wat.
  const kv = readImports(fn).some((i) => i.module === KV_MODULE);
  const adapter = await buildAdapter(
    {
      env: options.env,
      guestHasMaxMemory: definedMemories(fn)[0].maxPages !== undefined,
      secrets: options.secrets,
      outbound: outbound ? (options.outbound ?? DEFAULT_OUTBOUND) : undefined,
      kv: kv ? (options.kv ?? DEFAULT_KV) : undefined,
    },
    options.cacheDir,
  );
  // The same function and adapter always merge to the same bytes: keep the result.
  const cacheDir = options.cacheDir ?? path.join(os.tmpdir(), 'wfn-fastly-cache');
  const key = createHash('sha256').update(fn).update(adapter).update((await npmWasmMerge()).release).update(MERGE_RECIPE).digest('hex').slice(0, 24);
  const cached = path.join(cacheDir, `merged-${key}.wasm`);
  if (existsSync(cached)) {
    const wasm = new Uint8Array(await readFile(cached));
    if (checkMerged(wasm).length === 0) return { wasm, adapterSize: adapter.length, functionSize: fn.length };
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'wfn-fastly-merge-'));
  try {
    const fnFile = path.join(dir, 'fn.wasm');
    const adapterFile = path.join(dir, 'adapter.wasm');
    const mergedFile = path.join(dir, 'merged.wasm');
    if (!readExports(fn).some((e) => e.name === '_start')) throw new WasmFormatError('the module does not export "_start"');
    let renamed = renameExports(fn, { _start: GUEST_START });
    if (outbound || kv) {
      renamed = renameImports(renamed, (imp) =>
        imp.module === OUTBOUND_MODULE || imp.module === KV_MODULE
          ? { module: 'wasi_snapshot_preview1', name: `${imp.module}.${imp.name}` }
          : { module: imp.module, name: imp.name },
      );
    }
    await writeFile(fnFile, renamed);
    await writeFile(adapterFile, adapter);
    // The function first: its memory becomes memory 0, which the lowering keeps at address 0.
    await wasmMerge([fnFile, 'fn', adapterFile, 'wasi_snapshot_preview1', ...LINK_FEATURES, '-o', mergedFile]);
    let wasm = await lowerMemories(new Uint8Array(await readFile(mergedFile)));
    wasm = renameImports(wasm, (imp) => ({ module: imp.module === 'wasi_real' ? 'wasi_snapshot_preview1' : imp.module, name: imp.name }));
    wasm = keepExports(wasm, ['_start', 'memory']);
    const after = checkMerged(wasm);
    if (after.length > 0) throw new Error(`merging with the Fastly adapter went wrong: ${after.join('; ')}`);
    await mkdir(cacheDir, { recursive: true });
    await writeFile(`${cached}.${process.pid}`, wasm);
    await rename(`${cached}.${process.pid}`, cached);
    return { wasm, adapterSize: adapter.length, functionSize: fn.length };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
