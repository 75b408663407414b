/**
 * The WASI preview1 host (src/runtime/wasi.ts) called directly, the way a guest calls it:
 * pointers into a bound WebAssembly.Memory, errno results, the memory layout preview1
 * defines. The contract tests run whole modules through it; these pin each call.
 */
import { describe, expect, it } from 'vitest';
import { ERRNO, PREVIEW1_FUNCTIONS, WasiExit, WasiHost, type WasiOptions } from '../../src/runtime/wasi.js';

type Call = (...args: (number | bigint)[]) => number;

function host(options: Partial<WasiOptions> = {}) {
  const wasi = new WasiHost({ args: [], env: [], stdin: new Uint8Array(0), ...options });
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 4 });
  wasi.bind(memory);
  const call = (name: string): Call => wasi.imports.wasi_snapshot_preview1[name] as unknown as Call;
  const view = () => new DataView(memory.buffer);
  const bytes = () => new Uint8Array(memory.buffer);
  /** Writes iovecs at `at` for the given (ptr, len) pairs. */
  const iovecs = (at: number, pairs: [number, number][]) => pairs.forEach(([ptr, len], i) => {
    view().setUint32(at + i * 8, ptr, true);
    view().setUint32(at + i * 8 + 4, len, true);
  });
  return { wasi, memory, call, view, bytes, iovecs };
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);
/** The NUL-terminated strings of an args/environ buffer, by the pointers written for them. */
function strings(h: ReturnType<typeof host>, ptrs: number, count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const start = h.view().getUint32(ptrs + i * 4, true);
    const end = h.bytes().indexOf(0, start);
    out.push(text(h.bytes().subarray(start, end)));
  }
  return out;
}

describe('WASI host: args and environment', () => {
  it('lays out argv and environ as preview1 defines: counts, sizes, pointers, NUL-terminated UTF-8', () => {
    const h = host({ args: ['/fn', 'a=1', 'é'], env: [['PATH_INFO', '/x y'], ['EMPTY', '']] });
    expect(h.call('args_sizes_get')(0, 4)).toBe(ERRNO.SUCCESS);
    expect([h.view().getUint32(0, true), h.view().getUint32(4, true)]).toEqual([3, '/fn\0a=1\0é\0'.length + 1]); // é is two bytes
    expect(h.call('args_get')(100, 200)).toBe(ERRNO.SUCCESS);
    expect(strings(h, 100, 3)).toEqual(['/fn', 'a=1', 'é']);

    expect(h.call('environ_sizes_get')(0, 4)).toBe(ERRNO.SUCCESS);
    expect(h.view().getUint32(0, true)).toBe(2);
    expect(h.view().getUint32(4, true)).toBe(new TextEncoder().encode('PATH_INFO=/x y\0EMPTY=\0').length);
    expect(h.call('environ_get')(300, 400)).toBe(ERRNO.SUCCESS);
    expect(strings(h, 300, 2)).toEqual(['PATH_INFO=/x y', 'EMPTY=']);
  });

  it('reports zero strings and zero bytes when there are none', () => {
    const h = host();
    h.view().setUint32(0, 99, true);
    h.view().setUint32(4, 99, true);
    h.call('environ_sizes_get')(0, 4);
    expect([h.view().getUint32(0, true), h.view().getUint32(4, true)]).toEqual([0, 0]);
  });

  it('refuses a string with NUL up front (it would cut the C string short)', () => {
    expect(() => new WasiHost({ args: [], env: [['A', 'x\0y']], stdin: new Uint8Array(0) })).toThrow(/NUL/);
  });
});

describe('WASI host: stdio', () => {
  it('fd_write gathers every iovec into stdout or stderr and reports the bytes written', () => {
    const h = host();
    h.bytes().set(new TextEncoder().encode('Content-Type: text/plain\n\nhi'), 1000);
    h.iovecs(0, [[1000, 26], [1026, 2]]);
    expect(h.call('fd_write')(1, 0, 2, 64)).toBe(ERRNO.SUCCESS);
    expect(h.view().getUint32(64, true)).toBe(28);
    h.iovecs(0, [[1026, 2]]);
    expect(h.call('fd_write')(2, 0, 1, 64)).toBe(ERRNO.SUCCESS);
    expect(text(h.wasi.stdout())).toBe('Content-Type: text/plain\n\nhi');
    expect(text(h.wasi.stderr())).toBe('hi');
    expect(h.call('fd_write')(3, 0, 1, 64)).toBe(ERRNO.BADF);
    expect(h.call('fd_write')(0, 0, 1, 64)).toBe(ERRNO.BADF);
  });

  it('fd_write past the output cap fails with EFBIG and keeps what was written before', () => {
    const h = host({ maxOutputBytes: 10 });
    h.iovecs(0, [[1000, 8]]);
    expect(h.call('fd_write')(1, 0, 1, 64)).toBe(ERRNO.SUCCESS);
    expect(h.call('fd_write')(1, 0, 1, 64)).toBe(ERRNO.FBIG);
    expect(h.wasi.stdout()).toHaveLength(8);
  });

  it('the output cap by default (nobody sets maxOutputBytes): 64 MiB per stream, then EFBIG', () => {
    const h = host();
    // 1025 iovecs of one whole 64 KiB page each: 64 MiB fits, the 1025th does not.
    const pairs = Array.from({ length: 1025 }, (): [number, number] => [0, 65536]);
    h.memory.grow(1);
    h.iovecs(65536, pairs);
    const nwritten = 65536 + 9000;
    expect(h.call('fd_write')(1, 65536, 1025, nwritten)).toBe(ERRNO.FBIG);
    expect(h.wasi.stdout()).toHaveLength(64 * 1024 * 1024);
    // stderr has a cap of its own: the full stdout does not stop a log line.
    h.iovecs(65536, [[0, 10]]);
    expect(h.call('fd_write')(2, 65536, 1, nwritten)).toBe(ERRNO.SUCCESS);
    expect(h.view().getUint32(nwritten, true)).toBe(10);
    expect(h.call('fd_write')(1, 65536, 1, nwritten)).toBe(ERRNO.FBIG);
  });

  it('a buffer or iovec array past the end of memory is EFAULT (no silently short write, no host crash)', () => {
    const h = host();
    const end = h.memory.buffer.byteLength;
    h.iovecs(0, [[end - 4, 8]]);
    expect(h.call('fd_write')(1, 0, 1, 64)).toBe(ERRNO.FAULT);
    expect(h.wasi.stdout()).toHaveLength(0);
    expect(h.call('fd_write')(1, end - 4, 1, 64)).toBe(ERRNO.FAULT);
    const r = host({ stdin: new Uint8Array(16) });
    r.iovecs(0, [[end - 4, 8]]);
    expect(r.call('fd_read')(0, 0, 1, 64)).toBe(ERRNO.FAULT);
    expect(r.call('fd_read')(0, end - 4, 1, 64)).toBe(ERRNO.FAULT);
  });

  it('fd_read hands out stdin across iovecs and calls, then 0 at the end', () => {
    const h = host({ stdin: new TextEncoder().encode('hello, wasm') });
    h.iovecs(0, [[1000, 4], [2000, 3]]);
    expect(h.call('fd_read')(0, 0, 2, 64)).toBe(ERRNO.SUCCESS);
    expect(h.view().getUint32(64, true)).toBe(7);
    expect(text(h.bytes().subarray(1000, 1004)) + text(h.bytes().subarray(2000, 2003))).toBe('hello, ');
    h.iovecs(0, [[3000, 100]]);
    h.call('fd_read')(0, 0, 1, 64);
    expect(h.view().getUint32(64, true)).toBe(4);
    expect(text(h.bytes().subarray(3000, 3004))).toBe('wasm');
    h.call('fd_read')(0, 0, 1, 64);
    expect(h.view().getUint32(64, true)).toBe(0);
    expect(h.call('fd_read')(1, 0, 1, 64)).toBe(ERRNO.BADF);
  });

  it('works on the memory as it is now: a write after memory.grow lands above the old end', () => {
    const h = host();
    h.memory.grow(1);
    const high = 65536 + 100;
    h.bytes().set(new TextEncoder().encode('grown'), high);
    h.iovecs(65536, [[high, 5]]);
    expect(h.call('fd_write')(1, 65536, 1, 65536 + 64)).toBe(ERRNO.SUCCESS);
    expect(text(h.wasi.stdout())).toBe('grown');
  });

  it('stdio descriptors are character devices that cannot seek; others are bad descriptors', () => {
    const h = host();
    expect(h.call('fd_fdstat_get')(1, 0)).toBe(ERRNO.SUCCESS);
    expect(h.view().getUint8(0)).toBe(2); // character device
    expect(h.call('fd_fdstat_get')(5, 0)).toBe(ERRNO.BADF);
    expect(h.call('fd_seek')(0, 0n, 0, 0)).toBe(70); // ESPIPE
    expect(h.call('fd_seek')(9, 0n, 0, 0)).toBe(ERRNO.BADF);
    expect(h.call('fd_close')(2)).toBe(ERRNO.SUCCESS);
  });
});

describe('WASI host: the rest of preview1', () => {
  it('provides every preview1 function; no files (path_* and preopens: EBADF), no sockets (ENOTSOCK on stdio, else EBADF)', () => {
    const h = host();
    expect(Object.keys(h.wasi.imports.wasi_snapshot_preview1).sort()).toEqual([...PREVIEW1_FUNCTIONS].sort());
    expect(h.call('fd_prestat_get')(3, 0)).toBe(ERRNO.BADF);
    expect(h.call('path_open')(3, 0, 0, 4, 0, 0n, 0n, 0, 8)).toBe(ERRNO.BADF);
    for (const name of ['sock_accept', 'sock_recv', 'sock_send', 'sock_shutdown']) {
      expect([name, h.call(name)(3, 0, 0, 0, 0, 0)]).toEqual([name, ERRNO.BADF]);
      expect([name, h.call(name)(1, 0, 0, 0, 0, 0)]).toEqual([name, ERRNO.NOTSOCK]);
    }
    // What is left unimplemented says so.
    expect(h.call('fd_pread')(0, 0, 0, 0n, 0)).toBe(ERRNO.NOSYS);
  });

  it('proc_exit unwinds the guest with WasiExit and records the code', () => {
    const h = host();
    expect(() => h.call('proc_exit')(3)).toThrow(WasiExit);
    expect(h.wasi.exitCode).toBe(3);
  });

  it('clocks: realtime in ns since the epoch, monotonic never going back, unknown clocks EINVAL', () => {
    const h = host();
    const before = BigInt(Date.now()) * 1_000_000n;
    expect(h.call('clock_time_get')(0, 0n, 8)).toBe(ERRNO.SUCCESS);
    const realtime = h.view().getBigUint64(8, true);
    expect(realtime >= before - 1_000_000n && realtime <= BigInt(Date.now() + 1) * 1_000_000n).toBe(true);
    h.call('clock_time_get')(1, 0n, 8);
    const a = h.view().getBigUint64(8, true);
    h.call('clock_time_get')(1, 0n, 8);
    expect(h.view().getBigUint64(8, true) >= a).toBe(true);
    expect(h.call('clock_time_get')(7, 0n, 8)).toBe(ERRNO.INVAL);
    expect(h.call('clock_time_get')(4, 0n, 8)).toBe(ERRNO.INVAL);
    expect(h.call('clock_res_get')(4, 8)).toBe(ERRNO.INVAL);
    // process and thread CPU clocks (2, 3) exist (approximated by monotonic).
    expect(h.call('clock_time_get')(2, 0n, 8)).toBe(ERRNO.SUCCESS);
    expect(h.call('clock_res_get')(3, 8)).toBe(ERRNO.SUCCESS);
  });

  it('random_get fills buffers larger than one getRandomValues call', () => {
    const h = host();
    const len = 3 * 65536 + 10;
    h.memory.grow(3);
    expect(h.call('random_get')(16, len)).toBe(ERRNO.SUCCESS);
    const filled = h.bytes().subarray(16, 16 + len);
    // Each 64 KiB piece was written (all-zero 64 KiB from a CSPRNG does not happen).
    for (let at = 0; at < len; at += 65536) expect(filled.subarray(at, Math.min(len, at + 65536)).some((b) => b !== 0)).toBe(true);
    expect(h.bytes()[16 + len]).toBe(0); // not one byte past
  });

  it('poll_oneoff: a stdin subscription is ready at once with the bytes left; a clock-only poll fires its clock', () => {
    const h = host({ stdin: new Uint8Array(5) });
    const sub = (at: number, userdata: bigint, tag: number, timeoutNs = 0n) => {
      h.view().setBigUint64(at, userdata, true);
      h.view().setUint8(at + 8, tag);
      if (tag === 0) {
        h.view().setUint32(at + 16, 1, true); // monotonic
        h.view().setBigUint64(at + 24, timeoutNs, true);
        h.view().setUint16(at + 40, 0, true); // relative
      } else {
        h.view().setUint32(at + 16, 0, true); // fd 0
      }
    };
    sub(0, 7n, 1); // fd_read on stdin
    sub(48, 8n, 0, 1_000_000n); // and a 1 ms clock: stdin wins, no wait
    expect(h.call('poll_oneoff')(0, 1000, 2, 2000)).toBe(ERRNO.SUCCESS);
    expect(h.view().getUint32(2000, true)).toBe(1);
    expect(h.view().getBigUint64(1000, true)).toBe(7n);
    expect(h.view().getUint8(1010)).toBe(1);
    expect(h.view().getBigUint64(1016, true)).toBe(5n);

    sub(0, 9n, 0, 1_000_000n);
    expect(h.call('poll_oneoff')(0, 1000, 1, 2000)).toBe(ERRNO.SUCCESS);
    expect(h.view().getUint32(2000, true)).toBe(1);
    expect(h.view().getBigUint64(1000, true)).toBe(9n);
    expect(h.view().getUint8(1010)).toBe(0);
  });

  /** A clock subscription at `at`: relative, or absolute (flags bit 0) on `clockId`. */
  const clockSub = (h: ReturnType<typeof host>, at: number, userdata: bigint, clockId: number, timeoutNs: bigint, absolute = false) => {
    h.view().setBigUint64(at, userdata, true);
    h.view().setUint8(at + 8, 0);
    h.view().setUint32(at + 16, clockId, true);
    h.view().setBigUint64(at + 24, timeoutNs, true);
    h.view().setUint16(at + 40, absolute ? 1 : 0, true);
  };

  it('poll_oneoff: a clock-only poll really sleeps (a guest\'s sleep), relative or to an absolute deadline', () => {
    const h = host();
    clockSub(h, 0, 1n, 1, 60_000_000n); // 60 ms, monotonic, relative
    let t0 = performance.now();
    expect(h.call('poll_oneoff')(0, 1000, 1, 2000)).toBe(ERRNO.SUCCESS);
    // Never early (an upper bound would only measure the machine).
    expect(performance.now() - t0).toBeGreaterThanOrEqual(59);
    expect([h.view().getUint32(2000, true), h.view().getBigUint64(1000, true), h.view().getUint16(1008, true)]).toEqual([1, 1n, ERRNO.SUCCESS]);

    // Absolute: until realtime reaches now + 40 ms.
    clockSub(h, 0, 2n, 0, BigInt(Date.now() + 40) * 1_000_000n, true);
    t0 = performance.now();
    h.call('poll_oneoff')(0, 1000, 1, 2000);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(30);
    expect(h.view().getBigUint64(1000, true)).toBe(2n);

    // The shortest of several clocks wins; every clock subscription reports.
    clockSub(h, 0, 3n, 1, 10_000_000n);
    clockSub(h, 48, 4n, 1, 5_000_000n);
    h.call('poll_oneoff')(0, 1000, 2, 2000);
    expect(h.view().getUint32(2000, true)).toBe(2);
  });

  it('poll_oneoff: an unknown clock id answers its event with EINVAL at once instead of sleeping', () => {
    const h = host();
    clockSub(h, 0, 5n, 9, 3_600_000_000_000n); // an hour, on a clock that does not exist
    const t0 = performance.now();
    expect(h.call('poll_oneoff')(0, 1000, 1, 2000)).toBe(ERRNO.SUCCESS);
    expect(performance.now() - t0).toBeLessThan(60_000); // it did not sleep the hour (the test timeout would say so first)
    expect(h.view().getUint32(2000, true)).toBe(1);
    expect(h.view().getBigUint64(1000, true)).toBe(5n);
    expect(h.view().getUint16(1008, true)).toBe(ERRNO.INVAL);
    expect(h.view().getUint8(1010)).toBe(0);
  });

  it('says so when used before bind()', () => {
    const wasi = new WasiHost({ args: [], env: [], stdin: new Uint8Array(0) });
    const call = wasi.imports.wasi_snapshot_preview1.args_sizes_get as unknown as Call;
    expect(() => call(0, 4)).toThrow(/memory not bound/);
  });
});
