// The URL a function sees comes from the request line; the Host header is validated and can only
// name the server (SERVER_NAME, SERVER_PORT), never change the path or query. Input the CGI
// environment cannot carry (a NUL, bad percent-encoding) is the client's fault: a 400 logged as a
// bad request, never a 500 counted as a trap. Same on `wfn serve` and `wfn dev`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ECHO_WAT, ENV_DUMP_WAT } from '../fixtures/contract.js';
import { envOf, rawRequest, request } from '../helpers/http.js';
import { wat2wasm } from '../helpers/wat.js';
import { startDevServer, type DevServer } from '../../src/project/dev.js';
import { admin, deploy, startTestServe, tempDir, type TestServer } from './serve/helpers.js';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Hosts no server may accept: path, query or fragment characters, userinfo, bad ports. */
const BAD_HOSTS = ['x/admin?role=root#', 'x?a=b', 'x#frag', 'evil@x', 'x:99999', 'x:0', 'x:12ab', 'a b', '[::1', 'x:80:80'];
/** Request targets whose decoded form the environment cannot carry. */
const BAD_TARGETS = ['%00', 'a%00b', '%zz', '%e0%80', '?a=%00', '?%00=1'];

/** The cases shared by serve and dev; `prefix` is the route of the ENV_DUMP function. */
function requestTargetCases(ctx: () => { base: string; prefix: string; log: () => string[] }) {
  it('a malformed Host header is a 400, and the function never runs', async () => {
    const { base, prefix } = ctx();
    for (const host of BAD_HOSTS) {
      const res = await rawRequest(base, `GET ${prefix}/public?user=guest HTTP/1.1\r\nHost: ${host}`);
      expect([host, res.status]).toEqual([host, 400]);
      expect(res.body.toString()).not.toContain('PATH_INFO');
    }
  });

  it('a valid Host names the server only; path and query come from the request line', async () => {
    const { base, prefix } = ctx();
    const vars = envOf(await rawRequest(base, `GET ${prefix}/public?user=guest HTTP/1.1\r\nHost: Example.COM:8081`));
    expect(vars).toMatchObject({ PATH_INFO: '/public', QUERY_STRING: 'user=guest', SERVER_NAME: 'example.com', SERVER_PORT: '8081', X_FULL_URL: `http://example.com:8081${prefix}/public?user=guest` });
    const ipv6 = envOf(await rawRequest(base, `GET ${prefix}/v6 HTTP/1.1\r\nHost: [::1]`));
    expect(ipv6).toMatchObject({ PATH_INFO: '/v6', SERVER_NAME: '[::1]', SERVER_PORT: '80' });
  });

  it('an absolute-form request line does not put its authority into PATH_INFO', async () => {
    const { base, prefix } = ctx();
    const vars = envOf(await rawRequest(base, `GET http://evil.example:9999${prefix}/public?user=guest HTTP/1.1\r\nHost: x`));
    expect(vars).toMatchObject({ PATH_INFO: '/public', QUERY_STRING: 'user=guest', SERVER_NAME: 'evil.example', SERVER_PORT: '9999' });
    expect((await rawRequest(base, `GET http://evil.example:99999${prefix}/ HTTP/1.1\r\nHost: x`)).status).toBe(400);
    expect((await rawRequest(base, `GET ftp://evil.example${prefix}/ HTTP/1.1\r\nHost: x`)).status).toBe(400);
    // An origin-form target that looks like a network path stays a path.
    expect((await rawRequest(base, `GET //evil.example${prefix}/ HTTP/1.1\r\nHost: x`)).body.toString()).not.toContain('SERVER_NAME=evil.example');
  });

  it('a NUL or bad percent-encoding in the path or query is a 400 logged as a bad request', async () => {
    const { base, prefix, log } = ctx();
    for (const target of BAD_TARGETS) {
      const res = await request(`${base}${prefix}/${target}`);
      expect([target, res.status]).toEqual([target, 400]);
    }
    for (const target of BAD_TARGETS) {
      expect(log().filter((l) => l.startsWith(`GET ${prefix}/${target} 400 `) && /bad request/.test(l)), target).toHaveLength(1);
    }
    // QUERY_STRING is raw: what cannot be decoded stays as it was sent.
    const raw = envOf(await request(`${base}${prefix}/?q=100%&r=%zz`));
    expect(raw.QUERY_STRING).toBe('q=100%&r=%zz');
  });
}

describe('wfn serve: the request target', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServe({ workers: 1 });
    await deploy(server.url, 'env', await wat2wasm(ENV_DUMP_WAT));
    await deploy(server.url, 'echo', await wat2wasm(ECHO_WAT));
  });
  afterAll(() => server.close());

  requestTargetCases(() => ({ base: server.url, prefix: '/env', log: () => server.access }));

  it('bad input is not counted as a function trap', async () => {
    for (const target of ['/echo/%00', '/echo/?a=%00']) expect((await request(`${server.url}${target}`)).status).toBe(400);
    expect((await rawRequest(server.url, 'GET /echo/ HTTP/1.1\r\nHost: x:99999')).status).toBe(400);
    const text = (await admin(server.url, 'metrics')).body.toString();
    for (const fn of ['env', 'echo']) {
      expect(text).toMatch(new RegExp(`^wfn_traps_total\\{function="${fn}"\\} 0$`, 'm'));
      expect(text).not.toMatch(new RegExp(`^wfn_requests_total\\{function="${fn}",status="500"\\}`, 'm'));
    }
    expect(text).toMatch(/^wfn_requests_total\{function="echo",status="400"\} 2$/m);
    expect(text).toMatch(/^wfn_bad_requests_total [1-9]\d*$/m);
    expect(server.messages.join('\n')).not.toMatch(/error|TypeError|\n\s+at /);
  });

  it('the admin API reads its route from the request line too', async () => {
    expect((await rawRequest(server.url, 'GET /_wfn/health HTTP/1.1\r\nHost: x/../functions')).status).toBe(400);
    const absolute = await rawRequest(server.url, 'GET http://elsewhere/_wfn/health HTTP/1.1\r\nHost: x');
    expect([absolute.status, JSON.parse(absolute.body.toString()).status]).toEqual([200, 'ok']);
  });

  it('every request header reaches the function, or the request is refused with 431', async () => {
    const headers = Array.from({ length: 1500 }, (_, i) => `X-H${i}: ${i}`).join('\r\n');
    const vars = envOf(await rawRequest(server.url, `GET /env/ HTTP/1.1\r\nHost: x\r\n${headers}`));
    expect(Object.keys(vars).filter((k) => k.startsWith('HTTP_X_H'))).toHaveLength(1500);
    const tooMany = Array.from({ length: 6000 }, (_, i) => `X-H${i}: ${i}`).join('\r\n');
    expect((await rawRequest(server.url, `GET /env/ HTTP/1.1\r\nHost: x\r\n${tooMany}`)).status).toBe(431);
  });
});

describe('wfn dev: the request target', () => {
  let dev: DevServer;
  const log: string[] = [];
  beforeAll(async () => {
    const file = path.join(await tempDir('dev-target'), 'env.wasm');
    await writeFile(file, await wat2wasm(ENV_DUMP_WAT));
    dev = await startDevServer({ host: '127.0.0.1', port: 0, wasmPath: file, route: '/env', log: (l) => log.push(l), progress: () => {} });
  });
  afterAll(() => dev.close());

  requestTargetCases(() => ({ base: dev.url.replace(/\/$/, ''), prefix: '/env', log: () => log }));
});
