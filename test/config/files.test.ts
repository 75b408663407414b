/** wfn.toml `[files]`: the mappings the loader accepts, and the line-numbered errors for the rest. */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';

const load = (files: string) => parseConfig(`name = "f"\nlanguage = "rust"\n\n[files]\n${files}\n`, '/p/wfn.toml');

describe('[files]', () => {
  it('maps folders by string or table, normalized', () => {
    const config = load('"/" = "public/"\n"/templates" = { dir = "./views", include = ["**/*.html"], exclude = ["drafts/**"] }');
    expect(config.files).toEqual([
      { mount: '/', dir: 'public', include: [], exclude: [] },
      { mount: '/templates', dir: 'views', include: ['**/*.html'], exclude: ['drafts/**'] },
    ]);
    expect(parseConfig('name = "f"\nlanguage = "rust"\n', '/p/wfn.toml').files).toEqual([]);
  });

  it.each([
    ['"/" = "../secrets"', /:5: "files\.\/": the folder "\.\.\/secrets" must be inside the project/],
    ['"/" = "/etc"', /must be inside the project/],
    ['"/" = "public/../../x"', /must be inside the project/],
    ['"/" = "dist/"', /is one wfn writes or skips/],
    ['"/" = ".wfn"', /is one wfn writes or skips/],
    ['"templates" = "views"', /the key is where the function sees the folder/],
    ['"/a/../b" = "views"', /the key is where the function sees the folder/],
    ['"/a/" = "views"', /the key is where the function sees the folder/],
    ['"/" = 3', /must be a folder/],
    ['"/" = { dir = "p", include = "x" }', /"include" must be an array of globs/],
    ['"/" = { dir = "p", incldue = ["x"] }', /unknown key "incldue"/],
    ['"/" = { include = ["x"] }', /"dir" must be a project folder/],
  ])('refuses %s with the line', (line, message) => {
    expect(() => load(line)).toThrow(message);
  });
});
