// A JavaScript function's errors as its author meets them through the CLI: a throw in fetch()
// is the function's failure (wfn run exits 1, the outcome is not "ok") and its stack points at
// src/index.js:LINE, not at the bundle; a throw at the top level fails the build, mapped too.
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { wfn, wfnBackground } from '../helpers/cli.js';
import { request } from '../helpers/http.js';

let work: string;
let project: string;
let throwLine: number;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'wfn-js-errors-'));
  const created = await wfn(['new', 'oops', '--lang', 'js'], { cwd: work });
  expect(created.code, created.stderr).toBe(0);
  project = path.join(work, 'oops');
  const source = path.join(project, 'src', 'index.js');
  const lines = (await readFile(source, 'utf8')).split('\n');
  const fetchAt = lines.findIndex((l) => l.includes('async fetch(request'));
  lines.splice(fetchAt + 1, 0, "    if (request.url.includes('/boom')) throw new Error('kaboom');");
  throwLine = fetchAt + 2;
  await writeFile(source, lines.join('\n'));
}, 300_000);

describe('a JavaScript function that throws', () => {
  it('in fetch(): wfn run exits 1, outcome "exit", the stack at src/index.js:LINE', async () => {
    const text = await wfn(['run', '--path', '/boom'], { cwd: project, timeoutMs: 300_000 });
    expect(text.code, text.stderr).toBe(1);
    expect(text.stdout).toMatch(/^HTTP\/1\.1 500 /);
    expect(text.stderr).toContain('Uncaught Error: kaboom');
    expect(text.stderr).toMatch(new RegExp(`at fetch \\(src/index\\.js:${throwLine}:\\d+\\)`));
    expect(text.stderr).not.toContain('bundle.js');

    const json = await wfn(['run', '--path', '/boom', '--json'], { cwd: project });
    expect(json.code).toBe(1);
    const result = JSON.parse(json.stdout);
    expect(result.outcome).toBe('exit');
    expect(result.status).toBe(500);
    expect(result.stderr).toMatch(new RegExp(`src/index\\.js:${throwLine}:`));

    // A request that does not throw is unaffected.
    const ok = await wfn(['run', '--path', '/fine'], { cwd: project });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('"path":"/fine"');
  }, 400_000); // the first build links the QuickJS engine on a busy machine

  it('under wfn dev: the 500, and the log line with the stack at src/index.js:LINE', async () => {
    const dev = await wfnBackground(['dev', '--port', '0'], /Serving on (http:\/\/127\.0\.0\.1:\d+\/)/, { cwd: project, timeoutMs: 300_000 });
    try {
      const url = dev.match[1];
      expect((await request(`${url}boom`)).status).toBe(500);
      await expect.poll(() => dev.output(), { timeout: 120_000 }).toMatch(new RegExp(`at fetch \\(src/index\\.js:${throwLine}:\\d+\\)`));
      expect(dev.output()).not.toContain('bundle.js');
      await expect.poll(() => dev.output(), { timeout: 30_000 }).toMatch(/GET \/boom 500 .*exit/);
    } finally {
      await dev.stop();
    }
  }, 400_000);

  it('the map stays beside the bundle, not in the module: the bundle carries no sourceMappingURL', async () => {
    const bundle = await readFile(path.join(project, '.wfn', 'build', 'bundle.js'), 'utf8');
    expect(bundle).not.toContain('sourceMappingURL');
    const map = JSON.parse(await readFile(path.join(project, '.wfn', 'build', 'bundle.js.map'), 'utf8'));
    expect(map.sources).toContain('src/index.js');
    expect(map.sourcesContent).toBeUndefined();
    expect((await stat(path.join(project, 'dist', 'oops.wasm'))).size).toBeGreaterThan(0);
  });

  it('at the top level: the build fails, naming src/index.js:LINE', async () => {
    const source = path.join(project, 'src', 'index.js');
    const original = await readFile(source, 'utf8');
    await writeFile(source, `const config = JSON.parse('{not json');\n${original}`);
    const r = await wfn(['build'], { cwd: project, timeoutMs: 300_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the script failed while initializing');
    expect(r.stderr).toMatch(/in JSON at position 1/);
    expect(r.stderr).toMatch(/src\/index\.js:1:\d+/);
    expect(r.stderr).not.toContain('bundle.js');
    expect(r.stderr).not.toMatch(/\n\s+at .*lib\/src\//); // no wfn stack trace
  }, 400_000);
});
