// kill -9 during a stream of deploys: every acknowledged deploy is there after a restart, and
// no function is ever half-written (records parse, every blob a record names is whole).
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { KEEP_VERSIONS, type FunctionRecord } from '../../../src/server/serve/types.js';
import { request } from '../../helpers/http.js';
import { wat2wasm } from '../../helpers/wat.js';
import { admin, deploy, freePort, startCliServe, tempDir, TOKEN } from './helpers.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const MARK = 'v00000000';

/** A ~128 KiB module answering "v<8 digits>"; variants differ only in those digits. */
async function baseModule(): Promise<{ bytes: Uint8Array; at: number }> {
  const pad = '\\ab'.repeat(128 * 1024);
  const bytes = await wat2wasm(`(module
    (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
    (memory (export "memory") 4)
    (data (i32.const 1024) "Content-Type: text/plain\\n\\n${MARK}")
    (data (i32.const 65536) "${pad}")
    (func (export "_start")
      (i32.store (i32.const 0) (i32.const 1024))
      (i32.store (i32.const 4) (i32.const ${26 + MARK.length}))
      (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))`);
  const at = Buffer.from(bytes).indexOf(MARK);
  return { bytes, at };
}

function variant(base: { bytes: Uint8Array; at: number }, id: number): { bytes: Uint8Array; body: string } {
  const bytes = base.bytes.slice();
  const body = `v${String(id).padStart(8, '0')}`;
  bytes.set(new TextEncoder().encode(body), base.at);
  return { bytes, body };
}

describe('wfn serve durability', () => {
  it('kill -9 at any moment of a deploy stream loses no acknowledged deploy and never leaves a half-written function', async () => {
    const dataDir = await tempDir('crash');
    const base = await baseModule();
    const bodyOf = new Map<string, string>(); // sha -> body
    const acked = new Map<string, string[]>(); // name -> acknowledged shas, in order
    const pending = new Map<string, string>(); // name -> sha sent but not acknowledged when the server died
    let nextId = 1;
    let total = 0;

    for (let cycle = 0; cycle < 2; cycle++) {
      const srv = await startCliServe(['--port', String(await freePort()), '--data-dir', dataDir], { WFN_TOKEN: TOKEN });
      let stop = false;
      let killed = false;
      const streams = [0, 1, 2].map(async (w) => {
        for (let k = 0; !stop; k++) {
          const name = `f${w}-${k % 2}`;
          const v = variant(base, nextId++);
          const digest = sha(v.bytes);
          bodyOf.set(digest, v.body);
          pending.set(name, digest);
          let res;
          try {
            res = await deploy(srv.url, name, v.bytes);
          } catch (error) {
            // Only the kill may end a deploy without an answer (then it was never acknowledged);
            // any other failure, or one before the kill, is a bug this test must report.
            if (!killed) throw error;
            expect(`${(error as NodeJS.ErrnoException).code ?? ''} ${(error as Error).message}`).toMatch(/ECONNRESET|ECONNREFUSED|EPIPE|socket hang up/);
            return;
          }
          expect(res.status).toBe(201);
          pending.delete(name);
          acked.set(name, [...(acked.get(name) ?? []), digest]);
          total++;
        }
      });
      await new Promise((r) => setTimeout(r, 500 + Math.random() * 900));
      killed = true;
      srv.child.kill('SIGKILL');
      stop = true;
      await Promise.all(streams);
      await srv.exited;
    }
    expect(total).toBeGreaterThan(10);

    // On disk, before any restart cleans up: every record parses and names whole blobs.
    const records = new Map<string, FunctionRecord>();
    for (const file of await readdir(path.join(dataDir, 'functions'))) {
      if (!file.endsWith('.json') || file.startsWith('.')) continue;
      const record = JSON.parse(await readFile(path.join(dataDir, 'functions', file), 'utf8')) as FunctionRecord;
      records.set(record.name, record);
      for (const v of record.versions) {
        const blob = await readFile(path.join(dataDir, 'blobs', `${v.sha256}.wasm`));
        expect(sha(blob)).toBe(v.sha256);
      }
    }
    for (const [name, shas] of acked) {
      const record = records.get(name);
      expect(record, `acknowledged function ${name} is missing`).toBeDefined();
      const live = record!.versions.find((v) => v.version === record!.current)!.sha256;
      // Live: the last acknowledged deploy, or the one in flight when the server died.
      expect([shas[shas.length - 1], pending.get(name)]).toContain(live);
      // Kept: a suffix of the acknowledged deploys; older ones only ever leave by the trim to
      // KEEP_VERSIONS (deploys that committed but were never acknowledged also take slots).
      const kept = new Set(record!.versions.map((v) => v.sha256));
      const present = shas.map((d) => kept.has(d));
      const firstKept = present.indexOf(true);
      expect(firstKept, `no acknowledged deploy of ${name} is kept`).toBeGreaterThanOrEqual(0);
      expect(present.slice(firstKept).every(Boolean), `an acknowledged deploy of ${name} is lost`).toBe(true);
      if (firstKept > 0) expect(record!.versions).toHaveLength(KEEP_VERSIONS);
    }

    // After a restart every function answers with its live version; leftovers are gone.
    const srv = await startCliServe(['--port', String(await freePort()), '--data-dir', dataDir], { WFN_TOKEN: TOKEN });
    try {
      for (const [name, record] of records) {
        const live = record.versions.find((v) => v.version === record.current)!.sha256;
        expect((await request(`${srv.url}/${name}/`)).body.toString()).toBe(bodyOf.get(live));
      }
      expect((await admin(srv.url, 'functions')).json.functions).toHaveLength(records.size);
      expect(srv.stderr()).not.toMatch(/cannot load/);
      const leftovers = [...(await readdir(path.join(dataDir, 'functions'))), ...(await readdir(path.join(dataDir, 'blobs')))].filter((f) => f.endsWith('.tmp'));
      expect(leftovers).toEqual([]);
      // Blobs no record names (written just before a kill) were collected.
      const named = new Set([...records.values()].flatMap((r) => r.versions.map((v) => `${v.sha256}.wasm`)));
      expect((await readdir(path.join(dataDir, 'blobs'))).filter((f) => !named.has(f))).toEqual([]);
    } finally {
      srv.child.kill('SIGTERM');
      await srv.exited;
    }
  });
});
