/**
 * Shared by the Cloudflare and Fastly KV tests: the script fixture (test/fixtures/kv-wat/
 * script.wat, a function that runs the key-value commands of its request body), a store in
 * memory with a clock the tests move, and the script of round trips every target must answer
 * like the Node host does.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compareUtf8, KvStoreError, KV_ERROR, type KvStore } from '../../src/runtime/kv/index.js';
import { wat2wasm } from '../helpers/wat.js';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'kv-wat', 'script.wat');

export async function scriptWasm(): Promise<Uint8Array> {
  return wat2wasm(await readFile(FIXTURE, 'utf8'), 'script.wat');
}

export interface MemoryStore extends KvStore {
  data: Map<string, { value: Uint8Array; expires?: number }>;
  /** Every set, with its TTL as the store received it. */
  sets: { key: string; ttlSeconds: number }[];
}

/** A synchronous store in memory; `now()` (ms) decides expiry. Cursors are the last key listed. */
export function memoryStore(now: () => number = Date.now): MemoryStore {
  const data = new Map<string, { value: Uint8Array; expires?: number }>();
  const sets: { key: string; ttlSeconds: number }[] = [];
  const live = (key: string) => {
    const entry = data.get(key);
    if (entry?.expires !== undefined && entry.expires <= now()) {
      data.delete(key);
      return undefined;
    }
    return entry;
  };
  return {
    data,
    sets,
    get: (key) => live(key)?.value.slice(),
    set: (key, value, ttlSeconds) => {
      sets.push({ key, ttlSeconds });
      data.set(key, { value: value.slice(), expires: ttlSeconds > 0 ? now() + ttlSeconds * 1000 : undefined });
    },
    delete: (key) => {
      data.delete(key);
    },
    list: (prefix, cursor, limit) => {
      if (cursor !== undefined && !cursor.startsWith('after:')) throw new KvStoreError(KV_ERROR.INVALID, 'the cursor is not one this store issued');
      const after = cursor?.slice('after:'.length);
      const keys = [...data.keys()].filter((k) => k.startsWith(prefix) && live(k) && (after === undefined || compareUtf8(k, after) > 0)).sort(compareUtf8);
      const page = keys.slice(0, limit);
      return { keys: page, cursor: keys.length > limit ? `after:${page[page.length - 1]}` : undefined };
    },
  };
}

const enc = (s: string) => encodeURIComponent(s).replace(/-/g, '%2D');

/** A request body for the fixture: the command lines, then the payload after an empty line. */
export function script(lines: string[], payload?: Uint8Array): Uint8Array {
  const head = new TextEncoder().encode(`${lines.join('\n')}\n`);
  if (!payload) return head;
  const out = new Uint8Array(head.length + 1 + payload.length);
  out.set(head);
  out[head.length] = 10;
  out.set(payload, head.length + 1);
  return out;
}

/** A token of a command line: percent-encoded (so any bytes pass), "-" when empty. */
export function tok(value: string | Uint8Array): string {
  if (typeof value === 'string') return value === '' ? '-' : enc(value);
  if (value.length === 0) return '-';
  return [...value].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
}

/** Binary test bytes (every byte value), `n` long. */
export function binary(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 7 + (i >> 8)) & 0xff;
  return out;
}

/**
 * Command scripts every target answers as the Node host does (the messages included): the
 * round trips, then each refusal. Store handle 1 is "default" (opened first).
 */
export const CONFORMANCE: { name: string; lines: string[]; payload?: Uint8Array }[] = [
  { name: 'set, get, list, delete', payload: binary(70_000), lines: [
    'open default', `set 1 ${tok('b/ü')} 0`, `set 1 ${tok('b/a')} 0`, `set 1 ${tok('c')} 0`, `get 1 ${tok('b/ü')}`,
    `list 1 0 ${tok('b/')} -`, `list 1 1 ${tok('b/')} -`, `del 1 ${tok('b/a')}`, `del 1 ${tok('b/a')}`, `get 1 ${tok('b/a')}`, `list 1 0 - -`,
  ] },
  { name: 'an empty value', payload: new Uint8Array(0), lines: ['open default', 'set 1 empty 0', 'get 1 empty'] },
  { name: 'a store not in [kv] stores', lines: ['open other', 'open default', 'open default', `open ${tok(Uint8Array.of(0xff))}`, `open ${tok('x'.repeat(300))}`, 'errlen'] },
  { name: 'bad keys', payload: new Uint8Array(1), lines: [
    'open default', 'get 1 -', `get 1 ${tok('k'.repeat(513))}`, `get 1 ${tok('k'.repeat(512))}`, `set 1 ${tok(Uint8Array.of(0xc3, 0x28))} 0`,
    `set 1 ${tok('a\nb')} 0`, `del 1 ${tok('a\0b')}`, 'get 1 .', 'set 1 .. 0', `list 1 0 ${tok('a\n')} -`, 'list 1 0 .. -',
  ] },
  { name: 'bad handles', lines: ['get 7 k', 'open default', 'getopen 1 nothing', 'read 3 10', 'close 3', 'set 0 k 0', 'del 2 k'] },
  { name: 'values read in parts, closed twice', payload: new TextEncoder().encode('0123456789'), lines: [
    'open default', 'set 1 parts 0', 'getopen 1 parts', 'read 1 4', 'read 1 4', 'read 1 4', 'read 1 4', 'close 1', 'close 1', 'read 1 4',
  ] },
  { name: 'too large, out of bounds, limits', payload: new Uint8Array(4), lines: [
    'open default', 'setlen 1 big 26214401', 'setlen 1 big 4294967295', 'setlen 1 oob 10000000', `list 1 1001 - -`,
    `list 1 0 - ${tok('x\ny')}`, `list 1 0 - ${tok('c'.repeat(1025))}`,
  ] },
  { name: 'paging', payload: new Uint8Array(1), lines: [
    'open default', 'set 1 p1 0', 'set 1 p2 0', 'set 1 p3 0', 'list 1 2 p -',
  ] },
  // 4294967295 and friends: pointers and lengths past the end of the function's memory (a few MiB)
  { name: 'pointers outside the memory are INVALID, never a trap', payload: new TextEncoder().encode('v'), lines: [
    'raw open 4294967000 7 0', 'raw open 512 4 4294967294', 'open default', 'set 1 k 0',
    'raw get 1 4294967290 10 0 4', 'raw get 1 131072 1 4294967292 0', 'raw get 1 131072 1 0 4294967293',
    'raw set 1 3000000000 1 0 1 0', 'raw set 1 131072 1 4000000000 1 0', 'raw delete 1 4294967295 1',
    'raw list 1 4000000000 2 0 0 0 40 44', 'raw list 1 0 0 4000000000 5 0 40 44', 'raw list 1 0 0 0 0 0 4294967295 44',
    'getopen 1 k', 'raw read 1 4294967000 100 0', 'raw read 1 8192 4 4294967294', 'read 1 1',
    'raw error_message 4294967290 100 16', 'raw error_message 4096 4096 4294967295', 'errlen',
  ] },
  { name: '1000 operations per invocation', lines: ['open default', 'getmany 1 k 1000', 'getmany 1 k 1', 'set 1 k 0'] },
];
