/**
 * The WASI host's byte layouts and boundaries, exactly (src/runtime/wasi.ts): poll_oneoff's
 * events, clock values, fdstat/filestat of stdio, buffers that end at the last byte of memory,
 * stdio beside a mounted filesystem. Written against survivors of `npm run mutate`: the memory
 * is filled with 0xAA first, so a field the host forgets to write (or writes big-endian, or at
 * the wrong offset) shows.
 */
import { describe, expect, it } from 'vitest';
import { decodeArchive, encodeArchive } from '../../src/runtime/files.js';
import { ERRNO, WasiExit, WasiHost, type WasiOptions } from '../../src/runtime/wasi.js';

type Call = (...args: (number | bigint)[]) => number;
const enc = new TextEncoder();

function host(options: Partial<WasiOptions> = {}) {
  const wasi = new WasiHost({ args: [], env: [], stdin: new Uint8Array(0), ...options });
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 2 });
  new Uint8Array(memory.buffer).fill(0xaa);
  wasi.bind(memory);
  const call = (name: string): Call => wasi.imports.wasi_snapshot_preview1[name] as unknown as Call;
  const view = () => new DataView(memory.buffer);
  const bytes = () => new Uint8Array(memory.buffer);
  return { wasi, memory, call, view, bytes };
}

/** A subscription at `at`: a clock (tag 0) or an fd (tag 1 read, 2 write). */
function sub(h: ReturnType<typeof host>, at: number, userdata: bigint, tag: number, opts: { clockId?: number; timeoutNs?: bigint; absolute?: boolean; fd?: number } = {}) {
  h.view().setBigUint64(at, userdata, true);
  h.view().setUint8(at + 8, tag);
  if (tag === 0) {
    h.view().setUint32(at + 16, opts.clockId ?? 1, true);
    h.view().setBigUint64(at + 24, opts.timeoutNs ?? 0n, true);
    h.view().setUint16(at + 40, opts.absolute ? 1 : 0, true);
  } else h.view().setUint32(at + 16, opts.fd ?? 0, true);
}

/** Event i of the events array at 1000: [userdata, errno, tag, nbytes, flags]. */
const event = (h: ReturnType<typeof host>, i: number) => {
  const ev = 1000 + i * 32;
  return [h.view().getBigUint64(ev, true), h.view().getUint16(ev + 8, true), h.view().getUint8(ev + 10), h.view().getBigUint64(ev + 16, true), h.view().getUint16(ev + 24, true)];
};

describe('poll_oneoff, byte for byte', () => {
  it('fd subscriptions: one 32-byte event each, nbytes = stdin left for a read, 0 for a write, flags 0', () => {
    const h = host({ stdin: enc.encode('hello world') });
    // Read 3 bytes first, so "left" differs from the total.
    h.view().setUint32(4000, 5000, true);
    h.view().setUint32(4004, 3, true);
    expect(h.call('fd_read')(0, 4000, 1, 4008)).toBe(ERRNO.SUCCESS);
    sub(h, 0, 11n, 1, { fd: 0 });
    sub(h, 48, 12n, 2, { fd: 1 });
    sub(h, 96, 13n, 0, { timeoutNs: 30_000_000_000n }); // a 30 s clock beside ready fds: not waited for
    const t0 = performance.now();
    expect(h.call('poll_oneoff')(0, 1000, 3, 2000)).toBe(ERRNO.SUCCESS);
    expect(performance.now() - t0).toBeLessThan(20_000);
    expect(h.view().getUint32(2000, true)).toBe(2);
    expect(event(h, 0)).toEqual([11n, 0, 1, 8n, 0]);
    expect(event(h, 1)).toEqual([12n, 0, 2, 0n, 0]);
    // Nothing written past the two events.
    expect(h.view().getUint32(1064, true)).toBe(0xaaaaaaaa);
  });

  it('clock-only: every clock reports after the shortest timeout, in order, errno 0 and tag 0', () => {
    for (const order of [[1_000_000n, 30_000_000_000n], [30_000_000_000n, 1_000_000n]]) {
      const h = host();
      sub(h, 0, 21n, 0, { timeoutNs: order[0] });
      sub(h, 48, 22n, 0, { timeoutNs: order[1] });
      const t0 = performance.now();
      expect(h.call('poll_oneoff')(0, 1000, 2, 2000)).toBe(ERRNO.SUCCESS);
      // The shortest wins whichever comes first (a bound that only catches sleeping the 30 s one).
      expect(performance.now() - t0).toBeLessThan(20_000);
      expect(h.view().getUint32(2000, true)).toBe(2);
      expect(event(h, 0).slice(0, 3)).toEqual([21n, 0, 0]);
      expect(event(h, 1).slice(0, 3)).toEqual([22n, 0, 0]);
    }
  });

  it('an unknown clock reports EINVAL in its own slot, beside a known clock that fires after it', () => {
    const h = host();
    sub(h, 0, 31n, 0, { clockId: 4, timeoutNs: 1n });
    sub(h, 48, 32n, 0, { clockId: 3, timeoutNs: 1_000_000n }); // clock 3 (thread CPU time) exists
    expect(h.call('poll_oneoff')(0, 1000, 2, 2000)).toBe(ERRNO.SUCCESS);
    expect(h.view().getUint32(2000, true)).toBe(1);
    expect(event(h, 0).slice(0, 3)).toEqual([31n, ERRNO.INVAL, 0]);
  });
});

describe('clocks', () => {
  it('all four clocks exist (ids 0-3), with a 1 µs resolution written little-endian; 4 does not', () => {
    const h = host();
    for (const id of [0, 1, 2, 3]) {
      expect(h.call('clock_res_get')(id, 8)).toBe(ERRNO.SUCCESS);
      expect(h.view().getBigUint64(8, true)).toBe(1000n);
      expect(h.call('clock_time_get')(id, 0n, 16)).toBe(ERRNO.SUCCESS);
    }
    expect(h.call('clock_res_get')(4, 8)).toBe(ERRNO.INVAL);
    expect(h.call('clock_time_get')(4, 0n, 16)).toBe(ERRNO.INVAL);
  });

  it('monotonic is performance.now() in nanoseconds; realtime is the epoch in nanoseconds', () => {
    const h = host();
    const before = performance.now();
    h.call('clock_time_get')(1, 0n, 16);
    const after = performance.now();
    const mono = Number(h.view().getBigUint64(16, true)) / 1e6;
    expect(mono).toBeGreaterThanOrEqual(Math.floor(before) - 1);
    expect(mono).toBeLessThanOrEqual(after + 1);
    const wallBefore = Date.now();
    h.call('clock_time_get')(0, 0n, 16);
    const real = Number(h.view().getBigUint64(16, true) / 1_000_000n);
    expect(real).toBeGreaterThanOrEqual(wallBefore - 1);
    expect(real).toBeLessThanOrEqual(Date.now() + 1);
  });
});

describe('stdio descriptors', () => {
  it('fdstat: character device, no flags, every right (little-endian); filestat: zeroed but the file type', () => {
    const h = host();
    expect(h.call('fd_fdstat_get')(1, 100)).toBe(ERRNO.SUCCESS);
    expect([h.view().getUint8(100), h.view().getUint16(102, true), h.view().getBigUint64(108, true), h.view().getBigUint64(116, true)]).toEqual([2, 0, 0x1fffffffn, 0x1fffffffn]);
    expect(h.call('fd_filestat_get')(2, 200)).toBe(ERRNO.SUCCESS);
    const stat = h.bytes().slice(200, 264);
    expect(stat[16]).toBe(2);
    expect([...stat.slice(0, 16), ...stat.slice(17)].every((b) => b === 0)).toBe(true);
    expect(h.view().getUint8(264)).toBe(0xaa); // not a byte further
    expect(h.call('fd_filestat_get')(3, 200)).toBe(ERRNO.BADF);
  });

  it('sync, datasync, set_flags succeed on stdio; tell and seek cannot; other descriptors are bad; sched_yield succeeds', () => {
    const h = host();
    for (const fd of [0, 1, 2]) {
      expect([fd, h.call('fd_sync')(fd), h.call('fd_datasync')(fd), h.call('fd_fdstat_set_flags')(fd, 0), h.call('fd_tell')(fd, 0)]).toEqual([fd, 0, 0, 0, ERRNO.SPIPE]);
    }
    for (const fd of [3, -1 >>> 0]) {
      expect([h.call('fd_sync')(fd), h.call('fd_datasync')(fd), h.call('fd_fdstat_set_flags')(fd, 0), h.call('fd_tell')(fd, 0), h.call('fd_close')(fd)]).toEqual(Array(5).fill(ERRNO.BADF));
    }
    expect(h.call('sched_yield')()).toBe(ERRNO.SUCCESS);
  });

  it('buffers and iovec arrays that end exactly at the last byte of memory are fine; one byte further is EFAULT', () => {
    const end = 65536;
    const h = host({ stdin: enc.encode('xy') });
    // iovec array in the last 8 bytes, pointing at the last 2 bytes
    h.view().setUint32(end - 8, end - 10, true);
    h.view().setUint32(end - 4, 2, true);
    h.bytes().set(enc.encode('ab'), end - 10);
    expect(h.call('fd_write')(1, end - 8, 1, 0)).toBe(ERRNO.SUCCESS);
    expect(new TextDecoder().decode(h.wasi.stdout())).toBe('ab');
    expect(h.call('fd_read')(0, end - 8, 1, 0)).toBe(ERRNO.SUCCESS);
    expect(h.view().getUint32(0, true)).toBe(2);
    h.view().setUint32(end - 4, 11, true); // now one byte past the end
    expect(h.call('fd_write')(1, end - 8, 1, 0)).toBe(ERRNO.FAULT);
    expect(h.call('fd_read')(0, end - 8, 1, 0)).toBe(ERRNO.FAULT);
    expect(h.call('fd_write')(1, end - 7, 1, 0)).toBe(ERRNO.FAULT);
  });

  it('a chatty guest: many writes of every size arrive whole and in order', () => {
    const h = host();
    const expected: number[] = [];
    for (let n = 1; n < 9000; n += 997) {
      const chunk = Uint8Array.from({ length: n }, (_, i) => (n + i) & 0xff);
      h.bytes().set(chunk, 20000);
      h.view().setUint32(16, 20000, true);
      h.view().setUint32(20, n, true);
      expect(h.call('fd_write')(2, 16, 1, 8)).toBe(ERRNO.SUCCESS);
      expected.push(...chunk);
    }
    expect(Buffer.from(h.wasi.stderr()).equals(Buffer.from(expected))).toBe(true);
    expect(h.wasi.stderr().length).toBe(expected.length);
  });

  it('proc_exit: WasiExit named, with the code in its message', () => {
    const h = host();
    try {
      h.call('proc_exit')(42);
    } catch (error) {
      expect(error).toBeInstanceOf(WasiExit);
      expect((error as Error).name).toBe('WasiExit');
      expect((error as Error).message).toBe('proc_exit(42)');
      return;
    }
    throw new Error('proc_exit returned');
  });
});

describe('stdio beside a mounted filesystem', () => {
  it('every descriptor call on 0-2 still answers as stdio when files are mounted', () => {
    const files = decodeArchive(encodeArchive({ preopens: [{ name: '/', path: '' }], entries: [{ path: 'a.txt', kind: 'file', mtimeNs: 0n, data: enc.encode('A') }] }));
    const h = host({ files, stdin: enc.encode('in') });
    h.bytes().set(enc.encode('out'), 3000);
    h.view().setUint32(16, 3000, true);
    h.view().setUint32(20, 3, true);
    expect(h.call('fd_write')(1, 16, 1, 8)).toBe(ERRNO.SUCCESS);
    expect(new TextDecoder().decode(h.wasi.stdout())).toBe('out');
    h.view().setUint32(20, 2, true);
    expect(h.call('fd_read')(0, 16, 1, 8)).toBe(ERRNO.SUCCESS);
    expect(new TextDecoder().decode(h.bytes().slice(3000, 3002))).toBe('in');
    expect(h.call('fd_fdstat_get')(1, 100)).toBe(ERRNO.SUCCESS);
    expect(h.view().getUint8(100)).toBe(2);
    expect(h.call('fd_filestat_get')(1, 200)).toBe(ERRNO.SUCCESS);
    expect(h.view().getUint8(216)).toBe(2);
    expect([h.call('fd_fdstat_set_flags')(1, 0), h.call('fd_sync')(1), h.call('fd_datasync')(1), h.call('fd_close')(2)]).toEqual([0, 0, 0, 0]);
    expect([h.call('fd_seek')(1, 0n, 0, 0), h.call('fd_tell')(1, 0)]).toEqual([ERRNO.SPIPE, ERRNO.SPIPE]);
    // and the preopen (fd 3) is the filesystem's
    expect(h.call('fd_prestat_get')(3, 300)).toBe(ERRNO.SUCCESS);
  });
});
