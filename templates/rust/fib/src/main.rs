//! {{name}}: a wfn function that computes fib(n) the slow way (naive recursion),
//! a CPU benchmark. `?n=` picks n (default 32): {"n":32,"fib":2178309}

mod cgi;

const DEFAULT_N: u64 = 32;
/// fib(90) is the last value below 2^63; beyond it 64-bit integers overflow.
const MAX_N: u64 = 90;

fn fib(n: u64) -> u64 {
    if n < 2 {
        n
    } else {
        fib(n - 1) + fib(n - 2)
    }
}

/// n from the query: digits only, 0..=MAX_N; DEFAULT_N when absent.
fn requested_n() -> Option<u64> {
    match cgi::query_param(&cgi::var("QUERY_STRING"), "n") {
        None => Some(DEFAULT_N),
        // Digits only (no sign, no spaces); too many digits fails the parse: also a 400.
        Some(text) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => {
            text.parse().ok().filter(|n| *n <= MAX_N)
        }
        Some(_) => None,
    }
}

fn main() {
    match requested_n() {
        Some(n) => {
            let json = format!("{{\"n\":{},\"fib\":{}}}", n, fib(n));
            cgi::respond(200, "application/json", json.as_bytes());
        }
        None => {
            let json = "{\"error\":\"n must be an integer between 0 and 90\"}";
            cgi::respond(400, "application/json", json.as_bytes());
        }
    }
}
