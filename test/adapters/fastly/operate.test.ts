/**
 * Operating a service wfn deployed to Fastly (ls, versions, rollback, rm, logs) against the
 * local fake of the Fastly API (fake-api.ts): deploy twice through the adapter, then operate
 * it; the fake runs the active version's main.wasm in wfn's Fastly emulator and streams its
 * instance output as Fastly's managed logging does.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { adapter, mainWasmPath } from '../../../adapters/fastly/index.js';
import { linesOfLog, nextWindow } from '../../../adapters/fastly/log-stream.js';
import type { Artifact, Bundle, LogLine, OperateOptions } from '../../../src/target/types.js';
import { DEFAULT_OUTBOUND } from '../../../src/runtime/outbound/abi.js';
import { UserError } from '../../../src/util/errors.js';
import { writeOnce } from '../../fixtures/contract.js';
import { until } from '../../helpers/wait.js';
import { wat2wasm } from '../../helpers/wat.js';
import { FakeFastly, TOKEN } from './fake-api.js';
import { text } from './helpers.js';

const fake = new FakeFastly();
const ops = adapter.operations!;
let dir: string;
let first: Bundle;
let second: Bundle;
let serviceId: string;
const logs: string[] = [];

const SECRET = 'canary-secret-0e7d2a';
const env = () => ({ FASTLY_API_TOKEN: TOKEN, FASTLY_API_ENDPOINT: fake.url, API_KEY: SECRET });
const options = (flags: Record<string, unknown> = {}): OperateOptions => ({ env: env(), flags, log: (m) => logs.push(m) });

async function bundleOf(body: string, stderr: string): Promise<Bundle> {
  const wasmPath = path.join(dir, `${body}.wasm`);
  await writeFile(wasmPath, await wat2wasm(writeOnce({ stdout: `Content-Type: text/plain\n\n${body}`, stderr })));
  const artifact: Artifact = { name: 'ops-fn', wasmPath, env: {}, secrets: ['API_KEY'], limits: { memoryMiB: 128, timeoutMs: 10_000 }, outbound: DEFAULT_OUTBOUND, projectDir: path.join(dir, body) };
  return adapter.package(artifact);
}

const mainOf = async (bundle: Bundle) => {
  const main = await readFile(mainWasmPath(bundle));
  return { size: main.length, sha256: createHash('sha256').update(main).digest('hex') };
};

beforeAll(async () => {
  await fake.start();
  dir = await mkdtemp(path.join(os.tmpdir(), 'wfn-fastly-operate-'));
  first = await bundleOf('first', 'one from first\ntwo from first\n');
  second = await bundleOf('second', 'stderr of second\n');
  const deployed = await adapter.deploy(first, { env: env(), flags: {}, log: () => {} });
  serviceId = (deployed.details as { serviceId: string }).serviceId;
  await adapter.deploy(second, { env: env(), flags: {}, log: () => {} });
  // a service wfn did not create: not listed
  fake.services.set('OTHER', { name: 'someone-else', comment: '', created_at: '2025-01-01T00:00:00Z', versions: [] });
}, 120_000);
afterAll(() => fake.close());

describe('fastly operations', () => {
  test('ls lists the services wfn created: active version, main.wasm sha256 and size, URL', async () => {
    const listed = await ops.list(options());
    const active = fake.activeVersion(serviceId)!;
    expect(listed).toEqual([{ name: 'ops-fn', version: '2', ...(await mainOf(second)), deployedAt: active.updated_at, url: `https://${active.domains[0]}/` }]);
    expect(fake.seen.every((s) => s.key === TOKEN)).toBe(true);
    expect(JSON.stringify(listed)).not.toContain(SECRET);
  });

  test('versions lists both, newest first, the active one marked', async () => {
    const versions = await ops.versions('ops-fn', options());
    expect(versions.map(({ version, live, size, sha256 }) => ({ version, live, size, sha256 }))).toEqual([
      { version: '2', live: true, ...(await mainOf(second)) },
      { version: '1', live: false, ...(await mainOf(first)) },
    ]);
    expect(JSON.stringify(versions)).not.toContain(SECRET);
    // by --service-id too
    expect((await ops.versions('whatever', options({ serviceId }))).map((v) => v.version)).toEqual(['2', '1']);
  });

  test('rollback activates the version before the active one, and the first answers again', async () => {
    expect(text((await fake.invoke(serviceId, 'https://ops-fn.edgecompute.app/')).response.body)).toBe('second');
    fake.seen = [];
    expect(await ops.rollback('ops-fn', undefined, options())).toEqual({ from: '2', to: '1' });
    expect(fake.seen.filter((s) => s.method === 'PUT').map((s) => s.path)).toEqual([`/service/${serviceId}/version/1/activate`]);
    expect(fake.activeVersion(serviceId)!.number).toBe(1);
    expect(text((await fake.invoke(serviceId, 'https://ops-fn.edgecompute.app/')).response.body)).toBe('first');
    // --to; the active one again is refused; a version that does not exist is named
    await expect(ops.rollback('ops-fn', '1', options())).rejects.toThrow(/already active/);
    await expect(ops.rollback('ops-fn', '9', options())).rejects.toThrow(`The Fastly service ${serviceId} has no version 9.`);
    expect(await ops.rollback('ops-fn', '2', options())).toEqual({ from: '1', to: '2' });
    expect(await ops.rollback('ops-fn', undefined, options())).toEqual({ from: '2', to: '1' });
  });

  test('logs enable managed logging, show the function\'s stderr, and --follow stops on abort', async () => {
    const lines: LogLine[] = [];
    const abort = new AbortController();
    fake.seen = [];
    const done = ops.logs('ops-fn', { ...options(), follow: true, signal: abort.signal, onLine: (l) => lines.push(l) });
    await until('managed logging enabled', () => fake.managedLogging.has(serviceId));
    await fake.invoke(serviceId, 'https://ops-fn.edgecompute.app/some/path?q=1', { method: 'POST' });
    // the active version is the first (rolled back above): its two stderr lines
    const expected = fake.activeVersion(serviceId)!.number === 1 ? ['one from first', 'two from first'] : ['stderr of second'];
    await until('the stderr lines and the request line', () => lines.filter((l) => l.kind === 'stderr').length >= expected.length && lines.some((l) => l.kind === 'request'));
    abort.abort();
    await done;
    const request = lines.find((l) => l.kind === 'request')!;
    expect(request).toMatchObject({ kind: 'request', method: 'POST', path: '/some/path?q=1', status: 200, outcome: 'ok' });
    expect(request.kind === 'request' && request.durationMs).toBeGreaterThanOrEqual(0);
    expect(lines).toHaveLength(expected.length + 1);
    const stderr = lines.filter((l) => l.kind === 'stderr');
    expect(stderr.map((l) => l.kind === 'stderr' && l.text)).toEqual(expected);
    expect(Date.parse(stderr[0].time)).not.toBeNaN();
    expect(fake.seen.find((s) => s.method === 'POST')).toMatchObject({ path: `/service/${serviceId}/log_stream/managed/instance_output` });
    expect(fake.seen.some((s) => s.method === 'GET' && s.path.startsWith(`/service/${serviceId}/log_stream/managed/instance_output`))).toBe(true);
    expect(JSON.stringify(lines)).not.toContain(TOKEN);
    expect(JSON.stringify(lines)).not.toContain(SECRET);
    expect(logs.join('\n')).not.toContain(SECRET);

    // without --follow: what is there since --since, then it returns (managed logging is on already: 409 is fine)
    const past: LogLine[] = [];
    await ops.logs('ops-fn', { ...options(), follow: false, since: new Date(Date.now() - 60_000), signal: new AbortController().signal, onLine: (l) => past.push(l) });
    expect(past.filter((l) => l.kind === 'stderr').map((l) => l.kind === 'stderr' && l.text)).toEqual(expected);
  }, 30_000);

  test('an account without log tailing gets Fastly\'s answer and what to ask for', async () => {
    fake.noLogTailing = true;
    try {
      const error = (await ops.logs('ops-fn', { ...options(), follow: true, signal: new AbortController().signal, onLine: () => {} }).catch((e: unknown) => e)) as UserError;
      expect(error).toBeInstanceOf(UserError);
      expect(error.message).toBe(`Fastly API POST /service/${serviceId}/log_stream/managed/instance_output failed (HTTP 403): Forbidden: Log tailing is not enabled for this customer`);
      expect(error.hint).toContain('Fastly support can enable it');
    } finally {
      fake.noLogTailing = false;
    }
  });

  test('maps instance output: the adapter\'s request line on stdout, stderr lines, the Link header', () => {
    const at = Date.parse('2026-03-01T10:00:00Z') * 1000;
    expect(linesOfLog({ stream: 'stdout', request_start_us: at, message: 'wfn-request 502 1250 error GET /a?b=1' })).toEqual([
      { kind: 'request', time: '2026-03-01T10:00:00.000Z', method: 'GET', path: '/a?b=1', status: 502, durationMs: 1.25, outcome: 'error' },
    ]);
    expect(linesOfLog({ stream: 'stderr', request_start_us: at, message: 'a\nb\n' })).toEqual([
      { kind: 'stderr', time: '2026-03-01T10:00:00.000Z', text: 'a' },
      { kind: 'stderr', time: '2026-03-01T10:00:00.000Z', text: 'b' },
    ]);
    // stdout that is not the adapter's line (a module built for Fastly printing): shown as it is
    expect(linesOfLog({ stream: 'stdout', request_start_us: at, message: 'hello' })).toEqual([{ kind: 'stderr', time: '2026-03-01T10:00:00.000Z', text: 'hello' }]);
    expect(nextWindow('</service/S/log_stream/managed/instance_output?from=5>; rel="prev", </service/S/log_stream/managed/instance_output?from=17>; rel="next"')).toBe(17);
    expect(nextWindow(null)).toBeUndefined();
  });

  test('rm deactivates and deletes the service; a second rm says it was already gone', async () => {
    expect(ops.describe('ops-fn', options())).toBe('the Fastly service "ops-fn"');
    expect(ops.describe('ops-fn', options({ serviceId }))).toBe(`the Fastly service ${serviceId}`);
    fake.seen = [];
    expect(await ops.remove('ops-fn', options())).toEqual({ removed: true });
    // (a log stream request the previous test aborted may still reach the fake: not part of rm)
    expect(fake.seen.filter((s) => !s.path.includes('/log_stream/')).map((s) => `${s.method} ${s.path}`)).toEqual([
      'GET /service/search?name=ops-fn',
      `GET /service/${serviceId}/version`,
      `PUT /service/${serviceId}/version/1/deactivate`,
      `DELETE /service/${serviceId}`,
    ]);
    expect(fake.services.has(serviceId)).toBe(false);
    expect(await ops.remove('ops-fn', options())).toEqual({ removed: false });
    expect(await ops.remove('ops-fn', options({ serviceId }))).toEqual({ removed: false });
    await expect(ops.versions('ops-fn', options())).rejects.toThrow('There is no Fastly service named "ops-fn".');
    expect(await ops.list(options())).toEqual([]);
  });

  test('a missing token names FASTLY_API_TOKEN; an API error says what Fastly answered, never the token', async () => {
    const missing = await ops.list({ env: {}, flags: {}, log: () => {} }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(UserError);
    expect((missing as Error).message).toBe('FASTLY_API_TOKEN is not set.');
    fake.rejectAuth = true;
    try {
      const denied = (await ops.versions('ops-fn', options()).catch((e: unknown) => e)) as UserError;
      expect(denied.message).toBe('Fastly API GET /service/search?name=ops-fn failed (HTTP 401): Provided credentials are missing or invalid');
      expect(denied.hint).toContain('FASTLY_API_TOKEN');
      expect(`${denied.message}${denied.hint}`).not.toContain(TOKEN);
    } finally {
      fake.rejectAuth = false;
    }
    await expect(ops.versions('x', options({ serviceId: '../etc' }))).rejects.toThrow(/is not a Fastly service ID/);
  });
});
