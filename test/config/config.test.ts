import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import { WFN_TOML_SCHEMA } from '../../src/config/schema.js';
import { UserError } from '../../src/util/errors.js';

const FILE = path.join(process.cwd(), 'wfn.toml');

function errorOf(source: string): string {
  try {
    parseConfig(source, FILE);
  } catch (error) {
    expect(error).toBeInstanceOf(UserError);
    return (error as Error).message;
  }
  throw new Error('expected an error');
}

describe('wfn.toml', () => {
  it('parses a full file with defaults filled in', () => {
    const config = parseConfig(
      `name = "hello"\nlanguage = "rust"\nsecrets = ["API_KEY"]\n\n[build]\noptimize = "Oz"\n\n[env]\nGREETING = "hi"\n\n[limits]\nmemory = 64\n`,
      FILE,
    );
    expect(config).toMatchObject({
      name: 'hello',
      language: 'rust',
      route: '/',
      build: { optimize: 'Oz' },
      env: { GREETING: 'hi' },
      secrets: ['API_KEY'],
      limits: { memoryMiB: 64, timeoutMs: 10000 },
    });
  });

  it('[outbound]: defaults deny everything; values and allow entries are read', () => {
    expect(parseConfig('name = "a"\nlanguage = "go"\n', FILE).outbound).toEqual({ allow: [], timeoutMs: 10000, maxResponseBytes: 16777216, maxCalls: 50 });
    const config = parseConfig('name = "a"\nlanguage = "go"\n[outbound]\nallow = ["https://api.example.com", "http://127.0.0.1:*"]\ntimeout_ms = 500\nmax_response_bytes = 1024\nmax_calls = 3\n', FILE);
    expect(config.outbound).toEqual({ allow: ['https://api.example.com', 'http://127.0.0.1:*'], timeoutMs: 500, maxResponseBytes: 1024, maxCalls: 3 });
  });

  it('[kv]: no stores by default; names are read as written', () => {
    expect(parseConfig('name = "a"\nlanguage = "go"\n', FILE).kv).toEqual({ stores: [] });
    expect(parseConfig('name = "a"\nlanguage = "go"\n[kv]\nstores = ["default", "Sessions_2"]\n', FILE).kv).toEqual({ stores: ['default', 'Sessions_2'] });
  });

  it('[kv]: a bad or repeated store name names the line and says why', () => {
    expect(errorOf('name = "a"\nlanguage = "go"\n\n[kv]\nstores = ["default", "my-store"]\n')).toMatch(/^wfn\.toml:5: "kv.stores\[1\]" is the string "my-store": A store name/);
    expect(errorOf('name = "a"\nlanguage = "go"\n[kv]\nstores = ["a", "a"]\n')).toBe('wfn.toml:4: "kv.stores[1]" is "a", named twice: each store is named once');
    expect(errorOf('name = "a"\nlanguage = "go"\n[kv]\nstores = ["constructor"]\n')).toMatch(/"kv.stores\[0\]" is "constructor", the name is reserved/);
    expect(errorOf('name = "a"\nlanguage = "go"\nsecrets = ["TOKEN"]\n[env]\nX = "1"\n[kv]\nstores = ["X", "TOKEN"]\n')).toBe('wfn.toml:7: "kv.stores[0]" is "X", it is also the name of a variable ([env] or secrets), and in JavaScript both would be env.X\nwfn.toml:7: "kv.stores[1]" is "TOKEN", it is also the name of a variable ([env] or secrets), and in JavaScript both would be env.TOKEN');
    expect(errorOf('name = "a"\nlanguage = "go"\n[kv]\nstore = ["a"]\n')).toMatch(/^wfn\.toml:4: unknown key "store" in \[kv\]\. Did you mean "stores"\?/);
    expect(errorOf(`name = "a"\nlanguage = "go"\n[kv]\nstores = ["${'x'.repeat(65)}"]\n`)).toMatch(/kv.stores\[0\]/);
  });

  it('[outbound]: a bad allow entry or limit names the line and says why', () => {
    const message = errorOf('name = "a"\nlanguage = "go"\n\n[outbound]\nallow = ["https://ok.example", "api.example.com/v1"]\n');
    expect(message).toBe('wfn.toml:5: "outbound.allow[1]" is "api.example.com/v1": it must look like "https://api.example.com" (scheme://host[:port])');
    expect(errorOf('name = "a"\nlanguage = "go"\n[outbound]\nallow = ["ftp://x.example"]\n')).toMatch(/^wfn\.toml:4: .*only http and https/);
    expect(errorOf('name = "a"\nlanguage = "go"\n[outbound]\ntimeout_ms = 0\n')).toBe('wfn.toml:4: "outbound.timeout_ms" must be between 1 and 900000, not 0');
    expect(errorOf('name = "a"\nlanguage = "go"\n[outbound]\nallowed = []\n')).toMatch(/^wfn\.toml:4: unknown key "allowed" in \[outbound\]\. Did you mean "allow"\?/);
  });

  it('a TOML syntax error names the file, line and column', () => {
    expect(errorOf('name = "hello"\nlanguage = "rust\n')).toMatch(/^wfn\.toml:2:\d+: /);
  });

  it('an unknown key is an error with a did-you-mean, naming the line', () => {
    const message = errorOf('name = "hello"\nlanguage = "rust"\n\n[build]\noptimise = "O3"\n');
    expect(message).toBe('wfn.toml:5: unknown key "optimise" in [build]. Did you mean "optimize"?');
  });

  it('an unknown top-level table is named too', () => {
    expect(errorOf('name = "a"\nlanguage = "go"\n[limit]\nmemory = 1\n')).toMatch(/^wfn\.toml:3: unknown key "limit" in the top level\. Did you mean "limits"\?/);
  });

  it('wrong types and values name the key and line', () => {
    const message = errorOf('name = "Hello World"\nlanguage = "rustt"\n[limits]\nmemory = "lots"\ntimeout = 0\n');
    expect(message).toContain('wfn.toml:1: "name" is the string "Hello World"');
    expect(message).toContain('wfn.toml:2: "language" must be one of');
    expect(message).toContain('Did you mean "rust"?');
    expect(message).toContain('wfn.toml:4: "limits.memory" must be a whole number');
    expect(message).toContain('wfn.toml:5: "limits.timeout" must be between 1 and 900000, not 0');
  });

  it('env values must be strings', () => {
    expect(errorOf('name = "a"\nlanguage = "go"\n[env]\nPORT = 8080\n')).toContain('wfn.toml:4: "env.PORT" must be a string');
  });

  it('missing required keys are reported', () => {
    expect(errorOf('name = "a"\n')).toContain('missing required key "language"');
  });

  it('a missing wfn.toml says how to create one', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'wfn-cfg-'));
    await expect(loadConfig(dir)).rejects.toThrow(/No wfn.toml in/);
    await writeFile(path.join(dir, 'wfn.toml'), 'name = "ok"\nlanguage = "js"\n');
    expect((await loadConfig(dir)).name).toBe('ok');
  });

  it('schema/wfn.schema.json is the schema the loader validates with', async () => {
    const file = JSON.parse(await readFile(path.join(__dirname, '..', '..', 'schema', 'wfn.schema.json'), 'utf8'));
    expect(file).toEqual(JSON.parse(JSON.stringify(WFN_TOML_SCHEMA)));
  });

  it('every template wfn.toml is valid', async () => {
    const { readdirSync, existsSync } = await import('node:fs');
    const root = path.join(__dirname, '..', '..', 'templates');
    const checked: string[] = [];
    for (const lang of readdirSync(root)) {
      for (const template of readdirSync(path.join(root, lang))) {
        const file = path.join(root, lang, template, 'wfn.toml');
        if (!existsSync(file)) continue;
        const source = (await readFile(file, 'utf8')).replace(/\{\{name\}\}/g, 'demo');
        expect(parseConfig(source, file).language).toBe(lang);
        checked.push(`${lang}/${template}`);
      }
    }
    // Every language's every template (a template without wfn.toml would be missed silently).
    const templates = ['fib', 'http', 'init', 'kv', 'proxy', 'static'];
    expect(checked.sort()).toEqual(['assemblyscript', 'go', 'js', 'rust'].flatMap((l) => templates.map((t) => `${l}/${t}`)));
  });
});
