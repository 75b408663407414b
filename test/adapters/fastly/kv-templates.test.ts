/**
 * The kv template of every language on `wfn dev --target fastly`: the function merged with the
 * adapter (kv.wat) into main.wasm, in the emulator, its store a SQLite file under .wfn/kv/fastly.
 * Round trips, byte order, bad keys, a TTL that expires (Fastly takes any TTL), a refused store.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { adapter } from '../../../adapters/fastly/index.js';
import { DEFAULT_LIMITS } from '../../../src/config/types.js';
import { DEFAULT_OUTBOUND } from '../../../src/runtime/outbound/abi.js';
import type { Artifact } from '../../../src/target/types.js';
import { request } from '../../helpers/http.js';
import { itWithToolchain } from '../../helpers/toolchain-gate.js';
import { checkDenied, checkKvTemplate, kvTemplateWasm, LANGUAGES } from '../kv-templates.js';

async function serve(language: string, wasmPath: string, stores: string[], logs: string[]) {
  const projectDir = await mkdtemp(path.join(tmpdir(), `wfn-fastly-kvt-${language}-`));
  const artifact: Artifact = { name: `kvt-${language}`, wasmPath, env: {}, secrets: [], limits: { ...DEFAULT_LIMITS, timeoutMs: 20_000 }, outbound: DEFAULT_OUTBOUND, kv: { stores }, projectDir };
  return adapter.emulate(await adapter.package(artifact), { host: '127.0.0.1', port: 0, log: (l) => logs.push(l) });
}

for (const language of LANGUAGES) {
  describe(`${language} kv template on the Fastly emulator`, async () => {
    const it = await itWithToolchain(language);

    it('round trips, list order, bad keys, TTL expiry; another store name is refused', async () => {
      const wasm = await kvTemplateWasm(language);
      const logs: string[] = [];
      const emulator = await serve(language, wasm, ['default'], logs);
      try {
        await checkKvTemplate(emulator.url, () => logs.join('\n'));
        expect((await request(`${emulator.url}ttl/short?ttl=2`, { method: 'PUT', body: Buffer.from('soon gone') })).status).toBe(201);
        expect((await request(`${emulator.url}ttl/kept?ttl=3600`, { method: 'PUT', body: Buffer.from('kept') })).status).toBe(201);
        expect((await request(`${emulator.url}ttl/short`)).status).toBe(200);
        const end = Date.now() + 15_000;
        while ((await request(`${emulator.url}ttl/short`)).status !== 404) {
          if (Date.now() > end) throw new Error('the 2 s TTL did not expire within 15 s');
          await new Promise((r) => setTimeout(r, 200));
        }
        expect(JSON.parse(Buffer.from((await request(`${emulator.url}?prefix=ttl/`)).body).toString())).toEqual(['ttl/kept']);
      } finally {
        await emulator.close();
      }
      const denied = await serve(language, wasm, ['sessions'], []);
      try {
        await checkDenied(denied.url);
      } finally {
        await denied.close();
      }
    }, 900_000);
  });
}
