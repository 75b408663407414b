/**
 * Packages an artifact as a Cloudflare module Worker under .wfn/targets/cloudflare/:
 *   worker.js       the entry: shim.ts + src/runtime bundled by esbuild (minified ESM)
 *   <name>.wasm     the function with the memory cap applied (the bytes that are uploaded)
 *   metadata.json   the upload's metadata part (main_module, compatibility_date, bindings,
 *                   the script tag "wfn" and the version's annotations: workers/tag is the
 *                   sha256 of <name>.wasm, which `wfn ls`/`versions` read back);
 *                   secret bindings carry names only, values are added at deploy time; KV
 *                   namespace bindings (one per [kv] store) get their namespace_id at deploy
 *   workerd.capnp   the emulator's workerd config (secrets read from its environment; each
 *                   KV binding served by the emulator's loopback KV service, kv-service.ts)
 */
import { formatBytes } from '../../src/util/bytes.js';
import { assertFunctionName } from '../../src/config/names.js';
import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Artifact, Bundle } from '../../src/target/types.js';
import { DEFAULT_KV } from '../../src/runtime/kv/abi.js';
import { capMemory } from '../../src/runtime/module.js';
import { WasmFormatError } from '../../src/runtime/wasm-binary.js';
import { UserError } from '../../src/util/errors.js';
import { writeFileAtomic } from '../../src/util/fs.js';
import { EMULATOR_BINDING } from './protocol.js';
import type { ShimConfig } from './shim.js';
import { siblingFile } from '../../src/util/paths.js';

export const TARGET = 'cloudflare';
/** A fixed date: the runtime behaviour the shim was written and tested against. */
export const COMPATIBILITY_DATE = '2025-01-01';
export const ENTRY_FILE = 'worker.js';
export const METADATA_FILE = 'metadata.json';
export const WORKERD_CONFIG_FILE = 'workerd.capnp';
/** Cloudflare's Worker size limits, after compression. */
export const FREE_LIMIT_BYTES = 3 * 1024 * 1024;
export const PAID_LIMIT_BYTES = 10 * 1024 * 1024;

export type Binding =
  | { type: 'plain_text'; name: string; text: string }
  | { type: 'secret_text'; name: string; text?: string }
  | { type: 'kv_namespace'; name: string; namespace_id?: string };

/** The workerd service behind KV binding `store` in the emulator (its address is set on workerd's command line). */
export function kvServiceName(store: string): string {
  return `wfn-kv-${store}`;
}

/** The script tag that marks a Worker wfn deployed (`wfn ls` lists by it: GET .../workers/scripts?tags=wfn:yes). */
export const WFN_TAG = 'wfn';

/** Annotations of the version an upload creates (Cloudflare keeps them with the version). */
export interface VersionAnnotations {
  /** The sha256 (hex) of the uploaded `<name>.wasm`. */
  'workers/tag': string;
  /** "wfn deploy, <size> bytes": the size of that .wasm. */
  'workers/message': string;
}

export interface WorkerMetadata {
  main_module: string;
  compatibility_date: string;
  bindings: Binding[];
  tags?: string[];
  annotations?: VersionAnnotations;
}

/** The annotations for an uploaded .wasm: its sha256 and size, read back by `wfn ls` and `wfn versions`. */
export function versionAnnotations(wasm: Uint8Array): VersionAnnotations {
  return { 'workers/tag': createHash('sha256').update(wasm).digest('hex'), 'workers/message': `wfn deploy, ${wasm.length} bytes` };
}

/** The size and sha256 back from a version's annotations (undefined for a version wfn did not upload). */
export function readAnnotations(annotations: Record<string, string | undefined> | undefined): { sha256?: string; size?: number } {
  const tag = annotations?.['workers/tag'];
  const size = /^wfn deploy, (\d+) bytes$/.exec(annotations?.['workers/message'] ?? '')?.[1];
  return { sha256: tag && /^[0-9a-f]{64}$/.test(tag) ? tag : undefined, size: size ? Number(size) : undefined };
}

export function wasmFileName(name: string): string {
  return `${name}.wasm`;
}

export function bundleDir(artifact: Artifact): string {
  return artifact.projectDir
    ? path.join(artifact.projectDir, '.wfn', 'targets', TARGET)
    : path.join(tmpdir(), 'wfn-targets', artifact.name, TARGET);
}

/** The shim's source: the .ts when run from source, the compiled .js next to this file under lib/. */
const shimPath = () => siblingFile(import.meta.url, 'shim', 'bundle');

/** Bundles the Worker entry: the shim and the runtime, with the function's wasm as a module import. */
export async function buildEntry(wasmName: string, config: ShimConfig): Promise<Uint8Array> {
  const { build } = await import('esbuild');
  const shim = shimPath();
  const contents = [
    `import wasm from ${JSON.stringify(`./${wasmName}`)};`,
    `import { createWorker } from ${JSON.stringify(`./${path.basename(shim)}`)};`,
    `export default createWorker(wasm, ${JSON.stringify(config)});`,
  ].join('\n');
  const result = await build({
    stdin: { contents, resolveDir: path.dirname(shim), sourcefile: 'entry.js', loader: 'js' },
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    external: ['*.wasm'],
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0].contents;
}

export function workerMetadata(artifact: Artifact, secretValues?: Record<string, string>, wasm?: Uint8Array): WorkerMetadata {
  const bindings: Binding[] = Object.entries(artifact.env).map(([name, text]) => ({ type: 'plain_text', name, text }));
  for (const name of artifact.secrets) {
    bindings.push(secretValues ? { type: 'secret_text', name, text: secretValues[name] } : { type: 'secret_text', name });
  }
  for (const name of artifact.kv?.stores ?? []) bindings.push({ type: 'kv_namespace', name });
  return { main_module: ENTRY_FILE, compatibility_date: COMPATIBILITY_DATE, bindings, ...(wasm ? { tags: [WFN_TAG], annotations: versionAnnotations(wasm) } : {}) };
}

/** A Cap'n Proto text literal (C-style escapes; non-ASCII stays raw UTF-8). */
function capnpText(value: string): string {
  return `"${value.replace(/[\\"\x00-\x1f\x7f]/g, (c) => (c === '\\' || c === '"' ? `\\${c}` : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`))}"`;
}

/**
 * The emulator's workerd config. The socket address is overridden on the command line
 * (`--socket-addr http=...`); secrets come from workerd's environment (`fromEnvironment`),
 * so their values are never written to disk.
 */
export function workerdConfig(artifact: Artifact, wasmName: string): string {
  const bindings = [
    ...Object.entries(artifact.env).map(([name, text]) => `(name = ${capnpText(name)}, text = ${capnpText(text)})`),
    ...artifact.secrets.map((name) => `(name = ${capnpText(name)}, fromEnvironment = ${capnpText(name)})`),
    `(name = ${capnpText(EMULATOR_BINDING)}, text = "1")`,
    ...(artifact.kv?.stores ?? []).map((name) => `(name = ${capnpText(name)}, kvNamespace = ${capnpText(kvServiceName(name))})`),
  ];
  // The address is a placeholder: the emulator points each at its KV service (--external-addr).
  const kvServices = (artifact.kv?.stores ?? []).map(
    (name) => `\n    (name = ${capnpText(kvServiceName(name))}, external = (address = "127.0.0.1:9", http = ())),`,
  );
  return `# workerd config for \`wfn dev --target cloudflare\` (generated; the upload does not use it).
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    # The Worker's fetch() goes here: loopback and private addresses too (workerd's default
    # network allows public addresses only), so a function can call a local upstream. The
    # [outbound] allow list of wfn.toml, checked by the shim, decides what may be called.
    (name = "network", network = (allow = ["public", "private"])),${kvServices.join('')}
  ],
  sockets = [ (name = "http", address = "127.0.0.1:8787", http = (), service = "main") ],
);

const worker :Workerd.Worker = (
  modules = [
    (name = ${capnpText(ENTRY_FILE)}, esModule = embed ${capnpText(ENTRY_FILE)}),
    (name = ${capnpText(wasmName)}, wasm = embed ${capnpText(wasmName)}),
  ],
  compatibilityDate = ${capnpText(COMPATIBILITY_DATE)},
  globalOutbound = "network",
  bindings = [
    ${bindings.join(',\n    ')},
  ],
);
`;
}

const NAME_RULE = /^[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?$/;
const NAME_HINT = 'Use up to 63 lower-case letters, digits, "-" and "_", starting and ending with a letter or digit (--name N).';

export function isValidWorkerName(name: string): boolean {
  return NAME_RULE.test(name);
}

/** Deploy refuses a name Cloudflare would refuse (packaging only warns: the emulator does not care). */
export function checkWorkerName(name: string): void {
  if (!isValidWorkerName(name)) throw new UserError(`"${name}" is not a valid Cloudflare Worker name.`, NAME_HINT);
}

export function sizeWarnings(compressed: number): string[] {
  const mb = (n: number) => `${(n / 1024 / 1024).toFixed(2)} MiB`;
  if (compressed > PAID_LIMIT_BYTES) return [`the Worker is ${mb(compressed)} gzipped: over Cloudflare's 10 MiB limit (paid plans); the upload will be refused (code 10027).`];
  if (compressed > FREE_LIMIT_BYTES) return [`the Worker is ${mb(compressed)} gzipped: over Cloudflare's 3 MiB limit on the free plan (paid plans allow 10 MiB).`];
  return [];
}

export async function packageWorker(artifact: Artifact): Promise<Bundle> {
  // The name is part of the staging paths removed and written below.
  assertFunctionName(artifact.name, 'function name');
  const dir = bundleDir(artifact);
  const wasmName = wasmFileName(artifact.name);
  let wasm: Uint8Array;
  try {
    wasm = capMemory(await readFile(artifact.wasmPath), artifact.limits.memoryMiB);
  } catch (error) {
    if (error instanceof WasmFormatError) throw new UserError(`${artifact.wasmPath}: ${error.message}`, 'Raise [limits] memory in wfn.toml or pass --memory.');
    throw error;
  }
  const entry = await buildEntry(wasmName, {
    route: '/',
    memoryCapBytes: artifact.limits.memoryMiB * 1024 * 1024,
    vars: Object.keys(artifact.env),
    secrets: artifact.secrets,
    outbound: artifact.outbound,
    timeoutMs: artifact.limits.timeoutMs,
    kv: artifact.kv ?? DEFAULT_KV,
  });
  const metadata = new TextEncoder().encode(JSON.stringify(workerMetadata(artifact, undefined, wasm), null, 2) + '\n');
  const config = new TextEncoder().encode(workerdConfig(artifact, wasmName));

  // A fresh folder: no stale file from an earlier package can be picked up.
  await rm(dir, { recursive: true, force: true });
  const files: [string, Uint8Array][] = [
    [ENTRY_FILE, entry],
    [wasmName, wasm],
    [METADATA_FILE, metadata],
    [WORKERD_CONFIG_FILE, config],
  ];
  for (const [name, bytes] of files) await writeFileAtomic(path.join(dir, name), bytes);

  // Cloudflare limits the compressed size of the uploaded modules.
  const compressedSize = gzipSync(Buffer.concat([entry, wasm])).length;
  const size = files.reduce((sum, [, bytes]) => sum + bytes.length, 0);
  return {
    target: TARGET,
    name: artifact.name,
    dir,
    files: files.map(([p, bytes]) => ({ path: p, size: bytes.length })),
    size,
    compressedSize,
    warnings: [
      ...(isValidWorkerName(artifact.name) ? [] : [`"${artifact.name}" is not a valid Cloudflare Worker name; deploy will refuse it. ${NAME_HINT}`]),
      ...sizeWarnings(compressedSize),
    ],
    overLimit: compressedSize > PAID_LIMIT_BYTES ? `the Worker is ${formatBytes(compressedSize)} gzipped, over Cloudflare's Workers size limit of 10 MB compressed (paid plans; 3 MB on the free plan)` : undefined,
    artifact,
  };
}
