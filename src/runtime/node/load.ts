/** Loading a function's .wasm from disk: validate, check the contract, cap memory, compile. */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { UserError } from '../../util/errors.js';
import { checkContract } from '../contract.js';
import { filesOf, FilesFormatError } from '../files.js';
import { capMemory, importMemory, MemoryCapError, takeDataImage } from '../module.js';
import { WasmFormatError } from '../wasm-binary.js';
import type { FunctionContext } from '../types.js';
import type { OutboundSettings } from '../outbound/abi.js';
import type { KvHosting, LoadedFunction } from './pool.js';

export interface LoadOptions {
  memoryMiB: number;
  timeoutMs: number;
  fn: FunctionContext;
  /** `[outbound]` of wfn.toml (deny all when absent). */
  outbound?: OutboundSettings;
  /** `[kv]` of wfn.toml and where this host keeps the stores (no stores when absent). */
  kv?: KvHosting;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Throws a UserError naming the offending import/export when the module does not conform. */
export async function compileFunction(bytes: Uint8Array, source: string, options: LoadOptions): Promise<LoadedFunction> {
  const invalid = (detail: string) => new UserError(`${source} is not a valid WebAssembly module: ${detail}`);
  let capped: Uint8Array;
  try {
    capped = capMemory(bytes, options.memoryMiB);
  } catch (error) {
    if (!(error instanceof WasmFormatError)) throw error;
    if (error instanceof MemoryCapError) throw new UserError(`${source}: ${error.message}`, 'Raise [limits] memory in wfn.toml or pass --memory.');
    throw invalid(error.message);
  }
  // What runs is the module with its memory imported, so instances get recycled memories;
  // it is compiled once, and the contract is checked on it (its own wfn.memory import aside).
  const pooled = importMemory(capped);
  // The data segments as one image the host copies into the memory it lends (module.ts).
  const runnable = pooled ? (takeDataImage(pooled.bytes, pooled.initialPages) ?? pooled.bytes) : capped;
  let module: WebAssembly.Module;
  try {
    module = await WebAssembly.compile(runnable as BufferSource);
  } catch (error) {
    throw invalid(error instanceof Error ? error.message : String(error));
  }
  const problems = checkContract(module, { pooledMemory: !!pooled, bytes: runnable });
  if (problems.length > 0) {
    throw new UserError(
      `${source} does not follow the wfn function contract:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      'A function is a WASI preview1 command module: see docs/contract.md.',
    );
  }
  // The bundled files are validated once here, so a malformed archive is refused at load, not per request.
  try {
    filesOf(module);
  } catch (error) {
    if (error instanceof FilesFormatError) throw invalid(error.message);
    throw error;
  }
  return {
    key: `${sha256(bytes)}:${options.memoryMiB}`,
    module,
    pooledMemory: pooled ? { initialPages: pooled.initialPages, maximumPages: pooled.maximumPages } : undefined,
    fn: options.fn,
    timeoutMs: options.timeoutMs,
    memoryCapBytes: options.memoryMiB * 1024 * 1024,
    outbound: options.outbound,
    kv: options.kv,
  };
}

export async function loadFunction(file: string, options: LoadOptions): Promise<LoadedFunction> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new UserError(`Cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  return compileFunction(bytes, file, options);
}
