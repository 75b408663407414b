// Bounded fuzzing (fast-check) of the two places where outside bytes meet the CGI mapping: the
// function's stdout (the response parser) and the client's request (request -> environment).
// Whatever comes in, the outcome is classified: a response, the function's fault (502) or the
// client's (400). No other exception may escape, because the hosts would turn it into a 500
// that is nobody's fault but wfn's.
import fc from 'fast-check';
import type { IncomingMessage } from 'node:http';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCgiEnvironment, CgiParseError, CgiRequestError, formatCgiResponse, parseCgiResponse } from '../../src/runtime/cgi.js';
import { invokeHttp, responseFromRun, type RunResult } from '../../src/runtime/invoke.js';
import type { HttpRequest } from '../../src/runtime/types.js';
import { WasiHost } from '../../src/runtime/wasi.js';
import { BadRequestError, requestUrl } from '../../src/http/node-http.js';
import { ENV_DUMP_WAT } from '../fixtures/contract.js';
import { wat2wasm } from '../helpers/wat.js';

const RUNS = { numRuns: 500 };
const enc = new TextEncoder();

/** Bytes that look like CGI output often enough to get past the first checks. */
const cgiLike = fc.oneof(
  fc.uint8Array({ maxLength: 512 }),
  fc
    .tuple(
      fc.array(fc.tuple(fc.string({ maxLength: 20 }), fc.constantFrom(':', ': ', '', '::'), fc.string({ maxLength: 40 })), { maxLength: 8 }),
      fc.constantFrom('\n', '\r\n', '\r', '\n\r'),
      fc.constantFrom('\n', '\r\n', ''),
      fc.uint8Array({ maxLength: 128 }),
    )
    .map(([lines, eol, blank, body]) => {
      const head = enc.encode(lines.map(([k, sep, v]) => `${k}${sep}${v}`).join(eol) + eol + blank);
      const out = new Uint8Array(head.length + body.length);
      out.set(head);
      out.set(body, head.length);
      return out;
    }),
  fc.constantFrom('Status: 99999\n\n', 'Status: abc\n\n', 'Status:\n\n', 'Location: /x\nStatus: 404\n\n', 'X: \u0000\n\nbody', ':\n\n', 'Content-Type: a\n\n').map((s) => enc.encode(s)),
);

describe('the CGI response parser under fuzzing', () => {
  it('returns a response or throws CgiParseError, never anything else', () => {
    fc.assert(
      fc.property(cgiLike, (stdout) => {
        let parsed;
        try {
          parsed = parseCgiResponse(stdout);
        } catch (error) {
          expect(error).toBeInstanceOf(CgiParseError);
          return;
        }
        expect(parsed.status).toBeGreaterThanOrEqual(100);
        expect(parsed.status).toBeLessThanOrEqual(999);
        for (const [name] of parsed.headers) expect(name).toMatch(/^[!#$%&'*+.^_`|~0-9a-z-]+$/);
        // What it parsed, it writes back and parses again to the same response.
        const again = parseCgiResponse(formatCgiResponse(parsed));
        expect(again.status).toBe(parsed.status);
        expect(again.headers).toEqual(parsed.headers);
        expect(Buffer.compare(again.body, parsed.body)).toBe(0);
      }),
      RUNS,
    );
  });

  it('a finished run is always classified: the response, or a 5xx that names the function', () => {
    fc.assert(
      fc.property(cgiLike, fc.constantFrom<number | null>(0, 0, 1, null), (stdout, exitCode) => {
        const run: RunResult = { stdout, stderr: new Uint8Array(0), exitCode, trap: exitCode === null ? 'RuntimeError: unreachable' : undefined, memoryBytes: 65536, instantiateUs: 1, runUs: 1 };
        const result = responseFromRun(run);
        if (result.outcome === 'ok') expect(exitCode).toBe(0);
        else expect(['malformed', 'exit', 'trap']).toContain(result.outcome);
        expect(result.response.status === 502).toBe(result.outcome === 'malformed');
      }),
      RUNS,
    );
  });
});

/** Request targets: paths with escapes (good and bad), NULs, odd characters, and queries. */
const segment = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9._~!$&'()*+,;=:@-]{0,12}$/),
  fc.constantFrom('%00', '%zz', '%e0%80', '%C3%A9', '%2F', '%25', '..', '.', '%', '%2', '\\', ' ', 'é', '\u0000', '#', '?'),
);
const target = fc
  .tuple(fc.array(segment, { maxLength: 6 }), fc.option(fc.array(fc.tuple(segment, segment), { maxLength: 4 }), { nil: undefined }))
  .map(([parts, query]) => `/${parts.join('/')}${query ? `?${query.map(([k, v]) => `${k}=${v}`).join('&')}` : ''}`);
const headerValue = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('a\u0000b', 'é', '\r\n', ''));
const headers = fc.array(fc.tuple(fc.oneof(fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/), fc.constantFrom('content-type', 'cookie', 'x_y', 'é')), headerValue), { maxLength: 8 });

const method = fc.oneof(fc.constantFrom('GET', 'POST', 'delete', 'PROPFIND'), fc.string({ maxLength: 8 }));

function httpRequest(path: string, hdrs: [string, string][], verb = 'POST'): HttpRequest {
  let url: string;
  try {
    url = new URL(`http://example.com${path}`).href;
  } catch {
    url = `http://example.com${path}`; // left malformed on purpose: the mapping must refuse it, not crash
  }
  return { method: verb, url, headers: hdrs, body: enc.encode('body'), remoteAddr: '127.0.0.1' };
}

describe('the request -> CGI environment mapping under fuzzing', () => {
  let envDump: WebAssembly.Module;
  beforeAll(async () => {
    envDump = await WebAssembly.compile((await wat2wasm(ENV_DUMP_WAT)) as BufferSource);
  });

  it('builds an environment a WASI host accepts, or refuses the request as the client\'s fault', () => {
    fc.assert(
      fc.property(target, headers, fc.constantFrom('/', '/fn', '/fn/'), method, (path, hdrs, route, verb) => {
        let cgi;
        try {
          cgi = buildCgiEnvironment(httpRequest(path, hdrs, verb), { route, env: { CONFIGURED: 'yes' } });
        } catch (error) {
          expect(error).toBeInstanceOf(CgiRequestError);
          return;
        }
        // The WASI host refuses strings it cannot carry (it throws): these must all pass.
        expect(() => new WasiHost({ args: cgi.args, env: cgi.env, stdin: new Uint8Array(0) })).not.toThrow();
        const names = cgi.env.map(([k]) => k);
        expect(new Set(names).size).toBe(names.length);
        for (const name of names) expect(name).toMatch(/^[A-Za-z_][A-Za-z0-9_]*$/);
      }),
      RUNS,
    );
  });

  it('through a real instance: 200, or 400 for the client; never a host error', async () => {
    await fc.assert(
      fc.asyncProperty(target, headers, method, async (path, hdrs, verb) => {
        const result = await invokeHttp(envDump, httpRequest(path, hdrs, verb), { route: '/', env: {} });
        expect([200, 400]).toContain(result.response.status);
        expect(result.outcome).toBe(result.response.status === 200 ? 'ok' : 'bad-request');
      }),
      { numRuns: 200 },
    );
  });
});

describe('the request line and Host -> URL mapping under fuzzing', () => {
  const authority = fc.oneof(
    fc.stringMatching(/^[A-Za-z0-9.-]{1,20}(:[0-9]{0,6})?$/),
    fc.string({ maxLength: 30 }),
    fc.constantFrom('[::1]', '[::1]:8080', '[1:2:3]', '[zz]', 'x:0', 'x:65535', 'x:65536', 'a@b', 'x/y', 'x?y', 'x#y', '', ' ', 'xn--nxasmq6b', '0x7f.1'),
  );
  const line = fc.oneof(target, fc.tuple(fc.constantFrom('http://', 'https://', 'HTTP://', 'ftp://', '//', ''), authority, target).map(([scheme, a, t]) => `${scheme}${a}${t}`), fc.constantFrom('*', '', 'x'));

  it('gives a URL with the request line\'s path, or a BadRequestError, never anything else', () => {
    fc.assert(
      fc.property(line, fc.array(authority, { maxLength: 2 }), (url, hosts) => {
        const fake = { url, rawHeaders: hosts.flatMap((h) => ['Host', h]), socket: { localAddress: '127.0.0.1', localPort: 8080 } } as unknown as IncomingMessage;
        let got: URL;
        try {
          got = requestUrl(fake);
        } catch (error) {
          expect(error).toBeInstanceOf(BadRequestError);
          return;
        }
        expect(got.protocol).toBe('http:');
        expect(got.username + got.password).toBe('');
        expect(got.hash).toBe('');
        // A Host header never changes the path or the query.
        if (url.startsWith('/')) expect(got.pathname + got.search).toBe(new URL(`http://x${url}`).pathname + new URL(`http://x${url}`).search);
      }),
      RUNS,
    );
  });
});
