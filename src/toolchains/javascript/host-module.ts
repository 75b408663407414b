/**
 * The host module (WebAssembly text) that turns componentize-qjs's core modules into a WASI
 * preview1 command: it implements, on preview1, the few preview2 and component-model
 * imports the QuickJS runtime and the wit-dylib glue use, and exports `_start`, which
 * reads the environment and stdin, calls the world's async `handle` export, drives it to
 * completion and writes the returned CGI bytes to stdout.
 *
 * Every import the host provides is matched by name and checked against the signature the
 * importing module declares, so an engine upgrade that changes one fails the build loudly.
 * Imports without an implementation get a stub that traps with `unreachable` if ever called
 * (they exist in the runtime for code paths a request never takes: filesystem, polling,
 * module loading at init time).
 */
import type { FuncType } from '../../runtime/wasm-imports.js';

/** An import of a merged module that the host module must provide. */
export interface HostImport {
  /** Original (module, name) of the import, e.g. ("wasi:cli/stdout@0.2.0", "get-stdout"). */
  module: string;
  name: string;
  type: FuncType;
  /** The export name the host gives it (imports are renamed to `host.<exportName>`). */
  exportName: string;
}

/** Something the libraries import from the main module; the host imports it once and re-exports it. */
export interface MainImport {
  name: string;
  kind: 'memory' | 'table' | 'global';
  /** Memory/table: the largest minimum any importer declares. */
  minimum?: number;
  global?: { valtype: string; mutable: boolean };
}

export interface HostModuleInput {
  imports: HostImport[];
  /** What the libraries need from main (memory, table, stack pointer, base globals). */
  mainImports: MainImport[];
  /** The merged modules' names of what the host itself imports (wasm-merge resolves them). */
  main: string;
  runtime: string;
  glue: string;
  /** Table slot where the component's fixup module placed the runtime's cabi_realloc. */
  reallocSlot: number;
  /** The glue's export names. */
  exports: { handle: string; callback: string; realloc: string };
  /** The runtime's realloc export name. */
  runtimeRealloc: string;
  /**
   * The function may make outbound calls ([outbound] allow is not empty): the http-* host
   * functions call wfn_http_v1. Otherwise they answer DENIED without importing it, so the
   * module stays a plain preview1 command.
   */
  outbound?: boolean;
  /**
   * The function names key-value stores ([kv] stores is not empty): the kv-* host functions
   * call wfn_kv_v1. Otherwise they answer DENIED without importing it.
   */
  kv?: boolean;
  /**
   * The function has bundled files ([files] in wfn.toml): the file-* host functions read the
   * preopened "/" with WASI calls. Otherwise they answer ENOENT and import nothing.
   */
  files?: boolean;
}

/** Canonical-ABI callback codes (component model async, callback form). */
const CALLBACK_EXIT = 0;
const CALLBACK_YIELD = 1;

/** Lowered signature shorthand: "ii>i" = (i32, i32) -> i32. */
function sig(type: FuncType): string {
  const short = (t: string) => ({ i32: 'i', i64: 'I', f32: 'f', f64: 'F' })[t] ?? '?';
  return type.params.map(short).join('') + '>' + type.results.map(short).join('');
}

interface Impl {
  /** Expected lowered signature (see `sig`). */
  sig: string;
  /** WAT body; parameters are $p0, $p1... */
  body: string;
  locals?: string;
}

/** Strips the "@0.2.0" version from an interface name. */
function unversioned(module: string): string {
  return module.replace(/@[^/]*$/, '');
}

const NOOP: Impl = { sig: '', body: '' };

/** Stores an i32 result discriminant (and nothing else) for `result<_, E>`/`option<T>` returns. */
const storeByte = (param: string, value: number) => `(i32.store8 (local.get ${param}) (i32.const ${value}))`;

/**
 * Implementations by "interface#name" (interface without version). `sig` guards the
 * canonical-ABI lowering we wrote the body against.
 */
const IMPLS: Record<string, Impl> = {
  // stdio handles are the preview1 file descriptors themselves.
  'wasi:cli/stdin#get-stdin': { sig: '>i', body: '(i32.const 0)' },
  'wasi:cli/stdout#get-stdout': { sig: '>i', body: '(i32.const 1)' },
  'wasi:cli/stderr#get-stderr': { sig: '>i', body: '(i32.const 2)' },
  // No terminals: option<own<terminal>> = none.
  'wasi:cli/terminal-stdin#get-terminal-stdin': { sig: 'i>', body: storeByte('$p0', 0) },
  'wasi:cli/terminal-stdout#get-terminal-stdout': { sig: 'i>', body: storeByte('$p0', 0) },
  'wasi:cli/terminal-stderr#get-terminal-stderr': { sig: 'i>', body: storeByte('$p0', 0) },
  // The runtime's own environment is empty: the request's variables reach JavaScript as `handle` arguments.
  'wasi:cli/environment#get-environment': {
    sig: 'i>',
    body: '(i32.store (local.get $p0) (i32.const 0)) (i32.store offset=4 (local.get $p0) (i32.const 0))',
  },
  'wasi:filesystem/preopens#get-directories': {
    sig: 'i>',
    body: '(i32.store (local.get $p0) (i32.const 0)) (i32.store offset=4 (local.get $p0) (i32.const 0))',
  },
  'wasi:cli/exit#exit': { sig: 'i>', body: '(call $proc_exit (i32.ne (local.get $p0) (i32.const 0)))' },
  // check-write: result<u64, stream-error> -> ok(1 MiB): writes never have to wait.
  'wasi:io/streams#[method]output-stream.check-write': {
    sig: 'ii>',
    body: `${storeByte('$p1', 0)} (i64.store offset=8 (local.get $p1) (i64.const 1048576))`,
  },
  // write: result<_, stream-error>; a failed fd_write reports the stream closed.
  'wasi:io/streams#[method]output-stream.write': {
    sig: 'iiii>',
    body: `(if (call $write_all (local.get $p0) (local.get $p1) (local.get $p2))
        (then ${storeByte('$p3', 1)} (i32.store8 offset=4 (local.get $p3) (i32.const 1)))
        (else ${storeByte('$p3', 0)}))`,
  },
  'wasi:io/streams#[method]output-stream.blocking-write-and-flush': {
    sig: 'iiii>',
    body: `(if (call $write_all (local.get $p0) (local.get $p1) (local.get $p2))
        (then ${storeByte('$p3', 1)} (i32.store8 offset=4 (local.get $p3) (i32.const 1)))
        (else ${storeByte('$p3', 0)}))`,
  },
  'wasi:io/streams#[method]output-stream.blocking-flush': { sig: 'ii>', body: storeByte('$p1', 0) },
  'wasi:io/streams#[method]output-stream.flush': { sig: 'ii>', body: storeByte('$p1', 0) },
  'wasi:io/streams#[resource-drop]output-stream': NOOP,
  'wasi:io/streams#[resource-drop]input-stream': NOOP,
  'wasi:io/error#[resource-drop]error': NOOP,
  'wasi:io/poll#[resource-drop]pollable': NOOP,
  'wasi:io/poll#[method]pollable.block': NOOP,
  'wasi:cli/terminal-input#[resource-drop]terminal-input': NOOP,
  'wasi:cli/terminal-output#[resource-drop]terminal-output': NOOP,
  'wasi:filesystem/types#[resource-drop]descriptor': NOOP,
  'wasi:clocks/monotonic-clock#now': {
    sig: '>I',
    locals: '(local $sp i32)',
    body: `(local.set $sp (call $stack_alloc (i32.const 16)))
      (drop (call $clock_time_get (i32.const 1) (i64.const 1) (local.get $sp)))
      (i64.load (local.get $sp))
      (call $stack_free (i32.const 16))`,
  },
  // datetime { seconds: u64, nanoseconds: u32 }
  'wasi:clocks/wall-clock#now': {
    sig: 'i>',
    locals: '(local $sp i32) (local $ns i64)',
    body: `(local.set $sp (call $stack_alloc (i32.const 16)))
      (drop (call $clock_time_get (i32.const 0) (i64.const 1) (local.get $sp)))
      (local.set $ns (i64.load (local.get $sp)))
      (call $stack_free (i32.const 16))
      (i64.store (local.get $p0) (i64.div_u (local.get $ns) (i64.const 1000000000)))
      (i32.store offset=8 (local.get $p0) (i32.wrap_i64 (i64.rem_u (local.get $ns) (i64.const 1000000000))))`,
  },
  // tuple<u64, u64>: fresh per request (QuickJS's own seed is frozen in the snapshot).
  'wasi:random/insecure-seed#insecure-seed': { sig: 'i>', body: '(drop (call $random_get (local.get $p0) (i32.const 16)))' },
  'wasi_snapshot_preview1#reset_adapter_state': NOOP,
  // Component-model async built-ins used by the async runtime. The world imports nothing
  // async, so no subtask, stream or future ever exists: a waitable set stays empty.
  '$root#[context-get-0]': { sig: '>i', body: '(global.get $task_context)' },
  '$root#[context-set-0]': { sig: 'i>', body: '(global.set $task_context (local.get $p0))' },
  '$root#[waitable-set-new]': { sig: '>i', body: '(i32.const 1)' },
  '$root#[waitable-set-drop]': NOOP,
  '$root#[waitable-join]': NOOP,
  // task.return of `handle`: the CGI response, written to stdout as soon as it is known.
  '[export]$root#[task-return]handle': {
    sig: 'ii>',
    body: `(global.set $returned (i32.const 1))
      (drop (call $write_all (i32.const 1) (local.get $p0) (local.get $p1)))`,
  },
  // wfn:fn/host, the world's own imports (see WORLD_WIT).
  'wfn:fn/host#random-bytes': {
    sig: 'ii>',
    locals: '(local $buf i32)',
    body: `(local.set $buf (call $alloc (i32.const 1) (local.get $p0)))
      (drop (call $random_get (local.get $buf) (local.get $p0)))
      (i32.store (local.get $p1) (local.get $buf))
      (i32.store offset=4 (local.get $p1) (local.get $p0))`,
  },
  'wfn:fn/host#log': { sig: 'ii>', body: '(drop (call $write_all (i32.const 2) (local.get $p0) (local.get $p1)))' },
  // An uncaught exception in fetch(): the run ends with exit code 1 once the handler is done,
  // as a Rust panic ends in a trap, so every host counts it as the function's failure.
  'wfn:fn/host#fail': { sig: '>', body: '(global.set $failed (i32.const 1))' },
  // A streamed response body: each chunk reaches stdout when it is produced.
  'wfn:fn/host#write-stdout': { sig: 'ii>', body: '(drop (call $write_all (i32.const 1) (local.get $p0) (local.get $p1)))' },
  // The lowered string is already UTF-8: a copy the caller may own is all TextEncoder needs.
  'wfn:fn/host#utf8-encode': {
    sig: 'iii>',
    body: `(i32.store (local.get $p2) (call $owned_copy (local.get $p0) (local.get $p1)))
      (i32.store offset=4 (local.get $p2) (local.get $p1))`,
  },
  // option<string>: some(copy) when the bytes are valid UTF-8, none otherwise (JavaScript then
  // decodes with replacement characters itself).
  // SHA-256 in WebAssembly (sha256Wat below): ~1000x faster than a JavaScript SHA-256 in QuickJS.
  'wfn:fn/host#sha256': {
    sig: 'iii>',
    locals: '(local $out i32)',
    body: `(local.set $out (call $alloc (i32.const 1) (i32.const 32)))
      (call $sha256 (local.get $p0) (local.get $p1) (local.get $out))
      (i32.store (local.get $p2) (local.get $out))
      (i32.store offset=4 (local.get $p2) (i32.const 32))`,
  },
  'wfn:fn/host#utf8-decode': {
    sig: 'iii>',
    body: `(if (call $utf8_valid (local.get $p0) (local.get $p1))
        (then
          ${storeByte('$p2', 1)}
          (i32.store offset=4 (local.get $p2) (call $owned_copy (local.get $p0) (local.get $p1)))
          (i32.store offset=8 (local.get $p2) (local.get $p1)))
        (else ${storeByte('$p2', 0)}))`,
  },
};

/** A `result<list<u8>, u32>` (or `result<u32, u32>` with `$len` unused) at $ret: ok(ptr, len) or err(code). */
const storeListResult = (ret: string) => `(if (local.get $code)
        (then ${storeByte(ret, 1)} (i32.store offset=4 (local.get ${ret}) (local.get $code)))
        (else ${storeByte(ret, 0)} (i32.store offset=4 (local.get ${ret}) (local.get $buf)) (i32.store offset=8 (local.get ${ret}) (local.get $len))))`;

/**
 * Fills an owned buffer from a wfn_http_v1 function with BUFFER_TOO_SMALL semantics: asks the
 * size with an empty buffer, then allocates exactly that much (lifting takes ownership).
 */
const readSized = (call: (ptr: string, len: string) => string, bufferTooSmall = 7) => `(local.set $sp (call $stack_alloc (i32.const 16)))
      (local.set $code ${call('(i32.const 0)', '(i32.const 0)')})
      (if (i32.eq (local.get $code) (i32.const ${bufferTooSmall /* BUFFER_TOO_SMALL: 7 in wfn_http_v1, 6 in wfn_kv_v1 */}))
        (then
          (local.set $len (i32.load (local.get $sp)))
          (local.set $buf (call $alloc (i32.const 1) (local.get $len)))
          (local.set $code ${call('(local.get $buf)', '(local.get $len)')})))
      (if (i32.eqz (local.get $len)) (then (local.set $buf (i32.const 1))))
      (call $stack_free (i32.const 16))`;

const SIZED_LOCALS = '(local $sp i32) (local $code i32) (local $len i32) (local $buf i32)';

/** wfn:fn/host's http-* functions on wfn_http_v1 (docs/contract.md, Outbound HTTP). */
const OUTBOUND_IMPLS: Record<string, Impl> = {
  // result<u32, u32>: the handle, written straight into the return area by send.
  'wfn:fn/host#http-send': {
    sig: 'iiiiiiiiii>',
    locals: '(local $code i32)',
    body: `(local.set $code (call $wfn_http_send (local.get $p0) (local.get $p1) (local.get $p2) (local.get $p3)
        (local.get $p4) (local.get $p5) (local.get $p6) (local.get $p7) (local.get $p8) (i32.add (local.get $p9) (i32.const 4))))
      (i32.store8 (local.get $p9) (i32.ne (local.get $code) (i32.const 0)))
      (if (local.get $code) (then (i32.store offset=4 (local.get $p9) (local.get $code))))`,
  },
  'wfn:fn/host#http-status': {
    sig: 'ii>',
    locals: '(local $code i32)',
    body: `(local.set $code (call $wfn_http_status (local.get $p0) (i32.add (local.get $p1) (i32.const 4))))
      (i32.store8 (local.get $p1) (i32.ne (local.get $code) (i32.const 0)))
      (if (local.get $code) (then (i32.store offset=4 (local.get $p1) (local.get $code))))`,
  },
  'wfn:fn/host#http-headers': {
    sig: 'ii>',
    locals: SIZED_LOCALS,
    body: `${readSized((ptr, len) => `(call $wfn_http_headers (local.get $p0) ${ptr} ${len} (local.get $sp))`)}
      ${storeListResult('$p1')}`,
  },
  // At most max bytes, in a buffer shrunk to what was read.
  'wfn:fn/host#http-body-read': {
    sig: 'iii>',
    locals: SIZED_LOCALS,
    body: `(local.set $buf (call $alloc (i32.const 1) (select (local.get $p1) (i32.const 1) (local.get $p1))))
      (local.set $sp (call $stack_alloc (i32.const 16)))
      (local.set $code (call $wfn_http_body_read (local.get $p0) (local.get $buf) (local.get $p1) (local.get $sp)))
      (local.set $len (i32.load (local.get $sp)))
      (call $stack_free (i32.const 16))
      (if (i32.eqz (local.get $code))
        (then (if (i32.eqz (local.get $len))
          (then (local.set $buf (i32.const 1)))
          (else (if (i32.lt_u (local.get $len) (local.get $p1))
            (then (local.set $buf (call $realloc (local.get $buf) (local.get $p1) (i32.const 1) (local.get $len)))))))))
      ${storeListResult('$p2')}`,
  },
  'wfn:fn/host#http-close': { sig: 'i>', body: '(drop (call $wfn_http_close (local.get $p0)))' },
  // string: (ptr, len) at the return area.
  'wfn:fn/host#http-error-message': {
    sig: 'i>',
    locals: SIZED_LOCALS,
    body: `${readSized((ptr, len) => `(call $wfn_http_error_message ${ptr} ${len} (local.get $sp))`)}
      (if (local.get $code) (then (local.set $buf (i32.const 1)) (local.set $len (i32.const 0))))
      (i32.store (local.get $p0) (local.get $buf))
      (i32.store offset=4 (local.get $p0) (local.get $len))`,
  },
};

/** Without [outbound] allow: every call is DENIED (JavaScript writes the message), nothing is imported. */
const NO_OUTBOUND_IMPLS: Record<string, Impl> = {
  'wfn:fn/host#http-send': { sig: 'iiiiiiiiii>', body: `${storeByte('$p9', 1)} (i32.store offset=4 (local.get $p9) (i32.const 1))` },
  'wfn:fn/host#http-status': { sig: 'ii>', body: `${storeByte('$p1', 1)} (i32.store offset=4 (local.get $p1) (i32.const 6))` },
  'wfn:fn/host#http-headers': { sig: 'ii>', body: `${storeByte('$p1', 1)} (i32.store offset=4 (local.get $p1) (i32.const 6))` },
  'wfn:fn/host#http-body-read': { sig: 'iii>', body: `${storeByte('$p2', 1)} (i32.store offset=4 (local.get $p2) (i32.const 6))` },
  'wfn:fn/host#http-close': NOOP,
  'wfn:fn/host#http-error-message': { sig: 'i>', body: '(i32.store (local.get $p0) (i32.const 1)) (i32.store offset=4 (local.get $p0) (i32.const 0))' },
};

const OUTBOUND_IMPORTS_WAT = `(import "wfn_http_v1" "send" (func $wfn_http_send (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wfn_http_v1" "status" (func $wfn_http_status (param i32 i32) (result i32)))
  (import "wfn_http_v1" "headers" (func $wfn_http_headers (param i32 i32 i32 i32) (result i32)))
  (import "wfn_http_v1" "body_read" (func $wfn_http_body_read (param i32 i32 i32 i32) (result i32)))
  (import "wfn_http_v1" "close" (func $wfn_http_close (param i32) (result i32)))
  (import "wfn_http_v1" "error_message" (func $wfn_http_error_message (param i32 i32 i32) (result i32)))`;

/**
 * A wfn_kv_v1 call that yields a value handle (get, list): reads the whole value into an owned
 * buffer, closes the handle and stores result<list<u8>, u32> at $ret.
 */
const kvValueResult = (call: string, ret: string) => `(local.set $sp (call $stack_alloc (i32.const 16)))
      (local.set $code ${call})
      (if (i32.eqz (local.get $code))
        (then
          (local.set $h (i32.load (local.get $sp)))
          (local.set $len (i32.load offset=4 (local.get $sp)))
          (local.set $buf (if (result i32) (local.get $len) (then (call $alloc (i32.const 1) (local.get $len))) (else (i32.const 1))))
          (local.set $off (i32.const 0))
          (block $done
            (loop $more
              (br_if $done (i32.ge_u (local.get $off) (local.get $len)))
              (local.set $code (call $wfn_kv_read (local.get $h) (i32.add (local.get $buf) (local.get $off)) (i32.sub (local.get $len) (local.get $off)) (i32.add (local.get $sp) (i32.const 8))))
              (br_if $done (local.get $code))
              (br_if $done (i32.eqz (i32.load offset=8 (local.get $sp))))
              (local.set $off (i32.add (local.get $off) (i32.load offset=8 (local.get $sp))))
              (br $more)))
          (drop (call $wfn_kv_close (local.get $h)))))
      (call $stack_free (i32.const 16))
      ${storeListResult(ret)}`;

const KV_LOCALS = '(local $sp i32) (local $code i32) (local $len i32) (local $buf i32) (local $h i32) (local $off i32)';

/** result<_, u32> at $ret from $code. */
const storeUnitResult = (ret: string) => `(i32.store8 (local.get ${ret}) (i32.ne (local.get $code) (i32.const 0)))
      (if (local.get $code) (then (i32.store offset=4 (local.get ${ret}) (local.get $code))))`;

/** wfn:fn/host's kv-* functions on wfn_kv_v1 (docs/contract.md, Key-value). */
const KV_IMPLS: Record<string, Impl> = {
  // result<u32, u32>: the store handle, written straight into the return area by open.
  'wfn:fn/host#kv-open': {
    sig: 'iii>',
    locals: '(local $code i32)',
    body: `(local.set $code (call $wfn_kv_open (local.get $p0) (local.get $p1) (i32.add (local.get $p2) (i32.const 4))))
      ${storeUnitResult('$p2')}`,
  },
  'wfn:fn/host#kv-get': {
    sig: 'iiii>',
    locals: KV_LOCALS,
    body: kvValueResult('(call $wfn_kv_get (local.get $p0) (local.get $p1) (local.get $p2) (local.get $sp) (i32.add (local.get $sp) (i32.const 4)))', '$p3'),
  },
  'wfn:fn/host#kv-set': {
    sig: 'iiiiiii>',
    locals: '(local $code i32)',
    body: `(local.set $code (call $wfn_kv_set (local.get $p0) (local.get $p1) (local.get $p2) (local.get $p3) (local.get $p4) (local.get $p5)))
      ${storeUnitResult('$p6')}`,
  },
  'wfn:fn/host#kv-delete': {
    sig: 'iiii>',
    locals: '(local $code i32)',
    body: `(local.set $code (call $wfn_kv_delete (local.get $p0) (local.get $p1) (local.get $p2)))
      ${storeUnitResult('$p3')}`,
  },
  'wfn:fn/host#kv-list': {
    sig: 'iiiiiii>',
    locals: KV_LOCALS,
    body: kvValueResult(
      '(call $wfn_kv_list (local.get $p0) (local.get $p1) (local.get $p2) (local.get $p3) (local.get $p4) (local.get $p5) (local.get $sp) (i32.add (local.get $sp) (i32.const 4)))',
      '$p6',
    ),
  },
  'wfn:fn/host#kv-error-message': {
    sig: 'i>',
    locals: SIZED_LOCALS,
    body: `${readSized((ptr, len) => `(call $wfn_kv_error_message ${ptr} ${len} (local.get $sp))`, 6)}
      (if (local.get $code) (then (local.set $buf (i32.const 1)) (local.set $len (i32.const 0))))
      (i32.store (local.get $p0) (local.get $buf))
      (i32.store offset=4 (local.get $p0) (local.get $len))`,
  },
};

/** Without [kv] stores: every open is DENIED (JavaScript writes the message), nothing is imported. */
const deniedResult = (ret: string) => `${storeByte(ret, 1)} (i32.store offset=4 (local.get ${ret}) (i32.const 2))`;
const NO_KV_IMPLS: Record<string, Impl> = {
  'wfn:fn/host#kv-open': { sig: 'iii>', body: deniedResult('$p2') },
  'wfn:fn/host#kv-get': { sig: 'iiii>', body: deniedResult('$p3') },
  'wfn:fn/host#kv-set': { sig: 'iiiiiii>', body: deniedResult('$p6') },
  'wfn:fn/host#kv-delete': { sig: 'iiii>', body: deniedResult('$p3') },
  'wfn:fn/host#kv-list': { sig: 'iiiiiii>', body: deniedResult('$p6') },
  'wfn:fn/host#kv-error-message': { sig: 'i>', body: '(i32.store (local.get $p0) (i32.const 1)) (i32.store offset=4 (local.get $p0) (i32.const 0))' },
};

const KV_IMPORTS_WAT = `(import "wfn_kv_v1" "open" (func $wfn_kv_open (param i32 i32 i32) (result i32)))
  (import "wfn_kv_v1" "get" (func $wfn_kv_get (param i32 i32 i32 i32 i32) (result i32)))
  (import "wfn_kv_v1" "read" (func $wfn_kv_read (param i32 i32 i32 i32) (result i32)))
  (import "wfn_kv_v1" "close" (func $wfn_kv_close (param i32) (result i32)))
  (import "wfn_kv_v1" "set" (func $wfn_kv_set (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wfn_kv_v1" "delete" (func $wfn_kv_delete (param i32 i32 i32) (result i32)))
  (import "wfn_kv_v1" "list" (func $wfn_kv_list (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wfn_kv_v1" "error_message" (func $wfn_kv_error_message (param i32 i32 i32) (result i32)))`;

/** The world the user's script is componentized against. */
export const WORLD_WIT = `package wfn:fn;

interface host {
  /// Bytes from the host's cryptographically secure source (WASI random_get).
  random-bytes: func(len: u32) -> list<u8>;
  /// Writes bytes to the function's log (stderr) at once.
  log: func(bytes: list<u8>);
  /// Writes bytes to stdout (the CGI response) at once: a streamed body, chunk by chunk.
  write-stdout: func(bytes: list<u8>);
  /// UTF-8 bytes of a well-formed string (TextEncoder's work, without a JavaScript loop).
  utf8-encode: func(text: string) -> list<u8>;
  /// The string for UTF-8 bytes, or none when they are not valid UTF-8.
  utf8-decode: func(bytes: list<u8>) -> option<string>;
  /// Outbound HTTP on wfn_http_v1 (docs/contract.md); err is the API's error code.
  /// flags: the API's send flags (bit 0 follow redirects, bits 8-31 the call's timeout in ms).
  http-send: func(method: string, url: string, headers: list<u8>, body: list<u8>, %flags: u32) -> result<u32, u32>;
  http-status: func(handle: u32) -> result<u32, u32>;
  /// The response header lines, each "name: value" and a line feed.
  http-headers: func(handle: u32) -> result<list<u8>, u32>;
  /// The next at most max bytes of the body; empty at the end.
  http-body-read: func(handle: u32, max: u32) -> result<list<u8>, u32>;
  http-close: func(handle: u32);
  /// The message of the last failed call ("" when the host gave none).
  http-error-message: func() -> string;
  /// SHA-256 of the bytes (crypto.subtle's digest and HMAC; a JavaScript SHA-256 is ~1000x slower in QuickJS).
  sha256: func(data: list<u8>) -> list<u8>;
  /// Key-value on wfn_kv_v1 (docs/contract.md); err is the API's error code (1: not found).
  kv-open: func(name: string) -> result<u32, u32>;
  kv-get: func(store: u32, key: string) -> result<list<u8>, u32>;
  kv-set: func(store: u32, key: string, value: list<u8>, ttl-seconds: u32) -> result<_, u32>;
  kv-delete: func(store: u32, key: string) -> result<_, u32>;
  /// One page: the next page's cursor line ("" on the last page), then one key per line.
  kv-list: func(store: u32, prefix: string, cursor: string, limit: u32) -> result<list<u8>, u32>;
  /// The message of the last failed call ("" when the host gave none).
  kv-error-message: func() -> string;
  /// The handler failed (an uncaught exception): the run exits with code 1 after its response.
  fail: func();
  /// A bundled file's bytes ([files] in wfn.toml), at most max from offset; err is the WASI errno (44: no such file).
  file-read: func(path: string, offset: u64, max: u32) -> result<list<u8>, u32>;
  /// A bundled path's size, modification time (seconds and nanoseconds since the epoch) and WASI file type (3 directory, 4 regular file).
  file-stat: func(path: string) -> result<tuple<u64, u64, u32, u8>, u32>;
}

world handler {
  import host;
  /// CGI in (environment pairs, stdin), CGI out (header block, blank line, body).
  export handle: async func(env: list<tuple<string, string>>, body: list<u8>) -> list<u8>;
}
`;

export const WORLD_NAME = 'handler';

const ENOENT = 44;

/** wfn:fn/host's file-* functions on the preopened "/" (the bundled files, docs/contract.md). */
const FILES_IMPLS: Record<string, Impl> = {
  // result<tuple<u64, u64, u32, u8>, u32>: the payload is 8-aligned, so ok and err both start at offset 8.
  // The mtime is split in seconds and nanoseconds: JavaScript gets a u64 as a double, exact only below 2^53.
  'wfn:fn/host#file-stat': {
    sig: 'iii>',
    locals: '(local $fd i32) (local $sp i32) (local $k i32) (local $code i32)',
    body: `(local.set $sp (call $stack_alloc (i32.const 80)))
      (local.set $code (i32.const ${ENOENT}))
      (local.set $fd (call $files_root))
      (if (i32.ge_s (local.get $fd) (i32.const 0))
        (then
          (local.set $k (call $files_strip (local.get $p0) (local.get $p1)))
          (i32.store8 offset=64 (local.get $sp) (i32.const 46))
          (local.set $code (if (result i32) (i32.eq (local.get $k) (local.get $p1))
            (then (call $path_filestat_get (local.get $fd) (i32.const 1) (i32.add (local.get $sp) (i32.const 64)) (i32.const 1) (local.get $sp)))
            (else (call $path_filestat_get (local.get $fd) (i32.const 1) (i32.add (local.get $p0) (local.get $k)) (i32.sub (local.get $p1) (local.get $k)) (local.get $sp)))))))
      (if (local.get $code)
        (then ${storeByte('$p2', 1)} (i32.store offset=8 (local.get $p2) (local.get $code)))
        (else ${storeByte('$p2', 0)}
          (i64.store offset=8 (local.get $p2) (i64.load offset=32 (local.get $sp)))
          (i64.store offset=16 (local.get $p2) (i64.div_u (i64.load offset=48 (local.get $sp)) (i64.const 1000000000)))
          (i32.store offset=24 (local.get $p2) (i32.wrap_i64 (i64.rem_u (i64.load offset=48 (local.get $sp)) (i64.const 1000000000))))
          (i32.store8 offset=28 (local.get $p2) (i32.load8_u offset=16 (local.get $sp)))))
      (call $stack_free (i32.const 80))`,
  },
  // result<list<u8>, u32>: at most max bytes from offset, in a buffer shrunk to what was read.
  'wfn:fn/host#file-read': {
    sig: 'iiIii>',
    locals: '(local $fd i32) (local $sp i32) (local $k i32) (local $code i32) (local $file i32) (local $buf i32) (local $len i32) (local $n i32)',
    body: `(local.set $sp (call $stack_alloc (i32.const 32)))
      (local.set $code (i32.const ${ENOENT}))
      (local.set $fd (call $files_root))
      (if (i32.ge_s (local.get $fd) (i32.const 0))
        (then
          (local.set $k (call $files_strip (local.get $p0) (local.get $p1)))
          (i32.store8 offset=24 (local.get $sp) (i32.const 46))
          ;; rights: fd_read | fd_seek; nothing that writes.
          (local.set $code (if (result i32) (i32.eq (local.get $k) (local.get $p1))
            (then (call $path_open (local.get $fd) (i32.const 1) (i32.add (local.get $sp) (i32.const 24)) (i32.const 1) (i32.const 0) (i64.const 6) (i64.const 0) (i32.const 0) (local.get $sp)))
            (else (call $path_open (local.get $fd) (i32.const 1) (i32.add (local.get $p0) (local.get $k)) (i32.sub (local.get $p1) (local.get $k)) (i32.const 0) (i64.const 6) (i64.const 0) (i32.const 0) (local.get $sp)))))))
      (if (i32.eqz (local.get $code))
        (then
          (local.set $file (i32.load (local.get $sp)))
          (local.set $buf (call $alloc (i32.const 1) (select (local.get $p3) (i32.const 1) (local.get $p3))))
          (block $done
            (loop $more
              (br_if $done (i32.ge_u (local.get $len) (local.get $p3)))
              (i32.store offset=8 (local.get $sp) (i32.add (local.get $buf) (local.get $len)))
              (i32.store offset=12 (local.get $sp) (i32.sub (local.get $p3) (local.get $len)))
              (local.set $code (call $fd_pread (local.get $file) (i32.add (local.get $sp) (i32.const 8)) (i32.const 1)
                (i64.add (local.get $p2) (i64.extend_i32_u (local.get $len))) (i32.add (local.get $sp) (i32.const 16))))
              (br_if $done (local.get $code))
              (local.set $n (i32.load offset=16 (local.get $sp)))
              (br_if $done (i32.eqz (local.get $n)))
              (local.set $len (i32.add (local.get $len) (local.get $n)))
              (br $more)))
          (drop (call $fd_close (local.get $file)))
          (if (i32.eqz (local.get $code))
            (then (if (i32.eqz (local.get $len))
              (then (local.set $buf (i32.const 1)))
              (else (if (i32.lt_u (local.get $len) (local.get $p3))
                (then (local.set $buf (call $realloc (local.get $buf) (local.get $p3) (i32.const 1) (local.get $len)))))))))))
      (call $stack_free (i32.const 32))
      ${storeListResult('$p4')}`,
  },
};

/** Without [files]: no such file, and nothing imported. */
const NO_FILES_IMPLS: Record<string, Impl> = {
  'wfn:fn/host#file-stat': { sig: 'iii>', body: `${storeByte('$p2', 1)} (i32.store offset=8 (local.get $p2) (i32.const ${ENOENT}))` },
  'wfn:fn/host#file-read': { sig: 'iiIii>', body: `${storeByte('$p4', 1)} (i32.store offset=4 (local.get $p4) (i32.const ${ENOENT}))` },
};

const FILES_IMPORTS_WAT = `(import "wasi_snapshot_preview1" "fd_prestat_get" (func $fd_prestat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_dir_name" (func $fd_prestat_dir_name (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_filestat_get" (func $path_filestat_get (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_pread" (func $fd_pread (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))`;

/** The preopened "/" (looked up per call: a snapshot taken at build time has no files) and the leading "/"s of a path. */
const FILES_FUNCS_WAT = `;; The descriptor of the preopened "/" (the first preopen named "/"), or -1.
  (func $files_root (result i32)
    (local $fd i32) (local $sp i32) (local $found i32)
    (local.set $found (i32.const -1))
    (local.set $sp (call $stack_alloc (i32.const 16)))
    (local.set $fd (i32.const 3))
    (block $done
      (loop $next
        (br_if $done (call $fd_prestat_get (local.get $fd) (local.get $sp)))
        (if (i32.eq (i32.load offset=4 (local.get $sp)) (i32.const 1))
          (then (if (i32.eqz (call $fd_prestat_dir_name (local.get $fd) (i32.add (local.get $sp) (i32.const 8)) (i32.const 1)))
            (then (if (i32.eq (i32.load8_u offset=8 (local.get $sp)) (i32.const 47))
              (then (local.set $found (local.get $fd)) (br $done)))))))
        (local.set $fd (i32.add (local.get $fd) (i32.const 1)))
        (br_if $next (i32.lt_u (local.get $fd) (i32.const 64)))))
    (call $stack_free (i32.const 16))
    (local.get $found))

  ;; How many "/" begin [p, p+len): paths are relative to the preopened "/".
  (func $files_strip (param $p i32) (param $len i32) (result i32)
    (local $k i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $k) (local.get $len)))
        (br_if $done (i32.ne (i32.load8_u (i32.add (local.get $p) (local.get $k))) (i32.const 47)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $next)))
    (local.get $k))`;

export class HostImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HostImportError';
  }
}

function watString(text: string): string {
  return '"' + [...new TextEncoder().encode(text)].map((b) => (b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c ? String.fromCharCode(b) : '\\' + b.toString(16).padStart(2, '0'))).join('') + '"';
}

/** WAT that stores `text` at `ptr` (a local) 8/4/1 bytes at a time: no data segment, so no fixed address in the shared memory. */
function storeText(ptr: string, text: string): string {
  const bytes = new TextEncoder().encode(text);
  const out: string[] = [];
  let i = 0;
  for (; i + 8 <= bytes.length; i += 8) {
    let v = 0n;
    for (let k = 7; k >= 0; k--) v = (v << 8n) | BigInt(bytes[i + k]);
    out.push(`(i64.store offset=${i} (local.get ${ptr}) (i64.const ${BigInt.asIntN(64, v)}))`);
  }
  for (; i < bytes.length; i++) out.push(`(i32.store8 offset=${i} (local.get ${ptr}) (i32.const ${bytes[i]}))`);
  return out.join('\n      ');
}

/** Writes a fixed message to a file descriptor from the shadow stack. */
function writeText(fd: number, text: string): string {
  const size = (new TextEncoder().encode(text).length + 15) & ~15;
  return `(local.set $msg (call $stack_alloc (i32.const ${size})))
      ${storeText('$msg', text)}
      (drop (call $write_all (i32.const ${fd}) (local.get $msg) (i32.const ${new TextEncoder().encode(text).length})))
      (call $stack_free (i32.const ${size}))`;
}

/** SHA-256's round constants (FIPS 180-4, 4.2.2). */
const SHA256_K = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];
const SHA256_H0 = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/**
 * SHA-256 (FIPS 180-4) as WebAssembly text: $sha256(ptr, len, out) writes the 32-byte digest
 * of [ptr, ptr+len) to out. Its working memory (schedule, constants, state, the padded tail)
 * is on the shadow stack: the host module has no data segment of its own.
 */
function sha256Wat(): string {
  const i32 = (n: number) => `(i32.const ${n | 0})`;
  const storeK = SHA256_K.map((k, i) => `(i32.store offset=${i * 4} (local.get $k) ${i32(k)})`).join('\n      ');
  const storeH = SHA256_H0.map((h, i) => `(i32.store offset=${i * 4} (local.get $h) ${i32(h)})`).join('\n      ');
  const rotr = (x: string, n: number) => `(i32.rotr ${x} (i32.const ${n}))`;
  return `;; Big-endian 32-bit load.
  (func $be32 (param $p i32) (result i32)
    (local $x i32)
    (local.set $x (i32.load (local.get $p)))
    (i32.or
      (i32.or (i32.shl (local.get $x) (i32.const 24)) (i32.and (i32.shl (local.get $x) (i32.const 8)) (i32.const 0xff0000)))
      (i32.or (i32.and (i32.shr_u (local.get $x) (i32.const 8)) (i32.const 0xff00)) (i32.shr_u (local.get $x) (i32.const 24)))))

  ;; One 64-byte block into the state $h (8 words), with the schedule $w (64 words) and constants $k.
  (func $sha256_block (param $block i32) (param $w i32) (param $k i32) (param $h i32)
    (local $i i32) (local $x i32) (local $y i32) (local $t1 i32) (local $t2 i32)
    (local $a i32) (local $b i32) (local $c i32) (local $d i32) (local $e i32) (local $f i32) (local $g i32) (local $hh i32)
    (local.set $i (i32.const 0))
    (loop $load
      (i32.store (i32.add (local.get $w) (i32.shl (local.get $i) (i32.const 2))) (call $be32 (i32.add (local.get $block) (i32.shl (local.get $i) (i32.const 2)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $load (i32.lt_u (local.get $i) (i32.const 16))))
    (loop $schedule
      (local.set $x (i32.load (i32.add (local.get $w) (i32.shl (i32.sub (local.get $i) (i32.const 15)) (i32.const 2)))))
      (local.set $y (i32.load (i32.add (local.get $w) (i32.shl (i32.sub (local.get $i) (i32.const 2)) (i32.const 2)))))
      (i32.store (i32.add (local.get $w) (i32.shl (local.get $i) (i32.const 2)))
        (i32.add
          (i32.add (i32.load (i32.add (local.get $w) (i32.shl (i32.sub (local.get $i) (i32.const 16)) (i32.const 2))))
            (i32.xor (i32.xor ${rotr('(local.get $x)', 7)} ${rotr('(local.get $x)', 18)}) (i32.shr_u (local.get $x) (i32.const 3))))
          (i32.add (i32.load (i32.add (local.get $w) (i32.shl (i32.sub (local.get $i) (i32.const 7)) (i32.const 2))))
            (i32.xor (i32.xor ${rotr('(local.get $y)', 17)} ${rotr('(local.get $y)', 19)}) (i32.shr_u (local.get $y) (i32.const 10))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $schedule (i32.lt_u (local.get $i) (i32.const 64))))
    (local.set $a (i32.load offset=0 (local.get $h)))
    (local.set $b (i32.load offset=4 (local.get $h)))
    (local.set $c (i32.load offset=8 (local.get $h)))
    (local.set $d (i32.load offset=12 (local.get $h)))
    (local.set $e (i32.load offset=16 (local.get $h)))
    (local.set $f (i32.load offset=20 (local.get $h)))
    (local.set $g (i32.load offset=24 (local.get $h)))
    (local.set $hh (i32.load offset=28 (local.get $h)))
    (local.set $i (i32.const 0))
    (loop $round
      (local.set $t1 (i32.add (i32.add (i32.add (local.get $hh)
          (i32.xor (i32.xor ${rotr('(local.get $e)', 6)} ${rotr('(local.get $e)', 11)}) ${rotr('(local.get $e)', 25)}))
          (i32.xor (i32.and (local.get $e) (local.get $f)) (i32.and (i32.xor (local.get $e) (i32.const -1)) (local.get $g))))
        (i32.add (i32.load (i32.add (local.get $k) (i32.shl (local.get $i) (i32.const 2)))) (i32.load (i32.add (local.get $w) (i32.shl (local.get $i) (i32.const 2)))))))
      (local.set $t2 (i32.add
        (i32.xor (i32.xor ${rotr('(local.get $a)', 2)} ${rotr('(local.get $a)', 13)}) ${rotr('(local.get $a)', 22)})
        (i32.xor (i32.xor (i32.and (local.get $a) (local.get $b)) (i32.and (local.get $a) (local.get $c))) (i32.and (local.get $b) (local.get $c)))))
      (local.set $hh (local.get $g))
      (local.set $g (local.get $f))
      (local.set $f (local.get $e))
      (local.set $e (i32.add (local.get $d) (local.get $t1)))
      (local.set $d (local.get $c))
      (local.set $c (local.get $b))
      (local.set $b (local.get $a))
      (local.set $a (i32.add (local.get $t1) (local.get $t2)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $round (i32.lt_u (local.get $i) (i32.const 64))))
    (i32.store offset=0 (local.get $h) (i32.add (i32.load offset=0 (local.get $h)) (local.get $a)))
    (i32.store offset=4 (local.get $h) (i32.add (i32.load offset=4 (local.get $h)) (local.get $b)))
    (i32.store offset=8 (local.get $h) (i32.add (i32.load offset=8 (local.get $h)) (local.get $c)))
    (i32.store offset=12 (local.get $h) (i32.add (i32.load offset=12 (local.get $h)) (local.get $d)))
    (i32.store offset=16 (local.get $h) (i32.add (i32.load offset=16 (local.get $h)) (local.get $e)))
    (i32.store offset=20 (local.get $h) (i32.add (i32.load offset=20 (local.get $h)) (local.get $f)))
    (i32.store offset=24 (local.get $h) (i32.add (i32.load offset=24 (local.get $h)) (local.get $g)))
    (i32.store offset=28 (local.get $h) (i32.add (i32.load offset=28 (local.get $h)) (local.get $hh))))

  ;; The digest of [ptr, ptr+len) into out (32 bytes).
  (func $sha256 (param $ptr i32) (param $len i32) (param $out i32)
    (local $w i32) (local $k i32) (local $h i32) (local $tail i32) (local $off i32) (local $rem i32) (local $blocks i32) (local $bits i64) (local $i i32)
    (local.set $w (call $stack_alloc (i32.const 672)))
    (local.set $k (i32.add (local.get $w) (i32.const 256)))
    (local.set $h (i32.add (local.get $w) (i32.const 512)))
    (local.set $tail (i32.add (local.get $w) (i32.const 544)))
    ${storeK}
    ${storeH}
    (block $done
      (loop $full
        (br_if $done (i32.lt_u (i32.sub (local.get $len) (local.get $off)) (i32.const 64)))
        (call $sha256_block (i32.add (local.get $ptr) (local.get $off)) (local.get $w) (local.get $k) (local.get $h))
        (local.set $off (i32.add (local.get $off) (i32.const 64)))
        (br $full)))
    ;; The padded tail: the rest, 0x80, zeros, the length in bits (big-endian 64-bit): one or two blocks.
    (local.set $rem (i32.sub (local.get $len) (local.get $off)))
    (memory.fill (local.get $tail) (i32.const 0) (i32.const 128))
    (memory.copy (local.get $tail) (i32.add (local.get $ptr) (local.get $off)) (local.get $rem))
    (i32.store8 (i32.add (local.get $tail) (local.get $rem)) (i32.const 0x80))
    (local.set $blocks (select (i32.const 2) (i32.const 1) (i32.gt_u (i32.add (local.get $rem) (i32.const 9)) (i32.const 64))))
    (local.set $bits (i64.shl (i64.extend_i32_u (local.get $len)) (i64.const 3)))
    (local.set $i (i32.const 0))
    (loop $length
      (i32.store8 (i32.add (local.get $tail) (i32.sub (i32.shl (local.get $blocks) (i32.const 6)) (i32.sub (i32.const 8) (local.get $i))))
        (i32.wrap_i64 (i64.shr_u (local.get $bits) (i64.extend_i32_u (i32.shl (i32.sub (i32.const 7) (local.get $i)) (i32.const 3))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $length (i32.lt_u (local.get $i) (i32.const 8))))
    (call $sha256_block (local.get $tail) (local.get $w) (local.get $k) (local.get $h))
    (if (i32.eq (local.get $blocks) (i32.const 2))
      (then (call $sha256_block (i32.add (local.get $tail) (i32.const 64)) (local.get $w) (local.get $k) (local.get $h))))
    (local.set $i (i32.const 0))
    (loop $write
      (i32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (call $be32 (i32.add (local.get $h) (i32.shl (local.get $i) (i32.const 2)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $write (i32.lt_u (local.get $i) (i32.const 8))))
    (call $stack_free (i32.const 672)))`;
}

const FALLBACK_500 = 'Status: 500 Internal Server Error\nContent-Type: text/plain; charset=utf-8\n\nInternal Server Error\n';

function funcFor(imp: HostImport, index: number, outbound: boolean, kv: boolean, files: boolean): string {
  const key = `${unversioned(imp.module)}#${imp.name}`;
  const params = imp.type.params.map((t, i) => `(param $p${i} ${t})`).join(' ');
  const results = imp.type.results.map((t) => `(result ${t})`).join(' ');
  const impl = IMPLS[key] ?? (outbound ? OUTBOUND_IMPLS : NO_OUTBOUND_IMPLS)[key] ?? (kv ? KV_IMPLS : NO_KV_IMPLS)[key] ?? (files ? FILES_IMPLS : NO_FILES_IMPLS)[key];
  const head = `(func $host${index} (export ${watString(imp.exportName)}) ${params} ${results}`;
  if (!impl) return `${head}\n    ;; not used by a request (${key})\n    unreachable)`;
  // A no-op fits any parameters but must not owe a result.
  const fits = impl === NOOP ? imp.type.results.length === 0 : sig(imp.type) === impl.sig;
  if (!fits) {
    throw new HostImportError(
      `${key} has the signature ${sig(imp.type)} but wfn's host implements ${impl === NOOP ? '(...)->()' : impl.sig}: ` +
        'the QuickJS runtime changed its imports; this componentize-qjs version needs a wfn update',
    );
  }
  return `${head} ${impl.locals ?? ''}\n    ${impl.body})`;
}

/** Well-known identifiers for what the host's own code uses from main. */
const MAIN_IDS: Record<string, string> = { memory: '$memory', __indirect_function_table: '$table', __stack_pointer: '$sp' };

/**
 * Imports each of main's entities once and re-exports it under the same name: the libraries
 * import it from the host, so the merged engine has exactly one import per entity (wasm-merge
 * would keep one import per importer otherwise, e.g. three memories).
 */
function mainImportsWat(input: HostModuleInput): string {
  const q = watString;
  for (const name of Object.keys(MAIN_IDS)) {
    if (!input.mainImports.some((m) => m.name === name)) throw new HostImportError(`no library imports main's ${name}`);
  }
  return input.mainImports
    .map((m, i) => {
      const id = MAIN_IDS[m.name] ?? `$main${i}`;
      const type =
        m.kind === 'memory' ? `(memory ${id} ${m.minimum ?? 0})`
        : m.kind === 'table' ? `(table ${id} ${m.minimum ?? 0} funcref)`
        : `(global ${id} ${m.global!.mutable ? `(mut ${m.global!.valtype})` : m.global!.valtype})`;
      return `(import ${q(input.main)} ${q(m.name)} ${type})\n  (export ${q(m.name)} (${m.kind} ${id}))`;
    })
    .join('\n  ');
}

/** Generates the host module's WebAssembly text. */
export function hostModuleWat(input: HostModuleInput): string {
  const q = watString;
  const funcs = input.imports.map((imp, i) => funcFor(imp, i, !!input.outbound, !!input.kv, !!input.files)).join('\n\n  ');
  return `(module
  ;; ---- what the host uses: WASI preview1 and the merged modules' exports
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $environ_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  ${input.outbound ? OUTBOUND_IMPORTS_WAT : ''}
  ${input.kv ? KV_IMPORTS_WAT : ''}
  ${input.files ? FILES_IMPORTS_WAT : ''}
  ${mainImportsWat(input)}
  (import ${q(input.runtime)} ${q(input.runtimeRealloc)} (func $runtime_realloc (param i32 i32 i32 i32) (result i32)))
  (import ${q(input.glue)} ${q(input.exports.realloc)} (func $realloc (param i32 i32 i32 i32) (result i32)))
  (import ${q(input.glue)} ${q(input.exports.handle)} (func $handle (param i32 i32 i32 i32) (result i32)))
  (import ${q(input.glue)} ${q(input.exports.callback)} (func $callback (param i32 i32 i32) (result i32)))

  ;; The component's fixup module put the runtime's realloc in this slot; Wizer does not snapshot tables.
  (elem (table $table) (i32.const ${input.reallocSlot}) func $runtime_realloc)

  (global $task_context (mut i32) (i32.const 0))
  (global $returned (mut i32) (i32.const 0))
  (global $failed (mut i32) (i32.const 0))

  (func $stack_alloc (param $size i32) (result i32)
    (global.set $sp (i32.sub (global.get $sp) (local.get $size)))
    (global.get $sp))
  (func $stack_free (param $size i32)
    (global.set $sp (i32.add (global.get $sp) (local.get $size))))
  (func $alloc (param $align i32) (param $size i32) (result i32)
    (call $realloc (i32.const 0) (i32.const 0) (local.get $align) (local.get $size)))

  ;; Writes all of [ptr, ptr+len) to fd; returns 0, or 1 when fd_write fails.
  (func $write_all (param $fd i32) (param $ptr i32) (param $len i32) (result i32)
    (local $iov i32) (local $failed i32)
    (local.set $iov (call $stack_alloc (i32.const 16)))
    (block $done
      (loop $more
        (br_if $done (i32.eqz (local.get $len)))
        (i32.store (local.get $iov) (local.get $ptr))
        (i32.store offset=4 (local.get $iov) (local.get $len))
        (if (call $fd_write (local.get $fd) (local.get $iov) (i32.const 1) (i32.add (local.get $iov) (i32.const 8)))
          (then (local.set $failed (i32.const 1)) (br $done)))
        (local.set $ptr (i32.add (local.get $ptr) (i32.load offset=8 (local.get $iov))))
        (local.set $len (i32.sub (local.get $len) (i32.load offset=8 (local.get $iov))))
        (br $more)))
    (call $stack_free (i32.const 16))
    (local.get $failed))

  ;; Lifting takes ownership of every string and list (String/Vec::from_raw_parts), so each
  ;; one is its own allocation of exactly its length; empty ones use a dangling pointer (1).
  (func $owned_copy (param $src i32) (param $len i32) (result i32)
    (local $dst i32)
    (if (i32.eqz (local.get $len)) (then (return (i32.const 1))))
    (local.set $dst (call $alloc (i32.const 1) (local.get $len)))
    (memory.copy (local.get $dst) (local.get $src) (local.get $len))
    (local.get $dst))

${sha256Wat()}

  ${input.files ? FILES_FUNCS_WAT : ''}

  ;; 1 when [p, p+len) is valid UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
  (func $utf8_valid (param $p i32) (param $len i32) (result i32)
    (local $end i32) (local $b i32) (local $need i32) (local $lo i32) (local $hi i32) (local $k i32) (local $c i32)
    (local.set $end (i32.add (local.get $p) (local.get $len)))
    (loop $next
      ;; ASCII, eight bytes at a time.
      (block $slow
        (loop $fast
          (br_if $slow (i32.gt_u (i32.add (local.get $p) (i32.const 8)) (local.get $end)))
          (br_if $slow (i64.ne (i64.and (i64.load (local.get $p)) (i64.const 0x8080808080808080)) (i64.const 0)))
          (local.set $p (i32.add (local.get $p) (i32.const 8)))
          (br $fast)))
      (if (i32.ge_u (local.get $p) (local.get $end)) (then (return (i32.const 1))))
      (local.set $b (i32.load8_u (local.get $p)))
      (if (i32.lt_u (local.get $b) (i32.const 0x80))
        (then (local.set $p (i32.add (local.get $p) (i32.const 1))) (br $next)))
      (local.set $lo (i32.const 0x80))
      (local.set $hi (i32.const 0xbf))
      (if (i32.and (i32.ge_u (local.get $b) (i32.const 0xc2)) (i32.le_u (local.get $b) (i32.const 0xdf)))
        (then (local.set $need (i32.const 1)))
        (else (if (i32.and (i32.ge_u (local.get $b) (i32.const 0xe0)) (i32.le_u (local.get $b) (i32.const 0xef)))
          (then
            (local.set $need (i32.const 2))
            (if (i32.eq (local.get $b) (i32.const 0xe0)) (then (local.set $lo (i32.const 0xa0))))
            (if (i32.eq (local.get $b) (i32.const 0xed)) (then (local.set $hi (i32.const 0x9f)))))
          (else (if (i32.and (i32.ge_u (local.get $b) (i32.const 0xf0)) (i32.le_u (local.get $b) (i32.const 0xf4)))
            (then
              (local.set $need (i32.const 3))
              (if (i32.eq (local.get $b) (i32.const 0xf0)) (then (local.set $lo (i32.const 0x90))))
              (if (i32.eq (local.get $b) (i32.const 0xf4)) (then (local.set $hi (i32.const 0x8f)))))
            (else (return (i32.const 0))))))))
      (if (i32.ge_u (i32.add (local.get $p) (local.get $need)) (local.get $end)) (then (return (i32.const 0))))
      (local.set $c (i32.load8_u offset=1 (local.get $p)))
      (if (i32.or (i32.lt_u (local.get $c) (local.get $lo)) (i32.gt_u (local.get $c) (local.get $hi))) (then (return (i32.const 0))))
      (local.set $k (i32.const 2))
      (block $done
        (loop $cont
          (br_if $done (i32.gt_u (local.get $k) (local.get $need)))
          (local.set $c (i32.load8_u (i32.add (local.get $p) (local.get $k))))
          (if (i32.ne (i32.and (local.get $c) (i32.const 0xc0)) (i32.const 0x80)) (then (return (i32.const 0))))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br $cont)))
      (local.set $p (i32.add (local.get $p) (i32.add (local.get $need) (i32.const 1))))
      (br $next))
    (i32.const 1))

  ;; The environment as list<tuple<string, string>>: 16 bytes per entry (key ptr/len, value ptr/len).
  (func $read_env (param $out i32)
    (local $tmp i32) (local $count i32) (local $ptrs i32) (local $buf i32) (local $list i32)
    (local $i i32) (local $s i32) (local $eq i32) (local $end i32) (local $entry i32) (local $klen i32) (local $vlen i32)
    (local.set $tmp (call $stack_alloc (i32.const 16)))
    (drop (call $environ_sizes_get (local.get $tmp) (i32.add (local.get $tmp) (i32.const 4))))
    (local.set $count (i32.load (local.get $tmp)))
    (local.set $buf (call $alloc (i32.const 1) (i32.load offset=4 (local.get $tmp))))
    (call $stack_free (i32.const 16))
    (local.set $ptrs (call $alloc (i32.const 4) (i32.shl (local.get $count) (i32.const 2))))
    (drop (call $environ_get (local.get $ptrs) (local.get $buf)))
    (local.set $list (call $alloc (i32.const 4) (i32.shl (local.get $count) (i32.const 4))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $s (i32.load (i32.add (local.get $ptrs) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $eq (i32.const -1))
        (local.set $end (local.get $s))
        (block $eos
          (loop $scan
            (br_if $eos (i32.eqz (i32.load8_u (local.get $end))))
            (if (i32.and (i32.eq (i32.load8_u (local.get $end)) (i32.const 61)) (i32.eq (local.get $eq) (i32.const -1)))
              (then (local.set $eq (local.get $end))))
            (local.set $end (i32.add (local.get $end) (i32.const 1)))
            (br $scan)))
        (if (i32.eq (local.get $eq) (i32.const -1)) (then (local.set $eq (local.get $end))))
        (local.set $entry (i32.add (local.get $list) (i32.shl (local.get $i) (i32.const 4))))
        (local.set $klen (i32.sub (local.get $eq) (local.get $s)))
        (local.set $vlen (select (i32.const 0) (i32.sub (i32.sub (local.get $end) (local.get $eq)) (i32.const 1)) (i32.eq (local.get $eq) (local.get $end))))
        (i32.store (local.get $entry) (call $owned_copy (local.get $s) (local.get $klen)))
        (i32.store offset=4 (local.get $entry) (local.get $klen))
        (i32.store offset=8 (local.get $entry) (call $owned_copy (i32.add (local.get $eq) (i32.const 1)) (local.get $vlen)))
        (i32.store offset=12 (local.get $entry) (local.get $vlen))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.store (local.get $out) (local.get $list))
    (i32.store offset=4 (local.get $out) (local.get $count)))

  ;; stdin, all of it, into one buffer from realloc (doubling).
  (func $read_stdin (param $out i32)
    (local $iov i32) (local $buf i32) (local $cap i32) (local $len i32) (local $n i32)
    (local.set $cap (i32.const 65536))
    (local.set $buf (call $alloc (i32.const 1) (local.get $cap)))
    (local.set $iov (call $stack_alloc (i32.const 16)))
    (block $eof
      (loop $more
        (if (i32.eq (local.get $len) (local.get $cap))
          (then
            (local.set $buf (call $realloc (local.get $buf) (local.get $cap) (i32.const 1) (i32.shl (local.get $cap) (i32.const 1))))
            (local.set $cap (i32.shl (local.get $cap) (i32.const 1)))))
        (i32.store (local.get $iov) (i32.add (local.get $buf) (local.get $len)))
        (i32.store offset=4 (local.get $iov) (i32.sub (local.get $cap) (local.get $len)))
        (br_if $eof (call $fd_read (i32.const 0) (local.get $iov) (i32.const 1) (i32.add (local.get $iov) (i32.const 8))))
        (local.set $n (i32.load offset=8 (local.get $iov)))
        (br_if $eof (i32.eqz (local.get $n)))
        (local.set $len (i32.add (local.get $len) (local.get $n)))
        (br $more)))
    (call $stack_free (i32.const 16))
    ;; Exactly len bytes (see $owned_copy).
    (if (i32.eqz (local.get $len))
      (then (local.set $buf (i32.const 1)))
      (else (local.set $buf (call $realloc (local.get $buf) (local.get $cap) (i32.const 1) (local.get $len)))))
    (i32.store (local.get $out) (local.get $buf))
    (i32.store offset=4 (local.get $out) (local.get $len)))

  (func $_start (export "_start")
    (local $args i32) (local $code i32) (local $msg i32)
    (local.set $args (call $stack_alloc (i32.const 16)))
    (call $read_env (local.get $args))
    (call $read_stdin (i32.add (local.get $args) (i32.const 8)))
    ;; Start the async export, then run its callback until it exits. The runtime drains the
    ;; QuickJS job queue on every poll, so the handler's promise chain settles in here.
    (local.set $code (call $handle
      (i32.load (local.get $args)) (i32.load offset=4 (local.get $args))
      (i32.load offset=8 (local.get $args)) (i32.load offset=12 (local.get $args))))
    (call $stack_free (i32.const 16))
    (block $exit
      (loop $poll
        (br_if $exit (i32.eq (i32.and (local.get $code) (i32.const 15)) (i32.const ${CALLBACK_EXIT})))
        (if (i32.ne (i32.and (local.get $code) (i32.const 15)) (i32.const ${CALLBACK_YIELD}))
          (then
            ;; WAIT: nothing could ever wake the task up (the world imports nothing async).
            (br $exit)))
        (local.set $code (call $callback (i32.const 0) (i32.const 0) (i32.const 0)))
        (br $poll)))
    (if (i32.eqz (global.get $returned))
      (then
      ${writeText(2, "wfn: the handler's promise never settled (no pending work could settle it)\n")}
      ${writeText(1, FALLBACK_500)}))
    (if (global.get $failed) (then (call $proc_exit (i32.const 1)))))

  ;; ---- the imports of the merged modules, implemented on preview1
  ${funcs}
)
`;
}
