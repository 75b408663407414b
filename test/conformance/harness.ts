/**
 * The conformance table: every example function and contract fixture, through a target's
 * emulator, must give the same status, function headers and body as through `wfn dev`.
 * Each target adds one column: a file test/conformance/<target>.test.ts calling
 * `conformanceSuite('<target>', startEmulator)`.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer } from '../../src/project/dev.js';
import { CONTRACT_CASES } from '../fixtures/contract.js';
import { functionHeaders, request, type RawResponse } from '../helpers/http.js';
import { wat2wasm } from '../helpers/wat.js';
import { buildTemplate } from '../helpers/templates.js';

export interface ConformanceRequest {
  method?: string;
  path?: string;
  headers?: [string, string][];
  body?: Uint8Array;
}

export interface ConformanceFunction {
  name: string;
  wasmPath: string;
  /** The function's configured variables. */
  env?: Record<string, string>;
  requests: ConformanceRequest[];
}

/** Starts the target's emulator on the given .wasm (packaging it exactly as deploy would) with these variables. */
export type StartEmulator = (wasmPath: string, env: Record<string, string>) => Promise<{ url: string; close(): Promise<void> }>;

const enc = (s: string) => new TextEncoder().encode(s);

/** The example functions (built from the AssemblyScript templates) and the contract fixtures. */
export async function conformanceFunctions(): Promise<ConformanceFunction[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'wfn-conformance-'));
  const fns: ConformanceFunction[] = [];
  for (const c of CONTRACT_CASES) {
    const file = path.join(dir, `${c.name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.wasm`);
    await writeFile(file, await wat2wasm(c.wat));
    fns.push({ name: `fixture: ${c.name}`, wasmPath: file, requests: [c.request ?? {}] });
  }
  fns.push({
    name: 'assemblyscript http template',
    wasmPath: await buildTemplate('assemblyscript', 'http'),
    requests: [
      { path: '/hello/world?name=wasm&x=a+b%21&x=last' },
      { method: 'POST', path: '/submit', headers: [['content-type', 'text/plain']], body: enc('héllo "quoted"\n\tbody') },
    ],
  });
  // Outbound HTTP with no [outbound] allow (a bare .wasm): every host refuses the call itself,
  // with the same 502 and message, before any network is touched.
  fns.push({
    name: 'assemblyscript proxy template (outbound denied)',
    wasmPath: await buildTemplate('assemblyscript', 'proxy'),
    env: { UPSTREAM: 'http://127.0.0.1:9' },
    requests: [{ path: '/x?y=1' }, { method: 'POST', path: '/submit', headers: [['content-type', 'text/plain']], body: enc('payload') }],
  });
  fns.push({
    name: 'assemblyscript fib template',
    wasmPath: await buildTemplate('assemblyscript', 'fib'),
    requests: [{ path: '/?n=20' }, { path: '/?n=abc' }],
  });
  return fns;
}

export interface Answer {
  status: number;
  headers: [string, string][];
  body: Buffer;
}

export async function ask(base: string, r: ConformanceRequest): Promise<Answer> {
  const res: RawResponse = await request(new URL((r.path ?? '/').replace(/^\//, ''), base).href, { method: r.method, headers: r.headers, body: r.body });
  return { status: res.status, headers: functionHeaders(res.headers), body: res.body };
}

/** Where a target is known to differ from `wfn dev`, each difference asserted exactly (a fixed host fails the test, and the entry goes). */
export interface ConformanceOptions {
  /** Functions the target refuses to package (by name), with the error it must give. */
  refuses?: { name: string; error: RegExp }[];
  /** Requests (by label, `<function> <METHOD> <path>`) the host answers differently, and how: what it gives instead of dev's answer. */
  hostDifferences?: { label: string; why: string; expect(want: Answer): Answer }[];
}

export function conformanceSuite(target: string, startEmulator: StartEmulator, options: ConformanceOptions = {}): void {
  describe(`conformance: ${target} answers as wfn dev does`, () => {
    let fns: ConformanceFunction[] = [];
    const servers: { close(): Promise<void> }[] = [];
    beforeAll(async () => {
      fns = await conformanceFunctions();
    });
    afterAll(async () => {
      await Promise.all(servers.map((s) => s.close()));
    });

    it('every function and fixture gives identical status, headers and body', async () => {
      const mismatches: string[] = [];
      for (const fn of fns) {
        const refused = options.refuses?.find((x) => x.name === fn.name);
        if (refused) {
          await expect(startEmulator(fn.wasmPath, fn.env ?? {})).rejects.toThrow(refused.error);
          continue;
        }
        const dev: DevServer = await startDevServer({ host: '127.0.0.1', port: 0, wasmPath: fn.wasmPath, env: fn.env, log: () => {}, progress: () => {} });
        const emulator = await startEmulator(fn.wasmPath, fn.env ?? {});
        try {
          for (const r of fn.requests) {
            const label = `${fn.name} ${r.method ?? 'GET'} ${r.path ?? '/'}`;
            const difference = options.hostDifferences?.find((d) => d.label === label);
            const devAnswer = await ask(dev.url, r);
            const want = difference ? difference.expect(devAnswer) : devAnswer;
            const got = await ask(emulator.url, r);
            if (got.status !== want.status) mismatches.push(`${label}: status ${got.status}, dev ${want.status}`);
            if (JSON.stringify(got.headers) !== JSON.stringify(want.headers)) mismatches.push(`${label}: headers ${JSON.stringify(got.headers)}, dev ${JSON.stringify(want.headers)}`);
            if (Buffer.compare(got.body, want.body) !== 0) mismatches.push(`${label}: body (${got.body.length} bytes) differs from dev's (${want.body.length} bytes): ${got.body.subarray(0, 120).toString()}`);
          }
        } finally {
          await emulator.close();
          await dev.close();
        }
      }
      expect(mismatches).toEqual([]);
    });
  });
}
