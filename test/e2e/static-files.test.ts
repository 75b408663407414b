/**
 * Bundled files end to end: the `static` template of every language, built by the real
 * pipeline with text, binary and a 5 MiB file added to public/, served on every local target
 * that runs wfn's runtime (`wfn dev`, `wfn serve` through the self-hosted package, the
 * Cloudflare Worker in workerd, the Lambda handler behind its gateway), each from the package
 * deploy would ship: bytes exact, Range, ETag/304, HEAD (the GET's length), 404, traversal refused, index.html. The
 * ETags (size and mtime) are the same on every target: the files travel inside the artifact.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect } from 'vitest';
import { adapter as cloudflare } from '../../adapters/cloudflare/index.js';
import { adapter as lambda } from '../../adapters/lambda/index.js';
import { adapter as selfHosted } from '../../adapters/self-hosted/index.js';
import { loadConfig } from '../../src/config/load.js';
import type { Language } from '../../src/config/types.js';
import { buildProject } from '../../src/pipeline/build.js';
import { artifactFrom } from '../../src/project/artifact.js';
import { startDevServer } from '../../src/project/dev.js';
import { scaffoldProject } from '../../src/project/scaffold.js';
import type { TargetAdapter } from '../../src/target/types.js';
import { request } from '../helpers/http.js';
import { itWithToolchain } from '../helpers/toolchain-gate.js';

const LANGUAGES: Language[] = ['rust', 'go', 'assemblyscript', 'js'];
const work = await mkdtemp(path.join(tmpdir(), 'wfn-static-'));
const BIG = randomBytes(5 * 1024 * 1024);
const BINARY = Uint8Array.from({ length: 256 }, (_, i) => i);

type Start = (wasmPath: string) => Promise<{ url: string; close(): Promise<void> }>;
const viaAdapter = (adapter: TargetAdapter): Start => async (wasmPath) => {
  const bundle = await adapter.package(await artifactFrom({ kind: 'wasm', path: wasmPath }, {}));
  return adapter.emulate(bundle, { host: '127.0.0.1', port: 0, log: () => {} });
};
const TARGETS: [string, Start][] = [
  ['dev', async (wasmPath) => startDevServer({ host: '127.0.0.1', port: 0, wasmPath, log: () => {}, progress: () => {} })],
  ['serve', viaAdapter(selfHosted)],
  ['cloudflare', viaAdapter(cloudflare)],
  ['lambda', viaAdapter(lambda)],
];

/** Every ETag each language's build answered, by target: one value per file across targets. */
const etags = new Map<string, Set<string>>();

async function buildStatic(language: Language): Promise<{ wasm: string; publicDir: string }> {
  const project = await scaffoldProject(`s-${language === 'assemblyscript' ? 'as' : language}`, language, 'static', work);
  const publicDir = path.join(project.dir, 'public');
  await writeFile(path.join(publicDir, 'big.bin'), BIG);
  await writeFile(path.join(publicDir, 'bytes.dat'), BINARY);
  await mkdir(path.join(publicDir, 'docs'));
  await writeFile(path.join(publicDir, 'docs', 'index.html'), '<p>docs</p>\n');
  await writeFile(path.join(publicDir, 'data.json'), '{"ok":true}\n');
  await writeFile(path.join(project.dir, 'secret.txt'), 'outside public/');
  const built = await buildProject(await loadConfig(project.dir));
  expect(built.manifest.files).toMatchObject({ count: 6 });
  return { wasm: built.artifact, publicDir };
}

async function checkTarget(target: string, base: string, publicDir: string, language: string): Promise<void> {
  const get = (p: string, headers: [string, string][] = []) => request(new URL(p.replace(/^\//, ''), base).href, { headers, timeoutMs: 60_000 });
  const header = (res: { headers: [string, string][] }, name: string) => res.headers.find(([k]) => k.toLowerCase() === name)?.[1];
  const where = `${language} on ${target}`;

  const index = await get('/');
  expect(index.status, where).toBe(200);
  expect(header(index, 'content-type'), where).toBe('text/html; charset=utf-8');
  expect(index.body.equals(await readFile(path.join(publicDir, 'index.html'))), where).toBe(true);

  const css = await get('/style.css');
  expect(header(css, 'content-type'), where).toBe('text/css; charset=utf-8');
  const json = await get('/data.json');
  expect([json.status, header(json, 'content-type'), json.body.toString()], where).toEqual([200, 'application/json', '{"ok":true}\n']);

  const bin = await get('/bytes.dat');
  expect(header(bin, 'content-type'), where).toBe('application/octet-stream');
  expect(Buffer.compare(bin.body, Buffer.from(BINARY)), where).toBe(0);

  // Lambda answers at most 6 MB, and a binary body travels in base64 (5 MiB -> 6.7 MiB): the
  // platform refuses the whole file (502, as the real gateway does), Range requests get it in parts.
  const big = await get('/big.bin');
  if (target === 'lambda') expect(big.status, where).toBe(502);
  else {
    expect(big.status, where).toBe(200);
    expect(big.body.length, where).toBe(BIG.length);
    expect(big.body.equals(BIG), where).toBe(true);
    expect(header(big, 'accept-ranges'), where).toBe('bytes');
  }

  // HEAD: a GET's headers, its Content-Length included, and no body. (Not on Lambda: its front
  // end frames the handler's body itself, and what a Function URL answers a HEAD is not modelled.)
  if (target !== 'lambda') {
    const head = await request(new URL('big.bin', base).href, { method: 'HEAD', timeoutMs: 60_000 });
    expect([head.status, header(head, 'content-length'), head.body.length], where).toEqual([200, String(BIG.length), 0]);
    expect(header(head, 'etag'), where).toBe(header(big, 'etag') ?? header(await get('/big.bin', [['range', 'bytes=0-0']]), 'etag'));
  }

  const part = await get('/big.bin', [['range', 'bytes=1048576-1050623']]);
  expect(part.status, where).toBe(206);
  expect(header(part, 'content-range'), where).toBe(`bytes 1048576-1050623/${BIG.length}`);
  expect(part.body.equals(BIG.subarray(1048576, 1050624)), where).toBe(true);
  const suffix = await get('/big.bin', [['range', 'bytes=-10']]);
  expect([suffix.status, suffix.body.equals(BIG.subarray(BIG.length - 10))], where).toEqual([206, true]);
  const open = await get('/big.bin', [['range', `bytes=${BIG.length - 3}-`]]);
  expect([open.status, open.body.length], where).toEqual([206, 3]);
  const beyond = await get('/big.bin', [['range', `bytes=${BIG.length}-`]]);
  expect([beyond.status, header(beyond, 'content-range')], where).toEqual([416, `bytes */${BIG.length}`]);

  const etag = header(css, 'etag')!;
  expect(etag, where).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
  const notModified = await get('/style.css', [['if-none-match', etag]]);
  expect([notModified.status, notModified.body.length, header(notModified, 'etag')], where).toEqual([304, 0, etag]);
  expect((await get('/style.css', [['if-none-match', '"other"']])).status, where).toBe(200);
  for (const [file, res] of [['style.css', css], ['big.bin', part]] as const) {
    const key = `${language} ${file}`;
    etags.set(key, (etags.get(key) ?? new Set()).add(header(res, 'etag')!));
  }

  const docs = await get('/docs/');
  expect([docs.status, docs.body.toString()], where).toEqual([200, '<p>docs</p>\n']);
  expect((await get('/docs')).body.toString(), where).toBe('<p>docs</p>\n');

  expect((await get('/missing.txt')).status, where).toBe(404);
  // Out of the mapping: never the project's other files, whatever the spelling.
  for (const attack of ['/%2e%2e/secret.txt', '/docs/%2e%2e/%2e%2e/secret.txt', '/docs%2F..%2F..%2Fsecret.txt', '/..%5Csecret.txt', '/a%00b', '/%2e%2e%2fwfn.toml']) {
    const res = await get(attack);
    expect([400, 404], `${where}: ${attack} -> ${res.status}`).toContain(res.status);
    expect(res.body.toString(), `${where}: ${attack}`).not.toContain('outside public');
  }
  expect((await request(new URL('x', base).href, { method: 'POST', body: new Uint8Array([1]) })).status, where).toBe(405);
}

describe('static template: bundled files on every local target', () => {
  for (const language of LANGUAGES) {
    describe(language, async () => {
      const it = await itWithToolchain(language);
      it('serves public/ byte for byte with Range, ETag/304, HEAD, 404 and no traversal, on dev, serve, Cloudflare and Lambda', async () => {
        const { wasm, publicDir } = await buildStatic(language);
        for (const [target, start] of TARGETS) {
          const server = await start(wasm);
          try {
            await checkTarget(target, server.url, publicDir, language);
          } finally {
            await server.close();
          }
        }
      }, 600_000);
    });
  }
});

afterAll(() => {
  // One tag per file across all four targets: the same files, the same metadata, everywhere.
  for (const [key, tags] of etags) expect([...tags], key).toHaveLength(1);
});
