/** ECDSA and ECDH on P-256, P-384 and P-521 for crypto.subtle, on @noble/curves. */
import { p256, p384, p521 } from '@noble/curves/nist.js';
import * as der from './der.js';
import { dataError, invalidAccess, notSupported } from './errors.js';
import { b64url, checkJwk, CryptoKey, fromB64url, HASHES, hashName, jwkOf, register, truncateBits, type Algorithm, type Jwk, type KeyUsage } from './index.js';

type CurveName = 'P-256' | 'P-384' | 'P-521';
const CURVES = { 'P-256': p256, 'P-384': p384, 'P-521': p521 };
const SIZES: Record<CurveName, number> = { 'P-256': 32, 'P-384': 48, 'P-521': 66 };
const CURVE_OIDS: Record<CurveName, string> = { 'P-256': '2a8648ce3d030107', 'P-384': '2b81040022', 'P-521': '2b81040023' };
const EC_PUBLIC_KEY = '2a8648ce3d0201';

/** d (private keys only) and the uncompressed public point. */
interface EcMaterial {
  d?: Uint8Array;
  point: Uint8Array;
}

function curveName(value: unknown): CurveName {
  const name = String(value) as CurveName;
  if (!(name in CURVES)) throw notSupported(`unsupported namedCurve "${String(value)}" (P-256, P-384 or P-521)`);
  return name;
}

/** A validated public point, uncompressed. */
function point(curve: CurveName, bytes: Uint8Array): Uint8Array {
  try {
    return CURVES[curve].Point.fromBytes(bytes).toBytes(false);
  } catch {
    throw dataError(`invalid ${curve} public key`);
  }
}

function makeKey(name: string, curve: CurveName, type: 'public' | 'private', material: EcMaterial, extractable: boolean, usages: KeyUsage[]): CryptoKey {
  return CryptoKey.create(type, extractable, { name, namedCurve: curve }, usages, material);
}

function fromPrivate(curve: CurveName, d: Uint8Array): EcMaterial {
  if (d.length !== SIZES[curve] || !CURVES[curve].utils.isValidSecretKey(d)) throw dataError(`invalid ${curve} private key`);
  return { d, point: CURVES[curve].getPublicKey(d, false) };
}

function curveOfParams(params: der.Node | undefined): CurveName {
  const oid = der.hex(der.expect(params, der.OID, 'the named curve').value);
  const curve = (Object.keys(CURVE_OIDS) as CurveName[]).find((c) => CURVE_OIDS[c] === oid);
  if (!curve) throw notSupported('the key is on an unsupported curve');
  return curve;
}

function importEc(name: string) {
  return (format: string, data: Uint8Array | Jwk, alg: Algorithm, extractable: boolean, usages: KeyUsage[]): CryptoKey => {
    const curve = curveName(alg.namedCurve);
    const mismatch = (other: CurveName) => {
      if (other !== curve) throw dataError(`the key is on ${other}, not ${curve}`);
    };
    if (format === 'raw') return makeKey(name, curve, 'public', { point: point(curve, data as Uint8Array) }, extractable, usages);
    if (format === 'spki') {
      const spki = der.readSpki(data as Uint8Array);
      if (spki.oid !== EC_PUBLIC_KEY) throw dataError('the SPKI is not an EC public key');
      mismatch(curveOfParams(spki.params));
      return makeKey(name, curve, 'public', { point: point(curve, spki.key) }, extractable, usages);
    }
    if (format === 'pkcs8') {
      const info = der.readPkcs8(data as Uint8Array);
      if (info.oid !== EC_PUBLIC_KEY) throw dataError('the PKCS #8 key is not an EC private key');
      mismatch(curveOfParams(info.params));
      const [, d] = der.children(der.expect(der.parse(info.key), der.SEQUENCE, 'ECPrivateKey'));
      return makeKey(name, curve, 'private', fromPrivate(curve, der.expect(d, der.OCTET_STRING, 'the private key').value), extractable, usages);
    }
    if (format !== 'jwk') throw notSupported(`${name} keys cannot be imported as ${format}`);
    const jwk = data as Jwk;
    checkJwk(jwk, 'EC', extractable, usages, name === 'ECDSA' ? 'sig' : 'enc');
    mismatch(curveName(jwk.crv));
    const size = SIZES[curve];
    const x = fromB64url(jwk.x, 'x');
    const y = fromB64url(jwk.y, 'y');
    if (x.length !== size || y.length !== size) throw dataError('invalid JWK: x and y have the wrong length');
    const pub = point(curve, Uint8Array.from([4, ...x, ...y]));
    if (jwk.d === undefined) return makeKey(name, curve, 'public', { point: pub }, extractable, usages);
    const material = fromPrivate(curve, fromB64url(jwk.d, 'd'));
    if (der.hex(material.point) !== der.hex(pub)) throw dataError('invalid JWK: d does not match x and y');
    return makeKey(name, curve, 'private', material, extractable, usages);
  };
}

function exportEc(name: string) {
  return (format: string, key: CryptoKey): Uint8Array | Jwk => {
    const curve = key.algorithm.namedCurve as CurveName;
    const { d, point: pub } = CryptoKey.material<EcMaterial>(key);
    const params = der.encode(der.OID, der.fromHex(CURVE_OIDS[curve]));
    if (format === 'raw' || format === 'spki') {
      if (key.type !== 'public') throw invalidAccess(`only a public key can be exported as ${format}`);
      return format === 'raw' ? pub.slice() : der.writeSpki(EC_PUBLIC_KEY, params, pub);
    }
    if (format === 'pkcs8') {
      if (key.type !== 'private') throw invalidAccess('only a private key can be exported as pkcs8');
      const ecPrivateKey = der.encode(
        der.SEQUENCE,
        der.encode(der.INTEGER, Uint8Array.of(1)),
        der.encode(der.OCTET_STRING, d!),
        der.encode(0xa1, der.encode(der.BIT_STRING, Uint8Array.of(0), pub)),
      );
      return der.writePkcs8(EC_PUBLIC_KEY, params, ecPrivateKey);
    }
    if (format !== 'jwk') throw notSupported(`${name} keys cannot be exported as ${format}`);
    const size = SIZES[curve];
    const fields: Jwk = { kty: 'EC', crv: curve, x: b64url(pub.subarray(1, 1 + size)), y: b64url(pub.subarray(1 + size)) };
    if (d) fields.d = b64url(d);
    return jwkOf(key, fields);
  };
}

function generateEc(name: string, publicUsages: KeyUsage[], privateUsages: KeyUsage[]) {
  return (alg: Algorithm, extractable: boolean, usages: KeyUsage[]) => {
    const curve = curveName(alg.namedCurve);
    const material = fromPrivate(curve, CURVES[curve].utils.randomSecretKey());
    return {
      publicKey: makeKey(name, curve, 'public', { point: material.point }, true, usages.filter((u) => publicUsages.includes(u))),
      privateKey: makeKey(name, curve, 'private', material, extractable, usages.filter((u) => privateUsages.includes(u))),
    };
  };
}

register('ECDSA', {
  usages: { public: ['verify'], private: ['sign'] },
  generateKey: generateEc('ECDSA', ['verify'], ['sign']),
  importKey: importEc('ECDSA'),
  exportKey: exportEc('ECDSA'),
  sign(alg, key, data) {
    const curve = key.algorithm.namedCurve as CurveName;
    const digest = HASHES[hashName(alg.hash)](data);
    return CURVES[curve].sign(digest, CryptoKey.material<EcMaterial>(key).d!, { prehash: false, lowS: false });
  },
  verify(alg, key, signature, data) {
    const curve = key.algorithm.namedCurve as CurveName;
    if (signature.length !== 2 * SIZES[curve]) return false;
    const digest = HASHES[hashName(alg.hash)](data);
    try {
      return CURVES[curve].verify(signature, digest, CryptoKey.material<EcMaterial>(key).point, { prehash: false, lowS: false });
    } catch {
      return false;
    }
  },
});

register('ECDH', {
  usages: { public: [], private: ['deriveKey', 'deriveBits'] },
  generateKey: generateEc('ECDH', [], ['deriveKey', 'deriveBits']),
  importKey: importEc('ECDH'),
  exportKey: exportEc('ECDH'),
  deriveBits(alg, key, length) {
    const peer = alg.public;
    if (!(peer instanceof CryptoKey) || peer.type !== 'public') throw invalidAccess('ECDH: `public` must be a public CryptoKey');
    if (peer.algorithm.name !== 'ECDH') throw invalidAccess('ECDH: the public key is not an ECDH key');
    const curve = key.algorithm.namedCurve as CurveName;
    if (peer.algorithm.namedCurve !== curve) throw invalidAccess('ECDH: the keys are on different curves');
    const shared = CURVES[curve].getSharedSecret(CryptoKey.material<EcMaterial>(key).d!, CryptoKey.material<EcMaterial>(peer).point, true).subarray(1);
    return truncateBits(shared, length);
  },
});
