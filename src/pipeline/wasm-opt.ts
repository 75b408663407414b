/**
 * The pipeline's optimize step: wasm-opt (found by toolchains/binaryen.ts: native first, then
 * npm's) with the feature flags Go and AssemblyScript output need; the next binary when one fails.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { OptimizeLevel } from '../config/types.js';
import { UserError } from '../util/errors.js';
import { findWasmOpt } from '../toolchains/binaryen.js';
import { execCapture } from '../util/exec.js';

export const WASM_OPT_FEATURES = [
  '--enable-bulk-memory',
  '--enable-sign-ext',
  '--enable-nontrapping-float-to-int',
  '--enable-mutable-globals',
];

export interface OptimizeResult {
  wasm: Uint8Array;
  tool: string;
}

/** Optimizes at the given level; falls back to the next binary when one rejects the module. */
export async function optimizeWasm(wasm: Uint8Array, level: OptimizeLevel, extraFlags: string[] = []): Promise<OptimizeResult> {
  if (level === 'none') return { wasm, tool: 'none' };
  const binaries = await findWasmOpt();
  if (binaries.length === 0) {
    throw new UserError('wasm-opt was not found.', 'Reinstall wfn (npm binaryen ships it), or `apt-get install binaryen`, or set [build] optimize = "none".');
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'wfn-opt-'));
  try {
    const input = path.join(dir, 'in.wasm');
    const output = path.join(dir, 'out.wasm');
    await writeFile(input, wasm);
    const errors: string[] = [];
    for (const bin of binaries) {
      const r = await execCapture(bin.command, [...bin.args, input, `-${level}`, ...WASM_OPT_FEATURES, ...extraFlags, '--strip-debug', '-o', output]);
      if (r.code === 0) return { wasm: await readFile(output), tool: bin.versionLine };
      errors.push(`${bin.path}: ${(r.startError ?? r.stderr).trim().split('\n').slice(-3).join(' ')}`);
    }
    throw new UserError(`wasm-opt failed:\n${errors.join('\n')}`, 'Set [build] optimize = "none" in wfn.toml to skip optimization.');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
