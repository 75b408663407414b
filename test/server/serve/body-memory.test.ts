// Request bodies held in memory are bounded (per connection and in total): 30 unfinished 60 MiB
// uploads, which need no token, once took `wfn serve` from 0.2 to 2 GB of RSS, still 2 GB a
// minute after they closed. Here the bound is small (16 MiB) and the RSS of a child `wfn serve`
// (process.memoryUsage, through the metrics) must stay near its baseline plus that bound. The
// attack stops as soon as the RSS is past the limit, so a regression fails without taking 2 GB.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ECHO_WAT } from '../../fixtures/contract.js';
import { request } from '../../helpers/http.js';
import { wat2wasm } from '../../helpers/wat.js';
import { admin, deploy, freePort, startCliServe, tempDir, TOKEN, type CliServer } from './helpers.js';

const MiB = 1024 * 1024;
const BOUND_MIB = 16;
const UPLOADS = 30;
const UPLOAD_BYTES = 60 * MiB;
/** Room for what is not a held body: garbage not yet collected, allocator slack, the worker's copy of one body. */
const SLACK = 96 * MiB;

const metric = (text: string, name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);

interface Upload {
  /** Resolves when the server answered (the status) or the connection ended without an answer. */
  done: Promise<number | 'closed'>;
  /** Bytes handed to the socket so far. */
  sent(): number;
  close(): void;
}

/**
 * A chunked POST that sends up to `total` bytes in 1 MiB chunks as fast as the server reads them,
 * pausing once `holdAt` bytes are sent (an unfinished upload: no final chunk), until `resume`.
 */
function upload(base: string, total: number): Upload & { holdAt(bytes: number): void; resume(): void } {
  const { hostname, port } = new URL(base);
  const chunk = Buffer.alloc(MiB, 'x');
  const frame = Buffer.concat([Buffer.from(`${MiB.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
  let sent = 0;
  let hold = Infinity;
  let stopped = false;
  let answer = '';
  const socket = net.connect(Number(port), hostname);
  const pump = () => {
    while (!stopped && sent < total && sent < hold) {
      sent += MiB;
      if (!socket.write(frame)) return void socket.once('drain', pump);
    }
  };
  const done = new Promise<number | 'closed'>((resolve) => {
    socket.on('data', (c: Buffer) => {
      answer += c.toString('latin1');
      const status = /^HTTP\/1\.1 (\d{3})/.exec(answer);
      if (status) {
        stopped = true;
        resolve(Number(status[1]));
      }
    });
    socket.on('close', () => {
      stopped = true;
      resolve('closed');
    });
    socket.on('error', () => {});
  });
  socket.on('connect', () => {
    socket.write('POST /echo/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n');
    pump();
  });
  return {
    done,
    sent: () => sent,
    close: () => socket.destroy(),
    holdAt: (bytes) => (hold = bytes),
    resume: () => {
      hold = Infinity;
      pump();
    },
  };
}

describe('wfn serve: request bodies in memory are bounded', () => {
  let srv: CliServer;
  const metrics = async () => (await admin(srv.url, 'metrics')).body.toString();
  const rss = async () => metric(await metrics(), 'process_resident_memory_bytes');

  beforeAll(async () => {
    srv = await startCliServe(['--port', String(await freePort()), '--data-dir', await tempDir('bodies'), '--max-body', '64', '--max-body-in-flight', String(BOUND_MIB), '--workers', '1'], { WFN_TOKEN: TOKEN });
    expect((await deploy(srv.url, 'echo', await wat2wasm(ECHO_WAT))).status).toBe(201);
  });
  afterAll(async () => {
    srv.child.kill('SIGTERM');
    await srv.exited;
  });

  it(`30 unfinished 60 MiB uploads keep the RSS near baseline + ${BOUND_MIB} MiB, and the server keeps answering`, async () => {
    // Warm up (a body through the whole path), then take the baseline.
    for (let i = 0; i < 3; i++) expect((await request(`${srv.url}/echo/`, { method: 'POST', body: new Uint8Array(2 * MiB) })).status).toBe(200);
    const baseline = await rss();
    const limit = baseline + BOUND_MIB * MiB + SLACK;
    let peak = baseline;
    let over = false;

    const uploads = Array.from({ length: UPLOADS }, () => upload(srv.url, UPLOAD_BYTES));
    // Each sends 2 MiB and holds: 60 MiB offered against a 16 MiB bound.
    for (const u of uploads) u.holdAt(2 * MiB);
    const watch = async (until: () => boolean) => {
      while (!until() && !over) {
        const now = await rss();
        peak = Math.max(peak, now);
        if (now > limit) {
          over = true; // stop the attack now: a regression must not take the machine's memory
          for (const u of uploads) u.close();
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const settled = new Set<Upload>();
    for (const u of uploads) void u.done.then(() => settled.add(u));
    const held = () => uploads.filter((u) => !settled.has(u));
    // Held: every upload was either refused or has handed its 2 MiB to the server, and the bodies in memory stopped growing.
    let lastBodies = -1;
    await watch(() => held().every((u) => u.sent() >= 2 * MiB));
    for (let stable = 0, polls = 0; stable < 3 && polls < 100 && !over; polls++) {
      const bodies = metric(await metrics(), 'wfn_request_body_bytes');
      stable = bodies === lastBodies ? stable + 1 : 0;
      lastBodies = bodies;
      await new Promise((r) => setTimeout(r, 100));
    }
    const whileHeld = await rss();
    peak = Math.max(peak, whileHeld);
    const heldCount = held().length;
    const shedWhileHeld = await Promise.all(uploads.filter((x) => settled.has(x)).map((u) => u.done));

    // Then they all go on to 60 MiB: each is shed when it would pass the bound.
    for (const u of held()) u.resume();
    await watch(() => held().length === 0);
    expect(over, `RSS went past baseline ${Math.round(baseline / MiB)} MiB + bound + slack (${Math.round(limit / MiB)} MiB)`).toBe(false);
    expect(lastBodies).toBeLessThanOrEqual(BOUND_MIB * MiB);
    expect(heldCount).toBeGreaterThan(0); // some uploads were held...
    expect(heldCount).toBeLessThan(UPLOADS); // ...and the rest shed
    // Every refusal while they were held was a 503 (shed, retry later), never a 5xx of the function.
    expect(new Set(shedWhileHeld)).toEqual(new Set([503]));
    // (413 for one that alone would pass the bound: no body over it can ever be held.)
    for (const u of uploads) expect([413, 503, 'closed']).toContain(await u.done);
    expect(peak).toBeLessThanOrEqual(limit);

    // Memory is given back: nothing held, and the RSS back near the baseline.
    for (const u of uploads) u.close();
    let after = await metrics();
    for (let i = 0; i < 100 && metric(after, 'wfn_request_body_bytes') !== 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      after = await metrics();
    }
    expect(metric(after, 'wfn_request_body_bytes')).toBe(0);
    expect(metric(after, 'process_resident_memory_bytes')).toBeLessThanOrEqual(baseline + SLACK);
    expect(Number(/^wfn_rejected_total\{function="echo"\} (\d+)$/m.exec(after)?.[1])).toBeGreaterThan(0); // the 503s

    // And the server still takes a body of the bound's size.
    const body = new Uint8Array(8 * MiB).fill(7);
    const res = await request(`${srv.url}/echo/`, { method: 'POST', body });
    expect([res.status, res.body.length]).toEqual([200, body.length]);
    console.log(`body-memory: baseline ${Math.round(baseline / MiB)} MiB, held ${Math.round(whileHeld / MiB)} MiB, peak ${Math.round(peak / MiB)} MiB, after ${Math.round(metric(after, 'process_resident_memory_bytes') / MiB)} MiB (bound ${BOUND_MIB} MiB)`);
  });
});
