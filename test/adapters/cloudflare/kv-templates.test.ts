/**
 * The kv template of every language on `wfn dev --target cloudflare`: the Worker in the real
 * workerd, `env.default` a KV namespace binding served from a store. Round trips, byte order,
 * bad keys, a refused store; the TTL raised to Workers KV's 60 s minimum and expiring after it
 * (the store's clock is the test's, so no minute passes).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { adapter } from '../../../adapters/cloudflare/index.js';
import { startCloudflareEmulator } from '../../../adapters/cloudflare/emulator.js';
import { DEFAULT_LIMITS } from '../../../src/config/types.js';
import { DEFAULT_OUTBOUND } from '../../../src/runtime/outbound/abi.js';
import type { Artifact } from '../../../src/target/types.js';
import { request } from '../../helpers/http.js';
import { itWithToolchain } from '../../helpers/toolchain-gate.js';
import { memoryStore } from '../kv-script.js';
import { checkDenied, checkKvTemplate, kvTemplateWasm, LANGUAGES } from '../kv-templates.js';

async function bundleFor(language: string, wasmPath: string, stores: string[]) {
  const projectDir = await mkdtemp(path.join(tmpdir(), `wfn-cf-kvt-${language}-`));
  const artifact: Artifact = { name: `kvt-${language}`, wasmPath, env: {}, secrets: [], limits: { ...DEFAULT_LIMITS, timeoutMs: 20_000 }, outbound: DEFAULT_OUTBOUND, kv: { stores }, projectDir };
  return adapter.package(artifact);
}

for (const language of LANGUAGES) {
  describe(`${language} kv template on the Cloudflare emulator`, async () => {
    const it = await itWithToolchain(language);

    it('round trips, list order, bad keys; a TTL raised to 60 s that then expires; another store name is refused', async () => {
      const wasm = await kvTemplateWasm(language);
      const logs: string[] = [];
      let now = Date.now();
      const store = memoryStore(() => now);
      const emulator = await startCloudflareEmulator(await bundleFor(language, wasm, ['default']), {
        host: '127.0.0.1', port: 0, log: (l) => logs.push(l), kvStore: () => store,
      });
      try {
        await checkKvTemplate(emulator.url, () => logs.join('\n'));
        store.sets.length = 0;
        expect((await request(`${emulator.url}ttl/short?ttl=2`, { method: 'PUT', body: Buffer.from('soon gone') })).status).toBe(201);
        expect((await request(`${emulator.url}ttl/kept?ttl=3600`, { method: 'PUT', body: Buffer.from('kept') })).status).toBe(201);
        expect(store.sets).toEqual([{ key: 'ttl/short', ttlSeconds: 60 }, { key: 'ttl/kept', ttlSeconds: 3600 }]);
        now += 30_000;
        expect((await request(`${emulator.url}ttl/short`)).status).toBe(200);
        now += 31_000;
        expect((await request(`${emulator.url}ttl/short`)).status).toBe(404);
        expect(JSON.parse(Buffer.from((await request(`${emulator.url}?prefix=ttl/`)).body).toString())).toEqual(['ttl/kept']);
      } finally {
        await emulator.close();
      }
      const denied = await adapter.emulate(await bundleFor(language, wasm, ['sessions']), { host: '127.0.0.1', port: 0, log: () => {} });
      try {
        await checkDenied(denied.url);
      } finally {
        await denied.close();
      }
    }, 900_000);
  });
}
