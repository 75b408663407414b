/**
 * The CGI mapping, exactly (src/runtime/cgi.ts): the whole environment and argv of
 * representative requests, each refusal with its sentence, and the parser's edges. Written
 * against survivors of `npm run mutate`: cgi.test.ts checked variables one at a time and
 * left the others (SERVER_PORT, GATEWAY_INTERFACE, cookies joined with "; "...) free to change.
 */
import { describe, expect, it } from 'vitest';
import { buildCgiEnvironment, CgiParseError, CgiRequestError, cgiRequestProblem, errorResponse, formatCgiResponse, parseCgiResponse, pathBelowRoute, reasonPhrase } from '../../src/runtime/cgi.js';
import { SERVER_SOFTWARE } from '../../src/runtime/version.js';
import type { HttpRequest } from '../../src/runtime/types.js';

const req = (over: Partial<HttpRequest>): HttpRequest => ({ method: 'GET', url: 'http://example.test/', headers: [], body: new Uint8Array(0), ...over });
const bytes = (s: string) => new TextEncoder().encode(s);

describe('buildCgiEnvironment', () => {
  it('builds the whole environment and argv of a request below a route', () => {
    const { env, args } = buildCgiEnvironment(
      req({
        method: 'post',
        url: 'http://api.example.test:8080/hello/a%20b/c?x=1&y=a+b%21&flag',
        headers: [
          ['Content-Type', 'application/json'],
          ['Content-Length', '3'],
          ['Cookie', 'a=1'],
          ['X-Multi', 'one'],
          ['cookie', 'b=2'],
          ['x-multi', 'two'],
          ['Bad Header', 'dropped'],
          ['x_under', 'dropped too'],
        ],
        body: bytes('abc'),
        remoteAddr: '192.0.2.7',
      }),
      { route: '/hello/', env: { GREETING: 'hi', SERVER_PORT: 'configured loses' } },
    );
    expect(Object.fromEntries(env)).toEqual({
      GREETING: 'hi',
      REQUEST_METHOD: 'POST',
      QUERY_STRING: 'x=1&y=a+b%21&flag',
      PATH_INFO: '/a b/c',
      X_RAW_PATH_INFO: '/a%20b/c',
      SCRIPT_NAME: '/hello',
      X_MATCHED_ROUTE: '/hello/',
      X_FULL_URL: 'http://api.example.test:8080/hello/a%20b/c?x=1&y=a+b%21&flag',
      SERVER_NAME: 'api.example.test',
      SERVER_PORT: '8080',
      SERVER_PROTOCOL: 'HTTP/1.1',
      SERVER_SOFTWARE,
      GATEWAY_INTERFACE: 'CGI/1.1',
      REMOTE_ADDR: '192.0.2.7',
      CONTENT_TYPE: 'application/json',
      CONTENT_LENGTH: '3',
      HTTP_COOKIE: 'a=1; b=2',
      HTTP_X_MULTI: 'one, two',
    });
    // Built-ins come after the configured variables, which keep their order.
    expect(env[0]).toEqual(['GREETING', 'hi']);
    expect(args).toEqual(['/hello/a%20b/c', 'x=1', 'y=a b!', 'flag']);
  });

  it('defaults: port from the scheme, no remote address, no content type, no query', () => {
    const plain = Object.fromEntries(buildCgiEnvironment(req({ url: 'http://h.test/p' }), { route: '/', env: {} }).env);
    expect(plain).toMatchObject({ SERVER_PORT: '80', REMOTE_ADDR: '', CONTENT_TYPE: '', CONTENT_LENGTH: '0', QUERY_STRING: '', SCRIPT_NAME: '', PATH_INFO: '/p' });
    expect(Object.keys(plain).filter((k) => k.startsWith('HTTP_'))).toEqual([]);
    const tls = buildCgiEnvironment(req({ url: 'https://h.test/p?' }), { route: '/', env: {} });
    expect(Object.fromEntries(tls.env).SERVER_PORT).toBe('443');
    expect(tls.args).toEqual(['/p']);
    // A malformed escape in a query pair is passed as it is, not dropped.
    expect(buildCgiEnvironment(req({ url: 'http://h.test/?a=%E0%A4%A' }), { route: '/', env: {} }).args).toEqual(['/', 'a=%E0%A4%A']);
  });

  it('refuses what CGI cannot carry, with the reason', () => {
    const fn = { route: '/', env: {} };
    const refuse = (r: HttpRequest) => {
      try {
        buildCgiEnvironment(r, fn);
      } catch (error) {
        expect(error).toBeInstanceOf(CgiRequestError);
        expect((error as Error).name).toBe('CgiRequestError');
        return (error as Error).message;
      }
      throw new Error('not refused');
    };
    expect(refuse(req({ url: 'not a url' }))).toBe('the request URL "not a url" is not valid');
    expect(refuse(req({ url: `x${'y'.repeat(300)}` }))).toBe(`the request URL ${JSON.stringify(`x${'y'.repeat(199)}`)} is not valid`);
    expect(refuse(req({ method: 'GE T' }))).toBe('the method "GE T" is not an HTTP token');
    expect(refuse(req({ method: `${'M'.repeat(50)} ` }))).toBe(`the method "${'M'.repeat(40)}" is not an HTTP token`);
    expect(refuse(req({ headers: [['X-A', 'a\0b']] }))).toBe('the x-a header has a NUL character, which the CGI environment cannot carry');
    expect(refuse(req({ url: 'http://h.test/%00' }))).toBe('the path decodes to a NUL character, which the CGI environment cannot carry');
  });
});

describe('cgiRequestProblem and pathBelowRoute', () => {
  it('names a path that is not UTF-8 (cut to 200 characters) and a query pair with NUL', () => {
    expect(cgiRequestProblem('/%ff', '')).toBe('the path "/%ff" is not percent-encoded UTF-8');
    expect(cgiRequestProblem(`/%ff${'a'.repeat(300)}`, '')).toBe(`the path ${JSON.stringify(`/%ff${'a'.repeat(196)}`)} is not percent-encoded UTF-8`);
    expect(cgiRequestProblem('/', '?a=%00')).toBe('a query parameter decodes to a NUL character, which argv cannot carry');
    expect(cgiRequestProblem('/', 'a=%00')).toBe('a query parameter decodes to a NUL character, which argv cannot carry');
    expect(cgiRequestProblem('/', '?a=%2500')).toBeUndefined(); // "%00" after decoding is text, not NUL
    expect(cgiRequestProblem('/', '?a=%0')).toBeUndefined();
    expect(cgiRequestProblem('/ok', '?a=1')).toBeUndefined();
  });

  it('strips the route prefix only at a segment boundary', () => {
    expect(pathBelowRoute('/', '/a/b')).toBe('/a/b');
    expect(pathBelowRoute('//', '/a')).toBe('/a');
    expect(pathBelowRoute('/hello//', '/hello/a')).toBe('/a');
    expect(pathBelowRoute('/hello', '/hello')).toBe('');
    expect(pathBelowRoute('/hello', '/helloworld')).toBe('/helloworld');
  });
});

describe('parseCgiResponse edges', () => {
  const parse = (s: string) => parseCgiResponse(bytes(s));
  const error = (s: string | Uint8Array) => {
    try {
      parseCgiResponse(typeof s === 'string' ? bytes(s) : s);
    } catch (e) {
      expect(e).toBeInstanceOf(CgiParseError);
      expect((e as Error).name).toBe('CgiParseError');
      return (e as Error).message;
    }
    throw new Error('parsed');
  };

  it('ends the header block at LF LF or LF CR LF, and keeps a body that starts with CR or LF', () => {
    expect(parse('Content-Type: a\n\n\nbody').body).toEqual(bytes('\nbody'));
    expect(parse('Content-Type: a\r\n\r\n\r\nbody').body).toEqual(bytes('\r\nbody'));
    // A lone CR after LF is not a blank line.
    const r = parse('Content-Type: a\n\rX: y\n\nz');
    expect(r.headers).toEqual([['content-type', 'a'], ['x', 'y']]);
    expect(r.body).toEqual(bytes('z'));
  });

  it('refuses an empty header block, a header-less blank line and a missing blank line, by name', () => {
    expect(error('')).toBe('the function wrote nothing to stdout (expected CGI headers, a blank line, then the body)');
    expect(error('\nbody')).toBe('the CGI header block is empty (expected at least Content-Type, Status or Location)');
    expect(error('\r\nbody')).toBe('the CGI header block is empty (expected at least Content-Type, Status or Location)');
    expect(error('Content-Type: a\nno blank line')).toBe('no blank line after the CGI headers (expected "Content-Type: ...", a blank line, then the body)');
    // exactly at the header limit: still "missing", one byte over: "too long"
    expect(error(`X: ${'a'.repeat(64 * 1024 - 3)}`)).toMatch(/^no blank line after the CGI headers/);
    expect(error(`X: ${'a'.repeat(64 * 1024 - 2)}`)).toBe('no blank line within the first 65536 bytes of output (CGI headers too long or missing)');
  });

  it('a blank line just inside the limit is found; an invalid UTF-8 header is decoded leniently', () => {
    const head = `X: ${'a'.repeat(64 * 1024 - 4)}`;
    expect(parseCgiResponse(bytes(`${head}\n\nok`)).body).toEqual(bytes('ok'));
    const r = parseCgiResponse(Uint8Array.from([...bytes('X: '), 0xff, ...bytes('\n\n')]));
    expect(r.headers).toEqual([['x', '\ufffd']]);
  });

  it('names malformed lines and names (cut to 80 characters), trims names and values', () => {
    expect(error('no colon here\n\n')).toBe('malformed CGI header line "no colon here" (expected "Name: value")');
    expect(error(`${'n'.repeat(100)}\n\n`)).toBe(`malformed CGI header line "${'n'.repeat(80)}" (expected "Name: value")`);
    expect(error(': empty name\n\n')).toBe('malformed CGI header line ": empty name" (expected "Name: value")');
    expect(error('Bad Name: x\n\n')).toBe('invalid header name "Bad Name"');
    expect(error(`${'n'.repeat(90)} x: y\n\n`)).toBe(`invalid header name "${'n'.repeat(80)}"`);
    expect(parse('  X-Padded  :  v  \r\n\r\n').headers).toEqual([['x-padded', 'v']]);
  });

  it('Status: three digits, an optional reason, 100-999, once', () => {
    expect(parse('Status: 404 Not Found\n\n').status).toBe(404);
    expect(parse('Status: 999\n\n').status).toBe(999);
    expect(error('Status: 099\n\n')).toBe('invalid Status header "099" (expected e.g. "404 Not Found")');
    expect(error('Status: x404\n\n')).toBe('invalid Status header "x404" (expected e.g. "404 Not Found")');
    expect(error('Status: 4040\n\n')).toBe('invalid Status header "4040" (expected e.g. "404 Not Found")');
    expect(error('Status: 200\nStatus: 404\n\n')).toBe('more than one Status header (200, then 404)');
  });
});

describe('reason phrases and error responses', () => {
  it('every status wfn answers itself has its phrase', () => {
    const expected: Record<number, string> = {
      200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content', 301: 'Moved Permanently', 302: 'Found', 303: 'See Other', 304: 'Not Modified',
      307: 'Temporary Redirect', 308: 'Permanent Redirect', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found',
      405: 'Method Not Allowed', 409: 'Conflict', 413: 'Payload Too Large', 429: 'Too Many Requests', 431: 'Request Header Fields Too Large',
      499: 'Client Closed Request', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
    };
    for (const [status, phrase] of Object.entries(expected)) expect(reasonPhrase(Number(status))).toBe(phrase);
    expect(reasonPhrase(299)).toBe('');
    expect(new TextDecoder().decode(errorResponse(504).body)).toBe('504 Gateway Timeout\n');
    expect(new TextDecoder().decode(formatCgiResponse({ status: 299, headers: [['x', 'y']], body: bytes('b') }))).toBe('Status: 299\nx: y\n\nb');
  });
});
