/**
 * The world of a WebAssembly component (what it imports and exports, by interface), read with
 * jco's build of wasm-tools, and whether it is a wasi:http/proxy component: one that imports
 * only what that world allows, so every wasi:http engine (wasmtime serve, Spin, wasmCloud,
 * jco) can run it. Used by `wfn inspect` and by the component target's checks.
 */

/** The interfaces a wasi:http/proxy component may import (WASI 0.2.x): the proxy world's own and wasi:io, which they use. */
export const PROXY_IMPORTS = new Set([
  'wasi:http/types', 'wasi:http/outgoing-handler', 'wasi:io/error', 'wasi:io/poll', 'wasi:io/streams',
  'wasi:clocks/monotonic-clock', 'wasi:clocks/wall-clock', 'wasi:random/random',
  'wasi:cli/stdout', 'wasi:cli/stderr', 'wasi:cli/stdin',
]);

/** What a wasi:http/proxy component exports. */
export const PROXY_EXPORT = 'wasi:http/incoming-handler';

export interface ComponentWorld {
  /** Imported interfaces (`wasi:http/types@0.2.12`) or functions, in the order the component lists them. */
  imports: string[];
  exports: string[];
  /** The world as WIT text. */
  wit: string;
}

type Jco = typeof import('@bytecodealliance/jco');
let jco: Promise<Jco> | undefined;

export async function componentWorld(bytes: Uint8Array): Promise<ComponentWorld> {
  jco ??= import('@bytecodealliance/jco');
  const wit = await (await jco).componentWit(bytes);
  const imports: string[] = [];
  const exports: string[] = [];
  for (const match of wit.matchAll(/^\s*(import|export)\s+([^\s;]+?)(?:;|:\s)/gm)) {
    (match[1] === 'import' ? imports : exports).push(match[2]);
  }
  return { imports, exports, wit };
}

/** An interface name without its version: `wasi:http/types@0.2.12` -> `wasi:http/types`. */
function unversioned(name: string): { name: string; version?: string } {
  const at = name.lastIndexOf('@');
  return at < 0 ? { name } : { name: name.slice(0, at), version: name.slice(at + 1) };
}

/** Why a world is not wasi:http/proxy (empty when it is). */
export function proxyWorldProblems(world: Pick<ComponentWorld, 'imports' | 'exports'>): string[] {
  const problems: string[] = [];
  for (const name of world.imports) {
    const { name: iface, version } = unversioned(name);
    if (!PROXY_IMPORTS.has(iface)) problems.push(`imports ${name}, which wasi:http/proxy does not allow`);
    else if (!version?.startsWith('0.2.')) problems.push(`imports ${name}: not a WASI 0.2 interface`);
  }
  const exports = world.exports.map((e) => unversioned(e).name);
  if (exports.length !== 1 || exports[0] !== PROXY_EXPORT) problems.push(`exports ${world.exports.join(', ') || 'nothing'} (a proxy component exports ${PROXY_EXPORT} only)`);
  return problems;
}
