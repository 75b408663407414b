/**
 * The official WASI test suite (WebAssembly/wasi-testsuite, prebuilt wasm32-wasip1 programs,
 * vendored in test/fixtures/wasi-testsuite/ with its commit and licence) run on wfn's WASI host
 * the way every target runs a function (runModule: fresh instance, in-memory stdio). Every
 * program that needs no filesystem must pass; the filesystem ones are reported by name as not
 * applicable (functions have no preopened directories).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runModule } from '../../src/runtime/invoke.js';

const SUITE = fileURLToPath(new URL('../fixtures/wasi-testsuite/', import.meta.url));

interface Spec {
  args?: string[];
  env?: Record<string, string>;
  exit_code?: number;
  stdout?: string;
  stderr?: string;
  root?: string;
}

const cases = ['assemblyscript', 'c', 'rust'].flatMap((lang) =>
  readdirSync(path.join(SUITE, lang))
    .filter((f) => f.endsWith('.wasm'))
    .sort()
    .map((f) => {
      const json = path.join(SUITE, lang, f.replace(/\.wasm$/, '.json'));
      return { name: `${lang}/${f.replace(/\.wasm$/, '')}`, file: path.join(SUITE, lang, f), spec: (existsSync(json) ? JSON.parse(readFileSync(json, 'utf8')) : {}) as Spec };
    }),
);
const notApplicable = JSON.parse(readFileSync(path.join(SUITE, 'not-applicable.json'), 'utf8')) as { reason: string; tests: string[] };

const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('wasi-testsuite (wasm32-wasip1, no filesystem) on wfn\'s WASI host', () => {
  it('has the 23 programs that need no filesystem; the 49 others are named as not applicable', () => {
    expect(cases).toHaveLength(23);
    expect(cases.filter((c) => c.spec.root !== undefined)).toEqual([]);
    expect(notApplicable.tests).toHaveLength(49);
    expect(new Set([...cases.map((c) => c.name), ...notApplicable.tests]).size).toBe(72);
    console.info(`wasi-testsuite: not applicable (${notApplicable.reason}):\n  ${notApplicable.tests.join('\n  ')}`);
  });

  it.each(cases)('$name', async ({ file, spec }) => {
    const module = await WebAssembly.compile(readFileSync(file));
    // argv[0] is the program, as the suite's runners (wasmtime <test.wasm> args...) give it.
    const run = await runModule(module, { args: [path.basename(file), ...(spec.args ?? [])], env: Object.entries(spec.env ?? {}), stdin: new Uint8Array(0) });
    expect(run.trap, `trapped; stderr: ${text(run.stderr)}`).toBeUndefined();
    expect(run.exitCode, `stderr: ${text(run.stderr)}`).toBe(spec.exit_code ?? 0);
    if (spec.stdout !== undefined) expect(text(run.stdout)).toBe(spec.stdout);
    if (spec.stderr !== undefined) expect(text(run.stderr)).toBe(spec.stderr);
  });
});
