/**
 * Installs the web-platform globals QuickJS lacks, before the user's module runs (esbuild
 * keeps import order, and the generated entry imports this module first).
 */
import { AbortController, AbortSignal, DOMException } from './abort.js';
import { console } from './console.js';
import { crypto, installMathRandom } from './crypto.js';
import { TextDecoder, TextEncoder } from './encoding.js';
import { fetch } from './fetch.js';
import { Headers, Request, Response } from './http.js';
import { clearInterval, clearTimeout, setInterval, setTimeout } from './timers.js';
import { URL, URLSearchParams } from './url.js';

const globals: Record<string, unknown> = {
  fetch,
  AbortController,
  AbortSignal,
  console,
  crypto,
  TextEncoder,
  TextDecoder,
  Headers,
  Request,
  Response,
  URL,
  URLSearchParams,
  setTimeout,
  setInterval,
  clearTimeout,
  clearInterval,
};

// Only where the engine has none.
if (!('DOMException' in globalThis)) globals.DOMException = DOMException;

// Always wfn's own, even where the engine has one: serve.ts recognizes its own Response.
for (const [name, value] of Object.entries(globals)) {
  Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
}
if (!('self' in globalThis)) Object.defineProperty(globalThis, 'self', { value: globalThis, writable: true, configurable: true });
installMathRandom();
