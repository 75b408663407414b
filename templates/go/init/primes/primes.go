// Package primes is a prime table over 0..Limit: a sieve of Eratosthenes (tens of
// milliseconds of start-up work) kept in a compact lookup structure, so each
// question (is n prime? how many primes up to n? the next prime after n?) takes a
// few lookups.
//
// The table is plain bytes, so it can be computed at build time by `go generate`
// and embedded into the .wasm (see ../gen and ../README.md) instead of at start-up.
package primes

import (
	"encoding/binary"
	"errors"
	"math/bits"
)

// Limit is the largest n the table answers for.
const Limit = 30_000_000

// Every prime above 3 has the form 6k+1 or 6k+5, so the table keeps one bit per
// such number only (a third of all numbers): bit i stands for number(i) = 1, 5, 7,
// 11, 13...
func number(bit int) int { return 3*bit + 1 + bit&1 }

// bitOf is the bit of a number of the form 6k±1 (the inverse of number).
func bitOf(n int) int { return n / 3 }

// bitsUpTo is how many numbers of the form 6k±1 are <= n.
func bitsUpTo(n int) int {
	count := n / 6 * 2
	if n%6 >= 1 {
		count++
	}
	if n%6 >= 5 {
		count++
	}
	return count
}

const (
	// block is the number of 64-bit words per running count.
	block = 8
	words = (Limit/6*2 + 2 + 63) / 64 // enough words for bitsUpTo(Limit) bits
	// Size is the table's size in bytes: the bit set, then one uint32 per block.
	Size = words*8 + (words+block-1)/block*4
)

// Table: bit b%64 of little-endian 64-bit word b/64 is set when number(b) is
// prime; after the words, one uint32 per block of 8 words: how many of the 6k±1
// primes come before that block.
type Table struct{ bits, counts []byte }

// FromBytes wraps a table made by Build().Bytes() (no copy).
func FromBytes(data []byte) (*Table, error) {
	if len(data) != Size {
		return nil, errors.New("primes: table has the wrong size (run `go generate` again)")
	}
	return &Table{bits: data[:words*8], counts: data[words*8:]}, nil
}

// Build runs the sieve.
func Build() *Table {
	total := bitsUpTo(Limit)
	composite := make([]uint64, words)
	composite[0] |= 1 // 1 is not prime
	for bit := 1; number(bit)*number(bit) <= Limit; bit++ {
		p := number(bit)
		if composite[bit/64]&(1<<(bit%64)) != 0 {
			continue
		}
		// Cross out p*q for every q >= p of the form 6k±1 (other multiples have no bit).
		for q := p; p*q <= Limit; {
			multiple := bitOf(p * q)
			composite[multiple/64] |= 1 << (multiple % 64)
			if q%6 == 1 {
				q += 4
			} else {
				q += 2
			}
		}
	}
	data := make([]byte, Size)
	count := uint32(0)
	for w, word := range composite {
		isPrime := ^word
		if w == words-1 && total%64 != 0 {
			isPrime &= 1<<(total%64) - 1 // nothing past the limit
		}
		binary.LittleEndian.PutUint64(data[w*8:], isPrime)
		if w%block == 0 {
			binary.LittleEndian.PutUint32(data[words*8+w/block*4:], count)
		}
		count += uint32(bits.OnesCount64(isPrime))
	}
	table, _ := FromBytes(data)
	return table
}

// Bytes is the table's serialized form (what `go generate` embeds).
func (t *Table) Bytes() []byte {
	return append(append([]byte(nil), t.bits...), t.counts...)
}

func (t *Table) word(w int) uint64 { return binary.LittleEndian.Uint64(t.bits[w*8:]) }

// IsPrime reports whether n (<= Limit) is prime.
func (t *Table) IsPrime(n uint32) bool {
	switch {
	case n == 2 || n == 3:
		return true
	case n%2 == 0 || n%3 == 0:
		return false
	}
	bit := bitOf(int(n))
	return t.word(bit/64)&(1<<(bit%64)) != 0
}

// CountUpTo is how many primes are <= n (the prime-counting function pi(n)).
func (t *Table) CountUpTo(n uint32) uint32 {
	count := uint32(0) // 2 and 3 have no bit
	if n >= 2 {
		count++
	}
	if n >= 3 {
		count++
	}
	total := bitsUpTo(int(n))
	if total == 0 {
		return count
	}
	w, bit := (total-1)/64, (total-1)%64
	count += binary.LittleEndian.Uint32(t.counts[w/block*4:])
	for whole := w / block * block; whole < w; whole++ {
		count += uint32(bits.OnesCount64(t.word(whole)))
	}
	upToBit := ^uint64(0) >> (63 - bit) // bits 0..bit
	return count + uint32(bits.OnesCount64(t.word(w)&upToBit))
}

// NextPrime is the smallest prime > n, if the table reaches it (gaps here are a
// few hundred at most).
func (t *Table) NextPrime(n uint32) (uint32, bool) {
	for m := n + 1; m <= Limit; m++ {
		if t.IsPrime(m) {
			return m, true
		}
	}
	return 0, false
}
