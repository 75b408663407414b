/** The platform-neutral outbound API: allow-list parsing and matching, header lines, the import object. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_OUTBOUND, OUTBOUND_ERROR, type OutboundRequest, type OutboundResult } from '../../src/runtime/outbound/abi.js';
import { decodeHeaderLines, encodeHeaderLines, HeaderLineError } from '../../src/runtime/outbound/header-lines.js';
import { OutboundHost } from '../../src/runtime/outbound/imports.js';
import { AllowEntryError, OutboundPolicy, originOf, parseAllowEntry } from '../../src/runtime/outbound/policy.js';

describe('[outbound] allow entries', () => {
  const allows = (allow: string[], url: string) => new OutboundPolicy(allow).allows(new URL(url));

  it('matches scheme, host and the default port exactly', () => {
    expect(allows(['https://api.example.com'], 'https://api.example.com/v1?x=1')).toBe(true);
    expect(allows(['https://api.example.com'], 'https://api.example.com:443/')).toBe(true);
    expect(allows(['https://api.example.com'], 'http://api.example.com/')).toBe(false);
    expect(allows(['https://api.example.com'], 'https://api.example.com:8443/')).toBe(false);
    expect(allows(['https://api.example.com'], 'https://evil.example.com/')).toBe(false);
    expect(allows(['https://api.example.com'], 'https://api.example.com.evil.net/')).toBe(false);
    expect(allows(['https://API.Example.COM'], 'https://api.example.com/')).toBe(true);
  });

  it('"*." allows any subdomain but not the apex; ":*" any port', () => {
    expect(allows(['https://*.example.com'], 'https://a.b.example.com/')).toBe(true);
    expect(allows(['https://*.example.com'], 'https://example.com/')).toBe(false);
    expect(allows(['https://*.example.com'], 'https://badexample.com/')).toBe(false);
    expect(allows(['http://localhost:*'], 'http://localhost:3001/')).toBe(true);
    expect(allows(['http://localhost:*'], 'http://localhost/')).toBe(true);
    expect(allows(['http://127.0.0.1:3001'], 'http://127.0.0.1:3002/')).toBe(false);
    expect(allows(['http://[::1]:8080'], 'http://[::1]:8080/')).toBe(true);
  });

  it('nothing is allowed by default', () => {
    expect(allows([], 'https://example.com/')).toBe(false);
  });

  it('bad entries say what is wrong', () => {
    const error = (entry: string) => {
      try {
        parseAllowEntry(entry);
      } catch (e) {
        expect(e).toBeInstanceOf(AllowEntryError);
        return (e as Error).message;
      }
      throw new Error(`${entry} was accepted`);
    };
    expect(error('api.example.com')).toMatch(/scheme:\/\/host/);
    expect(error('ftp://x.example')).toMatch(/only http and https/);
    expect(error('https://x.example/path')).toMatch(/no path/);
    expect(error('https://x.example:99999')).toMatch(/not a port/);
    expect(error('https://*')).toMatch(/"\*" may only start the host/);
    expect(error('https://a.*.example')).toMatch(/"\*" may only start the host/);
    expect(() => new OutboundPolicy(['https://ok.example', 'nope'])).toThrow(/"nope"/);
  });

  it('origins always carry the port', () => {
    expect(originOf(new URL('https://x.example/a?key=secret'))).toBe('https://x.example:443');
    expect(originOf(new URL('http://127.0.0.1:3001/'))).toBe('http://127.0.0.1:3001');
  });
});

describe('header lines', () => {
  it('round-trips repeated names in order, bytes kept', () => {
    const pairs: [string, string][] = [['set-cookie', 'a=1'], ['x-a', 'caf\u00e9'], ['set-cookie', 'b=2']];
    const bytes = encodeHeaderLines(pairs);
    expect(Array.from(bytes.subarray(16, 24))).toEqual(Array.from(new TextEncoder().encode('x-a: caf')));
    expect(decodeHeaderLines(bytes)).toEqual(pairs);
  });

  it('lower-cases names, trims values, accepts a last line without LF', () => {
    expect(decodeHeaderLines(new TextEncoder().encode('Content-Type:  text/plain \nX-Y:1'))).toEqual([['content-type', 'text/plain'], ['x-y', '1']]);
  });

  it('refuses CR, a missing name and a bad name', () => {
    expect(() => decodeHeaderLines(new TextEncoder().encode('x-a: 1\r\n'))).toThrow(HeaderLineError);
    expect(() => decodeHeaderLines(new TextEncoder().encode(': 1\n'))).toThrow(HeaderLineError);
    expect(() => decodeHeaderLines(new TextEncoder().encode('bad name: 1\n'))).toThrow(HeaderLineError);
    expect(() => decodeHeaderLines(new TextEncoder().encode('novalue\n'))).toThrow(HeaderLineError);
  });
});

/** A guest's memory driven from the test: strings are written at fixed offsets. */
function harness(perform: (r: OutboundRequest) => OutboundResult | Promise<OutboundResult>, settings = { ...DEFAULT_OUTBOUND, allow: ['http://127.0.0.1:*'] }) {
  const memory = new WebAssembly.Memory({ initial: 1 });
  const logs: string[] = [];
  const host = new OutboundHost({ settings, perform, log: (l) => logs.push(l) });
  host.bind(memory);
  const mem = () => new Uint8Array(memory.buffer);
  const view = () => new DataView(memory.buffer);
  const put = (at: number, text: string | Uint8Array) => {
    const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : text;
    mem().set(bytes, at);
    return [at, bytes.length] as const;
  };
  const api = host.imports.wfn_http_v1 as Record<string, (...a: number[]) => number | Promise<number>>;
  const send = (method: string, url: string, headers = '', body: string | Uint8Array = '', flags = 0) =>
    api.send(...put(1000, method), ...put(1100, url), ...put(2000, headers), ...put(3000, body), flags, 100);
  const errorMessage = () => {
    const code = api.error_message(5000, 1000, 104) as number;
    expect(code).toBe(0);
    return new TextDecoder().decode(mem().subarray(5000, 5000 + view().getUint32(104, true)));
  };
  return { host, api, send, logs, mem, view, errorMessage };
}

const ok = (body: string, headers: [string, string][] = []): OutboundResult => ({ response: { status: 201, headers, body: new TextEncoder().encode(body) } });

describe('the wfn_http_v1 import object', () => {
  it('sends the decoded request and reads status, headers and body by handle', () => {
    let seen: OutboundRequest | undefined;
    const h = harness((r) => ((seen = r), ok('hello world', [['x-a', '1'], ['x-a', '2']])));
    expect(h.send('POST', 'http://127.0.0.1:9/x?q=1', 'Content-Type: text/plain\nHost: evil\nx-b: 1\nx-b: 2\n', 'body!', 1)).toBe(0);
    expect(seen).toEqual({ method: 'POST', url: 'http://127.0.0.1:9/x?q=1', headers: [['content-type', 'text/plain'], ['x-b', '1'], ['x-b', '2']], body: new TextEncoder().encode('body!'), followRedirects: true });
    const handle = h.view().getUint32(100, true);
    expect(h.api.status(handle, 200)).toBe(0);
    expect(h.view().getUint32(200, true)).toBe(201);
    // Too small a buffer: the size needed comes back.
    expect(h.api.headers(handle, 6000, 4, 204)).toBe(OUTBOUND_ERROR.BUFFER_TOO_SMALL);
    expect(h.view().getUint32(204, true)).toBe(14);
    expect(h.api.headers(handle, 6000, 100, 204)).toBe(0);
    expect(new TextDecoder().decode(h.mem().subarray(6000, 6014))).toBe('x-a: 1\nx-a: 2\n');
    const chunks: string[] = [];
    for (;;) {
      expect(h.api.body_read(handle, 7000, 4, 208)).toBe(0);
      const n = h.view().getUint32(208, true);
      if (n === 0) break;
      chunks.push(new TextDecoder().decode(h.mem().subarray(7000, 7000 + n)));
    }
    expect(chunks).toEqual(['hell', 'o wo', 'rld']);
    expect(h.api.close(handle)).toBe(0);
    expect(h.api.status(handle, 200)).toBe(OUTBOUND_ERROR.BAD_HANDLE);
    expect(h.logs).toEqual([]);
  });

  it('a denied origin never reaches perform: DENIED, a message naming the origin and the key, one log line', () => {
    const h = harness(() => {
      throw new Error('must not be called');
    });
    expect(h.send('GET', 'https://api.example.com/secret?key=k')).toBe(OUTBOUND_ERROR.DENIED);
    expect(h.errorMessage()).toBe('outbound request to https://api.example.com:443 denied: not in [outbound] allow of wfn.toml');
    expect(h.logs).toEqual(['wfn outbound: outbound request to https://api.example.com:443 denied: not in [outbound] allow of wfn.toml']);
  });

  it('bad arguments are INVALID, never a trap', () => {
    const h = harness(() => ok(''));
    expect(h.send('GET', 'ftp://127.0.0.1/')).toBe(OUTBOUND_ERROR.INVALID);
    expect(h.send('GET', 'not a url')).toBe(OUTBOUND_ERROR.INVALID);
    expect(h.send('G E T', 'http://127.0.0.1:1/')).toBe(OUTBOUND_ERROR.INVALID);
    expect(h.send('CONNECT', 'http://127.0.0.1:1/')).toBe(OUTBOUND_ERROR.INVALID);
    expect(h.send('GET', 'http://127.0.0.1:1/', 'x: a\r\n')).toBe(OUTBOUND_ERROR.INVALID);
    expect(h.send('GET', 'http://127.0.0.1:1/', '', 'body')).toBe(OUTBOUND_ERROR.INVALID);
    expect(h.send('GET', 'http://127.0.0.1:1/', '', '', 2)).toBe(OUTBOUND_ERROR.INVALID);
    expect(h.send('GET', 'http://127.0.0.1:1/', '', '', 0x80)).toBe(OUTBOUND_ERROR.INVALID);
    expect(h.api.send(0, 3, 70000, 5, 0, 0, 0, 0, 0, 100)).toBe(OUTBOUND_ERROR.INVALID);
    expect(h.api.send(0, 3, 0, 5, 0, 0, 0, 0, 0, 65535)).toBe(OUTBOUND_ERROR.INVALID);
    expect(h.api.body_read(1, 0, 10, 0xffffffff)).toBe(OUTBOUND_ERROR.BAD_HANDLE);
    expect(h.errorMessage()).toMatch(/handle 1 is not open/);
  });

  it('flags bits 8-31 carry the call\'s own timeout', () => {
    const seen: OutboundRequest[] = [];
    const h = harness((r) => (seen.push(r), ok('')));
    expect(h.send('GET', 'http://127.0.0.1:1/', '', '', (250 << 8) | 1)).toBe(0);
    expect(h.send('GET', 'http://127.0.0.1:1/')).toBe(0);
    expect(seen[0]).toMatchObject({ followRedirects: true, timeoutMs: 250 });
    expect(seen[1].timeoutMs).toBeUndefined();
  });

  it('the call limit is per invocation', () => {
    const h = harness(() => ok('x'), { ...DEFAULT_OUTBOUND, allow: ['http://127.0.0.1:*'], maxCalls: 2 });
    expect(h.send('GET', 'http://127.0.0.1:1/')).toBe(0);
    expect(h.send('GET', 'http://127.0.0.1:1/')).toBe(0);
    expect(h.send('GET', 'http://127.0.0.1:1/')).toBe(OUTBOUND_ERROR.LIMIT);
    expect(h.errorMessage()).toMatch(/more than 2 calls in one invocation \(\[outbound\] max_calls/);
  });

  it('a failed perform gives its code and message', () => {
    const h = harness(() => ({ error: { code: OUTBOUND_ERROR.UNREACHABLE, message: 'outbound request to http://127.0.0.1:1 failed: connection refused (ECONNREFUSED)' } }));
    expect(h.send('GET', 'http://127.0.0.1:1/')).toBe(OUTBOUND_ERROR.UNREACHABLE);
    expect(h.errorMessage()).toMatch(/connection refused/);
    expect(h.logs).toHaveLength(1);
    // error_message with a small buffer: BUFFER_TOO_SMALL and the size.
    expect(h.api.error_message(5000, 3, 104)).toBe(OUTBOUND_ERROR.BUFFER_TOO_SMALL);
    expect(h.view().getUint32(104, true)).toBeGreaterThan(3);
  });

  it('an asynchronous perform makes send asynchronous (JSPI hosts)', async () => {
    const h = harness(async () => ok('later'));
    const code = h.send('GET', 'http://127.0.0.1:1/');
    expect(code).toBeInstanceOf(Promise);
    expect(await code).toBe(0);
    expect(h.view().getUint32(100, true)).toBe(1);
  });
});

describe('the contract accepts wfn_http_v1 beside preview1', () => {
  const module = (imports: string) => `(module ${imports} (memory (export "memory") 1) (func (export "_start")))`;
  const check = async (imports: string) => {
    const { wat2wasm } = await import('../helpers/wat.js');
    const { checkContract, usesOutbound } = await import('../../src/runtime/contract.js');
    const bytes = await wat2wasm(module(imports));
    const compiled = await WebAssembly.compile(bytes as BufferSource);
    return { problems: checkContract(compiled, { bytes }), outbound: usesOutbound(compiled), withoutBytes: checkContract(compiled) };
  };
  const i32s = (n: number) => Array(n).fill('i32').join(' ');

  it('every function of the API, with its signature', async () => {
    const all = Object.entries({ send: 10, status: 2, headers: 4, body_read: 4, close: 1, error_message: 3 })
      .map(([name, n]) => `(import "wfn_http_v1" "${name}" (func (param ${i32s(n)}) (result i32)))`)
      .join(' ');
    const result = await check(`(import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32))) ${all}`);
    expect(result.problems).toEqual([]);
    expect(result.outbound).toBe(true);
    // Without the bytes the signatures cannot be checked: refused, not waved through.
    expect(result.withoutBytes).toEqual(['the signatures of the wfn_http_v1 imports could not be checked (no module bytes given)']);
    const { wat2wasm } = await import('../helpers/wat.js');
    const { inspectWasm } = await import('../../src/pipeline/inspect.js');
    const inspected = await inspectWasm(await wat2wasm(module(all)));
    expect(inspected).toMatchObject({ outbound: true, contract: { conforms: true } });
    expect((await inspectWasm(await wat2wasm(module('')))).outbound).toBe(false);
  });

  it('a wrong signature or an unknown name is refused', async () => {
    expect((await check(`(import "wfn_http_v1" "status" (func (param i32) (result i32)))`)).problems).toEqual([
      'import "wfn_http_v1.status" has the signature (i32) -> (i32), but the API defines (i32, i32) -> (i32)',
    ]);
    expect((await check(`(import "wfn_http_v1" "close" (func (param i64) (result i32)))`)).problems[0]).toMatch(/signature \(i64\) -> \(i32\)/);
    expect((await check(`(import "wfn_http_v1" "fetch" (func))`)).problems[0]).toMatch(/"wfn_http_v1.fetch" is not a function of wfn_http_v1/);
    expect((await check(`(import "wfn_http_v1" "close" (global i32))`)).problems[0]).toMatch(/is a global/);
  });

  it('a module without it is unchanged: no outbound', async () => {
    const result = await check('');
    expect(result).toEqual({ problems: [], outbound: false, withoutBytes: [] });
  });
});
