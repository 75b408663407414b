// Every language's http, fib and init templates, as a user drives them: `wfn new`, `wfn build`, `wfn run`,
// and over HTTP through `wfn dev`. The four http templates must answer with equal JSON.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect } from 'vitest';
import type { Language } from '../../src/config/types.js';
import { wfn, wfnBackground } from '../helpers/cli.js';
import { request } from '../helpers/http.js';
import { itWithToolchain } from '../helpers/toolchain-gate.js';

const LANGUAGES: Language[] = ['assemblyscript', 'rust', 'go', 'js'];
const work = await mkdtemp(path.join(tmpdir(), 'wfn-langs-'));
const httpAnswers = new Map<Language, string[]>();

/** The requests the http templates must answer identically in every language. */
const HTTP_CASES = [
  { path: '/hello/w%C3%B6rld?name=wasm&x=a+b%21&x=last&empty=&flag', data: undefined },
  { path: '/submit', data: 'line one\n"quoted" \\ tab\there ünïcode' },
];

async function runJson(dir: string, reqPath: string, data?: string, extra: string[] = []) {
  const r = await wfn(['run', dir, '--path', reqPath, ...(data === undefined ? [] : ['--data', data]), ...extra, '--json'], { timeoutMs: 240_000 });
  expect(r.code, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout);
  return { status: out.status as number, headers: out.headers as [string, string][], body: Buffer.from(out.bodyBase64, 'base64').toString(), stderr: out.stderr as string };
}

for (const language of LANGUAGES) {
  describe(`${language} templates`, async () => {
    const it = await itWithToolchain(language);

    it('http: new, build, run, and dev over HTTP', async () => {
      const created = await wfn(['new', `${language}-http`, '--lang', language, '--template', 'http'], { cwd: work });
      expect(created.code, created.stderr).toBe(0);
      const dir = path.join(work, `${language}-http`);
      const built = await wfn(['build', '--json'], { cwd: dir, timeoutMs: 300_000 });
      expect(built.code, built.stderr).toBe(0);
      expect(JSON.parse(built.stdout).size).toBeGreaterThan(0);

      const answers: string[] = [];
      for (const c of HTTP_CASES) {
        const r = await runJson(dir, c.path, c.data);
        expect(r.status).toBe(200);
        expect(r.headers).toContainEqual(['content-type', 'application/json']);
        answers.push(r.body);
      }
      expect(JSON.parse(answers[0])).toEqual({ method: 'GET', path: '/hello/wörld', query: { name: 'wasm', x: 'last', empty: '', flag: '' }, body: '' });
      expect(JSON.parse(answers[1])).toEqual({ method: 'POST', path: '/submit', query: {}, body: HTTP_CASES[1].data });
      httpAnswers.set(language, answers);

      const dev = await wfnBackground(['dev', '--port', '0'], /Serving on (http:\/\/127\.0\.0\.1:\d+\/)/, { cwd: dir, timeoutMs: 240_000 });
      try {
        const res = await request(`${dev.match[1]}hello/w%C3%B6rld?name=wasm&x=a+b%21&x=last&empty=&flag`);
        expect(res.status).toBe(200);
        expect(res.body.toString()).toBe(answers[0]);
        const post = await request(`${dev.match[1]}submit`, { method: 'POST', body: new TextEncoder().encode(HTTP_CASES[1].data), headers: [['content-type', 'text/plain']] });
        expect(post.body.toString()).toBe(answers[1]);
      } finally {
        await dev.stop();
      }
    }, 600_000);

    it('fib: default n, ?n=10, and a bad n', async () => {
      expect((await wfn(['new', `${language}-fib`, '--lang', language, '--template', 'fib'], { cwd: work })).code).toBe(0);
      const dir = path.join(work, `${language}-fib`);
      expect(await runJson(dir, '/?n=10')).toMatchObject({ status: 200, body: '{"n":10,"fib":55}' });
      expect(await runJson(dir, '/?n=abc')).toMatchObject({ status: 400, body: '{"error":"n must be an integer between 0 and 90"}' });
      // The default n=32 is ~1.3 s in QuickJS's interpreter (JS): a generous timeout so a busy
      // machine cannot turn it into a 504; the answer is what is checked, not the time.
      expect(await runJson(dir, '/', undefined, ['--timeout', '120000'])).toMatchObject({ status: 200, body: '{"n":32,"fib":2178309}' });
    }, 600_000);

    it('init: new, build (pre-initialized where the language can be), run', async () => {
      expect((await wfn(['new', `${language}-init`, '--lang', language, '--template', 'init'], { cwd: work })).code).toBe(0);
      const dir = path.join(work, `${language}-init`);
      const built = await wfn(['build', '--json'], { cwd: dir, timeoutMs: 300_000 });
      expect(built.code, built.stderr).toBe(0);
      const n97 = await runJson(dir, '/?n=97');
      expect(n97).toMatchObject({ status: 200, body: '{"n":97,"prime":true,"primesUpToN":25,"nextPrime":101}' });
      // Snapshotted at build time: the table is in the shipped memory, not built per request.
      // Go cannot be snapshotted (its README says `go generate`): it builds the table and says so.
      if (language === 'go') expect(n97.stderr).toMatch(/building the prime table now/);
      else expect(n97.stderr).toBe('');
      expect(await runJson(dir, '/?n=x')).toMatchObject({ status: 400, body: '{"error":"n must be an integer between 0 and 30000000"}' });
    }, 600_000);
  });
}

afterAll(() => {
  // The same table for all four: every language that ran gave byte-identical JSON.
  const [first, ...rest] = [...httpAnswers.entries()];
  for (const [language, answers] of rest) expect(answers, `${language} vs ${first[0]}`).toEqual(first[1]);
  if (process.env.CI === 'true') expect([...httpAnswers.keys()].sort()).toEqual([...LANGUAGES].sort());
});
