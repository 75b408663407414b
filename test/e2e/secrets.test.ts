// Secrets on every target: named in wfn.toml, valued from the environment, read by the
// function like any variable, and never in --json output, logs, packages on disk or wfn serve's
// records and answers. The function answers the secret reversed, so the canary value itself
// appears nowhere a test greps, while the answer proves the function saw it exactly.
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { adapter as cloudflare } from '../../adapters/cloudflare/index.js';
import { adapter as fastly } from '../../adapters/fastly/index.js';
import { adapter as lambda } from '../../adapters/lambda/index.js';
import { adapter as selfHosted } from '../../adapters/self-hosted/index.js';
import { loadConfig } from '../../src/config/load.js';
import { buildProject } from '../../src/pipeline/build.js';
import { artifactFrom } from '../../src/project/artifact.js';
import { scaffoldProject } from '../../src/project/scaffold.js';
import { startDevServer } from '../../src/project/dev.js';
import { wfn } from '../helpers/cli.js';
import { request } from '../helpers/http.js';
import { itWithToolchain } from '../helpers/toolchain-gate.js';
import { admin, startTestServe, TOKEN, type TestServer } from '../server/serve/helpers.js';

const NAME = 'WFN_TEST_CANARY';
const CANARY = `canary-${Math.random().toString(36).slice(2)}-value`;
const REVERSED = [...CANARY].reverse().join('');

const SOURCE = `import { env, respond } from "./cgi";
const value = env("${NAME}");
let reversed = "";
for (let i = value.length - 1; i >= 0; i--) reversed += value.charAt(i);
respond("", "text/plain", value.length == 0 ? "(unset)" : reversed);
`;

/**
 * Starts a server with the canary in this process's environment (the emulators and dev read
 * secrets from it), asks it once, and returns the answer's body; the environment is restored.
 */
async function askWithSecret(start: () => Promise<{ url: string; close(): Promise<void> }>): Promise<string> {
  const saved = process.env[NAME];
  process.env[NAME] = CANARY;
  try {
    const server = await start();
    try {
      return (await request(server.url)).body.toString();
    } finally {
      await server.close();
    }
  } finally {
    if (saved === undefined) delete process.env[NAME];
    else process.env[NAME] = saved;
  }
}

/** Every file under dir that holds the canary. */
async function filesWithCanary(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    if ((await readFile(file)).includes(CANARY)) found.push(file);
  }
  return found;
}

describe('secrets', async () => {
  const it = await itWithToolchain('assemblyscript');
  let dir = '';
  let server: TestServer | undefined;
  beforeAll(async () => {
    const parent = await mkdtemp(path.join(tmpdir(), 'wfn-secrets-'));
    dir = (await scaffoldProject('secretive', 'assemblyscript', 'http', parent)).dir;
    await writeFile(path.join(dir, 'assembly', 'index.ts'), SOURCE);
    await writeFile(path.join(dir, 'wfn.toml'), `name = "secretive"\nlanguage = "assemblyscript"\nsecrets = ["${NAME}"]\n`);
    await buildProject(await loadConfig(dir));
  }, 600_000);
  afterAll(async () => {
    await server?.close();
  });

  it('wfn run --json: the function reads the secret from the environment; the output never holds it', async () => {
    const ran = await wfn(['run', dir, '--json'], { env: { [NAME]: CANARY } });
    expect(ran.code, ran.stderr).toBe(0);
    expect(Buffer.from(JSON.parse(ran.stdout).bodyBase64, 'base64').toString()).toBe(REVERSED);
    expect(ran.stdout + ran.stderr).not.toContain(CANARY);
    const unset = await wfn(['run', dir], { env: { [NAME]: undefined } });
    expect(unset.stdout).toMatch(/\n\n\(unset\)$/);
    expect(unset.stderr).toContain(`secret ${NAME} not set in this shell`);
  }, 600_000);

  it('wfn dev: the same, and nothing logged holds the value', async () => {
    const lines: string[] = [];
    const answer = await askWithSecret(() => startDevServer({ host: '127.0.0.1', port: 0, projectDir: dir, watch: false, log: (l) => lines.push(l), progress: (l) => lines.push(l) }));
    expect(answer).toBe(REVERSED);
    expect(lines.join('\n')).not.toContain(CANARY);
  }, 600_000);

  it('wfn serve: uploaded with the deploy, stored apart (0600) and never in the record, list, get or logs', async () => {
    server = await startTestServe();
    const artifact = await artifactFrom({ kind: 'project', dir });
    const bundle = await selfHosted.package(artifact);
    const deployed = await selfHosted.deploy(bundle, { env: { WFN_TOKEN: TOKEN, [NAME]: CANARY }, flags: { url: server.url }, log: () => {} });
    expect(JSON.stringify(deployed)).not.toContain(CANARY);
    expect((await request(`${server.url}/secretive/`)).body.toString()).toBe(REVERSED);

    const got = await admin(server.url, 'functions/secretive');
    expect(got.json.manifest.config.secrets.names).toEqual([NAME]);
    const listed = await admin(server.url, 'functions');
    expect(got.body.toString() + listed.body.toString()).not.toContain(CANARY);
    expect([...server.messages, ...server.access].join('\n')).not.toContain(CANARY);
    expect(await filesWithCanary(bundle.dir)).toEqual([]);

    // On disk only in secrets/<name>/<id>.json, readable by the server's user alone.
    const holders = await filesWithCanary(server.dataDir);
    expect(holders.map((f) => path.relative(server!.dataDir, f))).toEqual([path.join('secrets', 'secretive', `${got.json.manifest.config.secrets.id}.json`)]);
    expect((await stat(holders[0])).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(path.dirname(holders[0])))).mode & 0o777).toBe(0o700);

    // The same values again: nothing changes. A rotated value: a new version, the old set removed with it later.
    expect((await selfHosted.deploy(bundle, { env: { WFN_TOKEN: TOKEN, [NAME]: CANARY }, flags: { url: server.url }, log: () => {} })).unchanged).toBe(true);
    const rotated = await selfHosted.deploy(bundle, { env: { WFN_TOKEN: TOKEN, [NAME]: 'rotated' }, flags: { url: server.url }, log: () => {} });
    expect(rotated).toMatchObject({ unchanged: false, version: 2 });
    expect((await request(`${server.url}/secretive/`)).body.toString()).toBe('detator');
    // Deleting the function deletes its secrets.
    expect((await admin(server.url, 'functions/secretive', { method: 'DELETE' })).status).toBe(204);
    expect(await filesWithCanary(server.dataDir)).toEqual([]);
  }, 600_000);

  it('Lambda: the zip holds the name only; the emulator passes the value from the environment', async () => {
    const artifact = await artifactFrom({ kind: 'project', dir });
    const bundle = await lambda.package(artifact);
    expect(await filesWithCanary(bundle.dir)).toEqual([]);
    const lines: string[] = [];
    const emulator = await lambda.emulate(bundle, { host: '127.0.0.1', port: 0, log: (l) => lines.push(l), processEnv: { [NAME]: CANARY } } as Parameters<typeof lambda.emulate>[1]);
    try {
      expect((await request(emulator.url)).body.toString()).toBe(REVERSED);
    } finally {
      await emulator.close();
    }
    expect(lines.join('\n')).not.toContain(CANARY);
  }, 600_000);

  for (const target of [cloudflare, fastly]) {
    it(`${target.name}: deploy --dry-run --json and the package hold the name only; dev --target ${target.name} passes the value`, async () => {
      const dry = await wfn(['deploy', dir, '--target', target.name, '--dry-run', '--json'], { env: { [NAME]: CANARY } });
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stdout + dry.stderr).not.toContain(CANARY);
      const bundle = await target.package(await artifactFrom({ kind: 'project', dir }));
      expect(await filesWithCanary(bundle.dir)).toEqual([]);
      const lines: string[] = [];
      expect(await askWithSecret(() => target.emulate(bundle, { host: '127.0.0.1', port: 0, log: (l) => lines.push(l) }))).toBe(REVERSED);
      expect(lines.join('\n')).not.toContain(CANARY);
      expect(await filesWithCanary(bundle.dir)).toEqual([]);
    }, 600_000);
  }
});
