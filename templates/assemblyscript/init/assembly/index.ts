// {{name}}: a function with expensive start-up, done once at build time.
//
// It answers questions about primes up to 30 million: `?n=97` ->
// {"n":97,"prime":true,"primesUpToN":25,"nextPrime":101}
// from a table that takes a sieve of Eratosthenes to build (primes.ts). The same
// pattern fits any costly start-up: parsing a bundled data set, building an index.
//
// `wfn build` runs `wizer.initialize` (below) once, then snapshots the memory it leaves
// behind into the .wasm (Wizer). Every request starts with the table already built and
// only does the lookup. Without the snapshot (`wfn build --no-snapshot`, or any plain
// WASI host running the raw module) the table is built on first use instead.
import { env, parseQuery, respond } from "./cgi";
import * as primes from "./primes";

// AssemblyScript cannot name an export "wizer.initialize": wfn's AssemblyScript build
// renames the export `wizer_initialize` to it.
export function wizer_initialize(): void {
  primes.build();
}

function requested(): i64 {
  const query = parseQuery(env("QUERY_STRING"));
  if (!query.has("n")) return 1_000_000;
  const text = query.get("n");
  if (text.length == 0 || text.length > 9) return -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
  }
  const n = I64.parseInt(text);
  return n > <i64>primes.LIMIT ? -1 : n;
}

const n = requested();
if (n < 0) {
  respond("400 Bad Request", "application/json", "{\"error\":\"n must be an integer between 0 and " + primes.LIMIT.toString() + "\"}");
} else {
  if (!primes.isBuilt()) {
    process.stderr.write("building the prime table now: this module was not pre-initialized (wfn build snapshots it)\n");
    primes.build();
  }
  const v = <u32>n;
  const next = primes.nextPrime(v);
  respond(
    "",
    "application/json",
    "{\"n\":" + v.toString() +
      ",\"prime\":" + (primes.isPrime(v) ? "true" : "false") +
      ",\"primesUpToN\":" + primes.countUpTo(v).toString() +
      ",\"nextPrime\":" + (next == 0 ? "null" : next.toString()) + "}",
  );
}
