/** `wfn dev --target X`: package the artifact for X and run that very package in X's emulator. */
import { loadAdapter } from '../../adapters/index.js';
import type { Emulator } from '../target/types.js';
import { artifactFrom } from './artifact.js';
import { watchProject } from '../server/watch.js';
import type { FunctionSource } from './resolve.js';

export interface EmulateRequest {
  host: string;
  port: number;
  memoryMiB?: number;
  timeoutMs?: number;
  log(line: string): void;
  progress(message: string): void;
}

async function packageAndEmulate(target: string, source: FunctionSource, options: EmulateRequest, port: number): Promise<Emulator> {
  const adapter = await loadAdapter(target);
  const artifact = await artifactFrom(source, {
    acceptsAsIs: adapter.acceptsAsIs, memoryMiB: options.memoryMiB, timeoutMs: options.timeoutMs, log: options.progress });
  options.progress(`packaging for ${target}`);
  const bundle = await adapter.package(artifact);
  return adapter.emulate(bundle, { host: options.host, port, log: options.log });
}

/** In a project, a change rebuilds, repackages and restarts the emulator on the same address. */
export async function startTargetEmulator(target: string, source: FunctionSource, options: EmulateRequest): Promise<Emulator> {
  let current = await packageAndEmulate(target, source, options, options.port);
  if (source.kind !== 'project') return current;
  const port = Number(new URL(current.url).port);
  let pending = Promise.resolve();
  const watcher = await watchProject(source.dir, () => {
    pending = pending.then(async () => {
      options.progress('change detected, rebuilding');
      try {
        await artifactFrom(source, { log: options.progress }); // fails before the running emulator is touched
        await current.close();
        current = await packageAndEmulate(target, source, options, port);
        options.progress(`restarted the ${target} emulator with the new build`);
      } catch (error) {
        options.progress(`build failed, still serving the previous build:\n${(error as Error).message}`);
      }
    });
  });
  return {
    get url() {
      return current.url;
    },
    async close() {
      await watcher.close();
      await pending;
      await current.close();
    },
  };
}
