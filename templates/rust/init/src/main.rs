//! {{name}}: a wfn function with expensive start-up, done once at build time.
//!
//! It answers questions about primes up to 30 million: `?n=97` ->
//! {"n":97,"prime":true,"primesUpToN":25,"nextPrime":101}
//! from a table that takes a sieve of Eratosthenes to build (see primes.rs).
//! The same pattern fits any costly start-up: parsing a bundled data set,
//! building an index, compiling a set of patterns.
//!
//! `wfn build` runs `wizer.initialize` below once, then snapshots the memory it
//! leaves behind into the .wasm (Wizer). Every request then starts with the table
//! already built and only does the lookup. Without the snapshot
//! (`wfn build --no-snapshot`, or any plain WASI host running the raw module) the
//! table is built on first use instead, so the function still works, just slower.

mod cgi;
mod primes;

/// Build-time start-up: whatever this leaves in memory is snapshotted.
#[export_name = "wizer.initialize"]
pub extern "C" fn initialize() {
    primes::table();
}

const DEFAULT_N: u32 = 1_000_000;

/// n from the query: digits only, 0..=LIMIT; DEFAULT_N when absent.
fn requested_n() -> Option<u32> {
    match cgi::query_param(&cgi::var("QUERY_STRING"), "n") {
        None => Some(DEFAULT_N),
        Some(text) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => {
            text.parse().ok().filter(|n| *n <= primes::LIMIT)
        }
        Some(_) => None,
    }
}

fn main() {
    let n = match requested_n() {
        Some(n) => n,
        None => {
            let json = format!(
                "{{\"error\":\"n must be an integer between 0 and {}\"}}",
                primes::LIMIT
            );
            return cgi::respond(400, "application/json", json.as_bytes());
        }
    };
    if !primes::is_built() {
        eprintln!("building the prime table now: this module was not pre-initialized (wfn build snapshots it)");
    }
    let table = primes::table();
    let next = match table.next_prime(n) {
        Some(p) => p.to_string(),
        None => "null".to_string(),
    };
    let json = format!(
        "{{\"n\":{},\"prime\":{},\"primesUpToN\":{},\"nextPrime\":{}}}",
        n,
        table.is_prime(n),
        table.count_up_to(n),
        next
    );
    cgi::respond(200, "application/json", json.as_bytes());
}
