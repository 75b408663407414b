/** The self-hosted package: the .wasm and a manifest with its sha256 and config, as uploaded to `wfn serve`. */
import { assertFunctionName } from '../../src/config/names.js';
import { copyFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sha256 } from '../../src/runtime/node/load.js';
import type { Limits } from '../../src/config/types.js';
import type { OutboundSettings } from '../../src/runtime/outbound/abi.js';
import type { KvSettings } from '../../src/runtime/kv/abi.js';
import { UserError } from '../../src/util/errors.js';
import type { Artifact, Bundle } from '../../src/target/types.js';

export const TARGET = 'self-hosted';
export const WASM_FILE = 'function.wasm';
export const MANIFEST_FILE = 'manifest.json';

export interface SelfHostedManifest {
  name: string;
  sha256: string;
  size: number;
  /** The deploy config the admin API takes (env without secrets; secrets are added at deploy time). */
  config: { env: Record<string, string>; limits: Limits; outbound?: OutboundSettings; kv?: KvSettings };
  /** Names of variables whose values come from the deploying process's environment. */
  secrets: string[];
}

export function bundleDir(artifact: Artifact): string {
  return artifact.projectDir ? path.join(artifact.projectDir, '.wfn', 'targets', TARGET) : path.join(tmpdir(), 'wfn-targets', artifact.name, TARGET);
}

export async function packageSelfHosted(artifact: Artifact): Promise<Bundle> {
  // The name is part of the staging paths removed and written below.
  assertFunctionName(artifact.name, 'function name');
  const dir = bundleDir(artifact);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const bytes = await readFile(artifact.wasmPath);
  await copyFile(artifact.wasmPath, path.join(dir, WASM_FILE));
  const manifest: SelfHostedManifest = {
    name: artifact.name,
    sha256: sha256(bytes),
    size: bytes.length,
    // No allow list means no calls: the same as no [outbound] at all, so it is left out.
    config: {
      env: artifact.env,
      limits: artifact.limits,
      ...(artifact.outbound?.allow.length ? { outbound: artifact.outbound } : {}),
      // No stores is the same as no [kv]: left out too.
      ...(artifact.kv?.stores.length ? { kv: artifact.kv } : {}),
    },
    secrets: artifact.secrets,
  };
  await writeFile(path.join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
  const files = await Promise.all([WASM_FILE, MANIFEST_FILE].map(async (f) => ({ path: f, size: (await stat(path.join(dir, f))).size })));
  return { target: TARGET, name: artifact.name, dir, files, size: files.reduce((n, f) => n + f.size, 0), warnings: [], artifact };
}

export async function readBundle(bundle: Bundle): Promise<{ manifest: SelfHostedManifest; bytes: Uint8Array }> {
  const manifest = JSON.parse(await readFile(path.join(bundle.dir, MANIFEST_FILE), 'utf8')) as SelfHostedManifest;
  const bytes = new Uint8Array(await readFile(path.join(bundle.dir, WASM_FILE)));
  if (sha256(bytes) !== manifest.sha256) throw new UserError(`${bundle.dir} was changed after packaging (sha256 mismatch).`, 'Package again: wfn deploy --target self-hosted.');
  return { manifest, bytes };
}

/** The config to upload: the packaged one plus the secrets' values from `env`, apart from the env (the server stores them outside the record). */
export function deployConfig(manifest: SelfHostedManifest, env: NodeJS.ProcessEnv): SelfHostedManifest['config'] & { secrets?: Record<string, string> } {
  const missing = manifest.secrets.filter((s) => env[s] === undefined);
  if (missing.length > 0) {
    throw new UserError(`Secret${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not set in the environment.`, `Export ${missing.map((s) => `${s}=...`).join(' ')} before deploying.`);
  }
  if (manifest.secrets.length === 0) return manifest.config;
  return { ...manifest.config, secrets: Object.fromEntries(manifest.secrets.map((s) => [s, env[s]!])) };
}
