/**
 * The kv template of every language on a target's emulator (shared by the Cloudflare and Fastly
 * KV tests): each template built once per run (cached in the temp folder by the template's own
 * files, so the two targets' files share the build), packaged as deploy would, and answering
 * the same requests as on `wfn dev` (test/e2e/kv.test.ts): binary and 5 MiB values byte for
 * byte, keys by prefix in UTF-8 byte order, 204/404 on delete, 400 with the host's message for a
 * bad key, 500 naming [kv] stores when the store is not configured.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { Language } from '../../src/config/types.js';
import { buildProject } from '../../src/pipeline/build.js';
import { scaffoldProject } from '../../src/project/scaffold.js';
import { request } from '../helpers/http.js';
import { testBytes } from '../helpers/upstream.js';

export const LANGUAGES: Language[] = ['rust', 'assemblyscript', 'go', 'js'];
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const MiB5 = 5 * 1024 * 1024;

async function hashTree(hash: ReturnType<typeof createHash>, dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) await hashTree(hash, full);
    else hash.update(entry.name).update(await readFile(full));
  }
}

/** The kv template of `language`, scaffolded and built (its .wasm path), cached by its sources. */
export async function kvTemplateWasm(language: Language): Promise<string> {
  const hash = createHash('sha256');
  for (const dir of [`templates/${language}/kv`, `templates/${language}/_common`, ...(language === 'js' ? ['src/guest/js'] : [])]) await hashTree(hash, path.join(REPO, dir));
  const cacheDir = path.join(tmpdir(), 'wfn-kv-template-cache');
  const cached = path.join(cacheDir, `${language}-${hash.digest('hex').slice(0, 16)}.wasm`);
  if (existsSync(cached)) return cached;
  const parent = await mkdtemp(path.join(tmpdir(), `wfn-kvt-${language}-`));
  const project = await scaffoldProject(`kvt-${language === 'assemblyscript' ? 'as' : language}`, language, 'kv', parent);
  const built = await buildProject(await loadConfig(project.dir));
  await mkdir(cacheDir, { recursive: true });
  await writeFile(`${cached}.${process.pid}`, await readFile(built.artifact));
  await rename(`${cached}.${process.pid}`, cached);
  return cached;
}

const key = (k: string) => k.split('/').map(encodeURIComponent).join('/');

/** The answers the kv template gives on every host (base: where it answers, ending in "/"). */
export async function checkKvTemplate(base: string, logs: () => string): Promise<void> {
  const put = (k: string, body: Uint8Array | string, query = '') => request(`${base}${key(k)}${query}`, { method: 'PUT', body: typeof body === 'string' ? Buffer.from(body) : body });
  const get = (k: string) => request(`${base}${key(k)}`);

  const binary = testBytes(256 * 3);
  expect((await put('bin/a b', binary)).status).toBe(201);
  const got = await get('bin/a b');
  expect(got.status).toBe(200);
  expect(Buffer.compare(got.body, Buffer.from(binary))).toBe(0);

  const big = testBytes(MiB5);
  const stored = await put('big', big);
  expect(stored.status, Buffer.from(stored.body).toString()).toBe(201);
  const gotBig = await get('big');
  expect(gotBig.status).toBe(200);
  expect(gotBig.body.length).toBe(MiB5);
  expect(Buffer.compare(gotBig.body, Buffer.from(big))).toBe(0);

  // "z" (7a) < "é" (c3 a9) < "😀" (f0 ...) in UTF-8, although "😀" < "é" in UTF-16.
  for (const k of ['list/b', 'list/\u{1F600}', 'list/a', 'list/z', 'list/\u00e9', 'listx']) expect((await put(k, k)).status).toBe(201);
  const listed = await request(`${base}?prefix=${encodeURIComponent('list/')}`);
  expect(listed.status).toBe(200);
  expect(JSON.parse(Buffer.from(listed.body).toString())).toEqual(['list/a', 'list/b', 'list/z', 'list/\u00e9', 'list/\u{1F600}']);

  expect((await request(`${base}${key('list/z')}`, { method: 'DELETE' })).status).toBe(204);
  expect((await request(`${base}${key('list/z')}`, { method: 'DELETE' })).status).toBe(204);
  expect((await get('list/z')).status).toBe(404);
  expect((await get('never-set')).status).toBe(404);

  const long = await get('k'.repeat(600));
  expect(long.status).toBe(400);
  expect(Buffer.from(long.body).toString()).toContain('the key is 600 bytes, longer than 512');
  const end = Date.now() + 15_000;
  while (!logs().includes('wfn kv: kv call invalid: the key is 600 bytes')) {
    if (Date.now() > end) throw new Error(`no "wfn kv:" log line for the long key in:\n${logs()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The template with [kv] stores that do not name "default": refused, naming the config key. */
export async function checkDenied(base: string): Promise<void> {
  const denied = await request(`${base}x`);
  expect(denied.status).toBe(500);
  expect(Buffer.from(denied.body).toString()).toBe('kv store "default" denied: not in [kv] stores of wfn.toml\n');
}
