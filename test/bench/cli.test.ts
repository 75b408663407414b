/**
 * `wfn bench` end to end through the built CLI (run `npx tsc -p tsconfig.json` first; `npm test`
 * does): the --json schema, the saved runs and their comparison, --url against a local server,
 * the terminal table, and the HTML report rendered in headless Chromium.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeOnce } from '../fixtures/contract.js';
import { wfn } from '../helpers/cli.js';
import { wat2wasm } from '../helpers/wat.js';

let dir: string;
let wasm: string;
let server: Server;
let remote: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'wfn-bench-cli-'));
  wasm = path.join(dir, 'hello.wasm');
  await writeFile(wasm, await wat2wasm(writeOnce({ stdout: 'Content-Type: text/plain\n\nhello from wasm\n' })));
  // Stands in for a deployed function (tests never reach the internet).
  server = createServer((_req, res) => setTimeout(() => res.end('deployed'), 2));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  remote = `http://127.0.0.1:${(server.address() as AddressInfo).port}/fn`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

// ---- the --json schema (documented in docs/bench.md) ---------------------------------------

type Shape = 'string' | 'number' | 'boolean' | 'null' | Shape[] | { [key: string]: Shape } | ((v: unknown) => boolean);

/** Checks `value` against `shape`; returns the paths that do not match. */
function mismatches(value: unknown, shape: Shape, at = '$'): string[] {
  if (typeof shape === 'function') return shape(value) ? [] : [at];
  if (typeof shape === 'string') return (shape === 'null' ? value === null : typeof value === shape) ? [] : [`${at}: expected ${shape}, got ${JSON.stringify(value)?.slice(0, 40)}`];
  if (Array.isArray(shape)) {
    if (!Array.isArray(value)) return [`${at}: expected an array`];
    return value.flatMap((v, i) => mismatches(v, shape[0], `${at}[${i}]`));
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${at}: expected an object`];
  // A key may be absent only when its shape accepts undefined (optional()).
  return Object.entries(shape).flatMap(([k, s]) => (k in value || typeof s === 'function' ? mismatches((value as Record<string, unknown>)[k], s, `${at}.${k}`) : [`${at}.${k}: missing`]));
}

const oneOf = (...values: unknown[]) => (v: unknown) => values.includes(v);
const optional = (shape: Shape) => (v: unknown) => v === undefined || mismatches(v, shape).length === 0;
const nullable = (shape: Shape) => (v: unknown) => v === null || mismatches(v, shape).length === 0;
const pair = (v: unknown) => Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number');

const SUMMARY: Shape = {
  unit: oneOf('us', 'ms', 'rps'),
  n: 'number',
  min: 'number',
  max: 'number',
  mean: 'number',
  stddev: 'number',
  meanCi95: pair,
  p50: 'number',
  p90: 'number',
  p99: 'number',
  outliers: { lowSevere: 'number', lowMild: 'number', highMild: 'number', highSevere: 'number' },
  samples: ['number'],
};
const TIMING: Shape = { at: 'number', status: 'number', bytes: 'number', namelookup: 'number', connect: 'number', appconnect: 'number', starttransfer: 'number', total: 'number', process: 'number', server: 'number' };
const TARGET: Shape = (v: unknown) => {
  const t = v as { available?: boolean };
  const shape: Shape = t.available
    ? {
        target: 'string',
        available: oneOf(true),
        url: 'string',
        startMs: 'number',
        firstRequest: TIMING,
        latency: { connect: SUMMARY, ttfb: SUMMARY, total: SUMMARY, server: SUMMARY },
        statuses: (s: unknown) => typeof s === 'object' && s !== null && Object.values(s).every((n) => typeof n === 'number'),
        throughput: [{ concurrency: 'number', requests: 'number', durationMs: 'number', reqPerSec: 'number', latency: SUMMARY, errors: 'number', non2xx: 'number' }],
      }
    : { target: 'string', available: oneOf(false), reason: 'string' };
  return mismatches(v, shape).length === 0;
};
const REMOTE: Shape = {
  url: 'string',
  requests: [TIMING],
  failures: [{ at: 'number', reason: 'string' }],
  summary: optional({ namelookup: SUMMARY, connect: SUMMARY, appconnect: SUMMARY, ttfb: SUMMARY, total: SUMMARY, process: SUMMARY, server: SUMMARY }),
};
const CHANGE: Shape = {
  metric: 'string',
  label: 'string',
  unit: oneOf('us', 'ms', 'rps'),
  previous: 'number',
  current: 'number',
  change: 'number',
  ci95: optional(pair),
  verdict: oneOf('regression', 'improvement', 'noise'),
  basis: oneOf('not significant', 'within threshold', 'significant', 'threshold'),
  message: 'string',
};
export const BENCH_JSON: Shape = {
  schema: oneOf('wfn-bench/1'),
  createdAt: (v) => typeof v === 'string' && !Number.isNaN(Date.parse(v)),
  wfnVersion: 'string',
  environment: { node: 'string', v8: 'string', platform: 'string', arch: 'string', cpus: 'number', cpuModel: 'string' },
  subject: { name: 'string', source: oneOf('project', 'wasm', 'url'), wasmPath: optional('string'), bytes: optional('number'), sha256: optional('string') },
  settings: { samples: 'number', warmup: 'number', requests: 'number', urlRequests: 'number', concurrency: ['number'], targets: ['string'], path: 'string', urls: ['string'], everyMs: 'number', cacheBust: 'boolean' },
  micro: nullable({
    request: { method: 'string', path: 'string', status: 'number', outcome: 'string' },
    compile: SUMMARY,
    coldStart: SUMMARY,
    instantiate: SUMMARY,
    run: SUMMARY,
  }),
  targets: [TARGET],
  remote: [REMOTE],
  comparison: { previous: nullable({ file: 'string', createdAt: 'string', sha256: optional('string'), sameModule: 'boolean' }), changes: [CHANGE] },
  file: optional('string'),
};

const BENCH_ARGS = ['--json', '--samples', '50', '--requests', '50', '--concurrency', '1,4', '--targets', 'dev'];

describe('wfn bench (built CLI)', () => {
  let first: Record<string, any>;

  it('--json prints one object in the documented schema, and saves the run', async () => {
    const r = await wfn(['bench', wasm, ...BENCH_ARGS], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    first = JSON.parse(r.stdout);
    expect(mismatches(first, BENCH_JSON)).toEqual([]);

    expect(first.subject).toMatchObject({ name: 'hello', source: 'wasm', wasmPath: wasm });
    expect(first.settings).toMatchObject({ samples: 50, requests: 50, concurrency: [1, 4], targets: ['dev'] });
    const m = first.micro;
    expect(m.request).toMatchObject({ method: 'GET', path: '/', status: 200, outcome: 'ok' });
    expect(m.coldStart.n).toBe(50);
    expect(m.coldStart.samples).toHaveLength(50);
    expect(m.coldStart.p50).toBeGreaterThan(0);
    expect(m.coldStart.p50).toBeLessThanOrEqual(m.coldStart.p99);
    expect(m.coldStart.p50).toBeGreaterThanOrEqual(m.run.p50); // the cold start contains the run
    expect(m.coldStart.meanCi95[0]).toBeLessThanOrEqual(m.coldStart.mean);
    expect(m.coldStart.meanCi95[1]).toBeGreaterThanOrEqual(m.coldStart.mean);

    const dev = first.targets[0];
    expect(dev).toMatchObject({ target: 'dev', available: true, statuses: { 200: 50 } });
    expect(dev.latency.total.n).toBe(50);
    expect(dev.latency.connect.p50).toBeLessThanOrEqual(dev.latency.ttfb.p50);
    expect(dev.latency.ttfb.p50).toBeLessThanOrEqual(dev.latency.total.p50);
    expect(dev.throughput.map((t: { concurrency: number }) => t.concurrency)).toEqual([1, 4]);
    for (const t of dev.throughput) {
      expect(t.reqPerSec).toBeGreaterThan(0);
      expect(t.errors + t.non2xx).toBe(0);
      expect(t.requests).toBeGreaterThanOrEqual(50);
    }
    expect(first.comparison).toEqual({ previous: null, changes: [] });
    expect(first.remote).toEqual([]);

    expect(existsSync(first.file)).toBe(true);
    expect(path.dirname(first.file)).toBe(path.join(dir, '.wfn', 'bench'));
    const pointer = JSON.parse(await readFile(path.join(dir, '.wfn', 'bench', 'latest.json'), 'utf8'));
    expect(pointer.file).toBe(path.basename(first.file));
  });

  it('compares with the previous run, times --url, and writes the HTML report', async () => {
    const report = path.join(dir, 'report.html');
    const r = await wfn(['bench', wasm, ...BENCH_ARGS, '--url', remote, '--html', report], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const second = JSON.parse(r.stdout);
    expect(mismatches(second, BENCH_JSON)).toEqual([]);
    expect(second.comparison.previous).toMatchObject({ file: first.file, createdAt: first.createdAt, sameModule: true });
    const metrics = second.comparison.changes.map((c: { metric: string }) => c.metric);
    expect(metrics).toEqual(expect.arrayContaining(['micro.compile', 'micro.coldStart', 'micro.run', 'target.dev.ttfb', 'target.dev.total', 'target.dev.throughput.c1', 'target.dev.throughput.c4']));
    for (const c of second.comparison.changes) expect(c.message).toMatch(/^(p50|req\/s) [+-]\d+\.\d %, (likely a regression|improved|no change within noise|change within noise threshold)$/);

    const [url] = second.remote;
    expect(url.url).toBe(remote);
    expect(url.requests).toHaveLength(50);
    expect(url.failures).toEqual([]);
    for (const t of url.requests) {
      expect(t.status).toBe(200);
      expect(t.process).toBeCloseTo(t.starttransfer - (t.connect - t.namelookup), 9);
    }
    expect(existsSync(report)).toBe(true);
  });

  it('--url alone times only the URLs', async () => {
    const r = await wfn(['bench', '--url', remote, '--requests', '3', '--json', '--no-save'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const run = JSON.parse(r.stdout);
    expect(mismatches(run, BENCH_JSON)).toEqual([]);
    expect(run).toMatchObject({ micro: null, targets: [], subject: { source: 'url' } });
    expect(run.remote[0].requests).toHaveLength(3);
    expect(run.file).toBeUndefined();
  });

  it('prints a plain table without --json (no colour when not a TTY)', async () => {
    const r = await wfn(['bench', wasm, '--samples', '20', '--requests', '20', '--concurrency', '2', '--targets', 'dev', '--no-save'], { cwd: dir, env: { NO_COLOR: '1' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/\x1b\[/);
    expect(r.stdout).toMatch(/^wfn bench · hello/);
    expect(r.stdout).toMatch(/cold start \(instance \+ _start\)/);
    expect(r.stdout).toMatch(/\n {2}dev +\d/);
    expect(r.stdout).toMatch(/c=2/);
    expect(r.stdout).toMatch(/Compared with the run of/);
  });

  it('rejects bad flags with a clear message', async () => {
    const r = await wfn(['bench', wasm, '--targets', 'heroku'], { cwd: dir });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Unknown target "heroku"/);
    const e = await wfn(['bench', wasm, '--every', '15m'], { cwd: dir });
    expect(e.stderr).toMatch(/--every spaces the --url requests/);
  });
});

// ---- the report in a real browser ----------------------------------------------------------

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => existsSync(p));

function runChromium(args: string[], timeoutMs = 45_000): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(CHROMIUM!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code });
    });
  });
}

describe('the HTML report', () => {
  const missing = CHROMIUM ? undefined : 'chromium is not installed (apt-get install -y chromium)';
  const test = !missing ? it : process.env.CI === 'true' ? it : it.skip;
  if (missing && process.env.CI !== 'true') console.warn(`skipping the report rendering test: ${missing}`);

  test('renders in headless Chromium: every chart drawn, no script errors, no network', async () => {
    if (missing) throw new Error(`${missing} (CI=true: a missing browser fails the run)`);
    const report = path.join(dir, 'report.html');
    expect(existsSync(report), 'the report of the comparison test').toBe(true);
    const html = await readFile(report, 'utf8');
    expect(html).not.toMatch(/(src|href)=["']https?:/); // self-contained
    expect(html).toMatch(/Content-Security-Policy/);

    const profile = await mkdtemp(path.join(tmpdir(), 'wfn-chromium-'));
    const r = await runChromium([
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${profile}`,
      '--enable-logging=stderr',
      '--v=0',
      '--window-size=1100,2000',
      '--dump-dom',
      `file://${report}`,
    ]);
    const dom = r.stdout;
    expect(dom, r.stderr.slice(-2000)).toMatch(/data-ready="1"/);
    expect(dom).not.toMatch(/data-error=/);
    expect(r.stderr).not.toMatch(/Uncaught|CONSOLE[:(]\d+\)?\] "[^"]*(Error|error)/);

    // The sections with their charts: cold-start histogram, latency bars, first request, throughput lines,
    // the --url phases and series, and the comparison with the previous run.
    const svgs = dom.match(/<svg class="chart"[\s\S]*?<\/svg>/g) ?? [];
    expect(svgs.length).toBe(7);
    for (const svg of svgs) {
      expect(svg).toMatch(/<(rect|path|circle)\b/);
      expect(svg).toMatch(/<text\b[^>]*>[^<]+<\/text>/); // labelled
    }
    const titles = svgs.map((s) => s.match(/<title>([^<]*)<\/title>/)?.[1]);
    expect(titles).toEqual([
      'Cold start: fresh instance + _start',
      'Request latency per target',
      'First request after start',
      'Throughput per concurrency',
      'Where a request spends its time (medians)',
      'Process time per request',
      'Change since the previous run',
    ]);
    // Laid out by the browser with visible shapes (measured by the page itself).
    expect(dom).toMatch(/data-charts="7"/);
    // The histogram has bars of non-zero height.
    expect(svgs[0]).toMatch(/<rect class="bar"[^>]*height="[1-9]/);
  });
});
