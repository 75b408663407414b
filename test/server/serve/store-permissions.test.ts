// The file store keeps function records (with their variables, i.e. secrets) and modules
// readable by the server's user only: folders 0700, files 0600, also for a data dir that an
// older version created with looser modes.
import { chmod, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { deploy, startTestServe, tempDir, textFunction, type TestServer } from './helpers.js';

const modeOf = async (file: string) => (await stat(file)).mode & 0o777;

async function modes(dataDir: string): Promise<Record<string, number>> {
  const out: Record<string, number> = { '.': await modeOf(dataDir) };
  for (const sub of ['blobs', 'functions']) {
    out[sub] = await modeOf(path.join(dataDir, sub));
    for (const entry of await readdir(path.join(dataDir, sub))) out[`${sub}/${entry}`] = await modeOf(path.join(dataDir, sub, entry));
  }
  return out;
}

describe('wfn serve file store permissions', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('creates the data dir and its folders 0700, records and blobs 0600', async () => {
    const dataDir = path.join(await tempDir('modes'), 'data'); // created by the store
    server = await startTestServe({ dataDir, workers: 1 });
    expect((await deploy(server.url, 'secret', await textFunction('hi'), { env: { API_KEY: 'k' } })).status).toBe(201);
    const found = await modes(dataDir);
    expect(Object.keys(found)).toHaveLength(5); // the dir, two folders, one record, one blob
    for (const [entry, mode] of Object.entries(found)) {
      const want = entry.includes('.json') || entry.includes('.wasm') ? 0o600 : 0o700;
      expect([entry, mode.toString(8)]).toEqual([entry, want.toString(8)]);
    }
  });

  it('tightens a data dir that was left readable by others, and says so', async () => {
    const dataDir = await tempDir('loose');
    await mkdir(path.join(dataDir, 'functions'), { recursive: true });
    await mkdir(path.join(dataDir, 'blobs'), { recursive: true });
    await writeFile(path.join(dataDir, 'functions', 'old.json'), '{}');
    await writeFile(path.join(dataDir, 'blobs', `${'0'.repeat(64)}.wasm`), 'x');
    await chmod(dataDir, 0o755);
    await chmod(path.join(dataDir, 'functions'), 0o755);
    await chmod(path.join(dataDir, 'blobs'), 0o777);
    await chmod(path.join(dataDir, 'functions', 'old.json'), 0o644);
    await chmod(path.join(dataDir, 'blobs', `${'0'.repeat(64)}.wasm`), 0o666);
    server = await startTestServe({ dataDir, workers: 1 });
    for (const [entry, mode] of Object.entries(await modes(dataDir))) {
      const want = entry.includes('.json') || entry.includes('.wasm') ? 0o600 : 0o700;
      expect([entry, mode.toString(8)]).toEqual([entry, want.toString(8)]);
    }
    expect(server.messages.join('\n')).toMatch(/permissions.*tightened/i);
  });
});
