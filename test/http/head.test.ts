// A HEAD through wfn dev (node:http -> pool -> CGI -> node:http) and through the Cloudflare
// emulator (the Worker in workerd, behind its node:http front): the Content-Length is the one a
// GET would send, as the function declared it without writing the body; a function that writes
// the body on HEAD too is framed by that body, and a GET is always framed by its body.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { adapter as cloudflare } from '../../adapters/cloudflare/index.js';
import { artifactFrom } from '../../src/project/artifact.js';
import { startDevServer } from '../../src/project/dev.js';
import { writeOnce } from '../fixtures/contract.js';
import { request } from '../helpers/http.js';
import { wat2wasm } from '../helpers/wat.js';

// (workerd starts in seconds on a busy machine)
vi.setConfig({ hookTimeout: 120_000 });

const header = (r: { headers: [string, string][] }, name: string) => r.headers.filter(([k]) => k === name).map(([, v]) => v);

describe.each(['dev', 'cloudflare'])('HEAD on %s', (target) => {
  const servers: { url: string; close(): Promise<void> }[] = [];
  let declared: string;
  let withBody: string;

  beforeAll(async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'wfn-head-'));
    const start = async (name: string, stdout: string) => {
      const file = path.join(dir, `${name}.wasm`);
      await writeFile(file, await wat2wasm(writeOnce({ stdout })));
      const server = target === 'dev'
        ? await startDevServer({ host: '127.0.0.1', port: 0, wasmPath: file, log: () => {}, progress: () => {} })
        : await cloudflare.emulate(await cloudflare.package(await artifactFrom({ kind: 'wasm', path: file }, {})), { host: '127.0.0.1', port: 0, log: () => {} });
      servers.push(server);
      return server.url;
    };
    declared = await start('declared', 'Content-Type: application/octet-stream\nContent-Length: 5242880\n\n');
    withBody = await start('body', 'Content-Type: text/plain\nContent-Length: 999\n\nhello');
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  it('answers the Content-Length the function declared for the body it left out', async () => {
    const res = await request(`${declared}file.bin`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(header(res, 'content-length')).toEqual(['5242880']);
    expect(res.body.length).toBe(0);
  });

  it('a GET, and a HEAD answered with a body, are framed by the body the function wrote', async () => {
    const get = await request(`${declared}file.bin`);
    expect([get.status, header(get, 'content-length'), get.body.length]).toEqual([200, ['0'], 0]);
    const headWithBody = await request(`${withBody}x`, { method: 'HEAD' });
    expect(header(headWithBody, 'content-length')).toEqual(['5']);
    const getWithBody = await request(`${withBody}x`);
    expect([header(getWithBody, 'content-length'), getWithBody.body.toString()]).toEqual([['5'], 'hello']);
  });
});
