/**
 * Fastly Compute hostcalls, emulated for one request, written from the ABI definitions
 * (Fastly's compute-at-edge.witx and typenames.witx; docs/targets/fastly.md).
 *
 * Core-wasm lowering of the witx: handles and statuses are i32; (list u8) and string
 * arguments are (ptr, len); results come back through trailing out-pointers. A result too
 * big for the guest's buffer gives $buflen with nwritten_out set to the size needed.
 * Every import of the module that is not implemented here gets a stub that answers
 * $unsupported and is logged by name: a program never crashes on a missing hostcall.
 *
 * Backend requests (send_async and friends) go through a BackendNet, which blocks the
 * program's thread while the network thread works; nothing else here needs Node.
 */
import type { FuncType, ImportEntry } from '../../../src/runtime/wasm-imports.js';
import type { BackendNet } from './backend-net.js';

/** Replaces a header list in place (guests can append any number of headers: no spread). */
function replaceAll(headers: [string, string][], next: [string, string][]): void {
  headers.length = 0;
  for (const header of next) headers.push(header);
}

/** $fastly_status (typenames.witx). */
export const Status = {
  OK: 0,
  ERROR: 1,
  INVAL: 2,
  BADF: 3,
  BUFLEN: 4,
  UNSUPPORTED: 5,
  BADALIGN: 6,
  HTTPINVALID: 7,
  HTTPUSER: 8,
  HTTPINCOMPLETE: 9,
  NONE: 10,
  HTTPHEADTOOLARGE: 11,
  HTTPINVALIDSTATUS: 12,
  LIMITEXCEEDED: 13,
  AGAIN: 14,
} as const;

/** $http_version. */
const HTTP_11 = 2;

export interface DownstreamRequest {
  method: string;
  /** Absolute URL. */
  url: string;
  /** Header pairs in arrival order; repeated names repeat. */
  headers: [string, string][];
  body: Uint8Array;
  remoteAddr?: string;
  /** The address the request arrived on. */
  localAddr?: string;
  /** True when the client sent no Content-Length (a chunked body): known_length answers $none, as on Fastly. */
  lengthUnknown?: boolean;
}

export interface EmulatedResponse {
  status: number;
  headers: [string, string][];
  body: Uint8Array;
}

type Headers = [string, string][];

interface RequestEntry {
  kind: 'request';
  method: string;
  uri: string;
  version: number;
  headers: Headers;
  /** auto_decompress_response_set: gzip responses come back decoded. */
  decompressGzip?: boolean;
}

interface ResponseEntry {
  kind: 'response';
  status: number;
  version: number;
  headers: Headers;
}

interface BodyEntry {
  kind: 'body';
  buf: Uint8Array;
  length: number;
  readAt: number;
  /** The length the host announces (known_length); undefined for bodies the program writes. */
  knownLength?: number;
  /** A backend response's body, streaming from the network (the exchange's id). */
  stream?: number;
}

interface EndpointEntry {
  kind: 'endpoint';
  name: string;
}

/** A request sent to a backend, its response not taken yet. */
interface PendingEntry {
  kind: 'pending';
  exchange: number;
}

interface SecretStoreEntry {
  kind: 'secret_store';
  entries: Record<string, string>;
}

interface SecretEntry {
  kind: 'secret';
  value: Uint8Array;
}

interface KvStoreEntry {
  kind: 'kv_store';
  name: string;
  store: EmulatedKvStore;
}

/** A KV operation begun (lookup, insert, delete, list): done at once, its outcome kept for the *_wait call. */
interface KvPendingEntry {
  kind: 'kv_pending';
  op: 'lookup' | 'insert' | 'delete' | 'list';
  /** $kv_error of the outcome. */
  error: number;
  /** lookup: the value; list: the JSON page. */
  body?: Uint8Array;
}

type Entry = RequestEntry | ResponseEntry | BodyEntry | EndpointEntry | PendingEntry | SecretStoreEntry | SecretEntry | KvStoreEntry | KvPendingEntry;

/**
 * A KV store the program can open by its link name (fastly_kv_store): synchronous, as the
 * emulator runs the program on its own thread (the shape of src/runtime/kv's KvStore, sync).
 */
export interface EmulatedKvStore {
  get(key: string): Uint8Array | undefined | Promise<unknown>;
  set(key: string, value: Uint8Array, ttlSeconds: number): void | Promise<void>;
  delete(key: string): void | Promise<void>;
  list(prefix: string, cursor: string | undefined, limit: number): { keys: string[]; cursor?: string } | Promise<unknown>;
}

/** $kv_error (typenames.witx). */
export const KvError = { UNINITIALIZED: 0, OK: 1, BAD_REQUEST: 2, NOT_FOUND: 3, PRECONDITION_FAILED: 4, PAYLOAD_TOO_LARGE: 5, INTERNAL_ERROR: 6, TOO_MANY_REQUESTS: 7 } as const;
/** $kv_insert_config_options: time_to_live_sec. */
const KV_INSERT_TTL = 1 << 4;
/** $kv_list_config_options: cursor, limit, prefix. */
const KV_LIST = { cursor: 1 << 1, limit: 1 << 2, prefix: 1 << 3 };
/** Fastly's KV value limit (25 MB). */
const KV_MAX_VALUE = 25 * 1024 * 1024;

/**
 * Why Fastly refuses a key, or undefined (Fastly's documented key rules, as Viceroy checks
 * them): 1-1024 bytes, no CR or LF, not "." or "..", no "./" or "../" segments, none of
 * # ; ? ^ |, not under .well-known/acme-challenge, not a single control character.
 */
export function fastlyKeyProblem(key: string): string | undefined {
  const bytes = encoder.encode(key).length;
  if (bytes < 1 || bytes > 1024) return 'keys are 1 to 1024 bytes';
  if (key.startsWith('.well-known/acme-challenge')) return 'keys may not start with .well-known/acme-challenge';
  if (key === '.' || key === '..' || key.includes('./') || key.endsWith('/.') || key.endsWith('/..')) return 'keys may not be or contain "." or ".." segments';
  const bad = /[\r\n#;?^|]/.exec(key);
  if (bad) return `keys may not contain ${JSON.stringify(bad[0])}`;
  if ([...key].length === 1 && (key.charCodeAt(0) <= 0x20 || key === '\ufffe' || key === '\uffff')) return 'a one-character key may not be a control character or space';
  return undefined;
}

/** A backend registered with register_dynamic_backend: where requests to it go, and how. */
interface Backend {
  target: string;
  useSsl: boolean;
  hostOverride?: string;
  sniHostname?: string;
  connectTimeoutMs?: number;
  firstByteTimeoutMs?: number;
  betweenBytesTimeoutMs?: number;
}

/** $backend_config_options bits (typenames.witx). */
const BACKEND_OPTION = { hostOverride: 1 << 1, connectTimeout: 1 << 2, firstByteTimeout: 1 << 3, betweenBytesTimeout: 1 << 4, useSsl: 1 << 5, sniHostname: 1 << 11 };
/** $send_error_detail_tag: ok. */
const SEND_OK = 1;

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** 4 octets for IPv4 (also when written as ::ffff:a.b.c.d), 16 for IPv6. */
export function ipOctets(address: string | undefined): Uint8Array | undefined {
  if (!address) return undefined;
  const v4 = /^(?:::ffff:)?(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/i.exec(address);
  if (v4) return Uint8Array.from(v4.slice(1).map(Number));
  if (!address.includes(':')) return undefined;
  const [head, tail = undefined] = address.split('::');
  const parse = (s: string | undefined) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const left = parse(head);
  const right = parse(tail);
  const groups = tail === undefined ? left : [...left, ...new Array(8 - left.length - right.length).fill(0), ...right];
  if (groups.length !== 8 || groups.some((g) => !(g >= 0 && g <= 0xffff))) return undefined;
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  return out;
}

/** Unique names in order of first appearance. */
function headerNames(headers: Headers): string[] {
  return [...new Set(headers.map(([k]) => k))];
}

/** A deliberately small User-Agent parser for fastly_uap.parse (family, major, minor, patch). */
export function parseUserAgent(ua: string): [string, string, string, string] {
  const rules: [RegExp, string][] = [
    [/Edg(?:e|A|iOS)?\/(\d+)(?:\.(\d+))?(?:\.(\d+))?/, 'Edge'],
    [/Firefox\/(\d+)(?:\.(\d+))?(?:\.(\d+))?/, 'Firefox'],
    [/Chrome\/(\d+)(?:\.(\d+))?(?:\.(\d+))?/, 'Chrome'],
    [/Version\/(\d+)(?:\.(\d+))?(?:\.(\d+))?.*Safari\//, 'Safari'],
    [/curl\/(\d+)(?:\.(\d+))?(?:\.(\d+))?/, 'curl'],
  ];
  for (const [re, family] of rules) {
    const m = re.exec(ua);
    if (m) return [family, m[1] ?? '', m[2] ?? '', m[3] ?? ''];
  }
  return ['Other', '', '', ''];
}

export interface HostOptions {
  log(line: string): void;
  /** A request id for downstream_client_request_id. */
  requestId?: string;
  /** Where backend requests go; without it, sending answers $unsupported. */
  net?: BackendNet;
  /** Secret stores by name (the values `wfn dev` took from its environment). */
  secretStores?: Record<string, Record<string, string>>;
  /** False: register_dynamic_backend is refused, as on a service without dynamic backends. */
  dynamicBackends?: boolean;
  /** KV stores linked to the service, by link name (fastly_kv_store). */
  kvStores?: Record<string, EmulatedKvStore>;
}

/** The hostcalls for one request; `imports()` for instantiation, then `bind(memory)`. */
export class FastlyHost {
  private memory: WebAssembly.Memory | undefined;
  private readonly handles = new Map<number, Entry>();
  private nextHandle = 1;
  private readonly downstreamReq: number;
  private readonly downstreamBody: number;
  private readonly started = performance.now();
  private readonly unsupportedSeen = new Set<string>();
  private readonly backends = new Map<string, Backend>();
  /** The response sent downstream (final once the instance is done). */
  private sent: { resp: ResponseEntry; body: BodyEntry; streaming: boolean; bodyHandle: number } | undefined;
  /** Hostcalls the program called that the emulator does not implement. */
  readonly unsupported: string[] = [];

  constructor(private readonly request: DownstreamRequest, private readonly options: HostOptions) {
    this.downstreamReq = this.add({
      kind: 'request',
      method: request.method,
      uri: request.url,
      version: HTTP_11,
      headers: request.headers.map(([k, v]) => [k.toLowerCase(), v]),
    });
    this.downstreamBody = this.add({
      kind: 'body',
      buf: request.body,
      length: request.body.length,
      readAt: 0,
      knownLength: request.lengthUnknown ? undefined : request.body.length,
    });
  }

  bind(memory: WebAssembly.Memory): void {
    this.memory = memory;
  }

  /** The response, once the program has sent one (with everything written to a streaming body). */
  response(): EmulatedResponse | undefined {
    if (!this.sent) return undefined;
    return {
      status: this.sent.resp.status,
      headers: this.sent.resp.headers.map(([k, v]) => [k, v]),
      body: this.sent.body.buf.slice(0, this.sent.body.length),
    };
  }

  // ------------------------------------------------------------------ plumbing

  private add(entry: Entry): number {
    const h = this.nextHandle++;
    this.handles.set(h, entry);
    return h;
  }

  private get<K extends Entry['kind']>(h: number, kind: K): Extract<Entry, { kind: K }> | undefined {
    const e = this.handles.get(h >>> 0);
    return e && e.kind === kind ? (e as Extract<Entry, { kind: K }>) : undefined;
  }

  // Views are made per call: memory.grow detaches the previous buffer.
  private view(): DataView {
    if (!this.memory) throw new Error('FastlyHost: memory not bound');
    return new DataView(this.memory.buffer);
  }

  private bytes(ptr: number, len: number): Uint8Array {
    return new Uint8Array(this.view().buffer, ptr >>> 0, len >>> 0);
  }

  private str(ptr: number, len: number): string {
    return decoder.decode(this.bytes(ptr, len));
  }

  private u32(ptr: number, value: number): void {
    this.view().setUint32(ptr >>> 0, value >>> 0, true);
  }

  /** Copies `data` into (buf, max); on overflow writes the size needed and answers $buflen. */
  private out(data: Uint8Array, buf: number, max: number, nwrittenOut: number): number {
    if (data.length > max >>> 0) {
      this.u32(nwrittenOut, data.length);
      return Status.BUFLEN;
    }
    this.bytes(buf, data.length).set(data);
    this.u32(nwrittenOut, data.length);
    return Status.OK;
  }

  /**
   * The multi-value protocol: as many NUL-terminated items from `cursor` as fit; the ending
   * cursor is -1 when all were written. Not even one item fits: $buflen, nwritten = needed.
   */
  private multi(items: Uint8Array[], buf: number, len: number, cursor: number, endingOut: number, nwrittenOut: number): number {
    const view = this.view();
    let offset = 0;
    let at = cursor >>> 0;
    for (; at < items.length; at++) {
      const item = items[at];
      if (offset + item.length + 1 > len >>> 0) {
        if (offset === 0) {
          this.u32(nwrittenOut, item.length + 1);
          return Status.BUFLEN;
        }
        break;
      }
      const dest = this.bytes(buf + offset, item.length + 1);
      dest.set(item);
      dest[item.length] = 0;
      offset += item.length + 1;
    }
    view.setBigInt64(endingOut >>> 0, at >= items.length ? -1n : BigInt(at), true);
    this.u32(nwrittenOut, offset);
    return Status.OK;
  }

  private headerName(ptr: number, len: number): string | undefined {
    const name = this.str(ptr, len);
    return TOKEN.test(name) ? name.toLowerCase() : undefined;
  }

  private headerValue(ptr: number, len: number): string | undefined {
    const bytes = this.bytes(ptr, len);
    if (bytes.some((b) => b === 0 || b === 10 || b === 13)) return undefined;
    return decoder.decode(bytes);
  }

  private headersOf(h: number): Headers | undefined {
    const e = this.handles.get(h >>> 0);
    return e && (e.kind === 'request' || e.kind === 'response') ? e.headers : undefined;
  }

  private bodyAppend(body: BodyEntry, data: Uint8Array, front = false): void {
    const need = body.length + data.length;
    if (need > body.buf.length || body.buf === this.request.body) {
      const next = new Uint8Array(Math.max(need, body.buf.length * 2, 1024));
      next.set(body.buf.subarray(0, body.length));
      body.buf = next;
    }
    if (front) {
      body.buf.copyWithin(data.length, 0, body.length);
      body.buf.set(data, 0);
    } else {
      body.buf.set(data, body.length);
    }
    body.length = need;
  }

  /** A backend response's body, read to its end into memory (when it is sent on or appended). */
  private materialize(bd: BodyEntry): boolean {
    if (bd.stream === undefined) return true;
    for (;;) {
      const got = this.options.net!.read(bd.stream, 1 << 20);
      if (!(got instanceof Uint8Array)) {
        this.options.log(`fastly emulator: reading a backend response failed: ${got.error}`);
        return false;
      }
      if (got.length === 0) break;
      this.bodyAppend(bd, got);
    }
    bd.stream = undefined;
    return true;
  }

  private closeBody(h: number): number {
    const bd = this.get(h, 'body');
    if (!bd) return Status.BADF;
    if (bd.stream !== undefined) this.options.net?.cancel(bd.stream);
    this.handles.delete(h >>> 0);
    return Status.OK;
  }

  // ------------------------------------------------------------- header calls

  private headerCalls(): Record<string, (...a: any[]) => number> {
    return {
      header_names_get: (h: number, buf: number, len: number, cursor: number, endingOut: number, nwOut: number) => {
        const headers = this.headersOf(h);
        if (!headers) return Status.BADF;
        return this.multi(headerNames(headers).map((n) => encoder.encode(n)), buf, len, cursor, endingOut, nwOut);
      },
      header_value_get: (h: number, name: number, nameLen: number, value: number, max: number, nwOut: number) => {
        const headers = this.headersOf(h);
        if (!headers) return Status.BADF;
        const n = this.headerName(name, nameLen);
        const found = n === undefined ? undefined : headers.find(([k]) => k === n);
        // A missing header is $inval, as Fastly's own SDKs expect.
        if (!found) return Status.INVAL;
        return this.out(encoder.encode(found[1]), value, max, nwOut);
      },
      header_values_get: (h: number, name: number, nameLen: number, buf: number, len: number, cursor: number, endingOut: number, nwOut: number) => {
        const headers = this.headersOf(h);
        if (!headers) return Status.BADF;
        const n = this.headerName(name, nameLen);
        if (n === undefined) return Status.INVAL;
        const values = headers.filter(([k]) => k === n).map(([, v]) => encoder.encode(v));
        return this.multi(values, buf, len, cursor, endingOut, nwOut);
      },
      header_values_set: (h: number, name: number, nameLen: number, values: number, valuesLen: number) => {
        const headers = this.headersOf(h);
        if (!headers) return Status.BADF;
        const n = this.headerName(name, nameLen);
        if (n === undefined) return Status.INVAL;
        const raw = this.bytes(values, valuesLen);
        const list: string[] = [];
        let start = 0;
        for (let i = 0; i < raw.length; i++) {
          if (raw[i] === 0) {
            list.push(decoder.decode(raw.subarray(start, i)));
            start = i + 1;
          }
        }
        replaceAll(headers, [...headers.filter(([k]) => k !== n), ...list.map((v): [string, string] => [n, v])]);
        return Status.OK;
      },
      header_insert: (h: number, name: number, nameLen: number, value: number, valueLen: number) => {
        const headers = this.headersOf(h);
        if (!headers) return Status.BADF;
        const n = this.headerName(name, nameLen);
        const v = this.headerValue(value, valueLen);
        if (n === undefined || v === undefined) return Status.INVAL;
        const at = headers.findIndex(([k]) => k === n);
        const kept = headers.filter(([k]) => k !== n);
        kept.splice(at < 0 ? kept.length : at, 0, [n, v]);
        replaceAll(headers, kept);
        return Status.OK;
      },
      header_append: (h: number, name: number, nameLen: number, value: number, valueLen: number) => {
        const headers = this.headersOf(h);
        if (!headers) return Status.BADF;
        const n = this.headerName(name, nameLen);
        const v = this.headerValue(value, valueLen);
        if (n === undefined || v === undefined) return Status.INVAL;
        headers.push([n, v]);
        return Status.OK;
      },
      header_remove: (h: number, name: number, nameLen: number) => {
        const headers = this.headersOf(h);
        if (!headers) return Status.BADF;
        const n = this.headerName(name, nameLen);
        if (n === undefined || !headers.some(([k]) => k === n)) return Status.INVAL;
        replaceAll(headers, headers.filter(([k]) => k !== n));
        return Status.OK;
      },
      version_get: (h: number, out: number) => {
        const e = this.handles.get(h >>> 0);
        if (!e || (e.kind !== 'request' && e.kind !== 'response')) return Status.BADF;
        this.u32(out, e.version);
        return Status.OK;
      },
      version_set: (h: number, version: number) => {
        const e = this.handles.get(h >>> 0);
        if (!e || (e.kind !== 'request' && e.kind !== 'response')) return Status.BADF;
        if (version >>> 0 > 4) return Status.INVAL;
        e.version = version >>> 0;
        return Status.OK;
      },
      framing_headers_mode_set: (h: number, mode: number) => (this.headersOf(h) ? (mode >>> 0 <= 1 ? Status.OK : Status.INVAL) : Status.BADF),
    };
  }

  // --------------------------------------------------------- downstream info

  /** The fields a plain-HTTP local request does not have answer $none. */
  private downstreamCalls(withReq: boolean): Record<string, (...a: any[]) => number> {
    // fastly_http_downstream takes the request handle first; the deprecated fastly_http_req
    // variants do not.
    const wrap = (f: (...a: number[]) => number) =>
      withReq ? (req: number, ...rest: number[]) => (this.get(req, 'request') ? f(...rest) : Status.BADF) : f;
    const none = wrap(() => Status.NONE);
    const zero = wrap((out: number) => {
      this.u32(out, 0);
      return Status.OK;
    });
    const ip = (address: string | undefined) =>
      wrap((out: number, nwOut: number) => {
        const octets = ipOctets(address);
        if (!octets) return Status.NONE;
        this.bytes(out, octets.length).set(octets);
        this.u32(nwOut, octets.length);
        return Status.OK;
      });
    const calls: Record<string, (...a: any[]) => number> = {
      downstream_client_ip_addr: ip(this.request.remoteAddr),
      downstream_server_ip_addr: ip(this.request.localAddr ?? '127.0.0.1'),
      downstream_client_request_id: wrap((out: number, max: number, nwOut: number) =>
        this.out(encoder.encode(this.options.requestId ?? '00000000000000000000000000000000'), out, max, nwOut)),
      downstream_client_h2_fingerprint: none,
      downstream_client_oh_fingerprint: none,
      downstream_client_ddos_detected: zero,
      downstream_tls_cipher_openssl_name: none,
      downstream_tls_protocol: none,
      downstream_tls_client_hello: none,
      downstream_tls_raw_client_certificate: none,
      downstream_tls_client_cert_verify_result: none,
      downstream_tls_client_servername: none,
      downstream_tls_ja3_md5: none,
      downstream_tls_ja4: none,
      downstream_compliance_region: none,
      fastly_key_is_valid: zero,
    };
    if (withReq) {
      Object.assign(calls, {
        downstream_original_header_names: (req: number, buf: number, len: number, cursor: number, endingOut: number, nwOut: number) =>
          this.get(req, 'request') ? this.originalNames(buf, len, cursor, endingOut, nwOut) : Status.BADF,
        downstream_original_header_count: (req: number, out: number) => {
          if (!this.get(req, 'request')) return Status.BADF;
          this.u32(out, this.request.headers.length);
          return Status.OK;
        },
        downstream_bot_analyzed: zero,
        downstream_bot_detected: zero,
        downstream_bot_verified: zero,
        downstream_bot_category_kind: zero,
        downstream_bot_name: none,
        downstream_bot_category: none,
      });
    } else {
      Object.assign(calls, {
        original_header_names_get: (buf: number, len: number, cursor: number, endingOut: number, nwOut: number) =>
          this.originalNames(buf, len, cursor, endingOut, nwOut),
        original_header_count: (out: number) => {
          this.u32(out, this.request.headers.length);
          return Status.OK;
        },
      });
    }
    return calls;
  }

  /** The request's header names as they arrived (case kept, each once). */
  private originalNames(buf: number, len: number, cursor: number, endingOut: number, nwOut: number): number {
    const names = [...new Set(this.request.headers.map(([k]) => k))].map((n) => encoder.encode(n));
    return this.multi(names, buf, len, cursor, endingOut, nwOut);
  }

  // -------------------------------------------------------------- the modules

  /** fastly_http_req: requests the program makes, and the downstream request. */
  private requestCalls(): Record<string, (...a: any[]) => number> {
    const req = (h: number) => this.get(h, 'request');
    return {
      ...this.headerCalls(),
      ...this.downstreamCalls(false),
      body_downstream_get: (reqOut: number, bodyOut: number) => {
        this.u32(reqOut, this.downstreamReq);
        this.u32(bodyOut, this.downstreamBody);
        return Status.OK;
      },
      new: (out: number) => {
        this.u32(out, this.add({ kind: 'request', method: 'GET', uri: '', version: HTTP_11, headers: [] }));
        return Status.OK;
      },
      method_get: (h: number, buf: number, len: number, nwOut: number) => {
        const r = req(h);
        return r ? this.out(encoder.encode(r.method), buf, len, nwOut) : Status.BADF;
      },
      method_set: (h: number, ptr: number, len: number) => {
        const r = req(h);
        if (!r) return Status.BADF;
        const m = this.str(ptr, len);
        if (!TOKEN.test(m)) return Status.INVAL;
        r.method = m;
        return Status.OK;
      },
      uri_get: (h: number, buf: number, len: number, nwOut: number) => {
        const r = req(h);
        return r ? this.out(encoder.encode(r.uri), buf, len, nwOut) : Status.BADF;
      },
      uri_set: (h: number, ptr: number, len: number) => {
        const r = req(h);
        if (!r) return Status.BADF;
        r.uri = this.str(ptr, len);
        return Status.OK;
      },
      close: (h: number) => (req(h) && this.handles.delete(h >>> 0) ? Status.OK : Status.BADF),
      ...this.backendCalls(),
      cache_override_set: (h: number) => (req(h) ? Status.OK : Status.BADF),
      cache_override_v2_set: (h: number) => (req(h) ? Status.OK : Status.BADF),
      auto_decompress_response_set: (h: number, encodings: number) => {
        const r = req(h);
        if (!r) return Status.BADF;
        // $content_encodings: only gzip (bit 0) is defined
        if (encodings >>> 0 > 1) return Status.INVAL;
        r.decompressGzip = encodings === 1;
        return Status.OK;
      },
    };
  }

  /** fastly_http_resp: responses, and sending one downstream. */
  private responseCalls(): Record<string, (...a: any[]) => number> {
    const resp = (h: number) => this.get(h, 'response');
    const body = (h: number) => this.get(h, 'body');
    return {
      ...this.headerCalls(),
      new: (out: number) => {
        this.u32(out, this.add({ kind: 'response', status: 200, version: HTTP_11, headers: [] }));
        return Status.OK;
      },
      status_get: (h: number, out: number) => {
        const r = resp(h);
        if (!r) return Status.BADF;
        this.view().setUint16(out >>> 0, r.status, true);
        return Status.OK;
      },
      status_set: (h: number, status: number) => {
        const r = resp(h);
        if (!r) return Status.BADF;
        if (status < 100 || status > 999) return Status.INVAL;
        r.status = status;
        return Status.OK;
      },
      send_downstream: (h: number, b: number, streaming: number) => {
        const r = resp(h);
        const bd = body(b);
        if (!r || !bd) return Status.BADF;
        if (this.sent) return Status.HTTPUSER;
        if (!this.materialize(bd)) return Status.ERROR;
        this.sent = { resp: r, body: bd, streaming: streaming !== 0, bodyHandle: b >>> 0 };
        this.handles.delete(h >>> 0);
        // A non-streaming body is consumed; a streaming one stays writable until closed.
        if (!streaming) this.handles.delete(b >>> 0);
        return Status.OK;
      },
      close: (h: number) => (resp(h) && this.handles.delete(h >>> 0) ? Status.OK : Status.BADF),
      http_keepalive_mode_set: (h: number, mode: number) => (resp(h) ? (mode >>> 0 <= 1 ? Status.OK : Status.INVAL) : Status.BADF),
      get_addr_dest_ip: (h: number) => (resp(h) ? Status.NONE : Status.BADF),
      get_addr_dest_port: (h: number) => (resp(h) ? Status.NONE : Status.BADF),
    };
  }

  /** fastly_http_body: bodies in memory. */
  private bodyCalls(): Record<string, (...a: any[]) => number> {
    const body = (h: number) => this.get(h, 'body');
    return {
      new: (out: number) => {
        this.u32(out, this.add({ kind: 'body', buf: new Uint8Array(0), length: 0, readAt: 0 }));
        return Status.OK;
      },
      read: (h: number, buf: number, len: number, nreadOut: number) => {
        const bd = body(h);
        if (!bd) return Status.BADF;
        if (bd.stream !== undefined) {
          const got = this.options.net!.read(bd.stream, len >>> 0);
          if (!(got instanceof Uint8Array)) {
            this.options.log(`fastly emulator: reading a backend response failed: ${got.error}`);
            return Status.ERROR;
          }
          this.bytes(buf, got.length).set(got);
          this.u32(nreadOut, got.length);
          return Status.OK;
        }
        const n = Math.min(len >>> 0, bd.length - bd.readAt);
        this.bytes(buf, n).set(bd.buf.subarray(bd.readAt, bd.readAt + n));
        bd.readAt += n;
        this.u32(nreadOut, n);
        return Status.OK;
      },
      write: (h: number, buf: number, len: number, end: number, nwOut: number) => {
        const bd = body(h);
        if (!bd) return Status.BADF;
        if (end >>> 0 > 1) return Status.INVAL;
        this.bodyAppend(bd, this.bytes(buf, len).slice(), end === 1);
        this.u32(nwOut, len);
        return Status.OK;
      },
      append: (dest: number, src: number) => {
        const d = body(dest);
        const s = body(src);
        if (!d || !s) return Status.BADF;
        if (!this.materialize(s)) return Status.ERROR;
        this.bodyAppend(d, s.buf.subarray(s.readAt, s.length));
        this.handles.delete(src >>> 0);
        return Status.OK;
      },
      close: (h: number) => this.closeBody(h),
      abandon: (h: number) => this.closeBody(h),
      known_length: (h: number, out: number) => {
        const bd = body(h);
        if (!bd) return Status.BADF;
        if (bd.knownLength === undefined) return Status.NONE;
        this.view().setBigUint64(out >>> 0, BigInt(bd.knownLength), true);
        return Status.OK;
      },
    };
  }

  /** Every hostcall the emulator implements, by module; the rest get stubs (stub()). */
  private implemented(): Record<string, Record<string, (...a: any[]) => number | undefined>> {
    return {
      fastly_abi: {
        init: (version: bigint) => (version === 1n ? Status.OK : Status.INVAL),
      },
      fastly_http_req: this.requestCalls(),
      fastly_http_downstream: {
        ...this.downstreamCalls(true),
      },
      fastly_http_resp: this.responseCalls(),
      fastly_http_body: this.bodyCalls(),
      fastly_log: {
        endpoint_get: (name: number, len: number, out: number) => {
          this.u32(out, this.add({ kind: 'endpoint', name: this.str(name, len) }));
          return Status.OK;
        },
        write: (h: number, msg: number, len: number, nwOut: number) => {
          const e = this.get(h, 'endpoint');
          if (!e) return Status.BADF;
          this.options.log(`[${e.name}] ${this.str(msg, len).replace(/\n$/, '')}`);
          this.u32(nwOut, len);
          return Status.OK;
        },
      },
      fastly_uap: {
        parse: (ua: number, uaLen: number, ...outs: number[]) => {
          const parts = parseUserAgent(this.str(ua, uaLen));
          let status: number = Status.OK;
          for (let i = 0; i < 4; i++) {
            const s = this.out(encoder.encode(parts[i]), outs[i * 3], outs[i * 3 + 1], outs[i * 3 + 2]);
            if (s !== Status.OK) status = s;
          }
          return status;
        },
      },
      fastly_async_io: {
        // Backend requests and their bodies become ready as the network delivers; all else at once.
        select: (handles: number, count: number, timeoutMs: number, out: number) => {
          const list = Array.from({ length: count >>> 0 }, (_, i) => this.view().getUint32((handles >>> 0) + i * 4, true));
          if (list.length === 0) return Status.INVAL;
          if (list.some((h) => !this.handles.has(h))) return Status.BADF;
          const checks = list.map((h) => () => this.ready(h));
          let index = checks.findIndex((c) => c());
          if (index < 0) index = this.options.net!.waitAny(checks, timeoutMs >>> 0 === 0 ? undefined : timeoutMs >>> 0);
          this.u32(out, index < 0 ? 0xffffffff : index);
          return Status.OK;
        },
        is_ready: (h: number, out: number) => {
          if (!this.handles.has(h >>> 0)) return Status.BADF;
          this.u32(out, this.ready(h) ? 1 : 0);
          return Status.OK;
        },
      },
      fastly_compute_runtime: {
        get_vcpu_ms: (out: number) => {
          this.view().setBigUint64(out >>> 0, BigInt(Math.round(performance.now() - this.started)), true);
          return Status.OK;
        },
        get_heap_mib: (out: number) => {
          this.u32(out, Math.ceil((this.memory?.buffer.byteLength ?? 0) / 1048576));
          return Status.OK;
        },
      },
      fastly_backend: {
        // Only dynamic backends exist in the emulator.
        exists: (name: number, len: number, out: number) => {
          this.u32(out, this.backends.has(this.str(name, len)) ? 1 : 0);
          return Status.OK;
        },
        is_dynamic: (name: number, len: number, out: number) => {
          if (!this.backends.has(this.str(name, len))) return Status.INVAL;
          this.u32(out, 1);
          return Status.OK;
        },
      },
      fastly_secret_store: this.secretStoreCalls(),
      fastly_kv_store: this.kvStoreCalls(),
    };
  }

  // ------------------------------------------------------------ backends

  private registerBackend(namePtr: number, nameLen: number, targetPtr: number, targetLen: number, mask: number, cfg: number): number {
    if (this.options.dynamicBackends === false) {
      this.options.log('fastly emulator: register_dynamic_backend refused: dynamic backends are not enabled on this service');
      return Status.UNSUPPORTED;
    }
    const name = this.str(namePtr, nameLen);
    const target = this.str(targetPtr, targetLen);
    if (name === '' || this.backends.has(name)) return Status.INVAL;
    if (!/^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+)(?::\d{1,5})?$/.test(target)) return Status.INVAL;
    const view = this.view();
    const at = cfg >>> 0;
    const u32 = (offset: number) => view.getUint32(at + offset, true);
    const text = (offset: number) => this.str(u32(offset), u32(offset + 4));
    const has = (bit: number) => (mask & bit) !== 0;
    this.backends.set(name, {
      target,
      useSsl: has(BACKEND_OPTION.useSsl),
      hostOverride: has(BACKEND_OPTION.hostOverride) ? text(0) : undefined,
      connectTimeoutMs: has(BACKEND_OPTION.connectTimeout) ? u32(8) : undefined,
      firstByteTimeoutMs: has(BACKEND_OPTION.firstByteTimeout) ? u32(12) : undefined,
      betweenBytesTimeoutMs: has(BACKEND_OPTION.betweenBytesTimeout) ? u32(16) : undefined,
      sniHostname: has(BACKEND_OPTION.sniHostname) ? text(52) : undefined,
    });
    return Status.OK;
  }

  /** Starts the request on the backend; the exchange's id, or a status. */
  private startSend(h: number, b: number, backendPtr: number, backendLen: number): { exchange: number } | { status: number } {
    const r = this.get(h, 'request');
    const bd = this.get(b, 'body');
    if (!r || !bd) return { status: Status.BADF };
    const backend = this.backends.get(this.str(backendPtr, backendLen));
    if (!backend) return { status: Status.INVAL };
    if (!this.options.net) {
      this.options.log('fastly emulator: no network for backend requests in this host');
      return { status: Status.UNSUPPORTED };
    }
    let path: string;
    try {
      const url = new URL(r.uri);
      path = `${url.pathname}${url.search}`;
    } catch {
      return { status: Status.INVAL };
    }
    const exchange = this.options.net.start({
      method: r.method,
      url: `${backend.useSsl ? 'https' : 'http'}://${backend.target}${path}`,
      headers: r.headers.map(([k, v]) => [k, v]),
      body: bd.buf.slice(bd.readAt, bd.length),
      hostOverride: backend.hostOverride,
      servername: backend.sniHostname,
      connectTimeoutMs: backend.connectTimeoutMs,
      firstByteTimeoutMs: backend.firstByteTimeoutMs,
      betweenBytesTimeoutMs: backend.betweenBytesTimeoutMs,
      decompressGzip: r.decompressGzip,
    });
    // The request and its body are consumed by the send.
    this.handles.delete(h >>> 0);
    this.handles.delete(b >>> 0);
    return { exchange };
  }

  /** Blocks for the response head; the response and body handles, or ERROR with the detail's tag. */
  private awaitResponse(exchange: number, detailPtr: number | undefined, respOut: number, bodyOut: number): number {
    const ex = this.options.net!.waitHead(exchange);
    if (!ex?.head) {
      if (detailPtr !== undefined) this.u32(detailPtr, ex?.error?.tag ?? 22);
      this.options.log(`fastly emulator: backend request failed: ${ex?.error?.message ?? 'unknown error'}`);
      this.options.net!.cancel(exchange);
      return Status.ERROR;
    }
    if (detailPtr !== undefined) this.u32(detailPtr, SEND_OK);
    this.u32(respOut, this.add({ kind: 'response', status: ex.head.status, version: HTTP_11, headers: ex.head.headers.map(([k, v]) => [k, v]) }));
    this.u32(bodyOut, this.add({ kind: 'body', buf: new Uint8Array(0), length: 0, readAt: 0, stream: exchange }));
    return Status.OK;
  }

  /** Is the handle ready for I/O (fastly_async_io): a pending request with its head, a body with data? */
  private ready(h: number): boolean {
    const e = this.handles.get(h >>> 0);
    if (e?.kind === 'pending') return this.options.net!.headReady(e.exchange);
    if (e?.kind === 'body' && e.stream !== undefined) return e.readAt < e.length || this.options.net!.bodyReady(e.stream);
    return true;
  }

  private backendCalls(): Record<string, (...a: any[]) => number> {
    const sendAsync = (h: number, b: number, name: number, nameLen: number, pendingOut: number) => {
      const started = this.startSend(h, b, name, nameLen);
      if ('status' in started) return started.status;
      this.u32(pendingOut, this.add({ kind: 'pending', exchange: started.exchange }));
      return Status.OK;
    };
    const send = (h: number, b: number, name: number, nameLen: number, detail: number | undefined, respOut: number, bodyOut: number) => {
      const started = this.startSend(h, b, name, nameLen);
      if ('status' in started) return started.status;
      return this.awaitResponse(started.exchange, detail, respOut, bodyOut);
    };
    const wait = (p: number, detail: number | undefined, respOut: number, bodyOut: number) => {
      const pending = this.get(p, 'pending');
      if (!pending) return Status.BADF;
      this.handles.delete(p >>> 0);
      return this.awaitResponse(pending.exchange, detail, respOut, bodyOut);
    };
    return {
      register_dynamic_backend: (n: number, nl: number, t: number, tl: number, mask: number, cfg: number) => this.registerBackend(n, nl, t, tl, mask, cfg),
      send_async: sendAsync,
      send_async_v2: (h: number, b: number, name: number, nameLen: number, _streaming: number, pendingOut: number) => sendAsync(h, b, name, nameLen, pendingOut),
      send_async_streaming: sendAsync,
      send: (h: number, b: number, name: number, nameLen: number, respOut: number, bodyOut: number) => send(h, b, name, nameLen, undefined, respOut, bodyOut),
      send_v2: (h: number, b: number, name: number, nameLen: number, detail: number, respOut: number, bodyOut: number) => send(h, b, name, nameLen, detail, respOut, bodyOut),
      send_v3: (h: number, b: number, name: number, nameLen: number, detail: number, respOut: number, bodyOut: number) => send(h, b, name, nameLen, detail, respOut, bodyOut),
      pending_req_wait: (p: number, respOut: number, bodyOut: number) => wait(p, undefined, respOut, bodyOut),
      pending_req_wait_v2: (p: number, detail: number, respOut: number, bodyOut: number) => wait(p, detail, respOut, bodyOut),
    };
  }

  private secretStoreCalls(): Record<string, (...a: any[]) => number> {
    return {
      open: (name: number, len: number, out: number) => {
        const entries = this.options.secretStores?.[this.str(name, len)];
        if (!entries) return Status.NONE;
        this.u32(out, this.add({ kind: 'secret_store', entries }));
        return Status.OK;
      },
      get: (store: number, key: number, len: number, out: number) => {
        const s = this.get(store, 'secret_store');
        if (!s) return Status.BADF;
        const value = s.entries[this.str(key, len)];
        if (value === undefined) return Status.NONE;
        this.u32(out, this.add({ kind: 'secret', value: encoder.encode(value) }));
        return Status.OK;
      },
      plaintext: (secret: number, buf: number, len: number, nwOut: number) => {
        const s = this.get(secret, 'secret');
        return s ? this.out(s.value, buf, len, nwOut) : Status.BADF;
      },
      from_bytes: (buf: number, len: number, out: number) => {
        this.u32(out, this.add({ kind: 'secret', value: this.bytes(buf, len).slice() }));
        return Status.OK;
      },
    };
  }

  // ------------------------------------------------------------ KV stores

  /** A store's answer, which must be synchronous here (a promise is a host bug: internal_error). */
  private kvSync<T>(value: T | Promise<unknown>): T {
    if (typeof (value as Promise<unknown>)?.then === 'function') throw new Error('the emulator\'s KV store answered asynchronously');
    return value as T;
  }

  /** Runs one KV operation now; the pending handle keeps its outcome for the *_wait call. */
  private kvBegin(op: KvPendingEntry['op'], out: number, run: () => Omit<KvPendingEntry, 'kind' | 'op'>): number {
    let outcome: Omit<KvPendingEntry, 'kind' | 'op'>;
    try {
      outcome = run();
    } catch (error) {
      // A cursor the store did not issue is the client's fault; anything else is the store's.
      const code = (error as { code?: number }).code === 3 ? KvError.BAD_REQUEST : KvError.INTERNAL_ERROR;
      this.options.log(`fastly emulator: KV ${op} failed: ${(error as Error).message}`);
      outcome = { error: code };
    }
    this.u32(out, this.add({ kind: 'kv_pending', op, ...outcome }));
    return Status.OK;
  }

  private kvTake(h: number, op: KvPendingEntry['op']): KvPendingEntry | undefined {
    const pending = this.get(h, 'kv_pending');
    if (!pending || pending.op !== op) return undefined;
    this.handles.delete(h >>> 0);
    return pending;
  }

  /** The key argument, or undefined when Fastly would refuse it ($inval, as Viceroy answers). */
  private kvKey(ptr: number, len: number): string | undefined {
    let key: string;
    try {
      key = new TextDecoder('utf-8', { fatal: true }).decode(this.bytes(ptr, len));
    } catch {
      return undefined;
    }
    const problem = fastlyKeyProblem(key);
    if (problem) {
      this.options.log(`fastly emulator: KV key refused: ${problem}`);
      return undefined;
    }
    return key;
  }

  private kvStoreCalls(): Record<string, (...a: any[]) => number> {
    const store = (h: number) => this.get(h, 'kv_store');
    return {
      open: (name: number, len: number, out: number) => {
        const linkName = this.str(name, len);
        const found = this.options.kvStores?.[linkName];
        // Viceroy: an unknown store is $inval.
        if (!found) return Status.INVAL;
        this.u32(out, this.add({ kind: 'kv_store', name: linkName, store: found }));
        return Status.OK;
      },
      lookup: (h: number, keyPtr: number, keyLen: number, _mask: number, _config: number, out: number) => {
        const s = store(h);
        if (!s) return Status.BADF;
        const key = this.kvKey(keyPtr, keyLen);
        if (key === undefined) return Status.INVAL;
        return this.kvBegin('lookup', out, () => {
          const value = this.kvSync(s.store.get(key));
          return value ? { error: KvError.OK, body: value } : { error: KvError.NOT_FOUND };
        });
      },
      lookup_wait_v2: (h: number, bodyOut: number, _meta: number, _metaLen: number, nwOut: number, genOut: number, errOut: number) => {
        const pending = this.kvTake(h, 'lookup');
        if (!pending) return Status.BADF;
        this.u32(errOut, pending.error);
        if (pending.error !== KvError.OK) return Status.OK;
        const body = pending.body!;
        this.u32(bodyOut, this.add({ kind: 'body', buf: body, length: body.length, readAt: 0, knownLength: body.length }));
        this.u32(nwOut, 0);
        this.view().setBigUint64(genOut >>> 0, 0n, true);
        return Status.OK;
      },
      insert: (h: number, keyPtr: number, keyLen: number, bodyHandle: number, mask: number, config: number, out: number) => {
        const s = store(h);
        const bd = this.get(bodyHandle, 'body');
        if (!s || !bd) return Status.BADF;
        const key = this.kvKey(keyPtr, keyLen);
        if (key === undefined) return Status.INVAL;
        if (!this.materialize(bd)) return Status.ERROR;
        const value = bd.buf.slice(bd.readAt, bd.length);
        // The body is consumed by the insert.
        this.handles.delete(bodyHandle >>> 0);
        const ttl = (mask & KV_INSERT_TTL) !== 0 ? this.view().getUint32((config >>> 0) + 16, true) : 0;
        return this.kvBegin('insert', out, () => {
          if (value.length > KV_MAX_VALUE) return { error: KvError.PAYLOAD_TOO_LARGE };
          this.kvSync(s.store.set(key, value, ttl));
          return { error: KvError.OK };
        });
      },
      insert_wait: (h: number, errOut: number) => {
        const pending = this.kvTake(h, 'insert');
        if (!pending) return Status.BADF;
        this.u32(errOut, pending.error);
        return Status.OK;
      },
      delete: (h: number, keyPtr: number, keyLen: number, _mask: number, _config: number, out: number) => {
        const s = store(h);
        if (!s) return Status.BADF;
        const key = this.kvKey(keyPtr, keyLen);
        if (key === undefined) return Status.INVAL;
        return this.kvBegin('delete', out, () => {
          this.kvSync(s.store.delete(key));
          return { error: KvError.OK };
        });
      },
      delete_wait: (h: number, errOut: number) => {
        const pending = this.kvTake(h, 'delete');
        if (!pending) return Status.BADF;
        this.u32(errOut, pending.error);
        return Status.OK;
      },
      list: (h: number, mask: number, config: number, out: number) => {
        const s = store(h);
        if (!s) return Status.BADF;
        const view = this.view();
        const at = config >>> 0;
        const field = (flag: number, ptrAt: number, lenAt: number): string | undefined | null => {
          if ((mask & flag) === 0) return undefined;
          const len = view.getUint32(at + lenAt, true);
          // Viceroy: a flag set with an empty string is $inval.
          if (len === 0) return null;
          return this.str(view.getUint32(at + ptrAt, true), len);
        };
        const cursor = field(KV_LIST.cursor, 4, 8);
        const prefix = field(KV_LIST.prefix, 16, 20);
        if (cursor === null || prefix === null) return Status.INVAL;
        const limit = (mask & KV_LIST.limit) !== 0 ? view.getUint32(at + 12, true) : 1000;
        return this.kvBegin('list', out, () => {
          const page = this.kvSync(s.store.list(prefix ?? '', cursor, limit));
          // The shape of Fastly's list answer (and Viceroy's): data, then meta.
          const meta: Record<string, unknown> = { limit };
          if (prefix !== undefined) meta.prefix = prefix;
          if (page.cursor) meta.next_cursor = page.cursor;
          return { error: KvError.OK, body: encoder.encode(JSON.stringify({ data: page.keys, meta })) };
        });
      },
      list_wait: (h: number, bodyOut: number, errOut: number) => {
        const pending = this.kvTake(h, 'list');
        if (!pending) return Status.BADF;
        this.u32(errOut, pending.error);
        if (pending.error !== KvError.OK) return Status.OK;
        const body = pending.body!;
        this.u32(bodyOut, this.add({ kind: 'body', buf: body, length: body.length, readAt: 0, knownLength: body.length }));
        return Status.OK;
      },
    };
  }

  private stub(module: string, name: string, type: FuncType | undefined): (...a: unknown[]) => unknown {
    const result = type?.results[0];
    return () => {
      const full = `${module}.${name}`;
      if (!this.unsupportedSeen.has(full)) {
        this.unsupportedSeen.add(full);
        this.unsupported.push(full);
        this.options.log(`fastly emulator: ${full} is not emulated (answered $unsupported)`);
      }
      if (result === 'i64') return BigInt(Status.UNSUPPORTED);
      if (result === undefined) return undefined;
      return Status.UNSUPPORTED;
    };
  }

  /**
   * The `fastly_*` imports of a module: the emulated hostcalls, and a logging stub for
   * each one that is not emulated. (WASI imports are the caller's: see run.ts.)
   */
  imports(moduleImports: ImportEntry[]): Record<string, Record<string, (...a: any[]) => unknown>> {
    const impl = this.implemented();
    const out: Record<string, Record<string, (...a: any[]) => unknown>> = {};
    for (const imp of moduleImports) {
      if (!imp.module.startsWith('fastly_') || imp.kind !== 'function') continue;
      const fn = impl[imp.module]?.[imp.name] ?? this.stub(imp.module, imp.name, imp.type);
      (out[imp.module] ??= {})[imp.name] = fn;
    }
    return out;
  }
}
