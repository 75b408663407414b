/** performFetch (the network side every Node host and the Worker run) against a loopback upstream. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_OUTBOUND, OUTBOUND_ERROR, type OutboundRequest, type OutboundResult, type OutboundSettings } from '../../src/runtime/outbound/abi.js';
import { performFetch } from '../../src/runtime/outbound/fetch.js';
import { OutboundPolicy } from '../../src/runtime/outbound/policy.js';
import { closedPort, sha256, startUpstream, testBytes, type Upstream } from '../helpers/upstream.js';

let upstream: Upstream;
let other: Upstream;
beforeAll(async () => {
  [upstream, other] = await Promise.all([startUpstream(), startUpstream()]);
});
afterAll(async () => {
  await Promise.all([upstream.close(), other.close()]);
});

const text = (b: Uint8Array) => new TextDecoder().decode(b);

function call(request: Partial<OutboundRequest> & { url: string }, settings: Partial<OutboundSettings> = {}, signal?: AbortSignal): Promise<OutboundResult> {
  const full: OutboundSettings = { ...DEFAULT_OUTBOUND, allow: [upstream.origin], ...settings };
  return performFetch({ method: 'GET', headers: [], body: new Uint8Array(0), followRedirects: true, ...request }, { policy: new OutboundPolicy(full.allow), settings: full, signal });
}

function ok(result: OutboundResult) {
  if ('error' in result) throw new Error(`expected a response, got ${result.error.message}`);
  return result.response;
}

function failed(result: OutboundResult) {
  if (!('error' in result)) throw new Error(`expected an error, got status ${result.response.status}`);
  return result.error;
}

describe('performFetch', () => {
  it('sends method, headers and body; answers status, lower-case headers and body', async () => {
    const body = testBytes(1000);
    const response = ok(await call({ method: 'PUT', url: `${upstream.url}echo?x=1`, headers: [['x-a', '1'], ['x-a', '2'], ['content-type', 'application/x-test']], body }));
    expect(response.status).toBe(200);
    expect(response.headers).toContainEqual(['content-type', 'application/json']);
    const seen = JSON.parse(text(response.body));
    expect(seen).toMatchObject({ method: 'PUT', url: '/echo?x=1', length: 1000, sha256: sha256(body) });
    expect(seen.headers['x-a']).toBe('1, 2');
    expect(seen.headers['content-type']).toBe('application/x-test');
  });

  it('a 3 MiB binary body comes through byte for byte', async () => {
    const response = ok(await call({ url: `${upstream.url}bytes?n=${3 * 1024 * 1024}` }));
    expect(response.body.length).toBe(3 * 1024 * 1024);
    expect(Buffer.compare(Buffer.from(response.body), testBytes(3 * 1024 * 1024))).toBe(0);
  });

  it('repeated response headers: set-cookie lines kept apart, others joined as fetch joins them', async () => {
    const response = ok(await call({ url: `${upstream.url}headers` }));
    expect(response.headers.filter(([k]) => k === 'set-cookie')).toEqual([['set-cookie', 'a=1'], ['set-cookie', 'b=2']]);
    expect(response.headers).toContainEqual(['x-multi', 'one, two']);
  });

  it('follows redirects (303 after POST becomes GET without body) and drops credentials for another origin', async () => {
    const response = ok(await call({ method: 'POST', url: `${upstream.url}redirect/303?to=${encodeURIComponent(`${other.url}echo`)}`, headers: [['authorization', 'Bearer k'], ['content-type', 'text/plain'], ['x-keep', '1']], body: new TextEncoder().encode('payload') }, { allow: [upstream.origin, other.origin] }));
    const seen = JSON.parse(text(response.body));
    expect(seen).toMatchObject({ method: 'GET', url: '/echo', length: 0 });
    expect(seen.headers.authorization).toBeUndefined();
    expect(seen.headers['content-type']).toBeUndefined();
    expect(seen.headers['x-keep']).toBe('1');
    // 307 keeps method and body.
    const kept = JSON.parse(text(ok(await call({ method: 'POST', url: `${upstream.url}redirect/307`, body: new TextEncoder().encode('payload') })).body));
    expect(kept).toMatchObject({ method: 'POST', length: 7 });
  });

  it('a redirect to an origin outside the allow list is refused (DENIED, naming both origins)', async () => {
    const error = failed(await call({ url: `${upstream.url}redirect/302?to=${encodeURIComponent(`${other.url}echo`)}` }));
    expect(error.code).toBe(OUTBOUND_ERROR.DENIED);
    expect(error.message).toBe(`outbound request to ${upstream.origin} redirected to ${other.origin}, denied: not in [outbound] allow of wfn.toml`);
  });

  it('without FOLLOW_REDIRECTS the 3xx comes back; more than 20 redirects fail', async () => {
    const response = ok(await call({ url: `${upstream.url}redirect/302`, followRedirects: false }));
    expect(response.status).toBe(302);
    expect(response.headers).toContainEqual(['location', '/echo']);
    expect(ok(await call({ url: `${upstream.url}chain/20` })).status).toBe(200);
    const error = failed(await call({ url: `${upstream.url}chain/21` }));
    expect(error).toEqual({ code: OUTBOUND_ERROR.FAILED, message: `outbound request to ${upstream.origin} failed: more than 20 redirects` });
  });

  it('a body over max_response_bytes is TOO_LARGE', async () => {
    const error = failed(await call({ url: `${upstream.url}bytes?n=5000` }, { maxResponseBytes: 4999 }));
    expect(error.code).toBe(OUTBOUND_ERROR.TOO_LARGE);
    expect(error.message).toMatch(/larger than 4999 bytes \(\[outbound\] max_response_bytes of wfn.toml\)/);
    expect(ok(await call({ url: `${upstream.url}bytes?n=5000` }, { maxResponseBytes: 5000 })).body.length).toBe(5000);
  });

  it('an upstream that never answers ends at the call timeout; the call\'s own timeout wins when shorter', async () => {
    const [configured, own] = await Promise.all([
      call({ url: `${upstream.url}hang` }, { timeoutMs: 300 }),
      call({ url: `${upstream.url}hang`, timeoutMs: 200 }, { timeoutMs: 60_000 }),
    ]);
    expect(failed(configured)).toEqual({ code: OUTBOUND_ERROR.TIMEOUT, message: `outbound request to ${upstream.origin} timed out after 300 ms ([outbound] timeout_ms of wfn.toml)` });
    expect(failed(own)).toEqual({ code: OUTBOUND_ERROR.TIMEOUT, message: `outbound request to ${upstream.origin} timed out after 200 ms (the timeout the function set for this call)` });
  });

  it('an unreachable upstream is UNREACHABLE; an ended invocation aborts the call', async () => {
    const port = await closedPort();
    const error = failed(await call({ url: `http://127.0.0.1:${port}/` }, { allow: [`http://127.0.0.1:${port}`] }));
    expect(error).toEqual({ code: OUTBOUND_ERROR.UNREACHABLE, message: `outbound request to http://127.0.0.1:${port} failed: connection refused (ECONNREFUSED)` });
    const ended = new AbortController();
    const pending = call({ url: `${upstream.url}hang` }, {}, ended.signal);
    while (upstream.hanging() === 0) await new Promise((r) => setTimeout(r, 5));
    ended.abort();
    expect(failed(await pending)).toEqual({ code: OUTBOUND_ERROR.FAILED, message: `outbound request to ${upstream.origin} failed: the invocation ended` });
  });
});
