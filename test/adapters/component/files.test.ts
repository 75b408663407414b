/**
 * Bundled files in the component (and so on Spin): the bridge has no filesystem yet, so a
 * function with a wfn.files section is refused at package time with a message that says so,
 * never packaged to answer 404 for every file.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { adapter as component } from '../../../adapters/component/index.js';
import { adapter as spin } from '../../../adapters/spin/index.js';
import { DEFAULT_OUTBOUND } from '../../../src/runtime/outbound/abi.js';
import { encodeArchive, FILES_SECTION } from '../../../src/runtime/files.js';
import { appendCustomSection } from '../../../src/runtime/wasm-binary.js';
import { UserError } from '../../../src/util/errors.js';
import { writeOnce } from '../../fixtures/contract.js';
import { wat2wasm } from '../../helpers/wat.js';

describe('the component and [files]', () => {
  it('refuses a function that bundles files, naming why and where else it runs (component and Spin)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'wfn-component-files-'));
    const archive = encodeArchive({ preopens: [{ name: '/', path: '' }], entries: [{ path: 'index.html', kind: 'file', mtimeNs: 0n, data: new TextEncoder().encode('hi') }] });
    const wasmPath = path.join(dir, 'site.wasm');
    await writeFile(wasmPath, appendCustomSection(await wat2wasm(writeOnce({ stdout: 'Content-Type: text/plain\n\nhi' })), FILES_SECTION, archive));
    const artifact = { name: 'site', wasmPath, env: {}, secrets: [], limits: { memoryMiB: 128, timeoutMs: 10_000 }, outbound: DEFAULT_OUTBOUND, projectDir: dir };
    for (const adapter of [component, spin]) {
      const attempt = adapter.package(artifact);
      await expect(attempt, adapter.name).rejects.toBeInstanceOf(UserError);
      await expect(attempt, adapter.name).rejects.toThrow(/bundles files \(\[files\] in wfn\.toml.*cannot serve yet/);
    }
  });
});
