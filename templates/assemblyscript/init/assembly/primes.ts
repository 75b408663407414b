// A prime table over 0..LIMIT: a sieve of Eratosthenes (tens of milliseconds of start-up
// work) kept as a bitset over odd numbers plus a running count per block, so each
// question (is n prime? how many primes up to n? the next prime after n?) is a few lookups.
// Small matters: whatever start-up leaves in memory ships in the snapshot (~2 MB here).

export const LIMIT: u32 = 30_000_000;
// Bit i stands for the odd number 2i+1 (up to LIMIT): 15,000,000 bits in 234,375 words.
const ODD_BITS: u32 = 15_000_000;
const WORDS: i32 = 234_375;
const BLOCK: i32 = 8; // words per running count
const BLOCKS: i32 = 29_297;

// The table lives in static memory (memory.data), not on the heap: AssemblyScript's start
// function (run again by _start on every request) resets the allocator, which would then
// hand out the table's memory. Static memory is never given out, so it survives the snapshot.
const ODD_PRIMES: usize = memory.data(WORDS * 8, 16);
const PRIMES_BEFORE_BLOCK: usize = memory.data(BLOCKS * 4, 16);
// A global with a constant initializer: Wizer snapshots it, _start does not reset it.
let built: bool = false;

function word(w: i32): u64 {
  return load<u64>(ODD_PRIMES + (<usize>w << 3));
}

export function isBuilt(): bool {
  return built;
}

export function build(): void {
  if (built) return;
  // Sieve: set bits mark composite odd numbers; 1 is not prime.
  store<u64>(ODD_PRIMES, 1);
  for (let i: u32 = 1; ; i++) {
    const p = <u64>(2 * i + 1);
    if (p * p > <u64>LIMIT) break;
    if (((word(i >> 6) >> (i & 63)) & 1) != 0) continue;
    for (let m = p * p; m <= <u64>LIMIT; m += 2 * p) {
      const b = <u32>(m >> 1);
      const at = ODD_PRIMES + (<usize>(b >> 6) << 3);
      store<u64>(at, load<u64>(at) | ((<u64>1) << (b & 63)));
    }
  }
  // Invert into "is prime", nothing past LIMIT, and count primes before each block.
  let count: u32 = 0;
  for (let w = 0; w < WORDS; w++) {
    let bits = ~word(w);
    if (w == WORDS - 1 && (ODD_BITS & 63) != 0) bits &= ((<u64>1) << (ODD_BITS & 63)) - 1;
    store<u64>(ODD_PRIMES + (<usize>w << 3), bits);
    if (w % BLOCK == 0) store<u32>(PRIMES_BEFORE_BLOCK + (<usize>(w / BLOCK) << 2), count);
    count += <u32>popcnt(bits);
  }
  built = true;
}

function oddBit(i: u32): bool {
  return ((word(i >> 6) >> (i & 63)) & 1) != 0;
}

export function isPrime(n: u32): bool {
  if (n < 2) return false;
  if (n == 2) return true;
  if ((n & 1) == 0) return false;
  return oddBit(n >> 1);
}

/** How many primes are <= n. */
export function countUpTo(n: u32): u32 {
  if (n < 2) return 0;
  const last = (n - 1) >> 1; // odd numbers 1..n are bits 0..last
  const w = <i32>(last >> 6);
  const block = w / BLOCK;
  let count = load<u32>(PRIMES_BEFORE_BLOCK + (<usize>block << 2));
  for (let i = block * BLOCK; i < w; i++) count += <u32>popcnt(word(i));
  const keep = (last & 63) + 1;
  const mask = keep == 64 ? <u64>-1 : ((<u64>1) << keep) - 1;
  count += <u32>popcnt(word(w) & mask);
  return count + 1; // the prime 2
}

/** The smallest prime > n, or 0 when there is none up to LIMIT. */
export function nextPrime(n: u32): u32 {
  if (n < 2) return 2;
  for (let m: u32 = (n & 1) == 0 ? n + 1 : n + 2; m <= LIMIT; m += 2) {
    if (oddBit(m >> 1)) return m;
  }
  return 0;
}
