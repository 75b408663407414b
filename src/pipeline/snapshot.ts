/**
 * Pre-initialization with Wizer (npm @bytecodealliance/wizer, pinned): runs the module's
 * `wizer.initialize` once at build time and snapshots memory and globals into the module.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { UserError } from '../util/errors.js';
import { execCapture } from '../util/exec.js';
import { npmBin } from '../util/paths.js';

export const INIT_FUNC = 'wizer.initialize';

export function exportsInitFunction(module: WebAssembly.Module): boolean {
  return WebAssembly.Module.exports(module).some((e) => e.name === INIT_FUNC && e.kind === 'function');
}

export interface SnapshotResult {
  wasm: Uint8Array;
  /** Whether the init function needed WASI (wizer ran with --allow-wasi). */
  allowWasi: boolean;
}

/** Snapshots the module; tries without WASI first, as the init function rarely needs it. */
export async function snapshotWasm(wasm: Uint8Array): Promise<SnapshotResult> {
  const dir = await mkdtemp(path.join(tmpdir(), 'wfn-wizer-'));
  try {
    const input = path.join(dir, 'in.wasm');
    const output = path.join(dir, 'out.wasm');
    await writeFile(input, wasm);
    const base = [input, '-o', output, `--init-func=${INIT_FUNC}`, '--wasm-bulk-memory=true'];
    let r = await execCapture(npmBin('wizer'), base);
    let allowWasi = false;
    if (r.code !== 0 && /wasi|import/i.test(r.stderr)) {
      allowWasi = true;
      r = await execCapture(npmBin('wizer'), [...base, '--allow-wasi']);
    }
    if (r.code !== 0) {
      throw new UserError(`Wizer could not snapshot the module:\n${r.stderr.trim() || r.startError}`, 'Fix wizer.initialize, or set [build] snapshot = false (or pass --no-snapshot).');
    }
    return { wasm: await readFile(output), allowWasi };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
