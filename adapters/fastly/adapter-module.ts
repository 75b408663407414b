/**
 * Builds the adapter module from adapter.wat: expands its small template (literals,
 * values fixed at package time such as the configured variables, the secrets.wat,
 * outbound.wat and kv.wat fragments when the function needs them), then compiles it with wabt.
 * Results are cached by the expanded text's hash, in memory and optionally on disk.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { errorResponse } from '../../src/runtime/cgi.js';
import { SERVER_SOFTWARE } from '../../src/runtime/version.js';
import { UserError } from '../../src/util/errors.js';
import type { OutboundSettings } from '../../src/runtime/outbound/abi.js';
import type { KvSettings } from '../../src/runtime/kv/abi.js';
import { kvValues } from './kv-values.js';
import { outboundChecksWat, outboundValues } from '../../src/pipeline/outbound-values.js';
import { compileWat, expandLiterals, fillPlaceholders, watString } from '../../src/toolchains/wat.js';
import { siblingFile } from '../../src/util/paths.js';

export interface AdapterOptions {
  /** The function's configured variables, baked into the adapter (built-ins win at run time). */
  env: Record<string, string>;
  /** Whether the function's memory declares a maximum (the adapter's memory must match: see merge.ts). */
  guestHasMaxMemory: boolean;
  /** Secrets read from a Fastly secret store into the environment (names only: values stay in the store). */
  secrets?: { store: string; names: string[] };
  /** Set when the function imports wfn_http_v1: the policy compiled into the adapter. */
  outbound?: OutboundSettings;
  /** Set when the function imports wfn_kv_v1: the stores it may open ([kv] stores), compiled in. */
  kv?: KvSettings;
}

/** Where @lit strings start in the adapter's memory, and how much room they have (see adapter.wat). */
const LITS_BASE = 64;
const LITS_ROOM = 4096 - LITS_BASE;
/** The adapter memory's maximum (pages) when the function's memory has one. */
const ADAPTER_MAX_PAGES = 4096;

const encoder = new TextEncoder();

/** A .wat file of this folder (beside this file, or when running from lib/ in the package's adapters/ folder). */
export function adapterWatPath(file = 'adapter.wat'): string {
  return siblingFile(import.meta.url, file, 'asset');
}

/** A fragment file's two parts: imports (above the `;; @@code` line) and code. */
function fragment(file: string): { imports: string; code: string } {
  const text = readFileSync(adapterWatPath(file), 'utf8');
  const at = text.indexOf(';; @@code');
  if (at < 0) throw new Error(`${file}: the ";; @@code" line is missing`);
  return { imports: text.slice(0, at), code: text.slice(at) };
}

/** The name the secret store is linked to a service under (deploy.ts links it so). */
export function secretStoreName(functionName: string): string {
  return `wfn-${functionName}`.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 255);
}

function secretsValues(secrets: AdapterOptions['secrets']): Record<string, string> {
  if (!secrets || secrets.names.length === 0) return {};
  for (const name of secrets.names) {
    if (name === '' || name.includes('=') || name.includes('\0')) throw new UserError(`The secret name ${JSON.stringify(name)} is not valid.`);
  }
  return {
    SECRET_STORE: watString(encoder.encode(secrets.store)),
    SECRET_NAMES: watString(encoder.encode(secrets.names.map((n) => `${n}\0`).join(''))),
    SECRET_STORE_MISSING: watString(
      encoder.encode(`wfn: the Fastly secret store "${secrets.store}" is not linked to this service: ${secrets.names.join(', ')} not set\n`),
    ),
  };
}

/** The fragment's parts, filled, under <PREFIX>_IMPORTS and <PREFIX>_CODE (empty when not wanted). */
function fragmentValues(prefix: string, file: string, wanted: boolean, values: Record<string, string>): Record<string, string> {
  if (!wanted) return { [`${prefix}_IMPORTS`]: '', [`${prefix}_CODE`]: '' };
  const part = fragment(file);
  return { [`${prefix}_IMPORTS`]: fillPlaceholders(part.imports, values, file), [`${prefix}_CODE`]: fillPlaceholders(part.code, values, file) };
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

/** Expands adapter.wat's template into plain WAT. */
export function expandAdapterWat(template: string, options: AdapterOptions): string {
  const config = configSegment(options.env);
  const body = (status: number) => watString(errorResponse(status).body);
  const values: Record<string, string> = {
    AM_MAX: options.guestHasMaxMemory ? String(ADAPTER_MAX_PAGES) : '',
    CONFIG_BYTES: String(config.bytes.length),
    CONFIG_COUNT: String(config.count),
    CONFIG: watString(config.bytes),
    // A Fastly service is one function on the whole domain: the route is "/".
    SCRIPT_NAME: '',
    MATCHED_ROUTE: '/',
    SERVER_SOFTWARE: watString(encoder.encode(SERVER_SOFTWARE)),
    BODY_400: body(400),
    BODY_500: body(500),
    BODY_502: body(502),
    ...secretsValues(options.secrets),
    ...(options.outbound ? outboundValues(options.outbound) : {}),
    ...(options.kv ? kvValues(options.kv) : {}),
  };
  const hasSecrets = (options.secrets?.names.length ?? 0) > 0;
  Object.assign(values, fragmentValues('SECRETS', 'secrets.wat', hasSecrets, values), fragmentValues('OUTBOUND', 'outbound.wat', !!options.outbound, values), fragmentValues('KV', 'kv.wat', !!options.kv, values), {
    SECRETS_EMIT: hasSecrets ? '(call $emit_secrets)' : '',
    OUTBOUND_INIT: options.outbound ? '(call $ob_init)' : '',
    KV_INIT: options.kv ? '(call $kv_init)' : '',
  });
  // the host-independent half of wfn_http_v1 follows outbound.wat (shared with the component bridge)
  if (options.outbound) values.OUTBOUND_CODE += `\n${outboundChecksWat(values)}`;
  const text = fillPlaceholders(template, values, 'adapter.wat');

  return expandLiterals(text, LITS_BASE, LITS_ROOM, 'adapter.wat');
}

const memoryCache = new Map<string, Uint8Array>();

/** Kept here too: the Fastly tests compile their WAT fixtures with it. */
export { compileWat };

/**
 * The adapter module for a function with these options. `cacheDir`, when given, keeps
 * compiled adapters on disk between runs (keyed by the expanded text's SHA-256).
 */
export async function buildAdapter(options: AdapterOptions, cacheDir?: string): Promise<Uint8Array> {
  const text = expandAdapterWat(readFileSync(adapterWatPath(), 'utf8'), options);
  const key = createHash('sha256').update(text).digest('hex');
  const cached = memoryCache.get(key);
  if (cached) return cached;
  const file = cacheDir ? path.join(cacheDir, `adapter-${key.slice(0, 16)}.wasm`) : undefined;
  if (file && existsSync(file)) {
    const bytes = new Uint8Array(readFileSync(file));
    memoryCache.set(key, bytes);
    return bytes;
  }
  const bytes = await compileWat(text);
  memoryCache.set(key, bytes);
  if (file) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, bytes);
  }
  return bytes;
}
