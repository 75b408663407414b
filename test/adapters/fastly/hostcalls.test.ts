/** The emulated hostcalls, called directly: the ABI rules of compute-at-edge.witx. */
import { describe, expect, test } from 'vitest';
import { FastlyHost, ipOctets, parseUserAgent, Status } from '../../../adapters/fastly/emulator/hostcalls.js';
import type { ImportEntry } from '../../../src/runtime/wasm-imports.js';

const i32 = (params: number) => ({ params: new Array(params).fill('i32'), results: ['i32'] }) as ImportEntry['type'];

function setup(headers: [string, string][] = [['host', 'h'], ['accept', 'a'], ['x-long-header-name', 'v1'], ['x-long-header-name', 'v2']]) {
  const logs: string[] = [];
  const host = new FastlyHost({ method: 'PATCH', url: 'http://h/p?q', headers, body: new TextEncoder().encode('hello body') }, { log: (l) => logs.push(l) });
  const names: [string, string, number][] = [
    ['fastly_http_req', 'body_downstream_get', 2], ['fastly_http_req', 'header_names_get', 6], ['fastly_http_req', 'header_value_get', 6],
    ['fastly_http_req', 'header_values_get', 8], ['fastly_http_req', 'method_get', 4], ['fastly_http_body', 'read', 4],
    ['fastly_http_body', 'write', 5], ['fastly_http_body', 'new', 1], ['fastly_http_body', 'append', 2], ['fastly_http_body', 'known_length', 2],
    ['fastly_http_resp', 'new', 1], ['fastly_http_resp', 'send_downstream', 3], ['fastly_http_resp', 'status_get', 2], ['fastly_http_resp', 'status_set', 2],
    ['fastly_dictionary', 'open', 3],
  ];
  const imports: ImportEntry[] = names.map(([module, name, n]) => ({ module, name, kind: 'function', type: i32(n) }));
  imports.push({ module: 'fastly_cache', name: 'get_age_ns', kind: 'function', type: { params: ['i32', 'i32'], results: ['i64'] } });
  const fns = host.imports(imports) as Record<string, Record<string, (...a: number[]) => number | bigint>>;
  const memory = new WebAssembly.Memory({ initial: 1 });
  host.bind(memory);
  const view = () => new DataView(memory.buffer);
  const bytes = (p: number, n: number) => new Uint8Array(memory.buffer, p, n);
  const str = (p: number, n: number) => new TextDecoder().decode(bytes(p, n));
  const put = (p: number, s: string) => {
    const b = new TextEncoder().encode(s);
    bytes(p, b.length).set(b);
    return b.length;
  };
  fns.fastly_http_req.body_downstream_get(0, 4);
  return { host, fns, view, bytes, str, put, logs, req: view().getUint32(0, true), body: view().getUint32(4, true) };
}

describe('fastly hostcalls', () => {
  test('a string that does not fit: $buflen and the size needed in nwritten_out', () => {
    const { fns, view, str, req } = setup();
    expect(fns.fastly_http_req.method_get(req, 100, 2, 8)).toBe(Status.BUFLEN);
    expect(view().getUint32(8, true)).toBe(5);
    expect(fns.fastly_http_req.method_get(req, 100, 5, 8)).toBe(Status.OK);
    expect(str(100, view().getUint32(8, true))).toBe('PATCH');
  });

  test('header names: the multi-value cursor protocol', () => {
    const { fns, view, str, req } = setup();
    // room for "host\0accept\0" only: ending cursor 2
    expect(fns.fastly_http_req.header_names_get(req, 100, 12, 0, 16, 8)).toBe(Status.OK);
    expect(str(100, view().getUint32(8, true))).toBe('host\0accept\0');
    expect(view().getBigInt64(16, true)).toBe(2n);
    // not even the next name fits: $buflen, size needed
    expect(fns.fastly_http_req.header_names_get(req, 100, 5, 2, 16, 8)).toBe(Status.BUFLEN);
    expect(view().getUint32(8, true)).toBe('x-long-header-name'.length + 1);
    expect(fns.fastly_http_req.header_names_get(req, 100, 100, 2, 16, 8)).toBe(Status.OK);
    expect(str(100, view().getUint32(8, true))).toBe('x-long-header-name\0');
    expect(view().getBigInt64(16, true)).toBe(-1n);
  });

  test('header values: all values of a repeated header; a missing one is $inval for value_get', () => {
    const { fns, view, str, put, req } = setup();
    const n = put(300, 'X-Long-Header-Name');
    expect(fns.fastly_http_req.header_values_get(req, 300, n, 100, 100, 0, 16, 8)).toBe(Status.OK);
    expect(str(100, view().getUint32(8, true))).toBe('v1\0v2\0');
    expect(fns.fastly_http_req.header_value_get(req, 300, n, 100, 100, 8)).toBe(Status.OK);
    expect(str(100, view().getUint32(8, true))).toBe('v1');
    const m = put(300, 'x-none');
    expect(fns.fastly_http_req.header_value_get(req, 300, m, 100, 100, 8)).toBe(Status.INVAL);
  });

  test('bodies: read to the end, known length, write back and front, append', () => {
    const { fns, view, str, body } = setup();
    expect(fns.fastly_http_body.known_length(body, 16)).toBe(Status.OK);
    expect(view().getBigUint64(16, true)).toBe(10n);
    expect(fns.fastly_http_body.read(body, 100, 6, 8)).toBe(Status.OK);
    expect(str(100, 6)).toBe('hello ');
    expect(fns.fastly_http_body.read(body, 100, 100, 8)).toBe(Status.OK);
    expect(str(100, view().getUint32(8, true))).toBe('body');
    expect(fns.fastly_http_body.read(body, 100, 100, 8)).toBe(Status.OK);
    expect(view().getUint32(8, true)).toBe(0);

    fns.fastly_http_body.new(20);
    const out = view().getUint32(20, true);
    new Uint8Array(view().buffer).set(new TextEncoder().encode('world!'), 200);
    expect(fns.fastly_http_body.write(out, 200, 6, 0, 8)).toBe(Status.OK);
    expect(fns.fastly_http_body.write(out, 200, 5, 1, 8)).toBe(Status.OK); // front
    expect(fns.fastly_http_body.known_length(out, 16)).toBe(Status.NONE);
    fns.fastly_http_body.new(24);
    const other = view().getUint32(24, true);
    fns.fastly_http_body.write(other, 205, 1, 0, 8);
    expect(fns.fastly_http_body.append(out, other)).toBe(Status.OK);
    expect(fns.fastly_http_body.read(other, 100, 1, 8)).toBe(Status.BADF); // consumed
    expect(fns.fastly_http_body.read(out, 100, 100, 8)).toBe(Status.OK);
    expect(str(100, view().getUint32(8, true))).toBe('worldworld!!');
  });

  test('responses: status get/set, one send_downstream, bad handles', () => {
    const { host, fns, view } = setup();
    fns.fastly_http_resp.new(20);
    const resp = view().getUint32(20, true);
    fns.fastly_http_body.new(24);
    const b = view().getUint32(24, true);
    expect(fns.fastly_http_resp.status_set(resp, 99)).toBe(Status.INVAL);
    expect(fns.fastly_http_resp.status_set(resp, 404)).toBe(Status.OK);
    expect(fns.fastly_http_resp.status_get(resp, 16)).toBe(Status.OK);
    expect(view().getUint16(16, true)).toBe(404);
    expect(fns.fastly_http_resp.send_downstream(resp, b, 0)).toBe(Status.OK);
    expect(host.response()?.status).toBe(404);
    fns.fastly_http_resp.new(20);
    expect(fns.fastly_http_resp.send_downstream(view().getUint32(20, true), b, 0)).toBe(Status.BADF); // the body was consumed
    expect(fns.fastly_http_resp.status_set(9999, 200)).toBe(Status.BADF);
  });

  test('hostcalls that are not emulated answer $unsupported (typed) and are logged once by name', () => {
    const { host, fns, logs } = setup();
    expect(fns.fastly_dictionary.open(0, 0, 8)).toBe(Status.UNSUPPORTED);
    expect(fns.fastly_dictionary.open(0, 0, 8)).toBe(Status.UNSUPPORTED);
    expect(fns.fastly_cache.get_age_ns(0, 0)).toBe(BigInt(Status.UNSUPPORTED));
    expect(host.unsupported).toEqual(['fastly_dictionary.open', 'fastly_cache.get_age_ns']);
    expect(logs.filter((l) => l.includes('fastly_dictionary.open'))).toHaveLength(1);
  });

  test('addresses and user agents', () => {
    expect([...ipOctets('10.0.0.7')!]).toEqual([10, 0, 0, 7]);
    expect([...ipOctets('::ffff:127.0.0.1')!]).toEqual([127, 0, 0, 1]);
    expect([...ipOctets('2001:db8::1')!]).toEqual([0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(ipOctets('nonsense')).toBeUndefined();
    expect(parseUserAgent('Mozilla/5.0 (X11) AppleWebKit/537.36 Chrome/120.0.6099.109 Safari/537.36')).toEqual(['Chrome', '120', '0', '6099']);
    expect(parseUserAgent('curl/8.4.0')).toEqual(['curl', '8', '4', '0']);
  });
});
