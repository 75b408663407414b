// Packaging for Cloudflare: the bundle on disk is exactly what deploy uploads and the emulator runs.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Artifact } from '../../../src/target/types.js';
import { adapter } from '../../../adapters/cloudflare/index.js';
import { COMPATIBILITY_DATE, FREE_LIMIT_BYTES, PAID_LIMIT_BYTES, sizeWarnings } from '../../../adapters/cloudflare/package.js';
import { encodeMultipart, parseMultipart } from '../../../adapters/cloudflare/multipart.js';
import { definedMemories } from '../../../src/runtime/wasm-binary.js';
import { UserError } from '../../../src/util/errors.js';
import { writeOnce } from '../../fixtures/contract.js';
import { wat2wasm } from '../../helpers/wat.js';

let dir: string;
let wasmPath: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'wfn-cf-package-'));
  wasmPath = path.join(dir, 'fn.wasm');
  await writeFile(wasmPath, await wat2wasm(writeOnce({ stdout: 'Content-Type: text/plain\n\nhi' })));
});

const SECRET_VALUE = 'sekret-value-do-not-ship-7f3a';

function artifact(extra: Partial<Artifact> = {}): Artifact {
  return {
    name: 'hello-cf',
    wasmPath,
    env: { GREETING: 'hi "there"\n', MODE: 'prod' },
    secrets: ['API_KEY'],
    limits: { memoryMiB: 32, timeoutMs: 5000 },
    projectDir: path.join(dir, 'project'),
    ...extra,
  };
}

describe('cloudflare package', () => {
  it('writes worker.js, the capped wasm, metadata.json and the workerd config under .wfn/targets/cloudflare', async () => {
    process.env.API_KEY = SECRET_VALUE; // present in the environment, still never packaged
    try {
      const bundle = await adapter.package(artifact());
      expect(bundle.target).toBe('cloudflare');
      expect(bundle.dir).toBe(path.join(dir, 'project', '.wfn', 'targets', 'cloudflare'));
      expect(bundle.files.map((f) => f.path)).toEqual(['worker.js', 'hello-cf.wasm', 'metadata.json', 'workerd.capnp']);
      const bytes = new Map<string, Buffer>();
      for (const f of bundle.files) {
        const b = await readFile(path.join(bundle.dir, f.path));
        expect(b.length).toBe(f.size);
        bytes.set(f.path, b);
      }
      expect(bundle.size).toBe([...bytes.values()].reduce((n, b) => n + b.length, 0));
      expect(bundle.compressedSize).toBe(gzipSync(Buffer.concat([bytes.get('worker.js')!, bytes.get('hello-cf.wasm')!])).length);
      expect(bundle.warnings).toEqual([]);

      // the shipped wasm is the capped one
      expect(definedMemories(bytes.get('hello-cf.wasm')!)[0].maxPages).toBe((32 * 1024 * 1024) / 65536);

      // a minified ES module importing the wasm as a module, with the runtime inside
      const worker = bytes.get('worker.js')!.toString('utf8');
      expect(worker).toMatch(/import [\w$]+ from"\.\/hello-cf\.wasm"/); // a minified name may hold "$"
      expect(worker).toContain('export{');
      expect(worker).toContain('wasi_snapshot_preview1');
      expect(worker.split('\n').length).toBeLessThan(20);

      const metadata = JSON.parse(bytes.get('metadata.json')!.toString('utf8'));
      expect(metadata).toEqual({
        main_module: 'worker.js',
        compatibility_date: COMPATIBILITY_DATE,
        bindings: [
          { type: 'plain_text', name: 'GREETING', text: 'hi "there"\n' },
          { type: 'plain_text', name: 'MODE', text: 'prod' },
          { type: 'secret_text', name: 'API_KEY' },
        ],
        // the script tag `wfn ls` lists by, and the sha256 and size of the shipped .wasm on the version
        tags: ['wfn'],
        annotations: { 'workers/tag': createHash('sha256').update(bytes.get('hello-cf.wasm')!).digest('hex'), 'workers/message': `wfn deploy, ${bytes.get('hello-cf.wasm')!.length} bytes` },
      });

      const capnp = bytes.get('workerd.capnp')!.toString('utf8');
      expect(capnp).toContain('(name = "API_KEY", fromEnvironment = "API_KEY")');
      expect(capnp).toContain('(name = "GREETING", text = "hi \\"there\\"\\x0a")');
      expect(capnp).toContain('wasm = embed "hello-cf.wasm"');

      // no secret value anywhere in the bundle
      for (const [name, b] of bytes) expect(b.includes(SECRET_VALUE), name).toBe(false);
    } finally {
      delete process.env.API_KEY;
    }
  });

  it('is deterministic: packaging twice gives the same bytes', async () => {
    const first = await adapter.package(artifact());
    const a = await Promise.all(first.files.map((f) => readFile(path.join(first.dir, f.path))));
    const second = await adapter.package(artifact());
    const b = await Promise.all(second.files.map((f) => readFile(path.join(second.dir, f.path))));
    expect(a.map((x, i) => Buffer.compare(x, b[i]))).toEqual([0, 0, 0, 0]);
  });

  it('goes to a temp dir without a project, and warns about a name Cloudflare would refuse', async () => {
    const bundle = await adapter.package(artifact({ name: 'bad-name-', projectDir: undefined, secrets: [], env: {} }));
    expect(bundle.dir).toBe(path.join(tmpdir(), 'wfn-targets', 'bad-name-', 'cloudflare'));
    expect(bundle.warnings.join('\n')).toMatch(/not a valid Cloudflare Worker name/);
  });

  it('refuses a module whose initial memory is above the cap', async () => {
    const big = path.join(dir, 'big.wasm');
    await writeFile(big, await wat2wasm('(module (memory (export "memory") 40) (func (export "_start")))'));
    await expect(adapter.package(artifact({ wasmPath: big, limits: { memoryMiB: 1, timeoutMs: 1000 } }))).rejects.toThrow(UserError);
  });

  it('warns over the free (3 MiB) and paid (10 MiB) compressed limits', () => {
    expect(sizeWarnings(FREE_LIMIT_BYTES)).toEqual([]);
    expect(sizeWarnings(FREE_LIMIT_BYTES + 1)[0]).toMatch(/3 MiB limit on the free plan/);
    expect(sizeWarnings(PAID_LIMIT_BYTES + 1)[0]).toMatch(/10 MiB limit \(paid plans\)/);
  });
});

describe('multipart', () => {
  it('round-trips binary parts byte for byte', () => {
    const binary = new Uint8Array(4096).map((_, i) => (i * 7) & 255);
    binary.set(new TextEncoder().encode('\r\n--not-a-boundary\r\n'), 100);
    const parts = [
      { name: 'metadata', contentType: 'application/json', data: new TextEncoder().encode('{"a":1}') },
      { name: 'x.wasm', filename: 'x.wasm', contentType: 'application/wasm', data: binary },
    ];
    const { body, contentType } = encodeMultipart(parts);
    expect(contentType).toMatch(/^multipart\/form-data; boundary=/);
    const back = parseMultipart(body, contentType);
    expect(back.map((p) => [p.name, p.filename, p.contentType])).toEqual([
      ['metadata', undefined, 'application/json'],
      ['x.wasm', 'x.wasm', 'application/wasm'],
    ]);
    expect(Buffer.compare(Buffer.from(back[1].data), Buffer.from(binary))).toBe(0);
  });
});
