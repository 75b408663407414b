/**
 * JavaScript with and without the snapshot (`wfn build --no-snapshot`, `[build] snapshot = false`):
 * projects are scaffolded and built through the real pipeline (buildProject), then answered
 * through wfn's runtime. With the snapshot the script's top-level code ran at build time;
 * without it, every request evaluates the script first. Answers must not differ.
 */
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { buildProject, type BuildOptions, type BuildResult } from '../../../src/pipeline/build.js';
import { inspectWasm } from '../../../src/pipeline/inspect.js';
import { scaffoldProject } from '../../../src/project/scaffold.js';
import { invokeHttp } from '../../../src/runtime/invoke.js';
import type { InvokeResult } from '../../../src/runtime/types.js';
import { itWithToolchain } from '../../helpers/toolchain-gate.js';

const it = await itWithToolchain('js');
const JS_SNAPSHOT = 'componentize-qjs (top-level script)';
// Builds take seconds each and the no-snapshot prime table is sieved on every request.
const SLOW = 300_000;

let parent: string;
beforeAll(async () => {
  parent = await mkdtemp(path.join(tmpdir(), 'wfn-js-snapshot-'));
});
afterAll(async () => {
  await rm(parent, { recursive: true, force: true });
});

interface Built {
  result: BuildResult;
  module: WebAssembly.Module;
  bytes: Uint8Array;
}

async function build(dir: string, options: BuildOptions = {}): Promise<Built> {
  const result = await buildProject(await loadConfig(dir), options);
  const bytes = new Uint8Array(await readFile(result.artifact));
  return { result, bytes, module: await WebAssembly.compile(bytes) };
}

async function scaffold(template: string, name: string): Promise<string> {
  return (await scaffoldProject(name, 'js', template, parent)).dir;
}

async function project(name: string, wfnToml: string, script: string): Promise<string> {
  const dir = path.join(parent, name);
  await mkdir(path.join(dir, 'src'), { recursive: true });
  await writeFile(path.join(dir, 'wfn.toml'), `name = "${name}"\nlanguage = "js"\n${wfnToml}`);
  await writeFile(path.join(dir, 'src', 'index.js'), script);
  return dir;
}

const decoder = new TextDecoder();

async function get(module: WebAssembly.Module, pathAndQuery: string, body = ''): Promise<InvokeResult & { text: string; log: string }> {
  const result = await invokeHttp(
    module,
    { method: body ? 'POST' : 'GET', url: `http://127.0.0.1${pathAndQuery}`, headers: [], body: new TextEncoder().encode(body) },
    { route: '/', env: {} },
  );
  expect(result.outcome, decoder.decode(result.stderr)).toBe('ok');
  return { ...result, text: decoder.decode(result.response.body), log: decoder.decode(result.stderr) };
}

const contentType = (r: InvokeResult) => r.response.headers.find(([name]) => name.toLowerCase() === 'content-type')?.[1];

describe('templates/js/init with and without the snapshot', () => {
  let snap: Built;
  let noSnap: Built;

  it('builds both ways from one project; the manifest and the module say which is snapshotted', async () => {
    const dir = await scaffold('init', 'primes');
    snap = await build(dir); // wfn.toml: snapshot = true
    noSnap = await build(dir, { snapshot: false }); // --no-snapshot: a cache miss, rebuilt
    expect(noSnap.result.cached).toBe(false);

    expect(snap.result.manifest.snapshot).toEqual({ enabled: true, initFunc: JS_SNAPSHOT });
    expect(snap.result.manifest.sizes.snapshot).toBe(snap.result.manifest.sizes.raw);
    expect(noSnap.result.manifest.snapshot).toEqual({ enabled: false });
    expect(noSnap.result.manifest.sizes.snapshot).toBeUndefined();
    // The sieved table (~1.4 MB of bits and counts) ships in the snapshot only.
    expect(snap.bytes.length - noSnap.bytes.length).toBeGreaterThan(1_000_000);

    const [a, b] = [await inspectWasm(snap.bytes), await inspectWasm(noSnap.bytes)];
    expect(a.snapshot).toMatchObject({ likely: true, initFunc: JS_SNAPSHOT });
    expect(b.snapshot.likely).toBe(false);
    expect(a.contract).toEqual({ conforms: true, problems: [] });
    expect(b.contract).toEqual({ conforms: true, problems: [] });
  }, SLOW);

  it('answers the same as the other languages\' init templates', async () => {
    const expected: [string, number, string][] = [
      ['/?n=97', 200, '{"n":97,"prime":true,"primesUpToN":25,"nextPrime":101}'],
      ['/', 200, '{"n":1000000,"prime":false,"primesUpToN":78498,"nextPrime":1000003}'],
      ['/?n=0', 200, '{"n":0,"prime":false,"primesUpToN":0,"nextPrime":2}'],
      ['/?n=29999999', 200, '{"n":29999999,"prime":true,"primesUpToN":1857859,"nextPrime":null}'],
      ['/?n=x12', 400, '{"error":"n must be an integer between 0 and 30000000"}'],
    ];
    for (const [url, status, body] of expected) {
      const r = await get(snap.module, url);
      expect([url, r.response.status, r.text]).toEqual([url, status, body]);
      expect(contentType(r)).toBe('application/json');
    }
  }, SLOW);

  it('gives the same responses without the snapshot, for several n and the errors', async () => {
    // Each request without the snapshot sieves 30 million numbers in QuickJS (~1 s): a few n only.
    const urls = ['/?n=97', '/', '/?n=2', '/?n=7919', '/?n=30000000', '/?n=abc&n=104729', '/?n=-1', '/?n=', '/?n=30000001'];
    for (const url of urls) {
      const [a, b] = [await get(snap.module, url), await get(noSnap.module, url)];
      expect({ url, status: b.response.status, body: b.text, type: contentType(b) }).toEqual({ url, status: a.response.status, body: a.text, type: contentType(a) });
    }
  }, SLOW);

  it('with the snapshot a request only looks up; without it every request sieves again', async () => {
    const run = async (m: WebAssembly.Module) => (await get(m, '/?n=97')).timings.runUs;
    const median = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)];
    const withSnapshot = median([await run(snap.module), await run(snap.module), await run(snap.module)]);
    const without = median([await run(noSnap.module), await run(noSnap.module), await run(noSnap.module)]);
    // Measured here: ~1 ms against ~1 s. A wide margin keeps a loaded machine from flaking.
    expect(without).toBeGreaterThan(10 * withSnapshot);
  }, SLOW);
});

describe('--no-snapshot evaluates the script at the start of every request', () => {
  // Top-level code that leaves traces: when it ran (clock), a random draw, a log line;
  // with a top-level await, which both ways must support.
  const PROBE = `
const loadedAt = await Promise.resolve(Date.now());
const drawn = Math.random();
console.log('top-level code ran');
export default {
  async fetch() {
    return Response.json({ loadedAt, drawn });
  },
};
`;
  let dir: string;
  beforeAll(async () => {
    dir = await project('probe', '\n[build]\nsnapshot = false\n', PROBE);
  });

  it('[build] snapshot = false: the top-level code runs in each request, with the host available', async () => {
    const built = await build(dir);
    expect(built.result.manifest.snapshot.enabled).toBe(false);
    const answers = [];
    for (let i = 0; i < 2; i++) {
      const before = Date.now();
      const r = await get(built.module, '/');
      const after = Date.now();
      const answer = JSON.parse(r.text) as { loadedAt: number; drawn: number };
      expect(answer.loadedAt).toBeGreaterThanOrEqual(before);
      expect(answer.loadedAt).toBeLessThanOrEqual(after);
      // console works in top-level code here (at build time it has no log to write to).
      expect(r.log).toContain('top-level code ran');
      answers.push(answer);
    }
    // Math.random is seeded from the host before the script runs: neither 0 nor repeated.
    expect(answers[0].drawn).not.toBe(answers[1].drawn);
    expect(answers[0].drawn).toBeGreaterThan(0);
  }, SLOW);

  it('--snapshot overrides wfn.toml: the top-level code ran once, at build time', async () => {
    const built = await build(dir, { snapshot: true });
    const builtBy = Date.now();
    expect(built.result.manifest.snapshot).toEqual({ enabled: true, initFunc: JS_SNAPSHOT });
    const [a, b] = [await get(built.module, '/'), await get(built.module, '/')];
    expect(a.text).toBe(b.text);
    expect((JSON.parse(a.text) as { loadedAt: number }).loadedAt).toBeLessThan(builtBy);
    expect(a.log).not.toContain('top-level code ran');
  }, SLOW);

  it("a top-level throw is not a build error but the function's failure per request: a 500, the message on stderr, exit code 1", async () => {
    const thrower = await project('thrower', '\n[build]\nsnapshot = false\n', `throw new Error('no config bundled');\nexport default { fetch: () => new Response('never') };\n`);
    const built = await build(thrower);
    const r = await invokeHttp(built.module, { method: 'GET', url: 'http://127.0.0.1/', headers: [], body: new Uint8Array(0) }, { route: '/', env: {} });
    expect(r.response.status).toBe(500);
    expect(r.outcome).toBe('exit');
    expect(r.reason).toBe('the function exited with code 1');
    expect(decoder.decode(r.stderr)).toContain('no config bundled');
  }, SLOW);
});

describe('the http and fib templates without the snapshot', () => {
  it('http answers the shared JSON', async () => {
    const built = await build(await scaffold('http', 'echo'), { snapshot: false });
    expect(built.result.manifest.snapshot.enabled).toBe(false);
    const r = await get(built.module, '/x?n=3&a=b+c&n=4&flag', 'héllo\n');
    expect(r.response.status).toBe(200);
    expect(contentType(r)).toBe('application/json');
    expect(r.text).toBe('{"method":"POST","path":"/x","query":{"n":"4","a":"b c","flag":""},"body":"héllo\\n"}');
  }, SLOW);

  it('fib computes fib(n) and rejects a bad n with 400', async () => {
    const built = await build(await scaffold('fib', 'fib'), { snapshot: false });
    expect((await get(built.module, '/?n=20')).text).toBe('{"n":20,"fib":6765}');
    const bad = await get(built.module, '/?n=91');
    expect([bad.response.status, bad.text]).toEqual([400, '{"error":"n must be an integer between 0 and 90"}']);
  }, SLOW);
});
