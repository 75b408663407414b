;; wfn's component bridge: the function contract (WASI preview1 + CGI) on wasi:http/proxy.
;;
;; Linked to a function by adapters/component/link.ts with wasm-merge, as the Fastly adapter
;; is (adapters/fastly/adapter.wat): the function's `wasi_snapshot_preview1` imports bind to
;; this module's exports, all of them, so the linked module imports nothing but the
;; canonical-ABI functions of the wasi:http/proxy world below. It exports
;; `wasi:http/incoming-handler@{{V}}#handle`, which maps the request onto the CGI environment
;; and stdin, runs the function's `_start` and turns its stdout into the response.
;;
;; Memory: $gm is the function's memory (placed at address 0 after lowering); $am is the
;; bridge's own, which the lowering places just above $gm (src/toolchains/wasm-link.ts).
;; Canonical-ABI calls take absolute addresses: $gm addresses are absolute already; $am
;; offsets go through $abs, and what the host allocates through cabi_realloc (lists,
;; strings) comes back as absolute addresses that $rel turns into $am offsets at once
;; (the function may grow its memory later, which moves $am up).
;;
;; Output: the CGI header block is collected; the body's first 64 KiB are held, so that a
;; function that fails (exit code, malformed header block) still answers 500 / 502; past
;; that, or when the function ends, the response is set and the body streams out.
;;
;; Template (src/toolchains/wat.ts): @lit and a quoted string for literals, a NAME in double
;; braces for values fixed at package
;; time. The CGI mapping mirrors src/runtime/cgi.ts, as the Fastly adapter's does.

(module
  (import "fn" "memory" (memory $gm 0))
  (import "fn" "__wfn_guest_start" (func $guest_start))

  (import "wasi:http/types@{{V}}" "[method]incoming-request.method" (func $req_method (param i32 i32)))
  (import "wasi:http/types@{{V}}" "[method]incoming-request.path-with-query" (func $req_pwq (param i32 i32)))
  (import "wasi:http/types@{{V}}" "[method]incoming-request.scheme" (func $req_scheme (param i32 i32)))
  (import "wasi:http/types@{{V}}" "[method]incoming-request.authority" (func $req_authority (param i32 i32)))
  (import "wasi:http/types@{{V}}" "[method]incoming-request.headers" (func $req_headers (param i32) (result i32)))
  (import "wasi:http/types@{{V}}" "[method]incoming-request.consume" (func $req_consume (param i32 i32)))
  (import "wasi:http/types@{{V}}" "[method]incoming-body.stream" (func $inbody_stream (param i32 i32)))
  (import "wasi:http/types@{{V}}" "[method]fields.entries" (func $fields_entries (param i32 i32)))
  (import "wasi:http/types@{{V}}" "[constructor]fields" (func $fields_new (result i32)))
  (import "wasi:http/types@{{V}}" "[method]fields.append" (func $fields_append (param i32 i32 i32 i32 i32 i32)))
  (import "wasi:http/types@{{V}}" "[constructor]outgoing-response" (func $resp_new (param i32) (result i32)))
  (import "wasi:http/types@{{V}}" "[method]outgoing-response.set-status-code" (func $resp_set_status (param i32 i32) (result i32)))
  (import "wasi:http/types@{{V}}" "[method]outgoing-response.body" (func $resp_body (param i32 i32)))
  (import "wasi:http/types@{{V}}" "[method]outgoing-body.write" (func $outbody_write (param i32 i32)))
  (import "wasi:http/types@{{V}}" "[static]outgoing-body.finish" (func $outbody_finish (param i32 i32 i32 i32)))
  (import "wasi:http/types@{{V}}" "[static]response-outparam.set" (func $outparam_set (param i32 i32 i32 i32 i64 i32 i32 i32 i32)))
  (import "wasi:http/types@{{V}}" "[resource-drop]outgoing-body" (func $drop_outbody (param i32)))
  (import "wasi:io/streams@{{V}}" "[method]input-stream.blocking-read" (func $in_read (param i32 i64 i32)))
  (import "wasi:io/streams@{{V}}" "[method]output-stream.blocking-write-and-flush" (func $out_write (param i32 i32 i32 i32)))
  (import "wasi:io/streams@{{V}}" "[resource-drop]input-stream" (func $drop_in (param i32)))
  (import "wasi:io/streams@{{V}}" "[resource-drop]output-stream" (func $drop_out (param i32)))
  (import "wasi:cli/stderr@{{V}}" "get-stderr" (func $get_stderr (result i32)))
  (import "wasi:clocks/monotonic-clock@{{V}}" "now" (func $mono_now (result i64)))
  (import "wasi:clocks/monotonic-clock@{{V}}" "subscribe-duration" (func $mono_subscribe (param i64) (result i32)))
  (import "wasi:clocks/wall-clock@{{V}}" "now" (func $wall_now (param i32)))
  (import "wasi:io/poll@{{V}}" "[method]pollable.block" (func $poll_block (param i32)))
  (import "wasi:io/poll@{{V}}" "[resource-drop]pollable" (func $drop_pollable (param i32)))
  (import "wasi:random/random@{{V}}" "get-random-u64" (func $random_u64 (result i64)))
{{OUTBOUND_IMPORTS}}

  ;; The bridge's memory. Its maximum follows the function's (the lowering adds up only
  ;; the maxima that exist).
  (memory $am 1 {{AM_MAX}})

  ;; Layout of $am (offsets inside $am):
  ;;   0..63        RET: the return area of canonical-ABI calls (8-aligned, one call at a time)
  ;;   64..4095     the literals (@lit), copied from $lits at start
  ;;   4096..       the arena: what the host allocates (the request's strings, header list and
  ;;                body), the environment, argv; then, from the function's first write to
  ;;                stdout, the CGI header block (64 KiB + 8) and the held body (64 KiB).
  (global $RET i32 (i32.const 0))
  (global $hdrbuf (mut i32) (i32.const 0))
  (global $HDRCAP i32 (i32.const 65544))
  ;; cgi.ts looks for the end of the header block in its first 64 KiB + 4 bytes.
  (global $HDRLIMIT i32 (i32.const 65540))
  (global $pend (mut i32) (i32.const 0))
  (global $pend_len (mut i32) (i32.const 0))
  (global $PENDCAP i32 (i32.const 65536))

  (global $arena (mut i32) (i32.const 4096))

  (global $req (mut i32) (i32.const 0))
  (global $outparam (mut i32) (i32.const 0))

  ;; What the host gave (offsets in $am): method, path-with-query, scheme, authority, headers.
  (global $method_tag (mut i32) (i32.const 0))
  (global $method (mut i32) (i32.const 0))
  (global $method_len (mut i32) (i32.const 0))
  (global $pwq (mut i32) (i32.const 0))
  (global $pwq_len (mut i32) (i32.const -1))
  (global $scheme (mut i32) (i32.const 0))
  (global $scheme_len (mut i32) (i32.const 0))
  (global $authority (mut i32) (i32.const 0))
  (global $authority_len (mut i32) (i32.const -1))
  (global $entries (mut i32) (i32.const 0))
  (global $entries_n (mut i32) (i32.const 0))

  ;; The request body, read whole into the arena before the function starts (CONTENT_LENGTH
  ;; is its length, as cgi.ts has it).
  (global $bodybuf (mut i32) (i32.const 0))
  (global $bodybuf_len (mut i32) (i32.const 0))
  (global $bodybuf_pos (mut i32) (i32.const 0))

  ;; The URI (X_FULL_URL, in the arena) and its parts.
  (global $uri (mut i32) (i32.const 0))
  (global $uri_len (mut i32) (i32.const 0))
  (global $path (mut i32) (i32.const 0))
  (global $path_len (mut i32) (i32.const 0))
  (global $query (mut i32) (i32.const 0))
  (global $query_len (mut i32) (i32.const 0))
  (global $host (mut i32) (i32.const 0))
  (global $host_len (mut i32) (i32.const 0))
  (global $port (mut i32) (i32.const 0))
  (global $port_len (mut i32) (i32.const 0))
  (global $https (mut i32) (i32.const 0))

  ;; Environment: configured variables first, then the built-ins (cgi.ts's order); each a
  ;; run of NUL-terminated "KEY=VALUE" strings.
  (global $cfg_start (mut i32) (i32.const 0))
  (global $cfg_end (mut i32) (i32.const 0))
  (global $cfg_count (mut i32) (i32.const 0))
  (global $bi_start (mut i32) (i32.const 0))
  (global $bi_end (mut i32) (i32.const 0))
  (global $bi_count (mut i32) (i32.const 0))
  (global $argv_start (mut i32) (i32.const 0))
  (global $argv_end (mut i32) (i32.const 0))
  (global $argv_count (mut i32) (i32.const 0))

  ;; stdout: 0 = collecting the header block, 1 = body, 2 = header block too long.
  (global $out_state (mut i32) (i32.const 0))
  (global $hdr_len (mut i32) (i32.const 0))
  (global $hdr_end (mut i32) (i32.const 0))
  ;; 1 once the response is decided (sent, or an error answered): later output is dropped.
  (global $finished (mut i32) (i32.const 0))
  ;; 1 once the response is set and its body streams.
  (global $committed (mut i32) (i32.const 0))
  (global $out_body (mut i32) (i32.const -1))
  (global $out_stream (mut i32) (i32.const -1))
  (global $stderr (mut i32) (i32.const -1))

  (global $decode_failed (mut i32) (i32.const 0))
  (global $decoded_nul (mut i32) (i32.const 0))
  (global $bad_request (mut i32) (i32.const 0))

  (data $lits "{{LITS}}")
  (data $config "{{CONFIG}}")

  ;; ---------------------------------------------------------------- memory helpers

  ;; Absolute address (in the lowered, single memory) of an $am offset. Valid until the
  ;; function grows its memory, so compute it right before each hostcall.
  (func $abs (param $off i32) (result i32)
    (i32.add (i32.shl (memory.size $gm) (i32.const 16)) (local.get $off)))

  (func $am_capacity (result i32)
    (i32.shl (memory.size $am) (i32.const 16)))

  ;; Makes sure $am holds at least $end bytes.
  (func $ensure (param $end i32)
    (local $have i32)
    (local.set $have (call $am_capacity))
    (if (i32.gt_u (local.get $end) (local.get $have))
      (then
        (if (i32.eq
              (memory.grow $am
                (i32.shr_u (i32.add (i32.sub (local.get $end) (local.get $have)) (i32.const 65535)) (i32.const 16)))
              (i32.const -1))
          (then unreachable)))))

  (func $emit_byte (param $b i32)
    (call $ensure (i32.add (global.get $arena) (i32.const 1)))
    (i32.store8 $am (global.get $arena) (local.get $b))
    (global.set $arena (i32.add (global.get $arena) (i32.const 1))))

  (func $emit (param $off i32) (param $len i32)
    (call $ensure (i32.add (global.get $arena) (local.get $len)))
    (memory.copy $am $am (global.get $arena) (local.get $off) (local.get $len))
    (global.set $arena (i32.add (global.get $arena) (local.get $len))))

  (func $emit_u64 (param $n i64)
    (local $start i32) (local $i i32) (local $j i32) (local $t i32)
    (local.set $start (global.get $arena))
    (loop $digits
      (call $emit_byte (i32.add (i32.const 48) (i32.wrap_i64 (i64.rem_u (local.get $n) (i64.const 10)))))
      (local.set $n (i64.div_u (local.get $n) (i64.const 10)))
      (br_if $digits (i64.ne (local.get $n) (i64.const 0))))
    ;; reverse in place
    (local.set $i (local.get $start))
    (local.set $j (i32.sub (global.get $arena) (i32.const 1)))
    (block $done
      (loop $rev
        (br_if $done (i32.ge_u (local.get $i) (local.get $j)))
        (local.set $t (i32.load8_u $am (local.get $i)))
        (i32.store8 $am (local.get $i) (i32.load8_u $am (local.get $j)))
        (i32.store8 $am (local.get $j) (local.get $t))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (local.set $j (i32.sub (local.get $j) (i32.const 1)))
        (br $rev))))

  (func $emit_hex4 (param $n i32)
    (local $shift i32) (local $d i32) (local $started i32)
    (local.set $shift (i32.const 12))
    (loop $next
      (local.set $d (i32.and (i32.shr_u (local.get $n) (local.get $shift)) (i32.const 15)))
      (if (i32.or (i32.or (local.get $started) (i32.ne (local.get $d) (i32.const 0))) (i32.eqz (local.get $shift)))
        (then
          (local.set $started (i32.const 1))
          (call $emit_byte (select (i32.add (local.get $d) (i32.const 48)) (i32.add (local.get $d) (i32.const 87))
                             (i32.lt_u (local.get $d) (i32.const 10))))))
      (local.set $shift (i32.sub (local.get $shift) (i32.const 4)))
      (br_if $next (i32.ge_s (local.get $shift) (i32.const 0)))))

  (func $lower (param $c i32) (result i32)
    (if (result i32) (i32.and (i32.ge_u (local.get $c) (i32.const 65)) (i32.le_u (local.get $c) (i32.const 90)))
      (then (i32.add (local.get $c) (i32.const 32)))
      (else (local.get $c))))

  (func $upper (param $c i32) (result i32)
    (if (result i32) (i32.and (i32.ge_u (local.get $c) (i32.const 97)) (i32.le_u (local.get $c) (i32.const 122)))
      (then (i32.sub (local.get $c) (i32.const 32)))
      (else (local.get $c))))

  ;; Case-insensitive comparison of $am bytes with a (lower-case) literal.
  (func $ieq (param $p i32) (param $len i32) (param $lit i32) (param $lit_len i32) (result i32)
    (local $i i32)
    (if (i32.ne (local.get $len) (local.get $lit_len)) (then (return (i32.const 0))))
    (block $diff
      (loop $cmp
        (if (i32.ge_u (local.get $i) (local.get $len)) (then (return (i32.const 1))))
        (br_if $diff (i32.ne (call $lower (i32.load8_u $am (i32.add (local.get $p) (local.get $i))))
                             (i32.load8_u $am (i32.add (local.get $lit) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $cmp)))
    (i32.const 0))

  ;; Index of the first $c in [$p, $p+$len), or -1.
  (func $find (param $p i32) (param $len i32) (param $c i32) (result i32)
    (local $i i32)
    (block $none
      (loop $scan
        (br_if $none (i32.ge_u (local.get $i) (local.get $len)))
        (if (i32.eq (i32.load8_u $am (i32.add (local.get $p) (local.get $i))) (local.get $c))
          (then (return (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $scan)))
    (i32.const -1))

  ;; ASCII whitespace as JavaScript's trim() sees it (TAB..CR, space).
  (func $is_space (param $c i32) (result i32)
    (i32.or (i32.eq (local.get $c) (i32.const 32))
            (i32.and (i32.ge_u (local.get $c) (i32.const 9)) (i32.le_u (local.get $c) (i32.const 13)))))

  (func $hexval (param $c i32) (result i32)
    (if (i32.and (i32.ge_u (local.get $c) (i32.const 48)) (i32.le_u (local.get $c) (i32.const 57)))
      (then (return (i32.sub (local.get $c) (i32.const 48)))))
    (local.set $c (call $lower (local.get $c)))
    (if (i32.and (i32.ge_u (local.get $c) (i32.const 97)) (i32.le_u (local.get $c) (i32.const 102)))
      (then (return (i32.sub (local.get $c) (i32.const 87)))))
    (i32.const -1))

  ;; ------------------------------------------------------------ percent-decoding

  ;; The byte of the escape "%XY" at $p (inside [$p, $end)), or -1.
  (func $escape_at (param $p i32) (param $end i32) (result i32)
    (local $h i32) (local $l i32)
    (if (i32.gt_u (i32.add (local.get $p) (i32.const 3)) (local.get $end)) (then (return (i32.const -1))))
    (if (i32.ne (i32.load8_u $am (local.get $p)) (i32.const 37)) (then (return (i32.const -1))))
    (local.set $h (call $hexval (i32.load8_u $am (i32.add (local.get $p) (i32.const 1)))))
    (local.set $l (call $hexval (i32.load8_u $am (i32.add (local.get $p) (i32.const 2)))))
    (if (i32.or (i32.lt_s (local.get $h) (i32.const 0)) (i32.lt_s (local.get $l) (i32.const 0)))
      (then (return (i32.const -1))))
    (i32.or (i32.shl (local.get $h) (i32.const 4)) (local.get $l)))

  ;; Emits decodeURIComponent([$p, $p+$len)) (with "+" read as a space when $plus), or,
  ;; when that would throw (a bad escape, an escaped sequence that is not UTF-8), the
  ;; input as it is: cgi.ts's safeDecode.
  (func $emit_decoded (param $p i32) (param $len i32) (param $plus i32)
    (local $start i32) (local $i i32) (local $end i32) (local $c i32) (local $b i32)
    (local $n i32) (local $k i32) (local $lo i32) (local $hi i32)
    (local.set $start (global.get $arena))
    (local.set $end (i32.add (local.get $p) (local.get $len)))
    (local.set $i (local.get $p))
    (global.set $decode_failed (i32.const 0))
    (global.set $decoded_nul (i32.const 0))
    (block $fail
      (block $ok
        (loop $next
          (br_if $ok (i32.ge_u (local.get $i) (local.get $end)))
          (local.set $c (i32.load8_u $am (local.get $i)))
          (if (i32.ne (local.get $c) (i32.const 37))
            (then
              (if (i32.and (local.get $plus) (i32.eq (local.get $c) (i32.const 43)))
                (then (local.set $c (i32.const 32))))
              (call $emit_byte (local.get $c))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $next)))
          (local.set $b (call $escape_at (local.get $i) (local.get $end)))
          (br_if $fail (i32.lt_s (local.get $b) (i32.const 0)))
          (local.set $i (i32.add (local.get $i) (i32.const 3)))
          (if (i32.eqz (local.get $b)) (then (global.set $decoded_nul (i32.const 1))))
          (call $emit_byte (local.get $b))
          (br_if $next (i32.lt_u (local.get $b) (i32.const 0x80)))
          ;; A UTF-8 lead byte: how many continuation escapes follow, and the bounds of
          ;; the first one (no overlongs, no surrogates, nothing above U+10FFFF).
          (local.set $lo (i32.const 0x80))
          (local.set $hi (i32.const 0xbf))
          (if (i32.and (i32.ge_u (local.get $b) (i32.const 0xc2)) (i32.le_u (local.get $b) (i32.const 0xdf)))
            (then (local.set $n (i32.const 1)))
            (else
              (if (i32.and (i32.ge_u (local.get $b) (i32.const 0xe0)) (i32.le_u (local.get $b) (i32.const 0xef)))
                (then
                  (local.set $n (i32.const 2))
                  (if (i32.eq (local.get $b) (i32.const 0xe0)) (then (local.set $lo (i32.const 0xa0))))
                  (if (i32.eq (local.get $b) (i32.const 0xed)) (then (local.set $hi (i32.const 0x9f)))))
                (else
                  (if (i32.and (i32.ge_u (local.get $b) (i32.const 0xf0)) (i32.le_u (local.get $b) (i32.const 0xf4)))
                    (then
                      (local.set $n (i32.const 3))
                      (if (i32.eq (local.get $b) (i32.const 0xf0)) (then (local.set $lo (i32.const 0x90))))
                      (if (i32.eq (local.get $b) (i32.const 0xf4)) (then (local.set $hi (i32.const 0x8f)))))
                    (else (br $fail)))))))
          (local.set $k (i32.const 0))
          (loop $cont
            (local.set $b (call $escape_at (local.get $i) (local.get $end)))
            (br_if $fail (i32.lt_u (local.get $b) (local.get $lo)))
            (br_if $fail (i32.gt_u (local.get $b) (local.get $hi)))
            (call $emit_byte (local.get $b))
            (local.set $i (i32.add (local.get $i) (i32.const 3)))
            (local.set $lo (i32.const 0x80))
            (local.set $hi (i32.const 0xbf))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br_if $cont (i32.lt_u (local.get $k) (local.get $n))))
          (br $next)))
      (return))
    ;; fallback: the raw text ("+" still a space)
    (global.set $decode_failed (i32.const 1))
    (global.set $decoded_nul (i32.const 0))
    (global.set $arena (local.get $start))
    (local.set $i (local.get $p))
    (block $done
      (loop $raw
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $c (i32.load8_u $am (local.get $i)))
        (if (i32.and (local.get $plus) (i32.eq (local.get $c) (i32.const 43)))
          (then (local.set $c (i32.const 32))))
        (call $emit_byte (local.get $c))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $raw))))


  ;; $am offset of an absolute address the host returned (valid until the function grows its memory).
  (func $rel (param $abs i32) (result i32)
    (i32.sub (local.get $abs) (i32.shl (memory.size $gm) (i32.const 16))))

  ;; The canonical ABI's allocator: the host places returned lists and strings with it. A
  ;; bump allocator over the arena (nothing is freed: the instance serves one request).
  (func (export "cabi_realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
    (local $at i32)
    (local.set $at (i32.and (i32.add (global.get $arena) (i32.sub (local.get $align) (i32.const 1)))
                            (i32.sub (i32.const 0) (local.get $align))))
    (call $ensure (i32.add (local.get $at) (local.get $size)))
    (if (i32.and (local.get $old_size) (i32.ne (local.get $old) (i32.const 0)))
      (then
        (memory.copy $am $am (local.get $at) (call $rel (local.get $old))
          (select (local.get $old_size) (local.get $size) (i32.lt_u (local.get $old_size) (local.get $size))))))
    (global.set $arena (i32.add (local.get $at) (local.get $size)))
    (call $abs (local.get $at)))

  ;; ------------------------------------------------------------- request -> CGI

  (func $parse_uri
    (local $p i32) (local $end i32) (local $i i32) (local $c i32) (local $a i32) (local $colon i32)
    (local.set $p (global.get $uri))
    (local.set $end (i32.add (global.get $uri) (global.get $uri_len)))
    (local.set $i (local.get $p))
    ;; "scheme://authority" (a URI that starts with "/" has no authority)
    (block $no_authority
    (if (i32.and (i32.lt_u (local.get $i) (local.get $end)) (i32.ne (i32.load8_u $am (local.get $i)) (i32.const 47)))
      (then
        (block $found
          (loop $scheme
            (if (i32.ge_u (i32.add (local.get $i) (i32.const 2)) (local.get $end))
              (then (local.set $i (local.get $p)) (br $no_authority)))
            (br_if $found (i32.and (i32.eq (i32.load8_u $am (local.get $i)) (i32.const 58))
                            (i32.and (i32.eq (i32.load8_u $am (i32.add (local.get $i) (i32.const 1))) (i32.const 47))
                                     (i32.eq (i32.load8_u $am (i32.add (local.get $i) (i32.const 2))) (i32.const 47)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $scheme)))
        (global.set $https (call $ieq (local.get $p) (i32.sub (local.get $i) (local.get $p)) @lit"https"))
        (local.set $i (i32.add (local.get $i) (i32.const 3)))
        (local.set $a (local.get $i))
        (block $auth_end
          (loop $auth
            (br_if $auth_end (i32.ge_u (local.get $i) (local.get $end)))
            (local.set $c (i32.load8_u $am (local.get $i)))
            (br_if $auth_end (i32.or (i32.eq (local.get $c) (i32.const 47))
                              (i32.or (i32.eq (local.get $c) (i32.const 63)) (i32.eq (local.get $c) (i32.const 35)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $auth)))
        ;; host[:port], with "[v6]" kept in brackets as URL.hostname does
        (local.set $colon (i32.const -1))
        (local.set $c (local.get $a))
        (block $hp_end
          (loop $hp
            (br_if $hp_end (i32.ge_u (local.get $c) (local.get $i)))
            (if (i32.eq (i32.load8_u $am (local.get $c)) (i32.const 58)) (then (local.set $colon (local.get $c))))
            (if (i32.eq (i32.load8_u $am (local.get $c)) (i32.const 93)) (then (local.set $colon (i32.const -1))))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $hp)))
        (global.set $host (local.get $a))
        (if (i32.ge_s (local.get $colon) (i32.const 0))
          (then
            (global.set $host_len (i32.sub (local.get $colon) (local.get $a)))
            (global.set $port (i32.add (local.get $colon) (i32.const 1)))
            (global.set $port_len (i32.sub (local.get $i) (global.get $port))))
          (else (global.set $host_len (i32.sub (local.get $i) (local.get $a))))))))
    ;; path up to "?" or "#"
    (global.set $path (local.get $i))
    (block $path_end
      (loop $pth
        (br_if $path_end (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $c (i32.load8_u $am (local.get $i)))
        (br_if $path_end (i32.or (i32.eq (local.get $c) (i32.const 63)) (i32.eq (local.get $c) (i32.const 35))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $pth)))
    (global.set $path_len (i32.sub (local.get $i) (global.get $path)))
    (if (i32.and (i32.lt_u (local.get $i) (local.get $end)) (i32.eq (i32.load8_u $am (local.get $i)) (i32.const 63)))
      (then
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (global.set $query (local.get $i))
        (block $q_end
          (loop $q
            (br_if $q_end (i32.ge_u (local.get $i) (local.get $end)))
            (br_if $q_end (i32.eq (i32.load8_u $am (local.get $i)) (i32.const 35)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $q)))
        (global.set $query_len (i32.sub (local.get $i) (global.get $query))))))

  (func $var_end
    (call $emit_byte (i32.const 0))
    (global.set $bi_count (i32.add (global.get $bi_count) (i32.const 1))))

  ;; REMOTE_ADDR's value: dotted IPv4, or IPv6 in the compressed form Node prints.

  ;; Is the name of header entry $i the same as that of entry $j?
  (func $same_name (param $i i32) (param $j i32) (result i32)
    (local $a i32) (local $b i32)
    (local.set $a (i32.add (global.get $entries) (i32.shl (local.get $i) (i32.const 4))))
    (local.set $b (i32.add (global.get $entries) (i32.shl (local.get $j) (i32.const 4))))
    (if (i32.ne (i32.load $am offset=4 (local.get $a)) (i32.load $am offset=4 (local.get $b))) (then (return (i32.const 0))))
    (i32.eqz (call $memcmp (call $rel (i32.load $am (local.get $a))) (call $rel (i32.load $am (local.get $b)))
      (i32.load $am offset=4 (local.get $a)))))

  ;; Index of the first header entry named like the (lower-case) literal, or -1.
  (func $find_entry (param $lit i32) (param $lit_len i32) (result i32)
    (local $i i32) (local $e i32)
    (block $none
      (loop $each
        (br_if $none (i32.ge_u (local.get $i) (global.get $entries_n)))
        (local.set $e (i32.add (global.get $entries) (i32.shl (local.get $i) (i32.const 4))))
        (if (call $ieq (call $rel (i32.load $am (local.get $e))) (i32.load $am offset=4 (local.get $e)) (local.get $lit) (local.get $lit_len))
          (then (return (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each)))
    (i32.const -1))

  (func $emit_entry_value (param $i i32)
    (local $e i32)
    (local.set $e (i32.add (global.get $entries) (i32.shl (local.get $i) (i32.const 4))))
    (call $emit (call $rel (i32.load $am offset=8 (local.get $e))) (i32.load $am offset=12 (local.get $e))))

  ;; HTTP_<NAME> for every request header but Content-Type/Content-Length, in the order of
  ;; their first appearance; repeated values joined with ", " ("; " for Cookie). A host that
  ;; keeps Host out of the header list (it is the authority) gets HTTP_HOST from the authority.
  (func $emit_http_headers
    (local $i i32) (local $j i32) (local $e i32) (local $p i32) (local $len i32) (local $c i32)
    (local $ok i32) (local $k i32) (local $cookie i32)
    (if (i32.and (i32.lt_s (call $find_entry @lit"host") (i32.const 0)) (i32.ge_s (global.get $authority_len) (i32.const 0)))
      (then
        (call $emit @lit"HTTP_HOST=")
        (call $emit (global.get $authority) (global.get $authority_len))
        (call $var_end)))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (global.get $entries_n)))
        (local.set $e (i32.add (global.get $entries) (i32.shl (local.get $i) (i32.const 4))))
        (local.set $p (call $rel (i32.load $am (local.get $e))))
        (local.set $len (i32.load $am offset=4 (local.get $e)))
        ;; lower-case it; only names of [a-z0-9-] become variables
        (local.set $ok (i32.ne (local.get $len) (i32.const 0)))
        (local.set $k (i32.const 0))
        (block $chk_done
          (loop $chk
            (br_if $chk_done (i32.ge_u (local.get $k) (local.get $len)))
            (local.set $c (call $lower (i32.load8_u $am (i32.add (local.get $p) (local.get $k)))))
            (i32.store8 $am (i32.add (local.get $p) (local.get $k)) (local.get $c))
            (if (i32.eqz (i32.or (i32.eq (local.get $c) (i32.const 45))
                           (i32.or (i32.and (i32.ge_u (local.get $c) (i32.const 97)) (i32.le_u (local.get $c) (i32.const 122)))
                                   (i32.and (i32.ge_u (local.get $c) (i32.const 48)) (i32.le_u (local.get $c) (i32.const 57))))))
              (then (local.set $ok (i32.const 0))))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $chk)))
        (if (call $ieq (local.get $p) (local.get $len) @lit"content-type") (then (local.set $ok (i32.const 0))))
        (if (call $ieq (local.get $p) (local.get $len) @lit"content-length") (then (local.set $ok (i32.const 0))))
        ;; a name seen before was emitted with all its values
        (local.set $j (i32.const 0))
        (block $seen_done
          (loop $seen
            (br_if $seen_done (i32.ge_u (local.get $j) (local.get $i)))
            (if (call $same_name (local.get $i) (local.get $j)) (then (local.set $ok (i32.const 0)) (br $seen_done)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $seen)))
        (if (local.get $ok)
          (then
            (local.set $cookie (call $ieq (local.get $p) (local.get $len) @lit"cookie"))
            (call $emit @lit"HTTP_")
            (local.set $k (i32.const 0))
            (loop $up
              (local.set $c (call $upper (i32.load8_u $am (i32.add (local.get $p) (local.get $k)))))
              (call $emit_byte (select (i32.const 95) (local.get $c) (i32.eq (local.get $c) (i32.const 45))))
              (local.set $k (i32.add (local.get $k) (i32.const 1)))
              (br_if $up (i32.lt_u (local.get $k) (local.get $len))))
            (call $emit_byte (i32.const 61))
            (call $emit_entry_value (local.get $i))
            (local.set $j (i32.add (local.get $i) (i32.const 1)))
            (block $more_done
              (loop $more
                (br_if $more_done (i32.ge_u (local.get $j) (global.get $entries_n)))
                (if (call $same_name (local.get $i) (local.get $j))
                  (then
                    (call $emit_byte (select (i32.const 59) (i32.const 44) (local.get $cookie)))
                    (call $emit_byte (i32.const 32))
                    (call $emit_entry_value (local.get $j))))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $more)))
            (call $var_end)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each))))

  (func $is_builtin_key (param $e i32) (param $klen i32) (result i32)
    (local $p i32) (local $len i32)
    (local.set $p (global.get $bi_start))
    (block $none
      (loop $each
        (br_if $none (i32.ge_u (local.get $p) (global.get $bi_end)))
        (local.set $len (call $find (local.get $p) (i32.sub (global.get $bi_end) (local.get $p)) (i32.const 0)))
        (if (i32.and (i32.gt_u (local.get $len) (local.get $klen))
                     (i32.eq (i32.load8_u $am (i32.add (local.get $p) (local.get $klen))) (i32.const 61)))
          (then
            (if (i32.eqz (call $memcmp (local.get $p) (local.get $e) (local.get $klen)))
              (then (return (i32.const 1))))))
        (local.set $p (i32.add (i32.add (local.get $p) (local.get $len)) (i32.const 1)))
        (br $each)))
    (i32.const 0))

  (func $memcmp (param $a i32) (param $b i32) (param $len i32) (result i32)
    (local $i i32)
    (block $eq
      (loop $cmp
        (br_if $eq (i32.ge_u (local.get $i) (local.get $len)))
        (if (i32.ne (i32.load8_u $am (i32.add (local.get $a) (local.get $i))) (i32.load8_u $am (i32.add (local.get $b) (local.get $i))))
          (then (return (i32.const 1))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $cmp)))
    (i32.const 0))

  ;; The configured variables ({{CONFIG_COUNT}} baked at package time), minus those a
  ;; built-in overrides (cgi.ts: built-ins win).
  (func $emit_config
    (local $src i32) (local $end i32) (local $len i32) (local $klen i32)
    (global.set $cfg_start (global.get $arena))
    ;; load the segment above the arena, then keep the entries one by one
    (local.set $src (i32.add (global.get $arena) (i32.const {{CONFIG_BYTES}})))
    (call $ensure (i32.add (local.get $src) (i32.const {{CONFIG_BYTES}})))
    (memory.init $am $config (local.get $src) (i32.const 0) (i32.const {{CONFIG_BYTES}}))
    (local.set $end (i32.add (local.get $src) (i32.const {{CONFIG_BYTES}})))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
        (local.set $len (call $find (local.get $src) (i32.sub (local.get $end) (local.get $src)) (i32.const 0)))
        (local.set $klen (call $find (local.get $src) (local.get $len) (i32.const 61)))
        (if (i32.eqz (call $is_builtin_key (local.get $src) (local.get $klen)))
          (then
            (call $emit (local.get $src) (i32.add (local.get $len) (i32.const 1)))
            (global.set $cfg_count (i32.add (global.get $cfg_count) (i32.const 1)))))
        (local.set $src (i32.add (i32.add (local.get $src) (local.get $len)) (i32.const 1)))
        (br $each)))
    {{SECRETS_EMIT}}
    (global.set $cfg_end (global.get $arena)))

  ;; argv as cgi.ts: the raw path, then each "&"-separated query pair, decoded.
  (func $emit_argv
    (local $p i32) (local $end i32) (local $len i32)
    (global.set $argv_start (global.get $arena))
    (call $emit (global.get $path) (global.get $path_len))
    (call $emit_byte (i32.const 0))
    (global.set $argv_count (i32.const 1))
    (if (global.get $query_len)
      (then
        (local.set $p (global.get $query))
        (local.set $end (i32.add (global.get $query) (global.get $query_len)))
        (loop $pair
          (local.set $len (call $find (local.get $p) (i32.sub (local.get $end) (local.get $p)) (i32.const 38)))
          (if (i32.lt_s (local.get $len) (i32.const 0)) (then (local.set $len (i32.sub (local.get $end) (local.get $p)))))
          (call $emit_decoded (local.get $p) (local.get $len) (i32.const 1))
          (if (global.get $decoded_nul) (then (global.set $bad_request (i32.const 1))))
          (call $emit_byte (i32.const 0))
          (global.set $argv_count (i32.add (global.get $argv_count) (i32.const 1)))
          (local.set $p (i32.add (i32.add (local.get $p) (local.get $len)) (i32.const 1)))
          (br_if $pair (i32.le_u (local.get $p) (local.get $end))))))
    (global.set $argv_end (global.get $arena)))

  ;; The request body, when the host cannot tell its length: read it all into the arena.

  ;; ------------------------------------------------------------- reading the request

  ;; An option<string> at RET: its $am offset into *$ptr_g and its length (-1 for none).
  (func $ret_option_string (result i32 i32)
    (if (result i32 i32) (i32.load8_u $am (global.get $RET))
      (then (call $rel (i32.load $am offset=4 (global.get $RET))) (i32.load $am offset=8 (global.get $RET)))
      (else (i32.const 0) (i32.const -1))))

  ;; The whole request body into the arena (the host's list allocations land there in order).
  (func $read_body
    (local $body i32) (local $stream i32) (local $ptr i32) (local $len i32)
    (global.set $bodybuf (global.get $arena))
    (call $req_consume (global.get $req) (call $abs (global.get $RET)))
    (if (i32.load8_u $am (global.get $RET)) (then (return)))
    (local.set $body (i32.load $am offset=4 (global.get $RET)))
    (call $inbody_stream (local.get $body) (call $abs (global.get $RET)))
    (if (i32.load8_u $am (global.get $RET)) (then (return)))
    (local.set $stream (i32.load $am offset=4 (global.get $RET)))
    (global.set $bodybuf (global.get $arena))
    (block $done
      (loop $more
        (call $in_read (local.get $stream) (i64.const 65536) (call $abs (global.get $RET)))
        ;; an error is the end: closed, or the client went away (what was read is the body)
        (br_if $done (i32.load8_u $am (global.get $RET)))
        (local.set $ptr (call $rel (i32.load $am offset=4 (global.get $RET))))
        (local.set $len (i32.load $am offset=8 (global.get $RET)))
        ;; (a host that placed the chunk elsewhere: move it to the end of the body)
        (if (i32.ne (local.get $ptr) (i32.add (global.get $bodybuf) (global.get $bodybuf_len)))
          (then
            (call $ensure (i32.add (i32.add (global.get $bodybuf) (global.get $bodybuf_len)) (local.get $len)))
            (memory.copy $am $am (i32.add (global.get $bodybuf) (global.get $bodybuf_len)) (local.get $ptr) (local.get $len))))
        (global.set $bodybuf_len (i32.add (global.get $bodybuf_len) (local.get $len)))
        (global.set $arena (i32.add (global.get $bodybuf) (global.get $bodybuf_len)))
        (br $more)))
    (call $drop_in (local.get $stream)))

  (func $init
    (local $len i32) (local $v i32) (local $i i32)
    (memory.init $am $lits (i32.const 64) (i32.const 0) (i32.const {{LITS_BYTES}}))

    ;; what the host gives, first (it allocates in the arena), then the environment from it
    (call $req_method (global.get $req) (call $abs (global.get $RET)))
    (global.set $method_tag (i32.load8_u $am (global.get $RET)))
    (if (i32.eq (global.get $method_tag) (i32.const 9))
      (then
        (global.set $method (call $rel (i32.load $am offset=4 (global.get $RET))))
        (global.set $method_len (i32.load $am offset=8 (global.get $RET)))))
    (call $req_pwq (global.get $req) (call $abs (global.get $RET)))
    (call $ret_option_string) (global.set $pwq_len) (global.set $pwq)
    (call $req_authority (global.get $req) (call $abs (global.get $RET)))
    (call $ret_option_string) (global.set $authority_len) (global.set $authority)
    (call $req_scheme (global.get $req) (call $abs (global.get $RET)))
    (if (i32.load8_u $am (global.get $RET))
      (then
        (if (i32.eq (i32.load8_u $am offset=4 (global.get $RET)) (i32.const 2))
          (then
            (global.set $scheme (call $rel (i32.load $am offset=8 (global.get $RET))))
            (global.set $scheme_len (i32.load $am offset=12 (global.get $RET))))
          (else (global.set $https (i32.load8_u $am offset=4 (global.get $RET)))))))
    (call $fields_entries (call $req_headers (global.get $req)) (call $abs (global.get $RET)))
    (global.set $entries (call $rel (i32.load $am (global.get $RET))))
    (global.set $entries_n (i32.load $am offset=4 (global.get $RET)))
    (call $read_body)

    ;; X_FULL_URL: scheme://authority/path?query
    (global.set $uri (global.get $arena))
    (if (global.get $scheme_len)
      (then (call $emit (global.get $scheme) (global.get $scheme_len)))
      (else (if (global.get $https) (then (call $emit @lit"https")) (else (call $emit @lit"http")))))
    (call $emit @lit"://")
    (if (i32.ge_s (global.get $authority_len) (i32.const 0))
      (then (call $emit (global.get $authority) (global.get $authority_len)))
      (else (call $emit @lit"localhost")))
    (if (i32.gt_s (global.get $pwq_len) (i32.const 0))
      (then (call $emit (global.get $pwq) (global.get $pwq_len)))
      (else (call $emit_byte (i32.const 47))))
    (global.set $uri_len (i32.sub (global.get $arena) (global.get $uri)))
    (call $parse_uri)

    (global.set $bi_start (global.get $arena))
    (call $emit @lit"REQUEST_METHOD=")
    (if (i32.eq (global.get $method_tag) (i32.const 9))
      (then
        (local.set $v (global.get $arena))
        (call $emit (global.get $method) (global.get $method_len))
        (block $up_done
          (loop $up
            (br_if $up_done (i32.ge_u (local.get $v) (global.get $arena)))
            (i32.store8 $am (local.get $v) (call $upper (i32.load8_u $am (local.get $v))))
            (local.set $v (i32.add (local.get $v) (i32.const 1)))
            (br $up))))
      (else
        ;; get head post put delete connect options trace patch, 8 bytes apart
        (local.set $v (i32.add @off"GET\00\00\00\00\00HEAD\00\00\00\00POST\00\00\00\00PUT\00\00\00\00\00DELETE\00\00CONNECT\00OPTIONS\00TRACE\00\00\00PATCH\00\00\00"
                               (i32.shl (global.get $method_tag) (i32.const 3))))
        (call $emit (local.get $v) (call $find (local.get $v) (i32.const 8) (i32.const 0)))))
    (call $var_end)
    (call $emit @lit"QUERY_STRING=")
    (call $emit (global.get $query) (global.get $query_len))
    (call $var_end)
    (call $emit @lit"PATH_INFO=")
    (call $emit_decoded (global.get $path) (global.get $path_len) (i32.const 0))
    (if (i32.or (global.get $decode_failed) (global.get $decoded_nul)) (then (global.set $bad_request (i32.const 1))))
    (call $var_end)
    (call $emit @lit"X_RAW_PATH_INFO=")
    (call $emit (global.get $path) (global.get $path_len))
    (call $var_end)
    (call $emit @lit"SCRIPT_NAME={{SCRIPT_NAME}}")
    (call $var_end)
    (call $emit @lit"X_MATCHED_ROUTE={{MATCHED_ROUTE}}")
    (call $var_end)
    (call $emit @lit"X_FULL_URL=")
    (call $emit (global.get $uri) (global.get $uri_len))
    (call $var_end)
    (call $emit @lit"SERVER_NAME=")
    (call $emit (global.get $host) (global.get $host_len))
    (call $var_end)
    (call $emit @lit"SERVER_PORT=")
    (if (global.get $port_len)
      (then (call $emit (global.get $port) (global.get $port_len)))
      (else
        (if (global.get $https)
          (then (call $emit @lit"443"))
          (else (call $emit @lit"80")))))
    (call $var_end)
    (call $emit @lit"SERVER_PROTOCOL=HTTP/1.1")
    (call $var_end)
    (call $emit @lit"SERVER_SOFTWARE={{SERVER_SOFTWARE}}")
    (call $var_end)
    (call $emit @lit"GATEWAY_INTERFACE=CGI/1.1")
    (call $var_end)
    ;; wasi:http does not tell the client's address
    (call $emit @lit"REMOTE_ADDR=")
    (call $var_end)
    (call $emit @lit"CONTENT_TYPE=")
    (local.set $i (call $find_entry @lit"content-type"))
    (if (i32.ge_s (local.get $i) (i32.const 0)) (then (call $emit_entry_value (local.get $i))))
    (call $var_end)
    (call $emit @lit"CONTENT_LENGTH=")
    (call $emit_u64 (i64.extend_i32_u (global.get $bodybuf_len)))
    (call $var_end)
    (call $emit_http_headers)
    (global.set $bi_end (global.get $arena))

    (call $emit_config)
    (call $emit_argv)
    {{OUTBOUND_INIT}})

  ;; ------------------------------------------------------------- preview1 exports

  ;; ------------------------------------------------------------- preview1 exports

  ;; Copies runs of NUL-terminated strings to the guest: pointers at $ptrs, bytes at $buf.
  (func $copy_strings (param $ptrs i32) (param $buf i32) (param $start i32) (param $end i32) (result i32)
    (local $p i32) (local $at i32)
    (memory.copy $gm $am (local.get $buf) (local.get $start) (i32.sub (local.get $end) (local.get $start)))
    (local.set $p (local.get $start))
    (local.set $at (local.get $start))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (if (i32.eq (local.get $p) (local.get $at))
          (then
            (i32.store $gm (local.get $ptrs) (i32.add (local.get $buf) (i32.sub (local.get $p) (local.get $start))))
            (local.set $ptrs (i32.add (local.get $ptrs) (i32.const 4)))))
        (if (i32.eqz (i32.load8_u $am (local.get $p)))
          (then (local.set $at (i32.add (local.get $p) (i32.const 1)))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $each)))
    (local.get $ptrs))

  (func (export "environ_sizes_get") (param $count i32) (param $size i32) (result i32)
    (i32.store $gm (local.get $count) (i32.add (global.get $cfg_count) (global.get $bi_count)))
    (i32.store $gm (local.get $size) (i32.add (i32.sub (global.get $cfg_end) (global.get $cfg_start))
                                              (i32.sub (global.get $bi_end) (global.get $bi_start))))
    (i32.const 0))

  (func (export "environ_get") (param $ptrs i32) (param $buf i32) (result i32)
    (local.set $ptrs (call $copy_strings (local.get $ptrs) (local.get $buf) (global.get $cfg_start) (global.get $cfg_end)))
    (drop (call $copy_strings (local.get $ptrs)
      (i32.add (local.get $buf) (i32.sub (global.get $cfg_end) (global.get $cfg_start)))
      (global.get $bi_start) (global.get $bi_end)))
    (i32.const 0))

  (func (export "args_sizes_get") (param $count i32) (param $size i32) (result i32)
    (i32.store $gm (local.get $count) (global.get $argv_count))
    (i32.store $gm (local.get $size) (i32.sub (global.get $argv_end) (global.get $argv_start)))
    (i32.const 0))

  (func (export "args_get") (param $ptrs i32) (param $buf i32) (result i32)
    (drop (call $copy_strings (local.get $ptrs) (local.get $buf) (global.get $argv_start) (global.get $argv_end)))
    (i32.const 0))

  ;; stdin: the request body, read by the host straight into the guest's buffers.

  ;; stdin: the request body, from the arena.
  (func (export "fd_read") (param $fd i32) (param $iovs i32) (param $count i32) (param $nread i32) (result i32)
    (local $i i32) (local $ptr i32) (local $len i32) (local $n i32) (local $total i32)
    (if (i32.ne (local.get $fd) (i32.const 0)) (then (return (i32.const 8)))) ;; EBADF
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $ptr (i32.load $gm (i32.add (local.get $iovs) (i32.shl (local.get $i) (i32.const 3)))))
        (local.set $len (i32.load $gm offset=4 (i32.add (local.get $iovs) (i32.shl (local.get $i) (i32.const 3)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (local.set $n (i32.sub (global.get $bodybuf_len) (global.get $bodybuf_pos)))
        (if (i32.gt_u (local.get $n) (local.get $len)) (then (local.set $n (local.get $len))))
        (memory.copy $gm $am (local.get $ptr) (i32.add (global.get $bodybuf) (global.get $bodybuf_pos)) (local.get $n))
        (global.set $bodybuf_pos (i32.add (global.get $bodybuf_pos) (local.get $n)))
        (local.set $total (i32.add (local.get $total) (local.get $n)))
        (br_if $each (i32.eq (local.get $n) (local.get $len)))))
    (i32.store $gm (local.get $nread) (local.get $total))
    (i32.const 0))

  ;; Writes [$ptr, +$len) (absolute) to an output stream, 4096 bytes per call (the most
  ;; blocking-write-and-flush takes). Returns 0, or 1 when the stream failed (the client left).
  (func $stream_write (param $stream i32) (param $ptr i32) (param $len i32) (result i32)
    (local $n i32)
    (block $done
      (loop $more
        (br_if $done (i32.eqz (local.get $len)))
        (local.set $n (select (i32.const 4096) (local.get $len) (i32.gt_u (local.get $len) (i32.const 4096))))
        (call $out_write (local.get $stream) (local.get $ptr) (local.get $n) (call $abs (global.get $RET)))
        (if (i32.load8_u $am (global.get $RET)) (then (return (i32.const 1))))
        (local.set $ptr (i32.add (local.get $ptr) (local.get $n)))
        (local.set $len (i32.sub (local.get $len) (local.get $n)))
        (br $more)))
    (i32.const 0))

  ;; Body bytes [$ptr, +$len) of the function's output (absolute): held while the response
  ;; is undecided and the held bytes fit, streamed once it is set.
  (func $body_out (param $ptr i32) (param $len i32)
    (if (global.get $finished) (then (return)))
    (if (i32.eqz (global.get $committed))
      (then
        (if (i32.le_u (i32.add (global.get $pend_len) (local.get $len)) (global.get $PENDCAP))
          (then
            (memory.copy $am $gm (i32.add (global.get $pend) (global.get $pend_len)) (local.get $ptr) (local.get $len))
            (global.set $pend_len (i32.add (global.get $pend_len) (local.get $len)))
            (return)))
        (if (i32.eqz (call $commit)) (then (return)))))
    (if (call $stream_write (global.get $out_stream) (local.get $ptr) (local.get $len))
      (then (call $abort_body))))

  ;; stdout: the CGI header block is kept in $am (at $hdrbuf); what follows the blank line is body.
  (func $stdout_write (param $ptr i32) (param $len i32)
    (local $j i32) (local $b i32) (local $p i32)
    (if (global.get $finished) (then (return)))
    (if (i32.eqz (global.get $hdrbuf))
      (then
        ;; room for the header block and the held body, reserved once
        (global.set $hdrbuf (global.get $arena))
        (global.set $pend (i32.add (global.get $arena) (global.get $HDRCAP)))
        (global.set $arena (i32.add (global.get $pend) (global.get $PENDCAP)))
        (call $ensure (global.get $arena))))
    (if (i32.eqz (global.get $out_state))
      (then
        (block $head_done
          (loop $byte
            (br_if $head_done (i32.ge_u (local.get $j) (local.get $len)))
            (if (i32.ge_u (global.get $hdr_len) (global.get $HDRCAP))
              (then (global.set $out_state (i32.const 2)) (br $head_done)))
            (local.set $b (i32.load8_u $gm (i32.add (local.get $ptr) (local.get $j))))
            (local.set $p (global.get $hdr_len))
            (i32.store8 $am (i32.add (global.get $hdrbuf) (local.get $p)) (local.get $b))
            (global.set $hdr_len (i32.add (local.get $p) (i32.const 1)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            ;; the header block ends at the first "\n\n" or "\n\r\n"
            (if (i32.and (i32.eq (local.get $b) (i32.const 10)) (i32.ge_u (local.get $p) (i32.const 1)))
              (then
                (if (i32.eq (i32.load8_u $am (i32.add (global.get $hdrbuf) (i32.sub (local.get $p) (i32.const 1)))) (i32.const 10))
                  (then
                    (global.set $hdr_end (i32.sub (local.get $p) (i32.const 1)))
                    (global.set $out_state (i32.const 1))
                    (br $head_done)))
                (if (i32.ge_u (local.get $p) (i32.const 2))
                  (then
                    (if (i32.and
                          (i32.eq (i32.load8_u $am (i32.add (global.get $hdrbuf) (i32.sub (local.get $p) (i32.const 1)))) (i32.const 13))
                          (i32.eq (i32.load8_u $am (i32.add (global.get $hdrbuf) (i32.sub (local.get $p) (i32.const 2)))) (i32.const 10)))
                      (then
                        (global.set $hdr_end (i32.sub (local.get $p) (i32.const 2)))
                        (global.set $out_state (i32.const 1))
                        (br $head_done)))))))
            (br $byte)))
        (if (i32.and (i32.eq (global.get $out_state) (i32.const 1))
                     (i32.ge_u (global.get $hdr_end) (global.get $HDRLIMIT)))
          (then (global.set $out_state (i32.const 2))))
        ;; a header block that cannot end well is answered now
        (if (i32.eq (global.get $out_state) (i32.const 2))
          (then (global.set $finished (i32.const 1)) (call $send_error (i32.const 502)) (return)))))
    (if (i32.eq (global.get $out_state) (i32.const 1))
      (then (call $body_out (i32.add (local.get $ptr) (local.get $j)) (i32.sub (local.get $len) (local.get $j))))))

  ;; stderr: the engine's log.
  (func $stderr_write (param $ptr i32) (param $len i32)
    (if (i32.lt_s (global.get $stderr) (i32.const 0)) (then (global.set $stderr (call $get_stderr))))
    (drop (call $stream_write (global.get $stderr) (local.get $ptr) (local.get $len))))

  (func (export "fd_write") (param $fd i32) (param $iovs i32) (param $count i32) (param $nwritten i32) (result i32)
    (local $i i32) (local $ptr i32) (local $len i32) (local $total i32)
    (if (i32.or (i32.lt_u (local.get $fd) (i32.const 1)) (i32.gt_u (local.get $fd) (i32.const 2)))
      (then (return (i32.const 8)))) ;; EBADF
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $ptr (i32.load $gm (i32.add (local.get $iovs) (i32.shl (local.get $i) (i32.const 3)))))
        (local.set $len (i32.load $gm offset=4 (i32.add (local.get $iovs) (i32.shl (local.get $i) (i32.const 3)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (local.set $total (i32.add (local.get $total) (local.get $len)))
        (if (i32.eq (local.get $fd) (i32.const 1))
          (then (call $stdout_write (local.get $ptr) (local.get $len)))
          (else (call $stderr_write (local.get $ptr) (local.get $len))))
        (br $each)))
    (i32.store $gm (local.get $nwritten) (local.get $total))
    (i32.const 0))

  ;; ------------------------------------------------------------- clocks, random, poll

  ;; Nanoseconds on clock $id: 0 realtime (wall clock), 1-3 monotonic (process and thread
  ;; CPU time approximated by it, as src/runtime/wasi.ts does).
  (func $clock_ns (param $id i32) (result i64)
    (if (result i64) (i32.eqz (local.get $id))
      (then
        (call $wall_now (call $abs (global.get $RET)))
        (i64.add (i64.mul (i64.load $am (global.get $RET)) (i64.const 1000000000))
                 (i64.extend_i32_u (i32.load $am offset=8 (global.get $RET)))))
      (else (call $mono_now))))

  (func (export "clock_time_get") (param $id i32) (param $precision i64) (param $out i32) (result i32)
    (if (i32.gt_u (local.get $id) (i32.const 3)) (then (return (i32.const 28)))) ;; EINVAL
    (i64.store $gm (local.get $out) (call $clock_ns (local.get $id)))
    (i32.const 0))

  (func (export "clock_res_get") (param $id i32) (param $out i32) (result i32)
    (if (i32.gt_u (local.get $id) (i32.const 3)) (then (return (i32.const 28))))
    (i64.store $gm (local.get $out) (i64.const 1000))
    (i32.const 0))

  (func (export "random_get") (param $buf i32) (param $len i32) (result i32)
    (local $v i64)
    (block $done
      (loop $words
        (br_if $done (i32.lt_u (local.get $len) (i32.const 8)))
        (i64.store $gm (local.get $buf) (call $random_u64))
        (local.set $buf (i32.add (local.get $buf) (i32.const 8)))
        (local.set $len (i32.sub (local.get $len) (i32.const 8)))
        (br $words)))
    (if (local.get $len)
      (then
        (local.set $v (call $random_u64))
        (loop $bytes
          (i32.store8 $gm (local.get $buf) (i32.wrap_i64 (local.get $v)))
          (local.set $v (i64.shr_u (local.get $v) (i64.const 8)))
          (local.set $buf (i32.add (local.get $buf) (i32.const 1)))
          (local.set $len (i32.sub (local.get $len) (i32.const 1)))
          (br_if $bytes (local.get $len)))))
    (i32.const 0))

  ;; stdin and stdout are always ready, so fd subscriptions fire at once; a clock-only poll
  ;; (a guest's sleep) really waits, on a wasi:clocks pollable (src/runtime/wasi.ts's rules).
  (func (export "poll_oneoff") (param $subs i32) (param $events i32) (param $count i32) (param $nevents i32) (result i32)
    (local $i i32) (local $sub i32) (local $ev i32) (local $tag i32) (local $fired i32) (local $clocks i32)
    (local $timeout i64) (local $now i64) (local $min i64) (local $p i32)
    (local.set $min (i64.const -1))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $sub (i32.add (local.get $subs) (i32.mul (local.get $i) (i32.const 48))))
        (local.set $tag (i32.load8_u $gm offset=8 (local.get $sub)))
        (if (i32.eqz (local.get $tag))
          (then
            (local.set $timeout (i64.load $gm offset=24 (local.get $sub)))
            (if (i32.and (i32.load16_u $gm offset=40 (local.get $sub)) (i32.const 1))
              (then
                (local.set $now (call $clock_ns (i32.load $gm offset=16 (local.get $sub))))
                (local.set $timeout (select (i64.sub (local.get $timeout) (local.get $now)) (i64.const 0)
                                      (i64.gt_u (local.get $timeout) (local.get $now))))))
            (if (i64.lt_u (local.get $timeout) (local.get $min)) (then (local.set $min (local.get $timeout))))
            (local.set $clocks (i32.add (local.get $clocks) (i32.const 1))))
          (else
            (local.set $ev (i32.add (local.get $events) (i32.shl (local.get $fired) (i32.const 5))))
            (i64.store $gm (local.get $ev) (i64.load $gm (local.get $sub)))
            (i32.store16 $gm offset=8 (local.get $ev) (i32.const 0))
            (i32.store8 $gm offset=10 (local.get $ev) (local.get $tag))
            (i64.store $gm offset=16 (local.get $ev)
              (select (i64.extend_i32_u (i32.sub (global.get $bodybuf_len) (global.get $bodybuf_pos))) (i64.const 0)
                (i32.eq (local.get $tag) (i32.const 1))))
            (i32.store16 $gm offset=24 (local.get $ev) (i32.const 0))
            (local.set $fired (i32.add (local.get $fired) (i32.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each)))
    (if (i32.and (i32.eqz (local.get $fired)) (i32.ne (local.get $clocks) (i32.const 0)))
      (then
        (if (i64.ne (local.get $min) (i64.const 0))
          (then
            (local.set $p (call $mono_subscribe (local.get $min)))
            (call $poll_block (local.get $p))
            (call $drop_pollable (local.get $p))))
        (local.set $i (i32.const 0))
        (block $cdone
          (loop $ceach
            (br_if $cdone (i32.ge_u (local.get $i) (local.get $count)))
            (local.set $sub (i32.add (local.get $subs) (i32.mul (local.get $i) (i32.const 48))))
            (if (i32.eqz (i32.load8_u $gm offset=8 (local.get $sub)))
              (then
                (local.set $ev (i32.add (local.get $events) (i32.shl (local.get $fired) (i32.const 5))))
                (i64.store $gm (local.get $ev) (i64.load $gm (local.get $sub)))
                (i32.store16 $gm offset=8 (local.get $ev) (i32.const 0))
                (i32.store8 $gm offset=10 (local.get $ev) (i32.const 0))
                (local.set $fired (i32.add (local.get $fired) (i32.const 1)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $ceach)))))
    (i32.store $gm (local.get $nevents) (local.get $fired))
    (i32.const 0))

  (func (export "sched_yield") (result i32) (i32.const 0))

  ;; The standard streams exist as character devices; there are no other descriptors (no
  ;; preopened directories): the answers of src/runtime/wasi.ts.
  (func $is_stdio (param $fd i32) (result i32) (i32.le_u (local.get $fd) (i32.const 2)))
  (func (export "fd_fdstat_get") (param $fd i32) (param $out i32) (result i32)
    (if (i32.eqz (call $is_stdio (local.get $fd))) (then (return (i32.const 8))))
    (i32.store8 $gm (local.get $out) (i32.const 2))
    (i32.store16 $gm offset=2 (local.get $out) (i32.const 0))
    (i64.store $gm offset=8 (local.get $out) (i64.const 0x1fffffff))
    (i64.store $gm offset=16 (local.get $out) (i64.const 0x1fffffff))
    (i32.const 0))
  (func (export "fd_filestat_get") (param $fd i32) (param $out i32) (result i32)
    (if (i32.eqz (call $is_stdio (local.get $fd))) (then (return (i32.const 8))))
    (memory.fill $gm (local.get $out) (i32.const 0) (i32.const 64))
    (i32.store8 $gm offset=16 (local.get $out) (i32.const 2))
    (i32.const 0))
  (func (export "fd_fdstat_set_flags") (param $fd i32) (param i32) (result i32)
    (select (i32.const 0) (i32.const 8) (call $is_stdio (local.get $fd))))
  (func (export "fd_close") (param $fd i32) (result i32)
    (select (i32.const 0) (i32.const 8) (call $is_stdio (local.get $fd))))
  (func (export "fd_sync") (param $fd i32) (result i32)
    (select (i32.const 0) (i32.const 8) (call $is_stdio (local.get $fd))))
  (func (export "fd_datasync") (param $fd i32) (result i32)
    (select (i32.const 0) (i32.const 8) (call $is_stdio (local.get $fd))))
  (func (export "fd_seek") (param $fd i32) (param i64 i32 i32) (result i32)
    (select (i32.const 70) (i32.const 8) (call $is_stdio (local.get $fd))))
  (func (export "fd_tell") (param $fd i32) (param i32) (result i32)
    (select (i32.const 70) (i32.const 8) (call $is_stdio (local.get $fd))))
  (func (export "fd_prestat_get") (param i32 i32) (result i32) (i32.const 8))
  (func (export "fd_prestat_dir_name") (param i32 i32 i32) (result i32) (i32.const 8))
  (func (export "fd_readdir") (param i32 i32 i32 i64 i32) (result i32) (i32.const 8))
{{STUBS}}

  ;; ---------------------------------------------------------------- responses

  ;; The response's header fields, from the header block (cgi.ts's parseCgiResponse): the
  ;; status, or 0 when the block is malformed.
  (func $resp_header_append (param $fields i32) (param $n i32) (param $nl i32) (param $v i32) (param $vl i32) (result i32)
    (call $fields_append (local.get $fields) (local.get $n) (local.get $nl) (local.get $v) (local.get $vl) (call $abs (global.get $RET)))
    (i32.load8_u $am (global.get $RET)))

  ;; Sets the response (status, fields) and opens its body stream.
  (func $open_response (param $fields i32) (param $status i32)
    (local $resp i32)
    (local.set $resp (call $resp_new (local.get $fields)))
    (drop (call $resp_set_status (local.get $resp) (local.get $status)))
    (call $resp_body (local.get $resp) (call $abs (global.get $RET)))
    (if (i32.load8_u $am (global.get $RET)) (then unreachable))
    (global.set $out_body (i32.load $am offset=4 (global.get $RET)))
    (call $outbody_write (global.get $out_body) (call $abs (global.get $RET)))
    (if (i32.load8_u $am (global.get $RET)) (then unreachable))
    (global.set $out_stream (i32.load $am offset=4 (global.get $RET)))
    (call $outparam_set (global.get $outparam) (i32.const 0) (local.get $resp) (i32.const 0) (i64.const 0)
      (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))
    (global.set $committed (i32.const 1)))

  ;; Ends the body: the stream first (a child of the body), then finish.
  (func $close_body
    (if (i32.ge_s (global.get $out_stream) (i32.const 0))
      (then (call $drop_out (global.get $out_stream)) (global.set $out_stream (i32.const -1))))
    (if (i32.ge_s (global.get $out_body) (i32.const 0))
      (then
        (call $outbody_finish (global.get $out_body) (i32.const 0) (i32.const 0) (call $abs (global.get $RET)))
        (global.set $out_body (i32.const -1)))))

  ;; A failure after the response was set: the body is dropped unfinished, which tells the
  ;; engine the response is incomplete (it ends the connection rather than the body).
  (func $abort_body
    (global.set $finished (i32.const 1))
    (if (i32.ge_s (global.get $out_stream) (i32.const 0))
      (then (call $drop_out (global.get $out_stream)) (global.set $out_stream (i32.const -1))))
    (if (i32.ge_s (global.get $out_body) (i32.const 0))
      (then (call $drop_outbody (global.get $out_body)) (global.set $out_body (i32.const -1)))))

  (func $send_error (param $status i32)
    (local $fields i32)
    (local.set $fields (call $fields_new))
    (drop (call $resp_header_append (local.get $fields) (call $abs @off"content-type") @len"content-type"
      (call $abs @off"text/plain; charset=utf-8") @len"text/plain; charset=utf-8"))
    (call $open_response (local.get $fields) (local.get $status))
    (if (i32.eq (local.get $status) (i32.const 502))
      (then (drop (call $stream_write (global.get $out_stream) (call $abs @off"{{BODY_502}}") @len"{{BODY_502}}")))
      (else
        (if (i32.eq (local.get $status) (i32.const 400))
          (then (drop (call $stream_write (global.get $out_stream) (call $abs @off"{{BODY_400}}") @len"{{BODY_400}}")))
          (else (drop (call $stream_write (global.get $out_stream) (call $abs @off"{{BODY_500}}") @len"{{BODY_500}}"))))))
    (call $close_body))

  (func $is_token_char (param $c i32) (result i32)
    (if (i32.or (i32.and (i32.ge_u (local.get $c) (i32.const 48)) (i32.le_u (local.get $c) (i32.const 57)))
          (i32.and (i32.ge_u (call $lower (local.get $c)) (i32.const 97)) (i32.le_u (call $lower (local.get $c)) (i32.const 122))))
      (then (return (i32.const 1))))
    ;; !#$%&'*+-.^_`|~
    (i32.ge_s (call $find_lit_char (local.get $c)) (i32.const 0)))

  (func $find_lit_char (param $c i32) (result i32)
    (call $find @lit"!#$%&'*+-.^_`|~" (local.get $c)))

  ;; Parses the CGI header block (cgi.ts's parseCgiResponse) into a response on $resp.
  ;; Returns the status, or 0 when the block is malformed.
  (func $parse_headers (param $resp i32) (result i32)
    (local $p i32) (local $end i32) (local $le i32) (local $nl i32) (local $colon i32)
    (local $ns i32) (local $ne i32) (local $vs i32) (local $ve i32) (local $i i32)
    (local $status i32) (local $location i32) (local $d i32)
    (local.set $p (global.get $hdrbuf))
    (local.set $end (i32.add (global.get $hdrbuf) (global.get $hdr_end)))
    ;; a block that starts with the blank line has no headers
    (if (i32.eq (i32.load8_u $am (local.get $p)) (i32.const 10)) (then (return (i32.const 0))))
    (if (i32.and (i32.eq (i32.load8_u $am (local.get $p)) (i32.const 13))
                 (i32.eq (i32.load8_u $am (i32.add (local.get $p) (i32.const 1))) (i32.const 10)))
      (then (return (i32.const 0))))
    (loop $line
      (local.set $nl (call $find (local.get $p) (i32.sub (local.get $end) (local.get $p)) (i32.const 10)))
      (local.set $le (select (i32.add (local.get $p) (local.get $nl)) (local.get $end) (i32.ge_s (local.get $nl) (i32.const 0))))
      (local.set $nl (local.get $le))
      (if (i32.gt_u (local.get $le) (local.get $p))
        (then
          (if (i32.eq (i32.load8_u $am (i32.sub (local.get $le) (i32.const 1))) (i32.const 13))
            (then (local.set $le (i32.sub (local.get $le) (i32.const 1)))))))
      (local.set $colon (call $find (local.get $p) (i32.sub (local.get $le) (local.get $p)) (i32.const 58)))
      (if (i32.le_s (local.get $colon) (i32.const 0)) (then (return (i32.const 0))))
      ;; trimmed name, which must be a token
      (local.set $ns (local.get $p))
      (local.set $ne (i32.add (local.get $p) (local.get $colon)))
      (local.set $vs (i32.add (local.get $ne) (i32.const 1)))
      (local.set $ve (local.get $le))
      (block $a (loop $t1 (br_if $a (i32.ge_u (local.get $ns) (local.get $ne)))
        (br_if $a (i32.eqz (call $is_space (i32.load8_u $am (local.get $ns)))))
        (local.set $ns (i32.add (local.get $ns) (i32.const 1))) (br $t1)))
      (block $b (loop $t2 (br_if $b (i32.ge_u (local.get $ns) (local.get $ne)))
        (br_if $b (i32.eqz (call $is_space (i32.load8_u $am (i32.sub (local.get $ne) (i32.const 1))))))
        (local.set $ne (i32.sub (local.get $ne) (i32.const 1))) (br $t2)))
      (block $c (loop $t3 (br_if $c (i32.ge_u (local.get $vs) (local.get $ve)))
        (br_if $c (i32.eqz (call $is_space (i32.load8_u $am (local.get $vs)))))
        (local.set $vs (i32.add (local.get $vs) (i32.const 1))) (br $t3)))
      (block $d (loop $t4 (br_if $d (i32.ge_u (local.get $vs) (local.get $ve)))
        (br_if $d (i32.eqz (call $is_space (i32.load8_u $am (i32.sub (local.get $ve) (i32.const 1))))))
        (local.set $ve (i32.sub (local.get $ve) (i32.const 1))) (br $t4)))
      (if (i32.ge_u (local.get $ns) (local.get $ne)) (then (return (i32.const 0))))
      (local.set $i (local.get $ns))
      (loop $tok
        (if (i32.eqz (call $is_token_char (i32.load8_u $am (local.get $i)))) (then (return (i32.const 0))))
        (i32.store8 $am (local.get $i) (call $lower (i32.load8_u $am (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $tok (i32.lt_u (local.get $i) (local.get $ne))))
      (block $next
        (if (call $ieq (local.get $ns) (i32.sub (local.get $ne) (local.get $ns)) @lit"status")
          (then
            ;; three digits, then the end or whitespace
            (if (i32.lt_u (i32.sub (local.get $ve) (local.get $vs)) (i32.const 3)) (then (return (i32.const 0))))
            (local.set $status (i32.const 0))
            (local.set $i (i32.const 0))
            (loop $dig
              (local.set $d (i32.sub (i32.load8_u $am (i32.add (local.get $vs) (local.get $i))) (i32.const 48)))
              (if (i32.gt_u (local.get $d) (i32.const 9)) (then (return (i32.const 0))))
              (local.set $status (i32.add (i32.mul (local.get $status) (i32.const 10)) (local.get $d)))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $dig (i32.lt_u (local.get $i) (i32.const 3))))
            (if (i32.gt_u (i32.sub (local.get $ve) (local.get $vs)) (i32.const 3))
              (then
                (if (i32.eqz (call $is_space (i32.load8_u $am (i32.add (local.get $vs) (i32.const 3)))))
                  (then (return (i32.const 0))))))
            (if (i32.lt_u (local.get $status) (i32.const 100)) (then (return (i32.const 0))))
            (br $next)))
        (if (call $ieq (local.get $ns) (i32.sub (local.get $ne) (local.get $ns)) @lit"location")
          (then (local.set $location (i32.const 1))))
        ;; the host owns framing and connection handling
        (br_if $next (call $ieq (local.get $ns) (i32.sub (local.get $ne) (local.get $ns)) @lit"content-length"))
        (br_if $next (call $ieq (local.get $ns) (i32.sub (local.get $ne) (local.get $ns)) @lit"transfer-encoding"))
        (br_if $next (call $ieq (local.get $ns) (i32.sub (local.get $ne) (local.get $ns)) @lit"connection"))
        (br_if $next (call $ieq (local.get $ns) (i32.sub (local.get $ne) (local.get $ns)) @lit"keep-alive"))
        (br_if $next (call $ieq (local.get $ns) (i32.sub (local.get $ne) (local.get $ns)) @lit"upgrade"))
        (if (call $resp_header_append (local.get $resp)
              (call $abs (local.get $ns)) (i32.sub (local.get $ne) (local.get $ns))
              (call $abs (local.get $vs)) (i32.sub (local.get $ve) (local.get $vs)))
          (then (return (i32.const 0)))))
      (local.set $p (i32.add (local.get $nl) (i32.const 1)))
      (br_if $line (i32.lt_u (local.get $p) (local.get $end))))
    ;; an explicit Status is never overwritten by Location
    (if (local.get $status) (then (return (local.get $status))))
    (select (i32.const 302) (i32.const 200) (local.get $location)))

  ;; Sends the response once the function is done: the parsed CGI output, or a 502 when
  ;; it is malformed (the same bodies as wfn's own runtime).

  ;; Decides the response from the header block and sets it, then sends what was held.
  ;; Returns 1, or 0 when the block was malformed (then a 502 was answered).
  (func $commit (result i32)
    (local $fields i32) (local $status i32)
    (local.set $fields (call $fields_new))
    (local.set $status (call $parse_headers (local.get $fields)))
    (if (i32.eqz (local.get $status))
      (then
        (global.set $finished (i32.const 1))
        (call $send_error (i32.const 502))
        (return (i32.const 0))))
    (call $open_response (local.get $fields) (local.get $status))
    (if (call $stream_write (global.get $out_stream) (call $abs (global.get $pend)) (global.get $pend_len))
      (then (call $abort_body) (return (i32.const 0))))
    (global.set $pend_len (i32.const 0))
    (i32.const 1))

  ;; The function is done: the parsed CGI output, or a 502 when it is malformed (the same
  ;; bodies as wfn's own runtime).
  (func $finish
    (if (global.get $finished) (then (return)))
    (if (i32.eqz (global.get $committed))
      (then
        (if (i32.ne (global.get $out_state) (i32.const 1))
          (then (global.set $finished (i32.const 1)) (call $send_error (i32.const 502)) (return)))
        (if (i32.eqz (call $commit)) (then (return)))))
    (global.set $finished (i32.const 1))
    (call $close_body))

  ;; wasi:http/proxy has no exit: the response is settled, then a trap unwinds the function
  ;; (the engines end the instance; the response already set stands).
  (func (export "proc_exit") (param $code i32)
    (if (i32.eqz (local.get $code))
      (then (call $finish))
      (else
        (if (i32.eqz (global.get $finished))
          (then
            (if (global.get $committed)
              (then (call $abort_body))
              (else (global.set $finished (i32.const 1)) (call $send_error (i32.const 500))))))))
    unreachable)

  (func (export "wasi:http/incoming-handler@{{V}}#handle") (param $req i32) (param $outparam i32)
    (global.set $req (local.get $req))
    (global.set $outparam (local.get $outparam))
    (call $init)
    ;; A request the environment cannot carry never reaches the function (as on every target).
    (if (global.get $bad_request)
      (then
        (global.set $finished (i32.const 1))
        (call $send_error (i32.const 400))
        (return)))
    (call $guest_start)
    (call $finish))

{{OUTBOUND_CODE}}
)
