// Outbound HTTP end to end: every language's proxy template, built once, on `wfn dev` (the
// dev server and its worker pool), a `wfn serve` deploy and `dev --target lambda|cloudflare|fastly|component`, against
// loopback upstreams. The same answers everywhere: the upstream's status, content type and body
// byte for byte (3 MiB binary too) plus x-upstream-status; 502 with the host's message and one
// log line when a call is denied, unreachable or times out; 504 at the function's own timeout
// while other requests are answered.
import { readFile, writeFile } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { adapter as cloudflare } from '../../adapters/cloudflare/index.js';
import { adapter as component } from '../../adapters/component/index.js';
import { adapter as fastly } from '../../adapters/fastly/index.js';
import { adapter as lambda } from '../../adapters/lambda/index.js';
import { loadConfig } from '../../src/config/load.js';
import type { Language } from '../../src/config/types.js';
import { buildProject } from '../../src/pipeline/build.js';
import { scaffoldProject } from '../../src/project/scaffold.js';
import { DEFAULT_OUTBOUND, type OutboundSettings } from '../../src/runtime/outbound/abi.js';
import { compileFunction } from '../../src/runtime/node/load.js';
import { WorkerPool } from '../../src/runtime/node/pool.js';
import { startDevServer } from '../../src/project/dev.js';
import type { HttpRequest, InvokeResult } from '../../src/runtime/types.js';
import { request } from '../helpers/http.js';
import { itWithToolchain } from '../helpers/toolchain-gate.js';
import { closedPort, sha256, startUpstream, testBytes, type Upstream } from '../helpers/upstream.js';
import { startTestServe } from '../server/serve/helpers.js';
import type { TargetAdapter } from '../../src/target/types.js';

const LANGUAGES: Language[] = ['rust', 'assemblyscript', 'go', 'js'];
const MiB3 = 3 * 1024 * 1024;

let upstream: Upstream;
let other: Upstream;
let pool: WorkerPool;
beforeAll(async () => {
  [upstream, other] = await Promise.all([startUpstream(), startUpstream()]);
  pool = new WorkerPool(2);
});
afterAll(async () => {
  await pool?.close();
  await Promise.all([upstream?.close(), other?.close()]);
});

const header = (r: { headers: [string, string][] }, name: string) => r.headers.find(([k]) => k === name)?.[1];
const settings = (over: Partial<OutboundSettings> = {}): OutboundSettings => ({ ...DEFAULT_OUTBOUND, allow: [upstream.origin], timeoutMs: 2000, ...over });

/** The proxy template in `language`, configured for the upstream, built once. */
async function buildProxy(language: Language): Promise<{ dir: string; wasm: Uint8Array }> {
  const parent = await mkdtemp(path.join(tmpdir(), `wfn-outbound-${language}-`));
  const project = await scaffoldProject(`proxy-${language === 'assemblyscript' ? 'as' : language}`, language, 'proxy', parent);
  const toml = path.join(project.dir, 'wfn.toml');
  const text = (await readFile(toml, 'utf8'))
    .replace(/^UPSTREAM = .*$/m, `UPSTREAM = "${upstream.url}"`)
    .replace(/^allow = .*$/m, `allow = ["${upstream.origin}"]\ntimeout_ms = 2000`);
  await writeFile(toml, text);
  const built = await buildProject(await loadConfig(project.dir));
  return { dir: project.dir, wasm: new Uint8Array(await readFile(built.artifact)) };
}

/** The answers every host must give for the proxy (base = where the function answers, ending in /). */
async function checkProxy(base: string, logs: () => string) {
  const [big, posted, notFound, redirected] = await Promise.all([
    request(`${base}bytes?n=${MiB3}`),
    request(`${base}echo/a%20b?x=1&y=%C3%A9`, { method: 'POST', headers: [['content-type', 'application/x-bin'], ['x-custom', 'yes']], body: testBytes(200_000) }),
    request(`${base}status/404`),
    request(`${base}redirect/302?to=/status/201`),
  ]);
  expect(big.status, big.body.subarray(0, 300).toString()).toBe(200);
  expect(header(big, 'x-upstream-status')).toBe('200');
  expect(header(big, 'content-type')).toBe('application/octet-stream');
  expect(big.body.length).toBe(MiB3);
  expect(Buffer.compare(big.body, testBytes(MiB3))).toBe(0);

  expect(posted.status).toBe(200);
  const seen = JSON.parse(posted.body.toString());
  expect(seen).toMatchObject({ method: 'POST', url: '/echo/a%20b?x=1&y=%C3%A9', length: 200_000, sha256: sha256(testBytes(200_000)) });
  expect(seen.headers).toMatchObject({ 'content-type': 'application/x-bin', 'x-custom': 'yes' });

  expect(notFound.status).toBe(404);
  expect(header(notFound, 'x-upstream-status')).toBe('404');
  expect(redirected.status).toBe(201);
  expect(redirected.body.toString()).toBe('status 201');

  // A redirect to an origin outside the allow list: 502 with the host's message, and a log line.
  const denied = await request(`${base}redirect/302?to=${encodeURIComponent(`${other.url}echo`)}`);
  const message = `outbound request to ${upstream.origin} redirected to ${other.origin}, denied: not in [outbound] allow of wfn.toml`;
  expect(denied.status).toBe(502);
  expect(denied.body.toString()).toBe(message);
  // One log line naming the refused origin (JavaScript follows redirects itself: its host refuses the hop as a call).
  expect(logs()).toMatch(new RegExp(`wfn outbound: outbound request to .*${other.origin.replace(/[.]/g, '\\.')}.*denied`));

  const hang = await request(`${base}hang`);
  expect(hang.status).toBe(502);
  expect(hang.body.toString()).toBe(`outbound request to ${upstream.origin} timed out after 2000 ms ([outbound] timeout_ms of wfn.toml)`);
}

function invoke(fn: Awaited<ReturnType<typeof compileFunction>>, path: string): Promise<InvokeResult> {
  const req: HttpRequest = { method: 'GET', url: `http://127.0.0.1${path}`, headers: [], body: new Uint8Array(0), remoteAddr: '127.0.0.1' };
  return pool.invoke(fn, req);
}

for (const language of LANGUAGES) {
  describe(`${language} proxy template`, async () => {
    const it = await itWithToolchain(language);
    let proxy: { dir: string; wasm: Uint8Array } | undefined;
    const built = async () => (proxy ??= await buildProxy(language));

    it('wfn dev: the upstream comes through byte for byte; denied redirects and timeouts are 502 with a log line', async () => {
      const { dir } = await built();
      const lines: string[] = [];
      const dev = await startDevServer({ host: '127.0.0.1', port: 0, projectDir: dir, watch: false, log: () => {}, progress: (m) => lines.push(m) });
      try {
        await checkProxy(dev.url, () => lines.join('\n'));
      } finally {
        await dev.close();
      }
    }, 600_000);

    it('the host pool: a denied origin and an unreachable one are 502; the function timeout is 504 while others are answered', async () => {
      const { wasm } = await built();
      const load = (upstreamUrl: string, timeoutMs: number, outbound: OutboundSettings) =>
        compileFunction(wasm, `${language} proxy`, { memoryMiB: 128, timeoutMs, fn: { route: '/', env: { UPSTREAM: upstreamUrl } }, outbound });
      const port = await closedPort();
      const [denied, unreachable] = await Promise.all([
        invoke(await load(other.url, 10_000, settings()), '/x'),
        invoke(await load(`http://127.0.0.1:${port}`, 10_000, settings({ allow: [`http://127.0.0.1:${port}`] })), '/x'),
      ]);
      expect(denied.response.status).toBe(502);
      expect(new TextDecoder().decode(denied.response.body)).toBe(`outbound request to ${other.origin} denied: not in [outbound] allow of wfn.toml`);
      expect(new TextDecoder().decode(denied.stderr)).toContain(`wfn outbound: outbound request to ${other.origin} denied`);
      expect(unreachable.response.status).toBe(502);
      expect(new TextDecoder().decode(unreachable.response.body)).toBe(`outbound request to http://127.0.0.1:${port} failed: connection refused (ECONNREFUSED)`);

      // The call would wait 60 s; the function's 500 ms timeout stops it (504) and the pool answers meanwhile.
      const slow = await load(upstream.url, 500, settings({ timeoutMs: 60_000 }));
      const fast = await load(upstream.url, 10_000, settings());
      const hanging = invoke(slow, '/hang');
      while (upstream.hanging() === 0) await new Promise((r) => setTimeout(r, 10));
      const answered = await invoke(fast, '/status/202');
      expect(answered.response.status).toBe(202);
      const stopped = await hanging;
      expect(stopped.response.status).toBe(504);
      expect(stopped.outcome).toBe('timeout');
      // The stopped function's call is aborted: the upstream sees its connection go.
      while (upstream.hanging() > 0) await new Promise((r) => setTimeout(r, 10));
    }, 600_000);

    it('wfn serve: deployed with its [outbound], the same answers; the function timeout is 504 while another function answers', async () => {
      const { wasm } = await built();
      const server = await startTestServe();
      try {
        const outbound = settings();
        await server.deploy('proxy', wasm, { env: { UPSTREAM: upstream.url }, outbound });
        await server.deploy('slow', wasm, { env: { UPSTREAM: upstream.url }, outbound: settings({ timeoutMs: 60_000 }), limits: { timeoutMs: 500 } });
        await checkProxy(`${server.url}/proxy/`, () => server.messages.join('\n'));
        const hanging = request(`${server.url}/slow/hang`);
        const answered = await request(`${server.url}/proxy/status/203`);
        expect(answered.status).toBe(203);
        expect((await hanging).status).toBe(504);
      } finally {
        await server.close();
      }
    }, 600_000);

    it('dev --target lambda: the packaged zip behaves the same; the Lambda timeout is 504 while another sandbox answers', async () => {
      const { dir } = await built();
      const config = await loadConfig(dir);
      const wasmPath = path.join(dir, 'dist', `${config.name}.wasm`);
      const lines: string[] = [];
      const artifact = (name: string, outbound: OutboundSettings, timeoutMs: number) =>
        ({ name, wasmPath, env: { UPSTREAM: upstream.url }, secrets: [], limits: { memoryMiB: 128, timeoutMs }, outbound, projectDir: path.join(dir, name) });
      const emulator = await lambda.emulate(await lambda.package(artifact('proxy', settings(), 10_000)), { host: '127.0.0.1', port: 0, log: (l) => lines.push(l) });
      const slow = await lambda.emulate(await lambda.package(artifact('slow', settings({ timeoutMs: 60_000 }), 1000)), { host: '127.0.0.1', port: 0, log: () => {} });
      try {
        await checkProxy(emulator.url, () => lines.join('\n'));
        const hanging = request(`${slow.url}hang`);
        while (upstream.hanging() === 0) await new Promise((r) => setTimeout(r, 10));
        expect((await request(`${emulator.url}status/203`)).status).toBe(203);
        expect((await hanging).status).toBe(504);
      } finally {
        await Promise.all([emulator.close(), slow.close()]);
      }
    }, 600_000);

    // The emulators running the shipped package: Cloudflare (workerd, JSPI), Fastly (the adapter
    // on hostcalls) and the component (the bridge on wasi:http/outgoing-handler, in jco serve).
    for (const target of [cloudflare, fastly, component] as TargetAdapter[]) {
      it(`dev --target ${target.name}: the packaged function behaves the same; its timeout is 504 while others are answered`, async () => {
        const { dir } = await built();
        const config = await loadConfig(dir);
        const wasmPath = path.join(dir, 'dist', `${config.name}.wasm`);
        const lines: string[] = [];
        const artifact = (name: string, outbound: OutboundSettings, timeoutMs: number) =>
          ({ name, wasmPath, env: { UPSTREAM: upstream.url }, secrets: [], limits: { memoryMiB: 128, timeoutMs }, outbound, projectDir: path.join(dir, `${target.name}-${name}`) });
        // Generous function timeouts: a Go instance starts slowly on a busy machine, and an overrun
        // on the component emulator restarts jco serve, which cuts the other requests in flight.
        const emulator = await target.emulate(await target.package(artifact('proxy', settings(), 60_000)), { host: '127.0.0.1', port: 0, log: (l) => lines.push(l) });
        const slow = await target.emulate(await target.package(artifact('slow', settings({ timeoutMs: 60_000 }), 4000)), { host: '127.0.0.1', port: 0, log: () => {} });
        try {
          await checkProxy(emulator.url, () => lines.join('\n'));
          const before = upstream.hanging();
          let settled = false;
          const hanging = request(`${slow.url}hang`).finally(() => (settled = true));
          while (upstream.hanging() === before && !settled) await new Promise((r) => setTimeout(r, 10));
          expect((await request(`${emulator.url}status/203`)).status).toBe(203);
          expect((await hanging).status).toBe(504);
        } finally {
          await Promise.all([emulator.close(), slow.close()]);
        }
      }, 600_000);
    }
  });
}
