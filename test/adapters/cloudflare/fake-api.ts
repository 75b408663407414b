/**
 * A local fake of the Cloudflare API v4, in the documented shapes, for the deploy and operate
 * tests: Workers script upload (multipart), workers.dev subdomain, Workers KV namespaces, the
 * scripts list (tags filter), versions, deployments, script delete and Workers Tail (POST
 * .../tails -> a WebSocket speaking `trace-v1`, DELETE .../tails/{id}). It checks the request
 * shapes (method, path, Bearer token, content types, body fields) and refuses anything off them
 * with a Cloudflare-shaped 4xx.
 *
 * It is stateful like Cloudflare: each upload is a new version, deployed to 100% (a
 * deployment); `invoke()` runs the live version's uploaded worker.js + .wasm in Node, as the
 * edge would (the shim is platform-neutral), and sends each open tail the trace event of that
 * invocation (request, response status, console messages) as Cloudflare's tail does.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';
import { parseMultipart, type Part } from '../../../adapters/cloudflare/multipart.js';

export const TOKEN = 'tok-abcdefghijklmnopqrstuvwxyz0123456789';
export const ACCOUNT = '023e105f4ecef8ad9ca31a8372d0c353';

export interface Seen {
  method: string;
  path: string;
  authorization?: string;
  contentType?: string;
  parts?: Part[];
  json?: unknown;
}

export interface FakeVersion {
  id: string;
  number: number;
  created_on: string;
  annotations: Record<string, string>;
  metadata: { main_module: string; bindings: { type: string; name: string; text?: string }[] };
  parts: Part[];
}

export interface FakeScript {
  tags: string[];
  created_on: string;
  modified_on: string;
  versions: FakeVersion[];
  deployments: { id: string; created_on: string; source: string; strategy: string; author_email: string; versions: { version_id: string; percentage: number }[]; annotations?: Record<string, string> }[];
}

interface Tail {
  id: string;
  script: string;
  sockets: Set<WebSocket>;
  /** Sockets that sent the `{"debug": ...}` message wrangler sends once open. */
  ready: Set<WebSocket>;
}

const envelope = (result: unknown, extra: Record<string, unknown> = {}) => JSON.stringify({ success: true, errors: [], messages: [], result, ...extra });
const failure = (code: number, message: string) => JSON.stringify({ success: false, errors: [{ code, message }], messages: [], result: null });

export class FakeCloudflare {
  seen: Seen[] = [];
  /** The account's Workers KV namespaces (listed 100 per page, in creation order). */
  namespaces: { id: string; title: string }[] = [];
  scripts = new Map<string, FakeScript>();
  tails = new Map<string, Tail>();
  /** Every tail ever created, deleted or not (to check that each was deleted). */
  tailsCreated: string[] = [];
  base = '';
  /** When set, the tail WebSocket refuses the handshake (as an expired tail does). */
  refuseTails = false;
  private clock = Date.parse('2026-01-01T00:00:00Z');
  private readonly server: Server;
  private readonly wss = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => (protocols.has('trace-v1') ? 'trace-v1' : false) });

  constructor() {
    this.server = createServer((req, res) => {
      void this.handle(req).then(
        ({ status, body }) => {
          res.writeHead(status, { 'content-type': status === 502 ? 'text/html' : 'application/json' });
          res.end(body);
        },
        (error: unknown) => {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(failure(10013, `fake: ${String(error)}`));
        },
      );
    });
    this.server.on('upgrade', (req, socket, head) => {
      const id = /^\/tail\/([\w-]+)$/.exec(req.url ?? '')?.[1];
      const tail = id ? this.tails.get(id) : undefined;
      if (this.refuseTails || !tail || !String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim()).includes('trace-v1')) {
        socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        tail.sockets.add(ws);
        ws.on('message', (data) => {
          const msg = JSON.parse(data.toString()) as Record<string, unknown>;
          if (typeof msg.debug === 'boolean') tail.ready.add(ws);
        });
        ws.on('close', () => {
          tail.sockets.delete(ws);
          tail.ready.delete(ws);
        });
      });
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/client/v4`;
  }

  async close(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  /** A later timestamp on every call: deployments sort by created_on as on Cloudflare. */
  private now(): string {
    this.clock += 1000;
    return new Date(this.clock).toISOString();
  }

  /** How many tail WebSockets are open and ready (sent their first message) for the script. */
  readyTails(script: string): number {
    return [...this.tails.values()].filter((t) => t.script === script).reduce((n, t) => n + t.ready.size, 0);
  }

  liveVersion(name: string): FakeVersion | undefined {
    const script = this.scripts.get(name);
    const latest = script?.deployments[0];
    const id = latest?.versions.find((v) => v.percentage === 100)?.version_id;
    return script?.versions.find((v) => v.id === id);
  }

  /**
   * Runs the live version of `name` on `url` as the edge would and sends every ready tail the
   * invocation's trace event. Returns the Response.
   */
  async invoke(name: string, url: string, init: RequestInit = {}): Promise<Response> {
    const version = this.liveVersion(name);
    if (!version) throw new Error(`fake: no live version of ${name}`);
    const worker = await loadWorker(version);
    const env: Record<string, unknown> = {};
    for (const b of version.metadata.bindings) if (b.type === 'plain_text' || b.type === 'secret_text') env[b.name] = b.text;
    const logs: { level: string; message: unknown[]; timestamp: number }[] = [];
    const original = { log: console.log, error: console.error, warn: console.warn, info: console.info };
    for (const level of ['log', 'error', 'warn', 'info'] as const) console[level] = (...message: unknown[]) => void logs.push({ level, message, timestamp: Date.now() });
    const started = Date.now();
    let response: Response;
    try {
      response = await worker.fetch(new Request(url, init), env);
    } finally {
      Object.assign(console, original);
    }
    const event = {
      scriptName: name,
      outcome: 'ok',
      eventTimestamp: started,
      wallTime: Date.now() - started,
      cpuTime: 0,
      event: { request: { url, method: init.method ?? 'GET', headers: {}, cf: { colo: 'LHR' } }, response: { status: response.status } },
      logs,
      exceptions: [],
      scriptVersion: { id: version.id },
    };
    this.emit(name, event);
    return response;
  }

  /** Sends a trace event (any shape) to every ready tail of the script. */
  emit(script: string, event: unknown): void {
    for (const tail of this.tails.values()) if (tail.script === script) for (const ws of tail.ready) ws.send(JSON.stringify(event));
  }

  private async handle(req: IncomingMessage): Promise<{ status: number; body: string }> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const entry: Seen = { method: req.method!, path: req.url!, authorization: req.headers.authorization, contentType: req.headers['content-type'] };
    this.seen.push(entry);
    const send = (status: number, text: string) => ({ status, body: text });
    const json = (): Record<string, unknown> | undefined => {
      if (entry.contentType !== 'application/json') return undefined;
      try {
        const parsed = JSON.parse(body.toString('utf8')) as unknown;
        entry.json = parsed;
        return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
      } catch {
        return undefined;
      }
    };
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return send(403, failure(10000, 'Authentication error'));
    const url = new URL(req.url!, 'http://x');
    const account = /^\/client\/v4\/accounts\/([^/]+)(\/.*)$/.exec(url.pathname);
    if (!account) return send(404, failure(7000, 'No route for that URI'));
    if (account[1] !== ACCOUNT) return send(404, failure(7003, 'Could not route to /accounts/x/workers/scripts, perhaps your object identifier is invalid?'));
    const route = account[2];
    const m = /^\/workers\/scripts\/([^/]+)(?:\/(subdomain|versions|deployments|tails))?(?:\/([^/]+))?$/.exec(route);
    const noScript = () => send(404, failure(10007, 'This Worker does not exist on your account.'));

    if (m && !m[2] && !m[3] && req.method === 'PUT') {
      if (!entry.contentType?.startsWith('multipart/form-data; boundary=')) return send(400, failure(10001, 'expected multipart/form-data'));
      entry.parts = parseMultipart(body, entry.contentType);
      const name = decodeURIComponent(m[1]);
      if (name === 'too-big') return send(400, failure(10027, 'Your Worker exceeded the size limit of 3 MiB.'));
      if (name === 'gateway') return send(502, '<html>bad gateway</html>');
      const metaPart = entry.parts.find((p) => p.name === 'metadata');
      const metadata = metaPart ? (JSON.parse(Buffer.from(metaPart.data).toString('utf8')) as Record<string, unknown>) : undefined;
      if (!metadata || typeof metadata.main_module !== 'string' || !entry.parts.some((p) => p.name === metadata.main_module)) return send(400, failure(10021, 'No such module: main_module'));
      if (metadata.tags !== undefined && (!Array.isArray(metadata.tags) || !metadata.tags.every((t) => typeof t === 'string'))) return send(400, failure(10021, 'tags must be an array of strings'));
      const annotations = (metadata.annotations ?? {}) as Record<string, unknown>;
      if (typeof annotations !== 'object' || Object.entries(annotations).some(([k, v]) => !['workers/message', 'workers/tag'].includes(k) || typeof v !== 'string')) {
        return send(400, failure(10021, 'annotations: only workers/message and workers/tag (strings) may be set'));
      }
      const now = this.now();
      const script = this.scripts.get(name) ?? { tags: [], created_on: now, modified_on: now, versions: [], deployments: [] };
      this.scripts.set(name, script);
      script.tags = (metadata.tags as string[] | undefined) ?? [];
      script.modified_on = now;
      const version: FakeVersion = {
        id: randomUUID(),
        number: script.versions.length + 1,
        created_on: now,
        annotations: { ...(annotations as Record<string, string>), 'workers/triggered_by': 'upload' },
        metadata: metadata as FakeVersion['metadata'],
        parts: entry.parts,
      };
      script.versions.unshift(version);
      script.deployments.unshift({ id: randomUUID(), created_on: now, source: 'api', strategy: 'percentage', author_email: 'dev@example.com', versions: [{ version_id: version.id, percentage: 100 }] });
      return send(200, envelope({ id: name, etag: 'e7c1a0d', modified_on: '2026-01-01T00:00:00Z', created_on: script.created_on, deployment_id: script.deployments[0].id, tags: script.tags }));
    }
    if (m && m[2] === 'subdomain' && !m[3] && req.method === 'POST') {
      const got = json();
      if (!got) return send(400, failure(10001, 'expected JSON'));
      return send(200, envelope({ enabled: true, previews_enabled: false }));
    }
    if (route === '/workers/subdomain' && req.method === 'GET') return send(200, envelope({ subdomain: 'wfn-team' }));

    if (route === '/workers/scripts' && req.method === 'GET') {
      // ?tags=name:yes,other:no (the documented filter)
      const filters = (url.searchParams.get('tags') ?? '').split(',').filter(Boolean).map((f) => f.split(':'));
      if (filters.some((f) => f.length !== 2 || !['yes', 'no'].includes(f[1]))) return send(400, failure(10001, 'tags: expected tag:yes or tag:no'));
      const result = [...this.scripts]
        .filter(([, s]) => filters.every(([tag, want]) => s.tags.includes(tag) === (want === 'yes')))
        .map(([id, s]) => ({ id, tags: s.tags, etag: 'e7c1a0d', created_on: s.created_on, modified_on: s.modified_on, usage_model: 'standard', has_modules: true, handlers: ['fetch'] }));
      return send(200, envelope(result));
    }
    if (m && m[2] === 'versions' && req.method === 'GET') {
      const script = this.scripts.get(decodeURIComponent(m[1]));
      if (!script) return noScript();
      if (m[3]) {
        const v = script.versions.find((x) => x.id === decodeURIComponent(m[3]));
        if (!v) return send(404, failure(10237, 'Version not found'));
        return send(200, envelope(versionJson(v, true)));
      }
      const page = Number(url.searchParams.get('page') ?? '1');
      const perPage = Number(url.searchParams.get('per_page') ?? '10');
      if (!Number.isInteger(page) || page < 1 || !Number.isInteger(perPage) || perPage < 1 || perPage > 100) return send(400, failure(10001, 'bad page or per_page'));
      const items = script.versions.slice((page - 1) * perPage, page * perPage).map((v) => versionJson(v, false));
      return send(200, envelope({ items }, { result_info: { page, per_page: perPage, count: items.length, total_count: script.versions.length } }));
    }
    if (m && m[2] === 'deployments' && !m[3]) {
      const script = this.scripts.get(decodeURIComponent(m[1]));
      if (!script) return noScript();
      if (req.method === 'GET') return send(200, envelope({ deployments: script.deployments }));
      if (req.method === 'POST') {
        const got = json();
        if (!got) return send(400, failure(10001, 'expected JSON'));
        const versions = got.versions as { version_id?: unknown; percentage?: unknown }[] | undefined;
        if (got.strategy !== 'percentage' || !Array.isArray(versions) || versions.length === 0 || versions.length > 2) return send(400, failure(10001, 'strategy must be "percentage" with one or two versions'));
        if (versions.some((v) => typeof v.version_id !== 'string' || typeof v.percentage !== 'number') || versions.reduce((n, v) => n + (v.percentage as number), 0) !== 100) {
          return send(400, failure(10001, 'each version needs version_id and percentage; the percentages must add up to 100'));
        }
        const unknown = versions.find((v) => !script.versions.some((x) => x.id === v.version_id));
        if (unknown) return send(400, failure(10237, `Version ${String(unknown.version_id)} not found`));
        const deployment = { id: randomUUID(), created_on: this.now(), source: 'api', strategy: 'percentage', author_email: 'dev@example.com', versions: versions as { version_id: string; percentage: number }[], annotations: got.annotations as Record<string, string> | undefined };
        script.deployments.unshift(deployment);
        return send(200, envelope(deployment));
      }
    }
    if (m && !m[2] && !m[3] && req.method === 'DELETE') {
      if (!this.scripts.delete(decodeURIComponent(m[1]))) return noScript();
      return send(200, envelope(null));
    }
    if (m && m[2] === 'tails') {
      const name = decodeURIComponent(m[1]);
      if (!this.scripts.has(name)) return noScript();
      if (req.method === 'POST' && !m[3]) {
        const got = json();
        if (!got || !Array.isArray(got.filters)) return send(400, failure(10001, 'expected {"filters": [...]}'));
        const id = randomUUID();
        this.tails.set(id, { id, script: name, sockets: new Set(), ready: new Set() });
        this.tailsCreated.push(id);
        const host = (this.server.address() as AddressInfo).port;
        return send(200, envelope({ id, url: `ws://127.0.0.1:${host}/tail/${id}`, expires_at: new Date(Date.now() + 6 * 3600_000).toISOString() }));
      }
      if (req.method === 'DELETE' && m[3]) {
        const tail = this.tails.get(decodeURIComponent(m[3]));
        if (!tail || tail.script !== name) return send(404, failure(10000, 'Tail not found'));
        for (const ws of tail.sockets) ws.close(1000);
        this.tails.delete(tail.id);
        return send(200, envelope(null));
      }
    }
    if (route === '/storage/kv/namespaces') {
      if (req.method === 'GET') {
        const page = Number(url.searchParams.get('page') ?? '1');
        const perPage = Number(url.searchParams.get('per_page') ?? '20');
        if (!Number.isInteger(page) || page < 1 || !Number.isInteger(perPage) || perPage < 5 || perPage > 100) return send(400, failure(10001, 'bad page or per_page'));
        const result = this.namespaces.slice((page - 1) * perPage, page * perPage).map((n) => ({ ...n, supports_url_encoding: true }));
        const info = { page, per_page: perPage, count: result.length, total_count: this.namespaces.length, total_pages: Math.max(1, Math.ceil(this.namespaces.length / perPage)) };
        return send(200, envelope(result, { result_info: info }));
      }
      if (req.method === 'POST') {
        const got = json();
        if (!got) return send(400, failure(10001, 'expected JSON'));
        if (Object.keys(got).join() !== 'title' || typeof got.title !== 'string' || got.title.length === 0 || got.title.length > 512) {
          return send(400, failure(10019, 'the namespace title is missing or invalid'));
        }
        if (this.namespaces.some((n) => n.title === got.title)) return send(400, failure(10014, 'a namespace with this account ID and title already exists'));
        const created = { id: `ns${String(this.namespaces.length + 1).padStart(30, '0')}`, title: got.title };
        this.namespaces.push(created);
        return send(200, envelope({ ...created, supports_url_encoding: true }));
      }
    }
    return send(404, failure(7000, 'No route for that URI'));
  }
}

/** A version as the API shows it: secret values never come back. */
function versionJson(v: FakeVersion, detail: boolean) {
  const base = { id: v.id, number: v.number, metadata: { created_on: v.created_on, modified_on: v.created_on, source: 'api', author_id: 'a1', author_email: 'dev@example.com', hasPreview: false }, annotations: v.annotations };
  if (!detail) return base;
  return {
    ...base,
    resources: {
      bindings: v.metadata.bindings.map((b) => (b.type === 'secret_text' ? { type: b.type, name: b.name } : b)),
      script: { etag: 'e7c1a0d', handlers: ['fetch'], last_deployed_from: 'api' },
      script_runtime: { compatibility_date: '2025-01-01', usage_model: 'standard', limits: {} },
    },
  };
}

interface LoadedWorker {
  fetch(request: Request, env: Record<string, unknown>): Promise<Response>;
}

const WASM_MODULES = '__wfnFakeCloudflareWasm';
const loaded = new Map<string, LoadedWorker>();

/** The version's uploaded worker.js with its `.wasm` import bound to the uploaded module (as shim.test.ts loads one). */
async function loadWorker(version: FakeVersion): Promise<LoadedWorker> {
  const cached = loaded.get(version.id);
  if (cached) return cached;
  const entry = version.parts.find((p) => p.name === version.metadata.main_module)!;
  const wasmPart = version.parts.find((p) => p.contentType === 'application/wasm')!;
  const registry = ((globalThis as Record<string, unknown>)[WASM_MODULES] ??= {}) as Record<string, WebAssembly.Module>;
  registry[version.id] = await WebAssembly.compile(wasmPart.data as BufferSource);
  const source = Buffer.from(entry.data).toString('utf8');
  const wasmImport = new RegExp(`import\\s*([\\w$]+)\\s*from\\s*"\\./${wasmPart.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}";?`);
  if (!wasmImport.test(source)) throw new Error(`fake: worker.js does not import ./${wasmPart.name}`);
  const dir = await mkdtemp(path.join(tmpdir(), 'wfn-fake-cf-'));
  const file = path.join(dir, 'worker.mjs');
  await writeFile(file, source.replace(wasmImport, (_m, id: string) => `const ${id} = globalThis.${WASM_MODULES}[${JSON.stringify(version.id)}];`));
  const worker = (await import(pathToFileURL(file).href)).default as LoadedWorker;
  loaded.set(version.id, worker);
  return worker;
}
