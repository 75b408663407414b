/**
 * Installs the core web-platform globals QuickJS lacks, before the user's module runs
 * (esbuild keeps import order, and the generated entry imports this module first). The
 * optional ones (streams, crypto.subtle, Blob, events...) are modules of their own that the
 * bundler adds only when the function's code names them (features.ts in the toolchain).
 */
import { console } from './console.js';
import { Crypto, crypto, installMathRandom } from './crypto.js';
import { TextDecoder, TextEncoder } from './encoding.js';
import { fetch } from './fetch.js';
import { Headers, Request, Response } from './http.js';
import { defineGlobals } from './install.js';
import { navigator, performance, reportError } from './platform.js';
import { clearInterval, clearTimeout, setInterval, setTimeout } from './timers.js';
import { URL, URLSearchParams } from './url.js';

// Always wfn's own, even where the engine has one: serve.ts recognizes its own Response.
defineGlobals({
  fetch,
  console,
  crypto,
  Crypto,
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
  navigator,
  performance,
  reportError,
});
if (!('self' in globalThis)) Object.defineProperty(globalThis, 'self', { value: globalThis, writable: true, configurable: true });
installMathRandom();
