// Key-value end to end: every language's kv template, built once, on `wfn dev` (its SQLite file
// under .wfn/kv/) and on a `wfn serve` deploy (a SQLite file per function in the data dir). The
// same answers everywhere: binary values and a 5 MiB one byte for byte, keys listed by prefix in
// the byte order of their UTF-8, 404 for a missing or expired key, 400 for a bad key; values
// survive a restart of dev and of serve; a store not named in the function's config is refused.
import { readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { Language } from '../../src/config/types.js';
import { buildProject } from '../../src/pipeline/build.js';
import { scaffoldProject } from '../../src/project/scaffold.js';
import { startDevServer } from '../../src/project/dev.js';
import { request } from '../helpers/http.js';
import { itWithToolchain } from '../helpers/toolchain-gate.js';
import { testBytes } from '../helpers/upstream.js';
import { startTestServe, tempDir } from '../server/serve/helpers.js';

const LANGUAGES: Language[] = ['rust', 'assemblyscript', 'go', 'js'];
const MiB5 = 5 * 1024 * 1024;

/** The kv template in `language`, built once. */
async function buildKv(language: Language): Promise<{ dir: string; wasm: Uint8Array }> {
  const parent = await mkdtemp(path.join(tmpdir(), `wfn-kv-${language}-`));
  const project = await scaffoldProject(`kv-${language === 'assemblyscript' ? 'as' : language}`, language, 'kv', parent);
  // A generous function timeout: a 5 MiB body through Go on a loaded 2-core machine can take seconds; this bound only catches hangs.
  const toml = path.join(project.dir, 'wfn.toml');
  await writeFile(toml, (await readFile(toml, 'utf8')).replace(/^timeout = \d+/m, 'timeout = 60000'));
  const built = await buildProject(await loadConfig(project.dir));
  return { dir: project.dir, wasm: new Uint8Array(await readFile(built.artifact)) };
}

const key = (k: string) => k.split('/').map(encodeURIComponent).join('/');

/** Polls until `check` holds (a TTL passing): events, not a fixed sleep; bounded. */
async function eventually(check: () => Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The answers every host must give for the kv template (base = where the function answers, ending in /). */
async function checkKv(base: string, logs: () => string): Promise<void> {
  const binary = testBytes(256 * 3);
  const put = (k: string, body: Uint8Array | string, query = '') => request(`${base}${key(k)}${query}`, { method: 'PUT', body: typeof body === 'string' ? Buffer.from(body) : body });
  const get = (k: string) => request(`${base}${key(k)}`);

  expect((await put('bin/a b', binary)).status).toBe(201);
  const got = await get('bin/a b');
  expect(got.status).toBe(200);
  expect(Buffer.compare(got.body, Buffer.from(binary))).toBe(0);

  const big = testBytes(MiB5);
  const stored = await put('big', big);
  expect(stored.status, stored.body.toString()).toBe(201);
  const gotBig = await get('big');
  expect(gotBig.status).toBe(200);
  expect(gotBig.body.length).toBe(MiB5);
  expect(Buffer.compare(gotBig.body, Buffer.from(big))).toBe(0);

  // Byte order of UTF-8: "z" (7a) < "é" (c3 a9) < "😀" (f0 ...), although "😀" < "é" in UTF-16.
  for (const k of ['list/b', 'list/\u{1F600}', 'list/a', 'list/z', 'list/\u00e9', 'listx']) expect((await put(k, k)).status).toBe(201);
  const listed = await request(`${base}?prefix=${encodeURIComponent('list/')}`);
  expect(listed.status).toBe(200);
  expect(JSON.parse(listed.body.toString())).toEqual(['list/a', 'list/b', 'list/z', 'list/\u00e9', 'list/\u{1F600}']);
  expect(Buffer.from(await (await get('list/\u00e9')).body).toString()).toBe('list/\u00e9');

  expect((await request(`${base}${key('list/z')}`, { method: 'DELETE' })).status).toBe(204);
  expect((await request(`${base}${key('list/z')}`, { method: 'DELETE' })).status).toBe(204);
  expect((await get('list/z')).status).toBe(404);
  expect(JSON.parse((await request(`${base}?prefix=list/`)).body.toString())).toEqual(['list/a', 'list/b', 'list/\u00e9', 'list/\u{1F600}']);
  expect((await get('never-set')).status).toBe(404);

  // A key over 512 bytes: 400 with the host's message, and one log line.
  const long = await get('k'.repeat(600));
  expect(long.status).toBe(400);
  expect(long.body.toString()).toContain('the key is 600 bytes, longer than 512');
  await eventually(async () => logs().includes('wfn kv: kv call invalid: the key is 600 bytes'), 'the log line');

  // TTL: there first, then gone (and not listed).
  expect((await put('ttl/short', 'soon gone', '?ttl=2')).status).toBe(201);
  expect((await put('ttl/kept', 'kept', '?ttl=3600')).status).toBe(201);
  expect((await get('ttl/kept')).status).toBe(200);
  await eventually(async () => (await get('ttl/short')).status === 404, 'the 2 s TTL expiring');
  expect(JSON.parse((await request(`${base}?prefix=ttl/`)).body.toString())).toEqual(['ttl/kept']);
}

for (const language of LANGUAGES) {
  describe(`${language} kv template`, async () => {
    const it = await itWithToolchain(language);
    let kv: { dir: string; wasm: Uint8Array } | undefined;
    const built = async () => (kv ??= await buildKv(language));

    it('wfn dev: round trips, list order, TTL, bad keys; the values survive a restart of wfn dev', async () => {
      const { dir } = await built();
      const lines: string[] = [];
      const start = () => startDevServer({ host: '127.0.0.1', port: 0, projectDir: dir, watch: false, log: () => {}, progress: (m) => lines.push(m) });
      let dev = await start();
      try {
        await checkKv(dev.url, () => lines.join('\n'));
        expect(existsSync(path.join(dir, '.wfn', 'kv', 'default.sqlite'))).toBe(true);
        await dev.close();
        dev = await start();
        const again = await request(`${dev.url}big`);
        expect(again.status).toBe(200);
        expect(Buffer.compare(again.body, Buffer.from(testBytes(MiB5)))).toBe(0);
        expect(JSON.parse((await request(`${dev.url}?prefix=list/`)).body.toString())).toHaveLength(4);
      } finally {
        await dev.close();
      }
    }, 600_000);

    it('wfn serve: deployed with its [kv], the same answers; the values survive a restart; another store name is refused', async () => {
      const { wasm } = await built();
      const dataDir = await tempDir('kv');
      let server = await startTestServe({ dataDir });
      try {
        // The template's [limits] memory, as `wfn deploy` sends it (Go needs more than the test server's 64 MiB default for a 5 MiB body).
        await server.deploy('kv', wasm, { kv: { stores: ['default'] }, limits: { memoryMiB: 128, timeoutMs: 60_000 } });
        await checkKv(`${server.url}/kv/`, () => server.messages.join('\n'));
        // Another function has stores of its own.
        await server.deploy('other', wasm, { kv: { stores: ['default'] } });
        expect((await request(`${server.url}/other/big`)).status).toBe(404);
        // A function whose config names no store "default": refused, with the config key in the message.
        await server.deploy('denied', wasm, { kv: { stores: ['sessions'] } });
        const denied = await request(`${server.url}/denied/x`);
        expect(denied.status).toBe(500);
        expect(denied.body.toString()).toBe('kv store "default" denied: not in [kv] stores of wfn.toml\n');
        await server.close();
        server = await startTestServe({ dataDir });
        const again = await request(`${server.url}/kv/bin/a%20b`);
        expect(again.status).toBe(200);
        expect(Buffer.compare(again.body, Buffer.from(testBytes(256 * 3)))).toBe(0);
      } finally {
        await server.close();
      }
    }, 600_000);
  });
}
