/**
 * The adapter module: merged with a function, run on the emulated hostcalls, it must
 * answer exactly what wfn's own runtime answers for the same function and request.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { checkMerged } from '../../../adapters/fastly/merge.js';
import { readImports } from '../../../src/runtime/wasm-imports.js';
import { prepare, request, text, viaFastly, viaWfn, watFixture, type Prepared } from './helpers.js';

let echo: Prepared;

beforeAll(async () => {
  echo = await prepare(await watFixture('echo.wat'), { GREETING: 'hello', HTTP_HOST: 'configured', REQUEST_METHOD: 'nope' });
});

async function same(p: Prepared, req: ReturnType<typeof request>) {
  const [a, b] = await Promise.all([viaWfn(p, req), viaFastly(p, req)]);
  expect(b.response.status).toBe(a.response.status);
  expect(b.response.headers).toEqual(a.response.headers);
  expect(text(b.response.body)).toBe(text(a.response.body));
  expect(Buffer.from(b.response.body).equals(Buffer.from(a.response.body))).toBe(true);
  return { wfn: a, fastly: b };
}

describe('merged module', () => {
  test('imports only fastly_* and wasi_snapshot_preview1, exports _start and memory', () => {
    expect(checkMerged(echo.mergedBytes)).toEqual([]);
    const modules = new Set(readImports(echo.mergedBytes).map((i) => i.module));
    for (const m of modules) expect(m === 'wasi_snapshot_preview1' || m.startsWith('fastly_')).toBe(true);
    // the function's stdio and environment calls are served by the adapter now
    const wasi = readImports(echo.mergedBytes).filter((i) => i.module === 'wasi_snapshot_preview1').map((i) => i.name);
    expect(wasi).not.toContain('environ_get');
    expect(wasi).not.toContain('args_get');
    expect(wasi).toContain('fd_write'); // the adapter's pass-through for fd 2
  });
});

describe('the CGI mapping matches wfn runtime', () => {
  test('GET with query, headers, repeated headers and configured variables', async () => {
    const req = request('http://example.com:8080/a%20b/c?x=1&y=a+b%21&z&bad=%E0%A4', {
      headers: [
        ['host', 'example.com:8080'],
        ['accept', 'text/html'],
        ['x-multi', 'one'],
        ['cookie', 'a=1'],
        ['x-multi', 'two'],
        ['cookie', 'b=2'],
        ['content-type', 'application/json'],
        ['x_under', 'skipped'],
      ],
      remoteAddr: '10.1.2.3',
    });
    const { fastly } = await same(echo, req);
    const body = text(fastly.response.body);
    expect(body).toContain('HTTP_X_MULTI=one, two\n');
    expect(body).toContain('HTTP_COOKIE=a=1; b=2\n');
    expect(body).toContain('PATH_INFO=/a b/c\n');
    expect(body).toContain('GREETING=hello\n');
    expect(body).toContain('HTTP_HOST=example.com:8080\n');
    expect(body).not.toContain('configured');
    expect(body).toContain('REMOTE_ADDR=10.1.2.3\n');
    expect(body).toContain('--\n/a%20b/c\nx=1\ny=a b!\nz\nbad=%E0%A4\n--\n');
    expect(fastly.response.status).toBe(201);
  });

  test('POST body of 1 MiB + 3 bytes reaches stdin intact', async () => {
    const bytes = new Uint8Array(1048579).map((_, i) => (i * 7) % 251);
    const req = request('http://localhost/upload', { method: 'post', body: bytes, headers: [['host', 'localhost']] });
    const { fastly } = await same(echo, req);
    const body = fastly.response.body;
    expect(Buffer.from(body.subarray(body.length - bytes.length)).equals(Buffer.from(bytes))).toBe(true);
  });

  test('a body of unknown length (chunked upload) is read whole first, CONTENT_LENGTH is exact', async () => {
    const bytes = new Uint8Array(200_003).map((_, i) => (i * 13) % 256);
    const req = { ...request('http://localhost/chunked', { method: 'PUT', body: bytes }), lengthUnknown: true };
    const { fastly } = await same(echo, req);
    expect(text(fastly.response.body)).toContain('CONTENT_LENGTH=200003\n');
  });

  test('undecodable path, IPv6 client, https default port', async () => {
    // Not percent-encoded UTF-8: PATH_INFO cannot be decoded, a 400 on every target.
    expect((await same(echo, request('https://[::1]/%FF%2F%C3%A9?%ZZ', { remoteAddr: '2001:db8::1', headers: [['host', '[::1]']] }))).fastly.response.status).toBe(400);
    await same(echo, request('https://[::1]/%C3%A9?%ZZ', { remoteAddr: '2001:db8::1', headers: [['host', '[::1]']] }));
    // A NUL in the decoded path or in a decoded query pair: 400; one in an undecodable pair stays raw.
    for (const target of ['/a%00b', '/?x=%00', '/?x=%00%zz']) await same(echo, request(`http://h${target}`));
    expect((await viaFastly(echo, request('http://h/?x=%00%zz'))).response.status).toBe(201);
    // Fastly hands an IPv4 client over as 4 octets, however Node wrote the address
    const mapped = await viaFastly(echo, request('http://h/', { remoteAddr: '::ffff:127.0.0.1', headers: [] }));
    expect(text(mapped.response.body)).toContain('REMOTE_ADDR=127.0.0.1\n');
  });

  test('a big request head: 400 headers, a 100 KB header value, a 70 KB URL', async () => {
    const headers: [string, string][] = [['host', 'h']];
    for (let i = 0; i < 400; i++) headers.push([`x-header-number-${i}`, `v${i}`]);
    headers.push(['x-big', 'b'.repeat(100_000)], ['x-header-number-7', 'again']);
    const { fastly } = await same(echo, request(`http://h/${'p'.repeat(70_000)}?q=${'z'.repeat(100)}`, { headers }));
    const body = text(fastly.response.body);
    expect(body).toContain('HTTP_X_HEADER_NUMBER_399=v399\n');
    expect(body).toContain('HTTP_X_HEADER_NUMBER_7=v7, again\n');
    expect(body).toContain(`HTTP_X_BIG=${'b'.repeat(100_000)}\n`);
  });

  test('a 1 MiB response body', async () => {
    const { fastly } = await same(echo, request('http://h/?big'));
    expect(fastly.response.body.length).toBe(1048576);
  });

  test('proc_exit(3) after output is a 500', async () => {
    const { fastly } = await same(echo, request('http://h/?exit'));
    expect(fastly.response.status).toBe(500);
    expect(fastly.outcome).toBe('exit');
  });

  test('a trap is a 500', async () => {
    const { fastly } = await same(echo, request('http://h/?trap'));
    expect(fastly.response.status).toBe(500);
    expect(fastly.outcome).toBe('trap');
  });

  test('malformed CGI output and no output are 502s', async () => {
    expect((await same(echo, request('http://h/?bad'))).fastly.response.status).toBe(502);
    expect((await same(echo, request('http://h/?none'))).fastly.response.status).toBe(502);
  });
});

describe("the adapter's memory stays out of the function's way", () => {
  test('pages the function grows read as zero, though the adapter memory was there (Go relies on it)', async () => {
    const grow = await prepare(await watFixture('grow.wat'));
    const { fastly } = await same(grow, request('http://h/'));
    expect(text(fastly.response.body)).toBe('clean');
  });
});
