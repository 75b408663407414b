/**
 * One smoke invocation (GET /) of the optimized module beside the unoptimized one: if the
 * optimizer or the snapshot broke the module, the build fails and the old artifact stays.
 */
import type { ProjectConfig } from '../config/types.js';
import { WorkerPool } from '../runtime/node/pool.js';
import type { LoadedFunction } from '../runtime/node/pool.js';
import type { InvokeResult } from '../runtime/types.js';
import { UserError } from '../util/errors.js';

const BROKEN: InvokeResult['outcome'][] = ['trap', 'malformed', 'exit', 'memory'];

export async function smokeTest(config: ProjectConfig, raw: WebAssembly.Module, optimized: WebAssembly.Module, log: (m: string) => void): Promise<void> {
  const pool = new WorkerPool(1);
  try {
    const fn = (key: string, module: WebAssembly.Module): LoadedFunction => ({
      key,
      module,
      fn: { route: '/', env: config.env },
      timeoutMs: Math.min(config.limits.timeoutMs, 10_000),
      memoryCapBytes: config.limits.memoryMiB * 1048576,
    });
    const req = { method: 'GET', url: 'http://127.0.0.1/', headers: [['user-agent', 'wfn-build-smoke']] as [string, string][], body: new Uint8Array(0) };
    const after = await pool.invoke(fn('optimized', optimized), req);
    if (!BROKEN.includes(after.outcome)) return;
    const before = await pool.invoke(fn('raw', raw), req);
    if (!BROKEN.includes(before.outcome)) {
      throw new UserError(
        `The optimized module fails where the compiled one works (GET / -> ${after.response.status}: ${after.reason}). The previous artifact was kept.`,
        'Set [build] optimize = "none" or "Oz" in wfn.toml, and report the module to binaryen.',
      );
    }
    log(`warning: GET / answers ${after.response.status} (${after.reason})`);
  } finally {
    await pool.close();
  }
}
