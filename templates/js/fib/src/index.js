// {{name}}: naive recursive Fibonacci, the CPU benchmark every wfn language template shares.
// GET /?n=32 -> {"n":32,"fib":2178309}

const MAX_N = 90;

// Numbers are exact up to 2^53 (fib(78)); above that the same recursion runs on BigInt.
function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

function fibBig(n) {
  return n < 2n ? n : fibBig(n - 1n) + fibBig(n - 2n);
}

function json(status, text) {
  return new Response(text, { status, headers: { 'Content-Type': 'application/json' } });
}

export default {
  async fetch(request) {
    const values = new URL(request.url).searchParams.getAll('n');
    const raw = values.length ? values[values.length - 1] : '32';
    const n = /^[+-]?\d+$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isInteger(n) || n < 0 || n > MAX_N) {
      return json(400, JSON.stringify({ error: `n must be an integer between 0 and ${MAX_N}` }));
    }
    const result = n <= 78 ? String(fib(n)) : String(fibBig(BigInt(n)));
    return json(200, `{"n":${n},"fib":${result}}`);
  },
};
