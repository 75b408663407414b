// Outbound HTTP for a wfn function, over wfn's host API wfn_http_v1 (docs/contract.md).
// A call blocks until the response is in; failures come back as an HttpError, never an abort.
// Only origins listed in `[outbound] allow` of wfn.toml can be called.
//
//   const result = send(new Request("GET", "https://api.example.com/v1"));
//   if (result.ok) { const text = result.response!.text(); } else { log(result.error!.message); }

// @ts-ignore: decorator
@external("wfn_http_v1", "send")
declare function hostSend(methodPtr: usize, methodLen: usize, urlPtr: usize, urlLen: usize, headersPtr: usize, headersLen: usize, bodyPtr: usize, bodyLen: usize, flags: u32, handleOut: usize): u32;
// @ts-ignore: decorator
@external("wfn_http_v1", "status")
declare function hostStatus(handle: u32, statusOut: usize): u32;
// @ts-ignore: decorator
@external("wfn_http_v1", "headers")
declare function hostHeaders(handle: u32, bufPtr: usize, bufLen: usize, writtenOut: usize): u32;
// @ts-ignore: decorator
@external("wfn_http_v1", "body_read")
declare function hostBodyRead(handle: u32, bufPtr: usize, bufLen: usize, readOut: usize): u32;
// @ts-ignore: decorator
@external("wfn_http_v1", "close")
declare function hostClose(handle: u32): u32;
// @ts-ignore: decorator
@external("wfn_http_v1", "error_message")
declare function hostErrorMessage(bufPtr: usize, bufLen: usize, writtenOut: usize): u32;

const FOLLOW_REDIRECTS: u32 = 1;
const BUFFER_TOO_SMALL: u32 = 7;

/** The host's error codes. */
export namespace ErrorCode {
  export const DENIED: u32 = 1; // the origin is not in [outbound] allow of wfn.toml
  export const UNREACHABLE: u32 = 2; // DNS, connection refused or reset, TLS
  export const TIMEOUT: u32 = 3; // the per-call timeout ([outbound] timeout_ms) passed
  export const TOO_LARGE: u32 = 4; // the response body is over [outbound] max_response_bytes
  export const INVALID: u32 = 5; // a bad method, URL or header
  export const LIMIT: u32 = 8; // more calls in one request than [outbound] max_calls
  export const FAILED: u32 = 9; // anything else; the message says what
}

export class Header {
  constructor(public name: string, public value: string) {}
}

/** An outbound request. Redirects are followed (up to 20, each hop checked) unless followRedirects is false. */
export class Request {
  headers: Header[] = [];
  body: ArrayBuffer = new ArrayBuffer(0);
  followRedirects: bool = true;
  constructor(public method: string, public url: string) {}

  /** Adds a header (a name may repeat). */
  header(name: string, value: string): Request {
    this.headers.push(new Header(name, value));
    return this;
  }
}

/** The upstream's answer: headers have lower-case names, repeated names kept. */
export class Response {
  constructor(public status: i32, public headers: Header[], public body: ArrayBuffer) {}

  /** The first value of header `name` (give it in lower case), or null. */
  header(name: string): string | null {
    for (let i = 0; i < this.headers.length; i++) if (this.headers[i].name == name) return this.headers[i].value;
    return null;
  }

  text(): string {
    return String.UTF8.decode(this.body);
  }
}

/** A failed call: its code (ErrorCode) and the host's message, naming the origin and the reason. */
export class HttpError {
  constructor(public code: u32, public message: string) {}
}

export class Result {
  constructor(public response: Response | null, public error: HttpError | null) {}
  get ok(): bool {
    return this.error === null;
  }
}

/** Sends the request and reads the whole response. */
export function send(request: Request): Result {
  let lines = "";
  for (let i = 0; i < request.headers.length; i++) {
    const h = request.headers[i];
    if (h.value.includes("\n") || h.value.includes("\r")) {
      return new Result(null, new HttpError(ErrorCode.INVALID, "outbound request invalid: header \"" + h.name + "\" holds a line break"));
    }
    lines += h.name + ": " + h.value + "\n";
  }
  const method = String.UTF8.encode(request.method);
  const url = String.UTF8.encode(request.url);
  const headers = String.UTF8.encode(lines);
  const out = new ArrayBuffer(4);
  const code = hostSend(
    changetype<usize>(method), method.byteLength, changetype<usize>(url), url.byteLength,
    changetype<usize>(headers), headers.byteLength, changetype<usize>(request.body), request.body.byteLength,
    request.followRedirects ? FOLLOW_REDIRECTS : 0, changetype<usize>(out),
  );
  if (code != 0) return new Result(null, lastError(code));
  const handle = load<u32>(changetype<usize>(out));
  const result = readResponse(handle);
  hostClose(handle);
  return result;
}

function readResponse(handle: u32): Result {
  const out = new ArrayBuffer(4);
  let code = hostStatus(handle, changetype<usize>(out));
  if (code != 0) return new Result(null, lastError(code));
  const status = load<u32>(changetype<usize>(out));
  const raw = readSized(handle, true);
  if (raw.code != 0) return new Result(null, lastError(raw.code));
  const headers: Header[] = [];
  const lines = String.UTF8.decode(raw.bytes).split("\n");
  for (let i = 0; i < lines.length; i++) {
    const colon = lines[i].indexOf(":");
    if (colon > 0) headers.push(new Header(lines[i].substring(0, colon), lines[i].substring(colon + 1).trimStart()));
  }
  let body = new Uint8Array(0);
  const chunk = new ArrayBuffer(65536);
  while (true) {
    code = hostBodyRead(handle, changetype<usize>(chunk), chunk.byteLength, changetype<usize>(out));
    if (code != 0) return new Result(null, lastError(code));
    const n = load<u32>(changetype<usize>(out));
    if (n == 0) break;
    const grown = new Uint8Array(body.length + n);
    grown.set(body, 0);
    grown.set(Uint8Array.wrap(chunk, 0, n), body.length);
    body = grown;
  }
  return new Result(new Response(status, headers, body.buffer), null);
}

class Sized {
  constructor(public code: u32, public bytes: ArrayBuffer) {}
}

/** The response headers (forHeaders) or the last error message, with a bigger buffer on BUFFER_TOO_SMALL. */
function readSized(handle: u32, forHeaders: bool): Sized {
  let buf = new ArrayBuffer(1024);
  const out = new ArrayBuffer(4);
  while (true) {
    const code = forHeaders
      ? hostHeaders(handle, changetype<usize>(buf), buf.byteLength, changetype<usize>(out))
      : hostErrorMessage(changetype<usize>(buf), buf.byteLength, changetype<usize>(out));
    const written = load<u32>(changetype<usize>(out));
    if (code == BUFFER_TOO_SMALL) {
      buf = new ArrayBuffer(written);
      continue;
    }
    return new Sized(code, code == 0 ? buf.slice(0, written) : new ArrayBuffer(0));
  }
}

function lastError(code: u32): HttpError {
  const message = readSized(0, false);
  return new HttpError(code, message.code == 0 ? String.UTF8.decode(message.bytes) : "outbound request failed");
}
