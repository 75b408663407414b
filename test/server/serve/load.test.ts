// A bounded load test on loopback (autocannon): every request is answered with 200, zero
// errors, and the server's own counts agree (nothing lost, nothing extra).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLoad } from '../../../src/bench/load.js';
import { ECHO_WAT } from '../../fixtures/contract.js';
import { wat2wasm } from '../../helpers/wat.js';
import { admin, deploy, startTestServe, type TestServer } from './helpers.js';

const REQUESTS = 2000;

describe('wfn serve under load', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServe({ queue: 256 });
    expect((await deploy(server.url, 'echo', await wat2wasm(ECHO_WAT))).status).toBe(201);
  });
  afterAll(async () => {
    await server?.close();
  });

  it(`answers all ${REQUESTS} requests from 32 connections with 200 and no errors`, async () => {
    const result = await runLoad(`${server.url}/echo/?load=1`, { durationS: 60, connections: 32, amount: REQUESTS });
    expect(result).toMatchObject({ requests: REQUESTS, ok: REQUESTS, errors: 0, timeouts: 0, non2xx: 0 });
    const text = (await admin(server.url, 'metrics')).body.toString();
    expect(/^wfn_requests_total\{function="echo",status="200"\} (\d+)$/m.exec(text)?.[1]).toBe(String(REQUESTS));
    expect(/^wfn_requests_total\{function="echo",status="503"\}/m.test(text)).toBe(false);
    expect(server.access.filter((l) => l.startsWith('GET /echo/?load=1 200 '))).toHaveLength(REQUESTS);
    expect(server.inFlight()).toBe(0);
  });
});
