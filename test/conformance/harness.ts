/**
 * The conformance table: every contract fixture and every language's http, fib and init
 * templates (built once as `wfn build` ships them), through a target's emulator, must give the
 * same status, function headers and body as through `wfn dev`.
 * Each target adds one column: a file test/conformance/<target>.test.ts calling
 * `conformanceSuite('<target>', startEmulator)`.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Language } from '../../src/config/types.js';
import { startDevServer, type DevServer } from '../../src/project/dev.js';
import { ToolchainMissingError } from '../../src/util/errors.js';
import { CONTRACT_CASES } from '../fixtures/contract.js';
import { functionHeaders, request, type RawResponse } from '../helpers/http.js';
import { wat2wasm } from '../helpers/wat.js';
import { buildTemplates } from '../helpers/templates.js';

export interface ConformanceRequest {
  method?: string;
  path?: string;
  headers?: [string, string][];
  body?: Uint8Array;
  /** The status `wfn dev` must give (so two targets failing alike cannot pass as agreeing). */
  status?: number;
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

export const TEMPLATE_LANGUAGES: Language[] = ['assemblyscript', 'rust', 'go', 'js'];

/** What each template is asked: an answer, and the 400 for bad input (a Status line). */
const TEMPLATE_REQUESTS: Record<'http' | 'fib' | 'init', ConformanceRequest[]> = {
  http: [
    { path: '/hello/w%C3%B6rld?name=wasm&x=a+b%21&x=last&empty', status: 200 },
    { method: 'POST', path: '/submit', headers: [['content-type', 'text/plain']], body: enc('héllo "quoted"\n\tbody'), status: 200 },
  ],
  fib: [{ path: '/?n=20', status: 200 }, { path: '/?n=abc', status: 400 }],
  init: [{ path: '/?n=97', status: 200 }, { path: '/?n=x', status: 400 }],
};

/** The template's .wasm, or undefined when its toolchain is missing here (an error under CI=true). */
function usable(language: string, template: string, result: string | Error | undefined): string | undefined {
  if (typeof result === 'string') return result;
  if (result instanceof ToolchainMissingError && process.env.CI !== 'true') {
    console.warn(`conformance: ${language} ${template} left out: ${result.message} (CI=true fails instead)`);
    return undefined;
  }
  throw result ?? new Error(`${language} ${template}: not built`);
}

/** The example functions (every language's templates) and the contract fixtures. */
export async function conformanceFunctions(): Promise<ConformanceFunction[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'wfn-conformance-'));
  const fns: ConformanceFunction[] = [];
  for (const c of CONTRACT_CASES) {
    const file = path.join(dir, `${c.name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.wasm`);
    await writeFile(file, await wat2wasm(c.wat));
    fns.push({ name: `fixture: ${c.name}`, wasmPath: file, requests: [c.request ?? {}] });
  }
  // Every language's http, fib and init templates, built once (test/helpers/templates.ts shares
  // the build across the five columns) and run as shipped.
  const templates = ['http', 'fib', 'init'] as const;
  const wanted = TEMPLATE_LANGUAGES.flatMap((language) => templates.map((template): [string, string] => [language, template]));
  const built = await buildTemplates([...wanted, ['assemblyscript', 'proxy']]);
  for (const [language, template] of wanted) {
    const wasmPath = usable(language, template, built.get(`${language}/${template}`));
    if (wasmPath) fns.push({ name: `${language} ${template} template`, wasmPath, requests: TEMPLATE_REQUESTS[template as keyof typeof TEMPLATE_REQUESTS] });
  }
  // Outbound HTTP with no [outbound] allow (a bare .wasm): every host refuses the call itself,
  // with the same 502 and message, before any network is touched.
  fns.push({
    name: 'assemblyscript proxy template (outbound denied)',
    wasmPath: usable('assemblyscript', 'proxy', built.get('assemblyscript/proxy'))!,
    env: { UPSTREAM: 'http://127.0.0.1:9' },
    requests: [{ path: '/x?y=1' }, { method: 'POST', path: '/submit', headers: [['content-type', 'text/plain']], body: enc('payload') }],
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
    }, 1_800_000); // twelve template builds when the shared cache is cold (CI), on a busy machine
    afterAll(async () => {
      await Promise.all(servers.map((s) => s.close()));
    });

    it('every function and fixture gives identical status, headers and body', async () => {
      const mismatches: string[] = [];
      const compare = async (fn: ConformanceFunction) => {
        const refused = options.refuses?.find((x) => x.name === fn.name);
        if (refused) {
          await expect(startEmulator(fn.wasmPath, fn.env ?? {})).rejects.toThrow(refused.error);
          return;
        }
        // The two servers start side by side: most of their start is waiting (workerd, sandboxes).
        const started = await Promise.allSettled([
          startDevServer({ host: '127.0.0.1', port: 0, wasmPath: fn.wasmPath, env: fn.env, log: () => {}, progress: () => {} }) as Promise<DevServer>,
          startEmulator(fn.wasmPath, fn.env ?? {}),
        ]);
        const failed = started.find((r) => r.status === 'rejected');
        if (failed) {
          await Promise.all(started.map((r) => (r.status === 'fulfilled' ? r.value.close() : undefined)));
          throw new Error(`${fn.name}: ${(failed as PromiseRejectedResult).reason}`);
        }
        const [dev, emulator] = started.map((r) => (r as PromiseFulfilledResult<{ url: string; close(): Promise<void> }>).value);
        try {
          for (const r of fn.requests) {
            const label = `${fn.name} ${r.method ?? 'GET'} ${r.path ?? '/'}`;
            const difference = options.hostDifferences?.find((d) => d.label === label);
            const devAnswer = await ask(dev.url, r);
            const want = difference ? difference.expect(devAnswer) : devAnswer;
            const got = await ask(emulator.url, r);
            if (r.status !== undefined && devAnswer.status !== r.status) mismatches.push(`${label}: wfn dev answered ${devAnswer.status}, not ${r.status}`);
            if (got.status !== want.status) mismatches.push(`${label}: status ${got.status}, dev ${want.status}`);
            if (JSON.stringify(got.headers) !== JSON.stringify(want.headers)) mismatches.push(`${label}: headers ${JSON.stringify(got.headers)}, dev ${JSON.stringify(want.headers)}`);
            if (Buffer.compare(got.body, want.body) !== 0) mismatches.push(`${label}: body (${got.body.length} bytes) differs from dev's (${want.body.length} bytes): ${got.body.subarray(0, 120).toString()}`);
          }
        } finally {
          await Promise.all([emulator.close(), dev.close()]);
        }
      };
      // Three functions at a time: each pair of servers is independent of the others.
      const queue = [...fns];
      await Promise.all([1, 2, 3].map(async () => {
        for (let fn = queue.shift(); fn; fn = queue.shift()) await compare(fn);
      }));
      expect(mismatches).toEqual([]);
      // Under CI every language's templates are in the table (locally a missing toolchain leaves its language out, with a warning).
      if (process.env.CI === 'true') expect(fns.filter((f) => f.name.endsWith(' template')).length).toBe(TEMPLATE_LANGUAGES.length * 3);
    }, 900_000); // ~26 functions, each with its own emulator (workerd, Lambda sandboxes...), on a busy machine
  });
}
