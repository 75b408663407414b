// {{name}}: a wfn function that computes fib(n) the slow way (naive recursion),
// a CPU benchmark. `?n=` picks n (default 32): {"n":32,"fib":2178309}
package main

import (
	"fmt"
	"strconv"
)

const (
	defaultN = 32
	// fib(90) is the last value below 2^63; beyond it 64-bit integers overflow.
	maxN = 90
)

func fib(n uint64) uint64 {
	if n < 2 {
		return n
	}
	return fib(n-1) + fib(n-2)
}

// requestedN is n from the query: digits only, 0..maxN; defaultN when absent.
func requestedN() (uint64, bool) {
	text, present := queryValue(requestVar("QUERY_STRING"), "n")
	if !present {
		return defaultN, true
	}
	for i := 0; i < len(text); i++ {
		if text[i] < '0' || text[i] > '9' {
			return 0, false // no sign, no spaces
		}
	}
	n, err := strconv.ParseUint(text, 10, 64) // "" and too many digits fail here
	return n, err == nil && n <= maxN
}

func main() {
	n, ok := requestedN()
	if !ok {
		respond(400, "application/json", []byte(`{"error":"n must be an integer between 0 and 90"}`))
		return
	}
	respond(200, "application/json", []byte(fmt.Sprintf(`{"n":%d,"fib":%d}`, n, fib(n))))
}
