// Operating what is deployed on Lambda, against moto (Lambda, IAM and CloudWatch Logs; moto
// stores what it is sent but runs no code, so the log events are put into the function's log
// group the way Lambda writes them: the runtime's prefix, the handler's request line, stderr).
import { CreateLogGroupCommand, CreateLogStreamCommand, CloudWatchLogsClient, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateFunctionCommand, GetAliasCommand, GetFunctionCommand, GetFunctionUrlConfigCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adapter } from '../../../adapters/lambda/index.js';
import { Sandbox } from '../../../adapters/lambda/emulator/sandbox.js';
import { eventFromRequest } from '../../../adapters/lambda/events.js';
import { linesOfEvent } from '../../../adapters/lambda/log-events.js';
import { logsLambda } from '../../../adapters/lambda/operate.js';
import { requestLogText } from '../../../adapters/lambda/request-log.js';
import { codeSha256 } from '../../../adapters/lambda/zip.js';
import type { Bundle, LogLine } from '../../../src/target/types.js';
import { writeOnce } from '../../fixtures/contract.js';
import { wfn, wfnBackground } from '../../helpers/cli.js';
import { motoServer, startMoto, type Moto } from '../../helpers/moto.js';
import { wat2wasm } from '../../helpers/wat.js';

const SECRET = 'lambda-s3cret-value';
const NAME = 'wfn-ops';
const GROUP = `/aws/lambda/${NAME}`;
const STREAM = '2026/12/02/[1]0123456789abcdef';

if (!motoServer && process.env.CI === 'true') {
  describe('lambda operations against moto', () => {
    it('needs moto_server', () => {
      throw new Error('moto_server not found: the Lambda operation tests need it');
    });
  });
}

/** One console call of the Node.js runtime, as CloudWatch receives it (text format). */
function consoleEvent(at: number, level: 'INFO' | 'ERROR', text: string) {
  return { timestamp: at, message: `${new Date(at).toISOString()}\t8f5c1d2e-0000-4000-8000-000000000001\t${level}\t${text}\n` };
}

describe('lambda log events -> log lines', () => {
  it('parses the request line, stderr and drops platform lines, in the text and JSON log formats', () => {
    const at = Date.UTC(2026, 11, 2, 13, 0, 0);
    const request = requestLogText({ method: 'GET', path: '/a?b=1', status: 200, durationMs: 3.25, outcome: 'ok' });
    expect(linesOfEvent(consoleEvent(at, 'INFO', request))).toEqual([{ kind: 'request', time: '2026-12-02T13:00:00.000Z', method: 'GET', path: '/a?b=1', status: 200, durationMs: 3.25, outcome: 'ok' }]);
    expect(linesOfEvent(consoleEvent(at, 'ERROR', 'one\ntwo'))).toEqual([
      { kind: 'stderr', time: '2026-12-02T13:00:00.000Z', text: 'one' },
      { kind: 'stderr', time: '2026-12-02T13:00:00.000Z', text: 'two' },
    ]);
    expect(linesOfEvent({ timestamp: at, message: 'START RequestId: 8f5c Version: 1\n' })).toEqual([]);
    expect(linesOfEvent({ timestamp: at, message: 'REPORT RequestId: 8f5c\tDuration: 2.1 ms\n' })).toEqual([]);
    const json = JSON.stringify({ timestamp: new Date(at).toISOString(), level: 'INFO', requestId: 'x', message: requestLogText({ method: 'POST', path: '/', status: 500, durationMs: 1, outcome: 'trap' }) });
    expect(linesOfEvent({ timestamp: at, message: json })).toMatchObject([{ kind: 'request', method: 'POST', status: 500, outcome: 'exception' }]);
    // A line that only looks like the request line is stderr, never a crash.
    expect(linesOfEvent(consoleEvent(at, 'INFO', 'wfn-request {not json'))).toEqual([{ kind: 'stderr', time: '2026-12-02T13:00:00.000Z', text: 'wfn-request {not json' }]);
  });
});

describe('the handler writes what wfn logs reads', () => {
  it('one request line per invocation plus the function\'s stderr, which parse back into log lines', async () => {
    const work = await mkdtemp(path.join(tmpdir(), 'wfn-lambda-handler-log-'));
    const wasmPath = path.join(work, 'h.wasm');
    await writeFile(wasmPath, await wat2wasm(writeOnce({ stdout: 'Content-Type: text/plain\n\nhi', stderr: 'line one\nline two\n' })));
    const bundle = await adapter.package({ name: 'handler-log', wasmPath, env: {}, secrets: ['API_TOKEN'], limits: { memoryMiB: 64, timeoutMs: 3000 }, outbound: { allow: [] } as never, kv: { stores: [] }, projectDir: work });
    const output: string[] = [];
    const sandbox = await Sandbox.start({ handlerFile: path.join(bundle.dir, 'index.mjs'), handlerExport: 'handler', env: { API_TOKEN: SECRET }, functionName: 'handler-log', memorySize: 192, region: 'us-east-1', initTimeoutMs: 30_000, onOutput: (l) => output.push(l) });
    try {
      const event = eventFromRequest({ method: 'GET', url: 'https://abc.lambda-url.us-east-1.on.aws/hello?x=1', headers: [], body: new Uint8Array() }, { domainName: 'abc.lambda-url.us-east-1.on.aws', port: 443, requestId: 'r1', time: Date.now() });
      const outcome = await sandbox.invoke(JSON.stringify(event), 'r1', 10_000);
      expect(outcome.kind).toBe('result');
    } finally {
      await sandbox.dispose();
    }
    // On Lambda each console call is one event with the runtime's prefix: put it back on.
    const at = Date.UTC(2026, 11, 2, 13, 0, 0);
    const lines = output.filter(Boolean).flatMap((text) => linesOfEvent(consoleEvent(at, text.startsWith('wfn-request') ? 'INFO' : 'ERROR', text)));
    expect(lines).toEqual([
      { kind: 'stderr', time: '2026-12-02T13:00:00.000Z', text: 'line one' },
      { kind: 'stderr', time: '2026-12-02T13:00:00.000Z', text: 'line two' },
      { kind: 'request', time: '2026-12-02T13:00:00.000Z', method: 'GET', path: '/hello?x=1', status: 200, durationMs: expect.any(Number), outcome: 'ok' },
    ]);
    expect(output.join('\n')).not.toContain(SECRET);
  });
});

// Without moto only on a developer's machine (wfn doctor: pip install 'moto[server]'); under CI it fails.
describe.skipIf(!motoServer && process.env.CI !== 'true')('lambda operations against moto', () => {
  let moto: Moto;
  let env: NodeJS.ProcessEnv;
  let lambda: LambdaClient;
  let cw: CloudWatchLogsClient;
  let work: string;
  const zips: Buffer[] = [];
  const quiet = () => {};
  const opts = () => ({ env, flags: {}, log: quiet });

  async function bundleFor(body: string): Promise<Bundle> {
    const wasmPath = path.join(work, `${body}.wasm`);
    await writeFile(wasmPath, await wat2wasm(writeOnce({ stdout: `Content-Type: text/plain\n\n${body}`, stderr: `stderr of ${body}\n` })));
    return adapter.package({ name: NAME, wasmPath, env: { GREETING: 'hello' }, secrets: ['API_TOKEN'], limits: { memoryMiB: 64, timeoutMs: 3000 }, outbound: { allow: [] } as never, kv: { stores: [] } });
  }

  async function putEvents(events: { timestamp: number; message: string }[]) {
    await cw.send(new PutLogEventsCommand({ logGroupName: GROUP, logStreamName: STREAM, logEvents: events }));
  }

  beforeAll(async () => {
    moto = await startMoto();
    env = { ...moto.env, API_TOKEN: SECRET };
    lambda = new LambdaClient(moto.sdk);
    cw = new CloudWatchLogsClient(moto.sdk);
    work = await mkdtemp(path.join(tmpdir(), 'wfn-lambda-operate-'));
    for (const body of ['first', 'second']) {
      const bundle = await bundleFor(body);
      zips.push(await readFile(bundle.archive!));
      const result = await adapter.deploy(bundle, { env, flags: {}, log: quiet });
      expect(result.version).toBe(body === 'first' ? '1' : '2');
    }
  }, 120_000);

  afterAll(async () => {
    lambda?.destroy();
    cw?.destroy();
    await moto?.stop();
  });

  it('deploy published a version per deploy and points alias live (and the URL) at the newest', async () => {
    expect((await lambda.send(new GetAliasCommand({ FunctionName: NAME, Name: 'live' }))).FunctionVersion).toBe('2');
    expect((await lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: NAME, Qualifier: 'live' }))).FunctionUrl).toMatch(/lambda-url/);
    // The same bytes again publish nothing new.
    const again = await adapter.deploy(await bundleFor('second'), { env, flags: {}, log: quiet });
    expect(again).toMatchObject({ unchanged: true, version: '2' });
  });

  it('ls lists only the functions wfn deployed, with the live version, size, sha256 and when', async () => {
    await lambda.send(new CreateFunctionCommand({ FunctionName: 'not-ours', Runtime: 'nodejs22.x', Handler: 'index.handler', Role: 'arn:aws:iam::123456789012:role/wfn-lambda-basic', Code: { ZipFile: zips[0] }, Description: 'someone else' }));
    const list = await adapter.operations!.list(opts());
    expect(list).toEqual([
      { name: NAME, version: '2', size: zips[1].length, sha256: Buffer.from(codeSha256(zips[1]), 'base64').toString('hex'), deployedAt: expect.stringMatching(/Z$/), url: expect.stringMatching(/^https:\/\/.*lambda-url/) },
    ]);
    const cli = await wfn(['ls', '--target', 'lambda', '--json'], { env: { ...env, HOME: work } });
    expect(cli.code, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout).functions.map((f: { name: string }) => f.name)).toEqual([NAME]);
    expect(cli.stdout + cli.stderr + JSON.stringify(list)).not.toContain(SECRET);
  });

  it('versions shows both, rollback moves the alias to the first (the code the URL serves), --to goes forward', async () => {
    const versions = await adapter.operations!.versions(NAME, opts());
    expect(versions.map((v) => [v.version, v.live])).toEqual([['2', true], ['1', false]]);
    expect(versions[1].sha256).toBe(Buffer.from(codeSha256(zips[0]), 'base64').toString('hex'));

    const back = await wfn(['rollback', '--target', 'lambda', '--name', NAME], { env: { ...env, HOME: work } });
    expect(back.code, back.stderr).toBe(0);
    expect(back.stderr).toContain(`Lambda function ${NAME} in us-east-1 (endpoint ${moto.endpoint}): making the version before the live one live again`);
    expect(back.stdout).toContain(`Rolled ${NAME} back from version 2 to version 1.`);
    const alias = await lambda.send(new GetAliasCommand({ FunctionName: NAME, Name: 'live' }));
    expect(alias.FunctionVersion).toBe('1');
    // moto runs no code: what the alias (so the Function URL) serves is version 1's code, the first zip.
    const served = await lambda.send(new GetFunctionCommand({ FunctionName: NAME, Qualifier: 'live' }));
    expect(served.Configuration!.CodeSha256).toBe(codeSha256(zips[0]));
    expect((await adapter.operations!.list(opts()))[0]).toMatchObject({ version: '1', size: zips[0].length });

    await expect(adapter.operations!.rollback(NAME, undefined, opts())).rejects.toThrow(/no version before 1/);
    await expect(adapter.operations!.rollback(NAME, '7', opts())).rejects.toThrow(/has no version 7 \(published: 1, 2\)/);
    expect(await adapter.operations!.rollback(NAME, '2', opts())).toEqual({ from: '1', to: '2' });
    await expect(adapter.operations!.versions('no-such-fn', opts())).rejects.toThrow(/There is no Lambda function no-such-fn in us-east-1/);
  });

  it('logs --follow shows the request lines and stderr written after it started, NDJSON, and ends on Ctrl-C', async () => {
    await cw.send(new CreateLogGroupCommand({ logGroupName: GROUP }));
    await cw.send(new CreateLogStreamCommand({ logGroupName: GROUP, logStreamName: STREAM }));
    const old = Date.now() - 60_000;
    await putEvents([consoleEvent(old, 'INFO', requestLogText({ method: 'GET', path: '/before', status: 200, durationMs: 1, outcome: 'ok' }))]);

    const follow = await wfnBackground(['logs', '--target', 'lambda', '--name', NAME, '--follow', '--json'], /following the logs of Lambda function/, { env: { ...env, HOME: work, WFN_PROGRESS: '1' } });
    const now = Date.now() + 1;
    await putEvents([
      { timestamp: now, message: `START RequestId: 8f5c1d2e-0000-4000-8000-000000000001 Version: 2\n` },
      consoleEvent(now + 1, 'ERROR', 'stderr of second'),
      consoleEvent(now + 2, 'INFO', requestLogText({ method: 'GET', path: '/after?x=1', status: 200, durationMs: 4.5, outcome: 'ok' })),
      { timestamp: now + 3, message: `END RequestId: 8f5c1d2e-0000-4000-8000-000000000001\n` },
      { timestamp: now + 4, message: `REPORT RequestId: 8f5c1d2e-0000-4000-8000-000000000001\tDuration: 5.00 ms\n` },
      consoleEvent(now + 5, 'ERROR', 'wfn: 500 trap: unreachable'),
      consoleEvent(now + 6, 'INFO', requestLogText({ method: 'POST', path: '/boom', status: 500, durationMs: 2, outcome: 'trap' })),
    ]);
    const lines = () =>
      follow
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as LogLine);
    const deadline = Date.now() + 30_000;
    while (lines().length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    // An event indexed late, older than the newest one printed: still shown, once; nothing is printed twice.
    await putEvents([consoleEvent(now + 4, 'ERROR', 'indexed late')]);
    while (lines().length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 2500)); // two more polls over the same window
    follow.child.kill('SIGINT');
    const code = await new Promise((r) => (follow.child.exitCode !== null ? r(follow.child.exitCode) : follow.child.once('exit', r)));
    expect(code).toBe(0);
    expect(lines()).toEqual([
      { kind: 'stderr', time: new Date(now + 1).toISOString(), text: 'stderr of second' },
      { kind: 'request', time: new Date(now + 2).toISOString(), method: 'GET', path: '/after?x=1', status: 200, durationMs: 4.5, outcome: 'ok' },
      { kind: 'stderr', time: new Date(now + 5).toISOString(), text: 'wfn: 500 trap: unreachable' },
      { kind: 'request', time: new Date(now + 6).toISOString(), method: 'POST', path: '/boom', status: 500, durationMs: 2, outcome: 'exception' },
      { kind: 'stderr', time: new Date(now + 4).toISOString(), text: 'indexed late' },
    ]);
    expect(follow.output()).not.toContain(SECRET);

    // Without --follow, since 2 minutes ago: the older line too, in the text format.
    const text = await wfn(['logs', '--target', 'lambda', '--name', NAME, '--since', '2m'], { env: { ...env, HOME: work } });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout.split('\n').filter(Boolean)).toEqual([
      `${new Date(old).toISOString()} GET /before 200 1.0ms ok`,
      `${new Date(now + 1).toISOString()} stderr: stderr of second`,
      `${new Date(now + 2).toISOString()} GET /after?x=1 200 4.5ms ok`,
      `${new Date(now + 4).toISOString()} stderr: indexed late`,
      `${new Date(now + 5).toISOString()} stderr: wfn: 500 trap: unreachable`,
      `${new Date(now + 6).toISOString()} POST /boom 500 2.0ms exception`,
    ]);
  });

  it('logs of a function that has not run yet say so; a missing function is a clear error', async () => {
    const bundle = await bundleFor('quiet');
    await adapter.deploy({ ...bundle, name: 'wfn-quiet' }, { env, flags: {}, log: quiet });
    const said: string[] = [];
    const got: LogLine[] = [];
    await logsLambda('wfn-quiet', { env, flags: {}, log: (m) => said.push(m), follow: false, signal: new AbortController().signal, onLine: (l) => got.push(l) });
    expect(said).toEqual(['/aws/lambda/wfn-quiet does not exist yet: wfn-quiet has not run since it was created']);
    expect(got).toEqual([]);
    await expect(logsLambda('no-such-fn', { env, flags: {}, log: quiet, follow: false, signal: new AbortController().signal, onLine: () => {} })).rejects.toThrow(/There is no Lambda function no-such-fn/);
    expect(await adapter.operations!.remove('wfn-quiet', opts())).toEqual({ removed: true });
  });

  it('rm deletes the function and its URL; a second rm says it is already gone', async () => {
    const refused = await wfn(['rm', '--target', 'lambda', '--name', NAME], { env: { ...env, HOME: work } });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`This deletes Lambda function ${NAME} in us-east-1`);
    const removed = await wfn(['rm', '--target', 'lambda', '--name', NAME, '--yes'], { env: { ...env, HOME: work } });
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toContain(`Deleted ${NAME}`);
    await expect(lambda.send(new GetFunctionCommand({ FunctionName: NAME }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    const again = await wfn(['rm', '--target', 'lambda', '--name', NAME, '--yes', '--json'], { env: { ...env, HOME: work } });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ removed: false, cancelled: false });
    expect((await adapter.operations!.list(opts())).map((f) => f.name)).toEqual([]);
  });
});
