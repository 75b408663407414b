/**
 * `wfn new`: copies templates/<lang>/<template>/ with {{name}} substituted, and says how to
 * call wfn from the new project (on PATH, installed in the project, or this very CLI).
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LANGUAGES, type Language } from '../config/types.js';
import { didYouMean } from '../util/did-you-mean.js';
import { UserError } from '../util/errors.js';
import { findAllOnPath } from '../util/exec.js';
import { packageRoot } from '../util/paths.js';

export const LANGUAGE_ALIASES: Record<string, Language> = { as: 'assemblyscript', javascript: 'js', rs: 'rust', golang: 'go' };

export function resolveLanguage(input: string): Language {
  const lang = (LANGUAGE_ALIASES[input] ?? input) as Language;
  if (!LANGUAGES.includes(lang)) {
    const hint = didYouMean(input, [...LANGUAGES]);
    // A bad --lang value: a usage error (exit 2), as oclif's own bad option values.
    throw new UserError(`Unknown language "${input}".${hint ? ` Did you mean "${hint}"?` : ''}`, `Languages: ${LANGUAGES.join(', ')}`, 2);
  }
  return lang;
}

export async function listTemplates(language: Language): Promise<string[]> {
  try {
    return (await readdir(path.join(packageRoot(), 'templates', language), { withFileTypes: true }))
      .filter((d) => d.isDirectory() && !d.name.startsWith('_'))
      .map((d) => d.name)
      .sort();
  } catch {
    return [];
  }
}

async function copyTree(from: string, to: string, vars: Record<string, string>, written: string[]): Promise<void> {
  const substitute = (text: string) => text.replace(/\{\{(\w+)\}\}/g, (m, key: string) => vars[key] ?? m);
  await mkdir(to, { recursive: true });
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const name = substitute(entry.name === 'gitignore' ? '.gitignore' : entry.name);
    const src = path.join(from, entry.name);
    const dest = path.join(to, name);
    if (entry.isDirectory()) await copyTree(src, dest, vars, written);
    else {
      const bytes = await readFile(src);
      // Text files get substitution; binary data files are copied as they are.
      const isText = !bytes.subarray(0, 8000).includes(0);
      await writeFile(dest, isText ? substitute(bytes.toString('utf8')) : bytes);
      written.push(dest);
    }
  }
}

export const COMMON_DIR = '_common';

export interface ScaffoldResult {
  dir: string;
  language: Language;
  template: string;
  files: string[];
}

export async function scaffoldProject(name: string, languageInput: string, template: string, parentDir: string): Promise<ScaffoldResult> {
  if (!/^[a-z][a-z0-9-]{0,62}$/.test(name)) {
    throw new UserError(`"${name}" is not a valid function name.`, 'Use lower-case letters, digits and dashes, starting with a letter (it names the artifact and the deployed service).');
  }
  const language = resolveLanguage(languageInput);
  const templates = await listTemplates(language);
  if (!templates.includes(template)) {
    const hint = didYouMean(template, templates);
    throw new UserError(`There is no "${template}" template for ${language}.${hint ? ` Did you mean "${hint}"?` : ''}`, `Templates for ${language}: ${templates.join(', ')}`, 2);
  }
  const dir = path.resolve(parentDir, name);
  // Never overwrite: a folder with anything in it is left as it is.
  if (existsSync(dir) && (await readdir(dir)).length > 0) {
    throw new UserError(`${path.relative(process.cwd(), dir) || dir} already exists and is not empty; nothing was written.`, 'Choose another name or remove the folder.');
  }
  const files: string[] = [];
  // templates/<lang>/_common/ (the CGI helpers every template of a language shares) comes first.
  const common = path.join(packageRoot(), 'templates', language, COMMON_DIR);
  if (existsSync(common)) await copyTree(common, dir, { name }, files);
  await copyTree(path.join(packageRoot(), 'templates', language, template), dir, { name }, files);
  return { dir, language, template, files: files.map((f) => path.relative(dir, f)).sort() };
}

/**
 * How to run wfn from `dir`, for the "Next:" lines: `wfn` when it is on PATH (npm install -g,
 * npm link), `npx wfn` when a node_modules/.bin/wfn is in the folder or above it (a project
 * install; npx would otherwise fetch whatever "wfn" the registry has), else this CLI by its path.
 */
export function wfnInvocation(dir: string, pathVar = process.env.PATH ?? ''): string {
  // A node_modules/.bin on PATH is npx's or an npm script's: a project install, not a global one.
  const inBin = `${path.sep}node_modules${path.sep}.bin${path.sep}`;
  if (findAllOnPath('wfn', pathVar).some((file) => !file.includes(inBin))) return 'wfn';
  for (let at = path.resolve(dir); ; ) {
    if (existsSync(path.join(at, 'node_modules', '.bin', 'wfn'))) return 'npx wfn';
    const parent = path.dirname(at);
    if (parent === at) break;
    at = parent;
  }
  const bin = path.join(packageRoot(), 'bin', 'run.js');
  return `node ${/[^\w@%+=:,./-]/.test(bin) ? `'${bin.replace(/'/g, `'\\''`)}'` : bin}`;
}
