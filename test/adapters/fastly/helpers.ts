/** Shared by the Fastly tests: build guests, merge them, run them both ways. */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { compileWat } from '../../../adapters/fastly/adapter-module.js';
import { runFastly, type FastlyRunResult } from '../../../adapters/fastly/emulator/run.js';
import { mergeFunction } from '../../../adapters/fastly/merge.js';
import { readImports } from '../../../src/runtime/wasm-imports.js';
import { invokeHttp } from '../../../src/runtime/invoke.js';
import type { HttpRequest, InvokeResult } from '../../../src/runtime/types.js';

export const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'fastly');

export async function watFixture(name: string): Promise<Uint8Array> {
  return compileWat(readFileSync(path.join(FIXTURES, name), 'utf8'), name);
}

export interface Prepared {
  fn: WebAssembly.Module;
  merged: WebAssembly.Module;
  mergedBytes: Uint8Array;
  env: Record<string, string>;
}

export async function prepare(fnBytes: Uint8Array, env: Record<string, string> = {}): Promise<Prepared> {
  const merged = await mergeFunction(fnBytes, { env });
  return {
    fn: await WebAssembly.compile(fnBytes as BufferSource),
    merged: await WebAssembly.compile(merged.wasm as BufferSource),
    mergedBytes: merged.wasm,
    env,
  };
}

export function request(url: string, init: Partial<HttpRequest> = {}): HttpRequest {
  const u = new URL(url);
  return {
    method: init.method ?? 'GET',
    url: u.href,
    headers: init.headers ?? [['host', u.host], ['user-agent', 'wfn-test']],
    body: init.body ?? new Uint8Array(0),
    remoteAddr: init.remoteAddr ?? '127.0.0.1',
  };
}

export async function viaWfn(p: Prepared, req: HttpRequest): Promise<InvokeResult> {
  return invokeHttp(p.fn, req, { route: '/', env: p.env });
}

export async function viaFastly(p: Prepared, req: HttpRequest): Promise<FastlyRunResult> {
  return runFastly(p.merged, req, { imports: readImports(p.mergedBytes) });
}

export const text = (b: Uint8Array) => new TextDecoder().decode(b);

const REPO = path.resolve(FIXTURES, '..', '..', '..');

/**
 * test/fixtures/fastly/<name>.js built by Fastly's own toolchain (@fastly/js-compute, offline,
 * no --enable-aot), cached in the temp folder by content.
 */
export async function buildJsCompute(name: string): Promise<string> {
  const source = path.join(FIXTURES, `${name}.js`);
  const pkg = readFileSync(path.join(REPO, 'node_modules', '@fastly', 'js-compute', 'package.json'), 'utf8');
  const key = createHash('sha256').update(readFileSync(source)).update(pkg).digest('hex').slice(0, 16);
  const dir = path.join(os.tmpdir(), 'wfn-fastly-test-cache');
  const out = path.join(dir, `${name}-${key}.wasm`);
  if (existsSync(out)) return out;
  await mkdir(dir, { recursive: true });
  const bin = path.join(REPO, 'node_modules', '@fastly', 'js-compute', 'dist', 'cli', 'js-compute-runtime-cli.js');
  const tmp = `${out}.${process.pid}.tmp`;
  await promisify(execFile)(process.execPath, [bin, source, tmp], { timeout: 180_000 });
  await rename(tmp, out);
  return out;
}

/** test/fixtures/fastly/js-compute-hello.js built by Fastly's own toolchain. */
export function buildJsComputeHello(): Promise<string> {
  return buildJsCompute('js-compute-hello');
}
