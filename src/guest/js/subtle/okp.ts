/** Ed25519 (sign/verify) and X25519 (deriveBits/deriveKey) for crypto.subtle, on @noble/curves. */
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import * as der from './der.js';
import { dataError, invalidAccess, notSupported, operationError } from './errors.js';
import { b64url, checkJwk, CryptoKey, fromB64url, jwkOf, randomBytes, register, truncateBits, type Jwk, type KeyUsage } from './index.js';

interface OkpMaterial {
  d?: Uint8Array;
  pub: Uint8Array;
}

const OIDS = { Ed25519: '2b6570', X25519: '2b656e' };
type Name = keyof typeof OIDS;
const publicOf = (name: Name, d: Uint8Array) => (name === 'Ed25519' ? ed25519.getPublicKey(d) : x25519.getPublicKey(d));

function makeKey(name: Name, type: 'public' | 'private', material: OkpMaterial, extractable: boolean, usages: KeyUsage[]): CryptoKey {
  return CryptoKey.create(type, extractable, { name }, usages, material);
}

function checkLength(bytes: Uint8Array, what: string): Uint8Array {
  if (bytes.length !== 32) throw dataError(`invalid ${what}: expected 32 bytes`);
  return bytes;
}

function family(name: Name, publicUsages: KeyUsage[], privateUsages: KeyUsage[]) {
  return {
    usages: { public: publicUsages, private: privateUsages },
    generateKey(_alg: unknown, extractable: boolean, usages: KeyUsage[]) {
      const d = randomBytes(32);
      const material = { d, pub: publicOf(name, d) };
      return {
        publicKey: makeKey(name, 'public', { pub: material.pub }, true, usages.filter((u) => publicUsages.includes(u))),
        privateKey: makeKey(name, 'private', material, extractable, usages.filter((u) => privateUsages.includes(u))),
      };
    },
    importKey(format: string, data: Uint8Array | Jwk, _alg: unknown, extractable: boolean, usages: KeyUsage[]): CryptoKey {
      if (format === 'raw') return makeKey(name, 'public', { pub: checkLength(data as Uint8Array, `${name} public key`) }, extractable, usages);
      if (format === 'spki') {
        const spki = der.readSpki(data as Uint8Array);
        if (spki.oid !== OIDS[name]) throw dataError(`the SPKI is not an ${name} key`);
        return makeKey(name, 'public', { pub: checkLength(spki.key, `${name} public key`) }, extractable, usages);
      }
      if (format === 'pkcs8') {
        const info = der.readPkcs8(data as Uint8Array);
        if (info.oid !== OIDS[name]) throw dataError(`the PKCS #8 key is not an ${name} key`);
        const d = checkLength(der.expect(der.parse(info.key), der.OCTET_STRING, 'CurvePrivateKey').value, `${name} private key`).slice();
        return makeKey(name, 'private', { d, pub: publicOf(name, d) }, extractable, usages);
      }
      if (format !== 'jwk') throw notSupported(`${name} keys cannot be imported as ${format}`);
      const jwk = data as Jwk;
      checkJwk(jwk, 'OKP', extractable, usages, name === 'Ed25519' ? 'sig' : 'enc');
      if (jwk.crv !== name) throw dataError(`invalid JWK: crv must be ${name}`);
      if (name === 'Ed25519' && jwk.alg !== undefined && jwk.alg !== 'EdDSA' && jwk.alg !== 'Ed25519') throw dataError('invalid JWK: alg must be EdDSA');
      const pub = checkLength(fromB64url(jwk.x, 'x'), `${name} public key`);
      if (jwk.d === undefined) return makeKey(name, 'public', { pub }, extractable, usages);
      const d = checkLength(fromB64url(jwk.d, 'd'), `${name} private key`);
      if (der.hex(publicOf(name, d)) !== der.hex(pub)) throw dataError('invalid JWK: d does not match x');
      return makeKey(name, 'private', { d, pub }, extractable, usages);
    },
    exportKey(format: string, key: CryptoKey): Uint8Array | Jwk {
      const { d, pub } = CryptoKey.material<OkpMaterial>(key);
      if (format === 'raw' || format === 'spki') {
        if (key.type !== 'public') throw invalidAccess(`only a public key can be exported as ${format}`);
        return format === 'raw' ? pub.slice() : der.writeSpki(OIDS[name], null, pub);
      }
      if (format === 'pkcs8') {
        if (key.type !== 'private') throw invalidAccess('only a private key can be exported as pkcs8');
        return der.writePkcs8(OIDS[name], null, der.encode(der.OCTET_STRING, d!));
      }
      if (format !== 'jwk') throw notSupported(`${name} keys cannot be exported as ${format}`);
      return jwkOf(key, { kty: 'OKP', crv: name, x: b64url(pub), ...(d ? { d: b64url(d) } : {}) });
    },
  };
}

register('Ed25519', {
  ...family('Ed25519', ['verify'], ['sign']),
  sign: (_alg, key, data) => ed25519.sign(data, CryptoKey.material<OkpMaterial>(key).d!),
  verify(_alg, key, signature, data) {
    if (signature.length !== 64) return false;
    try {
      return ed25519.verify(signature, data, CryptoKey.material<OkpMaterial>(key).pub, { zip215: false });
    } catch {
      return false;
    }
  },
});

register('X25519', {
  ...family('X25519', [], ['deriveKey', 'deriveBits']),
  deriveBits(alg, key, length) {
    const peer = alg.public;
    if (!(peer instanceof CryptoKey) || peer.type !== 'public' || peer.algorithm.name !== 'X25519') throw invalidAccess('X25519: `public` must be an X25519 public CryptoKey');
    let shared: Uint8Array;
    try {
      shared = x25519.getSharedSecret(CryptoKey.material<OkpMaterial>(key).d!, CryptoKey.material<OkpMaterial>(peer).pub);
    } catch {
      throw operationError('X25519: the shared secret is all zeros (a small-order public key)');
    }
    if (shared.every((b) => b === 0)) throw operationError('X25519: the shared secret is all zeros (a small-order public key)');
    return truncateBits(shared, length);
  },
});
