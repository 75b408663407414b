/**
 * Which optional runtime modules a function gets. The user's script and its npm imports are
 * bundled once on their own and scanned: a module lands in the function only when that code
 * names what it provides (e.g. `ReadableStream`, `.body`, `subtle`, 'ECDSA'), so a function
 * that uses none of them pays nothing for them (the http template: not one of them).
 * A name reached only dynamically (globalThis['Readable' + 'Stream']) is not seen: the error
 * then says to name it once in the code.
 */

export interface Feature {
  /** Guest runtime module path below src/guest/js/, without extension. */
  module: string;
  /** Code that needs it. */
  trigger: RegExp;
  /** Features it builds on (always imported before it). */
  needs?: string[];
  /** Only with this feature (e.g. an algorithm of crypto.subtle only with subtle itself). */
  within?: string;
}

const STREAM_CLASSES =
  'ReadableStream|WritableStream|TransformStream|ByteLengthQueuingStrategy|CountQueuingStrategy|ReadableStreamDefaultReader|' +
  'ReadableStreamBYOBReader|ReadableStreamBYOBRequest|ReadableByteStreamController|ReadableStreamDefaultController|' +
  'WritableStreamDefaultWriter|WritableStreamDefaultController|TransformStreamDefaultController|TextEncoderStream|TextDecoderStream';

/** A quoted Encoding Standard label of UTF-16, a single-byte encoding or x-user-defined (e.g. 'latin1', "utf-16le"). */
const LEGACY_LABEL =
  /["'`](utf-?16(le|be)?|ucs-2|unicode(fffe|feff)?|csunicode|iso-?10646-ucs-2|latin[1-6]?|l[1-9]|ascii|us-ascii|ansi_x3\.4-1968|(cs)?iso-?8859-?\d+(-i|-e)?|iso_8859-\d+(:\d+)?|iso-ir-\d+|(x-)?cp12\d\d|cp8[0-9]{2}|windows-(12\d\d|874)|koi8(-[rtu]|_r)?|cskoi8r|koi|(cs)?(x-)?mac(intosh|cyrillic|-cyrillic)|ibm8(19|66)|866|csibm866|x-user-defined|tis-620|dos-874|cyrillic|arabic|greek8?|hebrew|visual|logical|ecma-11[48]|elot_928|asmo-708|csisolatin\w+|csisolatin|cyrillic|sun_eu_greek|x-cp12\d\d)["'`]/i;

/** In import order: a feature's `needs` come before it. */
export const FEATURES: Feature[] = [
  { module: 'events', trigger: /\b(Event|EventTarget|CustomEvent|AbortController|AbortSignal)\b|\.signal\b|[{,]\s*signal\s*[,}:]/ },
  { module: 'streams', trigger: new RegExp(`\\b(${STREAM_CLASSES}|getReader|pipeTo|pipeThrough)\\b|\\.body\\b|\\.stream\\b|[{,]\\s*body\\s*[,}]|\\[\\s*["'\`]body["'\`]\\s*\\]`) },
  { module: 'compression', trigger: /\b(CompressionStream|DecompressionStream)\b/, needs: ['streams'] },
  // TextDecoder for UTF-16 and the single-byte encodings: only when a label other than UTF-8's is written out.
  { module: 'legacy-encodings', trigger: LEGACY_LABEL },
  { module: 'blob', trigger: /\b(Blob|File|FormData)\b|\.blob\b|\.formData\b/ },
  { module: 'form-data', trigger: /\bFormData\b|\.formData\b/, needs: ['blob'] },
  { module: 'structured-clone', trigger: /\bstructuredClone\b/ },
  { module: 'messaging', trigger: /\b(MessageChannel|MessagePort)\b/, needs: ['events', 'structured-clone'] },
  { module: 'urlpattern', trigger: /\bURLPattern\b/ },
  { module: 'subtle/index', trigger: /\b(subtle|SubtleCrypto|CryptoKey)\b/ },
  { module: 'subtle/aes', trigger: /aes-(gcm|cbc|ctr|kw)/i, within: 'subtle/index' },
  { module: 'subtle/ec', trigger: /\b(ecdsa|ecdh)\b|p-(256|384|521)/i, within: 'subtle/index' },
  { module: 'subtle/okp', trigger: /ed25519|x25519/i, within: 'subtle/index' },
  { module: 'subtle/rsa', trigger: /rsassa-pkcs1-v1_5|rsa-pss|rsa-oaep/i, within: 'subtle/index' },
  { module: 'subtle/kdf', trigger: /pbkdf2|hkdf/i, within: 'subtle/index' },
];

/** The runtime modules `code` needs, in import order (a feature's `needs` before it). */
export function featuresFor(code: string): string[] {
  const chosen = new Set<string>();
  const add = (name: string) => {
    const feature = FEATURES.find((f) => f.module === name)!;
    for (const need of feature.needs ?? []) add(need);
    chosen.add(name);
  };
  for (const feature of FEATURES) {
    if (feature.within && !chosen.has(feature.within)) continue;
    if (feature.trigger.test(code)) add(feature.module);
  }
  return FEATURES.map((f) => f.module).filter((m) => chosen.has(m));
}
