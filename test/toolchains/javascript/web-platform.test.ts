/**
 * Web Platform Tests data (test/fixtures/wpt/, see its README for the sources) run inside a wfn
 * JavaScript function: one build of test/fixtures/js/wpt-runner.js, each suite's cases posted
 * to it, the function's own pass count checked here. The pass counts are printed.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect } from 'vitest';
import { invokeHttp } from '../../../src/runtime/invoke.js';
import { buildJsFixture, type BuiltFixture } from '../../helpers/js-fixture.js';
import { itWithToolchain } from '../../helpers/toolchain-gate.js';

const it = await itWithToolchain('js');
const WPT = fileURLToPath(new URL('../../fixtures/wpt/', import.meta.url));

let built: BuiltFixture;

beforeAll(async () => {
  built = await buildJsFixture('wpt-runner.js');
}, 300_000);

afterAll(() => built?.remove());

interface SuiteResult {
  total: number;
  pass: number;
  failures: string[];
}

async function run(suite: string, cases: unknown): Promise<SuiteResult> {
  const body = new TextEncoder().encode(JSON.stringify(cases));
  const r = await invokeHttp(built.module, { method: 'POST', url: `http://localhost/${suite}`, headers: [['content-type', 'application/json']], body }, { route: '/', env: {} });
  expect(r.response.status, new TextDecoder().decode(r.stderr)).toBe(200);
  const result = JSON.parse(new TextDecoder().decode(r.response.body)) as SuiteResult;
  console.info(`WPT ${suite} inside a wfn function: ${result.pass}/${result.total} (${((100 * result.pass) / result.total).toFixed(1)}%)`);
  return result;
}

const json = (path: string) => JSON.parse(readFileSync(join(WPT, path), 'utf8'));

it('url/urltestdata.json: at least 97% of the cases parse as the URL Standard says', async () => {
  const result = await run('url', json('url/urltestdata.json'));
  expect(result.total).toBe(891);
  expect(result.pass / result.total, result.failures.join('\n')).toBeGreaterThanOrEqual(0.97);
});

it('urlpattern/urlpatterntestdata.json: URLPattern (urlpattern-polyfill) matches as the cases say', async () => {
  const result = await run('urlpattern', json('url/urlpatterntestdata.json'));
  expect(result.total).toBeGreaterThan(300);
  expect(result.pass / result.total, result.failures.join('\n')).toBeGreaterThanOrEqual(0.9);
});

it("encoding: every label of UTF-8, UTF-16 and the single-byte encodings, each single-byte index, UTF-16's edge cases", async () => {
  const table = json('encoding/encodings.json') as { heading: string; encodings: { name: string; labels: string[] }[] }[];
  const kept = new Set(['The Encoding', 'Legacy single-byte encodings']);
  const labels: [string, string][] = [];
  for (const group of table) {
    for (const e of group.encodings) {
      if (kept.has(group.heading) || e.name === 'UTF-16LE' || e.name === 'UTF-16BE') for (const l of e.labels) labels.push([l, e.name.toLowerCase()]);
    }
  }
  const indexes: Record<string, (number | null)[]> = {};
  for (const file of readdirSync(join(WPT, 'encoding')).filter((f) => f.startsWith('index-'))) {
    const index: (number | null)[] = new Array(128).fill(null);
    for (const line of readFileSync(join(WPT, 'encoding', file), 'utf8').split('\n')) {
      const m = /^\s*(\d+)\s+0x([0-9A-F]+)/.exec(line);
      if (m) index[Number(m[1])] = parseInt(m[2], 16);
    }
    indexes[file.slice('index-'.length, -'.txt'.length)] = index;
  }
  const result = await run('encoding', { labels, indexes });
  expect(result.total).toBeGreaterThan(labels.length + 28);
  expect(result.failures).toEqual([]);
});

it('WebCryptoAPI: digest, HMAC and Ed25519 vectors', async () => {
  const vectors = json('WebCryptoAPI/vectors.json');
  // The vectors were transcribed from WPT's JavaScript: Node's own WebCrypto must agree with them.
  const { webcrypto } = await import('node:crypto');
  const key = await webcrypto.subtle.importKey('spki', Uint8Array.from(vectors.eddsa.vectors[0].spki), 'Ed25519', false, ['verify']);
  expect(await webcrypto.subtle.verify('Ed25519', key, Uint8Array.from(vectors.eddsa.vectors[0].signature), Uint8Array.from(vectors.eddsa.vectors[0].data))).toBe(true);
  const result = await run('webcrypto', vectors);
  expect(result.total).toBe(16 * 3 + 4 + 1 + 4 * 3 + 2 * 3);
  expect(result.failures).toEqual([]);
});
