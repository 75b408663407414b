/**
 * The request's URL fast path (src/guest/js/canonical-url.ts): every string it accepts must be
 * exactly what the WHATWG URL parser (Node's) serializes it to, and the URLs hosts send must
 * take it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { plainlyCanonical } from '../../../src/guest/js/canonical-url.js';

/** URL-shaped strings built from pieces that each hit a rule of the parser. */
const piece = (items: string[]) => fc.constantFrom(...items);
const label = fc.oneof({ arbitrary: fc.stringMatching(/^[a-z][a-z0-9-]{0,5}$/), weight: 4 }, { arbitrary: fc.stringMatching(/^[a-zA-Z0-9-]{1,6}$/), weight: 1 });
const host = fc.oneof(
  { arbitrary: fc.array(label, { minLength: 1, maxLength: 3 }).map((l) => l.join('.')), weight: 4 },
  { arbitrary: piece(['127.0.0.1', '0x7f.1', '1.2.3', '256.1.1.1', '09.1.1.1', 'xn--nxasmq6b.com', 'Example.COM', 'a.1', 'localhost', 'a..b', 'a.b.']), weight: 1 },
);
const port = piece(['', ':80', ':443', ':0', ':08', ':8080', ':65535', ':65536', ':']);
const safe = piece(['a', 'Z', '9', '-', '_', '.', '~', '@', ':', ';', '=', '&', '+', '$', '%41', '%c3%A9']);
const hostile = piece(['.', '..', '%2e', '%2E', '%zz', ' ', '"', "'", '<', '^', '`', '{', '|', '\\', 'é', '#', '?']);
const segment = fc.array(fc.oneof({ arbitrary: safe, weight: 6 }, { arbitrary: hostile, weight: 1 }), { maxLength: 4 }).map((p) => p.join(''));
const path = fc.array(segment, { maxLength: 4 }).map((s) => '/' + s.join('/'));
const query = fc.oneof(fc.constant(''), fc.array(piece(['a', '=', '&', "'", '"', ' ', '%20', '?', '/', '#', '^', 'é']), { maxLength: 5 }).map((q) => '?' + q.join('')));

describe('the request URL fast path', () => {
  it('accepts only strings the URL parser leaves exactly as they are', () => {
    let accepted = 0;
    fc.assert(
      fc.property(piece(['http://', 'https://', 'HTTP://', 'ftp://']), host, port, path, query, (scheme, h, p, pa, q) => {
        const url = scheme + h + p + pa + q;
        if (!plainlyCanonical(url)) return;
        accepted++;
        expect(new URL(url).href).toBe(url);
      }),
      { numRuns: 20000 },
    );
    // The property is not vacuous: a good share of the generated URLs take the fast path.
    expect(accepted).toBeGreaterThan(1000);
  });

  it('takes the URLs hosts serialize for ordinary requests', () => {
    for (const url of ['http://127.0.0.1:8787/', 'http://localhost:3000/api/items?id=5&sort=asc', 'https://example.com/a/b.json', 'http://fn.example.com/users/%C3%A9?q=a+b']) {
      expect(new URL(url).href).toBe(url);
      expect(plainlyCanonical(url)).toBe(true);
    }
  });
});
