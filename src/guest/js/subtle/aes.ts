/** AES-GCM, AES-CBC, AES-CTR and AES-KW for crypto.subtle, on @noble/ciphers. */
import { aeskw, cbc, ctr, gcm } from '@noble/ciphers/aes.js';
import { dataError, notSupported, operationError } from './errors.js';
import { b64url, bytes, checkJwk, CryptoKey, fromB64url, jwkOf, randomBytes, register, type Algorithm, type Jwk, type KeyUsage } from './index.js';

const JWK_SUFFIX: Record<string, string> = { 'AES-GCM': 'GCM', 'AES-CBC': 'CBC', 'AES-CTR': 'CTR', 'AES-KW': 'KW' };

function aesKey(name: string, raw: Uint8Array, extractable: boolean, usages: KeyUsage[]): CryptoKey {
  if (raw.length !== 16 && raw.length !== 24 && raw.length !== 32) throw dataError(`${name}: the key must be 128, 192 or 256 bits`);
  return CryptoKey.create('secret', extractable, { name, length: raw.length * 8 }, usages, raw);
}

const keyOf = (key: CryptoKey) => CryptoKey.material<Uint8Array>(key);

/** Runs a noble call, turning its errors (bad tag, bad padding, bad length) into OperationError. */
function op<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof DOMException) throw error;
    throw operationError(`${what}: ${(error as Error).message}`);
  }
}

const TAG_LENGTHS = [32, 64, 96, 104, 112, 120, 128];

function gcmParams(alg: Algorithm): { iv: Uint8Array; aad: Uint8Array | undefined; tagBytes: number } {
  const iv = bytes(alg.iv, 'iv');
  if (iv.length === 0) throw operationError('AES-GCM: the iv must not be empty');
  const tagLength = alg.tagLength === undefined ? 128 : Number(alg.tagLength);
  if (!TAG_LENGTHS.includes(tagLength)) throw operationError(`AES-GCM: invalid tagLength ${alg.tagLength}`);
  if (tagLength !== 128 && iv.length !== 12) throw notSupported('AES-GCM: a tag shorter than 128 bits needs a 96-bit iv here');
  return { iv, aad: alg.additionalData === undefined ? undefined : bytes(alg.additionalData, 'additionalData'), tagBytes: tagLength / 8 };
}

function cbcIv(alg: Algorithm): Uint8Array {
  const iv = bytes(alg.iv, 'iv');
  if (iv.length !== 16) throw operationError('AES-CBC: the iv must be 16 bytes');
  return iv;
}

/** GCM's keystream for a 96-bit iv starts at counter 2: the plaintext of a short-tag ciphertext without checking the tag. */
function gcmUnchecked(key: Uint8Array, iv: Uint8Array, body: Uint8Array): Uint8Array {
  const counter = new Uint8Array(16);
  counter.set(iv);
  counter[15] = 2;
  return ctr(key, counter).decrypt(body);
}

/** AES-CTR with WebCrypto's `length`: only the counter block's low `length` bits count, and wrap around. */
function ctrRun(alg: Algorithm, key: Uint8Array, data: Uint8Array): Uint8Array {
  const counter = bytes(alg.counter, 'counter');
  const length = Number(alg.length);
  if (counter.length !== 16) throw operationError('AES-CTR: the counter must be 16 bytes');
  if (!Number.isInteger(length) || length < 1 || length > 128) throw operationError('AES-CTR: length must be 1-128');
  const blocks = BigInt(Math.ceil(data.length / 16));
  const space = 1n << BigInt(length);
  if (blocks > space) throw operationError('AES-CTR: the data is too long for the counter length');
  let whole = 0n;
  for (const b of counter) whole = (whole << 8n) | BigInt(b);
  const low = whole & (space - 1n);
  const toBlock = (n: bigint) => Uint8Array.from({ length: 16 }, (_, i) => Number((n >> BigInt(8 * (15 - i))) & 0xffn));
  if (low + blocks <= space) return ctr(key, counter).encrypt(data);
  // The counter wraps inside the data: the rest continues from the low bits at zero.
  const firstBytes = Number(space - low) * 16;
  const out = new Uint8Array(data.length);
  out.set(ctr(key, counter).encrypt(data.subarray(0, firstBytes)));
  out.set(ctr(key, toBlock(whole - low)).encrypt(data.subarray(firstBytes)), firstBytes);
  return out;
}

for (const name of ['AES-GCM', 'AES-CBC', 'AES-CTR', 'AES-KW']) {
  const kw = name === 'AES-KW';
  register(name, {
    usages: { secret: kw ? ['wrapKey', 'unwrapKey'] : ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey'] },
    keyLength(alg) {
      const length = Number(alg.length);
      if (length !== 128 && length !== 192 && length !== 256) throw operationError(`${name}: length must be 128, 192 or 256`);
      return length;
    },
    generateKey(alg, extractable, usages) {
      const length = Number(alg.length);
      if (length !== 128 && length !== 192 && length !== 256) throw operationError(`${name}: length must be 128, 192 or 256`);
      return aesKey(name, randomBytes(length / 8), extractable, usages);
    },
    importKey(format, data, _alg, extractable, usages) {
      if (format === 'raw') return aesKey(name, data as Uint8Array, extractable, usages);
      if (format !== 'jwk') throw notSupported(`${name} keys cannot be imported as ${format}`);
      const jwk = data as Jwk;
      checkJwk(jwk, 'oct', extractable, usages, 'enc');
      const raw = fromB64url(jwk.k, 'k');
      if (jwk.alg !== undefined && jwk.alg !== `A${raw.length * 8}${JWK_SUFFIX[name]}`) throw dataError(`invalid JWK: alg does not match a ${raw.length * 8}-bit ${name} key`);
      return aesKey(name, raw, extractable, usages);
    },
    exportKey(format, key) {
      const raw = keyOf(key);
      if (format === 'raw') return raw.slice();
      if (format !== 'jwk') throw notSupported(`${name} keys cannot be exported as ${format}`);
      return jwkOf(key, { kty: 'oct', k: b64url(raw), alg: `A${raw.length * 8}${JWK_SUFFIX[name]}` });
    },
    ...(kw
      ? {
          wrap: (_alg, key, data) => op('AES-KW', () => aeskw(keyOf(key)).encrypt(data)),
          unwrap: (_alg, key, data) => op('AES-KW', () => aeskw(keyOf(key)).decrypt(data)),
        }
      : {
          encrypt(alg, key, data) {
            const k = keyOf(key);
            if (name === 'AES-CTR') return op(name, () => ctrRun(alg, k, data));
            if (name === 'AES-CBC') return op(name, () => cbc(k, cbcIv(alg)).encrypt(data));
            const { iv, aad, tagBytes } = gcmParams(alg);
            const sealed = op(name, () => gcm(k, iv, aad).encrypt(data));
            return tagBytes === 16 ? sealed : sealed.subarray(0, data.length + tagBytes);
          },
          decrypt(alg, key, data) {
            const k = keyOf(key);
            if (name === 'AES-CTR') return op(name, () => ctrRun(alg, k, data));
            if (name === 'AES-CBC') return op(name, () => cbc(k, cbcIv(alg)).decrypt(data));
            const { iv, aad, tagBytes } = gcmParams(alg);
            if (data.length < tagBytes) throw operationError('AES-GCM: the data is shorter than the tag');
            if (tagBytes === 16) return op(name, () => gcm(k, iv, aad).decrypt(data));
            // A short tag: decrypt, re-seal, and compare the tag's first bytes.
            const body = data.subarray(0, data.length - tagBytes);
            const plain = gcmUnchecked(k, iv, body);
            const resealed = gcm(k, iv, aad).encrypt(plain);
            const tag = resealed.subarray(plain.length, plain.length + tagBytes);
            let diff = 0;
            for (let i = 0; i < tagBytes; i++) diff |= tag[i] ^ data[body.length + i];
            if (diff !== 0) throw operationError('AES-GCM: the tag does not match');
            return plain;
          },
        }),
  });
}
