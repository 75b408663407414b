/**
 * The Spin package: `<dir>/spin.toml` and `<dir>/<id>.component.wasm` (the function as a
 * wasi:http/proxy component, linked by src/pipeline/component/), in .wfn/targets/spin/ of the
 * project: `spin up --from <dir>` runs it, `spin deploy` / `spin registry push` ship it.
 */
import { mkdir, mkdtemp, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { linkComponent } from '../../src/pipeline/component/link.js';
import { WasmFormatError } from '../../src/runtime/wasm-binary.js';
import type { Artifact, Bundle } from '../../src/target/types.js';
import { UserError } from '../../src/util/errors.js';
import { writeFileAtomic } from '../../src/util/fs.js';
import { spinId, spinManifest } from './manifest.js';

export const MANIFEST_FILE = 'spin.toml';

export async function packageSpin(artifact: Artifact): Promise<Bundle> {
  const id = spinId(artifact.name);
  const dir = artifact.projectDir
    ? path.join(artifact.projectDir, '.wfn', 'targets', 'spin')
    : await mkdtemp(path.join(os.tmpdir(), `wfn-spin-${id}-`));
  const cacheDir = artifact.projectDir ? path.join(artifact.projectDir, '.wfn', 'cache', 'component') : undefined;
  const warnings: string[] = [];
  if (artifact.secrets.length > 0) {
    warnings.push(`secrets (${artifact.secrets.join(', ')}) are declared as Spin variables, but the component cannot read them yet (wasi:http/proxy has no variables interface)`);
  }
  let linked;
  try {
    linked = await linkComponent(new Uint8Array(await readFile(artifact.wasmPath)), { env: artifact.env, memoryMiB: artifact.limits.memoryMiB, outbound: artifact.outbound, cacheDir });
  } catch (error) {
    if (error instanceof WasmFormatError) throw new UserError(`${artifact.name}: ${error.message}`, 'Raise [limits] memory in wfn.toml or pass --memory.');
    throw error;
  }
  const component = `${id}.component.wasm`;
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(path.join(dir, component), linked.component);
  const manifest = spinManifest({
    id,
    description: `${artifact.name}: a wfn function`,
    source: component,
    allowedOutboundHosts: artifact.outbound.allow,
    secrets: artifact.secrets,
  });
  await writeFileAtomic(path.join(dir, MANIFEST_FILE), manifest);
  const files = [MANIFEST_FILE, component];
  const sizes = await Promise.all(files.map(async (f) => (await stat(path.join(dir, f))).size));
  return {
    target: 'spin',
    name: id,
    dir,
    files: files.map((p, i) => ({ path: p, size: sizes[i] })),
    size: sizes[0] + sizes[1],
    warnings,
    artifact,
  };
}
