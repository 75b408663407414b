/** `wfn run`: one invocation in-process (in a worker, so the timeout holds), no server. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../config/load.js';
import { missingSecretsMessage, secretValues } from '../config/secrets.js';
import { DEFAULT_LIMITS } from '../config/types.js';
import { loadFunction } from '../runtime/node/load.js';
import { WorkerPool } from '../runtime/node/pool.js';
import type { HttpRequest, InvokeResult } from '../runtime/types.js';
import type { OutboundSettings } from '../runtime/outbound/abi.js';
import { projectKvDir } from '../runtime/node/kv-sqlite.js';
import type { KvHosting } from '../runtime/node/pool.js';
import { UserError } from '../util/errors.js';
import { mapBundleStack } from '../toolchains/javascript/stack.js';
import { resolveFunctionSource } from './resolve.js';

/** A JavaScript function's stack traces point at the user's files, not the bundle. */
function mapStderr(stderr: Uint8Array, projectDir: string): Uint8Array {
  const text = new TextDecoder().decode(stderr);
  const mapped = mapBundleStack(text, projectDir);
  return mapped === text ? stderr : new TextEncoder().encode(mapped);
}

export interface RunOnceOptions {
  target?: string;
  path: string;
  method: string;
  headers: string[];
  data?: string;
  memoryMiB?: number;
  timeoutMs?: number;
  log(message: string): void;
}

export function parseHeader(line: string): [string, string] {
  const colon = line.indexOf(':');
  if (colon <= 0) throw new UserError(`--header "${line}" is not "Name: value".`);
  return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
}

async function requestBody(data: string | undefined): Promise<Uint8Array> {
  if (data === undefined) return new Uint8Array(0);
  if (data.startsWith('@')) {
    try {
      return new Uint8Array(await readFile(data.slice(1)));
    } catch {
      throw new UserError(`Cannot read ${data.slice(1)} (from --data ${data}).`);
    }
  }
  return new TextEncoder().encode(data);
}

export async function runOnce(options: RunOnceOptions): Promise<InvokeResult> {
  const source = resolveFunctionSource(options.target);
  let wasmPath: string;
  let env: Record<string, string> = {};
  let route = '/';
  let limits = DEFAULT_LIMITS;
  let outbound: OutboundSettings | undefined;
  let kv: KvHosting | undefined;
  if (source.kind === 'project') {
    const config = await loadConfig(source.dir);
    const { buildProject } = await import('../pipeline/build.js');
    const built = await buildProject(config, { log: options.log });
    if (!built.cached) options.log(`built ${path.relative(process.cwd(), built.artifact)}`);
    wasmPath = built.artifact;
    const secrets = secretValues(config.secrets, process.env);
    if (secrets.missing.length > 0) options.log(`warning: ${missingSecretsMessage(secrets.missing)}`);
    env = { ...config.env, ...secrets.values };
    route = config.route;
    limits = config.limits;
    outbound = config.outbound;
    kv = { settings: config.kv, backend: { kind: 'sqlite', dir: projectKvDir(source.dir) } };
  } else {
    wasmPath = source.path;
  }
  const fn = await loadFunction(wasmPath, {
    memoryMiB: options.memoryMiB ?? limits.memoryMiB,
    timeoutMs: options.timeoutMs ?? limits.timeoutMs,
    fn: { route, env },
    outbound,
    kv,
  });
  const headers = options.headers.map(parseHeader);
  const body = await requestBody(options.data);
  if (body.length > 0 && !headers.some(([k]) => k === 'content-type')) headers.push(['content-type', 'application/x-www-form-urlencoded']);
  const reqPath = options.path.startsWith('/') ? options.path : `/${options.path}`;
  const request: HttpRequest = { method: options.method.toUpperCase(), url: `http://localhost${reqPath}`, headers, body, remoteAddr: '127.0.0.1' };
  const pool = new WorkerPool(1);
  try {
    const result = await pool.invoke(fn, request);
    return source.kind === 'project' ? { ...result, stderr: mapStderr(result.stderr, source.dir) } : result;
  } finally {
    await pool.close();
  }
}
