/**
 * The web APIs a JavaScript function gets (WinterTC's minimum common API), observed inside a
 * wfn function: test/fixtures/js/web-apis.js is built once and each route answers what it saw.
 * Cryptography is checked against Node's own WebCrypto in both directions (Node signs, the
 * function verifies, and the other way round), compression against Node's zlib, multipart
 * against Node's FormData.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { webcrypto } from 'node:crypto';
import { afterAll, beforeAll, expect } from 'vitest';
import { invokeHttp } from '../../../src/runtime/invoke.js';
import type { InvokeResult } from '../../../src/runtime/types.js';
import { buildJsFixture, type BuiltFixture } from '../../helpers/js-fixture.js';
import { itWithToolchain } from '../../helpers/toolchain-gate.js';

const it = await itWithToolchain('js');
const subtle = webcrypto.subtle;
const hex = (b: ArrayBuffer | Uint8Array) => Buffer.from(b instanceof ArrayBuffer ? new Uint8Array(b) : b).toString('hex');
const unhex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));

let built: BuiltFixture;
let module: WebAssembly.Module;
let features: string[];

beforeAll(async () => {
  built = await buildJsFixture('web-apis.js');
  module = built.module;
  features = built.logs.join('\n').match(/web APIs: ([^)\n]*)/)?.[1]?.split(', ') ?? [];
}, 300_000);

afterAll(() => built?.remove());

async function call(route: string, init: { method?: string; body?: Uint8Array | string; type?: string } = {}): Promise<InvokeResult> {
  const body = typeof init.body === 'string' ? new TextEncoder().encode(init.body) : (init.body ?? new Uint8Array(0));
  const headers: [string, string][] = init.type ? [['content-type', init.type]] : [];
  return invokeHttp(module, { method: init.method ?? (body.length ? 'POST' : 'GET'), url: `http://localhost/${route}`, headers, body }, { route: '/', env: {} });
}

async function json(route: string, init: Parameters<typeof call>[1] = {}): Promise<Record<string, any>> {
  const r = await call(route, init);
  expect(r.response.status, new TextDecoder().decode(r.stderr)).toBe(200);
  return JSON.parse(new TextDecoder().decode(r.response.body));
}

const text = (r: InvokeResult) => new TextDecoder().decode(r.response.body);

it('the build names the optional modules it took in', () => {
  expect(features).toEqual(expect.arrayContaining(['streams', 'compression', 'blob', 'form-data', 'events', 'structured-clone', 'messaging', 'subtle/index', 'subtle/aes', 'subtle/ec', 'subtle/okp', 'subtle/rsa', 'subtle/kdf']));
  expect(features).not.toContain('urlpattern');
});

it('Response.error(), ByteString headers, crypto.subtle, hidden engine internals, performance, class names', async () => {
  const r = await json('basics');
  expect(r.error).toEqual({ status: 0, type: 'error', ok: false, append: 'TypeError' });
  expect(r.headers).toEqual({ euro: 'TypeError', latin1: '\u00ff', newline: 'TypeError' });
  expect(r.subtle).toBe('object');
  expect(r.crypto).toBe(true);
  expect(r.internals).toEqual(['undefined', 'undefined', false]);
  expect(r.perf).toEqual({ nowNonNegative: true, originIsEpoch: true });
  expect(r.userAgent).toBe('string');
  expect(r.names).toEqual(['Response', 'ReadableStream', 'URL', 'Headers']);
  expect(r.webassembly).toBe('undefined');
  expect(r.reportError).toBe('function');
  expect(r.url).toBe('http://example.com/b?x#y');
  expect(r.params).toEqual([[...new URLSearchParams('?a=1&b=&c&&=x&a=2&\u00e9=\ud800')], [...new URLSearchParams('a+b=%41%zz&c=d+e')]]);
});

it('a ReadableStream body is written out chunk by chunk after the header block', async () => {
  const r = await call('stream');
  expect(r.response.status).toBe(200);
  expect(r.response.headers).toContainEqual(['x-streamed', 'yes']);
  expect(text(r)).toBe('chunk0;chunk1;chunk2;');
});

it('a stream that fails half way: the chunks before the failure were already sent, the log says why', async () => {
  const r = await call('stream-error');
  // Buffered, the failure would have become a 500: streamed, the header block and two chunks were out.
  expect(r.response.status).toBe(200);
  expect(text(r)).toBe('part0;part1;');
  expect(new TextDecoder().decode(r.stderr)).toContain('the source broke');
});

it('request.body streams through TransformStream, TextDecoderStream and TextEncoderStream', async () => {
  const r = await call('stream-pipe', { body: 'stream me, héllo' });
  expect(text(r)).toBe('STREAM ME, HÉLLO');
});

it('bodies: reader, clone (tee), BYOB, used and locked bodies, ReadableStream.from, non-byte chunks, blob()', async () => {
  const r = await json('bodies', { body: 'the request body' });
  expect(r).toEqual({
    received: 'the request body', clone: 'the request body', bodyUsed: true, byob: [97, 98, 99, 100], again: 'TypeError', locked: 'TypeError',
    fromStream: 'ab', stringChunk: 'TypeError', blob: 'text/x-test',
  });
});

it('CompressionStream/DecompressionStream: gzip, deflate, deflate-raw; gzip interoperates with Node zlib', async () => {
  const r = await json('compression', { body: JSON.stringify({ gzipped: hex(gzipSync('from node')) }), type: 'application/json' });
  expect(r.gzip).toBe('hello hello hello hello');
  expect(r.deflate).toBe('hello hello hello hello');
  expect(r.raw).toBe('hello hello hello hello');
  expect(r.fromNode).toBe('from node');
  expect(gunzipSync(unhex(r.ourGzip)).toString()).toBe('from the function');
  expect(r.invalid).toBe('TypeError');
  expect(r.badFormat).toBe('TypeError');
});

it('request.formData() parses a multipart upload and urlencoded bodies; a FormData body is multipart', async () => {
  const form = new FormData();
  form.append('text', 'value one');
  form.append('many', '1');
  form.append('many', '2');
  form.append('upload', new Blob(['file contents\r\n--not a boundary'], { type: 'image/x-test' }), 'photo.png');
  const encoded = new Request('http://x/', { method: 'POST', body: form });
  const r = await json('formdata', { body: new Uint8Array(await encoded.arrayBuffer()), type: encoded.headers.get('content-type')! });
  expect(r.fields).toEqual(['text', 'many', 'many', 'upload']);
  expect(r.text).toBe('value one');
  expect(r.many).toEqual(['1', '2']);
  expect(r.file).toEqual({ name: 'photo.png', type: 'image/x-test', size: 31, text: 'file contents\r\n--not a boundary', isFile: true });
  expect(r.urlencoded).toEqual([['a', '1'], ['b', '2'], ['a', '3']]);
  expect(r.outType).toBe('multipart/form-data');
  // What the function wrote is multipart Node can read back.
  const boundary = /^--(\S+)/.exec(r.outBody)![1];
  const back = await new Response(r.outBody, { headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } }).formData();
  expect(back.get('name')).toBe('wfn');
  expect(await (back.get('file') as File).text()).toBe('file body');
  expect((back.get('file') as File).name).toBe('made.txt');
});

it('a malformed multipart body is a TypeError in the function, never a crash of the host', async () => {
  const r = await call('formdata', { body: '--x\r\nnot a header block', type: 'multipart/form-data; boundary=x' });
  expect(r.response.status).toBe(500);
  expect(new TextDecoder().decode(r.stderr)).toMatch(/TypeError/);
});

it('Blob and File', async () => {
  expect(await json('blob')).toEqual({
    size: 14, type: 'text/plain', text: 'héllo!! world', slice: 'él', negative: 'world', stream: 'héllo!! world', file: ['f.txt', 42, 1, true],
  });
});

it('AbortController/AbortSignal: abort once, listeners and onabort, timeout, any, request.signal', async () => {
  expect(await json('abort')).toEqual({
    aborted: true, reason: 'why', seen: ['listener:abort', 'onabort'], throwIfAborted: 'AbortError', timedOut: 'TimeoutError',
    any: [true, 'first'], requestSignal: false, given: true,
  });
});

it('EventTarget, Event and CustomEvent', async () => {
  expect(await json('events')).toEqual({ log: ['a:7', 'b'], first: false, second: true, phase: 0, target: true });
});

it('structuredClone and MessageChannel', async () => {
  expect(await json('clone')).toEqual({ distinct: true, date: true, set: true, map: true, bytes: [1, 2], fn: 'DataCloneError' });
  expect(await json('message')).toEqual({ received: { n: 1 }, copied: true });
});

it("SHA-256 (the host module's) agrees with Node for every padding case, a large input and HMAC with a long key", async () => {
  const r = await json('sha256');
  const pattern = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) & 255);
  const want = await Promise.all((r.lengths as number[]).map(async (n) => hex(await subtle.digest('SHA-256', pattern(n)))));
  expect(r.digests).toEqual(want);
  const key = await subtle.importKey('raw', pattern(100), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  expect(r.hmac).toBe(hex(await subtle.sign('HMAC', key, pattern(77))));
});

it('crypto.subtle agrees with Node: AES-GCM/CBC/CTR, ECDSA P-256/P-384, ECDH, Ed25519, X25519, RSA PKCS#1/PSS, PBKDF2, HKDF, AES-KW', async () => {
  const key = unhex('000102030405060708090a0b0c0d0e0f');
  const aes = { key: hex(key), iv12: '00112233445566778899aabb', iv16: '00112233445566778899aabbccddeeff', plaintext: hex(new TextEncoder().encode('forty-two bytes of plaintext, for AES!!!!!')) };
  const nodeAes = async (name: string, params: Record<string, unknown>) =>
    hex(await subtle.encrypt({ name, ...params } as AlgorithmIdentifier, await subtle.importKey('raw', key, name, false, ['encrypt']), unhex(aes.plaintext)));
  const ecdsa: Record<string, Record<string, string>> = {};
  const nodeEcKeys: Record<string, CryptoKeyPair> = {};
  for (const [curve, hash] of [['P-256', 'SHA-256'], ['P-384', 'SHA-384']]) {
    const pair = (nodeEcKeys[curve] = (await subtle.generateKey({ name: 'ECDSA', namedCurve: curve }, true, ['sign', 'verify'])) as CryptoKeyPair);
    const data = new TextEncoder().encode(`signed on ${curve}`);
    ecdsa[curve] = {
      spki: hex(await subtle.exportKey('spki', pair.publicKey)),
      pkcs8: hex(await subtle.exportKey('pkcs8', pair.privateKey)),
      data: hex(data),
      signature: hex(await subtle.sign({ name: 'ECDSA', hash }, pair.privateKey, data)),
    };
  }
  const ecdhNode = (await subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits'])) as CryptoKeyPair;
  const ecdhFn = (await subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits'])) as CryptoKeyPair;
  const xNode = (await subtle.generateKey({ name: 'X25519' }, true, ['deriveBits'])) as CryptoKeyPair;
  const xFn = (await subtle.generateKey({ name: 'X25519' }, true, ['deriveBits'])) as CryptoKeyPair;
  const rsaPair = (await subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const rsaData = new TextEncoder().encode('RSA signed data');
  const pkcs8 = await subtle.exportKey('pkcs8', rsaPair.privateKey);
  const pssPriv = await subtle.importKey('pkcs8', pkcs8, { name: 'RSA-PSS', hash: 'SHA-256' }, false, ['sign']);
  const jwk = await subtle.exportKey('jwk', rsaPair.publicKey);
  delete jwk.alg;
  delete jwk.key_ops;
  const input = {
    aes,
    ecdsa,
    ecdh: { nodePublic: hex(await subtle.exportKey('raw', ecdhNode.publicKey)), pkcs8: hex(await subtle.exportKey('pkcs8', ecdhFn.privateKey)) },
    x25519: { nodePublic: hex(await subtle.exportKey('raw', xNode.publicKey)), pkcs8: hex(await subtle.exportKey('pkcs8', xFn.privateKey)) },
    rsa: {
      data: hex(rsaData), spki: hex(await subtle.exportKey('spki', rsaPair.publicKey)), pkcs8: hex(pkcs8), jwk,
      pkcsSignature: hex(await subtle.sign('RSASSA-PKCS1-v1_5', rsaPair.privateKey, rsaData)),
      pssSignature: hex(await subtle.sign({ name: 'RSA-PSS', saltLength: 32 }, pssPriv, rsaData)),
    },
  };
  const r = await json('subtle', { body: JSON.stringify(input), type: 'application/json' });
  expect(r.gcm).toEqual({ sealed: await nodeAes('AES-GCM', { iv: unhex(aes.iv12), additionalData: unhex('aabb') }), roundTrip: true });
  expect(r.cbc).toEqual({ sealed: await nodeAes('AES-CBC', { iv: unhex(aes.iv16) }), roundTrip: true });
  expect(r.ctr).toEqual({ sealed: await nodeAes('AES-CTR', { counter: unhex(aes.iv16), length: 64 }), roundTrip: true });
  expect(r.gcmTampered).toBe('OperationError');
  expect(r.aesJwk).toBe('A128GCM');
  for (const [curve, hash] of [['P-256', 'SHA-256'], ['P-384', 'SHA-384']]) {
    expect(r.ecdsa[curve].verifiesNode).toBe(true);
    expect(await subtle.verify({ name: 'ECDSA', hash }, nodeEcKeys[curve].publicKey, unhex(r.ecdsa[curve].ours), unhex(ecdsa[curve].data))).toBe(true);
    expect(r.ecdsa[curve].jwk).toBe(curve);
    expect(r.ecdsa[curve].raw).toBe('04');
  }
  expect(r.ecdh).toBe(hex(await subtle.deriveBits({ name: 'ECDH', public: ecdhFn.publicKey }, ecdhNode.privateKey, 256)));
  expect(r.x25519).toBe(hex(await subtle.deriveBits({ name: 'X25519', public: xFn.publicKey }, xNode.privateKey, 256)));
  const edPub = await subtle.importKey('spki', unhex(r.ed25519.spki), 'Ed25519', false, ['verify']);
  expect(await subtle.verify('Ed25519', edPub, unhex(r.ed25519.signature), unhex('0102'))).toBe(true);
  expect(r.rsa.pkcs).toBe(true);
  expect(r.rsa.pss).toBe(true);
  expect(r.rsa.pssWrong).toBe(false);
  expect(await subtle.verify('RSASSA-PKCS1-v1_5', rsaPair.publicKey, unhex(r.rsa.ours), rsaData)).toBe(true);
  const password = await subtle.importKey('raw', new TextEncoder().encode('password'), 'PBKDF2', false, ['deriveBits']);
  const pbkdf2 = hex(await subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt: unhex('73616c74'), iterations: 1000 }, password, 256));
  expect(r.pbkdf2).toBe(pbkdf2);
  expect(r.deriveKey).toBe(pbkdf2.slice(0, 32));
  const ikm = await subtle.importKey('raw', unhex('0b0b0b0b0b0b0b0b0b0b0b'), 'HKDF', false, ['deriveBits']);
  expect(r.hkdf).toBe(hex(await subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: unhex('000102'), info: unhex('f0f1') }, ikm, 336)));
  expect(r.wrap).toBe(true);
  expect(r.errors).toEqual({ usage: 'InvalidAccessError', unknown: 'NotSupportedError', notExtractable: 'InvalidAccessError' });
}, 300_000);
