/**
 * The [kv] settings as the Fastly adapter carries them (kv.wat's {{KV_*}}): the store names,
 * the API's limits as constants, and the messages' fixed parts, cut out of
 * src/runtime/kv/messages.ts's own sentences so the adapter says what every other host says.
 * They live in a data segment of kv.wat's own (copied into the adapter's memory at start), not
 * among adapter.wat's literals, whose room the outbound fragment mostly takes.
 */
import { MAX_CURSOR_BYTES, MAX_KEY_BYTES, MAX_LIST_LIMIT, MAX_OPERATIONS, MAX_VALUE_BYTES, type KvSettings } from '../../src/runtime/kv/abi.js';
import { keyProblem, kvErrors, kvLogLine } from '../../src/runtime/kv/messages.js';
import { watString } from '../../src/toolchains/wat.js';

const encoder = new TextEncoder();

/** Stands for a variable string part while a message is cut into its fixed parts. */
const SLOT = '@@SLOT@@';
/** Stands for a variable number. */
const NUMBER = 123456789;

function cut(message: string, marker: string | number, count: number): string[] {
  const parts = message.split(String(marker));
  if (parts.length !== count) throw new Error(`kv message "${message}" does not have ${count - 1} variable parts`);
  return parts;
}

/** What follows "the key" in keyProblem's answer for these bytes. */
function afterTheKey(bytes: Uint8Array, key: string | undefined): string {
  const problem = keyProblem(bytes, key);
  if (!problem?.startsWith('the key')) throw new Error(`keyProblem's message changed: ${problem}`);
  return problem.slice('the key'.length);
}

/** The fixed texts kv.wat prints, by name (KV_T_<NAME>). */
export function kvTexts(): Record<string, string> {
  const [deniedPre, deniedPost] = cut(kvErrors.denied(SLOT).message, SLOT, 2);
  const [failedPre, failedMid] = cut(kvErrors.failed(SLOT, SLOT).message, SLOT, 3);
  const [unavailablePre, unavailableMid] = cut(kvErrors.unavailable(SLOT, SLOT).message, SLOT, 3);
  const [tooLargePre, tooLargeRest] = cut(kvErrors.tooLarge(SLOT, NUMBER).message, SLOT, 2);
  const [tooLargeMid, tooLargePost] = cut(tooLargeRest, NUMBER, 2);
  const [badStorePre, badHandlePost] = cut(kvErrors.badHandle('store', NUMBER).message, NUMBER, 2);
  const [badValuePre] = cut(kvErrors.badHandle('value', NUMBER).message, NUMBER, 2);
  const [invalid] = cut(kvErrors.invalid(SLOT).message, SLOT, 2);
  const [limitPre] = cut(kvErrors.limit(SLOT).message, SLOT, 2);
  const [logPrefix] = cut(kvLogLine(kvErrors.invalid(SLOT)), `${invalid}${SLOT}`, 2);
  const long = new Uint8Array(MAX_KEY_BYTES + 1).fill(97);
  const [keyLongPre, keyLongPost] = cut(afterTheKey(long, 'a'.repeat(long.length)), long.length, 2);
  const [keyDotsPre, keyDotsPost] = cut(afterTheKey(Uint8Array.of(46), '.'), '.', 2);
  return {
    LOG_PREFIX: logPrefix,
    NEWLINE: '\n',
    INVALID: invalid,
    POINTER: "a pointer or length is outside the module's memory",
    STORE_NAME: 'the store name is not a name (UTF-8, at most 64 characters)',
    DENIED_PRE: deniedPre,
    DENIED_POST: deniedPost,
    FAILED_PRE: failedPre,
    FAILED_MID: failedMid,
    UNAVAILABLE_PRE: unavailablePre,
    UNAVAILABLE_MID: unavailableMid,
    TOO_LARGE_PRE: tooLargePre,
    TOO_LARGE_MID: tooLargeMid,
    TOO_LARGE_POST: tooLargePost,
    BAD_STORE_PRE: badStorePre,
    BAD_VALUE_PRE: badValuePre,
    BAD_HANDLE_POST: badHandlePost,
    LIMIT_PRE: limitPre,
    LIMIT: kvErrors.limit(`more than ${MAX_OPERATIONS} operations in one invocation`).message,
    THE_KEY: 'the key',
    THE_PREFIX: 'the prefix',
    KEY_EMPTY: afterTheKey(new Uint8Array(0), ''),
    KEY_LONG_PRE: keyLongPre,
    KEY_LONG_POST: keyLongPost,
    KEY_UTF8: afterTheKey(Uint8Array.of(0xff), undefined),
    KEY_NL: afterTheKey(Uint8Array.of(10), '\n'),
    KEY_DOTS_PRE: keyDotsPre,
    KEY_DOTS_POST: keyDotsPost,
    CURSOR: 'the cursor is not one this store issued',
    CURSOR_NEWLINE: 'the store returned a cursor with a newline',
    LIST_LIMIT_PRE: 'the list limit ',
    LIST_LIMIT_POST: ` is larger than ${MAX_LIST_LIMIT}`,
    NOT_FOUND_PRE: 'kv store "',
    NOT_FOUND_POST: '": key not found',
    NOT_LINKED_PRE: 'the Fastly KV store "',
    NOT_LINKED_POST: '" is not linked to this service (wfn deploy --target fastly links it)',
    FASTLY_STATUS: 'Fastly answered (status ',
    FASTLY_KV_ERROR: ', kv_error ',
    FASTLY_KEY: 'Fastly\'s KV store refused the key (on Fastly keys may not contain # ; ? ^ | or a carriage return, nor "./" or "../" segments, nor start with .well-known/acme-challenge)',
    FASTLY_RATE: "Fastly's KV store answered: too many requests",
    FASTLY_INTERNAL: "Fastly's KV store answered an internal error",
    READ_FAILED: "kv call failed: reading the value's body from Fastly failed",
    BAD_PAGE: "Fastly's KV store answered a list page that is not of the documented shape",
    JSON_DATA: 'data',
    JSON_META: 'meta',
    JSON_NEXT_CURSOR: 'next_cursor',
  };
}

/** The {{KV_*}} values of kv.wat for these stores. */
export function kvValues(settings: KvSettings): Record<string, string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const values: Record<string, string> = {};
  const place = (bytes: Uint8Array): { off: number; len: number } => {
    const at = { off: size, len: bytes.length };
    chunks.push(bytes);
    size += bytes.length;
    return at;
  };
  for (const [name, text] of Object.entries(kvTexts())) {
    const { off, len } = place(encoder.encode(text));
    values[`KV_T_${name}`] = `(i32.add (global.get $kv_text) (i32.const ${off})) (i32.const ${len})`;
    values[`KV_T_${name}_OFF`] = `(i32.add (global.get $kv_text) (i32.const ${off}))`;
    values[`KV_T_${name}_LEN`] = `(i32.const ${len})`;
  }
  // The names as [kv] stores lists them, each NUL-terminated (a store's handle is its place + 1).
  const names = place(encoder.encode(settings.stores.map((n) => `${n}\0`).join('')));
  const text = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    text.set(chunk, at);
    at += chunk.length;
  }
  return {
    ...values,
    KV_TEXT: watString(text),
    KV_TEXT_BYTES: String(size),
    KV_TEXT_ROOM: String((size + 7) & ~7),
    KV_NAMES_OFF: String(names.off),
    KV_NAMES_LEN: String(names.len),
    KV_STORE_COUNT: String(settings.stores.length),
    KV_STORES_BYTES: String(settings.stores.length * 8),
    KV_MAX_KEY: String(MAX_KEY_BYTES),
    KV_MAX_VALUE: String(MAX_VALUE_BYTES),
    KV_MAX_OPS: String(MAX_OPERATIONS),
    KV_MAX_CURSOR: String(MAX_CURSOR_BYTES),
  };
}
