/**
 * crypto.getRandomValues and crypto.randomUUID on the host's secure random source, and a
 * Math.random reseeded for every request: QuickJS's own generator state is part of the
 * Wizer snapshot, so without a reseed every request would see the same "random" numbers.
 */
import { randomBytes } from 'wfn:fn/host';
import { isInitializing, notDuringInit } from './phase.js';

const MAX_BYTES = 65536;

type IntegerArray = Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;

function getRandomValues<T extends IntegerArray>(array: T): T {
  if (!ArrayBuffer.isView(array) || array instanceof DataView || array instanceof Float32Array || array instanceof Float64Array) {
    throw new TypeError('crypto.getRandomValues: expected an integer TypedArray');
  }
  notDuringInit('crypto.getRandomValues()');
  if (array.byteLength > MAX_BYTES) {
    throw new RangeError(`crypto.getRandomValues: ${array.byteLength} bytes requested, at most ${MAX_BYTES} allowed`);
  }
  new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(randomBytes(array.byteLength));
  return array;
}

function randomUUID(): string {
  notDuringInit('crypto.randomUUID()');
  const b = randomBytes(16);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const crypto = {
  getRandomValues,
  randomUUID,
  get subtle(): never {
    throw new Error('crypto.subtle is not available in wfn functions yet');
  },
};

// xoshiro128** state: four 32-bit words.
const state = new Uint32Array(4);

function next(): number {
  const s = state;
  const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
  const t = s[1] << 9;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 11);
  return result;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

const engineRandom = Math.random;

/** A double in [0, 1) with 53 random bits. */
function random(): number {
  // At build time (top-level code) there is no host random source: QuickJS's own generator.
  if (isInitializing()) return engineRandom();
  const hi = next() >>> 5; // 27 bits
  const lo = next() >>> 6; // 26 bits
  return (hi * 67108864 + lo) / 9007199254740992;
}

/** New seed from the host; called at the start of every request. */
export function reseedMathRandom(): void {
  state.set(new Uint32Array(randomBytes(16).slice().buffer));
  if (state[0] === 0 && state[1] === 0 && state[2] === 0 && state[3] === 0) state[0] = 1;
}

export function installMathRandom(): void {
  Object.defineProperty(Math, 'random', { value: random, writable: true, configurable: true, enumerable: false });
}
