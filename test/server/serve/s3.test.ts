// The S3 store with two replicas against moto's S3: a deploy through one is served by the
// other within the poll interval. Replica A runs in-process with an explicit client, replica B
// is the CLI configured the SDK's usual way (AWS_ENDPOINT_URL). CI=true: a missing moto fails.
import { spawn, type ChildProcess } from 'node:child_process';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findMotoServer, MOTO_FIX } from '../../../src/project/doctor.js';
import { createServeLog } from '../../../src/server/serve/log.js';
import { startServe, type ServeServer } from '../../../src/server/serve/server.js';
import { S3Store } from '../../../src/server/serve/store-s3.js';
import { request } from '../../helpers/http.js';
import { admin, deploy, freePort, startCliServe, textFunction, TOKEN, type CliServer } from './helpers.js';

// Found the way `wfn doctor` finds it (PATH, then pyenv's shims).
const MOTO = findMotoServer();
const REQUIRED = process.env.CI === 'true';
const POLL_MS = 500;
const BUCKET = 'wfn-functions';
const PREFIX = 'prod/';

async function waitFor(what: string, check: () => Promise<boolean>, limitMs: number): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < limitMs) {
    if (await check()) return performance.now() - started;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what}: not within ${limitMs} ms`);
}

async function body(url: string): Promise<string> {
  const res = await request(url);
  return res.status === 200 ? res.body.toString() : `HTTP ${res.status}`;
}

// Skipped only outside CI when moto_server is missing (CI=true fails instead); it says so.
if (!MOTO && !REQUIRED) console.warn(`skipping the S3 store tests: moto_server is not installed (${MOTO_FIX})`);
describe.skipIf(!MOTO && !REQUIRED)('wfn serve --store s3 (moto)', () => {
  let moto: ChildProcess | undefined;
  let endpoint = '';
  let a: ServeServer | undefined;
  let b: CliServer | undefined;
  const env = { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: 'us-east-1' };

  beforeAll(async () => {
    if (!MOTO) throw new Error(`moto_server is not installed (${MOTO_FIX}); CI requires it`);
    const port = await freePort();
    endpoint = `http://127.0.0.1:${port}`;
    moto = spawn(MOTO, ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    await waitFor('moto_server start', () => request(`${endpoint}/`, { timeoutMs: 500 }).then(() => true, () => false), 30_000);
    const client = new S3Client({ endpoint, forcePathStyle: true, region: env.AWS_REGION, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
    a = await startServe({
      host: '127.0.0.1',
      port: 0,
      store: new S3Store({ bucket: BUCKET, prefix: PREFIX, client }),
      token: TOKEN,
      defaultLimits: { memoryMiB: 32, timeoutMs: 5000 },
      pollIntervalMs: POLL_MS,
      log: createServeLog('text', { access: () => {}, messages: () => {} }),
    });
  });

  afterAll(async () => {
    b?.child.kill('SIGKILL');
    await a?.close();
    moto?.kill('SIGKILL');
  });

  it('a deploy, rollback or delete through one replica reaches the other within the poll interval', async () => {
    // Deployed before replica B exists: B loads it at startup.
    expect((await deploy(a!.url, 'early', await textFunction('early bird'))).status).toBe(201);
    b = await startCliServe(['--port', '0', '--store', 's3', '--s3-bucket', BUCKET, '--s3-prefix', PREFIX, '--poll-interval', String(POLL_MS)], {
      ...env,
      AWS_ENDPOINT_URL: endpoint,
      WFN_TOKEN: TOKEN,
    });
    expect(b.stderr()).toContain(`store: s3://${BUCKET}/${PREFIX}`);
    expect(await body(`${b.url}/early/`)).toBe('early bird');

    // A bound that only catches a replica that never follows (a busy machine may take several intervals).
    const bound = 20 * POLL_MS;
    const [one, two] = await Promise.all([textFunction('one'), textFunction('two')]);
    expect((await deploy(a!.url, 'shared', one)).status).toBe(201);
    await waitFor('B serves the deploy made through A', async () => (await body(`${b!.url}/shared/`)) === 'one', bound);

    expect((await deploy(b.url, 'shared', two)).status).toBe(201);
    await waitFor('A serves the deploy made through B', async () => (await body(`${a!.url}/shared/`)) === 'two', bound);
    expect((await admin(a!.url, 'functions/shared')).json.versions.map((v: { version: number }) => v.version)).toEqual([1, 2]);

    expect((await admin(a!.url, 'functions/shared/rollback', { method: 'POST' })).json.version).toBe(1);
    await waitFor('B follows the rollback made through A', async () => (await body(`${b!.url}/shared/`)) === 'one', bound);

    expect((await admin(b.url, 'functions/shared', { method: 'DELETE' })).status).toBe(204);
    await waitFor('A drops the function deleted through B', async () => (await body(`${a!.url}/shared/`)) === 'HTTP 404', bound);
    expect(await body(`${a!.url}/early/`)).toBe('early bird');

    // The layout in the bucket: blobs by sha256 and one record per function, under the prefix.
    const client = new S3Client({ endpoint, forcePathStyle: true, region: env.AWS_REGION, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    const keys = ((await client.send(new ListObjectsV2Command({ Bucket: BUCKET }))).Contents ?? []).map((o) => o.Key!).sort();
    expect(keys.filter((k) => k.startsWith(`${PREFIX}functions/`))).toEqual([`${PREFIX}functions/early.json`]);
    expect(keys.every((k) => k.startsWith(PREFIX))).toBe(true);
    expect(keys.filter((k) => /blobs\/[0-9a-f]{64}\.wasm$/.test(k)).length).toBeGreaterThanOrEqual(1);
  });
});
