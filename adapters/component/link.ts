/**
 * Turns a contract module (WASI preview1 + CGI) into a wasi:http/proxy component: the
 * function is linked with the bridge (bridge.wat) by wasm-merge and multi-memory lowering
 * (src/toolchains/wasm-link.ts, as the Fastly adapter is linked), the bridge answers every
 * preview1 import, the WIT of the proxy world is embedded and wasm-tools' `component new`
 * (jco's build of it) wraps the core module into the component.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { checkContract } from '../../src/runtime/contract.js';
import { capMemory } from '../../src/runtime/module.js';
import { definedMemories, keepExports, readExports, renameExports, WasmFormatError } from '../../src/runtime/wasm-binary.js';
import { readImports } from '../../src/runtime/wasm-imports.js';
import { LINK_FEATURES, lowerMemories, npmWasmMerge, wasmMerge } from '../../src/toolchains/wasm-link.js';
import { UserError } from '../../src/util/errors.js';
import { buildBridge } from './bridge-module.js';
import { PROXY_IMPORTS } from '../../src/pipeline/component-world.js';
import { BRIDGE_WORLD, HANDLE_EXPORT, WASI_VERSION, witSource } from './wit.js';

/** Bumped when the link steps change: components cached by an older wfn are not reused. */
const LINK_RECIPE = '1';

/** The function's `_start`, renamed so the bridge's handler can run it. */
const GUEST_START = '__wfn_guest_start';

export interface LinkOptions {
  /** Configured variables, baked into the bridge. */
  env: Record<string, string>;
  /** The memory cap in MiB, written into the core module as on every target. */
  memoryMiB: number;
  /** Where bridges and components are cached between runs (default: the temp folder). */
  cacheDir?: string;
}

export interface LinkedComponent {
  component: Uint8Array;
  /** The core module inside it (function + bridge, one memory). */
  core: Uint8Array;
  /** Bytes of the bridge module alone. */
  bridgeSize: number;
}

/** Why a module cannot become a component (contract violations, memory shape); empty when it can. */
export async function linkProblems(fn: Uint8Array): Promise<string[]> {
  let module: WebAssembly.Module;
  try {
    module = await WebAssembly.compile(fn as BufferSource);
  } catch (error) {
    return [`not a valid WebAssembly module: ${(error as Error).message}`];
  }
  const problems = checkContract(module, { bytes: fn });
  const memories = definedMemories(fn);
  if (memories.length !== 1) problems.push(`the module must define exactly one memory (it defines ${memories.length})`);
  else if (memories[0].memory64 || memories[0].shared) problems.push('a 64-bit or shared memory is not supported in a component');
  if (readImports(fn).some((i) => i.module === 'wfn_http_v1')) {
    problems.push('outbound HTTP (wfn_http_v1) is not mapped onto wasi:http/outgoing-handler yet');
  }
  return problems;
}

/** Problems of the linked core module: an import outside the proxy world, wrong exports. */
export function checkLinked(core: Uint8Array): string[] {
  const problems: string[] = [];
  if (!WebAssembly.validate(core as BufferSource)) problems.push('the linked module does not validate');
  for (const imp of readImports(core)) {
    if (!imp.module.endsWith(`@${WASI_VERSION}`) || !PROXY_IMPORTS.has(imp.module.slice(0, -WASI_VERSION.length - 1))) problems.push(`import ${imp.module}.${imp.name} is outside the wasi:http/proxy world`);
  }
  const exports = readExports(core).map((e) => e.name).sort();
  const want = ['cabi_realloc', 'memory', HANDLE_EXPORT].sort();
  if (exports.join(',') !== want.join(',')) problems.push(`exports are ${exports.join(', ')} (expected ${want.join(', ')})`);
  if (definedMemories(core).length !== 1) problems.push('the linked module must have exactly one memory');
  return problems;
}

type Jco = typeof import('@bytecodealliance/jco');
let jco: Promise<Jco> | undefined;

/** wasm-tools (jco's build): embed the proxy world's WIT, then `component new`. */
async function componentize(core: Uint8Array): Promise<Uint8Array> {
  jco ??= import('@bytecodealliance/jco');
  const { componentEmbed, componentNew } = await jco;
  const embedded = await componentEmbed({ binary: core, witSource: witSource(), world: BRIDGE_WORLD });
  return componentNew(embedded, []);
}

export async function linkComponent(fn: Uint8Array, options: LinkOptions): Promise<LinkedComponent> {
  const problems = await linkProblems(fn);
  if (problems.length > 0) {
    throw new UserError(
      `The function cannot be packaged as a component:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      'A function is a WASI preview1 command module: see docs/contract.md.',
    );
  }
  const bridge = await buildBridge({ env: options.env, guestHasMaxMemory: definedMemories(fn)[0].maxPages !== undefined }, options.cacheDir);
  const cacheDir = options.cacheDir ?? path.join(os.tmpdir(), 'wfn-component-cache');
  const key = createHash('sha256').update(fn).update(bridge).update((await npmWasmMerge()).release).update(LINK_RECIPE)
    .update(String(options.memoryMiB)).update(witSource()).digest('hex').slice(0, 24);
  const cachedCore = path.join(cacheDir, `core-${key}.wasm`);
  const cachedComponent = path.join(cacheDir, `component-${key}.wasm`);
  if (existsSync(cachedCore) && existsSync(cachedComponent)) {
    const core = new Uint8Array(await readFile(cachedCore));
    if (checkLinked(core).length === 0) return { component: new Uint8Array(await readFile(cachedComponent)), core, bridgeSize: bridge.length };
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'wfn-component-link-'));
  try {
    if (!readExports(fn).some((e) => e.name === '_start')) throw new WasmFormatError('the module does not export "_start"');
    const fnFile = path.join(dir, 'fn.wasm');
    const bridgeFile = path.join(dir, 'bridge.wasm');
    const mergedFile = path.join(dir, 'merged.wasm');
    await writeFile(fnFile, renameExports(fn, { _start: GUEST_START }));
    await writeFile(bridgeFile, bridge);
    // The function first: its memory becomes memory 0, which the lowering keeps at address 0.
    await wasmMerge([fnFile, 'fn', bridgeFile, 'wasi_snapshot_preview1', ...LINK_FEATURES, '-o', mergedFile]);
    let core = await lowerMemories(new Uint8Array(await readFile(mergedFile)));
    core = keepExports(core, ['memory', 'cabi_realloc', HANDLE_EXPORT]);
    // The memory cap, written into the module as on every target: memory.grow past it fails.
    core = capMemory(core, options.memoryMiB);
    const after = checkLinked(core);
    if (after.length > 0) throw new Error(`linking the function with the component bridge went wrong: ${after.join('; ')}`);
    const component = await componentize(core);
    await mkdir(cacheDir, { recursive: true });
    for (const [file, bytes] of [[cachedCore, core], [cachedComponent, component]] as const) {
      await writeFile(`${file}.${process.pid}`, bytes);
      await rename(`${file}.${process.pid}`, file);
    }
    return { component, core, bridgeSize: bridge.length };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
