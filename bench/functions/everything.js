// Bench function (issue 16): names every optional web API, so its module holds all of them.
export default {
  async fetch(request) {
    const used = [
      ReadableStream, WritableStream, TransformStream, TextEncoderStream, TextDecoderStream, CompressionStream, DecompressionStream,
      Blob, File, FormData, Event, EventTarget, CustomEvent, AbortController, AbortSignal, structuredClone, MessageChannel, URLPattern,
      crypto.subtle, new TextDecoder('windows-1252'), request.body,
      ['AES-GCM', 'ECDSA', 'Ed25519', 'RSASSA-PKCS1-v1_5', 'PBKDF2'],
    ];
    return Response.json({ apis: used.length });
  },
};
