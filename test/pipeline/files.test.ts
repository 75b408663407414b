/**
 * `[files]` at build time (src/pipeline/files.ts): what is collected from the mapped folders,
 * what is left out (dotfiles, excluded globs), and the refusals: a link out of the project, a
 * missing folder. The archive it makes round-trips through the runtime's reader.
 */
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { collectFiles, filesArchive } from '../../src/pipeline/files.js';
import { decodeArchive } from '../../src/runtime/files.js';

async function project(files: string, tree: Record<string, string>) {
  const dir = await mkdtemp(path.join(tmpdir(), 'wfn-files-'));
  for (const [rel, content] of Object.entries(tree)) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), content);
  }
  const toml = `name = "f"\nlanguage = "rust"\n\n[files]\n${files}\n`;
  await writeFile(path.join(dir, 'wfn.toml'), toml);
  return { dir, config: parseConfig(toml, path.join(dir, 'wfn.toml')) };
}

describe('collecting [files]', () => {
  it('maps folders under their mount points, skips dotfiles, applies include and exclude', async () => {
    const { config } = await project('"/" = "public"\n"/templates" = { dir = "views", include = ["**/*.html"], exclude = ["drafts/**"] }', {
      'public/index.html': 'i',
      'public/css/a.css': 'a',
      'public/.env': 'SECRET',
      'public/.git/config': 'x',
      'views/page.html': 'p',
      'views/notes.txt': 'n',
      'views/drafts/d.html': 'd',
      'src/main.rs': 'not mapped',
    });
    const collected = await collectFiles(config);
    expect(collected.files.map((f) => f.path)).toEqual(['css/a.css', 'index.html', 'templates/page.html']);
    expect(collected.dirs).toEqual(['templates']);
    const tree = decodeArchive(await filesArchive(collected));
    expect(tree.files).toBe(3);
    const templates = tree.root.children.get('templates');
    expect(templates?.kind).toBe('dir');
  });

  it('follows a link inside the project and refuses one out of it', async () => {
    const { dir, config } = await project('"/" = "public"', { 'public/a.txt': 'a', 'shared/b.txt': 'b' });
    await symlink(path.join(dir, 'shared'), path.join(dir, 'public', 'shared'));
    expect((await collectFiles(config)).files.map((f) => f.path)).toEqual(['a.txt', 'shared/b.txt']);
    await symlink('/etc', path.join(dir, 'public', 'etc'));
    await expect(collectFiles(config)).rejects.toThrow(/etc is a symbolic link out of the project/);
  });

  it('names a missing folder', async () => {
    const { config } = await project('"/" = "public"', { 'src/x': '' });
    await expect(collectFiles(config)).rejects.toThrow(/\[files\] "\/" = "public": the folder public does not exist/);
  });
});
