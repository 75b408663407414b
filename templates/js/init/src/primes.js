// A prime table over 0..LIMIT: a sieve of Eratosthenes (seconds of start-up work in
// QuickJS) kept in a compact lookup structure, so that each question (is n prime? how
// many primes up to n? the next prime after n?) takes a few lookups.

/** The largest n the table answers for. */
export const LIMIT = 30_000_000;

/** Words per counted block: one running count per 256 bits keeps the table small. */
const BLOCK = 8;

// Every prime above 3 has the form 6k+1 or 6k+5, so the table keeps one bit per such
// number only (a third of all numbers): bit i stands for numberOf(i) = 1, 5, 7, 11, 13...
// Small matters: whatever start-up leaves in memory ships in the snapshot (~1.4 MB here).
const numberOf = (bit) => 3 * bit + 1 + (bit & 1);
/** The bit of a number of the form 6k±1 (the inverse of numberOf). */
const bitOf = (n) => Math.floor(n / 3);
/** How many numbers of the form 6k±1 are <= n. */
const bitsUpTo = (n) => Math.floor(n / 6) * 2 + (n % 6 >= 1 ? 1 : 0) + (n % 6 >= 5 ? 1 : 0);

function popcount(x) {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

export class PrimeTable {
  constructor(limit) {
    const bits = bitsUpTo(limit);
    const words = Math.ceil(bits / 32);
    // Sieve straight into bits: no byte-per-number scratch array.
    const composite = new Uint32Array(words);
    composite[0] |= 1; // 1 is not prime
    for (let bit = 1; numberOf(bit) * numberOf(bit) <= limit; bit++) {
      if (composite[bit >>> 5] & (1 << (bit & 31))) continue;
      const p = numberOf(bit);
      // Cross out p*q for every q >= p of the form 6k±1 (other multiples have no bit).
      // q runs p, p+s, p+6, p+6+s, ... (s = 4 or 2): in bit space that is two arithmetic
      // progressions with step 2p, from the bits of p*p and p*(p+s).
      const step = 2 * p;
      const second = p * (p + (p % 6 === 1 ? 4 : 2));
      for (let b = bitOf(p * p); b < bits; b += step) composite[b >>> 5] |= 1 << (b & 31);
      for (let b = bitOf(second); b < bits; b += step) composite[b >>> 5] |= 1 << (b & 31);
    }
    const isPrime = composite; // inverted in place
    for (let i = 0; i < words; i++) isPrime[i] = ~isPrime[i];
    if (bits % 32 !== 0) isPrime[words - 1] &= (1 << (bits % 32)) - 1; // nothing past the limit
    const primesBeforeBlock = new Uint32Array(Math.ceil(words / BLOCK));
    let count = 0;
    for (let i = 0; i < words; i++) {
      if (i % BLOCK === 0) primesBeforeBlock[i / BLOCK] = count;
      count += popcount(isPrime[i]);
    }
    this.limit = limit;
    this.isPrimeBits = isPrime;
    this.primesBeforeBlock = primesBeforeBlock;
  }

  isPrime(n) {
    if (n === 2 || n === 3) return true;
    if (n % 2 === 0 || n % 3 === 0) return false;
    const bit = bitOf(n);
    return (this.isPrimeBits[bit >>> 5] & (1 << (bit & 31))) !== 0;
  }

  /** How many primes are <= n (the prime-counting function pi(n)). */
  countUpTo(n) {
    const small = (n >= 2 ? 1 : 0) + (n >= 3 ? 1 : 0); // 2 and 3 have no bit
    const bits = bitsUpTo(n);
    if (bits === 0) return small;
    const word = (bits - 1) >>> 5;
    const bit = (bits - 1) & 31;
    const block = Math.floor(word / BLOCK);
    let count = small + this.primesBeforeBlock[block];
    for (let i = block * BLOCK; i < word; i++) count += popcount(this.isPrimeBits[i]);
    const upToBit = bit === 31 ? 0xffffffff : (1 << (bit + 1)) - 1;
    return count + popcount(this.isPrimeBits[word] & upToBit);
  }

  /** The smallest prime > n, or null when it is beyond the table (gaps here are a few hundred at most). */
  nextPrime(n) {
    for (let m = n + 1; m <= this.limit; m++) if (this.isPrime(m)) return m;
    return null;
  }
}
