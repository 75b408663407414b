/**
 * The JavaScript toolchain, end to end: projects (the templates and small handler scripts)
 * are compiled by the toolchain and answered through wfn's runtime (invokeHttp), so every
 * assertion is about what a client of the function would see.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, type ProjectConfig } from '../../../src/config/types.js';
import { DEFAULT_OUTBOUND } from '../../../src/runtime/outbound/abi.js';
import { checkContract } from '../../../src/runtime/contract.js';
import { invokeHttp } from '../../../src/runtime/invoke.js';
import type { HttpRequest, InvokeResult } from '../../../src/runtime/types.js';
import { toolchain } from '../../../src/toolchains/javascript/index.js';
import { UserError } from '../../../src/util/errors.js';

const TEMPLATES = fileURLToPath(new URL('../../../templates/js', import.meta.url));
const tools = await toolchain.detect();
const missing = tools.filter((t) => !t.usable);
// Locally a missing toolchain skips; with CI=true it must fail (the tests run and break).
const skip = missing.length > 0 && !process.env.CI;
if (skip) console.warn(`skipping the JavaScript toolchain tests: ${missing.map((t) => `${t.name}: ${t.fix}`).join('; ')}`);

const decoder = new TextDecoder();
const text = (bytes: Uint8Array) => decoder.decode(bytes);
const bytes = (s: string) => new TextEncoder().encode(s);

let root: string;
const savedCacheDir = process.env.WFN_CACHE_DIR;

function configFor(dir: string, name: string, overrides: Partial<ProjectConfig['build']> = {}): ProjectConfig {
  return {
    file: join(dir, 'wfn.toml'),
    dir,
    name,
    language: 'js',
    route: '/',
    build: { optimize: 'O3', ...overrides },
    env: {},
    secrets: [],
    limits: DEFAULT_LIMITS,
    outbound: DEFAULT_OUTBOUND, kv: { stores: [] }, files: [],
  };
}

/** Copies templates/js/<template> with {{name}} substituted and gitignore renamed, as `wfn new` does. */
function scaffold(template: string, name: string): string {
  const dir = join(root, name);
  cpSync(join(TEMPLATES, template), dir, { recursive: true });
  const walk = (d: string) => {
    for (const entry of readdirSync(d)) {
      const path = join(d, entry);
      if (statSync(path).isDirectory()) walk(path);
      else writeFileSync(path, readFileSync(path, 'utf8').replaceAll('{{name}}', name));
    }
  };
  walk(dir);
  renameSync(join(dir, 'gitignore'), join(dir, '.gitignore'));
  return dir;
}

function project(name: string, files: Record<string, string>): string {
  const dir = join(root, name);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

async function compile(dir: string, name: string, build: Partial<ProjectConfig['build']> = {}) {
  const workDir = join(dir, '.wfn', 'build');
  mkdirSync(workDir, { recursive: true });
  const logs: string[] = [];
  const out = await toolchain.compile({ config: configFor(dir, name, build), optimize: build.optimize ?? 'O3', workDir, log: (m) => logs.push(m) });
  return { ...out, module: new WebAssembly.Module(out.wasm as Uint8Array<ArrayBuffer>), logs };
}

function request(url: string, init: Partial<HttpRequest> = {}): HttpRequest {
  return { method: 'GET', url, headers: [], body: new Uint8Array(0), ...init };
}

async function call(module: WebAssembly.Module, req: HttpRequest, env: Record<string, string> = {}): Promise<InvokeResult> {
  return invokeHttp(module, req, { route: '/', env });
}

const header = (r: InvokeResult, name: string) => r.response.headers.filter(([k]) => k === name).map(([, v]) => v);

/** One script with a route per runtime feature: one build for all of them. */
const KITCHEN_SINK = String.raw`
const routes = {
  async echo(request) {
    return new Response(await request.arrayBuffer(), { headers: { 'content-type': 'application/octet-stream' } });
  },
  async request(request, env) {
    const body = request.headers.get('content-type') === 'application/json' ? await request.json() : await request.text();
    let again = 'readable';
    try { await request.text(); } catch (e) { again = e.constructor.name; }
    return Response.json({ method: request.method, url: request.url, headers: [...request.headers], body, env, again,
      pathInfo: request.cgi.PATH_INFO, isRequest: request instanceof Request });
  },
  async buffer(request) {
    const buf = await request.arrayBuffer();
    return Response.json({ isArrayBuffer: buf instanceof ArrayBuffer, length: buf.byteLength });
  },
  async response() {
    const r = new Response('abc', { status: 418, statusText: 'Teapot', headers: { 'X-Custom': 'yes' } });
    const clone = r.clone();
    const json = Response.json({ a: 1 });
    const redirect = Response.redirect('https://example.com/next', 307);
    return Response.json({ status: r.status, statusText: r.statusText, ok: r.ok, ct: r.headers.get('content-type'),
      cloneText: await clone.text(), text: await r.text(), jsonCt: json.headers.get('content-type'), jsonBody: await json.json(),
      redirect: [redirect.status, redirect.headers.get('location')], empty: await new Response().text() });
  },
  async status() {
    return new Response(null, { status: 404, headers: { location: '/elsewhere' } });
  },
  async cookies() {
    const h = new Headers({ 'X-One': 'a' });
    h.append('Set-Cookie', 'a=1; Path=/');
    h.append('set-cookie', 'b=2; HttpOnly');
    h.append('x-one', 'b');
    return new Response('ok', { status: 201, headers: h });
  },
  async headers() {
    const h = new Headers([['B', '2'], ['a', '1']]);
    h.append('Set-Cookie', 'x=1');
    h.append('Set-Cookie', 'y=2');
    h.append('b', '3');
    let invalid = 'none';
    try { h.set('bad name', 'v'); } catch (e) { invalid = e.constructor.name; }
    const r = { get: h.get('b'), has: h.has('A'), missing: h.get('nope'), entries: [...h], cookies: h.getSetCookie(), invalid };
    h.set('b', 'only');
    r.afterSet = h.get('b');
    h.delete('b');
    r.afterDelete = [...h.keys()];
    return Response.json(r);
  },
  async encoding(request) {
    const { strings, byteArrays } = await request.json();
    const enc = new TextEncoder();
    const dec = new TextDecoder();
    let fatal = 'none';
    try { new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array([0xc3])); } catch (e) { fatal = e.constructor.name; }
    const s = new TextDecoder();
    const streamed = s.decode(new Uint8Array([0xe6, 0x97]), { stream: true }) + s.decode(new Uint8Array([0xa5]));
    return Response.json({
      encoded: strings.map((x) => Array.from(enc.encode(x))),
      decoded: byteArrays.map((b) => dec.decode(new Uint8Array(b))),
      fatal, streamed, into: enc.encodeInto('hé', new Uint8Array(2)), encoding: dec.encoding,
    });
  },
  async url(request) {
    const inputs = await request.json();
    return Response.json(inputs.map(([u, base]) => {
      try {
        const x = new URL(u, base);
        return { href: x.href, origin: x.origin, protocol: x.protocol, host: x.host, hostname: x.hostname, port: x.port,
          pathname: x.pathname, search: x.search, hash: x.hash, username: x.username, password: x.password };
      } catch (e) { return { error: e.constructor.name }; }
    }));
  },
  async params(request) {
    const inputs = await request.json();
    const out = inputs.map((q) => { const p = new URLSearchParams(q); return { entries: [...p], str: p.toString(), size: p.size }; });
    const p = new URLSearchParams({ a: '1', b: 'x y' });
    p.append('a', '2');
    p.set('c', '&=');
    p.sort();
    const u = new URL('https://ex.com/p?z=1');
    u.searchParams.append('q', 'a b');
    u.hash = 'frag';
    return Response.json({ out, built: p.toString(), all: p.getAll('a'), get: p.get('b'), href: u.href, has: p.has('b') });
  },
  async console() {
    console.log('log %s %d', 'str', 42, { a: [1, 2], b: 'x' });
    console.error('error line');
    console.warn('warn', new Error('boom').message);
    console.info('info', null, undefined, 3n);
    return new Response('logged');
  },
  async async() {
    const order = [];
    const p = Promise.resolve().then(() => order.push('micro1'));
    queueMicrotask(() => order.push('micro2'));
    await p;
    const v = await new Promise((resolve) => resolve(1)).then((x) => x + 1).then(async (x) => { await null; return x * 10; });
    const all = await Promise.all([1, Promise.resolve(2), (async () => 3)()]);
    const settled = await Promise.allSettled([Promise.reject(new Error('no')), 4]);
    await new Promise((r) => setTimeout(r, 25));
    order.push('timer');
    return Response.json({ v, all, settled: settled.map((s) => s.status), order });
  },
  async throw() {
    throw new Error('handler exploded');
  },
  async reject() {
    await null;
    return Promise.reject(new TypeError('rejected on purpose'));
  },
  async hang() {
    return new Promise(() => {});
  },
  async notresponse() {
    return { status: 200 };
  },
  async random() {
    return Response.json({ math: Math.random(), bytes: Array.from(crypto.getRandomValues(new Uint8Array(8))), uuid: crypto.randomUUID() });
  },
};
export default {
  async fetch(request, env) {
    const name = new URL(request.url).pathname.slice(1);
    const route = routes[name];
    if (!route) return new Response('no route ' + name, { status: 404 });
    return route(request, env);
  },
};
`;

describe.skipIf(skip)('JavaScript toolchain', () => {
  let sink: WebAssembly.Module;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'wfn-js-test-'));
    // A private engine cache: the first build links the engine, later ones reuse it.
    process.env.WFN_CACHE_DIR = join(root, 'cache');
    sink = (await compile(project('sink', { 'src/index.js': KITCHEN_SINK, 'package.json': '{"type":"module"}' }), 'sink')).module;
  });

  afterAll(() => {
    if (savedCacheDir === undefined) delete process.env.WFN_CACHE_DIR;
    else process.env.WFN_CACHE_DIR = savedCacheDir;
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('detects its tools with versions and exact fixes', () => {
    expect(missing, JSON.stringify(missing)).toEqual([]);
    const names = tools.map((t) => t.name.split(' ')[0]);
    expect(names).toEqual(['componentize-qjs', 'esbuild', 'wasm-merge', 'wasm-opt']);
    for (const t of tools) expect(t.version).toBeTruthy();
    expect(toolchain.language).toBe('js');
    expect(toolchain.sourceGlobs).toEqual(expect.arrayContaining(['src/**/*.js', 'package.json']));
  });

  it('builds a WASI preview1 command: imports only wasi_snapshot_preview1, exports _start and memory', () => {
    expect(checkContract(sink)).toEqual([]);
    expect(WebAssembly.Module.imports(sink).every((i) => i.module === 'wasi_snapshot_preview1' && i.kind === 'function')).toBe(true);
    expect(WebAssembly.Module.exports(sink).map((e) => e.name).sort()).toEqual(['_start', 'memory']);
  });

  it('Request: method, absolute url, headers from HTTP_* and CONTENT_TYPE, json() body, single use, env', async () => {
    const r = await call(
      sink,
      request('http://localhost:3000/request?z=9', {
        method: 'POST',
        headers: [['content-type', 'application/json'], ['x-a', '1'], ['X-A', '2']],
        body: bytes('{"x":[1,"é"]}'),
      }),
      { GREETING: 'hello' },
    );
    expect(r.outcome).toBe('ok');
    expect(JSON.parse(text(r.response.body))).toEqual({
      method: 'POST',
      url: 'http://localhost:3000/request?z=9',
      headers: [['content-length', '14'], ['content-type', 'application/json'], ['x-a', '1, 2']],
      body: { x: [1, 'é'] },
      env: { GREETING: 'hello' },
      again: 'TypeError',
      pathInfo: '/request',
      isRequest: true,
    });
  });

  it('Request.arrayBuffer() gives an ArrayBuffer of the body', async () => {
    const r = await call(sink, request('http://h/buffer', { method: 'PUT', body: new Uint8Array(1000).fill(7) }));
    expect(JSON.parse(text(r.response.body))).toEqual({ isArrayBuffer: true, length: 1000 });
  });

  it('round-trips a binary body byte for byte', async () => {
    const body = new Uint8Array(300_000);
    for (let i = 0; i < body.length; i++) body[i] = (i * 7919) % 256;
    body.set([0xff, 0xfe, 0x00, 0xc3, 0x28], 0); // invalid UTF-8 and NUL up front
    const r = await call(sink, request('http://h/echo', { method: 'POST', body }));
    expect(r.outcome).toBe('ok');
    expect(header(r, 'content-type')).toEqual(['application/octet-stream']);
    expect(Buffer.from(r.response.body).equals(Buffer.from(body))).toBe(true);
  });

  it('Response: status, statusText, clone, Response.json, Response.redirect, CGI Status line', async () => {
    const r = await call(sink, request('http://h/response'));
    expect(JSON.parse(text(r.response.body))).toEqual({
      status: 418, statusText: 'Teapot', ok: false, ct: 'text/plain;charset=UTF-8', cloneText: 'abc', text: 'abc',
      jsonCt: 'application/json', jsonBody: { a: 1 }, redirect: [307, 'https://example.com/next'], empty: '',
    });
    const status = await call(sink, request('http://h/status'));
    expect(status.response.status).toBe(404); // an explicit status is not overwritten by Location
    expect(header(status, 'location')).toEqual(['/elsewhere']);
  });

  it('Headers: repeated Set-Cookie reach the client as separate headers', async () => {
    const r = await call(sink, request('http://h/cookies'));
    expect(r.response.status).toBe(201);
    expect(header(r, 'set-cookie')).toEqual(['a=1; Path=/', 'b=2; HttpOnly']);
    expect(header(r, 'x-one')).toEqual(['a', 'b']);
  });

  it('Headers: case-insensitive get/has/set/delete, sorted iteration, getSetCookie, name validation', async () => {
    const r = await call(sink, request('http://h/headers'));
    expect(JSON.parse(text(r.response.body))).toEqual({
      get: '2, 3', has: true, missing: null,
      entries: [['a', '1'], ['b', '2, 3'], ['set-cookie', 'x=1'], ['set-cookie', 'y=2']],
      cookies: ['x=1', 'y=2'], invalid: 'TypeError', afterSet: 'only', afterDelete: ['a', 'set-cookie', 'set-cookie'],
    });
  });

  it('TextEncoder/TextDecoder agree with Node on UTF-8, replacement, BOM, fatal and streaming', async () => {
    const strings = ['', 'hello', 'héllo wörld', '日本語', '😀 emoji', 'lone \ud800 surrogate', 'x'.repeat(3000) + 'é'];
    const ascii = Array(300).fill(0x61);
    const byteArrays = [
      [0xff, 0x41], [0xe2, 0x82], [0xef, 0xbb, 0xbf, 0x41], [0xf0, 0x9f, 0x98, 0x80], [0xed, 0xa0, 0x80], [0xc0, 0xaf, 0x41], [0xf4, 0x90, 0x80, 0x80],
      // 256 bytes and more go through the host's validator: valid, then invalid in several ways.
      Array.from(new TextEncoder().encode('日本語 é 😀 '.repeat(40))),
      [...ascii, 0xed, 0xa0, 0x80, ...ascii], [...ascii, 0xf4, 0x90, 0x80, 0x80], [...ascii, 0xe0, 0x80, 0xaf], [...ascii, 0xe6, 0x97],
      [...ascii, 0xc3], [0xef, 0xbb, 0xbf, ...ascii], [...ascii, 0x80, ...ascii],
    ];
    const r = await call(sink, request('http://h/encoding', { method: 'POST', body: bytes(JSON.stringify({ strings, byteArrays })) }));
    const got = JSON.parse(text(r.response.body));
    expect(got.encoded).toEqual(strings.map((s) => Array.from(new TextEncoder().encode(s))));
    expect(got.decoded).toEqual(byteArrays.map((b) => new TextDecoder().decode(new Uint8Array(b))));
    expect(got.fatal).toBe('TypeError');
    expect(got.streamed).toBe('日');
    expect(got.into).toEqual(new TextEncoder().encodeInto('hé', new Uint8Array(2)));
    expect(got.encoding).toBe('utf-8');
  });

  it('URL parses and resolves like Node', async () => {
    const cases: [string, string?][] = [
      ['http://EXAMPLE.com:80/a/./b/../c?x=1 2#f g'],
      ['../d?q', 'https://u:p@h.com:8443/a/b/c'],
      ['?new', 'http://h/a/b?old#frag'],
      ['#only', 'http://h/a?q'],
      ['/abs/../x', 'http://h/a/b'],
      ['//other/x', 'https://a/b'],
      ['mailto:me@x.org'],
      ['http://[::1]:8080/'],
      ['https://h.com:443/é?q=ü'],
      ['HTTP://H.COM/%7Efoo/A%2fb'],
      ['http://h/a\\b\\c'],
      ['file:///tmp/x.txt'],
      ['http://h:99999/'],
      ['not a url'],
      ['http://'],
    ];
    const r = await call(sink, request('http://h/url', { method: 'POST', body: bytes(JSON.stringify(cases)) }));
    const expected = cases.map(([u, base]) => {
      try {
        const x = new URL(u, base);
        return { href: x.href, origin: x.origin, protocol: x.protocol, host: x.host, hostname: x.hostname, port: x.port,
          pathname: x.pathname, search: x.search, hash: x.hash, username: x.username, password: x.password };
      } catch (e) {
        return { error: (e as Error).constructor.name };
      }
    });
    expect(JSON.parse(text(r.response.body))).toEqual(expected);
  });

  it('URLSearchParams parses, serializes, sorts and stays bound to its URL like Node', async () => {
    const inputs = ['?a=1&b=2&a=3', 'x=%20y+z&&k', 'e=%zz&u=%C3%A9', '', '=v&k='];
    const r = await call(sink, request('http://h/params', { method: 'POST', body: bytes(JSON.stringify(inputs)) }));
    const got = JSON.parse(text(r.response.body));
    expect(got.out).toEqual(inputs.map((q) => {
      const p = new URLSearchParams(q);
      return { entries: [...p], str: p.toString(), size: p.size };
    }));
    const p = new URLSearchParams({ a: '1', b: 'x y' });
    p.append('a', '2');
    p.set('c', '&=');
    p.sort();
    const u = new URL('https://ex.com/p?z=1');
    u.searchParams.append('q', 'a b');
    u.hash = 'frag';
    expect(got).toMatchObject({ built: p.toString(), all: p.getAll('a'), get: p.get('b'), href: u.href, has: true });
  });

  it('console.log/error/warn/info write formatted lines to stderr, not to the response', async () => {
    const r = await call(sink, request('http://h/console'));
    expect(text(r.response.body)).toBe('logged');
    expect(text(r.stderr)).toBe("log str 42 { a: [ 1, 2 ], b: 'x' }\nerror line\nwarn boom\ninfo null undefined 3n\n");
  });

  it('async/await: chained promises, microtasks and timers settle before the response is written', async () => {
    const r = await call(sink, request('http://h/async'));
    expect(r.outcome).toBe('ok');
    expect(JSON.parse(text(r.response.body))).toEqual({ v: 20, all: [1, 2, 3], settled: ['rejected', 'fulfilled'], order: ['micro1', 'micro2', 'timer'] });
  });

  it("a thrown error is the function's failure: a 500, the message and stack on stderr, exit code 1", async () => {
    const r = await call(sink, request('http://h/throw'));
    expect(r.outcome).toBe('exit'); // as a Rust panic is a trap: not "ok"
    expect(r.reason).toBe('the function exited with code 1');
    expect(r.response.status).toBe(500);
    expect(text(r.stderr)).toMatch(/^Uncaught Error: handler exploded\n\s+at /);
    expect(text(r.response.body)).not.toContain('exploded');
  });

  it('a rejected promise, a non-Response result and a promise that never settles give a 500 with the reason on stderr', async () => {
    const rejected = await call(sink, request('http://h/reject'));
    expect(rejected.response.status).toBe(500);
    expect(rejected.outcome).toBe('exit');
    expect(text(rejected.stderr)).toContain('Uncaught TypeError: rejected on purpose');
    const wrong = await call(sink, request('http://h/notresponse'));
    expect(wrong.response.status).toBe(500);
    expect(text(wrong.stderr)).toContain('fetch() must return a Response');
    const hang = await call(sink, request('http://h/hang'));
    expect(hang.response.status).toBe(500);
    expect(text(hang.stderr)).toContain("the handler's promise never settled");
  });

  it('Math.random and crypto differ across requests (reseeded from random_get, not the snapshot)', async () => {
    const a = JSON.parse(text((await call(sink, request('http://h/random'))).response.body));
    const b = JSON.parse(text((await call(sink, request('http://h/random'))).response.body));
    expect(a.math).not.toBe(b.math);
    expect(a.math).toBeGreaterThanOrEqual(0);
    expect(a.math).toBeLessThan(1);
    expect(a.bytes).not.toEqual(b.bytes);
    expect(a.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a.uuid).not.toBe(b.uuid);
  });

  it('the http template answers the shared JSON', async () => {
    const dir = scaffold('http', 'hello-js');
    const { module, toolchain: tc } = await compile(dir, 'hello-js');
    expect(tc.name).toBe('componentize-qjs');
    const r = await call(
      module,
      request('http://localhost/x/y%20z?n=3&a=b+c&n=4&k&%C3%A9=%E2%82%AC&1=one', {
        method: 'POST',
        body: bytes('hé "quoted"\n\t\u0001\\'),
      }),
    );
    expect(r.outcome).toBe('ok');
    expect(header(r, 'content-type')).toEqual(['application/json']);
    expect(text(r.response.body)).toBe(
      '{"method":"POST","path":"/x/y z","query":{"n":"4","a":"b c","k":"","é":"€","1":"one"},"body":"hé \\"quoted\\"\\n\\t\\u0001\\\\"}',
    );
    const get = await call(module, request('http://localhost/'));
    expect(text(get.response.body)).toBe('{"method":"GET","path":"/","query":{},"body":""}');
  });

  it('the fib template computes fib(n), defaults to 32 and rejects bad n with 400', async () => {
    const dir = scaffold('fib', 'fib-js');
    const { module } = await compile(dir, 'fib-js');
    const ok = await call(module, request('http://localhost/?n=20'));
    expect(ok.response.status).toBe(200);
    expect(header(ok, 'content-type')).toEqual(['application/json']);
    expect(text(ok.response.body)).toBe('{"n":20,"fib":6765}');
    expect(text((await call(module, request('http://localhost/?n=0'))).response.body)).toBe('{"n":0,"fib":0}');
    expect(text((await call(module, request('http://localhost/?n=1'))).response.body)).toBe('{"n":1,"fib":1}');
    const dflt = await call(module, request('http://localhost/'));
    expect(text(dflt.response.body)).toBe('{"n":32,"fib":2178309}');
    for (const bad of ['abc', '-1', '91', '1.5', '', '99999999999999999999']) {
      const r = await call(module, request(`http://localhost/?n=${encodeURIComponent(bad)}`));
      expect(r.response.status, `n=${bad}`).toBe(400);
      expect(text(r.response.body)).toBe('{"error":"n must be an integer between 0 and 90"}');
    }
  });

  it('a second build of the same script reuses the cached engine', async () => {
    const dir = project('again', { 'src/index.js': 'export default { fetch: () => new Response("hi") }' });
    const first = await compile(dir, 'again');
    const second = await compile(dir, 'again');
    expect(second.logs.join('\n')).toMatch(/engine from cache/);
    // Same layout; a few snapshot bytes differ (QuickJS seeds and clocks read while Wizer runs).
    expect(Math.abs(second.wasm.length - first.wasm.length)).toBeLessThan(1024);
    expect(text((await call(second.module, request('http://h/'))).response.body)).toBe('hi');
    // A damaged cache entry is replaced, not fatal.
    const cacheDir = join(process.env.WFN_CACHE_DIR!, 'js-engine');
    for (const f of readdirSync(cacheDir)) writeFileSync(join(cacheDir, f), new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 99]));
    const third = await compile(dir, 'again');
    expect(third.logs.join('\n')).toMatch(/linked the engine/);
    expect(text((await call(third.module, request('http://h/'))).response.body)).toBe('hi');
  });

  it('bundles npm-style imports and honours [build] main', async () => {
    const dir = project('imports', {
      'lib/handler.js': "import { greet } from './greet.js';\nexport default { fetch: (req, env) => new Response(greet(env.WHO)) };",
      'lib/greet.js': 'export const greet = (who) => `hello, ${who}`;',
      'node_modules/shout/package.json': '{"name":"shout","type":"module","exports":"./index.js"}',
      'node_modules/shout/index.js': 'export default (s) => s.toUpperCase();',
      'lib/main.js': "import shout from 'shout';\nimport h from './handler.js';\nexport default { async fetch(r, env) { return new Response(shout(await (await h.fetch(r, env)).text())); } };",
    });
    const { module } = await compile(dir, 'imports', { main: 'lib/main.js' });
    expect(text((await call(module, request('http://h/'), { WHO: 'wasm' })).response.body)).toBe('HELLO, WASM');
  });

  it('reports a missing entry, a syntax error and a top-level throw as user errors', async () => {
    const none = project('none', { 'package.json': '{}' });
    await expect(compile(none, 'none')).rejects.toThrow(/src\/index\.js does not exist/);
    const syntax = project('syntax', { 'src/index.js': 'export default { fetch( { }' });
    await expect(compile(syntax, 'syntax')).rejects.toBeInstanceOf(UserError);
    const throwing = project('throwing', { 'src/index.js': 'throw new Error("top-level boom");\nexport default { fetch() {} };' });
    await expect(compile(throwing, 'throwing')).rejects.toThrow(/top-level boom/);
    const noFetch = project('nofetch', { 'src/index.js': 'export const x = 1;' });
    await expect(compile(noFetch, 'nofetch')).rejects.toThrow(/export default \{ async fetch/);
  });
});
