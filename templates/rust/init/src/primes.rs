//! A prime table over 0..=LIMIT: a sieve of Eratosthenes (tens of milliseconds of
//! start-up work) kept in a compact lookup structure, so that each question (is n
//! prime? how many primes up to n? the next prime after n?) takes a few lookups.

use std::sync::atomic::{AtomicPtr, Ordering};

/// The largest n the table answers for.
pub const LIMIT: u32 = 30_000_000;

/// Words per counted block: one running count per 512 bits keeps the table small.
const BLOCK: usize = 8;

/// Every prime above 3 has the form 6k+1 or 6k+5, so the table keeps one bit per such
/// number only (a third of all numbers): bit i stands for `number(i)` = 1, 5, 7, 11, 13...
/// Small matters: whatever start-up leaves in memory ships in the snapshot.
fn number(bit: usize) -> usize {
    3 * bit + 1 + (bit & 1)
}

/// The bit of a number of the form 6k±1 (the inverse of `number`).
fn bit_of(n: usize) -> usize {
    n / 3
}

/// How many numbers of the form 6k±1 are <= n.
fn bits_up_to(n: usize) -> usize {
    n / 6 * 2 + (n % 6 >= 1) as usize + (n % 6 >= 5) as usize
}

pub struct PrimeTable {
    /// Bit b % 64 of word b / 64 is set when number(b) is prime.
    is_prime: Vec<u64>,
    /// How many of the 6k±1 primes come before each block of BLOCK words.
    primes_before_block: Vec<u32>,
}

impl PrimeTable {
    pub fn build(limit: u32) -> PrimeTable {
        let limit = limit as usize;
        let bits = bits_up_to(limit);
        let words = (bits + 63) / 64;
        // Sieve straight into bits: no byte-per-number scratch array.
        let mut composite = vec![0u64; words];
        composite[0] |= 1; // 1 is not prime
        let mut bit = 1;
        while number(bit) * number(bit) <= limit {
            let p = number(bit);
            if composite[bit / 64] & (1 << (bit % 64)) == 0 {
                // Cross out p*q for every q >= p of the form 6k±1 (other multiples have no bit).
                let mut q = p;
                while p * q <= limit {
                    let multiple = bit_of(p * q);
                    composite[multiple / 64] |= 1 << (multiple % 64);
                    q += if q % 6 == 1 { 4 } else { 2 };
                }
            }
            bit += 1;
        }

        let mut is_prime = composite;
        for word in is_prime.iter_mut() {
            *word = !*word;
        }
        if bits % 64 != 0 {
            is_prime[words - 1] &= (1u64 << (bits % 64)) - 1; // nothing past the limit
        }
        let mut primes_before_block = Vec::with_capacity((words + BLOCK - 1) / BLOCK);
        let mut count = 0;
        for (index, word) in is_prime.iter().enumerate() {
            if index % BLOCK == 0 {
                primes_before_block.push(count);
            }
            count += word.count_ones();
        }
        PrimeTable {
            is_prime,
            primes_before_block,
        }
    }

    pub fn is_prime(&self, n: u32) -> bool {
        match n {
            2 | 3 => true,
            _ if n % 2 == 0 || n % 3 == 0 => false,
            _ => {
                let bit = bit_of(n as usize);
                self.is_prime[bit / 64] & (1 << (bit % 64)) != 0
            }
        }
    }

    /// How many primes are <= n (the prime-counting function pi(n)).
    pub fn count_up_to(&self, n: u32) -> u32 {
        let small = (n >= 2) as u32 + (n >= 3) as u32; // 2 and 3 have no bit
        let bits = bits_up_to(n as usize);
        if bits == 0 {
            return small;
        }
        let (word, bit) = ((bits - 1) / 64, (bits - 1) % 64);
        let block = word / BLOCK;
        let whole_words: u32 = self.is_prime[block * BLOCK..word]
            .iter()
            .map(|w| w.count_ones())
            .sum();
        let up_to_bit = if bit == 63 {
            u64::MAX
        } else {
            (1u64 << (bit + 1)) - 1
        };
        small
            + self.primes_before_block[block]
            + whole_words
            + (self.is_prime[word] & up_to_bit).count_ones()
    }

    /// The smallest prime > n, if the table reaches it (gaps here are a few hundred at most).
    pub fn next_prime(&self, n: u32) -> Option<u32> {
        (n.saturating_add(1)..=LIMIT).find(|&m| self.is_prime(m))
    }
}

static TABLE: AtomicPtr<PrimeTable> = AtomicPtr::new(std::ptr::null_mut());

/// The table, built on first use. With the snapshot, the first use was
/// `wizer.initialize` at build time and the table is already in memory.
pub fn table() -> &'static PrimeTable {
    let mut table = TABLE.load(Ordering::Acquire);
    if table.is_null() {
        table = Box::into_raw(Box::new(PrimeTable::build(LIMIT)));
        TABLE.store(table, Ordering::Release);
    }
    // Safety: set once above, never freed (it lives as long as the instance).
    unsafe { &*table }
}

/// Whether the table is already built (for the log).
pub fn is_built() -> bool {
    !TABLE.load(Ordering::Acquire).is_null()
}
