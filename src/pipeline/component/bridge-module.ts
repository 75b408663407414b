/**
 * Builds the bridge module from bridge.wat: fills its template (the configured variables,
 * the literals, the preview1 functions the bridge answers with a fixed error; outbound.wat's
 * wfn_http_v1 on wasi:http/outgoing-handler, with the [outbound] policy, for a function that
 * imports it) and compiles it with wabt. Cached by the expanded text's hash, in memory and
 * optionally on disk.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { errorResponse } from '../../runtime/cgi.js';
import type { OutboundSettings } from '../../runtime/outbound/abi.js';
import { SERVER_SOFTWARE } from '../../runtime/version.js';
import { compileWat, expandLiterals, fillPlaceholders, watString } from '../../toolchains/wat.js';
import { UserError } from '../../util/errors.js';
import { siblingFile } from '../../util/paths.js';
import { outboundChecksWat, outboundValues } from '../outbound-values.js';
import { WASI_VERSION } from './wit.js';

export interface BridgeOptions {
  /** The function's configured variables, baked into the bridge (built-ins win at run time). */
  env: Record<string, string>;
  /** Whether the function's memory declares a maximum (the bridge's memory must match: see src/toolchains/wasm-link.ts). */
  guestHasMaxMemory: boolean;
  /** [outbound] of wfn.toml, when the function imports wfn_http_v1 (outbound.wat is spliced in). */
  outbound?: OutboundSettings;
}

/** Where @lit strings start in the bridge's memory, and how much room they have (see bridge.wat). */
const LITS_BASE = 64;
const LITS_ROOM = 4096 - LITS_BASE;
/** The bridge memory's maximum (pages) when the function's memory has one. */
const BRIDGE_MAX_PAGES = 4096;

const EBADF = 8;
const ENOSYS = 52;

/**
 * The preview1 functions bridge.wat does not write out, with their parameter types: they
 * answer a fixed error (EBADF for paths: there is no preopened directory; ENOSYS for the
 * rest), as src/runtime/wasi.ts does.
 */
const FIXED_ANSWERS: Record<string, string[]> = {
  fd_advise: ['i32', 'i64', 'i64', 'i32'],
  fd_allocate: ['i32', 'i64', 'i64'],
  fd_fdstat_set_rights: ['i32', 'i64', 'i64'],
  fd_filestat_set_size: ['i32', 'i64'],
  fd_filestat_set_times: ['i32', 'i64', 'i64', 'i32'],
  fd_pread: ['i32', 'i32', 'i32', 'i64', 'i32'],
  fd_pwrite: ['i32', 'i32', 'i32', 'i64', 'i32'],
  fd_renumber: ['i32', 'i32'],
  path_create_directory: ['i32', 'i32', 'i32'],
  path_filestat_get: ['i32', 'i32', 'i32', 'i32', 'i32'],
  path_filestat_set_times: ['i32', 'i32', 'i32', 'i32', 'i64', 'i64', 'i32'],
  path_link: ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'],
  path_open: ['i32', 'i32', 'i32', 'i32', 'i32', 'i64', 'i64', 'i32', 'i32'],
  path_readlink: ['i32', 'i32', 'i32', 'i32', 'i32', 'i32'],
  path_remove_directory: ['i32', 'i32', 'i32'],
  path_rename: ['i32', 'i32', 'i32', 'i32', 'i32', 'i32'],
  path_symlink: ['i32', 'i32', 'i32', 'i32', 'i32'],
  path_unlink_file: ['i32', 'i32', 'i32'],
  proc_raise: ['i32'],
  sock_accept: ['i32', 'i32', 'i32'],
  sock_recv: ['i32', 'i32', 'i32', 'i32', 'i32', 'i32'],
  sock_send: ['i32', 'i32', 'i32', 'i32', 'i32'],
  sock_shutdown: ['i32', 'i32'],
};

const encoder = new TextEncoder();

export function bridgeWatPath(file = 'bridge.wat'): string {
  return siblingFile(import.meta.url, file, 'asset');
}

/** outbound.wat's two parts, filled: imports (above the `;; @@code` line) and code, then the half shared with Fastly (outbound-checks.wat). */
function outboundFragment(values: Record<string, string>): { imports: string; code: string } {
  const text = readFileSync(bridgeWatPath('outbound.wat'), 'utf8');
  const at = text.indexOf(';; @@code');
  if (at < 0) throw new Error('outbound.wat: the ";; @@code" line is missing');
  return {
    imports: fillPlaceholders(text.slice(0, at), values, 'outbound.wat'),
    code: `${fillPlaceholders(text.slice(at), values, 'outbound.wat')}\n${outboundChecksWat(values)}`,
  };
}

function stubs(): string {
  return Object.entries(FIXED_ANSWERS)
    .map(([name, params]) => `  (func (export "${name}") (param ${params.join(' ')}) (result i32) (i32.const ${name.startsWith('path_') ? EBADF : ENOSYS}))`)
    .join('\n');
}

function configSegment(env: Record<string, string>): { bytes: Uint8Array; count: number } {
  const entries = Object.entries(env);
  for (const [key] of entries) {
    if (key === '' || key.includes('=') || key.includes('\0')) {
      throw new UserError(`The environment variable name ${JSON.stringify(key)} is not valid.`, 'Names may not be empty or contain "=".');
    }
  }
  const bytes = encoder.encode(entries.map(([k, v]) => `${k}=${v}\0`).join(''));
  return { bytes, count: entries.length };
}

/** Expands bridge.wat's template into plain WAT. */
export function expandBridgeWat(template: string, options: BridgeOptions): string {
  const config = configSegment(options.env);
  const body = (status: number) => watString(errorResponse(status).body);
  const values: Record<string, string> = {
    V: WASI_VERSION,
    AM_MAX: options.guestHasMaxMemory ? String(BRIDGE_MAX_PAGES) : '',
    CONFIG_BYTES: String(config.bytes.length),
    CONFIG_COUNT: String(config.count),
    CONFIG: watString(config.bytes),
    // A component serves one function on whatever route the engine gives it: the route is "/".
    SCRIPT_NAME: '',
    MATCHED_ROUTE: '/',
    SERVER_SOFTWARE: watString(encoder.encode(SERVER_SOFTWARE)),
    BODY_400: body(400),
    BODY_500: body(500),
    BODY_502: body(502),
    SECRETS_EMIT: '',
    STUBS: stubs(),
    ...(options.outbound ? outboundValues(options.outbound) : {}),
  };
  const outbound = options.outbound ? outboundFragment(values) : { imports: '', code: '' };
  Object.assign(values, { OUTBOUND_IMPORTS: outbound.imports, OUTBOUND_CODE: outbound.code, OUTBOUND_INIT: options.outbound ? '(call $ob_init)' : '' });
  return expandLiterals(fillPlaceholders(template, values, 'bridge.wat'), LITS_BASE, LITS_ROOM, 'bridge.wat');
}

const memoryCache = new Map<string, Uint8Array>();

/** The bridge module for a function with these options; `cacheDir` keeps compiled bridges on disk. */
export async function buildBridge(options: BridgeOptions, cacheDir?: string): Promise<Uint8Array> {
  const text = expandBridgeWat(readFileSync(bridgeWatPath(), 'utf8'), options);
  const key = createHash('sha256').update(text).digest('hex');
  const cached = memoryCache.get(key);
  if (cached) return cached;
  const file = cacheDir ? path.join(cacheDir, `bridge-${key.slice(0, 16)}.wasm`) : undefined;
  if (file && existsSync(file)) {
    const bytes = new Uint8Array(readFileSync(file));
    memoryCache.set(key, bytes);
    return bytes;
  }
  const bytes = await compileWat(text, 'bridge.wat');
  memoryCache.set(key, bytes);
  if (file) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, bytes);
  }
  return bytes;
}
