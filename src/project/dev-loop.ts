/**
 * The one dev loop of `wfn dev` and `wfn dev --target`: build once, then watch the project
 * and, on each change, build once more and swap the new build into what serves it (the dev
 * server's function, or a target's emulator). A build that fails never replaces the one in
 * service; a .wasm (no project) is taken once and not watched.
 */
import path from 'node:path';
import { buildArtifact, type ArtifactOverrides, type BuiltArtifact } from './artifact.js';
import type { FunctionSource } from './resolve.js';
import { watchProject } from './watch.js';

export interface DevLoopOptions {
  source: FunctionSource;
  overrides?: ArtifactOverrides;
  /** Rebuild on change (default true; a .wasm is never watched). */
  watch?: boolean;
  /** Build progress and errors. */
  progress(message: string): void;
  /** Puts a new build in service. A throw counts as a failed build. */
  swap(built: BuiltArtifact): Promise<void>;
  /**
   * A build (or its swap) failed. On the first build, throwing refuses to start; returning
   * starts anyway (the dev server then shows the error). Later, the previous build stays in service.
   */
  failed(error: Error, first: boolean): void;
}

export interface DevLoop {
  /** Resolves when the rebuild triggered by the latest change has finished. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** "built dist/x.wasm (1234 bytes) in 56 ms" or "up to date (dist/x.wasm)". */
function builtLine(built: BuiltArtifact, ms: number): string | undefined {
  if (!built.build) return undefined;
  const rel = path.relative(process.cwd(), built.build.artifact);
  return built.build.cached ? `up to date (${rel})` : `built ${rel} (${built.build.size} bytes) in ${Math.round(ms)} ms`;
}

export async function startDevLoop(options: DevLoopOptions): Promise<DevLoop> {
  const cycle = async (first: boolean): Promise<void> => {
    const started = performance.now();
    try {
      const built = await buildArtifact(options.source, { ...options.overrides, log: options.progress });
      const line = builtLine(built, performance.now() - started);
      if (line) options.progress(line);
      await options.swap(built);
    } catch (error) {
      options.failed(error as Error, first);
    }
  };

  // Watch before the first build: a save while it runs (a Go build takes seconds) is not lost.
  let pending: Promise<void> = Promise.resolve();
  let watcher: { close(): Promise<void> } | undefined;
  if (options.source.kind === 'project' && options.watch !== false) {
    watcher = await watchProject(options.source.dir, () => {
      options.progress('change detected, rebuilding');
      pending = pending.catch(() => {}).then(() => cycle(false));
    });
  }
  const first = cycle(true);
  pending = first;
  try {
    await first;
  } catch (error) {
    await watcher?.close();
    throw error;
  }
  return {
    idle: async () => {
      // The chain may grow while it runs: wait until no rebuild is left.
      for (let seen = pending; ; seen = pending) {
        await seen.catch(() => {});
        if (seen === pending) return;
      }
    },
    async close() {
      await watcher?.close();
      await pending.catch(() => {});
    },
  };
}
