/**
 * The function contract's structural rules (docs/contract.md): a WASI preview1 command
 * module exports `_start` and `memory`, and imports only wasi_snapshot_preview1 functions.
 */
import { POOLED_MEMORY } from './module.js';
import { PREVIEW1_FUNCTIONS } from './wasi.js';

const PREVIEW1 = new Set<string>(PREVIEW1_FUNCTIONS);
/** The outbound HTTP host API (docs/contract.md). */
const OUTBOUND_FUNCTIONS = new Set(['send', 'status', 'headers', 'body_read', 'close', 'error_message']);

/**
 * Returns one sentence per violation; empty when the module conforms. `pooledMemory`: the
 * module is the host's rewrite whose memory is imported as wfn.memory (that import is the host's).
 */
export function checkContract(module: WebAssembly.Module, options: { pooledMemory?: boolean } = {}): string[] {
  const problems: string[] = [];
  for (const imp of WebAssembly.Module.imports(module)) {
    if (options.pooledMemory && imp.module === POOLED_MEMORY.module && imp.name === POOLED_MEMORY.name && imp.kind === 'memory') continue;
    const name = `${imp.module}.${imp.name}`;
    if (imp.module === 'wfn_http_v1' && imp.kind === 'function' && OUTBOUND_FUNCTIONS.has(imp.name)) continue;
    if (imp.module !== 'wasi_snapshot_preview1') {
      problems.push(`import "${name}" is not allowed: a function may import only from wasi_snapshot_preview1`);
    } else if (imp.kind !== 'function') {
      problems.push(`import "${name}" is a ${imp.kind}, but wasi_snapshot_preview1 provides only functions`);
    } else if (!PREVIEW1.has(imp.name)) {
      problems.push(`import "${name}" is not a WASI preview1 function`);
    }
  }
  const exports = WebAssembly.Module.exports(module);
  const start = exports.find((e) => e.name === '_start');
  const memory = exports.find((e) => e.name === 'memory');
  if (!start) problems.push('export "_start" is missing: build a WASI command (with a main function), not a library');
  else if (start.kind !== 'function') problems.push(`export "_start" must be a function, not a ${start.kind}`);
  if (!memory) problems.push('export "memory" is missing: the host needs the module\'s memory to pass the request');
  else if (memory.kind !== 'memory') problems.push(`export "memory" must be a memory, not a ${memory.kind}`);
  return problems;
}
