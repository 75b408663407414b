// Function variables are checked where they enter: a deploy through the admin API (400 naming
// the variable), wfn.toml (file, line, key) and `wfn deploy --env`. A NUL in a value once made
// every later call of the function a 500; `__proto__` as a name was silently dropped.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { parseEnvPairs } from '../../src/project/deploy.js';
import { UserError } from '../../src/util/errors.js';
import { request } from '../helpers/http.js';
import { admin, deploy, startTestServe, textFunction, type TestServer } from '../server/serve/helpers.js';

/** Bad variables and the words the error must contain (it names the variable). */
const BAD: [string, string, RegExp][] = [
  ['SECRET', 'a\u0000b', /"SECRET".*NUL/],
  ['__proto__', 'x', /"__proto__".*reserved/],
  ['constructor', 'x', /"constructor".*reserved/],
  ['BAD-NAME', 'x', /"BAD-NAME"/],
  ['1ST', 'x', /"1ST"/],
  ['LONE', 'a\ud800b', /"LONE".*surrogate/],
];

describe('function variables at deploy (admin API)', () => {
  let server: TestServer;
  let wasm: Uint8Array;
  beforeAll(async () => {
    server = await startTestServe({ workers: 1 });
    wasm = await textFunction('ok');
  });
  afterAll(() => server.close());

  for (const [name, value, message] of BAD) {
    it(`refuses ${JSON.stringify(name)} = ${JSON.stringify(value)} with a 400 that names it, and deploys nothing`, async () => {
      const env = Object.defineProperty({ GOOD: '1' }, name, { value, enumerable: true });
      const res = await deploy(server.url, 'vars', wasm, { env });
      expect(res.status).toBe(400);
      expect(res.json.error).toMatch(message);
      expect((await admin(server.url, 'functions/vars')).status).toBe(404);
    });
  }

  it('a good deploy still works and is called without a 500', async () => {
    expect((await deploy(server.url, 'vars', wasm, { env: { GOOD: 'x y=z', EMPTY: '' } })).status).toBe(201);
    expect((await request(`${server.url}/vars/`)).status).toBe(200);
  });
});

describe('function variables in wfn.toml', () => {
  const head = 'name = "hello"\nlanguage = "rust"\n\n[env]\nGOOD = "1"\n';
  const errorOf = (source: string) => {
    try {
      parseConfig(source, `${process.cwd()}/wfn.toml`);
    } catch (error) {
      expect(error).toBeInstanceOf(UserError);
      return (error as Error).message;
    }
    throw new Error('expected an error');
  };

  it('a NUL in a value names the file, line and key', () => {
    expect(errorOf(`${head}SECRET = "a\\u0000b"\n`)).toMatch(/^wfn\.toml:6: "env\.SECRET".*NUL/);
  });

  it('a name the environment cannot carry, or a reserved one, is refused, not dropped', () => {
    expect(errorOf(`${head}"BAD-NAME" = "x"\n`)).toMatch(/^wfn\.toml:6: "env\.BAD-NAME".*invalid variable/);
    expect(errorOf(`${head}__proto__ = "x"\n`)).toMatch(/^wfn\.toml:6: "env\.__proto__".*reserved/);
    expect(errorOf(`${head}constructor = "x"\n`)).toMatch(/^wfn\.toml:6: "env\.constructor".*reserved/);
  });

  it('secrets are names of variables too', () => {
    expect(errorOf('name = "hello"\nlanguage = "rust"\nsecrets = ["__proto__"]\n')).toMatch(/^wfn\.toml:3: .*"__proto__".*reserved/);
  });
});

describe('wfn deploy --env', () => {
  it('refuses what the environment cannot carry', () => {
    expect(() => parseEnvPairs(['__proto__=x'])).toThrow(/"__proto__".*reserved/);
    expect(() => parseEnvPairs(['A-B=x'])).toThrow(/"A-B"/);
    expect(() => parseEnvPairs(['A=\u0000'])).toThrow(/"A".*NUL/);
    expect(parseEnvPairs(['A=b=c', 'EMPTY='])).toEqual({ A: 'b=c', EMPTY: '' });
  });
});
