// Key-value on Lambda against moto (Lambda, IAM and DynamoDB): the Rust kv template packaged with
// its helper thread, deployed (a table per store created once, TTL on, an inline role policy for
// those tables only), then run by `dev --target lambda` against moto's DynamoDB: binary values,
// a 4 MiB one (split over items: DynamoDB items stop at 400 KB; Lambda's payload limit stops a 5 MiB body), list order, delete, TTL.
// Without moto_server the tests are skipped, or fail with CI=true.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DescribeTableCommand, DescribeTimeToLiveCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetRolePolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adapter } from '../../../adapters/lambda/index.js';
import { readZip } from '../../../adapters/lambda/zip.js';
import { DEFAULT_OUTBOUND } from '../../../src/runtime/outbound/abi.js';
import type { Artifact } from '../../../src/target/types.js';
import { request } from '../../helpers/http.js';
import { buildTemplate } from '../../helpers/templates.js';
import { testBytes } from '../../helpers/upstream.js';
import { freePort } from '../../server/serve/helpers.js';

const MOTO = ['/root/.pyenv/shims/moto_server', ...(process.env.PATH ?? '').split(':').map((d) => `${d}/moto_server`)].find((p) => existsSync(p));
const REQUIRED = process.env.CI === 'true';

async function waitFor(what: string, check: () => Promise<boolean>, limitMs: number): Promise<void> {
  const end = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`${what}: not within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

if (!MOTO && !REQUIRED) console.warn('skipping the Lambda key-value tests: moto_server is not installed (pip install "moto[server]")');
describe.skipIf(!MOTO && !REQUIRED)('key-value on Lambda: DynamoDB (moto)', () => {
  let moto: ChildProcess | undefined;
  let env: NodeJS.ProcessEnv = {};
  let dynamo: DynamoDBClient;
  let iam: IAMClient;
  let artifact: Artifact;

  beforeAll(async () => {
    if (!MOTO) throw new Error('moto_server is not installed (pip install "moto[server]"); CI requires it');
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    moto = spawn(MOTO, ['-H', '127.0.0.1', '-p', String(port)], { env: { ...process.env, MOTO_IAM_LOAD_MANAGED_POLICIES: 'true' }, stdio: 'ignore' });
    await waitFor('moto_server start', () => fetch(`${endpoint}/moto-api/`).then((r) => r.ok, () => false), 60_000);
    env = {
      PATH: process.env.PATH,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL: endpoint,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    };
    const sdk = { region: 'us-east-1', endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
    dynamo = new DynamoDBClient(sdk);
    iam = new IAMClient(sdk);
    const wasmPath = await buildTemplate('rust', 'kv');
    const projectDir = await mkdtemp(path.join(tmpdir(), 'wfn-lambda-kv-'));
    artifact = { name: 'wfn-kv', wasmPath, env: {}, secrets: [], limits: { memoryMiB: 128, timeoutMs: 60_000 }, outbound: DEFAULT_OUTBOUND, kv: { stores: ['default'] }, projectDir };
  }, 120_000);

  afterAll(() => {
    dynamo?.destroy();
    iam?.destroy();
    moto?.kill('SIGKILL');
  });

  it('the zip carries the helper and the table names; deploy creates each table once and lets the role use those tables only', async () => {
    const bundle = await adapter.package(artifact);
    const files = readZip(new Uint8Array(await readFile(bundle.archive!)));
    expect(Object.keys(files)).toContain('helper.mjs');
    expect(Object.keys(files)).not.toContain('outbound.mjs');
    const config = JSON.parse(new TextDecoder().decode(files['wfn.json']));
    expect(config.kv).toEqual({ stores: ['default'], tables: { default: 'wfn-wfn-kv-default' } });

    const logs: string[] = [];
    const result = await adapter.deploy(bundle, { env, flags: {}, log: (m) => logs.push(m) });
    expect(result.details).toMatchObject({ kvTables: ['wfn-wfn-kv-default'] });
    expect(logs).toContainEqual('created the DynamoDB table wfn-wfn-kv-default (on-demand, TTL on "e")');
    const table = (await dynamo.send(new DescribeTableCommand({ TableName: 'wfn-wfn-kv-default' }))).Table!;
    expect(table.KeySchema).toEqual([{ AttributeName: 'p', KeyType: 'HASH' }, { AttributeName: 'k', KeyType: 'RANGE' }]);
    expect(table.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    const ttl = await dynamo.send(new DescribeTimeToLiveCommand({ TableName: 'wfn-wfn-kv-default' }));
    expect(ttl.TimeToLiveDescription).toMatchObject({ AttributeName: 'e', TimeToLiveStatus: 'ENABLED' });
    const policy = await iam.send(new GetRolePolicyCommand({ RoleName: 'wfn-lambda-basic', PolicyName: 'wfn-kv-wfn-kv' }));
    const document = JSON.parse(decodeURIComponent(policy.PolicyDocument!));
    expect(document.Statement).toEqual([
      { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:Query', 'dynamodb:BatchWriteItem'], Resource: [table.TableArn] },
    ]);

    // A redeploy finds the table: nothing is created again.
    logs.length = 0;
    await adapter.deploy(bundle, { env, flags: {}, log: (m) => logs.push(m) });
    expect(logs.some((l) => l.startsWith('created the DynamoDB table'))).toBe(false);
  }, 300_000);

  it('dev --target lambda against moto\'s DynamoDB: binary and 4 MiB values, list order, delete, TTL', async () => {
    const bundle = await adapter.package(artifact);
    const lines: string[] = [];
    const emulator = await adapter.emulate(bundle, { host: '127.0.0.1', port: 0, log: (l) => lines.push(l), processEnv: env } as never);
    try {
      const base = emulator.url;
      const binary = testBytes(3000);
      expect((await request(`${base}bin`, { method: 'PUT', body: binary })).status).toBe(201);
      expect(Buffer.compare((await request(`${base}bin`)).body, binary)).toBe(0);

      // 4 MiB: many times what one DynamoDB item holds (a 5 MiB body is over Lambda's own 6 MB
      // payload limit once base64-encoded; the store itself takes 25 MiB). Then replaced by a small value.
      const big = testBytes(4 * 1024 * 1024);
      const put = await request(`${base}big`, { method: 'PUT', body: big });
      expect(put.status, put.body.toString() + lines.join('\n')).toBe(201);
      const got = await request(`${base}big`);
      expect(got.status).toBe(200);
      expect(Buffer.compare(got.body, big)).toBe(0);
      expect((await request(`${base}big`, { method: 'PUT', body: Buffer.from('small now') })).status).toBe(201);
      expect((await request(`${base}big`)).body.toString()).toBe('small now');

      for (const k of ['l/b', 'l/%F0%9F%98%80', 'l/a', 'l/%C3%A9', 'lx']) expect((await request(`${base}${k}`, { method: 'PUT', body: Buffer.from(k) })).status).toBe(201);
      // "l/big..." chunk items never show; order is UTF-8 byte order.
      expect(JSON.parse((await request(`${base}?prefix=l/`)).body.toString())).toEqual(['l/a', 'l/b', 'l/\u00e9', 'l/\u{1F600}']);
      expect(JSON.parse((await request(`${base}?prefix=`)).body.toString())).toEqual(['big', 'bin', 'l/a', 'l/b', 'l/\u00e9', 'l/\u{1F600}', 'lx']);
      expect((await request(`${base}l/b`, { method: 'DELETE' })).status).toBe(204);
      expect((await request(`${base}l/b`)).status).toBe(404);

      expect((await request(`${base}ttl?ttl=1`, { method: 'PUT', body: Buffer.from('short') })).status).toBe(201);
      await waitFor('the 1 s TTL expiring', async () => (await request(`${base}ttl`)).status === 404, 15_000);
      expect(JSON.parse((await request(`${base}?prefix=ttl`)).body.toString())).toEqual([]);
    } finally {
      await emulator.close();
    }
  }, 300_000);
});
