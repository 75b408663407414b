/**
 * `wfn dev` and `wfn dev --target X`: one dev loop (dev-loop.ts: watch -> one build -> swap)
 * feeding either the dev server (the function itself, src/server/dev.ts) or the package of
 * target X in X's own emulator, restarted on the same address with each new build.
 */
import path from 'node:path';
import { missingSecretsMessage, secretValues } from '../config/secrets.js';
import type { OutboundSettings } from '../runtime/outbound/abi.js';
import { projectKvDir } from '../runtime/node/kv-sqlite.js';
import { checkPortFree } from '../http/listen.js';
import { startDevHttpServer } from '../server/dev.js';
import { mapBundleStack } from '../toolchains/javascript/stack.js';
import type { Emulator, TargetAdapter } from '../target/types.js';
import { startDevLoop } from './dev-loop.js';
import type { FunctionSource } from './resolve.js';

export interface DevOptions {
  host: string;
  port: number;
  /** Serve this project (rebuild on change)... */
  projectDir?: string;
  /** ...or this .wasm file as it is. */
  wasmPath?: string;
  memoryMiB?: number;
  timeoutMs?: number;
  /** For a .wasm: its variables, route and [outbound] (a project takes them from wfn.toml; none = no calls). */
  env?: Record<string, string>;
  route?: string;
  outbound?: OutboundSettings;
  watch?: boolean;
  /** Request log lines. */
  log(line: string): void;
  /** Build progress and errors. */
  progress(message: string): void;
}

export interface DevServer {
  url: string;
  /** Resolves when the rebuild triggered by the latest change has finished. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** `wfn dev`: the function on a local server; a failed rebuild keeps the last good build in service, a bad .wasm is refused up front. */
export async function startDevServer(options: DevOptions): Promise<DevServer> {
  const source: FunctionSource = options.wasmPath ? { kind: 'wasm', path: options.wasmPath } : { kind: 'project', dir: options.projectDir! };
  // The function's stderr, with a JavaScript function's stack traces mapped to its own files.
  const projectDir = options.projectDir;
  const functionOutput = projectDir ? (text: string) => options.progress(mapBundleStack(text, projectDir)) : options.progress;
  const server = await startDevHttpServer({ host: options.host, port: options.port, log: options.log, progress: functionOutput });
  let kvAnnounced = false;
  try {
    const loop = await startDevLoop({
      source,
      // The server loads the module through the runtime, which checks the contract.
      overrides: { memoryMiB: options.memoryMiB, timeoutMs: options.timeoutMs, env: options.env, route: options.route, outbound: options.outbound, checkedByCaller: true, dev: true },
      watch: options.watch,
      progress: options.progress,
      swap: ({ artifact, route }) => {
        // Secrets are read like any variable; their values come from this shell.
        const secrets = secretValues(artifact.secrets, process.env);
        if (secrets.missing.length > 0) options.progress(`warning: ${missingSecretsMessage(secrets.missing)}`);
        // Stores live in the project's .wfn/kv/ and survive restarts; a .wasm alone has none.
        const kv = artifact.kv?.stores.length && artifact.projectDir ? { settings: artifact.kv, backend: { kind: 'sqlite' as const, dir: projectKvDir(artifact.projectDir) } } : undefined;
        if (kv && !kvAnnounced) {
          kvAnnounced = true;
          options.progress(`key-value stores ${kv.settings.stores.join(', ')}: SQLite files in ${path.relative(process.cwd(), kv.backend.dir) || '.'} (they survive restarts)`);
        }
        return server.load(artifact.wasmPath, artifact.limits, { route, env: { ...artifact.env, ...secrets.values } }, artifact.outbound, kv);
      },
      failed(error) {
        // A module that does not conform is refused up front (a UserError), not served as 500s.
        if (source.kind === 'wasm') throw error;
        const served = server.showBuildError(errorText(error));
        options.progress(
          served
            ? `build failed; still serving the last good build (${path.relative(process.cwd(), served.wasmPath) || served.wasmPath}, built at ${served.loadedAt.toLocaleTimeString()}):\n${errorText(error)}`
            : `build failed; nothing to serve until a build succeeds (requests get this error):\n${errorText(error)}`,
        );
      },
    });
    return {
      url: server.url,
      idle: () => loop.idle(),
      async close() {
        await loop.close();
        await server.close();
      },
    };
  } catch (error) {
    await server.close();
    throw error;
  }
}

/** The compiler's own words: the message, and the hint when there is one (a UserError's fix). */
function errorText(error: Error): string {
  const hint = (error as { hint?: string }).hint;
  return `${error.message}${hint ? `\n${hint}` : ''}`;
}

export interface EmulateRequest {
  host: string;
  port: number;
  memoryMiB?: number;
  timeoutMs?: number;
  log(line: string): void;
  progress(message: string): void;
}

/** `wfn dev --target`: package each build for the target and run that very package in its emulator, on one address. */
export async function startTargetEmulator(adapter: TargetAdapter, source: FunctionSource, options: EmulateRequest): Promise<Emulator> {
  // A busy port is said before the build, not after it (a Go build takes seconds).
  await checkPortFree(options.port, options.host);
  // The emulator's log carries the function's stderr: a JavaScript stack names the user's files.
  const emulatorLog = source.kind === 'project' ? (line: string) => options.log(mapBundleStack(line, source.dir)) : options.log;
  let current: Emulator | undefined;
  let port = options.port;
  const loop = await startDevLoop({
    source,
    overrides: { acceptsAsIs: adapter.acceptsAsIs, memoryMiB: options.memoryMiB, timeoutMs: options.timeoutMs, dev: true },
    progress: options.progress,
    async swap({ artifact }) {
      options.progress(`packaging for ${adapter.name}`);
      const bundle = await adapter.package(artifact);
      const previous = current;
      current = undefined;
      await previous?.close();
      current = await adapter.emulate(bundle, { host: options.host, port, log: emulatorLog });
      port = Number(new URL(current.url).port);
      if (previous) options.progress(`restarted the ${adapter.name} emulator with the new build`);
    },
    failed(error, first) {
      if (first) throw error;
      options.progress(`build failed, still serving the previous build:\n${errorText(error)}`);
    },
  });
  const running = current!;
  return {
    get url() {
      return current?.url ?? running.url;
    },
    async close() {
      await loop.close();
      await current?.close();
    },
  };
}
