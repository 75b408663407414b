/**
 * Outbound HTTP in the component (wfn_http_v1 on wasi:http/outgoing-handler, the bridge's
 * outbound.wat) through `jco serve`: the shared suite (test/adapters/outbound-suite.ts) with
 * what a wasi:http engine does differently (no fetch() in between: bodies come as sent, and
 * jco joins repeated set-cookie lines), and what only the component has: the allow list is
 * the bridge's own, so an engine that allows everything (jco serve, wasmtime serve) still
 * refuses an origin wfn.toml does not allow.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it, vi } from 'vitest';
import { adapter, componentPath } from '../../../adapters/component/index.js';
import { componentWorld, proxyWorldProblems } from '../../../src/pipeline/component-world.js';
import { request } from '../../helpers/http.js';
import { outboundSuite, text } from '../outbound-suite.js';

vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

outboundSuite({ adapter, streamsBodies: true, decodesBodies: false, setCookieApart: false, secrets: false, cutsOffStartedResponses: true }, (ctx) => {
  describe('outbound HTTP in the component only', () => {
    it('a function making outbound calls is still exactly a wasi:http/proxy component: outgoing-handler is in that world', async () => {
      const bundle = await adapter.package(await ctx().artifact('world', {}, { allow: ['https://api.example.com'] }));
      const world = await componentWorld(new Uint8Array(await readFile(componentPath(bundle))));
      expect(proxyWorldProblems(world)).toEqual([]);
      expect(world.imports).toContain('wasi:http/outgoing-handler@0.2.12');
      expect(world.exports).toEqual(['wasi:http/incoming-handler@0.2.12']);
    });

    it('the allow list is compiled into the bridge: a loopback origin jco serve would reach is refused', async () => {
      const { upstream } = ctx();
      const logs: string[] = [];
      // jco serve allows every outgoing request: only the bridge stands between the function and localhost.
      const emulator = await adapter.emulate(await adapter.package(await ctx().artifact('bridge-policy', { UPSTREAM: upstream.origin }, { allow: [`http://127.0.0.1:${upstream.port + 1}`] })), {
        host: '127.0.0.1', port: 0, log: (line) => logs.push(line),
      });
      try {
        const res = await request(`${emulator.url}echo`);
        expect(res.status).toBe(502);
        expect(text(res.body)).toBe(`outbound request to http://127.0.0.1:${upstream.port} denied: not in [outbound] allow of wfn.toml (code 1)`);
        expect(logs.join('\n')).toContain(`wfn outbound: outbound request to http://127.0.0.1:${upstream.port} denied`);
      } finally {
        await emulator.close();
      }
    });
  });
});
