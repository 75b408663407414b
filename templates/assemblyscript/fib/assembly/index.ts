// {{name}}: fib(n) for ?n= (default 32), computed recursively on purpose: it is the
// CPU benchmark of the seed evaluation. Try: curl 'http://127.0.0.1:8080/?n=30'
import { env, parseQuery, respond } from "./cgi";

function fib(n: i64): i64 {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

function isDigits(s: string): bool {
  if (s.length == 0 || s.length > 2) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

const query = parseQuery(env("QUERY_STRING"));
const raw = query.has("n") ? query.get("n") : "32";
if (!isDigits(raw) || I32.parseInt(raw) > 90) {
  respond("400 Bad Request", "application/json", "{\"error\":\"n must be an integer between 0 and 90\"}");
} else {
  const n = I32.parseInt(raw);
  respond("", "application/json", "{\"n\":" + n.toString() + ",\"fib\":" + fib(<i64>n).toString() + "}");
}
