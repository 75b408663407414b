/** PBKDF2 and HKDF for crypto.subtle (deriveBits, deriveKey), on @noble/hashes. */
import { hkdf } from '@noble/hashes/hkdf.js';
import { pbkdf2 } from '@noble/hashes/pbkdf2.js';
import { notSupported, operationError, syntaxError } from './errors.js';
import { bytes, CryptoKey, HASHES, hashName, register, type KeyUsage } from './index.js';

function bitLength(length: number | null, name: string): number {
  if (length === null || !Number.isInteger(length) || length % 8) throw operationError(`${name}: length must be a multiple of 8`);
  return length;
}

for (const name of ['PBKDF2', 'HKDF']) {
  register(name, {
    usages: { secret: ['deriveKey', 'deriveBits'] },
    importKey(format, data, _alg, extractable, usages: KeyUsage[]) {
      if (format !== 'raw') throw notSupported(`${name} keys can only be imported as raw`);
      if (extractable) throw syntaxError(`${name} keys cannot be extractable`);
      return CryptoKey.create('secret', false, { name }, usages, data);
    },
    deriveBits(alg, key, length) {
      const bits = bitLength(length, name);
      const hash = HASHES[hashName(alg.hash)];
      const secret = CryptoKey.material<Uint8Array>(key);
      if (bits === 0) return new Uint8Array(0);
      if (name === 'HKDF') {
        if (bits > 255 * hash.outputLen * 8) throw operationError('HKDF: length is too long for the hash');
        return hkdf(hash, secret, bytes(alg.salt, 'salt'), bytes(alg.info, 'info'), bits / 8);
      }
      const iterations = Number(alg.iterations);
      if (!Number.isInteger(iterations) || iterations < 1) throw operationError('PBKDF2: iterations must be at least 1');
      return pbkdf2(hash, secret, bytes(alg.salt, 'salt'), { c: iterations, dkLen: bits / 8 });
    },
  });
}
