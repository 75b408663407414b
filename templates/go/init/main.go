// {{name}}: a wfn function with expensive start-up, and how to keep it off the
// request path in Go.
//
// It answers questions about primes up to 30 million: `?n=97` ->
// {"n":97,"prime":true,"primesUpToN":25,"nextPrime":101}
// from a table that takes a sieve of Eratosthenes to build (see primes/).
//
// Other languages' init templates build such a table in `wizer.initialize` and
// wfn snapshots it into the .wasm. Go cannot be snapshotted (README.md says why),
// so this one moves the work to build time: `go generate` computes the table and
// embeds it. Until you run it, the table is built lazily on each request.
package main

//go:generate go run ./gen

import (
	"fmt"
	"os"
	"strconv"

	"{{name}}/primes"
)

const defaultN = 1_000_000

// table is the precomputed table when `go generate` embedded one, else built now.
func table() *primes.Table {
	if precomputed != nil {
		table, err := primes.FromBytes(precomputed)
		if err != nil {
			panic(err)
		}
		return table
	}
	fmt.Fprintln(os.Stderr, "building the prime table now: run `go generate` to compute it at build time instead")
	return primes.Build()
}

// requestedN is n from the query: digits only, 0..primes.Limit; defaultN when absent.
func requestedN() (uint32, bool) {
	text, present := queryValue(requestVar("QUERY_STRING"), "n")
	if !present {
		return defaultN, true
	}
	for i := 0; i < len(text); i++ {
		if text[i] < '0' || text[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(text, 10, 32)
	return uint32(n), err == nil && n <= primes.Limit
}

func main() {
	n, ok := requestedN()
	if !ok {
		respond(400, "application/json", []byte(fmt.Sprintf(`{"error":"n must be an integer between 0 and %d"}`, primes.Limit)))
		return
	}
	t := table()
	next := "null"
	if p, found := t.NextPrime(n); found {
		next = strconv.FormatUint(uint64(p), 10)
	}
	respond(200, "application/json", []byte(fmt.Sprintf(`{"n":%d,"prime":%t,"primesUpToN":%d,"nextPrime":%s}`,
		n, t.IsPrime(n), t.CountUpTo(n), next)))
}
