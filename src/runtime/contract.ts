/**
 * The function contract's structural rules (docs/contract.md): a WASI preview1 command
 * module exports `_start` and `memory`, and imports only wasi_snapshot_preview1 functions
 * and, for outbound HTTP, the functions of wfn_http_v1 with their exact signatures.
 */
import { POOLED_MEMORY } from './module.js';
import { OUTBOUND_FUNCTIONS, OUTBOUND_MODULE } from './outbound/abi.js';
import { formatFuncType, readImports } from './wasm-imports.js';
import { PREVIEW1_FUNCTIONS } from './wasi.js';

const PREVIEW1 = new Set<string>(PREVIEW1_FUNCTIONS);

export interface ContractOptions {
  /** The module is the host's rewrite whose memory is imported as wfn.memory (that import is the host's). */
  pooledMemory?: boolean;
  /**
   * The module's bytes: WebAssembly.Module has no type reflection here, so the signatures of
   * wfn_http_v1 imports are read from them. A module importing wfn_http_v1 without them fails.
   */
  bytes?: Uint8Array;
}

const importsOutbound = new WeakMap<WebAssembly.Module, boolean>();

/** True when the module imports the outbound HTTP API (hosts bind it; wfn inspect reports it). Looked up once per module. */
export function usesOutbound(module: WebAssembly.Module): boolean {
  let uses = importsOutbound.get(module);
  if (uses === undefined) {
    uses = WebAssembly.Module.imports(module).some((imp) => imp.module === OUTBOUND_MODULE);
    importsOutbound.set(module, uses);
  }
  return uses;
}

/** Returns one sentence per violation; empty when the module conforms. */
export function checkContract(module: WebAssembly.Module, options: ContractOptions = {}): string[] {
  const problems: string[] = [];
  const imports = WebAssembly.Module.imports(module);
  for (const imp of imports) {
    if (options.pooledMemory && imp.module === POOLED_MEMORY.module && imp.name === POOLED_MEMORY.name && imp.kind === 'memory') continue;
    const name = `${imp.module}.${imp.name}`;
    if (imp.module === OUTBOUND_MODULE) {
      if (!(imp.name in OUTBOUND_FUNCTIONS)) problems.push(`import "${name}" is not a function of ${OUTBOUND_MODULE} (it has ${Object.keys(OUTBOUND_FUNCTIONS).join(', ')})`);
      else if (imp.kind !== 'function') problems.push(`import "${name}" is a ${imp.kind}, but ${OUTBOUND_MODULE} provides only functions`);
    } else if (imp.module !== 'wasi_snapshot_preview1') {
      problems.push(`import "${name}" is not allowed: a function may import only from wasi_snapshot_preview1 (and ${OUTBOUND_MODULE} for outbound HTTP)`);
    } else if (imp.kind !== 'function') {
      problems.push(`import "${name}" is a ${imp.kind}, but wasi_snapshot_preview1 provides only functions`);
    } else if (!PREVIEW1.has(imp.name)) {
      problems.push(`import "${name}" is not a WASI preview1 function`);
    }
  }
  if (imports.some((imp) => imp.module === OUTBOUND_MODULE && imp.kind === 'function' && imp.name in OUTBOUND_FUNCTIONS)) {
    problems.push(...outboundSignatureProblems(options.bytes));
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

function outboundSignatureProblems(bytes: Uint8Array | undefined): string[] {
  if (!bytes) return [`the signatures of the ${OUTBOUND_MODULE} imports could not be checked (no module bytes given)`];
  const problems: string[] = [];
  for (const imp of readImports(bytes)) {
    if (imp.module !== OUTBOUND_MODULE || imp.kind !== 'function') continue;
    const arity = OUTBOUND_FUNCTIONS[imp.name as keyof typeof OUTBOUND_FUNCTIONS];
    if (arity === undefined) continue;
    const type = imp.type;
    const ok = type && type.params.length === arity && type.params.every((p) => p === 'i32') && type.results.length === 1 && type.results[0] === 'i32';
    if (!ok) {
      const expected = `(${Array(arity).fill('i32').join(', ')}) -> (i32)`;
      problems.push(`import "${OUTBOUND_MODULE}.${imp.name}" has the signature ${formatFuncType(type)}, but the API defines ${expected}`);
    }
  }
  return problems;
}
