// The JavaScript runtime's fetch() against a loopback upstream, in a real build of a function
// that runs one scenario per request: methods, bodies, Request input, headers (repeated
// names), redirect modes with response.url/redirected, AbortSignal (AbortSignal.timeout() is
// the call's own timeout at the host), a denied origin, 3 MiB bytes, and fetch() unavailable at init.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { buildProject } from '../../../src/pipeline/build.js';
import { startDevServer, type DevServer } from '../../../src/project/dev.js';
import { request } from '../../helpers/http.js';
import { itWithToolchain } from '../../helpers/toolchain-gate.js';
import { sha256, startUpstream, testBytes, type Upstream } from '../../helpers/upstream.js';

const SCRIPT = String.raw`
const up = (env, p) => env.UPSTREAM + p;
const attempt = async (run) => {
  try {
    return { ok: await run() };
  } catch (e) {
    return { error: e.name, message: e.message, typeError: e instanceof TypeError };
  }
};
const scenarios = {
  async methods(env) {
    const out = {};
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD']) {
      const r = await fetch(up(env, 'echo'), { method, body: method === 'GET' || method === 'HEAD' ? undefined : 'x' });
      out[method] = method === 'HEAD' ? [r.status, r.body] : (await r.json()).method;
    }
    return out;
  },
  async bodies(env) {
    const echo = async (body, init = {}) => {
      const seen = await (await fetch(up(env, 'echo'), { method: 'POST', body, ...init })).json();
      return [seen.length, seen.sha256, seen.headers['content-type'] ?? null];
    };
    const req = new Request(up(env, 'echo'), { method: 'PUT', body: 'from a Request', headers: { 'x-from': 'request' } });
    const viaRequest = await (await fetch(req)).json();
    return {
      string: await echo('héllo'),
      bytes: await echo(new Uint8Array([0, 1, 2, 255])),
      buffer: await echo(new Uint8Array([9, 8, 7]).buffer),
      params: await echo(new URLSearchParams({ a: '1', b: 'x y' })),
      typed: await echo('{}', { headers: { 'content-type': 'application/json' } }),
      viaRequest: [viaRequest.method, viaRequest.body, viaRequest.headers['x-from']],
    };
  },
  async headers(env) {
    const r = await fetch(up(env, 'headers'), { headers: [['x-a', '1'], ['x-a', '2']] });
    return { setCookie: r.headers.getSetCookie(), multi: r.headers.get('x-multi'), type: r.headers.get('content-type'), text: await r.text() };
  },
  async redirects(env) {
    const follow = await fetch(up(env, 'redirect/302?to=/status/201'));
    const posted = await (await fetch(up(env, 'redirect/303'), { method: 'POST', body: 'gone' })).json();
    const manual = await fetch(up(env, 'redirect/301?to=/x'), { redirect: 'manual' });
    return {
      follow: [follow.status, follow.url.endsWith('/status/201'), follow.redirected, await follow.text()],
      posted: [posted.method, posted.length],
      manual: [manual.status, manual.headers.get('location'), manual.redirected],
      error: await attempt(() => fetch(up(env, 'redirect/302'), { redirect: 'error' })),
      tooMany: await attempt(() => fetch(up(env, 'chain/21'))),
    };
  },
  async signals(env) {
    const controller = new AbortController();
    controller.abort();
    return {
      timeout: await attempt(() => fetch(up(env, 'hang'), { signal: AbortSignal.timeout(300) })),
      aborted: await attempt(() => fetch(up(env, 'echo'), { signal: controller.signal })),
      live: (await fetch(up(env, 'status/200'), { signal: AbortSignal.timeout(20000) })).status,
    };
  },
  async denied() {
    return attempt(() => fetch('http://127.0.0.1:9/x?key=secret'));
  },
  async big(env) {
    return new Response(await (await fetch(up(env, 'bytes?n=' + 3 * 1024 * 1024))).arrayBuffer(), { headers: { 'content-type': 'application/octet-stream' } });
  },
};
let atInit;
try {
  await fetch('http://127.0.0.1:9/');
} catch (e) {
  atInit = e.message;
}
export default {
  async fetch(request, env) {
    const name = new URL(request.url).searchParams.get('s');
    if (name === 'init') return Response.json({ atInit });
    const result = await scenarios[name](env);
    return result instanceof Response ? result : Response.json(result);
  },
};
`;

let upstream: Upstream;
let dev: DevServer;
beforeAll(async () => {
  upstream = await startUpstream();
});
afterAll(async () => {
  await dev?.close();
  await upstream?.close();
});

async function scenario(name: string): Promise<any> {
  const r = await request(`${dev.url}?s=${name}`);
  expect(r.status, r.body.toString()).toBe(200);
  return JSON.parse(r.body.toString());
}

describe('JavaScript fetch()', async () => {
  const it = await itWithToolchain('js');

  it('builds and serves a function that calls fetch()', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'wfn-js-fetch-'));
    await mkdir(path.join(dir, 'src'));
    await writeFile(path.join(dir, 'src', 'index.js'), SCRIPT);
    // The host's own timeout is long: a signal's timeout must end the call by itself.
    await writeFile(path.join(dir, 'wfn.toml'), `name = "fetcher"\nlanguage = "js"\n[env]\nUPSTREAM = "${upstream.url}"\n[outbound]\nallow = ["${upstream.origin}"]\ntimeout_ms = 60000\n[limits]\ntimeout = 30000\n`);
    await buildProject(await loadConfig(dir));
    dev = await startDevServer({ host: '127.0.0.1', port: 0, projectDir: dir, watch: false, log: () => {}, progress: () => {} });
    expect((await scenario('init')).atInit).toMatch(/fetch\(\) is not available while the script initializes/);
  }, 600_000);

  it('every method; HEAD has no body', async () => {
    expect(await scenario('methods')).toEqual({ GET: 'GET', POST: 'POST', PUT: 'PUT', PATCH: 'PATCH', DELETE: 'DELETE', OPTIONS: 'OPTIONS', HEAD: [200, null] });
  });

  it('bodies: string, Uint8Array, ArrayBuffer, URLSearchParams, and a Request as input', async () => {
    const b = await scenario('bodies');
    expect(b.string).toEqual([6, sha256(Buffer.from('héllo')), 'text/plain;charset=UTF-8']);
    expect(b.bytes).toEqual([4, sha256(new Uint8Array([0, 1, 2, 255])), null]);
    expect(b.buffer).toEqual([3, sha256(new Uint8Array([9, 8, 7])), null]);
    expect(b.params).toEqual([9, sha256(Buffer.from('a=1&b=x+y')), 'application/x-www-form-urlencoded;charset=UTF-8']);
    expect(b.typed[2]).toBe('application/json');
    expect(b.viaRequest).toEqual(['PUT', 'from a Request', 'request']);
  });

  it('response headers: repeated set-cookie kept apart, other repeated names joined', async () => {
    expect(await scenario('headers')).toEqual({ setCookie: ['a=1', 'b=2'], multi: 'one, two', type: 'text/plain', text: 'headers' });
  });

  it('redirects: followed with url and redirected set, 303 turns POST into GET, manual returns the 3xx, error and more than 20 reject', async () => {
    const r = await scenario('redirects');
    expect(r.follow).toEqual([201, true, true, 'status 201']);
    expect(r.posted).toEqual(['GET', 0]);
    expect(r.manual).toEqual([301, '/x', false]);
    expect(r.error).toMatchObject({ error: 'TypeError', typeError: true });
    expect(r.tooMany).toMatchObject({ error: 'TypeError', message: 'fetch failed: more than 20 redirects' });
  });

  it('AbortSignal.timeout() ends a call the host would wait 60 s for (TimeoutError); an aborted signal rejects at once (AbortError)', async () => {
    const s = await scenario('signals');
    expect(s.timeout).toMatchObject({ error: 'TimeoutError' });
    expect(s.aborted).toMatchObject({ error: 'AbortError' });
    expect(s.live).toBe(200);
  });

  it('a denied origin rejects with a TypeError naming the origin and the config key, not the path', async () => {
    const d = await scenario('denied');
    expect(d).toEqual({ error: 'TypeError', typeError: true, message: 'fetch failed: outbound request to http://127.0.0.1:9 denied: not in [outbound] allow of wfn.toml' });
  });

  it('3 MiB of binary comes through arrayBuffer() byte for byte', async () => {
    const r = await request(`${dev.url}?s=big`);
    expect(r.status).toBe(200);
    expect(Buffer.compare(r.body, testBytes(3 * 1024 * 1024))).toBe(0);
  });
});
