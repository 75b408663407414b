// The Lambda package: the zip's contents and determinism, the limits mapping, and the
// handler imported from the unzipped zip, invoked with real-shaped Function URL events.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Artifact, Bundle } from '../../../src/target/types.js';
import { adapter } from '../../../adapters/lambda/index.js';
import { extractPackage } from '../../../adapters/lambda/emulator/index.js';
import { checkVariableNames, lambdaSettings } from '../../../adapters/lambda/limits.js';
import { deterministicZip, readZip } from '../../../adapters/lambda/zip.js';
import { definedMemories } from '../../../src/runtime/wasm-binary.js';
import { UserError } from '../../../src/util/errors.js';
import { CONTRACT_CASES, ECHO_WAT, ENV_DUMP_WAT, MEMORY_PROBE_WAT, probePages, withinCap, writeOnce } from '../../fixtures/contract.js';
import { buildTemplate } from '../../helpers/templates.js';
import { wat2wasm } from '../../helpers/wat.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..', '..', '..');
let work: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'wfn-lambda-pkg-'));
});

async function wasmFile(name: string, wat: string): Promise<string> {
  const file = path.join(work, `${name}.wasm`);
  await writeFile(file, await wat2wasm(wat));
  return file;
}

function artifact(name: string, wasmPath: string, more: Partial<Artifact> = {}): Artifact {
  return { name, wasmPath, env: {}, secrets: [], limits: { memoryMiB: 64, timeoutMs: 2000 }, ...more };
}

type Handler = (event: unknown) => Promise<{ statusCode: number; headers: Record<string, string>; cookies: string[]; body: string; isBase64Encoded: boolean }>;

/** Unzips the package and imports its index.mjs, as Lambda's Node.js runtime does. */
async function loadHandler(bundle: Bundle): Promise<{ handler: Handler; lastInvocation?: { outcome: string; reason?: string } } & Record<string, unknown>> {
  const dir = await extractPackage(bundle.archive!);
  return import(pathToFileURL(path.join(dir, 'index.mjs')).href);
}

const DOMAIN = 'abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws';

/** A Function URL event as Lambda delivers it (shape from the Lambda developer guide). */
function urlEvent(o: { method: string; path: string; query?: string; headers?: Record<string, string>; cookies?: string[]; body?: string; isBase64Encoded?: boolean; stage?: string }) {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: o.path,
    rawQueryString: o.query ?? '',
    ...(o.cookies ? { cookies: o.cookies } : {}),
    headers: {
      'x-amzn-tls-cipher-suite': 'TLS_AES_128_GCM_SHA256',
      'x-amzn-tls-version': 'TLSv1.3',
      'x-amzn-trace-id': 'Root=1-65f1a2b3-0123456789abcdef01234567',
      'x-forwarded-proto': 'https',
      host: DOMAIN,
      'x-forwarded-port': '443',
      'x-forwarded-for': '203.0.113.7',
      accept: '*/*',
      'user-agent': 'curl/8.5.0',
      ...o.headers,
    },
    ...(o.query ? { queryStringParameters: Object.fromEntries(new URLSearchParams(o.query)) } : {}),
    requestContext: {
      accountId: 'anonymous',
      apiId: DOMAIN.split('.')[0],
      domainName: DOMAIN,
      domainPrefix: DOMAIN.split('.')[0],
      http: { method: o.method, path: o.path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'curl/8.5.0' },
      requestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
      routeKey: '$default',
      stage: o.stage ?? '$default',
      time: '12/Mar/2024:19:03:58 +0000',
      timeEpoch: 1710270238000,
    },
    ...(o.body !== undefined ? { body: o.body } : {}),
    isBase64Encoded: o.isBase64Encoded ?? false,
  };
}

describe('lambda package', () => {
  it('zips index.mjs, the memory-capped .wasm and wfn.json, byte-identical on every run', async () => {
    const wasm = await wasmFile('pkg-hello', writeOnce({ stdout: 'Content-Type: text/plain\n\nhi' }));
    const a = artifact('pkg-hello', wasm, { env: { GREETING: 'hello', ZED: 'z' }, secrets: ['API_TOKEN'] });
    const first = await adapter.package(a);
    const firstZip = await readFile(first.archive!);
    expect(first.target).toBe('lambda');
    expect(first.archive).toBe(path.join(tmpdir(), 'wfn-targets', 'pkg-hello', 'lambda', 'pkg-hello.zip'));
    expect(first.compressedSize).toBe(firstZip.length);
    expect(first.files.map((f) => f.path)).toEqual(['index.mjs', 'function.wasm', 'wfn.json']);
    expect(first.size).toBe(first.files.reduce((s, f) => s + f.size, 0));
    for (const f of first.files) expect((await stat(path.join(first.dir, f.path))).size).toBe(f.size);

    const entries = readZip(firstZip);
    expect(Object.keys(entries)).toEqual(['index.mjs', 'function.wasm', 'wfn.json']);
    expect(JSON.parse(new TextDecoder().decode(entries['wfn.json']))).toMatchObject({ wasm: 'function.wasm', memoryMiB: 64, env: ['API_TOKEN', 'GREETING', 'ZED'] });
    // The shipped .wasm carries the cap: 64 MiB = 1024 pages.
    expect(definedMemories(entries['function.wasm'])[0]).toMatchObject({ minPages: 2, maxPages: 1024 });
    // The handler is one self-contained ES module: only node: built-ins are imported.
    const js = new TextDecoder().decode(entries['index.mjs']);
    // (node:worker_threads and node:events: the helper thread of outbound HTTP, started only for a function that uses it.)
    expect([...new Set([...js.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]))].sort()).toEqual(['node:events', 'node:fs', 'node:worker_threads']);
    expect(js).toContain('export {');
    expect(js).not.toContain(root); // no absolute paths of this machine

    // Same input, same bytes: later, and in another time zone.
    const tz = process.env.TZ;
    try {
      process.env.TZ = 'Pacific/Kiritimati';
      const again = await readFile((await adapter.package(a)).archive!);
      expect(Buffer.compare(again, firstZip)).toBe(0);
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });

  it('zip timestamps do not depend on the clock or the time zone', () => {
    const entries = [{ path: 'a.txt', data: new TextEncoder().encode('a') }];
    const tz = process.env.TZ;
    try {
      process.env.TZ = 'America/Los_Angeles';
      const west = deterministicZip(entries);
      process.env.TZ = 'Asia/Tokyo';
      const east = deterministicZip(entries);
      expect(Buffer.compare(Buffer.from(west), Buffer.from(east))).toBe(0);
      // Unix "made by" and rw-r--r-- (Lambda needs the files world-readable).
      const central = Buffer.from(west).indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
      expect(west[central + 5]).toBe(3);
      expect(Buffer.from(west).readUInt32LE(central + 38) >>> 16).toBe(0o100644);
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });

  it('a project packages into <project>/.wfn/targets/lambda/', async () => {
    const wasm = await wasmFile('pkg-project', writeOnce({ stdout: 'Content-Type: text/plain\n\nhi' }));
    const bundle = await adapter.package(artifact('pkg-project', wasm, { projectDir: work }));
    expect(bundle.dir).toBe(path.join(work, '.wfn', 'targets', 'lambda'));
    expect(existsSync(path.join(work, '.wfn', 'targets', 'lambda', 'pkg-project.zip'))).toBe(true);
  });

  it('maps limits to Lambda settings and refuses what Lambda would refuse', async () => {
    expect(lambdaSettings({ memoryMiB: 128, timeoutMs: 10_000 })).toEqual({ memorySize: 256, timeoutSeconds: 10, warnings: [] });
    expect(lambdaSettings({ memoryMiB: 16, timeoutMs: 1500 })).toMatchObject({ memorySize: 144, timeoutSeconds: 2, warnings: [expect.stringContaining('whole seconds')] });
    expect(() => lambdaSettings({ memoryMiB: 10_200, timeoutMs: 1000 })).toThrow(UserError);
    expect(() => lambdaSettings({ memoryMiB: 128, timeoutMs: 901_000 })).toThrow(/900 s/);
    expect(() => checkVariableNames(['AWS_REGION'])).toThrow(/reserved/);
    expect(() => checkVariableNames(['1ABC'])).toThrow(/variable name/);
    expect(() => checkVariableNames(['GOOD_NAME'])).not.toThrow();

    const wasm = await wasmFile('pkg-checks', writeOnce({ stdout: 'Content-Type: text/plain\n\nhi' }));
    await expect(adapter.package(artifact('bad name!', wasm))).rejects.toThrow(/invalid function name "bad name!"/);
    await expect(adapter.package(artifact('pkg-checks', wasm, { env: { AWS_REGION: 'x' } }))).rejects.toThrow(/reserved/);
    // Initial memory (2 pages) above a 0.1 MiB cap: refused with a hint, not shipped.
    await expect(adapter.package(artifact('pkg-checks', wasm, { limits: { memoryMiB: 0.1, timeoutMs: 1000 } }))).rejects.toThrow(/memory cap/);
  });

  it('`wfn deploy x.wasm --target lambda --dry-run --json` writes the zip and reports its path and size', async () => {
    const wasm = await wasmFile('pkg-cli', writeOnce({ stdout: 'Content-Type: text/plain\n\nhi' }));
    const { stdout } = await run(process.execPath, [path.join(root, 'bin', 'run.js'), 'deploy', wasm, '--target', 'lambda', '--dry-run', '--json', '--name', 'cli-fn'], { cwd: work });
    const out = JSON.parse(stdout);
    expect(out).toMatchObject({ target: 'lambda', name: 'cli-fn', dryRun: true });
    expect(out.bundle.archive).toMatch(/cli-fn\.zip$/);
    expect(out.bundle.compressedSize).toBe((await stat(out.bundle.archive)).size);
    expect(out.deploy).toBeUndefined();
  });
});

describe('lambda handler from the zip, with Function URL events', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('GET with a query (the AssemblyScript http template)', async () => {
    const { handler } = await loadHandler(await adapter.package(artifact('h-http', await buildTemplate('assemblyscript', 'http'))));
    const result = await handler(urlEvent({ method: 'GET', path: '/hello/world', query: 'name=wasm&x=a+b%21&x=last' }));
    expect(result).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      cookies: [],
      body: '{"method":"GET","path":"/hello/world","query":{"name":"wasm","x":"last"},"body":""}',
      isBase64Encoded: false,
    });
    // A text body arrives as text (Function URLs do not base64 text/plain).
    const post = await handler(urlEvent({ method: 'POST', path: '/submit', headers: { 'content-type': 'text/plain' }, body: 'héllo "quoted"' }));
    expect(JSON.parse(post.body)).toEqual({ method: 'POST', path: '/submit', query: {}, body: 'héllo "quoted"' });
  });

  it('the shipped handler runs the capped .wasm: memory.grow fails at the 64 MiB cap', async () => {
    const { handler } = await loadHandler(await adapter.package(artifact('h-probe', await wasmFile('h-probe', MEMORY_PROBE_WAT))));
    const result = await handler(urlEvent({ method: 'GET', path: '/' }));
    expect(result.statusCode).toBe(200);
    const pages = probePages(Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8'));
    expect(withinCap(pages, 64), `${pages} pages`).toBe(true);
  });

  it('POST with a binary base64 body: the bytes reach stdin, the binary answer goes back base64', async () => {
    const { handler } = await loadHandler(await adapter.package(artifact('h-echo', await wasmFile('h-echo', ECHO_WAT))));
    const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7 + 255) & 255)); // not UTF-8
    const result = await handler(urlEvent({ method: 'POST', path: '/upload', headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) }, body: bytes.toString('base64'), isBase64Encoded: true }));
    expect(result.statusCode).toBe(200);
    expect(result.headers).toEqual({ 'content-type': 'application/octet-stream' });
    expect(result.isBase64Encoded).toBe(true);
    expect(Buffer.compare(Buffer.from(result.body, 'base64'), bytes)).toBe(0);
  });

  it('cookies out through `cookies`, other headers as they were written', async () => {
    const cookieCase = CONTRACT_CASES.find((c) => c.name === 'repeated Set-Cookie')!;
    const { handler } = await loadHandler(await adapter.package(artifact('h-cookies', await wasmFile('h-cookies', cookieCase.wat))));
    const result = await handler(urlEvent({ method: 'GET', path: '/' }));
    expect(result).toEqual({ statusCode: 200, headers: { 'content-type': 'text/plain' }, cookies: ['a=1; Path=/', 'b=2'], body: 'cookies', isBase64Encoded: false });
  });

  it('repeated headers are comma-joined; a text type with non-UTF-8 bytes goes base64', async () => {
    const wat = writeOnce({ stdout: new Uint8Array([...new TextEncoder().encode('Content-Type: text/plain\nVary: a\nVary: b\n\n'), 0xff, 0xfe, 0x41]) });
    const { handler } = await loadHandler(await adapter.package(artifact('h-binary-text', await wasmFile('h-binary-text', wat))));
    const result = await handler(urlEvent({ method: 'GET', path: '/' }));
    expect(result.headers).toEqual({ 'content-type': 'text/plain', vary: 'a, b' });
    expect(result.isBase64Encoded).toBe(true);
    expect([...Buffer.from(result.body, 'base64')]).toEqual([0xff, 0xfe, 0x41]);
  });

  it('the CGI environment: cookies, source IP, URL, configured variables, an HTTP API stage as the route', async () => {
    process.env.LAMBDA_TEST_GREETING = 'set in the Lambda configuration';
    process.env.LAMBDA_TEST_NOT_CONFIGURED = 'must not leak';
    const bundle = await adapter.package(artifact('h-env', await wasmFile('h-env', ENV_DUMP_WAT), { env: { LAMBDA_TEST_GREETING: 'packaged value (not used)' } }));
    const { handler } = await loadHandler(bundle);
    const vars = (body: string) => Object.fromEntries(body.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));

    const env = vars((await handler(urlEvent({ method: 'GET', path: '/p/q%20r', query: 'x=1&y', cookies: ['a=1', 'b=2'] }))).body);
    expect(env).toMatchObject({
      REQUEST_METHOD: 'GET',
      QUERY_STRING: 'x=1&y',
      PATH_INFO: '/p/q r',
      X_RAW_PATH_INFO: '/p/q%20r',
      SCRIPT_NAME: '',
      X_FULL_URL: `https://${DOMAIN}/p/q%20r?x=1&y`,
      SERVER_NAME: DOMAIN,
      SERVER_PORT: '443',
      REMOTE_ADDR: '203.0.113.7',
      HTTP_COOKIE: 'a=1; b=2',
      HTTP_USER_AGENT: 'curl/8.5.0',
      HTTP_X_FORWARDED_FOR: '203.0.113.7',
      CONTENT_LENGTH: '0',
      LAMBDA_TEST_GREETING: 'set in the Lambda configuration',
    });
    expect(env.LAMBDA_TEST_NOT_CONFIGURED).toBeUndefined();

    const staged = vars((await handler(urlEvent({ method: 'GET', path: '/prod/items/7', stage: 'prod' }))).body);
    expect(staged).toMatchObject({ SCRIPT_NAME: '/prod', X_MATCHED_ROUTE: '/prod', PATH_INFO: '/items/7' });
  });

  it('failures answer the shared 5xx and log the reason; non-HTTP events are refused', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const trap = CONTRACT_CASES.find((c) => c.name === 'unreachable')!;
    const trapped = await loadHandler(await adapter.package(artifact('h-trap', await wasmFile('h-trap', trap.wat))));
    expect(await trapped.handler(urlEvent({ method: 'GET', path: '/' }))).toEqual({
      statusCode: 500,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      cookies: [],
      body: '500 Internal Server Error\n',
      isBase64Encoded: false,
    });
    expect(trapped.lastInvocation).toMatchObject({ outcome: 'trap' });
    expect(errors.mock.calls.map((c) => String(c[0]))).toContainEqual(expect.stringMatching(/^wfn: 500 trap: the function trapped/));

    const malformed = CONTRACT_CASES.find((c) => c.name === 'malformed CGI output')!;
    const bad = await loadHandler(await adapter.package(artifact('h-malformed', await wasmFile('h-malformed', malformed.wat))));
    expect((await bad.handler(urlEvent({ method: 'GET', path: '/' }))).statusCode).toBe(502);

    await expect(trapped.handler({})).rejects.toThrow(/not an HTTP event/);
    await expect(trapped.handler({ httpMethod: 'GET', path: '/', requestContext: {} })).rejects.toThrow(/payload format version 2\.0/);
  });
});
