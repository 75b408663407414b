// `wfn serve` and `wfn deploy --target self-hosted` as a user runs them: the built CLI in a child process.
import { execFile, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { request } from '../../helpers/http.js';
import { until } from '../../helpers/wait.js';
import { admin, builtCli, deploy, freePort, ROOT, sleepFunction, startCliServe, tempDir, textFunction, TOKEN } from './helpers.js';

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function wfn(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(process.execPath, [builtCli(), ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', WFN_TOKEN: undefined, ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('wfn serve (CLI)', () => {
  it('refuses to start without a token, and says how to fix it', async () => {
    const port = await freePort();
    const dataDir = await tempDir('cli');
    const ran = await wfn(['serve', '--port', String(port), '--data-dir', dataDir]);
    expect(ran.code).toBe(1);
    expect(ran.stderr).toMatch(/No admin token/);
    expect(ran.stderr).toMatch(/WFN_TOKEN/);
    expect(ran.stderr).toMatch(/--insecure-no-auth/);
    await expect(request(`http://127.0.0.1:${port}/_wfn/health`, { timeoutMs: 1000 })).rejects.toThrow();
    const empty = path.join(dataDir, 'empty-token');
    await writeFile(empty, '\n');
    expect((await wfn(['serve', '--port', String(port), '--data-dir', dataDir, '--token-file', empty])).stderr).toMatch(/token file .* is empty/);
  });

  it('--insecure-no-auth starts with a loud warning; --log-format json writes JSON access lines', async () => {
    const srv = await startCliServe(['--port', '0', '--data-dir', await tempDir('cli'), '--insecure-no-auth', '--log-format', 'json']);
    try {
      expect(srv.stderr()).toMatch(/WARNING.*NO AUTHENTICATION/);
      expect((await deploy(srv.url, 'open', await textFunction('open'), undefined, null)).status).toBe(201);
      expect((await request(`${srv.url}/open/a?b=1`)).body.toString()).toBe('open');
      // The access line is written after the answer: wait for it, not for a fixed time.
      await until('the access line of /open/a', () => srv.stdout().includes('"/open/a?b=1"'));
      const lines = srv.stdout().trim().split('\n').map((l) => JSON.parse(l));
      expect(lines.find((l) => l.path === '/open/a?b=1')).toMatchObject({ type: 'access', function: 'open', method: 'GET', status: 200, bytes: 4, outcome: 'ok' });
      expect(lines.find((l) => l.path === '/_wfn/functions/open')).toMatchObject({ type: 'access', function: '_wfn', method: 'PUT', status: 201 });
    } finally {
      srv.child.kill('SIGTERM');
      await srv.exited;
    }
  });

  it('wfn deploy --target self-hosted deploys, prints the URL, and says when nothing changed; SIGTERM drains and exits 0', async () => {
    const dir = await tempDir('cli');
    const tokenFile = path.join(dir, 'token');
    await writeFile(tokenFile, `${TOKEN}\n`);
    const srv = await startCliServe(['--port', '0', '--data-dir', path.join(dir, 'data'), '--token-file', tokenFile]);
    try {
      const wasm = path.join(dir, 'hello.wasm');
      await writeFile(wasm, await textFunction('hello from the CLI'));
      const args = ['deploy', wasm, '--target', 'self-hosted', '--url', srv.url, '--name', 'hello', '--env', 'A=1', '--timeout', '3000', '--memory', '32'];

      const first = await wfn(args, { WFN_TOKEN: TOKEN });
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toMatch(/Deployed hello to self-hosted \(version 1\)/);
      expect(first.stdout).toContain(`URL: ${srv.url}/hello/`);
      expect((await request(`${srv.url}/hello/`)).body.toString()).toBe('hello from the CLI');
      const info = (await admin(srv.url, 'functions/hello')).json;
      expect(info.manifest.config).toEqual({ env: { A: '1' }, limits: { memoryMiB: 32, timeoutMs: 3000 } });

      const second = await wfn(args, { WFN_TOKEN: TOKEN });
      expect(second.code).toBe(0);
      expect(second.stdout).toMatch(/hello is already deployed with these exact bytes: nothing changed/);
      expect(second.stdout).toContain(`URL: ${srv.url}/hello/`);
      expect((await admin(srv.url, 'functions/hello')).json.versions).toHaveLength(1);

      // Graceful shutdown: the in-flight request finishes, new connections are refused, exit 0.
      expect((await deploy(srv.url, 'slow', await sleepFunction(2000))).status).toBe(201);
      const inFlight = request(`${srv.url}/slow/`);
      // SIGTERM once the request runs (the in-flight gauge says so), then new connections fail.
      await until('the slow request running', async () => /^wfn_in_flight_requests\{function="slow"\} 1$/m.test((await admin(srv.url, 'metrics')).body.toString()));
      srv.child.kill('SIGTERM');
      await until('health refused after SIGTERM', () => request(`${srv.url}/_wfn/health`, { timeoutMs: 1000 }).then(() => false, () => true));
      const res = await inFlight;
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe('slept');
      expect(await srv.exited).toEqual({ code: 0, signal: null });
      expect(srv.stderr()).toMatch(/SIGTERM: draining/);
    } finally {
      srv.child.kill('SIGKILL');
    }
  });
});
