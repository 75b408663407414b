/**
 * wasm-opt: the native binary on PATH when there is one (Debian's `binaryen`, several times
 * faster), else the one inside npm `binaryen`. Feature flags as Go and AssemblyScript output need.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { OptimizeLevel } from '../config/types.js';
import { UserError } from '../util/errors.js';
import { execFile, versionOf } from '../util/exec.js';
import { npmBin } from '../util/paths.js';

export const WASM_OPT_FEATURES = [
  '--enable-bulk-memory',
  '--enable-sign-ext',
  '--enable-nontrapping-float-to-int',
  '--enable-mutable-globals',
];

export interface WasmOptBinary {
  path: string;
  version: string;
  native: boolean;
}

let found: Promise<WasmOptBinary[]> | undefined;

function onPath(name: string): string[] {
  return (process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((d) => path.join(d, name));
}

/** Usable wasm-opt binaries, native first. WFN_WASM_OPT pins one. */
export function findWasmOpt(): Promise<WasmOptBinary[]> {
  found ??= (async () => {
    const npm = npmBin('wasm-opt');
    const candidates = process.env.WFN_WASM_OPT
      ? [process.env.WFN_WASM_OPT]
      : [...onPath('wasm-opt').filter((p) => !p.includes(`${path.sep}node_modules${path.sep}`)), npm];
    const out: WasmOptBinary[] = [];
    for (const candidate of [...new Set(candidates)]) {
      const version = await versionOf(candidate);
      if (version) out.push({ path: candidate, version, native: candidate !== npm });
    }
    return out;
  })();
  return found;
}

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
      const r = await execFile(bin.path, [input, `-${level}`, ...WASM_OPT_FEATURES, ...extraFlags, '--strip-debug', '-o', output]);
      if (r.code === 0) return { wasm: await readFile(output), tool: bin.version };
      errors.push(`${bin.path}: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
    }
    throw new UserError(`wasm-opt failed:\n${errors.join('\n')}`, 'Set [build] optimize = "none" in wfn.toml to skip optimization.');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
