/**
 * The Fastly Compute package, in the layout `fastly compute pack` makes:
 *   <dir>/<name>/fastly.toml, <dir>/<name>/bin/main.wasm, and <dir>/pkg/<name>.tar.gz
 * holding `<name>/fastly.toml` and `<name>/bin/main.wasm` (the function merged with the adapter).
 */
import { createHash } from 'node:crypto';
import { formatBytes } from '../../src/util/bytes.js';
import { mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import { capMemory } from '../../src/runtime/module.js';
import { readCustomSection, WasmFormatError } from '../../src/runtime/wasm-binary.js';
import { FILES_SECTION } from '../../src/runtime/files.js';
import { readImports } from '../../src/runtime/wasm-imports.js';
import { UserError } from '../../src/util/errors.js';
import type { Artifact, Bundle } from '../../src/target/types.js';
import { secretStoreName } from './adapter-module.js';
import { mergeFunction } from './merge.js';

/** Fixed file times inside the archive: the same function gives the same bytes. */
const EPOCH = new Date('2000-01-01T00:00:00Z');
/** Fastly Compute's "Maximum compiled package size" (docs.fastly.com/products/compute-resource-limits). */
export const FASTLY_PACKAGE_LIMIT = 100 * 1024 * 1024;

/** A service name as Fastly accepts it, and a safe folder name. */
export function packageName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '') || 'function';
}

function tomlString(value: string): string {
  return JSON.stringify(value);
}

export function fastlyToml(name: string, description: string, authors: string[] = []): string {
  return [
    '# Written by wfn: the Fastly Compute package of this function.',
    '# bin/main.wasm is the function merged with wfn\'s adapter (WASI + CGI on Fastly hostcalls).',
    'manifest_version = 3',
    `name = ${tomlString(name)}`,
    `description = ${tomlString(description)}`,
    `authors = [${authors.map(tomlString).join(', ')}]`,
    'language = "other"',
    '',
  ].join('\n');
}

/** fastly.toml's description: says what the package is, and carries main.wasm's sha256 and size. */
export function packageDescription(name: string, main: Uint8Array): string {
  return `${name}: a wfn function on Fastly Compute (main.wasm ${main.length} bytes, sha256 ${createHash('sha256').update(main).digest('hex')})`;
}

/** The size and sha256 of main.wasm back from a package's description (undefined for a package wfn did not make). */
export function readDescription(description: string | undefined): { size?: number; sha256?: string } {
  const m = / \(main\.wasm (\d+) bytes, sha256 ([0-9a-f]{64})\)$/.exec(description ?? '');
  return m ? { size: Number(m[1]), sha256: m[2] } : {};
}

/** True when the module was built for Fastly already (it calls Fastly hostcalls). */
export function isFastlyModule(wasm: Uint8Array): boolean {
  return readImports(wasm).some((i) => i.module.startsWith('fastly_'));
}

export interface PackageDetails {
  /** Bytes of the function as built. */
  functionSize: number;
  /** Bytes of main.wasm. */
  mainSize: number;
  /** Bytes of the adapter module (0 when the module was already built for Fastly). */
  adapterSize: number;
}

export async function packageForFastly(artifact: Artifact): Promise<Bundle & { details: PackageDetails }> {
  // Staging paths use packageName (a safe folder name) or mkdtemp: no name can leave them.
  const name = packageName(artifact.name);
  const dir = artifact.projectDir
    ? path.join(artifact.projectDir, '.wfn', 'targets', 'fastly')
    : await mkdtemp(path.join(os.tmpdir(), `wfn-fastly-${name}-`));
  const cacheDir = artifact.projectDir ? path.join(artifact.projectDir, '.wfn', 'cache', 'fastly-adapter') : undefined;
  const warnings: string[] = [];

  const fn = new Uint8Array(await readFile(artifact.wasmPath));
  // Fastly runs its own WASI preview1, which has no preopened directory: the files in the
  // artifact's wfn.files section would be unreachable there, so the package is refused rather
  // than deployed to answer 404 for every file (docs/targets/fastly.md).
  const bundled = readCustomSection(fn, FILES_SECTION);
  if (bundled) {
    throw new UserError(
      `${artifact.name} bundles files ([files] in wfn.toml, ${formatBytes(bundled.length)}), which the Fastly target cannot serve yet: Fastly Compute's own WASI has no filesystem.`,
      'Deploy it to cloudflare, lambda or self-hosted, or serve the files on Fastly from a KV store (the static publisher).',
    );
  }
  let main: Uint8Array;
  let adapterSize = 0;
  if (isFastlyModule(fn)) {
    main = fn;
    warnings.push('the module already calls Fastly hostcalls: packaged as it is, without the adapter');
  } else {
    const merged = await mergeFunction(fn, {
      env: artifact.env,
      cacheDir,
      // Names only: the values live in the secret store deploy fills (never in main.wasm).
      secrets: artifact.secrets.length > 0 ? { store: secretStoreName(name), names: artifact.secrets } : undefined,
      outbound: artifact.outbound,
      kv: artifact.kv,
    });
    // The memory cap, written into the module as on every target: memory.grow past it fails.
    try {
      main = capMemory(merged.wasm, artifact.limits.memoryMiB);
    } catch (error) {
      if (error instanceof WasmFormatError) throw new UserError(`${artifact.name}: ${error.message}`, 'Raise [limits] memory in wfn.toml or pass --memory.');
      throw error;
    }
    adapterSize = merged.adapterSize;
  }
  if (artifact.secrets.length > 0 && isFastlyModule(fn)) {
    warnings.push(`secrets (${artifact.secrets.join(', ')}) reach a module built for Fastly only through its own secret store calls`);
  }

  await rm(path.join(dir, name), { recursive: true, force: true });
  await mkdir(path.join(dir, name, 'bin'), { recursive: true });
  await mkdir(path.join(dir, 'pkg'), { recursive: true });
  // The description comes back as the package's metadata.description: `wfn ls` and `wfn versions` read the sha256 and size there.
  const toml = fastlyToml(name, packageDescription(artifact.name, main));
  await writeFile(path.join(dir, name, 'fastly.toml'), toml);
  await writeFile(path.join(dir, name, 'bin', 'main.wasm'), main);
  for (const p of [name, `${name}/bin`, `${name}/bin/main.wasm`, `${name}/fastly.toml`]) {
    await utimes(path.join(dir, p), EPOCH, EPOCH);
  }
  const archiveRel = path.join('pkg', `${name}.tar.gz`);
  const archive = path.join(dir, archiveRel);
  await tar.create(
    { gzip: { level: 9 }, file: archive, cwd: dir, portable: true, mtime: EPOCH, noDirRecurse: true },
    [name, `${name}/bin`, `${name}/bin/main.wasm`, `${name}/fastly.toml`],
  );

  const files = [archiveRel, `${name}/fastly.toml`, `${name}/bin/main.wasm`];
  const sizes = await Promise.all(files.map(async (f) => (await stat(path.join(dir, f))).size));
  const compressedSize = sizes[0];
  return {
    target: 'fastly',
    name,
    dir,
    files: files.map((p, i) => ({ path: p, size: sizes[i] })),
    size: sizes[1] + sizes[2],
    compressedSize,
    archive,
    warnings,
    overLimit: compressedSize > FASTLY_PACKAGE_LIMIT ? `the package is ${formatBytes(compressedSize)}, over Fastly Compute's maximum compiled package size of 100MB` : undefined,
    artifact,
    details: { functionSize: fn.length, mainSize: main.length, adapterSize },
  };
}
