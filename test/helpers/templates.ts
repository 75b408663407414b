/** Builds a template into a .wasm once per test process (scaffold into a temp dir + the real pipeline). */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { buildProject, type BuildOptions } from '../../src/pipeline/build.js';
import { scaffoldProject } from '../../src/project/scaffold.js';

const built = new Map<string, Promise<string>>();

export function buildTemplate(language: string, template: string, options: BuildOptions = {}): Promise<string> {
  const key = `${language}/${template}/${JSON.stringify(options)}`;
  if (!built.has(key)) {
    built.set(
      key,
      (async () => {
        const parent = await mkdtemp(path.join(tmpdir(), `wfn-${language}-${template}-`));
        const project = await scaffoldProject(`t-${template}`, language, template, parent);
        const config = await loadConfig(project.dir);
        return (await buildProject(config, options)).artifact;
      })(),
    );
  }
  return built.get(key)!;
}
