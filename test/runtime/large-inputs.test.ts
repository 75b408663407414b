// Data-sized inputs must never meet a spread or `apply` (V8 puts each element on the stack):
// a valid module with thousands of imports once gave a 500 "internal error" on `wfn serve`
// and failed `wfn run`; `wfn run --json` of an 8 MiB body died with "Maximum call stack size
// exceeded" and printed nothing.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wfn } from '../helpers/cli.js';
import { request } from '../helpers/http.js';
import { wat2wasm } from '../helpers/wat.js';
import { deploy, startTestServe, type TestServer } from '../server/serve/helpers.js';

const IMPORTS = 6000;
const BIG_BODY = 8 * 1024 * 1024;

/** A contract-conforming module that imports fd_write 6,000 times (duplicate imports are valid WebAssembly). */
function manyImportsWat(): string {
  const imports = Array.from({ length: IMPORTS }, (_, i) => `(import "wasi_snapshot_preview1" "fd_write" (func $w${i} (param i32 i32 i32 i32) (result i32)))`);
  return `(module
  ${imports.join('\n  ')}
  (memory (export "memory") 1)
  (data (i32.const 64) "Content-Type: text/plain\\n\\nmany imports")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 64))
    (i32.store (i32.const 4) (i32.const 38))
    (drop (call $w${IMPORTS - 1} (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))`;
}

/** Answers an 8 MiB body of "abcd..." bytes. */
const BIG_BODY_WAT = `(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") ${BIG_BODY / 65536 + 1})
  (data (i32.const 16) "Content-Type: application/octet-stream\\n\\n")
  (func (export "_start") (local $i i32)
    (loop $fill
      (i32.store (i32.add (i32.const 65536) (local.get $i)) (i32.const 0x64636261))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br_if $fill (i32.lt_u (local.get $i) (i32.const ${BIG_BODY}))))
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 40))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (i32.store (i32.const 0) (i32.const 65536))
    (i32.store (i32.const 4) (i32.const ${BIG_BODY}))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))`;

let dir: string;
let manyImports: Uint8Array;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'wfn-large-'));
  manyImports = await wat2wasm(manyImportsWat());
  await writeFile(path.join(dir, 'many.wasm'), manyImports);
  await writeFile(path.join(dir, 'big.wasm'), await wat2wasm(BIG_BODY_WAT));
});

describe('a module with 6,000 imports', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServe({ workers: 1 });
  });
  afterAll(() => server.close());

  it('is deployed to and served by wfn serve', async () => {
    const put = await deploy(server.url, 'many', manyImports);
    expect([put.status, put.json?.error]).toEqual([201, undefined]);
    const res = await request(`${server.url}/many/`);
    expect([res.status, res.body.toString()]).toEqual([200, 'many imports']);
  });

  it('runs with wfn run', async () => {
    const got = await wfn(['run', path.join(dir, 'many.wasm')]);
    expect(got.stderr).not.toMatch(/call stack|internal error/i);
    expect(got.code).toBe(0);
    expect(got.stdout).toMatch(/^HTTP\/1\.1 200 OK\n[\s\S]*\n\nmany imports$/);
  });
});

describe('wfn run --json of an 8 MiB body', () => {
  it('prints the whole response as JSON', async () => {
    const got = await wfn(['run', path.join(dir, 'big.wasm'), '--json']);
    expect(got.stderr).not.toMatch(/call stack/i);
    expect(got.code).toBe(0);
    const out = JSON.parse(got.stdout);
    expect(out.status).toBe(200);
    const body = Buffer.from(out.bodyBase64, 'base64');
    expect(body.length).toBe(BIG_BODY);
    expect(body.subarray(0, 8).toString()).toBe('abcdabcd');
    expect(body.subarray(BIG_BODY - 4).toString()).toBe('abcd');
  });
});
