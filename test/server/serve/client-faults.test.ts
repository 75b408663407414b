// What a misbehaving client leaves in the log: one line each, never a stack trace, and the
// access line is always there (a chunked admin upload over the limit once logged a TypeError
// about the socket's remoteAddress instead; every client abort logged a full stack).
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ECHO_WAT } from '../../fixtures/contract.js';
import { rawRequest } from '../../helpers/http.js';
import { wat2wasm } from '../../helpers/wat.js';
import { deploy, startTestServe, TOKEN, type TestServer } from './helpers.js';

/** Resolves once `check` holds, polling the in-memory log (bounded: a hang fails the test, not the suite). */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!check()) throw new Error(`never happened: ${what}`);
}

/** Sends the head and part of a body, then drops the connection. */
function abortMidBody(base: string, head: string, sent: number): Promise<void> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), hostname, () => {
      socket.write(`${head}\r\n\r\n${'x'.repeat(sent)}`, () => setTimeout(() => socket.destroy(), 50));
    });
    socket.on('close', () => resolve());
    socket.on('error', () => {});
  });
}

describe('wfn serve: client faults in the log', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServe({ workers: 1, maxBodyBytes: 64 * 1024 });
    await deploy(server.url, 'echo', await wat2wasm(ECHO_WAT));
  });
  afterAll(() => server.close());

  /** The log lines (access and messages) written while `act` runs and just after. */
  async function linesOf(act: () => Promise<void>): Promise<string[]> {
    const [a, m] = [server.access.length, server.messages.length];
    await act();
    await until(() => server.access.length + server.messages.length > a + m, 'a log line');
    await new Promise((r) => setTimeout(r, 100)); // room for a second line, if any were written
    return [...server.access.slice(a), ...server.messages.slice(m)];
  }

  const noStack = () => expect(server.messages.join('\n')).not.toMatch(/TypeError|\n\s+at |^error:/m);

  it('a chunked admin upload over the limit is a 413 with its access line and no TypeError', async () => {
    const chunk = 'x'.repeat(16 * 1024);
    const body = Array.from({ length: 8 }, () => `${(chunk.length).toString(16)}\r\n${chunk}\r\n`).join('') + '0\r\n\r\n';
    const res = await rawRequest(server.url, `PUT /_wfn/functions/big HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/wasm\r\nTransfer-Encoding: chunked`, body);
    expect(res.status).toBe(413);
    await until(() => server.access.some((l) => l.startsWith('PUT /_wfn/functions/big 413 ')), 'the access line of the refused upload');
    noStack();
  });

  it('a client that hangs up mid-body leaves one log line, not a stack trace', async () => {
    const lines = await linesOf(() => abortMidBody(server.url, 'POST /echo/ HTTP/1.1\r\nHost: x\r\nContent-Length: 60000', 1000));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^POST \/echo\/ 499 .*client closed the connection/);
    noStack();
  });

  it('so does one that hangs up mid-upload on the admin API', async () => {
    const lines = await linesOf(() => abortMidBody(server.url, `PUT /_wfn/functions/half HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/wasm\r\nContent-Length: 60000`, 1000));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^PUT \/_wfn\/functions\/half 499 .*client closed the connection/);
    noStack();
  });
});
