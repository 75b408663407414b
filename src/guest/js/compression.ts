/**
 * CompressionStream and DecompressionStream ("gzip", "deflate" = zlib, "deflate-raw") on
 * fflate's streaming compressors, each inside a TransformStream.
 */
import { Deflate, Gunzip, Gzip, Inflate, Unzlib, Zlib } from 'fflate';
import { TransformStream } from 'web-streams-polyfill';
import { defineGlobals } from './install.js';
import { GenericTransformStream } from './streams.js';

type Format = 'gzip' | 'deflate' | 'deflate-raw';

interface FlateStream {
  ondata: (data: Uint8Array<ArrayBuffer>, final: boolean) => void;
  push(chunk: Uint8Array, final?: boolean): void;
}

type FlateClass = new (...args: never[]) => FlateStream;

const COMPRESSORS: Record<Format, FlateClass> = { gzip: Gzip, deflate: Zlib, 'deflate-raw': Deflate };
const DECOMPRESSORS: Record<Format, FlateClass> = { gzip: Gunzip, deflate: Unzlib, 'deflate-raw': Inflate };

function format(value: unknown, what: string): Format {
  const f = String(value);
  if (f !== 'gzip' && f !== 'deflate' && f !== 'deflate-raw') {
    throw new TypeError(`${what}: unsupported format "${f}" (gzip, deflate or deflate-raw)`);
  }
  return f;
}

function bytesOf(chunk: unknown, what: string): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError(`${what}: chunks must be BufferSource`);
}

/** A TransformStream running bytes through an fflate stream; `checkEnd` rejects a truncated input. */
function flateTransform(flate: FlateStream, what: string, checkEnd: boolean): TransformStream<BufferSource, Uint8Array> {
  let enqueue: (data: Uint8Array) => void = () => {};
  let ended = false;
  flate.ondata = (data, final) => {
    if (data.length) enqueue(data);
    if (final) ended = true;
  };
  const run = (controller: TransformStreamDefaultController<Uint8Array>, step: () => void) => {
    enqueue = (data) => controller.enqueue(data);
    try {
      step();
    } catch (error) {
      throw new TypeError(`${what}: ${(error as Error).message ?? error}`);
    }
  };
  return new TransformStream<BufferSource, Uint8Array>({
    transform(chunk, controller) {
      const bytes = bytesOf(chunk, what);
      if (checkEnd && ended && bytes.length) throw new TypeError(`${what}: data after the end of the compressed stream`);
      run(controller, () => flate.push(bytes.slice(), false));
    },
    flush(controller) {
      if (!ended) run(controller, () => flate.push(new Uint8Array(0), true));
      if (checkEnd && !ended) throw new TypeError(`${what}: the compressed data ends early`);
    },
  });
}

class CompressionStream extends GenericTransformStream<BufferSource, Uint8Array> {
  constructor(kind: Format) {
    super(flateTransform(new (COMPRESSORS[format(kind, 'CompressionStream')] as new () => FlateStream)(), 'CompressionStream', false));
  }

  get [Symbol.toStringTag](): string {
    return 'CompressionStream';
  }
}

class DecompressionStream extends GenericTransformStream<BufferSource, Uint8Array> {
  constructor(kind: Format) {
    super(flateTransform(new (DECOMPRESSORS[format(kind, 'DecompressionStream')] as new () => FlateStream)(), 'DecompressionStream', true));
  }

  get [Symbol.toStringTag](): string {
    return 'DecompressionStream';
  }
}

defineGlobals({ CompressionStream, DecompressionStream });
