/**
 * Re-linking componentize-qjs's output into one WASI preview1 module, part 1: find the
 * core modules that matter (main, the QuickJS runtime, the wit-dylib glue) and rename the
 * runtime's and the glue's imports so that each names the module that provides it when
 * binaryen's wasm-merge links them: the runtime itself, or the host module (host-module.ts),
 * which implements the preview2 and async built-ins on preview1 and re-exports main's memory,
 * table and globals. Main is not merged but spliced in afterwards (splice.ts). The other
 * core modules (trimmed preview1 adapter, shim, fixup, init-time module loader) are not needed.
 *
 * Roles, library names, table slots and symbols are all read from the modules' own
 * imports, exports and globals, never from their position in the component: if a new
 * componentize-qjs lays things out differently, this fails with a message, not silently.
 */
import { hostModuleWat, type HostImport, type MainImport } from './host-module.js';
import { coreModulesOf } from '../../runtime/wasm-binary.js';
import { renameImports, type ImportEntry as Import } from '../../runtime/wasm-imports.js';
import { exportedGlobalValue, readModule, type ModuleInfo } from './const-exprs.js';

export class RelinkError extends Error {
  constructor(message: string) {
    super(`${message} (componentize-qjs produced a layout this wfn version does not know)`);
    this.name = 'RelinkError';
  }
}

/** The names the merged modules get on wasm-merge's command line. */
export const MERGE_NAMES = { main: 'main', runtime: 'runtime', glue: 'glue', host: 'host' } as const;

interface Role {
  bytes: Uint8Array;
  info: ModuleInfo;
}

export interface ComponentRoles {
  /** Owns memory, table, stack pointer, the libraries' base globals and the Wizer snapshot. */
  main: Role;
  /** QuickJS, built position-independent (imports env.memory, GOT.*). */
  runtime: Role & { library: string };
  /** wit-dylib's generated glue: lifts/lowers the world's exports onto the runtime. */
  glue: Role & { library: string };
}

const exportsName = (info: ModuleInfo, name: string, kind?: string) =>
  info.exports.some((e) => e.name === name && (!kind || e.kind === kind));
const importsFrom = (info: ModuleInfo, module: string, name: string) =>
  info.imports.some((i) => i.module === module && i.name === name);

/** The interpreter's FFI symbol the glue calls into; only the runtime exports it. */
const INTERPRETER_SYMBOL = 'wit_dylib_export_async_call';

export function identifyRoles(component: Uint8Array): ComponentRoles {
  const modules = coreModulesOf(component).map((bytes) => ({ bytes, info: readModule(bytes) }));
  const one = (what: string, pick: (m: Role) => boolean): Role => {
    const found = modules.filter(pick);
    if (found.length !== 1) throw new RelinkError(`expected exactly one ${what}, found ${found.length}`);
    return found[0];
  };
  const main = one('main module (exports memory and __indirect_function_table, imports no memory)', (m) =>
    exportsName(m.info, 'memory', 'memory') &&
    exportsName(m.info, '__indirect_function_table', 'table') &&
    !m.info.imports.some((i) => i.kind === 'memory'));
  const runtime = one(`QuickJS runtime module (exports ${INTERPRETER_SYMBOL})`, (m) => exportsName(m.info, INTERPRETER_SYMBOL, 'function'));
  const glue = one(`wit-dylib glue module (imports env.${INTERPRETER_SYMBOL})`, (m) => importsFrom(m.info, 'env', INTERPRETER_SYMBOL));

  // main exports "<library>:memory_base" per dynamic library; the runtime is the library whose
  // GOT.func symbols main exports as "<library>:<symbol>".
  const libraries = main.info.exports
    .filter((e) => e.kind === 'global' && e.name.endsWith(':memory_base'))
    .map((e) => e.name.slice(0, -':memory_base'.length));
  if (libraries.length !== 2) throw new RelinkError(`expected two dynamic libraries in the main module, found ${libraries.length}`);
  const gotFuncs = runtime.info.imports.filter((i) => i.module === 'GOT.func').map((i) => i.name);
  if (gotFuncs.length === 0) throw new RelinkError('the runtime imports no GOT.func symbol');
  const runtimeLibs = libraries.filter((lib) => gotFuncs.every((s) => exportsName(main.info, `${lib}:${s}`, 'global')));
  if (runtimeLibs.length !== 1) throw new RelinkError(`cannot tell which library is the runtime (${libraries.join(', ')})`);
  const glueLib = libraries.find((lib) => lib !== runtimeLibs[0])!;
  return { main, runtime: { ...runtime, library: runtimeLibs[0] }, glue: { ...glue, library: glueLib } };
}

export interface MergeInput {
  name: string;
  bytes: Uint8Array;
}

export interface LinkPlan {
  /** The libraries to merge with the host module, in instantiation order. */
  modules: MergeInput[];
  /** The host module's text (merged last). */
  hostWat: string;
  /** The module name under which the merged engine imports main's entities. */
  mainName: string;
}

/**
 * Renames every import of the runtime and the glue, and generates the host module that
 * provides them: preview2 and component-model functions implemented on preview1, and main's
 * memory, table and globals, imported once and re-exported.
 */
/** `outbound`, `kv`, `files`: link the host functions that call wfn_http_v1, wfn_kv_v1, or read the bundled files (see HostModuleInput). */
export function planLink(roles: ComponentRoles, options: { outbound?: boolean; kv?: boolean; files?: boolean } = {}): LinkPlan {
  const hostImports: HostImport[] = [];
  const mainImports: MainImport[] = [];
  const toHost = (imp: Import) => {
    const exportName = `${imp.module}#${imp.name}`;
    if (imp.kind !== 'function' || !imp.type) throw new RelinkError(`cannot provide the non-function import ${imp.module}.${imp.name}`);
    if (!hostImports.some((h) => h.exportName === exportName)) {
      hostImports.push({ module: imp.module, name: imp.name, type: imp.type, exportName });
    }
    return { module: MERGE_NAMES.host, name: exportName };
  };
  // One of main's exports, through the host (see host-module.ts mainImportsWat).
  const fromMain = (name: string, imp: Import) => {
    const exp = roles.main.info.exports.find((e) => e.name === name);
    if (!exp) throw new RelinkError(`the main module does not export "${name}"`);
    if (exp.kind !== imp.kind || exp.kind === 'function' || exp.kind === 'tag') {
      throw new RelinkError(`${imp.module}.${imp.name} is a ${imp.kind} but main's "${name}" is a ${exp.kind}`);
    }
    const known = mainImports.find((m) => m.name === name);
    if (!known) mainImports.push({ name, kind: exp.kind, minimum: imp.minimum, global: imp.global });
    else if (imp.minimum !== undefined) known.minimum = Math.max(known.minimum ?? 0, imp.minimum);
    else if (imp.global && known.global && imp.global.mutable !== known.global.mutable) {
      throw new RelinkError(`the libraries disagree on whether main's "${name}" is mutable`);
    }
    return { module: MERGE_NAMES.host, name };
  };

  // Dynamic-linking imports of a position-independent library, resolved the way the
  // component's instantiation (and a dynamic linker) would.
  const linkLibrary = (library: string) => (imp: Import) => {
    if (imp.module === 'env') {
      if (imp.name === '__memory_base' || imp.name === '__table_base') return fromMain(`${library}:${imp.name.slice(2)}`, imp);
      if (imp.kind !== 'function') return fromMain(imp.name, imp);
      if (exportsName(roles.runtime.info, imp.name, 'function')) return { module: MERGE_NAMES.runtime, name: imp.name };
      throw new RelinkError(`nothing provides the function env.${imp.name}`);
    }
    if (imp.module === 'GOT.func') return fromMain(`${library}:${imp.name}`, imp);
    if (imp.module === 'GOT.mem') {
      return exportsName(roles.main.info, imp.name) ? fromMain(imp.name, imp) : fromMain(`${library}:${imp.name}`, imp);
    }
    return toHost(imp);
  };

  const runtime = renameImports(roles.runtime.bytes, linkLibrary(roles.runtime.library));
  const glue = renameImports(roles.glue.bytes, linkLibrary(roles.glue.library));
  // The host's own code uses main's stack pointer (scratch space), memory and table.
  for (const name of ['memory', '__indirect_function_table', '__stack_pointer']) {
    const exp = roles.main.info.exports.find((e) => e.name === name);
    if (!exp) throw new RelinkError(`the main module does not export "${name}"`);
    if (!mainImports.some((m) => m.name === name)) {
      mainImports.push({ name, kind: exp.kind as MainImport['kind'], global: name === '__stack_pointer' ? { valtype: 'i32', mutable: true } : undefined });
    }
  }

  const need = (info: ModuleInfo, name: string, what: string) => {
    if (!exportsName(info, name, 'function')) throw new RelinkError(`the ${what} does not export "${name}"`);
    return name;
  };
  const handle = roles.glue.info.exports.find((e) => e.kind === 'function' && e.name.startsWith('[async-lift]'));
  if (!handle) throw new RelinkError('the glue module exports no async-lifted function');
  const callback = need(roles.glue.info, `[callback]${handle.name}`, 'glue module');

  // The runtime's GOT.func symbols: the component's fixup module writes each function into
  // the table slot that main's "<library>:<symbol>" global holds. Only cabi_realloc is known.
  const gotFuncs = roles.runtime.info.imports.filter((i) => i.module === 'GOT.func');
  if (gotFuncs.length !== 1 || gotFuncs[0].name !== 'cabi_realloc') {
    throw new RelinkError(`the runtime's GOT.func imports are ${gotFuncs.map((i) => i.name).join(', ')}, expected only cabi_realloc`);
  }
  const reallocSlot = exportedGlobalValue(roles.main.info, `${roles.runtime.library}:cabi_realloc`);
  // The host fills that slot, so the table it imports must be declared large enough.
  const table = mainImports.find((m) => m.name === '__indirect_function_table')!;
  table.minimum = Math.max(table.minimum ?? 0, reallocSlot + 1);

  const hostWat = hostModuleWat({
    imports: hostImports,
    mainImports,
    main: MERGE_NAMES.main,
    runtime: MERGE_NAMES.runtime,
    glue: MERGE_NAMES.glue,
    reallocSlot,
    exports: { handle: handle.name, callback, realloc: need(roles.glue.info, 'cabi_realloc', 'glue module') },
    runtimeRealloc: need(roles.runtime.info, 'cabi_realloc', 'runtime module'),
    outbound: options.outbound,
    kv: options.kv,
    files: options.files,
  });
  return {
    modules: [
      { name: MERGE_NAMES.runtime, bytes: runtime },
      { name: MERGE_NAMES.glue, bytes: glue },
    ],
    hostWat,
    mainName: MERGE_NAMES.main,
  };
}
