/**
 * Linking a function with a small WAT module of wfn's own (an adapter or a bridge) into one
 * core module: wasm-merge binds the function's imports to the other module's exports, then
 * multi-memory lowering folds the second module's memory into the function's, above it, so
 * the function never sees those pages. The Fastly adapter and the component bridge both link
 * this way (docs/targets/fastly.md, "How the adapter works"; docs/targets/component.md).
 */
import { findWasmMerge, type BinaryenTool } from './binaryen.js';
import { UserError } from '../util/errors.js';
import { execChecked } from '../util/exec.js';

/**
 * The features binaryen may read and write. Not `-all`: that also turns on encodings
 * engines do not read yet (binaryen 132 then writes a "compact" import section).
 */
export const LINK_FEATURES = [
  '--enable-multimemory', '--enable-bulk-memory', '--enable-bulk-memory-opt', '--enable-sign-ext',
  '--enable-mutable-globals', '--enable-nontrapping-float-to-int', '--enable-simd', '--enable-multivalue',
  '--enable-reference-types', '--enable-call-indirect-overlong', '--enable-tail-call', '--enable-extended-const',
  '--enable-exception-handling', '--enable-threads',
];

/** npm binaryen's wasm-merge (version-pinned, unlike a native one on PATH; binaryen.js has no merge API). */
export async function npmWasmMerge(): Promise<BinaryenTool> {
  const tool = (await findWasmMerge()).find((t) => !t.native);
  if (!tool) throw new UserError('npm binaryen\'s wasm-merge is missing.', 'Reinstall wfn (npm binaryen ships it).');
  return tool;
}

export async function wasmMerge(args: string[]): Promise<void> {
  const tool = await npmWasmMerge();
  await execChecked(tool.command, [...tool.args, ...args], { label: 'wasm-merge' });
}

type Binaryen = typeof import('binaryen').default;
let binaryenJs: Promise<Binaryen> | undefined;

/** binaryen.js's feature bits for LINK_FEATURES. */
function featureBits(b: Binaryen): number {
  const f = b.Features;
  return f.MultiMemory | f.BulkMemory | f.BulkMemoryOpt | f.SignExt | f.MutableGlobals | f.NontrappingFPToInt | f.SIMD128 |
    f.Multivalue | f.ReferenceTypes | f.CallIndirectOverlong | f.TailCall | f.ExtendedConst | f.ExceptionHandling | f.Atomics;
}

/**
 * binaryen's lowered `memory.grow` of the function's memory moves the second memory up by
 * the pages added, but leaves its old bytes where the function's new pages now are: those
 * pages must read as zero (wasm's memory.grow gives zeroed pages; Go's runtime relies on it
 * and crashes otherwise). This replaces it with the same steps plus clearing those bytes.
 * Names as binaryen 132's MultiMemoryLowering makes them (version-pinned; checked).
 */
function zeroFunctionGrowth(b: Binaryen, module: ReturnType<Binaryen['readBinary']>): void {
  if (!module.getFunction('0_grow') || !module.getFunction('0_size') || !module.getGlobal('1_byte_offset')) {
    throw new Error('the lowered module lacks binaryen\'s 0_grow / 0_size / 1_byte_offset (another binaryen version?)');
  }
  const i32 = b.i32;
  const m = module;
  const delta = () => m.local.get(0, i32);
  const bytes = () => m.i32.shl(delta(), m.i32.const(16));
  const offset = () => m.global.get('1_byte_offset', i32);
  // locals: 1 the size to return (pages), 2 the whole memory's pages before, 3 the second memory's bytes
  const moved = () => m.local.get(3, i32);
  const body = m.block(null, [
    m.local.set(1, m.call('0_size', [], i32)),
    m.local.set(2, m.memory.size()),
    m.if(m.i32.eq(m.memory.grow(delta()), m.i32.const(-1)), m.return(m.i32.const(-1))),
    m.local.set(3, m.i32.sub(m.i32.shl(m.local.get(2, i32), m.i32.const(16)), offset())),
    m.memory.copy(m.i32.add(offset(), bytes()), offset(), moved()),
    m.memory.fill(offset(), m.i32.const(0), m.select(m.i32.lt_u(bytes(), moved()), bytes(), moved())),
    m.global.set('1_byte_offset', m.i32.add(offset(), bytes())),
    m.local.get(1, i32),
  ], i32);
  m.removeFunction('0_grow');
  m.addFunction('0_grow', b.createType([i32]), i32, [i32, i32, i32], body);
}

/**
 * --multi-memory-lowering, in-process (binaryen.js loads once per process; a wasm-opt
 * process per function costs as much again): one memory, the function's at address 0.
 */
export async function lowerMemories(merged: Uint8Array): Promise<Uint8Array> {
  binaryenJs ??= import('binaryen').then((m) => m.default);
  const b = await binaryenJs;
  // readBinary's second argument (the features) is missing from binaryen's typings.
  const module = (b.readBinary as (data: Uint8Array, features: number) => ReturnType<Binaryen['readBinary']>)(merged, featureBits(b));
  try {
    module.runPasses(['multi-memory-lowering']);
    zeroFunctionGrowth(b, module);
    if (!module.validate()) throw new Error('the lowered module does not validate');
    return module.emitBinary();
  } finally {
    module.dispose();
  }
}
