/**
 * Outbound HTTP and secrets on Fastly (the shared suite: test/adapters/outbound-suite.ts), and
 * what only Fastly has: dynamic backends that a service may not have enabled, and the
 * messages its send error details give.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { adapter, mainWasmPath } from '../../../adapters/fastly/index.js';
import { startFastlyEmulator } from '../../../adapters/fastly/emulator/server.js';
import { request } from '../../helpers/http.js';
import { closedPort } from '../../helpers/upstream.js';
import { outboundSuite, text } from '../outbound-suite.js';

outboundSuite({ adapter, streamsBodies: true }, (ctx) => {
  describe('outbound HTTP on Fastly only', () => {
    it('a refused connection is named as such', async () => {
      const port = await closedPort();
      const emulator = await adapter.emulate(await adapter.package(await ctx().artifact('refused', { UPSTREAM: `http://127.0.0.1:${port}` }, { allow: [`http://127.0.0.1:${port}`] })), {
        host: '127.0.0.1', port: 0, log: () => {},
      });
      try {
        expect(text((await request(`${emulator.url}x`)).body)).toBe(`outbound request to http://127.0.0.1:${port} failed: connection refused (code 2)`);
      } finally {
        await emulator.close();
      }
    });

    it('a service without dynamic backends: 502 saying they must be enabled', async () => {
      const { upstream } = ctx();
      const bundle = await adapter.package(await ctx().artifact('nodyn', { UPSTREAM: upstream.origin }, { allow: [upstream.origin] }));
      const emulator = await startFastlyEmulator(new Uint8Array(await readFile(mainWasmPath(bundle))), {
        host: '127.0.0.1', port: 0, log: () => {}, memoryMiB: 128, timeoutMs: 5000, dynamicBackends: false,
      });
      try {
        const res = await request(`${emulator.url}x`);
        expect(res.status).toBe(502);
        expect(text(res.body)).toMatch(/Fastly refused to register a dynamic backend for http:\/\/127\.0\.0\.1:\d+ \(status 5\): dynamic backends must be enabled on the service \(code 9\)$/);
      } finally {
        await emulator.close();
      }
    });
  });
});
