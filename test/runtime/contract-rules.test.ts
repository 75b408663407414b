/**
 * The contract's structural rules in-process (src/runtime/contract.ts): one case per sentence
 * checkContract can say. contract.test.ts goes through the real host (worker threads on lib/);
 * this file is what `npm run mutate` can run against a mutant of src/.
 */
import { describe, expect, it } from 'vitest';
import { checkContract, usesKv, usesOutbound } from '../../src/runtime/contract.js';
import { KV_FUNCTIONS, KV_MODULE } from '../../src/runtime/kv/abi.js';
import { OUTBOUND_FUNCTIONS, OUTBOUND_MODULE } from '../../src/runtime/outbound/abi.js';
import { wat2wasm } from '../helpers/wat.js';

const EXPORTS = '(memory (export "memory") 1) (func (export "_start"))';
const i32s = (n: number) => Array(n).fill('i32').join(' ');
/** The first function of each wfn API, with its arity. */
const [sendName, sendArity] = Object.entries(OUTBOUND_FUNCTIONS)[0];
const [kvName, kvArity] = Object.entries(KV_FUNCTIONS)[0];

async function check(body: string, options: { pooledMemory?: boolean; withBytes?: boolean } = {}) {
  const bytes = await wat2wasm(`(module ${body})`);
  return checkContract(new WebAssembly.Module(bytes), { pooledMemory: options.pooledMemory, bytes: options.withBytes === false ? undefined : bytes });
}

describe('checkContract', () => {
  it('a WASI command with _start and memory conforms', async () => {
    expect(await check(`(import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32))) ${EXPORTS}`)).toEqual([]);
  });

  it('names the missing or mistyped exports', async () => {
    expect(await check('(memory (export "memory") 1)')).toEqual(['export "_start" is missing: build a WASI command (with a main function), not a library']);
    expect(await check('(func (export "_start"))')).toEqual(['export "memory" is missing: the host needs the module\'s memory to pass the request']);
    expect(await check('(memory (export "memory") 1) (global (export "_start") i32 (i32.const 0))')).toEqual(['export "_start" must be a function, not a global']);
    expect(await check('(memory 1) (func (export "_start")) (table (export "memory") 1 funcref)')).toEqual(['export "memory" must be a memory, not a table']);
  });

  it('names each import it refuses, and why', async () => {
    expect(await check(`(import "env" "abort" (func)) ${EXPORTS}`)).toEqual([
      `import "env.abort" is not allowed: a function may import only from wasi_snapshot_preview1 (and ${OUTBOUND_MODULE} for outbound HTTP, ${KV_MODULE} for key-value)`,
    ]);
    expect(await check(`(import "wasi_snapshot_preview1" "g" (global i32)) ${EXPORTS}`)).toEqual(['import "wasi_snapshot_preview1.g" is a global, but wasi_snapshot_preview1 provides only functions']);
    expect(await check(`(import "wasi_snapshot_preview1" "sock_open" (func)) ${EXPORTS}`)).toEqual(['import "wasi_snapshot_preview1.sock_open" is not a WASI preview1 function']);
  });

  it('accepts the host\'s own wfn.memory import only in the pooled rewrite', async () => {
    const body = '(import "wfn" "memory" (memory 1)) (func (export "_start")) (export "memory" (memory 0))';
    expect(await check(body, { pooledMemory: true })).toEqual([]);
    expect((await check(body))[0]).toMatch(/^import "wfn.memory" is not allowed/);
    expect((await check('(import "wfn" "other" (memory 1)) (func (export "_start")) (export "memory" (memory 0))', { pooledMemory: true }))[0]).toMatch(/^import "wfn.other" is not allowed/);
    expect((await check(`(import "wfn" "memory" (func)) ${EXPORTS}`, { pooledMemory: true }))[0]).toMatch(/^import "wfn.memory" is not allowed/);
  });

  it('wfn\'s APIs: known functions with their exact signatures', async () => {
    const send = `(import "${OUTBOUND_MODULE}" "${sendName}" (func (param ${i32s(sendArity)}) (result i32)))`;
    const kv = `(import "${KV_MODULE}" "${kvName}" (func (param ${i32s(kvArity)}) (result i32)))`;
    expect(await check(`${send} ${kv} ${EXPORTS}`)).toEqual([]);
    expect(await check(`(import "${OUTBOUND_MODULE}" "teleport" (func)) ${EXPORTS}`)).toEqual([
      `import "${OUTBOUND_MODULE}.teleport" is not a function of ${OUTBOUND_MODULE} (it has ${Object.keys(OUTBOUND_FUNCTIONS).join(', ')})`,
    ]);
    expect(await check(`(import "${KV_MODULE}" "${kvName}" (global i32)) ${EXPORTS}`)).toEqual([`import "${KV_MODULE}.${kvName}" is a global, but ${KV_MODULE} provides only functions`]);
    const expected = `(${Array(sendArity).fill('i32').join(', ')}) -> (i32)`;
    expect(await check(`(import "${OUTBOUND_MODULE}" "${sendName}" (func (param ${i32s(sendArity - 1)}) (result i32))) ${EXPORTS}`)).toEqual([
      `import "${OUTBOUND_MODULE}.${sendName}" has the signature (${Array(sendArity - 1).fill('i32').join(', ')}) -> (i32), but the API defines ${expected}`,
    ]);
    expect(await check(`(import "${OUTBOUND_MODULE}" "${sendName}" (func (param ${i32s(sendArity - 1)} i64) (result i32))) ${EXPORTS}`)).toHaveLength(1);
    expect(await check(`(import "${OUTBOUND_MODULE}" "${sendName}" (func (param ${i32s(sendArity)}))) ${EXPORTS}`)).toHaveLength(1);
    expect(await check(`(import "${OUTBOUND_MODULE}" "${sendName}" (func (param ${i32s(sendArity)}) (result i64))) ${EXPORTS}`)).toHaveLength(1);
    expect(await check(`${kv} ${EXPORTS}`, { withBytes: false })).toEqual([`the signatures of the ${KV_MODULE} imports could not be checked (no module bytes given)`]);
    // Without a wfn API import, no bytes are needed.
    expect(await check(EXPORTS, { withBytes: false })).toEqual([]);
  });

  it('usesOutbound / usesKv tell which APIs a module imports', async () => {
    const send = `(import "${OUTBOUND_MODULE}" "${sendName}" (func (param ${i32s(sendArity)}) (result i32)))`;
    const kv = `(import "${KV_MODULE}" "${kvName}" (func (param ${i32s(kvArity)}) (result i32)))`;
    const both = new WebAssembly.Module(await wat2wasm(`(module ${send} ${kv} ${EXPORTS})`));
    const neither = new WebAssembly.Module(await wat2wasm(`(module ${EXPORTS})`));
    expect([usesOutbound(both), usesKv(both), usesOutbound(neither), usesKv(neither)]).toEqual([true, true, false, false]);
    const onlyKv = new WebAssembly.Module(await wat2wasm(`(module ${kv} ${EXPORTS})`));
    expect([usesOutbound(onlyKv), usesKv(onlyKv)]).toEqual([false, true]);
  });
});
