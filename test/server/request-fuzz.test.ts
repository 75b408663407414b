// Bounded fuzzing (fast-check) of whole requests on the wire against `wfn serve`: odd request
// targets, Host headers and header values. Every answer is the function's (200) or names the
// client's fault (400, 404, 431); never a 500, and nothing in the server's error log.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV_DUMP_WAT } from '../fixtures/contract.js';
import { rawRequest } from '../helpers/http.js';
import { wat2wasm } from '../helpers/wat.js';
import { admin, deploy, startTestServe, type TestServer } from './serve/helpers.js';

const segment = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9._~!$&'()*+,;=:@-]{0,10}$/),
  fc.constantFrom('%00', '%zz', '%e0%80', '%C3%A9', '%2F', '..', '.', '%', '//', '%0a', '%20'),
);
const path = fc.tuple(fc.constantFrom('/env', '/env/', '/nope', '', '/_wfn'), fc.array(segment, { maxLength: 5 }), fc.option(fc.array(segment, { maxLength: 3 }), { nil: undefined })).map(
  ([head, parts, query]) => `${head}/${parts.join('/')}${query ? `?${query.join('&')}` : ''}`,
);
const target = fc.oneof(path, fc.tuple(fc.constantFrom('http://', 'https://', 'ftp://'), fc.stringMatching(/^[a-z0-9.:@[\]-]{0,16}$/), path).map(([s, a, p]) => `${s}${a}${p}`), fc.constantFrom('*', 'x'));
const host = fc.oneof(fc.stringMatching(/^[A-Za-z0-9.:[\]@/?#%-]{0,20}$/), fc.constantFrom('example.com', 'x:99999', '[::1]:80', 'a b'));
// Printable, as a client can send them (a control character is refused by node's parser itself).
const value = fc.stringMatching(/^[ -~]{0,30}$/);
const extra = fc.array(fc.tuple(fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,12}$/), value), { maxLength: 5 });

describe('wfn serve under fuzzed requests', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServe({ workers: 1 });
    await deploy(server.url, 'env', await wat2wasm(ENV_DUMP_WAT));
  });
  afterAll(() => server.close());

  it('answers 200, 400, 404 or 431, never a 500', async () => {
    const seen = new Set<number>();
    await fc.assert(
      fc.asyncProperty(target, fc.array(host, { maxLength: 2 }), extra, async (t, hosts, headers) => {
        const lines = [`GET ${t} HTTP/1.1`, ...hosts.map((h) => `Host: ${h}`), ...headers.map(([k, v]) => `${k}: ${v}`)];
        const res = await rawRequest(server.url, lines.join('\r\n'));
        seen.add(res.status);
        // 401: an admin route without a token; 405: wrong method there.
        expect([200, 400, 401, 404, 405, 431]).toContain(res.status);
      }),
      { numRuns: 250 },
    );
    expect(seen.has(200) && seen.has(400)).toBe(true); // the generators reach both sides
    expect(server.messages.filter((m) => /^error:/.test(m))).toEqual([]);
    const text = (await admin(server.url, 'metrics')).body.toString();
    expect(text).toMatch(/^wfn_traps_total\{function="env"\} 0$/m);
  });
});
