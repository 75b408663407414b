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
import { checkContract } from '../../runtime/contract.js';
import { capMemory } from '../../runtime/module.js';
import { FILES_SECTION } from '../../runtime/files.js';
import { definedMemories, keepExports, readCustomSection, readExports, renameExports, WasmFormatError } from '../../runtime/wasm-binary.js';
import { formatBytes } from '../../util/bytes.js';
import { readImports, renameImports } from '../../runtime/wasm-imports.js';
import { KV_MODULE } from '../../runtime/kv/abi.js';
import { DEFAULT_OUTBOUND, OUTBOUND_MODULE, type OutboundSettings } from '../../runtime/outbound/abi.js';
import { LINK_FEATURES, lowerMemories, npmWasmMerge, wasmMerge } from '../../toolchains/wasm-link.js';
import { UserError } from '../../util/errors.js';
import { buildBridge } from './bridge-module.js';
import { PROXY_IMPORTS } from '../component-world.js';
import { BRIDGE_WORLD, HANDLE_EXPORT, WASI_VERSION, witSource } from './wit.js';

/** Bumped when the link steps change: components cached by an older wfn are not reused. */
const LINK_RECIPE = '2 outbound';

/** The function's `_start`, renamed so the bridge's handler can run it. */
const GUEST_START = '__wfn_guest_start';

export interface LinkOptions {
  /** Configured variables, baked into the bridge. */
  env: Record<string, string>;
  /** The memory cap in MiB, written into the core module as on every target. */
  memoryMiB: number;
  /** [outbound] of wfn.toml (used when the function imports wfn_http_v1; none = deny every call). */
  outbound?: OutboundSettings;
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
  const modules = new Set(readImports(fn).map((i) => i.module));
  if (modules.has(KV_MODULE)) problems.push(`key-value (${KV_MODULE}) has no counterpart in the wasi:http/proxy world`);
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
  // The bridge has no filesystem yet: the files of the artifact's wfn.files section would be
  // unreachable, so the package is refused rather than shipped to answer 404 for every file.
  const bundled = readCustomSection(fn, FILES_SECTION);
  if (bundled) {
    throw new UserError(
      `The function bundles files ([files] in wfn.toml, ${formatBytes(bundled.length)}), which a wasi:http/proxy component cannot serve yet: the component bridge has no filesystem (the proxy world has none).`,
      'Deploy it to cloudflare, lambda or self-hosted, or serve the files from elsewhere (docs/targets/component.md).',
    );
  }
  const problems = await linkProblems(fn);
  if (problems.length > 0) {
    throw new UserError(
      `The function cannot be packaged as a component:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      'A function is a WASI preview1 command module: see docs/contract.md.',
    );
  }
  // The function's wfn_http_v1 imports bind to the bridge too (outbound.wat): wasm-merge
  // resolves by module name, so they become wasi_snapshot_preview1."wfn_http_v1.<name>".
  const outbound = readImports(fn).some((i) => i.module === OUTBOUND_MODULE);
  const bridge = await buildBridge(
    { env: options.env, guestHasMaxMemory: definedMemories(fn)[0].maxPages !== undefined, outbound: outbound ? (options.outbound ?? DEFAULT_OUTBOUND) : undefined },
    options.cacheDir,
  );
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
    let renamed = renameExports(fn, { _start: GUEST_START });
    if (outbound) {
      renamed = renameImports(renamed, (imp) => (imp.module === OUTBOUND_MODULE ? { module: 'wasi_snapshot_preview1', name: `${imp.module}.${imp.name}` } : { module: imp.module, name: imp.name }));
    }
    await writeFile(fnFile, renamed);
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
