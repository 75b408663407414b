// The Worker entry's fetch handler, run directly in Node (it is platform-neutral): what Cloudflare
// would execute, without workerd.
import { describe, expect, it } from 'vitest';
import { createWorker } from '../../../adapters/cloudflare/shim.js';
import { EMULATOR_BINDING, REASON_HEADER, TIMINGS_HEADER } from '../../../adapters/cloudflare/protocol.js';
import { ENV_DUMP_WAT, writeOnce } from '../../fixtures/contract.js';
import { wat2wasm } from '../../helpers/wat.js';

const config = { route: '/', memoryCapBytes: 16 * 1024 * 1024, vars: ['GREETING'], secrets: ['API_KEY'] };
const compile = async (wat: string) => WebAssembly.compile((await wat2wasm(wat)) as BufferSource);

describe('cloudflare Worker shim', () => {
  it('maps bindings, CF-Connecting-IP and joined cookies into CGI; ignores other bindings', async () => {
    const worker = createWorker(await compile(ENV_DUMP_WAT), config);
    const req = new Request('https://fn.example.workers.dev/a%20b?q=1', { headers: [['cookie', 'a=1'], ['cookie', 'b=2'], ['cf-connecting-ip', '203.0.113.9']] });
    const res = await worker.fetch(req, { GREETING: 'hi', API_KEY: 'k', OTHER_BINDING: 'no', [EMULATOR_BINDING]: undefined });
    const vars = new Map((await res.text()).split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    expect(vars.get('GREETING')).toBe('hi');
    expect(vars.get('API_KEY')).toBe('k');
    expect(vars.has('OTHER_BINDING')).toBe(false);
    expect(vars.get('REMOTE_ADDR')).toBe('203.0.113.9');
    expect(vars.get('HTTP_COOKIE')).toBe('a=1; b=2');
    expect(vars.get('PATH_INFO')).toBe('/a b');
    expect(vars.get('SERVER_PORT')).toBe('443');
    expect(res.headers.has(TIMINGS_HEADER)).toBe(false);
  });

  it('keeps repeated Set-Cookie and binary bodies; adds timings only under the emulator binding', async () => {
    const head = new TextEncoder().encode('Content-Type: application/octet-stream\nSet-Cookie: a=1\nSet-Cookie: b=2\n\n');
    const out = new Uint8Array([...head, 0, 255, 13, 10, 128]);
    const worker = createWorker(await compile(writeOnce({ stdout: out })), config);
    const res = await worker.fetch(new Request('https://x.workers.dev/'), {});
    expect(res.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect([...new Uint8Array(await res.arrayBuffer())]).toEqual([0, 255, 13, 10, 128]);
    expect(res.headers.has(TIMINGS_HEADER)).toBe(false);
    const emulated = await worker.fetch(new Request('https://x.workers.dev/'), { [EMULATOR_BINDING]: '1' });
    expect(emulated.headers.get(TIMINGS_HEADER)).toMatch(/^i=\d+;r=\d+;o=ok$/);
  });

  it('answers the shared 5xx bodies, with the reason only for the emulator', async () => {
    const trap = createWorker(await compile(writeOnce({ stdout: 'Content-Type: text/plain\n\nx', then: 'trap' })), config);
    const res = await trap.fetch(new Request('https://x.workers.dev/'), { [EMULATOR_BINDING]: '1' });
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('500 Internal Server Error\n');
    expect(decodeURIComponent(res.headers.get(REASON_HEADER)!)).toMatch(/^the function trapped/);
    const malformed = createWorker(await compile(writeOnce({ stdout: 'no headers here' })), config);
    const bad = await malformed.fetch(new Request('https://x.workers.dev/'), {});
    expect(bad.status).toBe(502);
    expect(bad.headers.has(REASON_HEADER)).toBe(false);
  });

  it('sends no body with 204 and refuses a status the Response cannot carry with a 502', async () => {
    const noContent = createWorker(await compile(writeOnce({ stdout: 'Status: 204 No Content\n\nignored' })), config);
    const res = await noContent.fetch(new Request('https://x.workers.dev/'), {});
    expect(res.status).toBe(204);
    expect(res.body).toBeNull();
    const weird = createWorker(await compile(writeOnce({ stdout: 'Status: 999 Odd\n\n' })), config);
    expect((await weird.fetch(new Request('https://x.workers.dev/'), {})).status).toBe(502);
  });
});
