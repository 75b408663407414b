// The core flow as a user runs it: new, build, run, dev, doctor as child processes over real HTTP.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { request } from '../helpers/http.js';
import { wfn, wfnBackground } from '../helpers/cli.js';
import { wat2wasm } from '../helpers/wat.js';
import { BAD_IMPORT_WAT } from '../fixtures/contract.js';
import { findMotoServer } from '../../src/project/doctor.js';

let work: string;
let project: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'wfn-e2e-'));
  project = path.join(work, 'hello');
});

describe('wfn with an AssemblyScript function', () => {
  it('new scaffolds the project and refuses to overwrite it', async () => {
    const created = await wfn(['new', 'hello', '--lang', 'assemblyscript'], { cwd: work });
    expect(created.code).toBe(0);
    expect(existsSync(path.join(project, 'wfn.toml'))).toBe(true);
    expect(await readFile(path.join(project, 'wfn.toml'), 'utf8')).toContain('name = "hello"');
    const again = await wfn(['new', 'hello', '--lang', 'assemblyscript'], { cwd: work });
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('already exists and is not empty; nothing was written');
    expect(again.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('build writes the artifact and manifest; a second build is a cached no-op', async () => {
    const first = await wfn(['build', '--json'], { cwd: project });
    expect(first.code, first.stderr).toBe(0);
    const out = JSON.parse(first.stdout);
    expect(out).toMatchObject({ artifact: path.join(project, 'dist', 'hello.wasm'), cached: false });
    expect(out.size).toBeGreaterThan(1000);
    const manifest = JSON.parse(await readFile(path.join(project, 'dist', 'hello.manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ name: 'hello', language: 'assemblyscript', size: out.size, sha256: out.sha256 });
    expect(manifest.sizes.raw).toBeGreaterThan(manifest.sizes.optimized);
    expect(manifest.steps.map((s: { name: string }) => s.name)).toEqual(['compile', 'optimize', 'validate']);
    expect(manifest.toolchain.name).toBe('assemblyscript');

    const second = await wfn(['build'], { cwd: project });
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('is up to date');
  });

  it('run prints the response; --json prints exactly one JSON object', async () => {
    const text = await wfn(['run', '--path', '/x?n=3&a=b+c', '--data', 'yo'], { cwd: project });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toBe('HTTP/1.1 200 OK\ncontent-type: application/json\n\n{"method":"POST","path":"/x","query":{"n":"3","a":"b c"},"body":"yo"}');
    const json = await wfn(['run', path.join(project, 'dist', 'hello.wasm'), '--path', '/p', '--header', 'X-A: 1', '--json']);
    const parsed = JSON.parse(json.stdout);
    expect(parsed.status).toBe(200);
    expect(parsed.headers).toEqual([['content-type', 'application/json']]);
    expect(Buffer.from(parsed.bodyBase64, 'base64').toString()).toBe('{"method":"GET","path":"/p","query":{},"body":""}');
    expect(parsed.timings.instantiateUs).toBeGreaterThan(0);
  });

  it('run and dev refuse a non-conforming module up front, naming the import', async () => {
    const bad = path.join(work, 'bad.wasm');
    await writeFile(bad, await wat2wasm(BAD_IMPORT_WAT));
    const run = await wfn(['run', bad]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('import "env.abort" is not allowed');
    const dev = await wfn(['dev', bad, '--port', '0'], { timeoutMs: 30_000 });
    expect(dev.code).not.toBe(0);
    expect(dev.stderr).toContain('import "env.abort" is not allowed');
  });

  it('a malformed wfn.toml is reported with file and line, without a stack trace', async () => {
    const broken = path.join(work, 'broken');
    await wfn(['new', 'broken', '--lang', 'as'], { cwd: work });
    await writeFile(path.join(broken, 'wfn.toml'), 'name = "broken"\nlanguage = "assemblyscript"\n[build]\noptimise = "O3"\n');
    const r = await wfn(['build'], { cwd: broken });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('wfn.toml:4: unknown key "optimise" in [build]. Did you mean "optimize"?');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('dev serves over HTTP, rebuilds on change, and keeps the last good build after a failed one', async () => {
    const dev = await wfnBackground(['dev', '--port', '0'], /Serving on (http:\/\/127\.0\.0\.1:\d+\/)/, { cwd: project });
    try {
      const url = dev.match[1];
      const first = await request(`${url}hello?name=wasm`, { method: 'POST', body: new TextEncoder().encode('hi') });
      expect(first.status).toBe(200);
      expect(JSON.parse(first.body.toString())).toEqual({ method: 'POST', path: '/hello', query: { name: 'wasm' }, body: 'hi' });
      await expect.poll(() => dev.output()).toMatch(/POST \/hello\?name=wasm 200 \d+B inst=\d+µs run=/);

      const source = path.join(project, 'assembly', 'index.ts');
      const original = await readFile(source, 'utf8');
      await writeFile(source, original.replace('"{\\"method\\":"', '"{\\"edited\\":true,\\"method\\":"'));
      await expect.poll(async () => (await request(url)).body.toString(), { timeout: 60_000, interval: 250 }).toMatch(/^\{"edited":true,/);

      // A broken save: the compiler's error (file:line) on stderr, the last good build still answering.
      await writeFile(source, original + '\nthis is not AssemblyScript\n');
      await expect.poll(() => dev.output(), { timeout: 60_000, interval: 250 }).toMatch(/build failed; still serving the last good build \(dist\/hello\.wasm, built at [^)]+\):\nAssemblyScript compilation failed:\n[^]*assembly\/index\.ts\(\d+,\d+\)/);
      const still = await request(url);
      expect(still.status).toBe(200);
      expect(still.body.toString()).toMatch(/^\{"edited":true,/);
      expect(dev.child.exitCode).toBeNull(); // a build error never crashes dev

      await writeFile(source, original);
      await expect.poll(async () => (await request(url)).body.toString(), { timeout: 60_000, interval: 250 }).toMatch(/^\{"method":/);
      // dev builds optimize lightly, and say so.
      expect(dev.output()).toContain('optimizing (wasm-opt -O1)');
    } finally {
      expect(await dev.stop()).toBe(0);
    }
  });

  it('doctor --json reports every toolchain and tool', async () => {
    const r = await wfn(['doctor', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.sections.map((s: { name: string }) => s.name)).toEqual(['assemblyscript', 'rust', 'go', 'js', 'tools', 'optional']);
    // moto_server: found where the Lambda and S3 tests find it (findMotoServer), or the pip command.
    const moto = report.sections[5].tools[0];
    expect(moto.name).toMatch(/^moto_server/);
    expect(moto.usable ? moto.path : moto.fix).toBe(findMotoServer() ?? "pip install 'moto[server]'");
    expect(report.sections[5].ok).toBe(true);
    const as = report.sections[0];
    expect(as.ok).toBe(true);
    for (const section of report.sections) {
      for (const tool of section.tools) if (!tool.usable) expect(tool.fix, `${section.name}: ${tool.name}`).toBeTruthy();
    }
  });

  it('--version answers without loading the command framework', async () => {
    const r = await wfn(['--version']);
    expect(r.stdout).toMatch(/^wfn\/\d+\.\d+\.\d+ /);
  });
});
