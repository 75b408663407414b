// Deploy against moto (a local implementation of the Lambda and IAM APIs; it stores what it
// is sent but cannot run code). Without moto_server the test is skipped, or fails with CI=true.
import { GetRoleCommand, IAMClient, CreateRoleCommand, ListAttachedRolePoliciesCommand } from '@aws-sdk/client-iam';
import { GetFunctionCommand, GetFunctionUrlConfigCommand, GetPolicyCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Artifact, Bundle } from '../../../src/target/types.js';
import { adapter } from '../../../adapters/lambda/index.js';
import { codeSha256 } from '../../../adapters/lambda/zip.js';
import { findMotoServer, MOTO_FIX } from '../../../src/project/doctor.js';
import { UserError } from '../../../src/util/errors.js';
import { writeOnce } from '../../fixtures/contract.js';
import { freePort, startMoto, type Moto } from '../../helpers/moto.js';
import { wat2wasm } from '../../helpers/wat.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..', '..', '..');

// Found the way `wfn doctor` finds it (PATH, then pyenv's shims).
const moto = findMotoServer();
const missing = `moto_server not found (${MOTO_FIX}): the Lambda deploy tests need it`;
if (!moto && process.env.CI === 'true') {
  describe('lambda deploy against moto', () => {
    it('needs moto_server', () => {
      throw new Error(missing);
    });
  });
}

describe.skipIf(!moto)(`lambda deploy against moto${moto ? '' : ` (skipped: ${missing})`}`, () => {
  let server: Moto;
  let env: NodeJS.ProcessEnv;
  let lambda: LambdaClient;
  let iam: IAMClient;
  let work: string;
  const logs: string[] = [];
  const log = (m: string) => logs.push(m);

  beforeAll(async () => {
    // AWS-managed policies (AWSLambdaBasicExecutionRole) are loaded: the helper starts moto with them.
    server = await startMoto();
    env = { ...server.env, API_TOKEN: 's3cret' };
    const sdk = server.sdk;
    lambda = new LambdaClient(sdk);
    iam = new IAMClient(sdk);
    work = await mkdtemp(path.join(tmpdir(), 'wfn-lambda-deploy-'));
  });

  afterAll(async () => {
    lambda?.destroy();
    iam?.destroy();
    await server?.stop();
  });

  async function bundleFor(name: string, body: string, more: Partial<Artifact> = {}): Promise<Bundle> {
    const wasmPath = path.join(work, `${name}-${body.length}.wasm`);
    await writeFile(wasmPath, await wat2wasm(writeOnce({ stdout: `Content-Type: text/plain\n\n${body}` })));
    return adapter.package({ name, wasmPath, env: { GREETING: 'hello' }, secrets: ['API_TOKEN'], limits: { memoryMiB: 64, timeoutMs: 3000 }, ...more });
  }

  it('creates the function, the execution role and a public Function URL', async () => {
    logs.length = 0;
    const bundle = await bundleFor('wfn-hello', 'v1');
    const zip = await readFile(bundle.archive!);
    const result = await adapter.deploy(bundle, { env, flags: { urlAuth: 'none' }, log });

    expect(result).toMatchObject({ target: 'lambda', name: 'wfn-hello', unchanged: false });
    expect(result.url).toMatch(/^https:\/\/[a-z0-9]+\.lambda-url\.us-east-1\.on\.aws/);
    expect(logs).toContainEqual(expect.stringMatching(/^created the execution role wfn-lambda-basic/));

    const { Configuration: fn } = await lambda.send(new GetFunctionCommand({ FunctionName: 'wfn-hello' }));
    expect(fn).toMatchObject({
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      CodeSize: zip.length,
      CodeSha256: codeSha256(zip),
      MemorySize: 64 + 128,
      Timeout: 3,
      Architectures: ['arm64'],
      PackageType: 'Zip',
      State: 'Active',
      Role: 'arn:aws:iam::123456789012:role/wfn-lambda-basic',
      Environment: { Variables: { GREETING: 'hello', API_TOKEN: 's3cret' } },
    });
    // The secret reaches Lambda's environment and nothing else: not the zip, the log or the result.
    expect(zip.includes('s3cret')).toBe(false);
    expect(logs.join('\n') + JSON.stringify(result)).not.toContain('s3cret');

    const url = await lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: 'wfn-hello' }));
    expect(url).toMatchObject({ FunctionUrl: result.url, AuthType: 'NONE', InvokeMode: 'Buffered' });

    const policy = JSON.parse((await lambda.send(new GetPolicyCommand({ FunctionName: 'wfn-hello' }))).Policy!);
    const bySid = Object.fromEntries(policy.Statement.map((s: { Sid: string }) => [s.Sid, s]));
    expect(bySid['wfn-function-url-public']).toMatchObject({ Action: 'lambda:InvokeFunctionUrl', Principal: '*', Effect: 'Allow' });
    // AWS turns these into Conditions; moto keeps the request's fields. Either way they are there.
    expect(JSON.stringify(bySid['wfn-function-url-public'])).toMatch(/FunctionUrlAuthType":"NONE"/);
    expect(bySid['wfn-function-url-invoke']).toMatchObject({ Action: 'lambda:InvokeFunction', Principal: '*' });
    expect(JSON.stringify(bySid['wfn-function-url-invoke'])).toMatch(/InvokedViaFunctionUrl":"?true/);

    const role = await iam.send(new GetRoleCommand({ RoleName: 'wfn-lambda-basic' }));
    expect(decodeURIComponent(role.Role!.AssumeRolePolicyDocument!)).toContain('lambda.amazonaws.com');
    const attached = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: 'wfn-lambda-basic' }));
    expect(attached.AttachedPolicies!.map((p) => p.PolicyArn)).toEqual(['arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole']);
  });

  it('redeploying the same bytes and settings is a no-op that says so', async () => {
    logs.length = 0;
    const before = (await lambda.send(new GetFunctionCommand({ FunctionName: 'wfn-hello' }))).Configuration!;
    const result = await adapter.deploy(await bundleFor('wfn-hello', 'v1'), { env, flags: {}, log });
    expect(result.unchanged).toBe(true);
    expect(logs).toContainEqual(expect.stringMatching(/code of wfn-hello is unchanged \(same CodeSha256/));
    expect(logs).toContainEqual(expect.stringMatching(/nothing changed/));
    const after = (await lambda.send(new GetFunctionCommand({ FunctionName: 'wfn-hello' }))).Configuration!;
    expect(after.LastModified).toBe(before.LastModified);
    expect(after.RevisionId ?? '').toBe(before.RevisionId ?? '');
  });

  it('redeploying new code and limits updates the function and keeps its URL', async () => {
    logs.length = 0;
    const firstUrl = (await lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: 'wfn-hello' }))).FunctionUrl;
    const bundle = await bundleFor('wfn-hello', 'v2 with more bytes', { limits: { memoryMiB: 256, timeoutMs: 20_000 } });
    const zip = await readFile(bundle.archive!);
    const result = await adapter.deploy(bundle, { env: { ...env, API_TOKEN: 'rotated' }, flags: {}, log });
    expect(result).toMatchObject({ unchanged: false, url: firstUrl, details: { codeChanged: true, configChanged: true } });
    expect(logs).toContainEqual('updating the code of wfn-hello');
    expect(logs).toContainEqual(expect.stringMatching(/^updating the configuration of wfn-hello: MemorySize, Timeout, Environment$/));
    expect(logs.some((l) => l.includes('execution role'))).toBe(false); // an update leaves the role alone

    const { Configuration: fn } = await lambda.send(new GetFunctionCommand({ FunctionName: 'wfn-hello' }));
    expect(fn).toMatchObject({ CodeSha256: codeSha256(zip), CodeSize: zip.length, MemorySize: 384, Timeout: 20, LastUpdateStatus: 'Successful', Environment: { Variables: { GREETING: 'hello', API_TOKEN: 'rotated' } } });
  });

  it('a second function reuses the role; --role and --url-auth iam are honoured', async () => {
    logs.length = 0;
    await adapter.deploy(await bundleFor('wfn-second', 'two'), { env, flags: {}, log });
    expect(logs).toContainEqual(expect.stringMatching(/^using the execution role wfn-lambda-basic/));

    const custom = await iam.send(new CreateRoleCommand({ RoleName: 'my-own-role', AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] }) }));
    logs.length = 0;
    const result = await adapter.deploy(await bundleFor('wfn-private', 'private'), { env, flags: { role: custom.Role!.Arn, urlAuth: 'iam' }, log });
    expect(logs.some((l) => l.includes('wfn-lambda-basic'))).toBe(false);
    expect((await lambda.send(new GetFunctionCommand({ FunctionName: 'wfn-private' }))).Configuration!.Role).toBe(custom.Role!.Arn);
    expect(await lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: 'wfn-private' }))).toMatchObject({ AuthType: 'AWS_IAM', FunctionUrl: result.url });
    // No public statements for an IAM-authenticated URL.
    await expect(lambda.send(new GetPolicyCommand({ FunctionName: 'wfn-private' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });

    // Switching the first function to IAM removes its public permissions.
    await adapter.deploy(await bundleFor('wfn-second', 'two'), { env, flags: { urlAuth: 'iam' }, log });
    expect((await lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: 'wfn-second' }))).AuthType).toBe('AWS_IAM');
    await expect(lambda.send(new GetPolicyCommand({ FunctionName: 'wfn-second' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('errors name the AWS error and say what to do', async () => {
    const bundle = await bundleFor('wfn-errors', 'e');
    const unknownRole = adapter.deploy(bundle, { env, flags: { role: 'arn:aws:iam::123456789012:role/does-not-exist' }, log });
    await expect(unknownRole).rejects.toBeInstanceOf(UserError);
    await expect(unknownRole).rejects.toMatchObject({
      message: expect.stringMatching(/^Lambda deploy failed at CreateFunction wfn-errors: InvalidParameterValueException: The role defined for the function cannot be assumed by Lambda/),
      hint: expect.stringContaining('--role'),
    });

    const { API_TOKEN: _unused, ...noSecret } = env;
    await expect(adapter.deploy(bundle, { env: noSecret, flags: {}, log })).rejects.toMatchObject({ message: expect.stringContaining('API_TOKEN not set'), hint: expect.stringContaining('Export API_TOKEN') });

    const closed = `http://127.0.0.1:${await freePort()}`;
    await expect(adapter.deploy(bundle, { env: { ...env, AWS_ENDPOINT_URL: closed }, flags: {}, log })).rejects.toMatchObject({
      message: expect.stringMatching(/^Lambda deploy failed at GetFunction wfn-errors: /),
      hint: expect.stringContaining('AWS_ENDPOINT_URL'),
    });
  });

  it('`wfn deploy --target lambda` (the CLI) deploys and prints the URL', async () => {
    const wasmPath = path.join(work, 'cli.wasm');
    await writeFile(wasmPath, await wat2wasm(writeOnce({ stdout: 'Content-Type: text/plain\n\ncli' })));
    const { stdout } = await run(process.execPath, [path.join(root, 'bin', 'run.js'), 'deploy', wasmPath, '--target', 'lambda', '--name', 'wfn-cli', '--memory', '100', '--timeout', '5000'], { env: { ...env, HOME: work } });
    const url = (await lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: 'wfn-cli' }))).FunctionUrl!;
    expect(stdout).toContain(`URL: ${url}`);
    expect((await lambda.send(new GetFunctionCommand({ FunctionName: 'wfn-cli' }))).Configuration).toMatchObject({ MemorySize: 228, Timeout: 5 });
  });
});
