/**
 * RSASSA-PKCS1-v1_5, RSA-PSS and RSA-OAEP for crypto.subtle, on micro-rsa-dsa-dh (noble's
 * author's RSA). Key generation works but is slow in QuickJS (seconds for 2048 bits): import
 * keys made elsewhere where possible.
 */
import { invert } from '@noble/curves/abstract/modular.js';
import { IFCPrimes, mgf1, OAEP, PKCS1_SHA1, PKCS1_SHA256, PKCS1_SHA384, PKCS1_SHA512, PSS, type PrivateKey, type PublicKey } from 'micro-rsa-dsa-dh/rsa.js';
import * as der from './der.js';
import { dataError, invalidAccess, notSupported, operationError } from './errors.js';
import { b64url, bytes, checkJwk, CryptoKey, fromB64url, HASHES, hashName, jwkOf, randomBytes, register, type Algorithm, type HashName, type Jwk, type KeyUsage } from './index.js';

const RSA_ENCRYPTION = '2a864886f70d010101';
const RSA_PSS = '2a864886f70d01010a';
const NULL_PARAMS = Uint8Array.of(der.NULL, 0);

interface RsaMaterial {
  n: bigint;
  e: bigint;
  d?: bigint;
  p?: bigint;
  q?: bigint;
  dp?: bigint;
  dq?: bigint;
  qi?: bigint;
}

const PKCS1 = { 'SHA-1': PKCS1_SHA1, 'SHA-256': PKCS1_SHA256, 'SHA-384': PKCS1_SHA384, 'SHA-512': PKCS1_SHA512 };
const JWK_ALGS: Record<string, Record<HashName, string>> = {
  'RSASSA-PKCS1-v1_5': { 'SHA-1': 'RS1', 'SHA-256': 'RS256', 'SHA-384': 'RS384', 'SHA-512': 'RS512' },
  'RSA-PSS': { 'SHA-1': 'PS1', 'SHA-256': 'PS256', 'SHA-384': 'PS384', 'SHA-512': 'PS512' },
  'RSA-OAEP': { 'SHA-1': 'RSA-OAEP', 'SHA-256': 'RSA-OAEP-256', 'SHA-384': 'RSA-OAEP-384', 'SHA-512': 'RSA-OAEP-512' },
};
const FIELDS = ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'] as const;

function bitLength(n: bigint): number {
  return n.toString(2).length;
}

function bigBytes(n: bigint): Uint8Array {
  const value = der.fromBigInt(n);
  return value[0] === 0 && value.length > 1 ? value.subarray(1) : value;
}

function makeKey(name: string, hash: HashName, type: 'public' | 'private', m: RsaMaterial, extractable: boolean, usages: KeyUsage[]): CryptoKey {
  const algorithm: Algorithm = { name, modulusLength: bitLength(m.n), publicExponent: bigBytes(m.e), hash: { name: hash } };
  return CryptoKey.create(type, extractable, algorithm, usages, m);
}

function readPublic(key: Uint8Array): RsaMaterial {
  const [n, e] = der.children(der.expect(der.parse(key), der.SEQUENCE, 'RSAPublicKey'));
  return { n: der.toBigInt(der.expect(n, der.INTEGER, 'modulus').value), e: der.toBigInt(der.expect(e, der.INTEGER, 'exponent').value) };
}

function readPrivate(key: Uint8Array): RsaMaterial {
  const ints = der.children(der.expect(der.parse(key), der.SEQUENCE, 'RSAPrivateKey')).map((node) => der.toBigInt(der.expect(node, der.INTEGER, 'INTEGER').value));
  if (ints.length < 9) throw dataError('invalid RSAPrivateKey');
  const [, n, e, d, p, q, dp, dq, qi] = ints;
  return { n, e, d, p, q, dp, dq, qi };
}

function writePrivate(m: RsaMaterial): Uint8Array {
  const ints = [0n, m.n, m.e, m.d!, m.p!, m.q!, m.dp!, m.dq!, m.qi!].map((v) => der.encode(der.INTEGER, der.fromBigInt(v)));
  return der.encode(der.SEQUENCE, ...ints);
}

function checkKey(m: RsaMaterial): RsaMaterial {
  if (m.n < 3n || m.e < 3n || bitLength(m.n) < 256) throw dataError('invalid RSA key');
  return m;
}

function family(name: 'RSASSA-PKCS1-v1_5' | 'RSA-PSS' | 'RSA-OAEP') {
  const publicUsages: KeyUsage[] = name === 'RSA-OAEP' ? ['encrypt', 'wrapKey'] : ['verify'];
  const privateUsages: KeyUsage[] = name === 'RSA-OAEP' ? ['decrypt', 'unwrapKey'] : ['sign'];
  return {
    usages: { public: publicUsages, private: privateUsages },
    generateKey(alg: Algorithm, extractable: boolean, usages: KeyUsage[]) {
      const hash = hashName(alg.hash);
      const bits = Number(alg.modulusLength);
      const e = der.toBigInt(bytes(alg.publicExponent, 'publicExponent'));
      if (!Number.isInteger(bits) || bits < 1024 || bits % 8) throw operationError('RSA: modulusLength must be a multiple of 8, at least 1024');
      if (e !== 65537n && e !== 3n) throw operationError('RSA: publicExponent must be 65537 (or 3)');
      const { p, q } = IFCPrimes(bits, e, undefined, undefined, randomBytes);
      const d = invert(e, (p - 1n) * (q - 1n));
      const m: RsaMaterial = { n: p * q, e, d, p, q, dp: d % (p - 1n), dq: d % (q - 1n), qi: invert(q, p) };
      return {
        publicKey: makeKey(name, hash, 'public', { n: m.n, e }, true, usages.filter((u) => publicUsages.includes(u))),
        privateKey: makeKey(name, hash, 'private', m, extractable, usages.filter((u) => privateUsages.includes(u))),
      };
    },
    importKey(format: string, data: Uint8Array | Jwk, alg: Algorithm, extractable: boolean, usages: KeyUsage[]): CryptoKey {
      const hash = hashName(alg.hash);
      if (format === 'spki') {
        const spki = der.readSpki(data as Uint8Array);
        if (spki.oid !== RSA_ENCRYPTION && spki.oid !== RSA_PSS) throw dataError('the SPKI is not an RSA key');
        return makeKey(name, hash, 'public', checkKey(readPublic(spki.key)), extractable, usages);
      }
      if (format === 'pkcs8') {
        const info = der.readPkcs8(data as Uint8Array);
        if (info.oid !== RSA_ENCRYPTION && info.oid !== RSA_PSS) throw dataError('the PKCS #8 key is not an RSA key');
        return makeKey(name, hash, 'private', checkKey(readPrivate(info.key)), extractable, usages);
      }
      if (format !== 'jwk') throw notSupported(`${name} keys cannot be imported as ${format}`);
      const jwk = data as Jwk;
      checkJwk(jwk, 'RSA', extractable, usages, name === 'RSA-OAEP' ? 'enc' : 'sig');
      if (jwk.alg !== undefined && jwk.alg !== JWK_ALGS[name][hash]) throw dataError(`invalid JWK: alg must be ${JWK_ALGS[name][hash]}`);
      const m: RsaMaterial = { n: 0n, e: 0n };
      for (const field of FIELDS) if (jwk[field] !== undefined) m[field] = der.toBigInt(fromB64url(jwk[field], field));
      if (jwk.n === undefined || jwk.e === undefined) throw dataError('invalid JWK: n and e are required');
      const isPrivate = jwk.d !== undefined;
      return makeKey(name, hash, isPrivate ? 'private' : 'public', checkKey(m), extractable, usages);
    },
    exportKey(format: string, key: CryptoKey): Uint8Array | Jwk {
      const m = CryptoKey.material<RsaMaterial>(key);
      if (format === 'spki') {
        if (key.type !== 'public') throw invalidAccess('only a public key can be exported as spki');
        return der.writeSpki(RSA_ENCRYPTION, NULL_PARAMS, der.encode(der.SEQUENCE, der.encode(der.INTEGER, der.fromBigInt(m.n)), der.encode(der.INTEGER, der.fromBigInt(m.e))));
      }
      if (format === 'pkcs8') {
        if (key.type !== 'private') throw invalidAccess('only a private key can be exported as pkcs8');
        if (m.p === undefined) throw operationError('this private key has no CRT parameters to export as pkcs8');
        return der.writePkcs8(RSA_ENCRYPTION, NULL_PARAMS, writePrivate(m));
      }
      if (format !== 'jwk') throw notSupported(`${name} keys cannot be exported as ${format}`);
      const fields: Jwk = { kty: 'RSA', alg: JWK_ALGS[name][(key.algorithm.hash as { name: HashName }).name] };
      for (const field of FIELDS) if (m[field] !== undefined) fields[field] = b64url(bigBytes(m[field]!));
      return jwkOf(key, fields);
    },
  };
}

const keyHash = (key: CryptoKey) => (key.algorithm.hash as { name: HashName }).name;
const publicOf = (key: CryptoKey): PublicKey => CryptoKey.material<RsaMaterial>(key) as PublicKey;
const privateOf = (key: CryptoKey): PrivateKey => {
  const m = CryptoKey.material<RsaMaterial>(key);
  return { n: m.n, d: m.d! };
};

function safeVerify(run: () => boolean): boolean {
  try {
    return run();
  } catch {
    return false;
  }
}

function pss(alg: Algorithm, key: CryptoKey) {
  const saltLength = Number(alg.saltLength);
  if (!Number.isInteger(saltLength) || saltLength < 0) throw new TypeError('RSA-PSS: saltLength must be a non-negative integer');
  const hash = HASHES[keyHash(key)];
  return PSS(hash, mgf1(hash), saltLength);
}

register('RSASSA-PKCS1-v1_5', {
  ...family('RSASSA-PKCS1-v1_5'),
  sign: (_alg, key, data) => PKCS1[keyHash(key)].sign(privateOf(key), data),
  verify: (_alg, key, signature, data) => safeVerify(() => PKCS1[keyHash(key)].verify(publicOf(key), data, signature)),
});

register('RSA-PSS', {
  ...family('RSA-PSS'),
  sign: (alg, key, data) => pss(alg, key).sign(privateOf(key), data),
  verify: (alg, key, signature, data) => safeVerify(() => pss(alg, key).verify(publicOf(key), data, signature)),
});

function oaep(alg: Algorithm, key: CryptoKey) {
  const hash = HASHES[keyHash(key)];
  return OAEP(hash, mgf1(hash), alg.label === undefined ? undefined : bytes(alg.label, 'label'));
}

register('RSA-OAEP', {
  ...family('RSA-OAEP'),
  encrypt(alg, key, data) {
    try {
      return oaep(alg, key).encrypt(publicOf(key), data);
    } catch (error) {
      throw operationError(`RSA-OAEP: ${(error as Error).message}`);
    }
  },
  decrypt(alg, key, data) {
    try {
      return oaep(alg, key).decrypt(privateOf(key), data);
    } catch {
      throw operationError('RSA-OAEP: decryption failed');
    }
  },
});
