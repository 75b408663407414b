// Key-value stores shared by two `wfn serve --store s3` replicas against moto's S3: the Rust kv
// template deployed through one replica, then writes through either replica read back through the
// other at once (S3 is strongly consistent: the documented bound is "immediately after the write
// returned"), alternating writes to one key lose none, binary and 5 MiB values, list order, TTL.
// Replica B is the CLI configured the SDK's usual way (AWS_ENDPOINT_URL). CI=true: a missing moto fails.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServeLog } from '../../../src/server/serve/log.js';
import { startServe, type ServeServer } from '../../../src/server/serve/server.js';
import { S3Store } from '../../../src/server/serve/store-s3.js';
import { request } from '../../helpers/http.js';
import { buildTemplate } from '../../helpers/templates.js';
import { testBytes } from '../../helpers/upstream.js';
import { deploy, freePort, startCliServe, TOKEN, type CliServer } from './helpers.js';

const MOTO = ['/root/.pyenv/shims/moto_server', ...(process.env.PATH ?? '').split(':').map((d) => `${d}/moto_server`)].find((p) => existsSync(p));
const REQUIRED = process.env.CI === 'true';
const POLL_MS = 500;
const BUCKET = 'wfn-kv';
const PREFIX = 'prod/';

async function waitFor(what: string, check: () => Promise<boolean>, limitMs: number): Promise<void> {
  const started = performance.now();
  while (performance.now() - started < limitMs) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what}: not within ${limitMs} ms`);
}

if (!MOTO && !REQUIRED) console.warn('skipping the S3 key-value tests: moto_server is not installed (pip install "moto[server]")');
describe.skipIf(!MOTO && !REQUIRED)('key-value on wfn serve --store s3 (moto): two replicas', () => {
  let moto: ChildProcess | undefined;
  let endpoint = '';
  let a: ServeServer | undefined;
  let b: CliServer | undefined;
  let client: S3Client;
  const env = { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: 'us-east-1' };

  beforeAll(async () => {
    if (!MOTO) throw new Error('moto_server is not installed (pip install "moto[server]"); CI requires it');
    const port = await freePort();
    endpoint = `http://127.0.0.1:${port}`;
    moto = spawn(MOTO, ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    await waitFor('moto_server start', () => request(`${endpoint}/`, { timeoutMs: 500 }).then(() => true, () => false), 30_000);
    client = new S3Client({ endpoint, forcePathStyle: true, region: env.AWS_REGION, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
    a = await startServe({
      host: '127.0.0.1',
      port: 0,
      store: new S3Store({ bucket: BUCKET, prefix: PREFIX, client }),
      token: TOKEN,
      defaultLimits: { memoryMiB: 64, timeoutMs: 10_000 },
      pollIntervalMs: POLL_MS,
      log: createServeLog('text', { access: () => {}, messages: () => {} }),
    });
  }, 60_000);

  afterAll(async () => {
    b?.child.kill('SIGKILL');
    await a?.close();
    moto?.kill('SIGKILL');
  });

  it('writes through one replica are read through the other at once; none is lost; binary, 5 MiB, list order and TTL hold', async () => {
    const wasm = new Uint8Array(await readFile(await buildTemplate('rust', 'kv')));
    expect((await deploy(a!.url, 'kv', wasm, { kv: { stores: ['default'] } })).status).toBe(201);
    b = await startCliServe(['--port', '0', '--store', 's3', '--s3-bucket', BUCKET, '--s3-prefix', PREFIX, '--poll-interval', String(POLL_MS)], {
      ...env,
      AWS_ENDPOINT_URL: endpoint,
      WFN_TOKEN: TOKEN,
    });
    const A = `${a!.url}/kv/`;
    const B = `${b.url}/kv/`;
    await waitFor('B serves the function', async () => (await request(`${B}nothing`)).status === 404, 10_000);

    // Alternating writers on one key: after each write returns, the other replica reads exactly it.
    for (let i = 0; i < 20; i++) {
      const [writer, reader] = i % 2 === 0 ? [A, B] : [B, A];
      expect((await request(`${writer}counter`, { method: 'PUT', body: Buffer.from(`value ${i}`) })).status).toBe(201);
      const read = await request(`${reader}counter`);
      expect(read.status).toBe(200);
      expect(read.body.toString()).toBe(`value ${i}`);
    }

    // Concurrent writers on one key: the value is one of theirs, whole (last writer wins, nothing torn).
    const racing = Array.from({ length: 8 }, (_, i) => Buffer.from(`racer ${i} `.repeat(1000)));
    const answers = await Promise.all(racing.map((body, i) => request(`${i % 2 ? A : B}race`, { method: 'PUT', body })));
    expect(answers.every((r) => r.status === 201)).toBe(true);
    const [fromA, fromB] = await Promise.all([request(`${A}race`), request(`${B}race`)]);
    expect(fromA.body.toString()).toBe(fromB.body.toString());
    expect(racing.some((r) => r.equals(fromA.body))).toBe(true);

    const big = testBytes(5 * 1024 * 1024);
    expect((await request(`${A}big`, { method: 'PUT', body: big })).status).toBe(201);
    const gotBig = await request(`${B}big`);
    expect(Buffer.compare(gotBig.body, big)).toBe(0);

    for (const k of ['l/b', 'l/%F0%9F%98%80', 'l/a', 'l/%C3%A9']) expect((await request(`${A}${k}`, { method: 'PUT', body: Buffer.from(k) })).status).toBe(201);
    expect(JSON.parse((await request(`${B}?prefix=l/`)).body.toString())).toEqual(['l/a', 'l/b', 'l/\u00e9', 'l/\u{1F600}']);

    expect((await request(`${B}l/b`, { method: 'DELETE' })).status).toBe(204);
    expect((await request(`${A}l/b`)).status).toBe(404);

    expect((await request(`${A}ttl?ttl=1`, { method: 'PUT', body: Buffer.from('short') })).status).toBe(201);
    await waitFor('the 1 s TTL expiring, seen through B', async () => (await request(`${B}ttl`)).status === 404, 15_000);
    expect(JSON.parse((await request(`${B}?prefix=ttl`)).body.toString())).toEqual([]);

    // The layout: one object per key under <prefix>kv/<function>/<store>/.
    const keys = ((await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${PREFIX}kv/` }))).Contents ?? []).map((o) => o.Key!);
    expect(keys).toContain(`${PREFIX}kv/kv/default/counter`);
    expect(keys).toContain(`${PREFIX}kv/kv/default/l/\u00e9`);
  }, 300_000);
});
