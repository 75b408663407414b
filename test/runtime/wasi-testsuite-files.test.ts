/**
 * The official WASI test suite's filesystem programs that only read (vendored in
 * test/fixtures/wasi-testsuite/filesystem/, see its README), run on wfn's WASI host with their
 * `root` folder bundled as `[files]` maps it ("/" = root): the real pipeline makes the archive
 * (collectFiles + filesArchive), the module carries it as the wfn.files section, runModule
 * runs it as every target does. The programs that write are reported by name as not applicable.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ProjectConfig } from '../../src/config/types.js';
import { collectFiles, filesArchive } from '../../src/pipeline/files.js';
import { FILES_SECTION } from '../../src/runtime/files.js';
import { runModule } from '../../src/runtime/invoke.js';
import { appendCustomSection } from '../../src/runtime/wasm-binary.js';

const SUITE = fileURLToPath(new URL('../fixtures/wasi-testsuite/filesystem/', import.meta.url));

interface Spec {
  args?: string[];
  env?: Record<string, string>;
  exit_code?: number;
  stdout?: string;
  root?: string;
}

const cases = ['c', 'rust'].flatMap((lang) =>
  readdirSync(path.join(SUITE, lang))
    .filter((f) => f.endsWith('.wasm'))
    .sort()
    .map((f) => ({ name: `${lang}/${f.replace(/\.wasm$/, '')}`, dir: path.join(SUITE, lang), file: f, spec: JSON.parse(readFileSync(path.join(SUITE, lang, f.replace(/\.wasm$/, '.json')), 'utf8')) as Spec })),
);
const notApplicable = JSON.parse(readFileSync(path.join(SUITE, 'not-applicable.json'), 'utf8')) as { reason: string; tests: string[] };
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** The program with its root bundled as `[files] "/" = root` would bundle it. */
async function withFiles(dir: string, file: string, root: string): Promise<WebAssembly.Module> {
  const config = { dir, files: [{ mount: '/', dir: root, include: [], exclude: [] }] } as unknown as ProjectConfig;
  const archive = await filesArchive(await collectFiles(config));
  return WebAssembly.compile(appendCustomSection(readFileSync(path.join(dir, file)), FILES_SECTION, archive) as BufferSource);
}

describe('wasi-testsuite (wasm32-wasip1) filesystem programs that only read, on the bundled files', () => {
  it('has the 10 read-only programs; the 39 that write are named as not applicable (49 in all)', () => {
    expect(cases).toHaveLength(10);
    expect(cases.every((c) => c.spec.root === 'fs-tests.dir')).toBe(true);
    expect(notApplicable.tests).toHaveLength(39);
    expect(new Set([...cases.map((c) => c.name), ...notApplicable.tests]).size).toBe(49);
    console.info(`wasi-testsuite filesystem: not applicable (${notApplicable.reason}):\n  ${notApplicable.tests.join('\n  ')}`);
  });

  it.each(cases)('$name', async ({ dir, file, spec }) => {
    const module = await withFiles(dir, file, spec.root!);
    const run = await runModule(module, { args: [file, ...(spec.args ?? [])], env: Object.entries(spec.env ?? {}), stdin: new Uint8Array(0) });
    expect(run.trap, `trapped; stderr: ${text(run.stderr)}`).toBeUndefined();
    expect(run.exitCode, `stderr: ${text(run.stderr)}`).toBe(spec.exit_code ?? 0);
    if (spec.stdout !== undefined) expect(text(run.stdout)).toBe(spec.stdout);
  });
});
