/**
 * The component package: `<dir>/<name>.component.wasm`, the function linked with the bridge
 * and wrapped as a wasi:http/proxy component (link.ts), in .wfn/targets/component/ of the
 * project (a temporary folder for a bare .wasm).
 */
import { mkdir, mkdtemp, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { WasmFormatError } from '../../src/runtime/wasm-binary.js';
import { writeFileAtomic } from '../../src/util/fs.js';
import { UserError } from '../../src/util/errors.js';
import type { Artifact, Bundle } from '../../src/target/types.js';
import { linkComponent } from '../../src/pipeline/component/link.js';

/** A safe file name for the component. */
export function packageName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '') || 'function';
}

export function componentFileName(name: string): string {
  return `${packageName(name)}.component.wasm`;
}

export interface ComponentDetails {
  /** Bytes of the function as built. */
  functionSize: number;
  /** Bytes of the component. */
  componentSize: number;
  /** Bytes of the bridge module alone. */
  bridgeSize: number;
}

/** Packages into `dir` (default: the project's .wfn/targets/<target>/, or a temporary folder). */
export async function packageComponent(artifact: Artifact, target = 'component', dir?: string): Promise<Bundle & { details: ComponentDetails }> {
  const name = packageName(artifact.name);
  const out = dir ?? (artifact.projectDir
    ? path.join(artifact.projectDir, '.wfn', 'targets', target)
    : await mkdtemp(path.join(os.tmpdir(), `wfn-${target}-${name}-`)));
  const cacheDir = artifact.projectDir ? path.join(artifact.projectDir, '.wfn', 'cache', 'component') : undefined;
  const warnings: string[] = [];
  if (artifact.secrets.length > 0) {
    warnings.push(`secrets (${artifact.secrets.join(', ')}) are not in the component: wasi:http/proxy has no way to read them (set them as variables of the engine instead)`);
  }
  const fn = new Uint8Array(await readFile(artifact.wasmPath));
  let linked;
  try {
    linked = await linkComponent(fn, { env: artifact.env, memoryMiB: artifact.limits.memoryMiB, outbound: artifact.outbound, cacheDir });
  } catch (error) {
    if (error instanceof WasmFormatError) throw new UserError(`${artifact.name}: ${error.message}`, 'Raise [limits] memory in wfn.toml or pass --memory.');
    throw error;
  }
  await mkdir(out, { recursive: true });
  const file = componentFileName(artifact.name);
  await writeFileAtomic(path.join(out, file), linked.component);
  const size = (await stat(path.join(out, file))).size;
  return {
    target,
    name,
    dir: out,
    files: [{ path: file, size }],
    size,
    warnings,
    artifact,
    details: { functionSize: fn.length, componentSize: size, bridgeSize: linked.bridgeSize },
  };
}
