/**
 * Outbound HTTP and secrets on a target's local emulator, the same checks for every target:
 * a function importing wfn_http_v1 (test/fixtures/outbound/proxy.wat), packaged as deploy
 * would and served by the target's emulator (`wfn dev --target <t>`), against a loopback
 * upstream. The fixture forwards method, path and body, sends two `x-from` lines, follows
 * redirects, answers the upstream's status, all its headers and its body (64 KiB at a time);
 * a failed call answers 502 with the error's message and code. Each target's file calls
 * `outboundSuite` and adds what only it has.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../src/config/types.js';
import { DEFAULT_OUTBOUND, type OutboundSettings } from '../../src/runtime/outbound/abi.js';
import type { Artifact, Emulator, TargetAdapter } from '../../src/target/types.js';
import { request } from '../helpers/http.js';
import { closedPort, sha256, startUpstream, testBytes, type Upstream } from '../helpers/upstream.js';
import { wat2wasm } from '../helpers/wat.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
export const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');

export interface OutboundTarget {
  adapter: TargetAdapter;
  /**
   * True when the response body streams into the function (Fastly): a body found too large
   * while streaming fails a body_read after the head is out (the fixture exits: 500). Hosts
   * that read the whole body in `send` refuse it there (502, code 4).
   */
  streamsBodies: boolean;
  /**
   * False when the host hands on the body as the upstream sent it (wasi:http engines: no
   * fetch() in between): a gzip response keeps its content-encoding and its gzip bytes.
   */
  decodesBodies?: boolean;
  /**
   * False when the host gives repeated set-cookie lines as one value joined with "," (jco's
   * preview2-shim reads node's `res.headers`, where set-cookie is an array, and encodes it
   * as a string).
   */
  setCookieApart?: boolean;
  /**
   * True when the function's own response streams to the client once past what the host holds
   * (64 KiB in the component bridge): a failure after that cuts the response off, where a host
   * that holds it all answers 500.
   */
  cutsOffStartedResponses?: boolean;
  /** False when the package has no way to carry secrets (the component: wasi:http/proxy has none). */
  secrets?: boolean;
}

/** What a target file needs to add its own cases. */
export interface OutboundContext {
  dir: string;
  upstream: Upstream;
  proxyWasm: string;
  artifact(name: string, env: Record<string, string>, outbound: Partial<OutboundSettings>, more?: Partial<Artifact>): Promise<Artifact>;
}

export function outboundSuite(target: OutboundTarget, extra?: (ctx: () => OutboundContext) => void): void {
  const { adapter } = target;
  let dir: string;
  let upstream: Upstream;
  let proxyWasm: string;

  async function artifact(name: string, env: Record<string, string>, outbound: Partial<OutboundSettings>, more: Partial<Artifact> = {}): Promise<Artifact> {
    const projectDir = await mkdtemp(path.join(dir, `${name}-`));
    return { name, wasmPath: proxyWasm, env, secrets: [], limits: { ...DEFAULT_LIMITS, timeoutMs: 8000 }, outbound: { ...DEFAULT_OUTBOUND, ...outbound }, projectDir, ...more };
  }

  /** Packages the artifact as deploy would and serves it as `wfn dev --target <t>` does. */
  async function serve(a: Artifact, logs: string[] = []): Promise<Emulator> {
    const bundle = await adapter.package(a);
    return adapter.emulate(bundle, { host: '127.0.0.1', port: 0, log: (line) => logs.push(line) });
  }

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), `wfn-${adapter.name}-outbound-`));
    upstream = await startUpstream();
    proxyWasm = path.join(dir, 'proxy.wasm');
    await writeFile(proxyWasm, await wat2wasm(await readFile(path.join(FIXTURES, 'outbound', 'proxy.wat'), 'utf8'), 'proxy.wat'));
  });

  afterAll(async () => {
    await upstream?.close();
  });

  describe(`outbound HTTP on the ${adapter.name} emulator (the shipped package)`, () => {
    let emulator: Emulator;
    const logs: string[] = [];

    beforeAll(async () => {
      emulator = await serve(
        await artifact('proxy', { UPSTREAM: upstream.origin }, { allow: [`http://127.0.0.1:${upstream.port}`], timeoutMs: 1500, maxResponseBytes: 4 * 1024 * 1024 }),
        logs,
      );
    });
    afterAll(async () => {
      await emulator?.close();
    });

    it('passes status, headers and a binary body through byte for byte', async () => {
      const small = await request(`${emulator.url}bytes?n=4096`);
      expect(small.status).toBe(200);
      expect(Buffer.compare(small.body, testBytes(4096))).toBe(0);
      expect(small.headers).toContainEqual(['x-upstream-status', '200']);
      expect(small.headers).toContainEqual(['content-type', 'application/octet-stream']);
    });

    it('passes a 3 MiB body, with and without a content-length', async () => {
      const n = 3 * 1024 * 1024;
      for (const route of ['bytes', 'chunked']) {
        const res = await request(`${emulator.url}${route}?n=${n}`);
        expect(res.status).toBe(200);
        expect(res.body.length).toBe(n);
        expect(sha256(res.body)).toBe(sha256(testBytes(n)));
      }
    });

    it(target.decodesBodies === false ? 'hands on a gzip response as it came, content-encoding kept' : 'hands on the decoded body of a gzip response, without content-encoding', async () => {
      const res = await request(`${emulator.url}gzip?n=100000`);
      expect(res.status).toBe(200);
      if (target.decodesBodies === false) {
        expect(sha256(gunzipSync(res.body))).toBe(sha256(testBytes(100000)));
        expect(res.headers).toContainEqual(['content-encoding', 'gzip']);
        return;
      }
      expect(sha256(res.body)).toBe(sha256(testBytes(100000)));
      expect(res.headers.map(([k]) => k)).not.toContain('content-encoding');
    });

    it('forwards method, path, query and body; repeated request and response header names are kept', async () => {
      const body = testBytes(3000);
      const res = await request(`${emulator.url}echo/a%20b?x=1&y=%C3%A9`, { method: 'POST', body });
      expect(res.status).toBe(200);
      const got = JSON.parse(text(res.body)) as { method: string; url: string; rawHeaders: string[]; length: number; sha256: string };
      expect(got).toMatchObject({ method: 'POST', url: '/echo/a%20b?x=1&y=%C3%A9', length: 3000, sha256: sha256(body) });
      const pairs = got.rawHeaders.flatMap((v, i) => (i % 2 === 0 ? [[v.toLowerCase(), got.rawHeaders[i + 1]]] : []));
      expect(pairs.filter(([k]) => k === 'x-from')).toEqual([['x-from', 'wfn'], ['x-from', 'twice']]);
      expect(pairs).toContainEqual(['host', `127.0.0.1:${upstream.port}`]);

      const repeated = await request(`${emulator.url}headers`);
      expect(repeated.status).toBe(200);
      expect(repeated.headers.filter(([k]) => k === 'set-cookie')).toEqual(
        target.setCookieApart === false ? [['set-cookie', 'a=1,b=2']] : [['set-cookie', 'a=1'], ['set-cookie', 'b=2']],
      );
      // Other repeated names may come joined (what fetch() gives): the values, in order, are kept.
      expect(repeated.headers.filter(([k]) => k === 'x-multi').map(([, v]) => v).join(', ')).toBe('one, two');
    });

    it('follows redirects (a 303 turns a POST into a GET without body) and refuses a hop to a denied origin', async () => {
      const followed = await request(`${emulator.url}redirect/303?to=${encodeURIComponent('/echo/after?z=1')}`, { method: 'POST', body: new TextEncoder().encode('data') });
      expect(followed.status).toBe(200);
      expect(JSON.parse(text(followed.body))).toMatchObject({ method: 'GET', url: '/echo/after?z=1', length: 0 });
      const chain = await request(`${emulator.url}chain/5`);
      expect(JSON.parse(text(chain.body))).toMatchObject({ method: 'GET', url: '/echo' });

      const denied = await request(`${emulator.url}redirect/302?to=${encodeURIComponent(`http://localhost:${upstream.port}/echo`)}`);
      expect(denied.status).toBe(502);
      expect(text(denied.body)).toBe(
        `outbound request to http://127.0.0.1:${upstream.port} redirected to http://localhost:${upstream.port}, denied: not in [outbound] allow of wfn.toml (code 1)`,
      );
    });

    it('an upstream that never answers ends at the call timeout (502, code 3) while others are answered, with a log line', async () => {
      const before = logs.length;
      const slow = request(`${emulator.url}hang`);
      const quick = await request(`${emulator.url}bytes?n=10`);
      expect(quick.status).toBe(200);
      const res = await slow;
      expect(res.status).toBe(502);
      expect(text(res.body)).toBe(`outbound request to http://127.0.0.1:${upstream.port} timed out after 1500 ms ([outbound] timeout_ms of wfn.toml) (code 3)`);
      expect(logs.slice(before).join('\n')).toContain(`wfn outbound: outbound request to http://127.0.0.1:${upstream.port} timed out`);
    });

    it('a body over max_response_bytes is refused (declared, or found while reading)', async () => {
      const declared = await request(`${emulator.url}bytes?n=${5 * 1024 * 1024}`);
      expect(declared.status).toBe(502);
      expect(text(declared.body)).toMatch(/^outbound response from http:\/\/127\.0\.0\.1:\d+ is larger than 4194304 bytes \(\[outbound\] max_response_bytes of wfn\.toml\) \(code 4\)$/);
      if (target.cutsOffStartedResponses) {
        // The function's response streams out past its first 64 KiB: when the fixture exits
        // (10 + code) the client has the head and 4 MiB already, so the response is cut off.
        await expect(request(`${emulator.url}chunked?n=${5 * 1024 * 1024}`)).rejects.toThrow(/aborted|socket hang up|ECONNRESET/);
      } else {
        const found = await request(`${emulator.url}chunked?n=${5 * 1024 * 1024}`);
        // Streaming hosts: the head is out already, so the fixture exits (10 + code).
        expect(found.status).toBe(target.streamsBodies ? 500 : 502);
      }
      expect(logs.join('\n')).toMatch(/wfn outbound: outbound response from http:\/\/127\.0\.0\.1:\d+ is larger than 4194304 bytes/);
    });
  });

  describe(`outbound failures on the ${adapter.name} emulator`, () => {
    it('a denied origin gives 502 and one log line naming the origin, never the path', async () => {
      const logs: string[] = [];
      const emulator = await serve(await artifact('denied', { UPSTREAM: `http://localhost:${upstream.port}` }, { allow: [`http://127.0.0.1:${upstream.port}`] }), logs);
      try {
        const res = await request(`${emulator.url}secret/path?key=hidden`);
        expect(res.status).toBe(502);
        expect(text(res.body)).toBe(`outbound request to http://localhost:${upstream.port} denied: not in [outbound] allow of wfn.toml (code 1)`);
        const lines = logs.filter((l) => l.includes('wfn outbound:'));
        expect(lines).toHaveLength(1);
        expect(lines[0]).not.toMatch(/secret|hidden/);
      } finally {
        await emulator.close();
      }
    });

    it('an unreachable upstream gives 502 (code 2); no [outbound] section denies everything', async () => {
      const port = await closedPort();
      const emulator = await serve(await artifact('unreachable', { UPSTREAM: `http://127.0.0.1:${port}` }, { allow: [`http://127.0.0.1:${port}`] }));
      const none = await serve(await artifact('none', { UPSTREAM: upstream.origin }, {}));
      try {
        const res = await request(`${emulator.url}x`);
        expect(res.status).toBe(502);
        expect(text(res.body)).toMatch(new RegExp(`^outbound request to http://127\\.0\\.0\\.1:${port} failed: .+ \\(code 2\\)$`));
        const denied = await request(`${none.url}x`);
        expect(text(denied.body)).toMatch(/denied: not in \[outbound\] allow of wfn\.toml \(code 1\)$/);
      } finally {
        await emulator.close();
        await none.close();
      }
    });

    it('max_calls counts every call of an invocation (LIMIT, code 8, past it); within it, repeated calls to one origin work', async () => {
      const within = await serve(await artifact('calls-ok', { UPSTREAM: upstream.origin, CALLS: '3' }, { allow: [upstream.origin], maxCalls: 3 }));
      const over = await serve(await artifact('calls-over', { UPSTREAM: upstream.origin, CALLS: '3' }, { allow: [upstream.origin], maxCalls: 2 }));
      try {
        const ok = await request(`${within.url}bytes?n=100`);
        expect(ok.status).toBe(200);
        expect(Buffer.compare(ok.body, testBytes(100))).toBe(0);
        const refused = await request(`${over.url}bytes?n=100`);
        expect(refused.status).toBe(502);
        expect(text(refused.body)).toBe('outbound request refused: more than 2 calls in one invocation ([outbound] max_calls of wfn.toml) (code 8)');
      } finally {
        await within.close();
        await over.close();
      }
    });

    it("the function's own shorter timeout for the call (send flags bits 8-31) wins, and says so", async () => {
      const own = await serve(await artifact('own-timeout', { UPSTREAM: upstream.origin, CALL_TIMEOUT_MS: '300' }, { allow: [upstream.origin], timeoutMs: 5000 }));
      try {
        const res = await request(`${own.url}hang`);
        expect(res.status).toBe(502);
        expect(text(res.body)).toBe(`outbound request to http://127.0.0.1:${upstream.port} timed out after 300 ms (the timeout the function set for this call) (code 3)`);
      } finally {
        await own.close();
      }
    });

    it('the function timeout wins over a longer call timeout: 504, and the emulator keeps answering', async () => {
      const a = await artifact('slow', { UPSTREAM: upstream.origin }, { allow: [upstream.origin], timeoutMs: 60_000 });
      a.limits = { ...a.limits, timeoutMs: 2500 };
      const emulator = await serve(a);
      try {
        // Warm first (workers, network threads, the isolate): the test is about the timeout, not start-up.
        await Promise.all([request(`${emulator.url}bytes?n=5`), request(`${emulator.url}bytes?n=5`)]);
        const slow = request(`${emulator.url}hang`);
        const quick = await request(`${emulator.url}bytes?n=5`);
        expect(quick.status).toBe(200);
        expect((await slow).status).toBe(504);
        expect((await request(`${emulator.url}bytes?n=5`)).status).toBe(200);
      } finally {
        await emulator.close();
      }
    });
  });

  // A target that refuses secrets (the component: its packaging says so, tested there) has no such cases: not a skip.
  if (target.secrets !== false) describe(`secrets on the ${adapter.name} emulator`, () => {
    const CANARY = 'canary-7f3e1d9a-not-for-logs';

    it('reach the function as variables; never in the package, the logs or the answer headers', async () => {
      const echo = path.join(dir, 'echo.wasm');
      await writeFile(echo, await wat2wasm(await readFile(path.join(FIXTURES, 'fastly', 'echo.wat'), 'utf8'), 'echo.wat'));
      const a = await artifact('secrets', { PLAIN: 'visible' }, {}, { wasmPath: echo, secrets: ['API_KEY', 'MISSING_ONE'] });
      const logs: string[] = [];
      const saved = process.env.API_KEY;
      process.env.API_KEY = CANARY;
      delete process.env.MISSING_ONE;
      let emulator: Emulator | undefined;
      try {
        const bundle = await adapter.package(a);
        emulator = await adapter.emulate(bundle, { host: '127.0.0.1', port: 0, log: (l) => logs.push(l) });
        const res = await request(emulator.url);
        expect(res.status).toBe(201);
        expect(text(res.body)).toContain(`API_KEY=${CANARY}`);
        expect(text(res.body)).toContain('PLAIN=visible');
        expect(text(res.body)).not.toContain('MISSING_ONE=');
        for (const file of bundle.files) {
          expect((await readFile(path.join(bundle.dir, file.path))).includes(CANARY), file.path).toBe(false);
        }
        expect(logs.join('\n')).not.toContain(CANARY);
        expect(logs.join('\n')).toContain('secret MISSING_ONE not set in this shell');
        expect(JSON.stringify(res.headers)).not.toContain(CANARY);
      } finally {
        if (saved === undefined) delete process.env.API_KEY;
        else process.env.API_KEY = saved;
        await emulator?.close();
      }
    });
  });

  extra?.(() => ({ dir, upstream, proxyWasm, artifact }));
}
