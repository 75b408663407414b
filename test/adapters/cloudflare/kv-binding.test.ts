/**
 * adapters/cloudflare/kv.ts on a KVNamespace double that answers as Workers KV does (its
 * results and its errors' text): the calls and options it makes, and how Workers KV's
 * refusals become the API's codes.
 */
import { describe, expect, it } from 'vitest';
import { workersKvStore, workersTtl, type KvNamespace } from '../../../adapters/cloudflare/kv.js';
import { KV_ERROR, KvStoreError } from '../../../src/runtime/kv/index.js';

function namespace(overrides: Partial<KvNamespace> = {}) {
  const calls: unknown[][] = [];
  const ns: KvNamespace = {
    get: async (...a) => (calls.push(['get', ...a]), a[0] === 'there' ? new Uint8Array([1, 2, 3]).buffer : null),
    put: async (...a) => void calls.push(['put', ...a]),
    delete: async (...a) => void calls.push(['delete', ...a]),
    list: async (o) => (calls.push(['list', o]), { keys: [{ name: 'a' }, { name: 'b' }], list_complete: false, cursor: 'CUR' }),
    ...overrides,
  };
  return { ns, calls };
}

const codeOf = async (call: () => unknown) => {
  try {
    await call();
  } catch (error) {
    return error instanceof KvStoreError ? [error.code, error.message] : ['other', String(error)];
  }
  return ['ok'];
};

describe('the Workers KV binding as a store', () => {
  it('makes the calls Workers KV documents, with the TTL raised to 60 s', async () => {
    const { ns, calls } = namespace();
    const store = workersKvStore({ default: ns }, 'default');
    expect(await store.get('there')).toEqual(new Uint8Array([1, 2, 3]));
    expect(await store.get('absent')).toBeUndefined();
    await store.set('k', new Uint8Array([9]), 0);
    await store.set('k', new Uint8Array([9]), 5);
    await store.set('k', new Uint8Array([9]), 3600);
    await store.delete('k');
    expect(await store.list('', undefined, 1000)).toEqual({ keys: ['a', 'b'], cursor: 'CUR' });
    await store.list('p/', 'CUR', 2);
    expect(calls).toEqual([
      ['get', 'there', 'arrayBuffer'], ['get', 'absent', 'arrayBuffer'],
      ['put', 'k', new Uint8Array([9]), undefined], ['put', 'k', new Uint8Array([9]), { expirationTtl: 60 }], ['put', 'k', new Uint8Array([9]), { expirationTtl: 3600 }],
      ['delete', 'k'], ['list', { limit: 1000 }], ['list', { prefix: 'p/', cursor: 'CUR', limit: 2 }],
    ]);
    expect([workersTtl(0), workersTtl(1), workersTtl(59), workersTtl(60), workersTtl(61)]).toEqual([undefined, 60, 60, 60, 61]);
  });

  it('the last page has no cursor (list_complete), whatever Workers KV puts in it', async () => {
    const { ns } = namespace({ list: async () => ({ keys: [{ name: 'z' }], list_complete: true, cursor: '' }) });
    expect(await workersKvStore({ default: ns }, 'default').list('', undefined, 10)).toEqual({ keys: ['z'], cursor: undefined });
  });

  it('refusals: a missing binding is UNAVAILABLE, 429 on a write is LIMIT, 400 on a cursor is INVALID, the rest is the error', async () => {
    expect(await codeOf(() => workersKvStore({ other: 'text' }, 'default').get('k'))).toEqual([KV_ERROR.UNAVAILABLE, expect.stringContaining('no KV namespace binding "default"')]);
    const { ns } = namespace({
      put: async () => { throw new Error('KV PUT failed: 429 Too Many Requests'); },
      list: async () => { throw new Error('KV GET failed: 400 Bad Request'); },
      delete: async () => { throw new Error('KV DELETE failed: 500 Internal Server Error'); },
    });
    const store = workersKvStore({ default: ns }, 'default');
    expect(await codeOf(() => store.set('k', new Uint8Array(1), 0))).toEqual([KV_ERROR.LIMIT, expect.stringContaining('one write per second')]);
    expect(await codeOf(() => store.list('', 'bogus', 10))).toEqual([KV_ERROR.INVALID, 'the cursor is not one this store issued']);
    expect(await codeOf(() => store.list('', undefined, 10))).toEqual(['other', 'Error: KV GET failed: 400 Bad Request']);
    expect(await codeOf(() => store.delete('k'))).toEqual(['other', 'Error: KV DELETE failed: 500 Internal Server Error']);
  });
});
