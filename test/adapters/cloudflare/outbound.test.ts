/**
 * Outbound HTTP and secrets on Cloudflare (the shared suite: test/adapters/outbound-suite.ts):
 * the real workerd runs the packaged Worker, whose shim suspends the wasm stack with JSPI
 * while the Worker's own fetch() reaches the loopback upstream.
 */
import { describe, expect, it } from 'vitest';
import { adapter } from '../../../adapters/cloudflare/index.js';
import { request } from '../../helpers/http.js';
import { outboundSuite } from '../outbound-suite.js';

outboundSuite({ adapter, streamsBodies: false }, (ctx) => {
  describe('outbound HTTP on Cloudflare only', () => {
    it('a function waiting on a call is stopped by the shim at its timeout: workerd is not restarted', async () => {
      const { upstream } = ctx();
      const a = await ctx().artifact('cf-slow', { UPSTREAM: upstream.origin }, { allow: [upstream.origin], timeoutMs: 60_000 });
      a.limits = { ...a.limits, timeoutMs: 1000 };
      const logs: string[] = [];
      const emulator = await adapter.emulate(await adapter.package(a), { host: '127.0.0.1', port: 0, log: (l) => logs.push(l) });
      try {
        expect((await request(`${emulator.url}hang`)).status).toBe(504);
        expect(logs.some((l) => / 504 .*waiting on an outbound call/.test(l))).toBe(true);
        expect(logs.join('\n')).not.toContain('workerd was restarted');
      } finally {
        await emulator.close();
      }
    });
  });
});
