/**
 * The no-snapshot build (`wfn build --no-snapshot`, `[build] snapshot = false`): the bundle
 * (wfn's runtime + the user's script + its npm imports) is embedded as a string in a tiny
 * loader module, and only the loader is evaluated at build time. Every request (a fresh
 * instance) then parses, compiles and runs the whole script before fetch() is called, as a
 * JavaScript engine without pre-initialization does: the cost the snapshot removes.
 *
 * The bundle is evaluated as the body of an async function (top-level await keeps working,
 * and ES modules are strict code). It has no import or export statements: it reaches the
 * world's host interface through HOST_GLOBAL (see perRequestHostShim) and leaves its
 * `handle` in HANDLE_GLOBAL; the loader sets and clears both around the evaluation.
 */

/** Where the loader puts the host interface's module namespace while the bundle evaluates. */
export const HOST_GLOBAL = '__wfnHost';
/** Where the bundle leaves the world's `handle` export. */
export const HANDLE_GLOBAL = '__wfnHandle';

/** Contents of the module that stands in for `wfn:fn/host` inside the bundle (CommonJS: esbuild reads its names lazily). */
export const perRequestHostShim = `module.exports = globalThis.${HOST_GLOBAL};`;

/** The ES module componentize-qjs pre-initializes instead of the script. A top-level throw becomes a 500 with the error on stderr. */
export function perRequestLoader(bundle: string): string {
  return `import * as host from 'wfn:fn/host';

const SCRIPT = ${JSON.stringify('"use strict";\n' + bundle)};
const INTERNAL_ERROR = 'Status: 500 Internal Server Error\\nContent-Type: text/plain; charset=utf-8\\n\\nInternal Server Error\\n';
// host.utf8Encode needs a well-formed string: lone surrogates become U+FFFD.
const LONE_SURROGATE = /[\\uD800-\\uDBFF](?![\\uDC00-\\uDFFF])|(?<![\\uD800-\\uDBFF])[\\uDC00-\\uDFFF]/g;
const bytes = (text) => host.utf8Encode(text.replace(LONE_SURROGATE, '\\uFFFD'));
const AsyncFunction = (async () => {}).constructor;

let loaded;

async function load() {
  globalThis.${HOST_GLOBAL} = host;
  try {
    await new AsyncFunction(SCRIPT)();
    return globalThis.${HANDLE_GLOBAL};
  } finally {
    delete globalThis.${HOST_GLOBAL};
    delete globalThis.${HANDLE_GLOBAL};
  }
}

export async function handle(env, body) {
  if (!loaded) {
    try {
      loaded = await load();
    } catch (error) {
      const text = error instanceof Error ? String(error) + (error.stack ? '\\n' + error.stack : '') : String(error);
      host.log(bytes('Uncaught (while evaluating the script) ' + text + '\\n'));
      host.fail();
      return bytes(INTERNAL_ERROR);
    }
  }
  return loaded(env, body);
}
`;
}
