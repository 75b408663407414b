/**
 * Where the optional runtime modules plug into the core (Request/Response, TextDecoder,
 * crypto). The bundler imports a module only when the function's code names what it
 * provides (see features.ts in the toolchain), so the core reaches it through this registry
 * and never imports it: an unused polyfill does not land in the function's module.
 */

/** A body read chunk by chunk (a fetch() response, a streamed request): null at the end. */
export type ChunkReader = () => Promise<Uint8Array | null>;

export interface StreamHooks {
  isReadableStream(value: unknown): boolean;
  /** A ReadableStream of the given chunks' bytes (pulled on demand). */
  fromReader(read: ChunkReader, cancel?: (reason: unknown) => void): unknown;
  /** Chunk reader over a ReadableStream (locks it); chunks must be bytes. */
  reader(stream: unknown): ChunkReader;
  tee(stream: unknown): [unknown, unknown];
  /** Whether the stream was ever read from or cancelled. */
  isDisturbed(stream: unknown): boolean;
  isLocked(stream: unknown): boolean;
}

export interface BlobHooks {
  isBlob(value: unknown): boolean;
  /** The blob's bytes (wfn's blobs live in memory) and its type. */
  contents(blob: unknown): { bytes: Uint8Array; type: string };
  create(bytes: Uint8Array, type: string): unknown;
}

export interface FormDataHooks {
  isFormData(value: unknown): boolean;
  /** multipart/form-data bytes and the Content-Type (with its boundary). */
  serialize(form: unknown): { bytes: Uint8Array; type: string };
  /** A FormData from a body of the given Content-Type (multipart or urlencoded). */
  parse(bytes: Uint8Array, contentType: string): unknown;
}

export interface SignalHooks {
  /** A signal that is never aborted (a request's signal when it has none of its own). */
  neverAborted(): unknown;
  isSignal(value: unknown): boolean;
  /** Milliseconds until a timeout signal aborts (Infinity without a deadline): fetch's call timeout. */
  remainingMs(signal: unknown): number;
}

export interface LegacyDecoder {
  /** The canonical encoding name (e.g. "utf-16le", "windows-1252"). */
  encoding: string;
  decode(bytes: Uint8Array, fatal: boolean, stream: boolean): string;
}

export interface LegacyEncodingHooks {
  /** A (stateful) decoder for an Encoding Standard label other than UTF-8's; null when unknown. */
  decoder(label: string, ignoreBOM: boolean): LegacyDecoder | null;
}

export interface KvHooks {
  /** Adds each `[kv] stores` binding to the function's env (a fresh store handle per request). */
  bind(env: Record<string, unknown>): void;
}

export const hooks: {
  streams?: StreamHooks;
  blob?: BlobHooks;
  formData?: FormDataHooks;
  signal?: SignalHooks;
  legacyEncodings?: LegacyEncodingHooks;
  subtle?: unknown;
  kv?: KvHooks;
} = {};

/** A runtime module this code path needs was left out of the build: say why and how to fix it. */
export function leftOut(what: string, name: string): TypeError {
  return new TypeError(
    `${what} is not in this function: wfn includes ${name} only when the code names it, and it could not be seen ` +
      `(e.g. reached through globalThis[...]). Name it once in the code, e.g. \`void ${name};\``,
  );
}
