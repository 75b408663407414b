// {{name}}: a function with expensive start-up, done once at build time.
//
// It answers questions about primes up to 30 million: `?n=97` ->
// {"n":97,"prime":true,"primesUpToN":25,"nextPrime":101}
// from a table that takes a sieve of Eratosthenes to build (src/primes.js). The same
// pattern fits any costly start-up: parsing a bundled data set, building an index,
// compiling a set of regular expressions.
//
// The start-up work is the script's top-level code (the `const table = ...` below).
// `wfn build` runs the top-level code once, at build time, and ships the engine's memory
// it leaves behind in the .wasm (QuickJS pre-initialized by Wizer): every request starts
// with the table already built and only does the lookup.
// With `wfn build --no-snapshot` (or `[build] snapshot = false` in wfn.toml) the script is
// not run at build time: every request parses and compiles the script and runs its
// top-level code, sieve included, before fetch() is called. Same answers, much slower.
import { LIMIT, PrimeTable } from './primes.js';

const DEFAULT_N = 1_000_000;

const table = new PrimeTable(LIMIT);

function json(status, text) {
  return new Response(text, { status, headers: { 'Content-Type': 'application/json' } });
}

export default {
  async fetch(request) {
    const values = new URL(request.url).searchParams.getAll('n');
    const text = values.length ? values[values.length - 1] : String(DEFAULT_N);
    // Digits only, 0..LIMIT (a repeated n keeps its last value).
    const n = /^[0-9]+$/.test(text) ? Number(text) : NaN;
    if (!(n <= LIMIT)) {
      return json(400, `{"error":"n must be an integer between 0 and ${LIMIT}"}`);
    }
    return json(200, `{"n":${n},"prime":${table.isPrime(n)},"primesUpToN":${table.countUpTo(n)},"nextPrime":${table.nextPrime(n)}}`);
  },
};
