// The self-hosted adapter in-process: package, deploy through the admin API (no-op on the same
// bytes, errors mapped to clear messages), and emulate (a local wfn serve with the function).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adapter } from '../../../adapters/self-hosted/index.js';
import type { Artifact, Bundle } from '../../../src/target/types.js';
import { UserError } from '../../../src/util/errors.js';
import { request } from '../../helpers/http.js';
import { admin, startTestServe, tempDir, textFunction, TOKEN, type TestServer } from '../../server/serve/helpers.js';
import { writeFile } from 'node:fs/promises';

describe('self-hosted adapter', () => {
  let server: TestServer;
  let bundle: Bundle;
  let artifact: Artifact;

  beforeAll(async () => {
    server = await startTestServe({ maxBodyBytes: 64 * 1024 });
    const dir = await tempDir('adapter');
    const wasmPath = path.join(dir, 'greet.wasm');
    await writeFile(wasmPath, await textFunction('greetings'));
    artifact = { name: 'greet', wasmPath, env: { PLAIN: 'p' }, secrets: ['API_KEY'], limits: { memoryMiB: 32, timeoutMs: 4000 }, projectDir: dir };
    // The secret's value is in the environment while packaging: it could leak into the bundle.
    process.env.API_KEY = 's3cret';
    try {
      bundle = await adapter.package(artifact);
    } finally {
      delete process.env.API_KEY;
    }
  });
  afterAll(async () => {
    await server?.close();
  });

  const flags = () => ({ url: server.url });
  const quiet = { log: () => {} };

  it('packages the .wasm with a manifest (sha256, config, secret names) under .wfn/targets/self-hosted', async () => {
    expect(bundle.dir).toBe(path.join(artifact.projectDir!, '.wfn', 'targets', 'self-hosted'));
    expect(bundle.files.map((f) => f.path)).toEqual(['function.wasm', 'manifest.json']);
    const manifest = JSON.parse(await readFile(path.join(bundle.dir, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ name: 'greet', config: { env: { PLAIN: 'p' }, limits: { memoryMiB: 32, timeoutMs: 4000 } }, secrets: ['API_KEY'] });
    expect(manifest.sha256).toMatch(/^[0-9a-f]{64}$/);
    // Names only: no file of the bundle holds the value that was in the environment.
    for (const f of bundle.files) expect((await readFile(path.join(bundle.dir, f.path))).includes('s3cret'), f.path).toBe(false);
  });

  it('deploys with secrets from the environment; the same bytes again change nothing', async () => {
    await expect(adapter.deploy(bundle, { env: { WFN_TOKEN: TOKEN }, flags: flags(), ...quiet })).rejects.toThrow(/API_KEY not set/);
    const env = { WFN_TOKEN: TOKEN, API_KEY: 's3cret' };
    const first = await adapter.deploy(bundle, { env, flags: flags(), ...quiet });
    expect(first).toMatchObject({ target: 'self-hosted', name: 'greet', url: `${server.url}/greet/`, version: 1, unchanged: false });
    expect((await request(first.url!)).body.toString()).toBe('greetings');
    // The secret's value stays on the server, out of the record: GET shows its name only.
    const described = (await admin(server.url, 'functions/greet')).json;
    expect(described.manifest.config.env).toEqual({ PLAIN: 'p' });
    expect(described.manifest.config.secrets).toEqual({ names: ['API_KEY'], id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(JSON.stringify(described)).not.toContain('s3cret');
    const second = await adapter.deploy(bundle, { env, flags: flags(), ...quiet });
    expect(second).toMatchObject({ version: 1, unchanged: true });
    // A changed secret is a new version.
    expect((await adapter.deploy(bundle, { env: { ...env, API_KEY: 'rotated' }, flags: flags(), ...quiet })).version).toBe(2);
  });

  it('maps refusals to clear user errors, and changes nothing', async () => {
    const env = { WFN_TOKEN: 'wrong', API_KEY: 'x' };
    await expect(adapter.deploy(bundle, { env, flags: flags(), ...quiet })).rejects.toThrow(/refused the admin token \(401\)/);
    await expect(adapter.deploy(bundle, { env: { API_KEY: 'x' }, flags: {}, ...quiet })).rejects.toThrow(/needs the server URL/);
    await expect(adapter.deploy(bundle, { env: { API_KEY: 'x' }, flags: { url: 'http://127.0.0.1:1' }, ...quiet })).rejects.toThrow(/Cannot reach wfn serve at http:\/\/127.0.0.1:1: ECONNREFUSED/);
    const bigPath = path.join(artifact.projectDir!, 'big.wasm');
    const big = new Uint8Array(100 * 1024);
    big.set(await textFunction('big'));
    await writeFile(bigPath, big); // trailing zero bytes make it invalid, but the size check comes first
    const bigBundle = await adapter.package({ ...artifact, name: 'big', wasmPath: bigPath, projectDir: undefined, secrets: [] });
    const error = await adapter.deploy(bigBundle, { env: { WFN_TOKEN: TOKEN }, flags: flags(), ...quiet }).catch((e) => e);
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toMatch(/size limit/);
    expect(error.hint).toMatch(/--max-body/);
    expect((await admin(server.url, 'functions')).json.functions.map((f: { name: string }) => f.name)).toEqual(['greet']);
  });

  it('emulates: a local wfn serve with the function deployed at /<name>/', async () => {
    process.env.API_KEY = 'local';
    const emulator = await adapter.emulate(bundle, { host: '127.0.0.1', port: 0, log: () => {} });
    try {
      expect(emulator.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/greet\/$/);
      expect((await request(`${emulator.url}x?y=1`)).body.toString()).toBe('greetings');
    } finally {
      await emulator.close();
      delete process.env.API_KEY;
    }
  });
});
