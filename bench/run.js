#!/usr/bin/env node
// `npm run bench`: every figure the issues ask for, measured side by side in one run.
// Machines here are shared and noisy: read medians and ratios, not absolute numbers.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT } from './lib.js';

const only = process.argv.slice(2);
const want = (section) => only.length === 0 || only.includes(section);

const { buildTemplate } = await import('./templates.js');
const results = { startedAt: new Date().toISOString() };

if (want('core')) {
  const { benchCore } = await import('./core.js');
  results.core = await benchCore({ helloWasm: await buildTemplate('assemblyscript', 'http'), fibWasm: await buildTemplate('assemblyscript', 'fib') });
}

await mkdir(path.join(ROOT, '.wfn', 'bench'), { recursive: true });
const file = path.join(ROOT, '.wfn', 'bench', 'npm-bench-latest.json');
await writeFile(file, JSON.stringify(results, null, 2));
console.log(`\nAll figures: ${path.relative(process.cwd(), file)}`);
