/**
 * Stands in for whatwg-url's lib/encoding.js (the bundler redirects it here): the same two
 * functions on the runtime's UTF-8 code, so the URL parser needs no TextEncoder global while
 * the runtime's modules are still being evaluated.
 */
import { utf8DecodeKeepBOM, utf8Encode as encode } from './encoding.js';

export function utf8Encode(text: string): Uint8Array {
  return encode(text);
}

export function utf8DecodeWithoutBOM(bytes: Uint8Array): string {
  return utf8DecodeKeepBOM(bytes);
}
