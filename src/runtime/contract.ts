/**
 * The function contract's structural rules (docs/contract.md): a WASI preview1 command
 * module exports `_start` and `memory`, and imports only wasi_snapshot_preview1 functions
 * and wfn's own APIs with their exact signatures: outbound HTTP (wfn_http_v1) and key-value
 * (wfn_kv_v1).
 */
import { POOLED_MEMORY } from './module.js';
import { KV_FUNCTIONS, KV_MODULE } from './kv/abi.js';
import { OUTBOUND_FUNCTIONS, OUTBOUND_MODULE } from './outbound/abi.js';
import { formatFuncType, readImports } from './wasm-imports.js';
import { PREVIEW1_FUNCTIONS } from './wasi.js';

const PREVIEW1 = new Set<string>(PREVIEW1_FUNCTIONS);

/** wfn's own import modules: each function's arity (all i32 parameters, one i32 result). */
const WFN_APIS: Record<string, { functions: Record<string, number>; what: string }> = {
  [OUTBOUND_MODULE]: { functions: OUTBOUND_FUNCTIONS, what: 'outbound HTTP' },
  [KV_MODULE]: { functions: KV_FUNCTIONS, what: 'key-value' },
};

export interface ContractOptions {
  /** The module is the host's rewrite whose memory is imported as wfn.memory (that import is the host's). */
  pooledMemory?: boolean;
  /**
   * The module's bytes: WebAssembly.Module has no type reflection here, so the signatures of
   * wfn_http_v1 and wfn_kv_v1 imports are read from them. A module importing either without them fails.
   */
  bytes?: Uint8Array;
}

const importedModules = new WeakMap<WebAssembly.Module, Set<string>>();

/** The import modules a module names, looked up once per module. */
function importModules(module: WebAssembly.Module): Set<string> {
  let names = importedModules.get(module);
  if (names === undefined) {
    names = new Set(WebAssembly.Module.imports(module).map((imp) => imp.module));
    importedModules.set(module, names);
  }
  return names;
}

/** True when the module imports the outbound HTTP API (hosts bind it; wfn inspect reports it). */
export function usesOutbound(module: WebAssembly.Module): boolean {
  return importModules(module).has(OUTBOUND_MODULE);
}

/** True when the module imports the key-value API (hosts bind it; wfn inspect reports it). */
export function usesKv(module: WebAssembly.Module): boolean {
  return importModules(module).has(KV_MODULE);
}

/** Returns one sentence per violation; empty when the module conforms. */
export function checkContract(module: WebAssembly.Module, options: ContractOptions = {}): string[] {
  const problems: string[] = [];
  const imports = WebAssembly.Module.imports(module);
  for (const imp of imports) {
    if (options.pooledMemory && imp.module === POOLED_MEMORY.module && imp.name === POOLED_MEMORY.name && imp.kind === 'memory') continue;
    const name = `${imp.module}.${imp.name}`;
    const api = Object.hasOwn(WFN_APIS, imp.module) ? WFN_APIS[imp.module] : undefined;
    if (api) {
      if (!Object.hasOwn(api.functions, imp.name)) problems.push(`import "${name}" is not a function of ${imp.module} (it has ${Object.keys(api.functions).join(', ')})`);
      else if (imp.kind !== 'function') problems.push(`import "${name}" is a ${imp.kind}, but ${imp.module} provides only functions`);
    } else if (imp.module !== 'wasi_snapshot_preview1') {
      problems.push(`import "${name}" is not allowed: a function may import only from wasi_snapshot_preview1 (and ${OUTBOUND_MODULE} for outbound HTTP, ${KV_MODULE} for key-value)`);
    } else if (imp.kind !== 'function') {
      problems.push(`import "${name}" is a ${imp.kind}, but wasi_snapshot_preview1 provides only functions`);
    } else if (!PREVIEW1.has(imp.name)) {
      problems.push(`import "${name}" is not a WASI preview1 function`);
    }
  }
  const apis = new Set(imports.filter((imp) => imp.kind === 'function' && Object.hasOwn(WFN_APIS, imp.module) && Object.hasOwn(WFN_APIS[imp.module].functions, imp.name)).map((imp) => imp.module));
  if (apis.size > 0) problems.push(...apiSignatureProblems(apis, options.bytes));
  const exports = WebAssembly.Module.exports(module);
  const start = exports.find((e) => e.name === '_start');
  const memory = exports.find((e) => e.name === 'memory');
  if (!start) problems.push('export "_start" is missing: build a WASI command (with a main function), not a library');
  else if (start.kind !== 'function') problems.push(`export "_start" must be a function, not a ${start.kind}`);
  if (!memory) problems.push('export "memory" is missing: the host needs the module\'s memory to pass the request');
  else if (memory.kind !== 'memory') problems.push(`export "memory" must be a memory, not a ${memory.kind}`);
  return problems;
}

function apiSignatureProblems(apis: Set<string>, bytes: Uint8Array | undefined): string[] {
  if (!bytes) return [...apis].map((api) => `the signatures of the ${api} imports could not be checked (no module bytes given)`);
  const problems: string[] = [];
  for (const imp of readImports(bytes)) {
    if (!apis.has(imp.module) || imp.kind !== 'function') continue;
    const functions = WFN_APIS[imp.module].functions;
    if (!Object.hasOwn(functions, imp.name)) continue;
    const arity = functions[imp.name];
    const type = imp.type;
    const ok = type && type.params.length === arity && type.params.every((p) => p === 'i32') && type.results.length === 1 && type.results[0] === 'i32';
    if (!ok) {
      const expected = `(${Array(arity).fill('i32').join(', ')}) -> (i32)`;
      problems.push(`import "${imp.module}.${imp.name}" has the signature ${formatFuncType(type)}, but the API defines ${expected}`);
    }
  }
  return problems;
}
