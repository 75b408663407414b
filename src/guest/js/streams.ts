/**
 * The Streams Standard from web-streams-polyfill (a port of the WHATWG reference
 * implementation: byte streams, BYOB readers, pipes, tee, queuing strategies), plus
 * TextEncoderStream/TextDecoderStream on the runtime's TextEncoder/TextDecoder, and the
 * hooks that make Request/Response bodies real streams (`.body`, a ReadableStream body,
 * a streamed response written as it is produced).
 */
import {
  ByteLengthQueuingStrategy,
  CountQueuingStrategy,
  ReadableByteStreamController,
  ReadableStream,
  ReadableStreamBYOBReader,
  ReadableStreamBYOBRequest,
  ReadableStreamDefaultController,
  ReadableStreamDefaultReader,
  TransformStream,
  TransformStreamDefaultController,
  WritableStream,
  WritableStreamDefaultController,
  WritableStreamDefaultWriter,
} from 'web-streams-polyfill';
import { TextDecoder, utf8Encode } from './encoding.js';
import { hooks, type ChunkReader } from './hooks.js';
import { defineGlobals } from './install.js';

/** A body chunk as bytes: Uint8Array, or any ArrayBuffer(View); anything else is the stream's fault. */
function chunkBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw new TypeError(`a body stream must deliver Uint8Array chunks, got ${value === null ? 'null' : typeof value}`);
}

/** Bytes arriving through a ChunkReader as a byte stream (so BYOB readers work on response.body). */
function fromReader(read: ChunkReader, cancel?: (reason: unknown) => void): ReadableStream<Uint8Array> {
  return new ReadableStream({
    type: 'bytes',
    async pull(controller: ReadableByteStreamController) {
      const chunk = await read();
      if (chunk === null) {
        controller.close();
        controller.byobRequest?.respond(0);
      } else if (chunk.length) controller.enqueue(chunk);
    },
    cancel,
  });
}

function reader(stream: unknown): ChunkReader {
  const r = (stream as ReadableStream).getReader();
  return async () => {
    const { done, value } = await r.read();
    if (done) {
      r.releaseLock();
      return null;
    }
    try {
      return chunkBytes(value);
    } catch (error) {
      void r.cancel(error);
      throw error;
    }
  };
}

hooks.streams = {
  isReadableStream: (value) => value instanceof ReadableStream,
  fromReader,
  reader,
  tee: (stream) => (stream as ReadableStream).tee(),
  // The polyfill keeps the standard's [[disturbed]] slot as `_disturbed`.
  isDisturbed: (stream) => (stream as { _disturbed?: boolean })._disturbed === true,
  isLocked: (stream) => (stream as ReadableStream).locked,
};

/** The Streams Standard's GenericTransformStream: a readable and a writable side around a TransformStream. */
export class GenericTransformStream<I, O> {
  readonly #transform: TransformStream<I, O>;

  constructor(transform: TransformStream<I, O>) {
    this.#transform = transform;
  }

  get readable(): ReadableStream<O> {
    return this.#transform.readable;
  }

  get writable(): WritableStream<I> {
    return this.#transform.writable;
  }
}

/** Strings in, UTF-8 out; a surrogate pair split across two chunks stays one character. */
class TextEncoderStream extends GenericTransformStream<string, Uint8Array> {
  constructor() {
    let pending = '';
    super(new TransformStream<string, Uint8Array>({
      transform(chunk, controller) {
        let text = pending + String(chunk);
        pending = '';
        const last = text.charCodeAt(text.length - 1);
        if (last >= 0xd800 && last <= 0xdbff) {
          pending = text.slice(-1);
          text = text.slice(0, -1);
        }
        if (text) controller.enqueue(utf8Encode(text));
      },
      flush(controller) {
        if (pending) controller.enqueue(utf8Encode('\ufffd'));
      },
    }));
  }

  get encoding(): string {
    return 'utf-8';
  }

  get [Symbol.toStringTag](): string {
    return 'TextEncoderStream';
  }
}

/** Bytes in, text out, through a streaming TextDecoder (any encoding TextDecoder knows). */
class TextDecoderStream extends GenericTransformStream<BufferSource, string> {
  readonly #decoder: TextDecoder;

  constructor(label = 'utf-8', options: { fatal?: boolean; ignoreBOM?: boolean } = {}) {
    const decoder = new TextDecoder(label, options);
    super(new TransformStream<BufferSource, string>({
      transform(chunk, controller) {
        const text = decoder.decode(chunkBytes(chunk), { stream: true });
        if (text) controller.enqueue(text);
      },
      flush(controller) {
        const text = decoder.decode();
        if (text) controller.enqueue(text);
      },
    }));
    this.#decoder = decoder;
  }

  get encoding(): string {
    return this.#decoder.encoding;
  }

  get fatal(): boolean {
    return this.#decoder.fatal;
  }

  get ignoreBOM(): boolean {
    return this.#decoder.ignoreBOM;
  }

  get [Symbol.toStringTag](): string {
    return 'TextDecoderStream';
  }
}

defineGlobals({
  ReadableStream,
  ReadableStreamDefaultReader,
  ReadableStreamBYOBReader,
  ReadableStreamBYOBRequest,
  ReadableByteStreamController,
  ReadableStreamDefaultController,
  WritableStream,
  WritableStreamDefaultWriter,
  WritableStreamDefaultController,
  TransformStream,
  TransformStreamDefaultController,
  ByteLengthQueuingStrategy,
  CountQueuingStrategy,
  TextEncoderStream,
  TextDecoderStream,
});
