// Operating a Worker wfn deployed (ls, versions, rollback, rm, logs) against the local fake of
// the Cloudflare API (fake-api.ts): deploy twice through the adapter, then operate it; the fake
// runs the live version's uploaded worker.js as the edge would and streams its Workers Tail.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adapter } from '../../../adapters/cloudflare/index.js';
import { linesOfEvent } from '../../../adapters/cloudflare/tail.js';
import type { Artifact, Bundle, LogLine, OperateOptions } from '../../../src/target/types.js';
import { DEFAULT_OUTBOUND } from '../../../src/runtime/outbound/abi.js';
import { UserError } from '../../../src/util/errors.js';
import { writeOnce } from '../../fixtures/contract.js';
import { until } from '../../helpers/wait.js';
import { wat2wasm } from '../../helpers/wat.js';
import { ACCOUNT, FakeCloudflare, TOKEN } from './fake-api.js';

const SECRET = 'very-secret-value-7d1f';
const fake = new FakeCloudflare();
const ops = adapter.operations!;
let dir: string;
let first: Bundle;
let second: Bundle;
const logs: string[] = [];

const env = (extra: Record<string, string> = {}) => ({ CLOUDFLARE_API_TOKEN: TOKEN, CLOUDFLARE_ACCOUNT_ID: ACCOUNT, CLOUDFLARE_API_BASE_URL: fake.base, API_KEY: SECRET, ...extra });
const options = (extra: Record<string, string> = {}): OperateOptions => ({ env: env(extra), flags: {}, log: (m) => logs.push(m) });

async function bundleOf(name: string, body: string, stderr: string): Promise<Bundle> {
  const wasmPath = path.join(dir, `${name}-${body}.wasm`);
  await writeFile(wasmPath, await wat2wasm(writeOnce({ stdout: `Content-Type: text/plain\n\n${body}`, stderr })));
  const artifact: Artifact = { name, wasmPath, env: { GREETING: 'hello' }, secrets: ['API_KEY'], limits: { memoryMiB: 16, timeoutMs: 5000 }, outbound: DEFAULT_OUTBOUND, projectDir: path.join(dir, `${name}-${body}`) };
  return adapter.package(artifact);
}

const sha256Of = async (bundle: Bundle) => {
  const { readFile } = await import('node:fs/promises');
  const wasm = await readFile(path.join(bundle.dir, `${bundle.name}.wasm`));
  return { sha256: createHash('sha256').update(wasm).digest('hex'), size: wasm.length };
};

beforeAll(async () => {
  await fake.start();
  dir = await mkdtemp(path.join(tmpdir(), 'wfn-cf-operate-'));
  first = await bundleOf('hello-ops', 'first', 'one from first\ntwo from first\n');
  second = await bundleOf('hello-ops', 'second', 'stderr of second\n');
  await adapter.deploy(first, { env: env(), flags: {}, log: () => {} });
  await adapter.deploy(second, { env: env(), flags: {}, log: () => {} });
  // a Worker of someone else in the same account: not wfn's, not listed
  fake.scripts.set('not-ours', { tags: [], created_on: '2025-01-01T00:00:00Z', modified_on: '2025-01-01T00:00:00Z', versions: [], deployments: [] });
});
afterAll(() => fake.close());

describe('cloudflare operations', () => {
  it('ls lists the Workers wfn deployed (tag "wfn"): live version, sha256 and size of the .wasm, URL', async () => {
    const listed = await ops.list(options());
    const live = fake.liveVersion('hello-ops')!;
    expect(listed).toEqual([{ name: 'hello-ops', version: live.id, ...(await sha256Of(second)), deployedAt: live.created_on, url: 'https://hello-ops.wfn-team.workers.dev' }]);
    const list = fake.seen.find((s) => s.method === 'GET' && s.path.includes('/workers/scripts?'))!;
    expect(list.path).toBe(`/client/v4/accounts/${ACCOUNT}/workers/scripts?tags=wfn%3Ayes`);
    expect(JSON.stringify(listed)).not.toContain(SECRET);
  });

  it('versions lists both uploads, newest first, the live one marked', async () => {
    const versions = await ops.versions('hello-ops', options());
    const [v2, v1] = fake.scripts.get('hello-ops')!.versions;
    expect(versions).toEqual([
      { version: v2.id, live: true, ...(await sha256Of(second)), deployedAt: v2.created_on },
      { version: v1.id, live: false, ...(await sha256Of(first)), deployedAt: v1.created_on },
    ]);
    expect(JSON.stringify(versions)).not.toContain(SECRET);
  });

  it('rollback deploys the version before the live one to 100%, and the first version answers again', async () => {
    expect(await (await fake.invoke('hello-ops', 'https://hello-ops.wfn-team.workers.dev/')).text()).toBe('second');
    const [v2, v1] = fake.scripts.get('hello-ops')!.versions;
    fake.seen.length = 0;
    const result = await ops.rollback('hello-ops', undefined, options());
    expect(result).toEqual({ from: v2.id, to: v1.id });
    const post = fake.seen.find((s) => s.method === 'POST')!;
    expect(post.path).toBe(`/client/v4/accounts/${ACCOUNT}/workers/scripts/hello-ops/deployments`);
    expect(post.contentType).toBe('application/json');
    expect(post.json).toMatchObject({ strategy: 'percentage', versions: [{ version_id: v1.id, percentage: 100 }] });
    expect(fake.seen.every((s) => s.authorization === `Bearer ${TOKEN}`)).toBe(true);
    expect(fake.liveVersion('hello-ops')!.id).toBe(v1.id);
    expect(await (await fake.invoke('hello-ops', 'https://hello-ops.wfn-team.workers.dev/')).text()).toBe('first');
    expect((await ops.versions('hello-ops', options())).map((v) => v.live)).toEqual([false, true]);

    // --to by id or by number; the live one again is refused
    await expect(ops.rollback('hello-ops', v1.id, options())).rejects.toThrow(/already live/);
    expect(await ops.rollback('hello-ops', '2', options())).toEqual({ from: v1.id, to: v2.id });
    await expect(ops.rollback('hello-ops', 'no-such-version', options())).rejects.toThrow('The Worker hello-ops has no version no-such-version.');
    // back to the first for the log test
    await ops.rollback('hello-ops', v1.id, options());
  });

  it('logs --follow shows a request line and the function\'s stderr lines, and stops (deleting the tail) on abort', async () => {
    const lines: LogLine[] = [];
    const abort = new AbortController();
    const done = ops.logs('hello-ops', { ...options(), follow: true, signal: abort.signal, onLine: (l) => lines.push(l) });
    await until('the tail is open', () => fake.readyTails('hello-ops') === 1);
    await fake.invoke('hello-ops', 'https://hello-ops.wfn-team.workers.dev/some/path?q=1', { method: 'POST', body: 'x' });
    await until('three lines', () => lines.length >= 3);
    abort.abort();
    await done;
    expect(lines).toHaveLength(3);
    const [request, one, two] = lines;
    expect(request).toMatchObject({ kind: 'request', method: 'POST', path: '/some/path?q=1', status: 200, outcome: 'ok' });
    expect(request.kind === 'request' && request.durationMs).toBeGreaterThanOrEqual(0);
    expect(Date.parse(request.time)).not.toBeNaN();
    expect(one).toMatchObject({ kind: 'stderr', text: 'one from first' });
    expect(two).toMatchObject({ kind: 'stderr', text: 'two from first' });
    // the tail was created with the documented body and deleted at the end
    const created = fake.seen.find((s) => s.method === 'POST' && s.path.endsWith('/tails'))!;
    expect(created.json).toEqual({ filters: [] });
    expect(fake.tailsCreated).toHaveLength(1);
    expect(fake.tails.size).toBe(0);
    expect(fake.seen.some((s) => s.method === 'DELETE' && s.path.endsWith(`/tails/${fake.tailsCreated[0]}`))).toBe(true);
    expect(JSON.stringify(lines)).not.toContain(SECRET);
    expect(logs.join('\n')).not.toContain(TOKEN);
  });

  it('a tail whose WebSocket cannot be opened fails with what happened, and is deleted all the same', async () => {
    fake.refuseTails = true;
    try {
      const error = await ops.logs('hello-ops', { ...options(), follow: true, signal: new AbortController().signal, onLine: () => {} }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UserError);
      expect((error as Error).message).toMatch(/^The Workers Tail connection failed: Unexpected server response: 400/);
      expect(fake.tailsCreated).toHaveLength(2);
      expect(fake.tails.size).toBe(0);
    } finally {
      fake.refuseTails = false;
    }
  });

  it('logs without --follow says a tail is live only', async () => {
    const error = await ops.logs('hello-ops', { ...options(), follow: false, signal: new AbortController().signal, onLine: () => {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).hint).toContain('--follow');
  });

  it('maps trace events: exceptions, CPU limit, the shim\'s failure line, a missing response', () => {
    const base = { eventTimestamp: Date.parse('2026-03-01T10:00:00Z'), event: { request: { url: 'https://x.workers.dev/a', method: 'get' } } };
    expect(linesOfEvent({ ...base, outcome: 'exception', exceptions: [{ name: 'Error', message: 'boom', timestamp: base.eventTimestamp }] })).toEqual([
      { kind: 'request', time: '2026-03-01T10:00:00.000Z', method: 'GET', path: '/a', status: 500, durationMs: 0, outcome: 'exception' },
      { kind: 'stderr', time: '2026-03-01T10:00:00.000Z', text: 'Error: boom' },
    ]);
    expect(linesOfEvent({ ...base, outcome: 'exceededCpu', wallTime: 12 })[0]).toMatchObject({ outcome: 'timeout', durationMs: 12 });
    const timeout = { ...base, outcome: 'ok', event: { ...base.event, response: { status: 504 } }, logs: [{ level: 'error', message: ['wfn: timeout: the function ran longer than its timeout (5 ms), waiting on a KV call'], timestamp: 1 }] };
    expect(linesOfEvent(timeout)[0]).toMatchObject({ status: 504, outcome: 'timeout' });
    expect(linesOfEvent({ ...base, outcome: 'ok', event: { ...base.event, response: { status: 502 } } })[0]).toMatchObject({ outcome: 'error' });
    expect(linesOfEvent({ ...base, outcome: 'ok', event: { ...base.event, response: { status: 404 } } })[0]).toMatchObject({ outcome: 'ok' });
    // a scheduled event (no request): only its console lines
    expect(linesOfEvent({ eventTimestamp: 0, event: null, logs: [{ level: 'log', message: ['a', { b: 1 }], timestamp: 0 }] })).toEqual([{ kind: 'stderr', time: '1970-01-01T00:00:00.000Z', text: 'a {"b":1}' }]);
  });

  it('rm deletes the Worker; a second rm says it was already gone; versions then says there is none', async () => {
    expect(ops.describe('hello-ops', options())).toBe(`the Cloudflare Worker hello-ops in account ${ACCOUNT}`);
    expect(await ops.remove('hello-ops', options())).toEqual({ removed: true });
    expect(fake.scripts.has('hello-ops')).toBe(false);
    expect(await ops.remove('hello-ops', options())).toEqual({ removed: false });
    await expect(ops.versions('hello-ops', options())).rejects.toThrow(`There is no Worker named "hello-ops" in Cloudflare account ${ACCOUNT}.`);
    await expect(ops.rollback('hello-ops', undefined, options())).rejects.toThrow(/There is no Worker named "hello-ops"/);
    expect(await ops.list(options())).toEqual([]);
  });

  it('a missing credential names the variable; an API error says what Cloudflare answered, never the token', async () => {
    const missing = await ops.list({ env: { CLOUDFLARE_API_TOKEN: TOKEN }, flags: {}, log: () => {} }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(UserError);
    expect((missing as Error).message).toBe('Cloudflare credentials missing: set CLOUDFLARE_ACCOUNT_ID.');
    const wrong = 'wrong-token-shhh-456';
    const denied = await ops.versions('anything', options({ CLOUDFLARE_API_TOKEN: wrong })).catch((e: unknown) => e) as UserError;
    expect(denied.message).toBe('Cloudflare API: list the versions of the Worker anything failed: Authentication error [code 10000]');
    expect(denied.hint).toMatch(/CLOUDFLARE_API_TOKEN/);
    expect(`${denied.message} ${denied.hint}`).not.toContain(wrong);
    const account = await ops.remove('anything', options({ CLOUDFLARE_ACCOUNT_ID: 'ffffffffffffffffffffffffffffffff' })).catch((e: unknown) => e) as UserError;
    expect(account.message).toContain('[code 7003]');
    expect(account.hint).toMatch(/CLOUDFLARE_ACCOUNT_ID/);
    await expect(ops.versions('Bad_Name!', options())).rejects.toThrow(/not a valid Cloudflare Worker name/);
  });
});
