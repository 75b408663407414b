import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildCgiEnvironment, CgiParseError, errorResponse, formatCgiResponse, parseCgiResponse, pathBelowRoute, reasonPhrase } from '../../src/runtime/cgi.js';

const enc = (s: string) => new TextEncoder().encode(s);

describe('request -> CGI', () => {
  it('maps a request below a route (as wfn serve mounts /<name>)', () => {
    const { env, args } = buildCgiEnvironment(
      { method: 'get', url: 'https://example.com/fn/x/y%2Fz?q=a%20b&flag', headers: [['Accept', 'text/html'], ['accept', 'application/json']], body: new Uint8Array(3) },
      { route: '/fn', env: { MODE: 'test' } },
    );
    const map = Object.fromEntries(env);
    expect(map).toMatchObject({
      REQUEST_METHOD: 'GET',
      SCRIPT_NAME: '/fn',
      PATH_INFO: '/x/y/z',
      X_RAW_PATH_INFO: '/x/y%2Fz',
      X_MATCHED_ROUTE: '/fn',
      SERVER_PORT: '443',
      SERVER_NAME: 'example.com',
      QUERY_STRING: 'q=a%20b&flag',
      CONTENT_LENGTH: '3',
      CONTENT_TYPE: '',
      HTTP_ACCEPT: 'text/html, application/json',
      MODE: 'test',
    });
    expect(args).toEqual(['/fn/x/y%2Fz', 'q=a b', 'flag']);
  });

  it('strips route prefixes exactly', () => {
    expect(pathBelowRoute('/', '/a/b')).toBe('/a/b');
    expect(pathBelowRoute('/fn', '/fn')).toBe('');
    expect(pathBelowRoute('/fn', '/fn/')).toBe('/');
    expect(pathBelowRoute('/fn/', '/fn/a')).toBe('/a');
    expect(pathBelowRoute('/fn', '/fnord')).toBe('/fnord');
  });
});

describe('CGI -> response', () => {
  it('keeps repeated headers in order and lower-cases names', () => {
    const r = parseCgiResponse(enc('Content-Type: text/plain\nSet-Cookie: a=1\nSET-COOKIE: b=2\n\nbody'));
    expect(r.headers).toEqual([['content-type', 'text/plain'], ['set-cookie', 'a=1'], ['set-cookie', 'b=2']]);
    expect(new TextDecoder().decode(r.body)).toBe('body');
  });

  it('Location without Status is 302; an explicit Status is never overwritten by Location', () => {
    expect(parseCgiResponse(enc('Location: /x\n\n')).status).toBe(302);
    expect(parseCgiResponse(enc('Location: /x\nStatus: 307 Temporary Redirect\n\n')).status).toBe(307);
    expect(parseCgiResponse(enc('Status: 201\nLocation: /x\n\n')).status).toBe(201);
  });

  it('drops every framing and connection header the host owns (any case), keeps the rest in order', () => {
    const r = parseCgiResponse(enc('Content-Type: text/plain\nContent-Length: 999\nX-A: 1\nTransfer-Encoding: chunked\nCONNECTION: close\nKeep-Alive: timeout=5\nUpgrade: websocket\nX-B: 2\n\nhi'));
    expect(r.headers).toEqual([['content-type', 'text/plain'], ['x-a', '1'], ['x-b', '2']]);
    for (const name of ['Content-Length', 'Transfer-Encoding', 'Connection', 'Keep-Alive', 'Upgrade']) {
      expect(parseCgiResponse(enc(`X-Keep: y\n${name}: v\n\n`)).headers, name).toEqual([['x-keep', 'y']]);
    }
  });

  it('a header block up to 64 KiB is read; a longer one is malformed output', () => {
    const line = (n: number) => `X-Pad: ${'a'.repeat(n)}\n`;
    // "Content-Type: t\n" + padding line = exactly 64 KiB before the blank line.
    const head = 'Content-Type: t\n';
    const fits = head + line(64 * 1024 - head.length - 'X-Pad: \n'.length);
    expect(fits.length).toBe(64 * 1024);
    expect(parseCgiResponse(enc(`${fits}\nbody`)).headers).toHaveLength(2);
    const over = head + line(64 * 1024 - head.length - 'X-Pad: \n'.length + 8);
    expect(() => parseCgiResponse(enc(`${over}\nbody`))).toThrow(/no blank line within the first 65536 bytes/);
  });

  it('a repeated Status is malformed (no silent pick of one of them)', () => {
    expect(() => parseCgiResponse(enc('Status: 200 OK\nStatus: 404 Not Found\n\n'))).toThrow(/more than one Status header \(200, then 404\)/);
    expect(() => parseCgiResponse(enc('status: 201\nContent-Type: t\nSTATUS: 201\n\n'))).toThrow(CgiParseError);
  });

  it.each([
    ['empty output', ''],
    ['no blank line', 'Content-Type: text/plain\nbody'],
    ['no header at all', '\nbody'],
    ['a line without a colon', 'Content-Type text/plain\n\n'],
    ['a bad Status', 'Status: abc\n\n'],
    ['a bad header name', 'Bad Name: x\n\n'],
  ])('rejects %s', (_, out) => {
    expect(() => parseCgiResponse(enc(out))).toThrow(CgiParseError);
  });

  // The messages reach the log ("malformed CGI output: ..."): a function's author reads them to
  // find the bug, so each says exactly what was wrong (mutation testing found them unchecked).
  it.each([
    ['', 'the function wrote nothing to stdout (expected CGI headers, a blank line, then the body)'],
    ['\nbody', 'the CGI header block is empty (expected at least Content-Type, Status or Location)'],
    ['\r\nbody', 'the CGI header block is empty (expected at least Content-Type, Status or Location)'],
    ['Content-Type: t\nbody', 'no blank line after the CGI headers (expected "Content-Type: ...", a blank line, then the body)'],
    ['Content-Type text/plain\n\n', 'malformed CGI header line "Content-Type text/plain" (expected "Name: value")'],
    [': x\n\n', 'malformed CGI header line ": x" (expected "Name: value")'],
    ['Bad Name: x\n\n', 'invalid header name "Bad Name"'],
    ['Status: abc\n\n', 'invalid Status header "abc" (expected e.g. "404 Not Found")'],
    ['Status: 99\n\n', 'invalid Status header "99" (expected e.g. "404 Not Found")'],
    ['Status: 1000\n\n', 'invalid Status header "1000" (expected e.g. "404 Not Found")'],
  ])('says what is wrong: %j', (out, message) => {
    expect(() => parseCgiResponse(enc(out))).toThrow(new CgiParseError(message));
  });

  it('CR-LF lines and a CR-LF blank line; Status bounds 100 and 999; values trimmed', () => {
    const r = parseCgiResponse(enc('Status: 100 Continue\r\nX-A:   spaced  \r\n\r\nbody'));
    expect(r.status).toBe(100);
    expect(r.headers).toEqual([['x-a', 'spaced']]);
    expect(new TextDecoder().decode(r.body)).toBe('body');
    expect(parseCgiResponse(enc('Status: 999\n\n')).status).toBe(999);
    expect(parseCgiResponse(enc('Content-Type: t\n\n')).status).toBe(200);
  });

  it('error answers: the status line text as the body, plain text; reason phrases', () => {
    expect(errorResponse(502)).toEqual({ status: 502, headers: [['content-type', 'text/plain; charset=utf-8']], body: enc('502 Bad Gateway\n') });
    expect(new TextDecoder().decode(errorResponse(413).body)).toBe('413 Payload Too Large\n');
    expect([200, 404, 431, 499, 503, 504].map(reasonPhrase)).toEqual(['OK', 'Not Found', 'Request Header Fields Too Large', 'Client Closed Request', 'Service Unavailable', 'Gateway Timeout']);
    expect(reasonPhrase(299)).toBe('');
    expect(new TextDecoder().decode(formatCgiResponse({ status: 299, headers: [], body: new Uint8Array() }))).toBe('Status: 299\n\n');
  });

  it('round-trips any header list and any binary body (property)', () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/).filter((n) => !['status', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade'].includes(n));
    const value = fc.stringMatching(/^[!-~]([ -~]{0,40}[!-~])?$/);
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 599 }), fc.array(fc.tuple(name, value), { minLength: 1, maxLength: 12 }), fc.uint8Array({ maxLength: 4096 }), (status, headers, body) => {
        const out = formatCgiResponse({ status, headers, body });
        const parsed = parseCgiResponse(out);
        expect(parsed.status).toBe(status);
        expect(parsed.headers).toEqual(headers);
        expect(Buffer.compare(Buffer.from(parsed.body), Buffer.from(body))).toBe(0);
      }),
      { numRuns: 300 },
    );
  });
});

describe('CGI -> response of a HEAD', () => {
  const head = (out: string) => parseCgiResponse(enc(out), { head: true });

  it('keeps the Content-Length the function declared without a body (what the GET would send), out of the headers', () => {
    const r = head('Content-Type: text/css\nContent-Length: 5242880\nETag: "x"\n\n');
    expect(r.headLength).toBe(5242880);
    expect(r.headers).toEqual([['content-type', 'text/css'], ['etag', '"x"']]);
    expect(r.body.length).toBe(0);
  });

  it('only for a HEAD without a body and a plain decimal length; everything else is framed by the body', () => {
    expect(parseCgiResponse(enc('Content-Type: t\nContent-Length: 12\n\n')).headLength).toBeUndefined();
    expect(head('Content-Type: t\nContent-Length: 12\n\nhello').headLength).toBeUndefined();
    for (const bad of ['-1', '1e3', '12, 12', '0x10', '9999999999999999', '']) {
      expect(head(`Content-Type: t\nContent-Length: ${bad}\n\n`).headLength, bad).toBeUndefined();
    }
    expect(head('Content-Type: t\n\n').headLength).toBeUndefined();
  });
});
