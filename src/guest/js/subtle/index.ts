/**
 * crypto.subtle (SubtleCrypto) and CryptoKey, after the Web Cryptography API, on the noble
 * libraries: this module has the dispatch (algorithm normalization, key usages,
 * extractability, wrapKey/unwrapKey/deriveKey built on the primitives), digest (SHA-1/256/
 * 384/512) and HMAC. Every other algorithm family is a module of its own (aes, ec, okp, rsa,
 * kdf) that registers itself here, and the bundler adds one only when the function's code
 * names it (e.g. 'ECDSA'): curves and RSA are the bulk of the size.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha1 } from '@noble/hashes/legacy.js';
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { sha256 as hostSha256 } from 'wfn:fn/host';
import { utf8Decode, utf8Encode } from '../encoding.js';
import { hooks } from '../hooks.js';
import { defineGlobals } from '../install.js';
import { isInitializing } from '../phase.js';
import { dataError, invalidAccess, notSupported, operationError, syntaxError } from './errors.js';

export type KeyType = 'secret' | 'public' | 'private';
export type KeyUsage = 'encrypt' | 'decrypt' | 'sign' | 'verify' | 'deriveKey' | 'deriveBits' | 'wrapKey' | 'unwrapKey';
export type Algorithm = { name: string; [param: string]: unknown };
export type Jwk = { kty?: string; alg?: string; ext?: boolean; key_ops?: string[]; [field: string]: unknown };
export type KeyFormat = 'raw' | 'spki' | 'pkcs8' | 'jwk';

const CREATE = Symbol('wfn.createKey');

export class CryptoKey {
  #type: KeyType;
  #extractable: boolean;
  #algorithm: Algorithm;
  #usages: KeyUsage[];
  #material: unknown;

  constructor(token?: symbol, type?: KeyType, extractable?: boolean, algorithm?: Algorithm, usages?: KeyUsage[], material?: unknown) {
    if (token !== CREATE) throw new TypeError('CryptoKey: illegal constructor (keys come from crypto.subtle)');
    this.#type = type!;
    this.#extractable = extractable!;
    this.#algorithm = algorithm!;
    this.#usages = usages!;
    this.#material = material;
  }

  /** @internal */
  static create(type: KeyType, extractable: boolean, algorithm: Algorithm, usages: KeyUsage[], material: unknown): CryptoKey {
    return new CryptoKey(CREATE, type, extractable, algorithm, usages, material);
  }

  /** @internal The key's secret: bytes, a bigint set, a curve scalar... as its algorithm module keeps it. */
  static material<T>(key: CryptoKey): T {
    return key.#material as T;
  }

  get type(): KeyType {
    return this.#type;
  }

  get extractable(): boolean {
    return this.#extractable;
  }

  get algorithm(): Algorithm {
    return structuredCopy(this.#algorithm);
  }

  get usages(): KeyUsage[] {
    return [...this.#usages];
  }

  get [Symbol.toStringTag](): string {
    return 'CryptoKey';
  }
}

function structuredCopy(alg: Algorithm): Algorithm {
  const out: Algorithm = { ...alg };
  for (const [k, v] of Object.entries(out)) {
    if (v instanceof Uint8Array) out[k] = v.slice();
    else if (v && typeof v === 'object') out[k] = { ...(v as object) };
  }
  return out;
}

export interface KeyPair {
  publicKey: CryptoKey;
  privateKey: CryptoKey;
}

/** What an algorithm family implements; SubtleCrypto checks usages and extractability before calling it. */
export interface AlgorithmImpl {
  /** The usages each key type may have. */
  usages: Partial<Record<KeyType, KeyUsage[]>>;
  digest?(alg: Algorithm, data: Uint8Array): Uint8Array;
  generateKey?(alg: Algorithm, extractable: boolean, usages: KeyUsage[]): CryptoKey | KeyPair;
  importKey?(format: KeyFormat, data: Uint8Array | Jwk, alg: Algorithm, extractable: boolean, usages: KeyUsage[]): CryptoKey;
  exportKey?(format: KeyFormat, key: CryptoKey): Uint8Array | Jwk;
  sign?(alg: Algorithm, key: CryptoKey, data: Uint8Array): Uint8Array;
  verify?(alg: Algorithm, key: CryptoKey, signature: Uint8Array, data: Uint8Array): boolean;
  encrypt?(alg: Algorithm, key: CryptoKey, data: Uint8Array): Uint8Array;
  decrypt?(alg: Algorithm, key: CryptoKey, data: Uint8Array): Uint8Array;
  /** AES-KW only: wrapKey/unwrapKey without encrypt/decrypt. */
  wrap?(alg: Algorithm, key: CryptoKey, data: Uint8Array): Uint8Array;
  unwrap?(alg: Algorithm, key: CryptoKey, data: Uint8Array): Uint8Array;
  deriveBits?(alg: Algorithm, key: CryptoKey, length: number | null): Uint8Array;
  /** The key length in bits deriveKey must derive for this algorithm. */
  keyLength?(alg: Algorithm): number;
}

const registry = new Map<string, { name: string; impl: AlgorithmImpl }>();

/** Names WebCrypto defines, so a left-out module is told apart from a misspelling. */
const KNOWN: Record<string, string> = {
  'AES-GCM': 'aes', 'AES-CBC': 'aes', 'AES-CTR': 'aes', 'AES-KW': 'aes', ECDSA: 'ec', ECDH: 'ec', ED25519: 'okp', X25519: 'okp',
  'RSASSA-PKCS1-V1_5': 'rsa', 'RSA-PSS': 'rsa', 'RSA-OAEP': 'rsa', PBKDF2: 'kdf', HKDF: 'kdf',
};

export function register(name: string, impl: AlgorithmImpl): void {
  registry.set(name.toUpperCase(), { name, impl });
}

/** An algorithm identifier (string or object) with its canonical name, and its implementation. */
function lookup(identifier: unknown): { alg: Algorithm; impl: AlgorithmImpl } {
  const alg: Algorithm =
    typeof identifier === 'string' ? { name: identifier } : identifier && typeof identifier === 'object' ? { ...(identifier as Algorithm) } : ({} as Algorithm);
  if (typeof alg.name !== 'string') throw new TypeError('crypto.subtle: the algorithm must be a name or an object with a name');
  const entry = registry.get(alg.name.toUpperCase());
  if (!entry) {
    const family = KNOWN[alg.name.toUpperCase()];
    if (family) {
      throw notSupported(
        `${alg.name} is not in this function: wfn includes a crypto.subtle algorithm only when the code names it ` +
          `(here the name was not written out in the code); write it once, e.g. \`void '${alg.name}';\``,
      );
    }
    throw notSupported(`Unrecognized algorithm name: ${alg.name}`);
  }
  alg.name = entry.name;
  return { alg, impl: entry.impl };
}

export const HASHES = { 'SHA-1': sha1, 'SHA-256': sha256, 'SHA-384': sha384, 'SHA-512': sha512 } as const;
export type HashName = keyof typeof HASHES;

/** The hash an algorithm's `hash` parameter names (string or {name}), canonical. */
export function hashName(hash: unknown): HashName {
  const raw = typeof hash === 'string' ? hash : (hash as { name?: unknown } | undefined)?.name;
  if (typeof raw !== 'string') throw new TypeError('crypto.subtle: the algorithm needs a hash');
  const name = raw.toUpperCase() as HashName;
  if (!(name in HASHES)) throw notSupported(`Unrecognized hash: ${raw}`);
  return name;
}

/** A BufferSource's bytes, copied (the caller may change its buffer while we work). */
export function bytes(data: unknown, what = 'data'): Uint8Array {
  if (data instanceof ArrayBuffer) return new Uint8Array(data.slice(0));
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  throw new TypeError(`crypto.subtle: ${what} must be an ArrayBuffer or ArrayBufferView`);
}

function buffer(b: Uint8Array): ArrayBuffer {
  return b.buffer.byteLength === b.length && b.byteOffset === 0 ? (b.buffer as ArrayBuffer) : (b.slice().buffer as ArrayBuffer);
}

export function b64url(data: Uint8Array): string {
  let s = '';
  for (let i = 0; i < data.length; i += 8192) s += String.fromCharCode(...data.subarray(i, i + 8192));
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function fromB64url(text: unknown, field: string): Uint8Array {
  if (typeof text !== 'string' || !/^[A-Za-z0-9_-]*$/.test(text)) throw dataError(`invalid JWK: "${field}" must be base64url`);
  const s = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4));
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export function randomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(length, i + 65536)));
  return out;
}

/** The first `length` bits of `secret` (all of it for null), as deriveBits returns them. */
export function truncateBits(secret: Uint8Array, length: number | null): Uint8Array {
  if (length === null) return secret.slice();
  if (!Number.isInteger(length) || length < 0 || length > secret.length * 8) throw operationError(`deriveBits: length ${length} is more than the ${secret.length * 8} bits there are`);
  const out = secret.slice(0, Math.ceil(length / 8));
  if (length % 8) out[out.length - 1] &= 0xff << (8 - (length % 8));
  return out;
}

/** Constant-time equality (signatures and MACs). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** The JWK checks every import shares: ext, key_ops and use against what is asked. */
export function checkJwk(jwk: Jwk, kty: string, extractable: boolean, usages: KeyUsage[], use?: 'sig' | 'enc'): void {
  if (!jwk || typeof jwk !== 'object') throw new TypeError('importKey("jwk"): the key data must be a JsonWebKey object');
  if (jwk.kty !== kty) throw dataError(`invalid JWK: kty must be "${kty}"`);
  if (jwk.ext === false && extractable) throw dataError('invalid JWK: ext is false but the key was asked to be extractable');
  if (Array.isArray(jwk.key_ops) && usages.some((u) => !jwk.key_ops!.includes(u))) throw dataError('invalid JWK: key_ops does not allow the usages asked for');
  if (use && jwk.use !== undefined && jwk.use !== use) throw dataError(`invalid JWK: use must be "${use}"`);
}

/** A JWK export's common fields. */
export function jwkOf(key: CryptoKey, fields: Jwk): Jwk {
  return { ...fields, key_ops: key.usages, ext: key.extractable };
}

function checkUsages(impl: AlgorithmImpl, type: KeyType, usages: KeyUsage[], name: string): void {
  const allowed = impl.usages[type] ?? [];
  for (const u of usages) if (!allowed.includes(u)) throw syntaxError(`${name}: a ${type} key cannot be used to ${u}`);
}

function usageList(usages: unknown): KeyUsage[] {
  if (!Array.isArray(usages)) throw new TypeError('crypto.subtle: keyUsages must be an array');
  return [...new Set(usages.map(String))] as KeyUsage[];
}

function needs(key: unknown, alg: Algorithm, usage: KeyUsage): CryptoKey {
  if (!(key instanceof CryptoKey)) throw new TypeError('crypto.subtle: the key must be a CryptoKey');
  if (key.algorithm.name !== alg.name) throw invalidAccess(`the key is for ${key.algorithm.name}, not ${alg.name}`);
  if (!key.usages.includes(usage)) throw invalidAccess(`the key's usages do not include ${usage}`);
  return key;
}

function missing(alg: Algorithm, op: string): DOMException {
  return notSupported(`${alg.name} does not support ${op}`);
}

/** Keys from generateKey/importKey: a secret or private key needs at least one usage. */
function checked<T extends CryptoKey | KeyPair>(result: T): T {
  const key = result instanceof CryptoKey ? result : result.privateKey;
  if ((key.type === 'secret' || key.type === 'private') && key.usages.length === 0) throw syntaxError('a secret or private key needs at least one usage');
  return result;
}

function keyData(format: KeyFormat, data: unknown): Uint8Array | Jwk {
  if (format === 'jwk') {
    if (!data || typeof data !== 'object' || ArrayBuffer.isView(data) || data instanceof ArrayBuffer) throw new TypeError('importKey("jwk"): the key data must be a JsonWebKey object');
    return data as Jwk;
  }
  if (format !== 'raw' && format !== 'spki' && format !== 'pkcs8') throw new TypeError(`crypto.subtle: unknown key format "${format}"`);
  return bytes(data, 'keyData');
}

export class SubtleCrypto {
  async digest(algorithm: unknown, data: unknown): Promise<ArrayBuffer> {
    const { alg, impl } = lookup(algorithm);
    if (!impl.digest) throw missing(alg, 'digest');
    return buffer(impl.digest(alg, bytes(data)));
  }

  async generateKey(algorithm: unknown, extractable: boolean, keyUsages: unknown): Promise<CryptoKey | KeyPair> {
    const { alg, impl } = lookup(algorithm);
    const usages = usageList(keyUsages);
    if (!impl.generateKey) throw missing(alg, 'generateKey');
    const all = [...(impl.usages.secret ?? []), ...(impl.usages.public ?? []), ...(impl.usages.private ?? [])];
    for (const u of usages) if (!all.includes(u)) throw syntaxError(`${alg.name}: a key cannot be used to ${u}`);
    return checked(impl.generateKey(alg, Boolean(extractable), usages));
  }

  async importKey(format: KeyFormat, data: unknown, algorithm: unknown, extractable: boolean, keyUsages: unknown): Promise<CryptoKey> {
    const { alg, impl } = lookup(algorithm);
    const usages = usageList(keyUsages);
    if (!impl.importKey) throw missing(alg, 'importKey');
    const key = impl.importKey(format, keyData(format, data), alg, Boolean(extractable), usages);
    checkUsages(impl, key.type, usages, alg.name);
    return checked(key);
  }

  async exportKey(format: KeyFormat, key: unknown): Promise<ArrayBuffer | Jwk> {
    if (!(key instanceof CryptoKey)) throw new TypeError('exportKey: the key must be a CryptoKey');
    const { alg, impl } = lookup(key.algorithm);
    if (!key.extractable) throw invalidAccess('the key is not extractable');
    if (!impl.exportKey) throw missing(alg, 'exportKey');
    const out = impl.exportKey(format, key);
    return out instanceof Uint8Array ? buffer(out) : out;
  }

  async sign(algorithm: unknown, key: unknown, data: unknown): Promise<ArrayBuffer> {
    const { alg, impl } = lookup(algorithm);
    if (!impl.sign) throw missing(alg, 'sign');
    return buffer(impl.sign(alg, needs(key, alg, 'sign'), bytes(data)));
  }

  async verify(algorithm: unknown, key: unknown, signature: unknown, data: unknown): Promise<boolean> {
    const { alg, impl } = lookup(algorithm);
    if (!impl.verify) throw missing(alg, 'verify');
    return impl.verify(alg, needs(key, alg, 'verify'), bytes(signature, 'signature'), bytes(data));
  }

  async encrypt(algorithm: unknown, key: unknown, data: unknown): Promise<ArrayBuffer> {
    const { alg, impl } = lookup(algorithm);
    if (!impl.encrypt) throw missing(alg, 'encrypt');
    return buffer(impl.encrypt(alg, needs(key, alg, 'encrypt'), bytes(data)));
  }

  async decrypt(algorithm: unknown, key: unknown, data: unknown): Promise<ArrayBuffer> {
    const { alg, impl } = lookup(algorithm);
    if (!impl.decrypt) throw missing(alg, 'decrypt');
    return buffer(impl.decrypt(alg, needs(key, alg, 'decrypt'), bytes(data)));
  }

  async deriveBits(algorithm: unknown, baseKey: unknown, length: number | null = null): Promise<ArrayBuffer> {
    const { alg, impl } = lookup(algorithm);
    if (!impl.deriveBits) throw missing(alg, 'deriveBits');
    return buffer(impl.deriveBits(alg, needs(baseKey, alg, 'deriveBits'), length === null || length === undefined ? null : Number(length)));
  }

  async deriveKey(algorithm: unknown, baseKey: unknown, derivedKeyType: unknown, extractable: boolean, keyUsages: unknown): Promise<CryptoKey> {
    const { alg, impl } = lookup(algorithm);
    const target = lookup(derivedKeyType);
    if (!impl.deriveBits) throw missing(alg, 'deriveKey');
    if (!target.impl.keyLength) throw missing(target.alg, 'deriveKey (as the derived key)');
    const bits = impl.deriveBits(alg, needs(baseKey, alg, 'deriveKey'), target.impl.keyLength(target.alg));
    return this.importKey('raw', bits, target.alg, extractable, keyUsages);
  }

  async wrapKey(format: KeyFormat, key: unknown, wrappingKey: unknown, wrapAlgorithm: unknown): Promise<ArrayBuffer> {
    const { alg, impl } = lookup(wrapAlgorithm);
    const wrapper = needs(wrappingKey, alg, 'wrapKey');
    const exported = await this.exportKey(format, key);
    const data = exported instanceof ArrayBuffer ? new Uint8Array(exported) : utf8Encode(JSON.stringify(exported));
    const wrap = impl.wrap ?? impl.encrypt;
    if (!wrap) throw missing(alg, 'wrapKey');
    return buffer(wrap(alg, wrapper, data));
  }

  async unwrapKey(
    format: KeyFormat, wrappedKey: unknown, unwrappingKey: unknown, unwrapAlgorithm: unknown, unwrappedKeyAlgorithm: unknown, extractable: boolean, keyUsages: unknown,
  ): Promise<CryptoKey> {
    const { alg, impl } = lookup(unwrapAlgorithm);
    const unwrapper = needs(unwrappingKey, alg, 'unwrapKey');
    const unwrap = impl.unwrap ?? impl.decrypt;
    if (!unwrap) throw missing(alg, 'unwrapKey');
    const data = unwrap(alg, unwrapper, bytes(wrappedKey, 'wrappedKey'));
    let material: Uint8Array | Jwk = data;
    if (format === 'jwk') {
      try {
        material = JSON.parse(utf8Decode(data)) as Jwk;
      } catch {
        throw dataError('unwrapKey: the unwrapped data is not a JWK');
      }
    }
    return this.importKey(format, material, unwrappedKeyAlgorithm, extractable, keyUsages);
  }

  get [Symbol.toStringTag](): string {
    return 'SubtleCrypto';
  }
}

/**
 * SHA-256 by the host module (WebAssembly) inside a request: 1 MiB in ~10 ms where
 * noble-hashes in QuickJS takes ~3.6 s. At build time (top-level code) there is no host.
 */
function fastSha256(data: Uint8Array): Uint8Array {
  return isInitializing() ? sha256(data) : hostSha256(data);
}

/** HMAC-SHA-256 (RFC 2104) on fastSha256: two host calls instead of a JavaScript SHA-256. */
function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  const block = new Uint8Array(64);
  block.set(key.length > 64 ? fastSha256(key) : key);
  const inner = new Uint8Array(64 + data.length);
  for (let i = 0; i < 64; i++) inner[i] = block[i] ^ 0x36;
  inner.set(data, 64);
  const outer = new Uint8Array(96);
  for (let i = 0; i < 64; i++) outer[i] = block[i] ^ 0x5c;
  outer.set(fastSha256(inner), 64);
  return fastSha256(outer);
}

function mac(hash: HashName, key: Uint8Array, data: Uint8Array): Uint8Array {
  return hash === 'SHA-256' ? hmacSha256(key, data) : hmac(HASHES[hash], key, data);
}

// ---- digest: SHA-1, SHA-256, SHA-384, SHA-512 (noble-hashes; SHA-256 by the host).
for (const name of Object.keys(HASHES) as HashName[]) {
  register(name, { usages: {}, digest: (_alg, data) => (name === 'SHA-256' ? fastSha256(data) : HASHES[name](data)) });
}

// ---- HMAC.
const HMAC_JWK_ALG: Record<HashName, string> = { 'SHA-1': 'HS1', 'SHA-256': 'HS256', 'SHA-384': 'HS384', 'SHA-512': 'HS512' };

function hmacKey(alg: Algorithm, raw: Uint8Array, extractable: boolean, usages: KeyUsage[]): CryptoKey {
  const hash = hashName(alg.hash);
  const length = alg.length === undefined ? raw.length * 8 : Number(alg.length);
  if (raw.length === 0 || length > raw.length * 8 || length <= (raw.length - 1) * 8) throw dataError('HMAC: the key length does not match the key data');
  return CryptoKey.create('secret', extractable, { name: 'HMAC', hash: { name: hash }, length }, usages, raw);
}

register('HMAC', {
  usages: { secret: ['sign', 'verify'] },
  keyLength: (alg) => (alg.length === undefined ? HASHES[hashName(alg.hash)].blockLen * 8 : Number(alg.length)),
  generateKey(alg, extractable, usages) {
    const bits = alg.length === undefined ? HASHES[hashName(alg.hash)].blockLen * 8 : Number(alg.length);
    if (!Number.isInteger(bits) || bits <= 0) throw operationError('HMAC: invalid key length');
    const raw = randomBytes(Math.ceil(bits / 8));
    return hmacKey({ ...alg, length: bits }, raw, extractable, usages);
  },
  importKey(format, data, alg, extractable, usages) {
    if (format === 'raw') return hmacKey(alg, data as Uint8Array, extractable, usages);
    if (format !== 'jwk') throw notSupported(`HMAC keys cannot be imported as ${format}`);
    const jwk = data as Jwk;
    checkJwk(jwk, 'oct', extractable, usages, 'sig');
    const hash = hashName(alg.hash);
    if (jwk.alg !== undefined && jwk.alg !== HMAC_JWK_ALG[hash]) throw dataError(`invalid JWK: alg must be ${HMAC_JWK_ALG[hash]}`);
    return hmacKey(alg, fromB64url(jwk.k, 'k'), extractable, usages);
  },
  exportKey(format, key) {
    const raw = CryptoKey.material<Uint8Array>(key);
    if (format === 'raw') return raw.slice();
    if (format !== 'jwk') throw notSupported(`HMAC keys cannot be exported as ${format}`);
    const hash = (key.algorithm.hash as { name: HashName }).name;
    return jwkOf(key, { kty: 'oct', k: b64url(raw), alg: HMAC_JWK_ALG[hash] });
  },
  sign: (_alg, key, data) => mac((key.algorithm.hash as { name: HashName }).name, CryptoKey.material<Uint8Array>(key), data),
  verify: (_alg, key, signature, data) => equalBytes(mac((key.algorithm.hash as { name: HashName }).name, CryptoKey.material<Uint8Array>(key), data), signature),
});

export const subtle = new SubtleCrypto();
hooks.subtle = subtle;
defineGlobals({ SubtleCrypto, CryptoKey });
