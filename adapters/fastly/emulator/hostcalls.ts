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
 * No node:* imports: the same host could run in any JavaScript engine.
 */
import type { FuncType, ImportEntry } from '../../../src/runtime/wasm-imports.js';

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
}

interface EndpointEntry {
  kind: 'endpoint';
  name: string;
}

type Entry = RequestEntry | ResponseEntry | BodyEntry | EndpointEntry;

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
      cache_override_set: (h: number) => (req(h) ? Status.OK : Status.BADF),
      cache_override_v2_set: (h: number) => (req(h) ? Status.OK : Status.BADF),
      auto_decompress_response_set: (h: number) => (req(h) ? Status.OK : Status.BADF),
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
        this.bodyAppend(d, s.buf.subarray(s.readAt, s.length));
        this.handles.delete(src >>> 0);
        return Status.OK;
      },
      close: (h: number) => (body(h) && this.handles.delete(h >>> 0) ? Status.OK : Status.BADF),
      abandon: (h: number) => (body(h) && this.handles.delete(h >>> 0) ? Status.OK : Status.BADF),
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
        // Everything here is in memory: every handle is ready at once.
        select: (_handles: number, count: number, _timeout: number, out: number) => {
          this.u32(out, count > 0 ? 0 : 0xffffffff);
          return Status.OK;
        },
        is_ready: (_h: number, out: number) => {
          this.u32(out, 1);
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
        // No backends are configured in the emulator.
        exists: (_name: number, _len: number, out: number) => {
          this.u32(out, 0);
          return Status.OK;
        },
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
