/**
 * A small stateful fake of the Fastly API on 127.0.0.1, in the documented shapes, shared by the
 * deploy and operate tests: services (create, search, list, delete), versions (list, clone,
 * activate, deactivate), domains, packages (upload, metadata from the package's fastly.toml),
 * resource links, secret and KV stores, and the managed instance-output log stream that
 * `fastly log-tail` reads (POST to enable, GET NDJSON batches with a Link rel="next" window).
 * It checks the Fastly-Key header, form/JSON/multipart bodies, and refuses what Fastly refuses
 * (deleting a service with an active version, activating a version without a package or domain).
 * `invoke()` runs the active version's main.wasm in wfn's Fastly emulator and records its
 * instance output, as Fastly would stream it.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import { runFastly, type FastlyRunResult } from '../../../adapters/fastly/emulator/run.js';
import type { InstanceLog } from '../../../adapters/fastly/log-stream.js';
import { readImports } from '../../../src/runtime/wasm-imports.js';
import type { HttpRequest } from '../../../src/runtime/types.js';
import { request } from './helpers.js';

export const TOKEN = 'test-token-3f9a8c';

export interface FakeVersion {
  number: number;
  active: boolean;
  locked: boolean;
  created_at: string;
  updated_at: string;
  hashsum?: string;
  pkg?: { toml: { name?: string; description?: string }; main?: Uint8Array; size: number };
  domains: string[];
  resources: { resource_id: string; name: string }[];
}

export interface FakeService {
  name: string;
  comment: string;
  created_at: string;
  versions: FakeVersion[];
}

function newVersion(number: number, at: string): FakeVersion {
  return { number, active: false, locked: false, created_at: at, updated_at: at, domains: [], resources: [] };
}

function packageJson(serviceId: string, v: FakeVersion) {
  const t = v.pkg?.toml ?? {};
  return { service_id: serviceId, version: v.number, id: `PKG${serviceId}${v.number}`, metadata: { name: t.name, description: t.description, authors: [], language: 'other', size: v.pkg?.size, hashsum: v.hashsum, files_hash: v.hashsum }, created_at: v.created_at, updated_at: v.updated_at };
}

/** fastly.toml's name and description, and bin/main.wasm, from an uploaded package. */
async function readPackage(bytes: Buffer): Promise<NonNullable<FakeVersion['pkg']>> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'wfn-fake-fastly-'));
  await writeFile(path.join(dir, 'pkg.tar.gz'), bytes);
  const files = new Map<string, Buffer>();
  await tar.t({ file: path.join(dir, 'pkg.tar.gz'), onReadEntry: (entry) => {
    const chunks: Buffer[] = [];
    entry.on('data', (c: Buffer) => chunks.push(c));
    entry.on('end', () => files.set(entry.path, Buffer.concat(chunks)));
  } });
  const tomlFile = [...files].find(([p]) => p.endsWith('/fastly.toml'))?.[1]?.toString('utf8') ?? '';
  const str = (key: string) => {
    const m = new RegExp(`^${key} = (".*")$`, 'm').exec(tomlFile);
    return m ? (JSON.parse(m[1]) as string) : undefined;
  };
  const main = [...files].find(([p]) => p.endsWith('/bin/main.wasm'))?.[1];
  return { toml: { name: str('name'), description: str('description') }, main: main ? new Uint8Array(main) : undefined, size: bytes.length };
}

export interface Seen {
  method: string;
  path: string;
  key?: string;
  contentType?: string;
  form?: Record<string, string>;
  json?: Record<string, unknown>;
  packageBytes?: Buffer;
  packageName?: string;
}

export class FakeFastly {
  seen: Seen[] = [];
  services = new Map<string, FakeService>();
  /** Services with managed logging of the instance output enabled. */
  managedLogging = new Set<string>();
  /** The instance output of each service, as batches (one per invocation). */
  instanceOutput = new Map<string, { second: number; batch: { batch_id: string; logs: InstanceLog[] } }[]>();
  private batches = 0;
  /** Secret stores: id -> name and secrets (base64, as the API stores them). */
  stores = new Map<string, { name: string; secrets: Map<string, string> }>();
  /** KV stores: id -> name. */
  kvStores = new Map<string, string>();
  rejectAuth = false;
  /** When set, the managed log stream answers 403 (an account without log tailing). */
  noLogTailing = false;
  private server = http.createServer((req, res) => void this.handle(req, res));
  url = '';

  async start() {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close() {
    return new Promise<void>((r) => this.server.close(() => r()));
  }

  private clock = Date.parse('2026-01-01T00:00:00Z');
  private now(): string {
    this.clock += 1000;
    return new Date(this.clock).toISOString();
  }

  activeVersion(serviceId: string): FakeVersion | undefined {
    return this.services.get(serviceId)?.versions.find((v) => v.active);
  }

  /**
   * Runs the active version's main.wasm on `url` as Fastly would (wfn's Fastly emulator), and,
   * with managed logging on, records the instance's stdout and stderr as Fastly's log stream
   * shows them: one entry per line, in a batch per request.
   */
  async invoke(serviceId: string, url: string, init: Partial<HttpRequest> = {}): Promise<FastlyRunResult> {
    const v = this.activeVersion(serviceId);
    if (!v?.pkg) throw new Error(`fake: no active package on ${serviceId}`);
    const requestId = randomUUID().replace(/-/g, '');
    const startUs = Date.now() * 1000;
    const module = await WebAssembly.compile(v.pkg.main as BufferSource);
    // The secret stores linked to the version, under their link names (as the adapter opens them).
    const secretStores: Record<string, Record<string, string>> = {};
    for (const link of v.resources) {
      const store = this.stores.get(link.resource_id);
      if (store) secretStores[link.name] = Object.fromEntries([...store.secrets].map(([k, b64]) => [k, Buffer.from(b64, 'base64').toString('utf8')]));
    }
    const result = await runFastly(module, request(url, init), { imports: readImports(v.pkg.main), requestId, secretStores });
    if (this.managedLogging.has(serviceId)) {
      const logs: InstanceLog[] = [];
      for (const [stream, bytes] of [['stdout', result.stdout], ['stderr', result.stderr]] as const) {
        if (bytes.length === 0) continue;
        const text = new TextDecoder().decode(bytes);
        for (const message of text.split('\n').slice(0, text.endsWith('\n') ? -1 : undefined)) logs.push({ sequence_number: 0, request_start_us: startUs, stream, id: requestId, message });
      }
      // Fastly numbers the lines in write order; the fake cannot interleave stdout and stderr, so stderr goes first as the function writes it before the adapter's request line.
      const ordered = [...logs.filter((l) => l.stream === 'stderr'), ...logs.filter((l) => l.stream === 'stdout')].map((l, i) => ({ ...l, sequence_number: i + 1 }));
      const list = this.instanceOutput.get(serviceId) ?? [];
      list.push({ second: Math.floor(startUs / 1_000_000), batch: { batch_id: `B${++this.batches}`, logs: ordered.reverse() } });
      this.instanceOutput.set(serviceId, list);
    }
    return result;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url!, 'http://x');
    const seen: Seen = { method: req.method!, path: url.pathname + url.search, key: req.headers['fastly-key'] as string, contentType: req.headers['content-type'] };
    if (seen.contentType?.startsWith('application/x-www-form-urlencoded')) seen.form = Object.fromEntries(new URLSearchParams(body.toString()));
    if (seen.contentType?.startsWith('application/json')) seen.json = JSON.parse(body.toString()) as Record<string, unknown>;
    if (seen.contentType?.startsWith('multipart/form-data')) {
      const fd = await new Response(body, { headers: { 'content-type': seen.contentType } }).formData();
      const file = fd.get('package') as File | null;
      if (file) {
        seen.packageBytes = Buffer.from(await file.arrayBuffer());
        seen.packageName = file.name;
      }
    }
    this.seen.push(seen);
    const send = (status: number, json: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(json));
    };
    if (this.rejectAuth || seen.key !== TOKEN) return send(401, { msg: 'Provided credentials are missing or invalid' });

    const m = (re: RegExp) => re.exec(url.pathname);
    let g: RegExpExecArray | null;
    if (req.method === 'GET' && url.pathname === '/service/search') {
      const found = [...this.services].find(([, s]) => s.name === url.searchParams.get('name'));
      return found ? send(200, { id: found[0], name: found[1].name }) : send(404, { msg: 'Record not found', detail: 'Cannot find service' });
    }
    if (url.pathname === '/resources/stores/secret' && req.method === 'GET') {
      // Two stores per page: the client must follow next_cursor.
      const all = [...this.stores].map(([id, st]) => ({ id, name: st.name, created_at: '2026-01-01T00:00:00Z' }));
      const from = Number(url.searchParams.get('cursor') ?? 0);
      const next = from + 2 < all.length ? String(from + 2) : '';
      return send(200, { data: all.slice(from, from + 2), meta: { next_cursor: next, limit: 2 } });
    }
    if (url.pathname === '/resources/stores/secret' && req.method === 'POST') {
      const storeName = seen.json?.name;
      if (typeof storeName !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(storeName)) return send(400, { msg: 'Bad request', detail: 'invalid name' });
      if ([...this.stores.values()].some((st) => st.name === storeName)) return send(409, { msg: 'Conflict' });
      const id = `STORE${this.stores.size + 1}`;
      this.stores.set(id, { name: storeName, secrets: new Map() });
      return send(200, { id, name: storeName, created_at: '2026-01-01T00:00:00Z' });
    }
    if ((g = m(/^\/resources\/stores\/secret\/(\w+)\/secrets$/)) && req.method === 'PUT') {
      const st = this.stores.get(g[1]);
      if (!st) return send(404, { msg: 'Record not found' });
      const { name: secretName, secret } = seen.json ?? {};
      if (typeof secretName !== 'string' || typeof secret !== 'string' || Buffer.from(secret, 'base64').toString('base64') !== secret) {
        return send(400, { msg: 'Bad request', detail: 'name and a base64 secret are required' });
      }
      st.secrets.set(secretName, secret);
      return send(200, { name: secretName, digest: 'x', created_at: '2026-01-01T00:00:00Z' });
    }
    if (url.pathname === '/resources/stores/kv' && req.method === 'GET') {
      // Two stores per page, as for secret stores: the client must follow next_cursor.
      const limit = url.searchParams.get('limit');
      if (limit !== null && !/^\d+$/.test(limit)) return send(400, { msg: 'Bad request', detail: 'limit must be a number' });
      const all = [...this.kvStores].map(([id, name]) => ({ id, name, created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z' }));
      const from = Number(url.searchParams.get('cursor') ?? 0);
      const next = from + 2 < all.length ? String(from + 2) : '';
      return send(200, { data: all.slice(from, from + 2), meta: { next_cursor: next, limit: 2 } });
    }
    if (url.pathname === '/resources/stores/kv' && req.method === 'POST') {
      if (!seen.contentType?.startsWith('application/json')) return send(415, { msg: 'Unsupported media type' });
      const storeName = seen.json?.name;
      if (Object.keys(seen.json ?? {}).join() !== 'name' || typeof storeName !== 'string' || !/^[A-Za-z0-9_.-]{1,255}$/.test(storeName)) {
        return send(400, { msg: 'Bad request', detail: 'invalid name' });
      }
      if ([...this.kvStores.values()].includes(storeName)) return send(409, { msg: 'Conflict', detail: 'a store with this name exists' });
      const id = `KV${String(this.kvStores.size + 1).padStart(20, '0')}`;
      this.kvStores.set(id, storeName);
      return send(201, { id, name: storeName, created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z' });
    }
    if (req.method === 'POST' && url.pathname === '/service') {
      if (seen.form?.type !== 'wasm') return send(400, { msg: 'Bad request', detail: 'type must be wasm' });
      const id = `SVC${this.services.size + 1}`;
      this.services.set(id, { name: seen.form.name, comment: seen.form.comment ?? '', created_at: this.now(), versions: [newVersion(1, this.now())] });
      return send(200, { id, name: seen.form.name, type: 'wasm', versions: [{ number: 1, active: false, locked: false }] });
    }
    if (req.method === 'GET' && url.pathname === '/service') {
      const page = Number(url.searchParams.get('page') ?? '1');
      const perPage = Number(url.searchParams.get('per_page') ?? '20');
      if (!Number.isInteger(page) || page < 1 || !Number.isInteger(perPage) || perPage < 1 || perPage > 1000) return send(400, { msg: 'Bad request', detail: 'page and per_page must be positive integers' });
      const all = [...this.services].map(([id, s]) => ({
        id, name: s.name, type: 'wasm', comment: s.comment, customer_id: 'CUST1', created_at: s.created_at, updated_at: s.created_at, deleted_at: null,
        version: s.versions.find((v) => v.active)?.number ?? 0, versions: s.versions.map((v) => ({ number: v.number, active: v.active, locked: v.locked })),
      }));
      return send(200, all.slice((page - 1) * perPage, page * perPage));
    }
    if ((g = m(/^\/service\/(\w+)$/)) && req.method === 'DELETE') {
      const s = this.services.get(g[1]);
      if (!s) return send(404, { msg: 'Record not found', detail: 'Cannot find service' });
      if (s.versions.some((v) => v.active)) return send(400, { msg: 'Bad request', detail: 'Cannot delete a service with an active version: deactivate it first' });
      this.services.delete(g[1]);
      return send(200, { status: 'ok' });
    }
    if ((g = m(/^\/service\/(\w+)\/log_stream\/managed\/instance_output$/))) {
      if (!this.services.has(g[1])) return send(404, { msg: 'Record not found' });
      if (this.noLogTailing) return send(403, { msg: 'Forbidden', detail: 'Log tailing is not enabled for this customer' });
      if (req.method === 'POST') {
        if (this.managedLogging.has(g[1])) return send(409, { msg: 'Conflict', detail: 'managed logging already enabled' });
        this.managedLogging.add(g[1]);
        return send(200, { service_id: g[1], kind: 'instance_output' });
      }
      if (req.method === 'GET') {
        if (!this.managedLogging.has(g[1])) return send(403, { msg: 'Managed logging is not enabled for this service' });
        const fromParam = url.searchParams.get('from');
        if (fromParam !== null && !/^\d+$/.test(fromParam)) return send(400, { msg: 'Bad request', detail: 'from must be unix seconds' });
        const nowSec = () => Math.floor(Date.now() / 1000);
        const from = fromParam === null ? nowSec() : Number(fromParam);
        if (from < nowSec() - 3600 || from > nowSec() + 60) return send(404, { msg: 'Record not found', detail: 'window out of range' });
        // Only completed seconds are served: wait (as the real stream holds the request) until `from` has passed.
        while (nowSec() <= from) await new Promise((r) => setTimeout(r, 50));
        const until = nowSec() - 1;
        const batches = (this.instanceOutput.get(g[1]) ?? []).filter((b) => b.second >= from && b.second <= until).map((b) => b.batch);
        const self = `${url.pathname}?from=${from}`;
        res.writeHead(200, { 'content-type': 'application/json', link: `<${url.pathname}?from=${from - 1}>; rel="prev", <${url.pathname}?from=${until + 1}>; rel="next", <${self}>; rel="self"` });
        res.end(batches.map((b) => JSON.stringify(b) + '\n').join(''));
        return;
      }
    }
    const svc = (id: string) => this.services.get(id);
    if ((g = m(/^\/service\/(\w+)\/version$/)) && req.method === 'GET') {
      const s = svc(g[1]);
      return s
        ? send(200, s.versions.map((v) => ({ number: v.number, active: v.active, locked: v.locked, deployed: v.active, staging: false, testing: false, comment: '', service_id: g![1], created_at: v.created_at, updated_at: v.updated_at, deleted_at: null })))
        : send(404, { msg: 'Record not found' });
    }
    if ((g = m(/^\/service\/(\w+)\/version\/(\d+)\/(\w+)$/))) {
      const s = svc(g[1]);
      const v = s?.versions.find((x) => x.number === Number(g![2]));
      if (!s || !v) return send(404, { msg: 'Record not found' });
      const action = g[3];
      if (action === 'clone' && req.method === 'PUT') {
        const copy = { ...newVersion(s.versions.length + 1, this.now()), hashsum: v.hashsum, pkg: v.pkg, domains: [...v.domains], resources: [...v.resources] };
        s.versions.push(copy);
        return send(200, { number: copy.number, active: false });
      }
      if (action === 'domain' && req.method === 'POST') {
        v.domains.push(seen.form!.name);
        return send(200, { name: seen.form!.name, version: v.number });
      }
      if (action === 'domain' && req.method === 'GET') return send(200, v.domains.map((name) => ({ name })));
      if (action === 'resource' && req.method === 'GET') return send(200, v.resources.map((r) => ({ ...r, id: `LINK-${r.resource_id}`, service_id: g![1], version: v.number })));
      if (action === 'resource' && req.method === 'POST') {
        if (v.active) return send(400, { msg: 'Bad request', detail: 'the version is locked' });
        const { resource_id, name: linkName } = seen.form ?? {};
        if (!resource_id || !(this.stores.has(resource_id) || this.kvStores.has(resource_id)) || !linkName) return send(400, { msg: 'Bad request', detail: 'resource_id and name are required' });
        if (v.resources.some((r) => r.name === linkName)) return send(409, { msg: 'Conflict', detail: 'a resource is linked under this name' });
        v.resources.push({ resource_id, name: linkName });
        return send(200, { id: `LINK-${resource_id}`, resource_id, name: linkName, service_id: g[1], version: v.number });
      }
      if (action === 'package' && req.method === 'PUT') {
        if (!seen.packageBytes) return send(400, { msg: 'Bad request', detail: 'missing package' });
        if (v.locked) return send(400, { msg: 'Bad request', detail: 'the version is locked' });
        v.hashsum = createHash('sha512').update(seen.packageBytes).digest('hex');
        v.pkg = await readPackage(seen.packageBytes);
        if (!v.pkg.toml.name || !v.pkg.main) return send(400, { msg: 'Bad request', detail: 'the package needs fastly.toml and bin/main.wasm' });
        return send(200, packageJson(g[1], v));
      }
      if (action === 'package' && req.method === 'GET') return v.hashsum ? send(200, packageJson(g[1], v)) : send(404, { msg: 'Record not found' });
      if (action === 'deactivate' && req.method === 'PUT') {
        if (!v.active) return send(400, { msg: 'Bad request', detail: 'the version is not active' });
        v.active = false;
        v.updated_at = this.now();
        return send(200, { number: v.number, active: false, locked: v.locked, service_id: g[1] });
      }
      if (action === 'activate' && req.method === 'PUT') {
        if (v.domains.length === 0) return send(400, { msg: 'Bad request', detail: 'a version needs a domain' });
        if (!v.hashsum) return send(400, { msg: 'Bad request', detail: 'a version needs a package' });
        for (const x of s.versions) x.active = x === v;
        v.locked = true;
        v.updated_at = this.now();
        return send(200, { number: v.number, active: true, locked: true, service_id: g[1] });
      }
    }
    send(404, { msg: 'Record not found', detail: `${req.method} ${url.pathname}` });
  }
}

