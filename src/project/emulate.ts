/** `wfn dev --target X`: package the artifact for X and run that very package in X's emulator. */
import { loadAdapter } from '../../adapters/index.js';
import type { Emulator } from '../../adapters/types.js';
import { artifactFrom } from './artifact.js';
import type { FunctionSource } from './resolve.js';

export interface EmulateRequest {
  host: string;
  port: number;
  memoryMiB?: number;
  timeoutMs?: number;
  log(line: string): void;
  progress(message: string): void;
}

export async function startTargetEmulator(target: string, source: FunctionSource, options: EmulateRequest): Promise<Emulator> {
  const adapter = await loadAdapter(target);
  const artifact = await artifactFrom(source, { memoryMiB: options.memoryMiB, timeoutMs: options.timeoutMs, log: options.progress });
  options.progress(`packaging for ${target}`);
  const bundle = await adapter.package(artifact);
  return adapter.emulate(bundle, { host: options.host, port: options.port, log: options.log });
}
