// Operating what is deployed on a real `wfn serve` (in-process): the adapter's operations and
// the CLI commands (ls, versions, rollback, logs --follow, rm) against it, and the admin API's
// logs endpoint (token, bounds, a reader that leaves).
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { adapter } from '../../../adapters/self-hosted/index.js';
import { capturingLog, FunctionLogs, RING_BYTES, RING_LINES } from '../../../src/server/serve/function-logs.js';
import type { Bundle, LogLine } from '../../../src/target/types.js';
import { MAX_LOG_TEXT } from '../../../src/target/log-line.js';
import { writeOnce } from '../../fixtures/contract.js';
import { wfn, wfnBackground } from '../../helpers/cli.js';
import { request } from '../../helpers/http.js';
import { wat2wasm } from '../../helpers/wat.js';
import { admin, startTestServe, tempDir, TOKEN, type TestServer } from '../../server/serve/helpers.js';

const SECRET = 'sup3r-s3cret-value';

describe('self-hosted operations against wfn serve', () => {
  let server: TestServer;
  let v1: Bundle;
  let v2: Bundle;
  let env: NodeJS.ProcessEnv;
  const quiet = () => {};
  const opts = () => ({ env, flags: { url: server.url }, log: quiet });

  async function bundle(dir: string, body: string): Promise<Bundle> {
    const wasmPath = path.join(dir, `${body}.wasm`);
    await writeFile(wasmPath, await wat2wasm(writeOnce({ stdout: `Content-Type: text/plain\n\n${body}`, stderr: `stderr of ${body}\nsecond line\n` })));
    return adapter.package({ name: 'ops', wasmPath, env: { PLAIN: 'p' }, secrets: ['API_KEY'], limits: { memoryMiB: 32, timeoutMs: 4000 }, outbound: { allow: [] } as never, kv: { stores: [] }, projectDir: path.join(dir, body) });
  }

  beforeAll(async () => {
    server = await startTestServe();
    const dir = await tempDir('operate');
    v1 = await bundle(dir, 'one');
    v2 = await bundle(dir, 'two');
    env = { WFN_TOKEN: TOKEN, API_KEY: SECRET };
    await adapter.deploy(v1, { ...opts() });
    await adapter.deploy(v2, { ...opts() });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('lists the function with its live version, size, sha256 and when; versions shows both', async () => {
    const ops = adapter.operations!;
    const list = await ops.list(opts());
    expect(list).toEqual([{ name: 'ops', version: '2', size: expect.any(Number), sha256: expect.stringMatching(/^[0-9a-f]{64}$/), deployedAt: expect.any(String), url: `${server.url}/ops/` }]);
    const versions = await ops.versions('ops', opts());
    expect(versions.map((v) => [v.version, v.live])).toEqual([['2', true], ['1', false]]);
    expect(versions[0].sha256).toBe(list[0].sha256);
    expect(versions[1].sha256).not.toBe(versions[0].sha256);
    expect(ops.describe('ops', opts())).toBe(`function ops on wfn serve at ${server.url}`);
    await expect(ops.versions('nope', opts())).rejects.toThrow(/There is no function nope on/);
    expect(JSON.stringify([list, versions])).not.toContain(SECRET);
  });

  it('the CLI: ls and versions (--json too), rollback serves the first version again, then forward with --to', async () => {
    const cliEnv = { WFN_TOKEN: TOKEN };
    const ls = await wfn(['ls', '--target', 'self-hosted', '--url', server.url], { env: cliEnv });
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.stdout).toMatch(/^ops {2}version 2 {2}\d+ B {2}sha256 [0-9a-f]{12} {2}\S+Z {2}http:\/\/127\.0\.0\.1:\d+\/ops\/$/m);
    const lsJson = await wfn(['ls', '--target', 'self-hosted', '--url', server.url, '--json'], { env: cliEnv });
    expect(JSON.parse(lsJson.stdout)).toMatchObject({ target: 'self-hosted', functions: [{ name: 'ops', version: '2' }] });
    const versions = await wfn(['versions', '--target', 'self-hosted', '--url', server.url, '--name', 'ops'], { env: cliEnv });
    expect(versions.stdout).toMatch(/^\* 2 .*\n {2}1 /m);

    expect((await request(`${server.url}/ops/`)).body.toString()).toBe('two');
    const back = await wfn(['rollback', '--target', 'self-hosted', '--url', server.url, '--name', 'ops'], { env: cliEnv });
    expect(back.code, back.stderr).toBe(0);
    expect(back.stderr).toContain(`function ops on wfn serve at ${server.url}: making the version before the live one live again`);
    expect(back.stdout).toContain('Rolled ops back from version 2 to version 1.');
    expect((await request(`${server.url}/ops/`)).body.toString()).toBe('one');
    const forward = await wfn(['rollback', '--target', 'self-hosted', '--url', server.url, '--name', 'ops', '--to', '2', '--json'], { env: cliEnv });
    expect(JSON.parse(forward.stdout)).toMatchObject({ from: '1', to: '2' });
    expect((await request(`${server.url}/ops/`)).body.toString()).toBe('two');
    const bad = await wfn(['rollback', '--target', 'self-hosted', '--url', server.url, '--name', 'ops', '--to', '9'], { env: cliEnv });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/ops has no version 9 \(kept: 1, 2\)/);
    for (const r of [ls, lsJson, versions, back, forward]) expect(r.stdout + r.stderr).not.toContain(SECRET);
  });

  it('logs --follow shows the requests made after it started and the stderr lines, NDJSON with --json; Ctrl-C ends it cleanly', async () => {
    const follow = await wfnBackground(['logs', '--target', 'self-hosted', '--url', server.url, '--name', 'ops', '--follow', '--json'], /following the logs of function ops/, { env: { WFN_TOKEN: TOKEN, WFN_PROGRESS: '1' } });
    await request(`${server.url}/ops/after?x=1`);
    await request(`${server.url}/ops/again`, { method: 'POST' });
    const deadline = Date.now() + 20_000;
    const lines = () =>
      follow
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as LogLine);
    while (lines().filter((l) => l.kind === 'request').length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    follow.child.kill('SIGINT');
    const code = await new Promise((r) => (follow.child.exitCode !== null ? r(follow.child.exitCode) : follow.child.once('exit', r)));
    expect(code).toBe(0);
    const got = lines();
    expect(got.filter((l) => l.kind === 'request')).toEqual([
      { kind: 'request', time: expect.any(String), method: 'GET', path: '/ops/after?x=1', status: 200, durationMs: expect.any(Number), outcome: 'ok' },
      { kind: 'request', time: expect.any(String), method: 'POST', path: '/ops/again', status: 200, durationMs: expect.any(Number), outcome: 'ok' },
    ]);
    expect(got.filter((l) => l.kind === 'stderr').map((l) => (l as { text: string }).text)).toEqual(['stderr of two', 'second line', 'stderr of two', 'second line']);
    expect(follow.output()).not.toContain(SECRET);
    // The server forgot the reader that left.
    const deadline2 = Date.now() + 10_000;
    while (followers(server) > 0 && Date.now() < deadline2) await new Promise((r) => setTimeout(r, 20));
    expect(followers(server)).toBe(0);

    // Without --follow: what is kept since --since, in the one text format.
    const text = await wfn(['logs', '--target', 'self-hosted', '--url', server.url, '--name', 'ops', '--since', '1h'], { env: { WFN_TOKEN: TOKEN } });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^\S+Z GET \/ops\/after\?x=1 200 [\d.]+ms ok$/m);
    expect(text.stdout).toMatch(/^\S+Z stderr: stderr of two$/m);
  });

  it('the logs endpoint: 401 without the token, 404 for no function, 400 for a bad since', async () => {
    expect((await admin(server.url, 'functions/ops/logs', { token: null })).status).toBe(401);
    expect((await admin(server.url, 'functions/ops/logs', { token: 'wrong' })).status).toBe(401);
    expect((await admin(server.url, 'functions/nope/logs')).status).toBe(404);
    expect((await admin(server.url, 'functions/ops/logs?since=yesterday')).status).toBe(400);
    expect((await admin(server.url, 'functions/ops/logs', { method: 'POST' })).status).toBe(405);
    const all = await admin(server.url, 'functions/ops/logs');
    expect(all.status).toBe(200);
    expect(all.headers).toContainEqual(['content-type', 'application/x-ndjson; charset=utf-8']);
    await expect(adapter.operations!.logs('ops', { ...opts(), env: { WFN_TOKEN: 'wrong' }, follow: false, signal: new AbortController().signal, onLine: () => {} })).rejects.toThrow(/refused the admin token \(401\)/);
  });

  it('a follower that disconnects is removed; closing the server ends the streams', async () => {
    const other = await startTestServe();
    await adapter.deploy(v1, { env, flags: { url: other.url }, log: quiet });
    const req = http.get(`${other.url}/_wfn/functions/ops/logs?follow=1`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const res = await new Promise<http.IncomingMessage>((resolve) => req.once('response', resolve));
    expect(res.statusCode).toBe(200);
    expect(followers(other)).toBe(1);
    req.destroy();
    const deadline = Date.now() + 10_000;
    while (followers(other) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(followers(other)).toBe(0);

    // Readers that are gone before the server has looked the function up leave no follower behind
    // (the lookup is slowed down so that they are surely gone by then).
    const lookup = other.repository.get.bind(other.repository);
    other.repository.get = async (name: string) => {
      await new Promise((r) => setTimeout(r, 300));
      return lookup(name);
    };
    const { port } = new URL(other.url);
    await Promise.all(
      Array.from({ length: 30 }, () => new Promise<void>((resolve) => {
        const socket = net.connect(Number(port), '127.0.0.1', () => {
          socket.write(`GET /_wfn/functions/ops/logs?follow=1 HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${TOKEN}\r\n\r\n`);
          // Sent, and being looked up: now leave.
          setTimeout(() => {
            socket.destroy();
            resolve();
          }, 100);
        });
        socket.on('error', () => resolve());
      })),
    );
    // Each was answered (its access line is written when its stream ends), none is still followed.
    const deadline3 = Date.now() + 10_000;
    while (followers(other) > 0 && Date.now() < deadline3) await new Promise((r) => setTimeout(r, 50));
    expect(followers(other)).toBe(0);
    await vi.waitFor(() => expect(other.access.filter((l) => l.startsWith('GET /_wfn/functions/ops/logs ')).length).toBe(31), { timeout: 10_000 });
    other.repository.get = lookup;

    // A reader still following when the server closes does not hold the shutdown.
    const lines: LogLine[] = [];
    const reading = adapter.operations!.logs('ops', { env, flags: { url: other.url }, log: quiet, follow: true, signal: new AbortController().signal, onLine: (l) => lines.push(l) });
    while (followers(other) === 0) await new Promise((r) => setTimeout(r, 20));
    await request(`${other.url}/ops/`);
    const started = Date.now();
    await other.close();
    await reading;
    expect(Date.now() - started).toBeLessThan(5000);
    expect(lines.map((l) => l.kind)).toEqual(['stderr', 'stderr', 'request']);
  });

  it('a follower that does not read is cut off once 1 MiB piles up, not buffered without bound', async () => {
    const req = http.get(`${server.url}/_wfn/functions/ops/logs?follow=1`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const res = await new Promise<http.IncomingMessage>((resolve) => req.once('response', resolve));
    res.pause(); // reads nothing more: the kernel's buffers fill, then the server's
    res.on('error', () => {});
    req.on('error', () => {});
    expect(followers(server)).toBe(1);
    // 4 KiB lines until the server gives up on the reader (kernel buffers on loopback hold a few MiB).
    const text = 'y'.repeat(4000);
    let pushed = 0;
    for (let i = 0; i < 20_000 && followers(server) > 0; i++, pushed++) {
      server.functionLogs.push('ops', { kind: 'stderr', time: new Date().toISOString(), text });
      if (i % 500 === 0) await new Promise((r) => setImmediate(r));
    }
    expect(followers(server)).toBe(0);
    // Cut off after about 1 MiB plus what the kernel held, long before the 80 MB it was offered.
    expect(pushed).toBeLessThan(5000);
    req.destroy();
  });

  it('rm asks first (refuses without --yes off a terminal), deletes, and a second rm says it is already gone', async () => {
    const cliEnv = { WFN_TOKEN: TOKEN };
    const refused = await wfn(['rm', '--target', 'self-hosted', '--url', server.url, '--name', 'ops'], { env: cliEnv });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`This deletes function ops on wfn serve at ${server.url}, with all its versions.`);
    expect(refused.stderr).toMatch(/pass --yes to confirm/);
    expect((await request(`${server.url}/ops/`)).status).toBe(200);
    const removed = await wfn(['rm', '--target', 'self-hosted', '--url', server.url, '--name', 'ops', '--yes', '--json'], { env: cliEnv });
    expect(removed.code, removed.stderr).toBe(0);
    expect(JSON.parse(removed.stdout)).toMatchObject({ removed: true, cancelled: false });
    expect((await request(`${server.url}/ops/`)).status).toBe(404);
    const again = await wfn(['rm', '--target', 'self-hosted', '--url', server.url, '--name', 'ops', '--yes'], { env: cliEnv });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('ops is already gone: nothing to delete');
    expect((await adapter.operations!.list(opts())).map((f) => f.name)).not.toContain('ops');
  });
});

describe('FunctionLogs', () => {
  it('keeps at most RING_LINES lines per function, oldest dropped, and filters by since', () => {
    const logs = new FunctionLogs();
    for (let i = 0; i < RING_LINES + 5; i++) logs.push('f', { kind: 'stderr', time: new Date(Date.UTC(2026, 0, 1, 0, 0, i % 60, i)).toISOString(), text: String(i) });
    const kept = logs.recent('f');
    expect(kept).toHaveLength(RING_LINES);
    expect((kept[0] as { text: string }).text).toBe('5');
    expect((kept.at(-1) as { text: string }).text).toBe(String(RING_LINES + 4));
    logs.drop('f');
    expect(logs.recent('f')).toEqual([]);
  });

  it('keeps about RING_BYTES per function however long the lines', () => {
    const logs = new FunctionLogs();
    const text = 'z'.repeat(MAX_LOG_TEXT);
    for (let i = 0; i < RING_LINES; i++) logs.push('f', { kind: 'stderr', time: new Date().toISOString(), text });
    const kept = logs.recent('f');
    expect(kept.length).toBeLessThan(RING_LINES);
    expect(kept.reduce((n, l) => n + (l as { text: string }).text.length, 0)).toBeLessThanOrEqual(RING_BYTES);
    expect(kept.length).toBeGreaterThan(RING_BYTES / (MAX_LOG_TEXT + 64) - 2);
  });

  it("cuts a function's long stderr line and its terminal control characters", () => {
    const logs = new FunctionLogs();
    const seen: string[] = [];
    const log = capturingLog({ access: () => {}, info: () => {}, warn: () => {}, error: () => {}, functionStderr: (_n, t) => seen.push(t) }, logs);
    log.functionStderr('f', `${'x'.repeat(MAX_LOG_TEXT * 10)}\n\u001b[2Jcleared\n`);
    const [long, escape] = logs.recent('f') as { text: string }[];
    expect(long.text.length).toBeLessThan(MAX_LOG_TEXT + 64);
    expect(long.text).toMatch(/… \(\d+ more characters\)$/);
    expect(escape.text).toBe('\uFFFD[2Jcleared');
    expect(seen).toHaveLength(1); // the server's own log still gets it
    // Admin requests and requests for no function are no function's log.
    log.access({ function: '_wfn', method: 'GET', path: '/_wfn/functions', totalMs: 1, status: 200 });
    log.access({ method: 'GET', path: '/nope/', totalMs: 1, status: 404 });
    expect(logs.recent('_wfn')).toEqual([]);
    expect(logs.recent('f')).toHaveLength(2);
  });
});

function followers(server: TestServer): number {
  return server.functionLogs.followerCount;
}
