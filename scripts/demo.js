#!/usr/bin/env node
// `npm run demo`: scaffold an AssemblyScript function into a temporary folder, build it,
// and serve it with `wfn dev`, printing the URL and a curl line to try.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'run.js');
const parent = mkdtempSync(path.join(tmpdir(), 'wfn-demo-'));
const project = path.join(parent, 'hello');
const port = process.env.PORT ?? '8080';

const step = (args, cwd) => {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};

console.log(`Scaffolding an AssemblyScript function in ${project}`);
step(['new', 'hello', '--lang', 'assemblyscript'], parent);
step(['build'], project);
console.log(`\nServing it with wfn dev (edit ${path.join(project, 'assembly', 'index.ts')} and it rebuilds):`);
const dev = spawn(process.execPath, [bin, 'dev', '--port', port], { cwd: project, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => dev.kill(signal));
dev.on('exit', (code) => process.exit(code ?? 0));
