/**
 * Bundled files on Fastly: the target cannot serve them yet (Fastly's own WASI has no
 * filesystem), so a function with a wfn.files section is refused at package time with a
 * message that says so, never deployed to answer 404 for every file.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { adapter } from '../../../adapters/fastly/index.js';
import { encodeArchive, FILES_SECTION } from '../../../src/runtime/files.js';
import { appendCustomSection } from '../../../src/runtime/wasm-binary.js';
import { UserError } from '../../../src/util/errors.js';
import { DEFAULT_OUTBOUND } from '../../../src/runtime/outbound/abi.js';
import { watFixture } from './helpers.js';

describe('Fastly and [files]', () => {
  it('refuses a function that bundles files, naming why and where else it runs', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'wfn-fastly-files-'));
    const archive = encodeArchive({ preopens: [{ name: '/', path: '' }], entries: [{ path: 'index.html', kind: 'file', mtimeNs: 0n, data: new TextEncoder().encode('hi') }] });
    const wasmPath = path.join(dir, 'site.wasm');
    await writeFile(wasmPath, appendCustomSection(await watFixture('echo.wat'), FILES_SECTION, archive));
    const artifact = { name: 'site', wasmPath, env: {}, secrets: [], limits: { memoryMiB: 128, timeoutMs: 10_000 }, outbound: DEFAULT_OUTBOUND, projectDir: dir };
    const attempt = adapter.package(artifact);
    await expect(attempt).rejects.toBeInstanceOf(UserError);
    await expect(attempt).rejects.toThrow(/bundles files \(\[files\] in wfn\.toml.*cannot serve yet/);
  });
});
