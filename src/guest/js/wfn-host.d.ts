/**
 * The world's host interface (host-module.ts WORLD_WIT), as componentize-qjs exposes it to
 * the script: an ES module named after the WIT interface. Implemented on WASI preview1.
 */
declare module 'wfn:fn/host' {
  /** `len` bytes from the host's cryptographically secure source (random_get). */
  export function randomBytes(len: number): Uint8Array;
  /** Writes bytes to stderr (the function's log) at once. */
  export function log(bytes: Uint8Array): void;
  /** UTF-8 bytes of a well-formed string (lone surrogates must be replaced first). */
  export function utf8Encode(text: string): Uint8Array;
  /** The string for valid UTF-8 bytes; null when they are not valid UTF-8. */
  export function utf8Decode(bytes: Uint8Array): string | null;
}
