/**
 * The WIT the component is built against: the wasi:http/proxy world, from the WIT files jco
 * ships (so the world's version is the one jco's own host implements). One source string:
 * every package jco ships for that version, nested, plus wfn's world that includes the proxy.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** The WASI 0.2 release whose interfaces the component imports (jco ships its WIT). */
export const WASI_VERSION = '0.2.12';

/** The world every wfn component targets, and the one export it has. */
export const PROXY_WORLD = `wasi:http/proxy@${WASI_VERSION}`;
export const HANDLER_EXPORT = `wasi:http/incoming-handler@${WASI_VERSION}`;
/** The core export that implements it (the canonical ABI's name). */
export const HANDLE_EXPORT = `${HANDLER_EXPORT}#handle`;
/** wfn's world: exactly the proxy world. */
export const BRIDGE_WORLD = 'wfn:bridge/component';

const require = createRequire(import.meta.url);

function witDir(): string {
  // jco's package exports only its API, so find the folder from the API's entry.
  const api = require.resolve('@bytecodealliance/jco');
  return path.join(path.dirname(api), '..', 'lib', 'wit', 'builtin', WASI_VERSION);
}

let source: string | undefined;

/** The WIT source (all packages in one string, as wasm-tools' `embed` takes it). */
export function witSource(): string {
  if (source) return source;
  const dir = witDir();
  let text = `package wfn:bridge;\n\nworld component {\n  include ${PROXY_WORLD};\n}\n`;
  for (const pkg of readdirSync(dir).sort()) {
    const file = readFileSync(path.join(dir, pkg, 'package.wit'), 'utf8');
    const header = /^package ([^;]+);/m.exec(file);
    if (!header) throw new Error(`${pkg}/package.wit: no package line`);
    text += `\npackage ${header[1]} {\n${file.replace(header[0], '')}\n}\n`;
  }
  source = text;
  return text;
}
