/**
 * The world's host interface (host-module.ts WORLD_WIT), as componentize-qjs exposes it to
 * the script: an ES module named after the WIT interface. Implemented on WASI preview1.
 */
declare module 'wfn:fn/host' {
  /** `len` bytes from the host's cryptographically secure source (random_get). */
  export function randomBytes(len: number): Uint8Array;
  /** Writes bytes to stderr (the function's log) at once. */
  export function log(bytes: Uint8Array): void;
  /** Writes bytes to stdout (the CGI response) at once: a streamed body, chunk by chunk. */
  export function writeStdout(bytes: Uint8Array): void;
  /** UTF-8 bytes of a well-formed string (lone surrogates must be replaced first). */
  export function utf8Encode(text: string): Uint8Array;
  /** SHA-256 of the bytes, computed by the host module (WebAssembly, not JavaScript). */
  export function sha256(data: Uint8Array): Uint8Array;
  /** The string for valid UTF-8 bytes; null when they are not valid UTF-8. */
  export function utf8Decode(bytes: Uint8Array): string | null;
  /** The handler failed (an uncaught exception): the run exits with code 1 after its response. */
  export function fail(): void;
  /**
   * Outbound HTTP (wfn_http_v1). Each returns its ok value or throws the API's error code
   * (a number). flags: bit 0 follow redirects, bits 8-31 the call's own timeout in ms.
   */
  export function httpSend(method: string, url: string, headers: Uint8Array, body: Uint8Array, flags: number): number;
  export function httpStatus(handle: number): number;
  export function httpHeaders(handle: number): Uint8Array;
  export function httpBodyRead(handle: number, max: number): Uint8Array;
  export function httpClose(handle: number): void;
  export function httpErrorMessage(): string;
  /** Key-value (wfn_kv_v1): each returns its ok value or throws the API's error code (1: not found). */
  export function kvOpen(name: string): number;
  export function kvGet(store: number, key: string): Uint8Array;
  export function kvSet(store: number, key: string, value: Uint8Array, ttlSeconds: number): void;
  export function kvDelete(store: number, key: string): void;
  /** The next page's cursor line ("" on the last page), then one key per line. */
  export function kvList(store: number, prefix: string, cursor: string, limit: number): Uint8Array;
  export function kvErrorMessage(): string;
  /** Bundled files ([files]): at most `max` bytes from `offset`; throws the WASI errno (44: no such file). */
  export function fileRead(path: string, offset: number, max: number): Uint8Array;
  /** [size, mtime seconds, mtime nanoseconds, WASI file type (3 directory, 4 regular file)]; throws the WASI errno. */
  export function fileStat(path: string): [number, number, number, number];
}
