/**
 * The one dev loop behind `wfn dev` and `wfn dev --target`: a change is built once and
 * swapped in; a failed build leaves the previous one in service. The pipeline is replaced
 * by a stand-in that counts its calls and writes a contract module per build (no toolchain),
 * so the counts are exact and the test is fast.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { BuildResult } from '../../src/pipeline/build.js';
import type { Artifact, Bundle, Emulator, TargetAdapter } from '../../src/target/types.js';
import { writeOnce } from '../fixtures/contract.js';
import { wat2wasm } from '../helpers/wat.js';

/** What the stand-in pipeline builds next: a body to answer, or an error to throw. */
const next = { body: 'one', error: undefined as string | undefined, gate: undefined as Promise<void> | undefined };
const builds: string[] = [];

vi.mock('../../src/pipeline/build.js', () => ({
  async buildProject(config: { dir: string; name: string }): Promise<BuildResult> {
    await next.gate;
    builds.push(next.error ?? next.body);
    if (next.error) throw new Error(next.error);
    const artifact = path.join(config.dir, 'dist', `${config.name}.wasm`);
    const bytes = await wat2wasm(writeOnce({ stdout: `Content-Type: text/plain\n\n${next.body}` }));
    await mkdir(path.dirname(artifact), { recursive: true });
    await writeFile(artifact, bytes);
    return { artifact, manifestPath: '', size: bytes.length, sha256: '', cached: false, durationMs: 1, manifest: {} as BuildResult['manifest'] };
  },
}));

const { startDevServer, startTargetEmulator } = await import('../../src/project/dev.js');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'wfn-dev-loop-'));
  await writeFile(path.join(dir, 'wfn.toml'), 'name = "loop"\nlanguage = "assemblyscript"\n');
  await writeFile(path.join(dir, 'index.ts'), '// v1\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Progress lines, and a way to wait for the one that says a change went through. */
function progressLog() {
  const lines: string[] = [];
  const waiters: { match: RegExp; resolve(): void }[] = [];
  return {
    lines,
    progress(line: string) {
      lines.push(line);
      for (const w of waiters.filter((w) => w.match.test(line))) w.resolve();
    },
    next(match: RegExp): Promise<void> {
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
  };
}

/** A target whose package and emulator only record what they were given. */
function recordingAdapter() {
  const events: string[] = [];
  let port = 0;
  const adapter: TargetAdapter = {
    name: 'recording',
    async package(artifact: Artifact): Promise<Bundle> {
      events.push(`package ${path.basename(artifact.wasmPath)}`);
      return { target: 'recording', name: artifact.name, dir: path.dirname(artifact.wasmPath), files: [], size: 0, warnings: [], artifact };
    },
    async emulate(_bundle, options): Promise<Emulator> {
      port = options.port || 49152;
      events.push(`emulate :${options.port}`);
      const id = events.filter((e) => e.startsWith('emulate')).length;
      return { url: `http://127.0.0.1:${port}/`, close: async () => void events.push(`close ${id}`) };
    },
    deploy: () => Promise.reject(new Error('not here')),
  };
  return { adapter, events };
}

describe('wfn dev --target', () => {
  it('builds once per change, then packages and restarts the emulator on the same port', async () => {
    builds.length = 0;
    next.body = 'one';
    const { adapter, events } = recordingAdapter();
    const log = progressLog();
    const emulator = await startTargetEmulator(adapter, { kind: 'project', dir }, { host: '127.0.0.1', port: 0, log: () => {}, progress: log.progress });
    try {
      expect(builds).toEqual(['one']);
      expect(events).toEqual(['package loop.wasm', 'emulate :0']);

      const restarted = log.next(/restarted the recording emulator/);
      next.body = 'two';
      await writeFile(path.join(dir, 'index.ts'), '// v2\n');
      await restarted;
      expect(builds).toEqual(['one', 'two']); // one build per change, not two
      expect(events).toEqual(['package loop.wasm', 'emulate :0', 'package loop.wasm', 'close 1', 'emulate :49152']);
      expect(emulator.url).toBe('http://127.0.0.1:49152/');

      const failed = log.next(/build failed, still serving the previous build/);
      next.error = 'syntax error on line 1';
      await writeFile(path.join(dir, 'index.ts'), '// v3\n');
      await failed;
      expect(builds).toEqual(['one', 'two', 'syntax error on line 1']);
      expect(events).toHaveLength(5); // nothing packaged, nothing closed
      expect(log.lines.join('\n')).toContain('syntax error on line 1');
    } finally {
      next.error = undefined;
      await emulator.close();
    }
    expect(events.at(-1)).toBe('close 2');
  });

  it('refuses to start when the first build fails', async () => {
    next.error = 'no entry file';
    try {
      const { adapter, events } = recordingAdapter();
      await expect(startTargetEmulator(adapter, { kind: 'project', dir }, { host: '127.0.0.1', port: 0, log: () => {}, progress: () => {} })).rejects.toThrow('no entry file');
      expect(events).toEqual([]);
    } finally {
      next.error = undefined;
    }
  });
});

describe('wfn dev', () => {
  it('serves the new build after a change; a failed build leaves the last good one in service', async () => {
    builds.length = 0;
    next.body = 'first';
    const log = progressLog();
    const server = await startDevServer({ host: '127.0.0.1', port: 0, projectDir: dir, log: () => {}, progress: log.progress });
    const get = async () => {
      const r = await fetch(server.url);
      return [r.status, await r.text()] as const;
    };
    try {
      expect(await get()).toEqual([200, 'first']);

      next.error = 'type error in index.ts';
      const failed = log.next(/build failed/);
      await writeFile(path.join(dir, 'index.ts'), '// broken\n');
      await failed;
      await server.idle();
      expect(await get()).toEqual([200, 'first']);
      const line = log.lines.find((l) => l.startsWith('build failed'))!;
      expect(line).toMatch(/^build failed; still serving the last good build \(.*loop\.wasm, built at .+\):\ntype error in index\.ts$/);

      next.error = undefined;
      next.body = 'second';
      const built = log.next(/^built /);
      await writeFile(path.join(dir, 'index.ts'), '// fixed\n');
      await built;
      await server.idle();
      expect(await get()).toEqual([200, 'second']);
      expect(builds).toEqual(['first', 'type error in index.ts', 'second']);
    } finally {
      await server.close();
    }
  });

  it('without a good build: the build error, as HTML, JSON or text as the client asks, until a build succeeds', async () => {
    builds.length = 0;
    next.error = 'missing semicolon at index.ts:3:7';
    const log = progressLog();
    const server = await startDevServer({ host: '127.0.0.1', port: 0, projectDir: dir, log: () => {}, progress: log.progress });
    try {
      expect(log.lines.join('\n')).toContain('build failed; nothing to serve until a build succeeds');
      const json = await fetch(server.url, { headers: { accept: 'application/json' } });
      expect(json.status).toBe(500);
      expect(json.headers.get('content-type')).toBe('application/json');
      expect(await json.json()).toEqual({ error: { message: 'build failed:\nmissing semicolon at index.ts:3:7', hint: 'Fix the error and save: wfn dev rebuilds.' } });
      const html = await fetch(server.url, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
      expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await html.text()).toContain('<h1>Build failed</h1>');
      const text = await fetch(server.url, { headers: { accept: '*/*' } });
      expect(text.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(await text.text()).toBe('build failed:\nmissing semicolon at index.ts:3:7\n\nFix the error and save: wfn dev rebuilds.\n');

      next.error = undefined;
      next.body = 'fixed';
      const built = log.next(/^built /);
      await writeFile(path.join(dir, 'index.ts'), '// fixed again\n');
      await built;
      await server.idle();
      const ok = await fetch(server.url);
      expect([ok.status, await ok.text()]).toEqual([200, 'fixed']);
    } finally {
      next.error = undefined;
      await server.close();
    }
  });

  it('while the first build runs: 503 with Retry-After, then the function', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    let release!: () => void;
    next.gate = new Promise<void>((resolve) => (release = resolve));
    next.body = 'ready';
    const starting = startDevServer({ host: '127.0.0.1', port, projectDir: dir, log: () => {}, progress: () => {} });
    try {
      await expect.poll(async () => {
        try {
          return await fetch(`http://127.0.0.1:${port}/`, { headers: { accept: 'application/json' } });
        } catch {
          return undefined; // not listening yet
        }
      }).toBeDefined();
      const busy = await fetch(`http://127.0.0.1:${port}/`, { headers: { accept: 'application/json' } });
      expect(busy.status).toBe(503);
      expect(busy.headers.get('retry-after')).toBe('1');
      expect((await busy.json()).error.message).toBe('the first build is still running');
    } finally {
      release();
      next.gate = undefined;
    }
    const server = await starting;
    try {
      const ok = await fetch(server.url);
      expect([ok.status, await ok.text()]).toEqual([200, 'ready']);
    } finally {
      await server.close();
    }
  });

  it('refuses a .wasm that breaks the contract up front', async () => {
    const bad = path.join(dir, 'bad.wasm');
    await writeFile(bad, await wat2wasm('(module (func (export "_start")))'));
    await expect(startDevServer({ host: '127.0.0.1', port: 0, wasmPath: bad, log: () => {}, progress: () => {} })).rejects.toThrow(/does not follow the wfn function contract/);
  });
});
