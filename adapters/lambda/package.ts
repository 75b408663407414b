/**
 * The Lambda package: a zip with index.mjs (the handler shim and src/runtime/, bundled by
 * esbuild), function.wasm (memory capped) and wfn.json. Same input, same bytes.
 */
import { assertFunctionName } from '../../src/config/names.js';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Artifact, Bundle } from '../../src/target/types.js';
import { checkContract, usesKv, usesOutbound } from '../../src/runtime/contract.js';
import { tableName } from './kv-dynamodb.js';
import { DEFAULT_OUTBOUND } from '../../src/runtime/outbound/abi.js';
import { capMemory } from '../../src/runtime/module.js';
import { WasmFormatError } from '../../src/runtime/wasm-binary.js';
import { UserError } from '../../src/util/errors.js';
import { writeFileAtomic } from '../../src/util/fs.js';
import { packageRoot, siblingFile, wfnVersion } from '../../src/util/paths.js';
import { checkFunctionName, checkVariableNames, ENV_LIMIT_BYTES, INLINE_ZIP_LIMIT, lambdaSettings, variablesSize } from './limits.js';
import { CONFIG_FILE, HANDLER_FILE, KV_HELPER_FILE, OUTBOUND_HELPER_FILE, WASM_FILE, type PackageConfig } from './package-config.js';
import { deterministicZip, type ZipEntry } from './zip.js';

/** A source beside this file (running from sources), else its compiled .js (running from lib/), for esbuild. */
const entry = (name: string) => siblingFile(import.meta.url, name, 'bundle');

const bundled = new Map<string, Promise<Uint8Array>>();

/** index.mjs: the shim and the runtime in one ES module (built once per process). */
export function bundleHandler(): Promise<Uint8Array> {
  return bundleEntry('handler', 'AWS Lambda handler for a WASI preview1 + CGI function');
}

/** helper.mjs: the handler's helper thread for key-value (DynamoDB) and outbound calls. */
export function bundleKvHelper(): Promise<Uint8Array> {
  return bundleEntry('kv-helper', 'key-value (DynamoDB) and outbound HTTP helper thread of the Lambda handler');
}

/** outbound.mjs: the handler's helper thread for outbound HTTP. */
export function bundleOutboundHelper(): Promise<Uint8Array> {
  return bundleEntry('outbound-helper', 'outbound HTTP helper thread of the Lambda handler');
}

function bundleEntry(name: string, what: string): Promise<Uint8Array> {
  const cached = bundled.get(name);
  if (cached) return cached;
  const built = (async () => {
    const esbuild = await import('esbuild');
    const result = await esbuild.build({
      entryPoints: [entry(name)],
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      write: false,
      // Paths in the bundle's comments are relative to this: the same on every machine.
      absWorkingDir: packageRoot(),
      legalComments: 'none',
      charset: 'utf8',
      logLevel: 'silent',
      banner: { js: `// wfn ${wfnVersion()}: ${what} (generated; see docs/targets/lambda.md)` },
    });
    return result.outputFiles[0].contents;
  })();
  bundled.set(name, built);
  built.catch(() => bundled.delete(name));
  return built;
}

/** Where the package goes: <project>/.wfn/targets/lambda/, else a temp folder per function. */
export function bundleDir(artifact: Artifact): string {
  return artifact.projectDir ? path.join(artifact.projectDir, '.wfn', 'targets', 'lambda') : path.join(os.tmpdir(), 'wfn-targets', artifact.name, 'lambda');
}

export function zipName(artifact: Artifact): string {
  return `${artifact.name}.zip`;
}

async function cappedWasm(artifact: Artifact): Promise<{ bytes: Uint8Array; outbound: boolean; kv: boolean }> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(artifact.wasmPath);
  } catch (error) {
    throw new UserError(`Cannot read ${artifact.wasmPath}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let capped: Uint8Array;
  try {
    capped = capMemory(bytes, artifact.limits.memoryMiB);
  } catch (error) {
    if (error instanceof WasmFormatError) throw new UserError(`${artifact.wasmPath}: ${error.message}`, 'Raise [limits] memory in wfn.toml or pass --memory.');
    throw error;
  }
  // What is shipped must still conform (capMemory rewrote a section).
  const module = await WebAssembly.compile(capped as BufferSource);
  const problems = checkContract(module, { bytes: capped });
  if (problems.length > 0) throw new UserError(`${artifact.wasmPath} does not follow the wfn function contract:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  return { bytes: capped, outbound: usesOutbound(module), kv: usesKv(module) };
}

export async function packageLambda(artifact: Artifact): Promise<Bundle> {
  // The name is part of the staging paths removed and written below.
  assertFunctionName(artifact.name, 'function name');
  checkFunctionName(artifact.name);
  const variableNames = [...new Set([...Object.keys(artifact.env), ...artifact.secrets])].sort();
  checkVariableNames(variableNames);
  const settings = lambdaSettings(artifact.limits);
  const warnings = [...settings.warnings];
  if (variablesSize(artifact.env) > ENV_LIMIT_BYTES) warnings.push(`the variables take ${variablesSize(artifact.env)} bytes; Lambda allows ${ENV_LIMIT_BYTES}`);

  const wasm = await cappedWasm(artifact);
  const config: PackageConfig = { wasm: WASM_FILE, memoryMiB: artifact.limits.memoryMiB, env: variableNames, wfn: wfnVersion() };
  if (wasm.outbound) config.outbound = artifact.outbound ?? DEFAULT_OUTBOUND;
  const stores = wasm.kv ? (artifact.kv?.stores ?? []) : [];
  if (wasm.kv) config.kv = { stores, tables: Object.fromEntries(stores.map((store) => [store, tableName(artifact.name, store)])) };
  const entries: ZipEntry[] = [
    { path: HANDLER_FILE, data: await bundleHandler() },
    ...(wasm.outbound && !wasm.kv ? [{ path: OUTBOUND_HELPER_FILE, data: await bundleOutboundHelper() }] : []),
    ...(wasm.kv ? [{ path: KV_HELPER_FILE, data: await bundleKvHelper() }] : []),
    { path: WASM_FILE, data: wasm.bytes },
    { path: CONFIG_FILE, data: new TextEncoder().encode(JSON.stringify(config, null, 2) + '\n') },
  ];
  const zip = deterministicZip(entries);
  if (zip.length > INLINE_ZIP_LIMIT) warnings.push(`the zip is ${zip.length} bytes; Lambda takes at most ${INLINE_ZIP_LIMIT} bytes inline (deploy will refuse it)`);

  const dir = bundleDir(artifact);
  await mkdir(dir, { recursive: true });
  const archive = path.join(dir, zipName(artifact));
  // Old zips of a renamed function would be mistaken for this one's.
  for (const file of await readdir(dir)) {
    if (file.endsWith('.zip') && path.join(dir, file) !== archive) await rm(path.join(dir, file), { force: true });
  }
  for (const entry of entries) await writeFileAtomic(path.join(dir, entry.path), entry.data);
  await writeFileAtomic(archive, zip);

  const files = entries.map((e) => ({ path: e.path, size: e.data.length }));
  return {
    target: 'lambda',
    name: artifact.name,
    dir,
    files,
    size: files.reduce((sum, f) => sum + f.size, 0),
    compressedSize: zip.length,
    archive,
    warnings,
    artifact,
  };
}
