// JavaScript's env.<store> bindings have Workers KV's shape (test/fixtures/js/kv-shape.js: every
// get type, each put value kind, list pages with a cursor, the errors Workers throws), over the
// real host: the import object on a SQLite store file, as wfn dev runs it.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { performOn } from '../../../src/runtime/kv/store.js';
import { invokeHttp } from '../../../src/runtime/invoke.js';
import { SqliteKvStore } from '../../../src/runtime/node/kv-sqlite.js';
import { buildJsFixture, type BuiltFixture } from '../../helpers/js-fixture.js';

let built: BuiltFixture;
let store: SqliteKvStore;
beforeAll(async () => {
  built = await buildJsFixture('kv-shape.js', { kvStores: ['default', 'other'] });
  store = new SqliteKvStore(path.join(mkdtempSync(path.join(tmpdir(), 'wfn-js-kv-')), 'default.sqlite'));
}, 300_000);
afterAll(() => {
  store?.close();
  built?.remove();
});

describe('env.<store> in JavaScript (Workers KV shape)', () => {
  it('get/put/delete/list behave as on Workers, over wfn_kv_v1', async () => {
    const request = { method: 'GET', url: 'http://localhost/', headers: [], body: new Uint8Array(0), remoteAddr: '127.0.0.1' };
    const kv = { settings: { stores: ['default', 'other'] }, perform: (r: Parameters<typeof performOn>[1]) => performOn(() => store, r) };
    const result = await invokeHttp(built.module, request, { route: '/', env: { GREETING: 'hi' } }, { kv });
    const stderr = new TextDecoder().decode(result.stderr);
    expect(result.response.status, stderr).toBe(200);
    const report = JSON.parse(new TextDecoder().decode(result.response.body));
    expect(report).toEqual({
      bindings: ['default', 'other'],
      text: 'héllo',
      textOption: 'héllo',
      json: { a: [1, 2] },
      bytes: [0, 255, 7],
      view: [8, 7],
      stream: 'from a stream',
      missing: null,
      ttl: 'x',
      pages: [
        { keys: ['p/1', 'p/2'], complete: false, hasCursor: true },
        { keys: ['p/3', 'p/4'], complete: false, hasCursor: true },
        { keys: ['p/5'], complete: true, hasCursor: false },
      ],
      afterDelete: ['p/2', 'p/3', 'p/4', 'p/5'],
      errors: [
        'TypeError: kv call invalid: the key is 513 bytes, longer than 512',
        'TypeError: Invalid expirationTtl of 0. Expiration TTL must be a number of seconds, at least 1.',
        'TypeError: KV put() accepts only strings, ArrayBuffers, ArrayBufferViews, and ReadableStreams as values.',
        'TypeError: Unknown response type. Possible types are "text", "arrayBuffer", "json", and "stream".',
        'TypeError: Invalid key list limit 1001: it must be 1 to 1000.',
      ],
    });
    expect(stderr).toContain('wfn kv: kv call invalid: the key is 513 bytes');
    // What the function wrote is in the store file.
    expect(new TextDecoder().decode(store.get('text'))).toBe('héllo');
  }, 120_000);
});
