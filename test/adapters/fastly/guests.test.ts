/**
 * Real guests through the Fastly adapter: each language's http template (and fib for two), built by
 * wfn's own pipeline, merged, run on the emulated hostcalls, must answer exactly as wfn's
 * runtime does. A missing toolchain skips its language locally and fails under CI=true.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, test } from 'vitest';
import type { Language } from '../../../src/config/types.js';
import { ToolchainMissingError } from '../../../src/util/errors.js';
import { buildTemplate } from '../../helpers/templates.js';
import { prepare, request, text, viaFastly, viaWfn } from './helpers.js';

const enc = (s: string) => new TextEncoder().encode(s);

const REQUESTS = {
  http: [
    request('http://127.0.0.1:8080/hello/w%C3%B6rld?name=wasm&x=a+b%21&x=last&empty'),
    request('http://127.0.0.1:8080/submit', {
      method: 'POST',
      headers: [['host', '127.0.0.1:8080'], ['content-type', 'text/plain']],
      body: enc('héllo "quoted"\n\tbody ' + 'x'.repeat(70_000)),
    }),
  ],
  fib: [request('http://127.0.0.1:8080/?n=20'), request('http://127.0.0.1:8080/?n=abc'), request('http://127.0.0.1:8080/?n=91')],
};

const LANGUAGES: Language[] = ['assemblyscript', 'rust', 'go', 'js'];

/** The template's .wasm, or undefined when its toolchain is missing here (an error under CI=true). */
async function built(language: Language, template: string): Promise<string | undefined> {
  try {
    return await buildTemplate(language, template);
  } catch (error) {
    if (error instanceof ToolchainMissingError && process.env.CI !== 'true') return undefined;
    throw error;
  }
}

for (const language of LANGUAGES) {
  describe(`${language} templates through the Fastly adapter`, () => {
    // fib (a Status: 400 answer, 64-bit arithmetic) for two languages keeps the file's time reasonable.
    const templates = language === 'assemblyscript' || language === 'rust' ? (['http', 'fib'] as const) : (['http'] as const);
    for (const template of templates) {
      test(`${template}: same answers as wfn's runtime`, async (ctx) => {
        const file = await built(language, template);
        if (!file) return ctx.skip(`${language} toolchain missing (wfn doctor gives the fix; CI=true fails instead)`);
        const wasm = new Uint8Array(await readFile(file));
        const p = await prepare(wasm, { GREETING: 'hi' });
        for (const req of REQUESTS[template]) {
          const [want, got] = await Promise.all([viaWfn(p, req), viaFastly(p, req)]);
          expect(want.outcome, text(want.stderr)).toBe('ok');
          expect(got.outcome, got.reason).toBe('ok');
          expect(got.response.status).toBe(want.response.status);
          expect(got.response.headers).toEqual(want.response.headers);
          expect(text(got.response.body)).toBe(text(want.response.body));
        }
      });
    }
  });
}
