/**
 * Builds one script of test/fixtures/js/ as a wfn JavaScript function (toolchain.compile, as
 * `wfn build` does), in a temporary project: the module and the build log.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_LIMITS, type ProjectConfig } from '../../src/config/types.js';
import { DEFAULT_OUTBOUND } from '../../src/runtime/outbound/abi.js';
import { toolchain } from '../../src/toolchains/javascript/index.js';

export const JS_FIXTURES = fileURLToPath(new URL('../fixtures/js/', import.meta.url));

export interface BuiltFixture {
  module: WebAssembly.Module;
  logs: string[];
  remove(): void;
}

export async function buildJsFixture(file: string): Promise<BuiltFixture> {
  const root = mkdtempSync(join(tmpdir(), 'wfn-js-fixture-'));
  mkdirSync(join(root, 'src'));
  copyFileSync(join(JS_FIXTURES, file), join(root, 'src', 'index.js'));
  const name = file.replace(/\.js$/, '');
  const config: ProjectConfig = {
    file: join(root, 'wfn.toml'), dir: root, name, language: 'js', route: '/', build: { optimize: 'O3' }, env: {}, secrets: [], limits: DEFAULT_LIMITS, outbound: DEFAULT_OUTBOUND, kv: { stores: [] }, files: [],
  };
  const workDir = join(root, '.wfn', 'build');
  mkdirSync(workDir, { recursive: true });
  const logs: string[] = [];
  const out = await toolchain.compile({ config, optimize: 'O3', workDir, log: (m) => logs.push(m) });
  return { module: new WebAssembly.Module(out.wasm as Uint8Array<ArrayBuffer>), logs, remove: () => rmSync(root, { recursive: true, force: true }) };
}
