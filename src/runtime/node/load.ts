/** Loading a function's .wasm from disk: validate, check the contract, cap memory, compile. */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { UserError } from '../../util/errors.js';
import { checkContract } from '../contract.js';
import { capMemory, importMemory, WasmFormatError } from '../module.js';
import type { FunctionContext } from '../types.js';
import type { LoadedFunction } from './pool.js';

export interface LoadOptions {
  memoryMiB: number;
  timeoutMs: number;
  fn: FunctionContext;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Throws a UserError naming the offending import/export when the module does not conform. */
export async function compileFunction(bytes: Uint8Array, source: string, options: LoadOptions): Promise<LoadedFunction> {
  if (!WebAssembly.validate(bytes as BufferSource)) {
    let detail = '';
    try {
      await WebAssembly.compile(bytes as BufferSource);
    } catch (error) {
      detail = error instanceof Error ? `: ${error.message}` : '';
    }
    throw new UserError(`${source} is not a valid WebAssembly module${detail}`);
  }
  let capped: Uint8Array;
  try {
    capped = capMemory(bytes, options.memoryMiB);
  } catch (error) {
    if (error instanceof WasmFormatError) throw new UserError(`${source}: ${error.message}`, 'Raise [limits] memory in wfn.toml or pass --memory.');
    throw error;
  }
  const contractModule = await WebAssembly.compile(capped as BufferSource);
  const problems = checkContract(contractModule);
  if (problems.length > 0) {
    throw new UserError(
      `${source} does not follow the wfn function contract:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      'A function is a WASI preview1 command module: see docs/contract.md.',
    );
  }
  // What runs is the same module with its memory imported, so instances get recycled memories.
  const pooled = importMemory(capped);
  const module = pooled ? await WebAssembly.compile(pooled.bytes as BufferSource) : contractModule;
  return {
    key: `${sha256(bytes)}:${options.memoryMiB}`,
    module,
    pooledMemory: pooled ? { initialPages: pooled.initialPages, maximumPages: pooled.maximumPages } : undefined,
    fn: options.fn,
    timeoutMs: options.timeoutMs,
    memoryCapBytes: options.memoryMiB * 1024 * 1024,
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
