// Builds templates for the benchmark into .wfn/bench/projects (cached by wfn's own build cache).
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { ROOT } from './lib.js';

export async function buildTemplate(language, template, options = {}) {
  const { scaffoldProject } = await import('../lib/src/project/scaffold.js');
  const { loadConfig } = await import('../lib/src/config/load.js');
  const { buildProject } = await import('../lib/src/pipeline/build.js');
  const parent = path.join(ROOT, '.wfn', 'bench', 'projects', language);
  await mkdir(parent, { recursive: true });
  const name = `${template}${options.suffix ?? ''}`;
  if (!existsSync(path.join(parent, name))) await scaffoldProject(name, language, template, parent);
  const config = await loadConfig(path.join(parent, name));
  const result = await buildProject(config, options.build ?? {});
  return result.artifact;
}
