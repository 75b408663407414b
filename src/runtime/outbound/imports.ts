/**
 * The `wfn_http_v1` import object over a host's `perform(request) -> response | error`:
 * everything of the API except the network. It reads and checks the guest's arguments
 * (bounds, method, URL, header lines, the allow list, the per-invocation call limit), keeps
 * the response handles and writes results back into the guest's memory. Errors are codes,
 * never traps. One OutboundHost per invocation, like WasiHost.
 *
 * `perform` may block (Node: Atomics.wait while another thread fetches) or return a promise
 * (a JSPI host wraps `send` in WebAssembly.Suspending); `send` then returns a promise too.
 */
import { FOLLOW_REDIRECTS, OUTBOUND_ERROR, RESERVED_FLAGS, TIMEOUT_SHIFT, OUTBOUND_MODULE, type OutboundError, type OutboundRequest, type OutboundResponse, type OutboundResult, type OutboundSettings } from './abi.js';
import { decodeHeaderLines, encodeHeaderLines, HeaderLineError, withoutHostOwnedHeaders } from './header-lines.js';
import { outboundErrors, outboundLogLine } from './messages.js';
import { checkOutboundUrl, originOf, OutboundPolicy } from './policy.js';

export interface OutboundHostOptions {
  settings: OutboundSettings;
  perform(request: OutboundRequest): OutboundResult | Promise<OutboundResult>;
  /** One line per failed call (the function's log). */
  log(line: string): void;
  /** The parsed allow list, when the caller keeps one per function (parsed from settings otherwise). */
  policy?: OutboundPolicy;
}

interface OpenResponse {
  status: number;
  headerBytes: Uint8Array;
  body: Uint8Array;
  offset: number;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Methods fetch refuses. */
const FORBIDDEN_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK']);

class OutOfBounds extends Error {}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

type Fn = (...args: number[]) => number | Promise<number>;

export class OutboundHost {
  private memory: WebAssembly.Memory | undefined;
  private readonly policy: OutboundPolicy;
  private readonly open = new Map<number, OpenResponse>();
  private nextHandle = 1;
  private calls = 0;
  private lastError = '';
  readonly imports: { [OUTBOUND_MODULE]: Record<string, Fn> };

  constructor(private readonly options: OutboundHostOptions) {
    this.policy = options.policy ?? new OutboundPolicy(options.settings.allow);
    this.imports = {
      [OUTBOUND_MODULE]: {
        send: (...a) => this.guard(() => this.send(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9])),
        status: (handle, out) => this.guard(() => this.withHandle(handle, (r) => this.writeU32(out, r.status))),
        headers: (handle, ptr, len, out) => this.guard(() => this.withHandle(handle, (r) => this.writeSized(r.headerBytes, ptr, len, out))),
        body_read: (handle, ptr, len, out) => this.guard(() => this.withHandle(handle, (r) => this.readBody(r, ptr, len, out))),
        close: (handle) => this.guard(() => this.withHandle(handle, () => (this.open.delete(handle), OUTBOUND_ERROR.OK))),
        error_message: (ptr, len, out) => this.guard(() => this.writeSized(utf8Encoder.encode(this.lastError), ptr, len, out)),
      },
    };
  }

  bind(memory: WebAssembly.Memory): void {
    this.memory = memory;
  }

  /** Frees every response still open (the invocation ended). */
  close(): void {
    this.open.clear();
  }

  /** Calls made so far in this invocation. */
  get callCount(): number {
    return this.calls;
  }

  private bytes(): Uint8Array {
    if (!this.memory) throw new Error('OutboundHost: memory not bound (call bind() after instantiation)');
    return new Uint8Array(this.memory.buffer);
  }

  private slice(ptr: number, len: number): Uint8Array {
    const mem = this.bytes();
    const start = ptr >>> 0;
    const end = start + (len >>> 0);
    if (end > mem.length) throw new OutOfBounds();
    return mem.subarray(start, end);
  }

  private writeU32(ptr: number, value: number): number {
    const at = this.slice(ptr, 4);
    new DataView(at.buffer, at.byteOffset, 4).setUint32(0, value, true);
    return OUTBOUND_ERROR.OK;
  }

  /** Out-of-bounds pointers become INVALID, never a trap; a failing promise becomes FAILED. */
  private guard(call: () => number | Promise<number>): number | Promise<number> {
    try {
      return call();
    } catch (error) {
      if (error instanceof OutOfBounds) return this.fail(outboundErrors.invalid('a pointer or length is outside the module\'s memory'), false);
      throw error;
    }
  }

  private fail(error: OutboundError, log = true): number {
    this.lastError = error.message;
    if (log) this.options.log(outboundLogLine(error));
    return error.code;
  }

  private withHandle(handle: number, use: (response: OpenResponse) => number): number {
    const response = this.open.get(handle);
    if (!response) return this.fail({ code: OUTBOUND_ERROR.BAD_HANDLE, message: `outbound response handle ${handle >>> 0} is not open` }, false);
    return use(response);
  }

  /** Writes `data` when it fits; else BUFFER_TOO_SMALL with the size needed. Always writes the size. */
  private writeSized(data: Uint8Array, ptr: number, len: number, out: number): number {
    this.slice(out, 4);
    if (data.length > len >>> 0) {
      this.writeU32(out, data.length);
      return OUTBOUND_ERROR.BUFFER_TOO_SMALL;
    }
    this.slice(ptr, len).set(data);
    return this.writeU32(out, data.length);
  }

  private readBody(response: OpenResponse, ptr: number, len: number, out: number): number {
    const target = this.slice(ptr, len);
    this.slice(out, 4);
    const chunk = response.body.subarray(response.offset, response.offset + target.length);
    target.set(chunk);
    response.offset += chunk.length;
    return this.writeU32(out, chunk.length);
  }

  private send(
    methodPtr: number, methodLen: number, urlPtr: number, urlLen: number, headersPtr: number, headersLen: number,
    bodyPtr: number, bodyLen: number, flags: number, handleOut: number,
  ): number | Promise<number> {
    const request = this.decodeRequest(methodPtr, methodLen, urlPtr, urlLen, headersPtr, headersLen, bodyPtr, bodyLen, flags, handleOut);
    if ('code' in request) return this.fail(request);
    const result = this.options.perform(request);
    const finish = (done: OutboundResult): number => {
      if ('error' in done) return this.fail(done.error);
      return this.store(done.response, handleOut);
    };
    return isPromise(result) ? result.then(finish, (error: unknown) => this.fail(outboundErrors.failed(originOf(new URL(request.url)), String(error)))) : finish(result);
  }

  private decodeRequest(
    methodPtr: number, methodLen: number, urlPtr: number, urlLen: number, headersPtr: number, headersLen: number,
    bodyPtr: number, bodyLen: number, flags: number, handleOut: number,
  ): OutboundRequest | OutboundError {
    this.slice(handleOut, 4);
    if (++this.calls > this.options.settings.maxCalls) return outboundErrors.limit(this.options.settings.maxCalls);
    if ((flags & RESERVED_FLAGS) !== 0) return outboundErrors.invalid(`reserved flag bits are set (0x${(flags >>> 0).toString(16)})`);
    let method: string;
    let urlText: string;
    try {
      method = utf8.decode(this.slice(methodPtr, methodLen));
      urlText = utf8.decode(this.slice(urlPtr, urlLen));
    } catch (error) {
      if (error instanceof OutOfBounds) throw error;
      return outboundErrors.invalid('the method and URL must be UTF-8');
    }
    if (!TOKEN.test(method)) return outboundErrors.invalid(`"${method.slice(0, 40)}" is not an HTTP method`);
    if (FORBIDDEN_METHODS.has(method.toUpperCase())) return outboundErrors.invalid(`the method ${method} is not supported`);
    const url = checkOutboundUrl(urlText);
    if (typeof url === 'string') return outboundErrors.invalid(url);
    if (!this.policy.allows(url)) return outboundErrors.denied(originOf(url));
    let headers: [string, string][];
    try {
      headers = withoutHostOwnedHeaders(decodeHeaderLines(this.slice(headersPtr, headersLen)));
    } catch (error) {
      if (error instanceof HeaderLineError) return outboundErrors.invalid(error.message);
      throw error;
    }
    const body = this.slice(bodyPtr, bodyLen).slice();
    const upper = method.toUpperCase();
    if (body.length > 0 && (upper === 'GET' || upper === 'HEAD')) return outboundErrors.invalid(`a ${upper} request cannot have a body`);
    const request: OutboundRequest = { method, url: url.href, headers, body, followRedirects: (flags & FOLLOW_REDIRECTS) !== 0 };
    const timeoutMs = flags >>> TIMEOUT_SHIFT;
    if (timeoutMs > 0) request.timeoutMs = timeoutMs;
    return request;
  }

  private store(response: OutboundResponse, handleOut: number): number {
    const handle = this.nextHandle++;
    this.open.set(handle, { status: response.status, headerBytes: encodeHeaderLines(response.headers), body: response.body, offset: 0 });
    return this.writeU32(handleOut, handle);
  }
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as Promise<T>)?.then === 'function';
}
