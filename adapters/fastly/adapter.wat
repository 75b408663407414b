;; wfn's Fastly adapter: the function contract (WASI preview1 + CGI) on Fastly hostcalls.
;;
;; Linked to a function by adapters/fastly/merge.ts with wasm-merge: the function's
;; `wasi_snapshot_preview1` imports that this module exports (environ, args, fd_read,
;; fd_write, proc_exit) bind here; every other preview1 import stays a real import.
;; This module's own calls to the real WASI functions are declared under "wasi_real"
;; and renamed to "wasi_snapshot_preview1" after merging.
;;
;; Memory: $gm is the function's memory (index 0, placed at address 0 after lowering);
;; $am is this adapter's own memory. merge.ts lowers the two with binaryen's
;; --multi-memory-lowering: $am then lives just above $gm, the function's memory.size and
;; memory.grow see only its own pages, and growing $gm moves $am up. Hostcalls take
;; absolute addresses: $gm addresses are already absolute; $am addresses go through $abs.
;;
;; Template, expanded by adapter-module.ts before wabt compiles it:
;;   @lit followed by a quoted string -> (i32.const OFFSET) (i32.const LENGTH) of that
;;                                       text, copied into $am at start
;;   @off / @len and a quoted string   -> only (i32.const OFFSET) / (i32.const LENGTH)
;;   a NAME in double braces          -> a value computed at package time
;;   SECRETS_* / OUTBOUND_* / KV_* in double braces -> the parts of secrets.wat / outbound.wat /
;;                                       kv.wat, only when the function has secrets / imports
;;                                       wfn_http_v1 / imports wfn_kv_v1 (kv.wat reserves its room
;;                                       before outbound.wat does: both use the scratch above the
;;                                       CGI header block's room, computed from the final arena)
;; The CGI mapping mirrors src/runtime/cgi.ts exactly (same variables, same order, same
;; decoding and fallbacks, same response parsing); test/adapters/fastly-adapter.test.ts
;; compares the two.

(module
  (import "fn" "memory" (memory $gm 0))
  (import "fn" "__wfn_guest_start" (func $guest_start))

  (import "wasi_real" "fd_write" (func $real_fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_real" "fd_read" (func $real_fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_real" "proc_exit" (func $real_proc_exit (param i32)))
  (import "wasi_real" "clock_time_get" (func $real_clock_time_get (param i32 i64 i32) (result i32)))

  (import "fastly_abi" "init" (func $abi_init (param i64) (result i32)))
  (import "fastly_http_req" "body_downstream_get" (func $req_body_downstream_get (param i32 i32) (result i32)))
  (import "fastly_http_req" "method_get" (func $req_method_get (param i32 i32 i32 i32) (result i32)))
  (import "fastly_http_req" "uri_get" (func $req_uri_get (param i32 i32 i32 i32) (result i32)))
  (import "fastly_http_req" "header_names_get" (func $req_header_names_get (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "fastly_http_req" "header_values_get" (func $req_header_values_get (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "fastly_http_downstream" "downstream_client_ip_addr" (func $client_ip_addr (param i32 i32 i32) (result i32)))
  (import "fastly_http_body" "new" (func $body_new (param i32) (result i32)))
  (import "fastly_http_body" "read" (func $body_read (param i32 i32 i32 i32) (result i32)))
  (import "fastly_http_body" "write" (func $body_write (param i32 i32 i32 i32 i32) (result i32)))
  (import "fastly_http_body" "known_length" (func $body_known_length (param i32 i32) (result i32)))
  (import "fastly_http_resp" "new" (func $resp_new (param i32) (result i32)))
  (import "fastly_http_resp" "status_set" (func $resp_status_set (param i32 i32) (result i32)))
  (import "fastly_http_resp" "header_append" (func $resp_header_append (param i32 i32 i32 i32 i32) (result i32)))
  (import "fastly_http_resp" "send_downstream" (func $resp_send_downstream (param i32 i32 i32) (result i32)))
{{SECRETS_IMPORTS}}
{{OUTBOUND_IMPORTS}}
{{KV_IMPORTS}}

  ;; The adapter's memory. Its maximum follows the function's (see merge.ts: the lowering
  ;; adds up only the maxima that exist).
  (memory $am 1 {{AM_MAX}})

  ;; Layout of $am (offsets inside $am):
  ;;   0..63        out-parameters of hostcalls (OUT0=0, OUT1=4, CUR=16 (i64), IP=32 (16 bytes));
  ;;                the request line's clock (48, i64), then its iovec (48) and nwritten (56)
  ;;   64..4095     the literals (@lit), copied from $lits at start
  ;;   4096..8191   NAMEBUF: a page of request header names
  ;;   8192..       the arena: request body (when its length is unknown), the environment,
  ;;                argv; then, from the function's first write to stdout, the CGI header
  ;;                block (at most 64 KiB + 8). Grows with memory.grow $am.
  ;; One page to start with: the lowered memory.grow of the function moves all of $am up,
  ;; so the adapter stays small.
  (global $NAMEBUF i32 (i32.const 4096))
  (global $NAMECAP i32 (i32.const 4096))
  (global $hdrbuf (mut i32) (i32.const 0))
  (global $HDRCAP i32 (i32.const 65544))
  ;; cgi.ts looks for the end of the header block in its first 64 KiB + 4 bytes.
  (global $HDRLIMIT i32 (i32.const 65540))

  (global $arena (mut i32) (i32.const 8192))

  (global $req (mut i32) (i32.const -1))
  (global $reqbody (mut i32) (i32.const -1))
  (global $outbody (mut i32) (i32.const -1))

  ;; Request body read into the arena when the host does not know its length.
  (global $body_buffered (mut i32) (i32.const 0))
  (global $bodybuf (mut i32) (i32.const 0))
  (global $bodybuf_len (mut i32) (i32.const 0))
  (global $bodybuf_pos (mut i32) (i32.const 0))
  (global $content_length (mut i64) (i64.const 0))

  ;; The URI (raw, in the arena) and its parts.
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
  (global $finished (mut i32) (i32.const 0))

  ;; What the last $emit_decoded met: a bad escape or one that is not UTF-8 (so it emitted the
  ;; raw text), or an escaped NUL. cgi.ts's cgiRequestProblem: a PATH_INFO that cannot be
  ;; decoded, or a decoded path or query pair with a NUL, is a 400 (the client's fault) and the
  ;; function does not run.
  (global $decode_failed (mut i32) (i32.const 0))
  ;; The request line (see $request_line): the method's bytes in $am, and when the request began (ns, monotonic).
  (global $method (mut i32) (i32.const 0))
  (global $method_len (mut i32) (i32.const 0))
  (global $t0 (mut i64) (i64.const 0))
  (global $decoded_nul (mut i32) (i32.const 0))
  (global $bad_request (mut i32) (i32.const 0))

  ;; Literals (see @lit) and the configured variables, copied into $am when needed.
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

  ;; ------------------------------------------------------------- request -> CGI

  ;; A string hostcall (h, buf, buf_len, nwritten_out) into the arena, retried with the
  ;; size the host asks for. Returns the length; the bytes are at the old $arena, which
  ;; is NOT advanced (the caller decides).
  (func $fetch_method (result i32)
    (local $st i32)
    (call $ensure (i32.add (global.get $arena) (i32.const 64)))
    (local.set $st (call $req_method_get (global.get $req) (call $abs (global.get $arena))
      (i32.sub (call $am_capacity) (global.get $arena)) (call $abs (i32.const 0))))
    (if (i32.eq (local.get $st) (i32.const 4))
      (then
        (call $ensure (i32.add (global.get $arena) (i32.load $am (i32.const 0))))
        (local.set $st (call $req_method_get (global.get $req) (call $abs (global.get $arena))
          (i32.sub (call $am_capacity) (global.get $arena)) (call $abs (i32.const 0))))))
    (if (local.get $st) (then unreachable))
    (i32.load $am (i32.const 0)))

  (func $fetch_uri (result i32)
    (local $st i32)
    (call $ensure (i32.add (global.get $arena) (i32.const 1024)))
    (local.set $st (call $req_uri_get (global.get $req) (call $abs (global.get $arena))
      (i32.sub (call $am_capacity) (global.get $arena)) (call $abs (i32.const 0))))
    (if (i32.eq (local.get $st) (i32.const 4))
      (then
        (call $ensure (i32.add (global.get $arena) (i32.load $am (i32.const 0))))
        (local.set $st (call $req_uri_get (global.get $req) (call $abs (global.get $arena))
          (i32.sub (call $am_capacity) (global.get $arena)) (call $abs (i32.const 0))))))
    (if (local.get $st) (then unreachable))
    (i32.load $am (i32.const 0)))

  ;; All values of request header [$name, +$len) at the arena, each NUL-terminated.
  ;; Returns their total length (0 when the header is absent).
  (func $fetch_values (param $name i32) (param $name_len i32) (result i32)
    (local $st i32) (local $total i32) (local $cursor i32)
    (call $ensure (i32.add (global.get $arena) (i32.const 1024)))
    (loop $more
      (local.set $st (call $req_header_values_get (global.get $req)
        (call $abs (local.get $name)) (local.get $name_len)
        (call $abs (i32.add (global.get $arena) (local.get $total)))
        (i32.sub (call $am_capacity) (i32.add (global.get $arena) (local.get $total)))
        (local.get $cursor) (call $abs (i32.const 16)) (call $abs (i32.const 0))))
      (if (i32.eq (local.get $st) (i32.const 4))
        (then
          (call $ensure (i32.add (i32.add (global.get $arena) (local.get $total))
                                 (i32.add (i32.load $am (i32.const 0)) (i32.const 1024))))
          (br $more)))
      (if (i32.ne (local.get $st) (i32.const 0)) (then (return (local.get $total))))
      (local.set $total (i32.add (local.get $total) (i32.load $am (i32.const 0))))
      (if (i64.ge_s (i64.load $am (i32.const 16)) (i64.const 0))
        (then
          (local.set $cursor (i32.wrap_i64 (i64.load $am (i32.const 16))))
          (call $ensure (i32.add (i32.add (global.get $arena) (local.get $total)) (i32.const 1024)))
          (br $more))))
    (local.get $total))

  ;; Splits the raw URI into scheme, host, port, path and query.
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
  (func $emit_client_ip
    (local $n i32) (local $i i32) (local $g i32)
    (local $best i32) (local $best_len i32) (local $run i32) (local $run_len i32)
    (if (call $client_ip_addr (global.get $req) (call $abs (i32.const 32)) (call $abs (i32.const 0)))
      (then (return)))
    (local.set $n (i32.load $am (i32.const 0)))
    (if (i32.eq (local.get $n) (i32.const 4))
      (then
        (loop $oct
          (if (local.get $i) (then (call $emit_byte (i32.const 46))))
          (call $emit_u64 (i64.extend_i32_u (i32.load8_u $am (i32.add (i32.const 32) (local.get $i)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $oct (i32.lt_u (local.get $i) (i32.const 4))))
        (return)))
    (if (i32.ne (local.get $n) (i32.const 16)) (then (return)))
    ;; the longest run of zero groups (at least two) becomes "::"
    (local.set $best (i32.const -1))
    (local.set $run (i32.const -1))
    (loop $scan
      (local.set $g (i32.or (i32.shl (i32.load8_u $am (i32.add (i32.const 32) (i32.shl (local.get $i) (i32.const 1)))) (i32.const 8))
                            (i32.load8_u $am (i32.add (i32.const 33) (i32.shl (local.get $i) (i32.const 1))))))
      (if (i32.eqz (local.get $g))
        (then
          (if (i32.lt_s (local.get $run) (i32.const 0)) (then (local.set $run (local.get $i)) (local.set $run_len (i32.const 0))))
          (local.set $run_len (i32.add (local.get $run_len) (i32.const 1)))
          (if (i32.gt_s (local.get $run_len) (local.get $best_len))
            (then (local.set $best (local.get $run)) (local.set $best_len (local.get $run_len)))))
        (else (local.set $run (i32.const -1))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $scan (i32.lt_u (local.get $i) (i32.const 8))))
    (if (i32.lt_s (local.get $best_len) (i32.const 2)) (then (local.set $best (i32.const -1))))
    ;; ::ffff:a.b.c.d (an IPv4-mapped address)
    (if (i32.and (i32.eqz (local.get $best)) (i32.and (i32.eq (local.get $best_len) (i32.const 5))
          (i32.eq (i32.load16_u $am (i32.const 42)) (i32.const 0xffff))))
      (then
        (call $emit @lit"::ffff:")
        (local.set $i (i32.const 12))
        (loop $oct4
          (if (i32.gt_u (local.get $i) (i32.const 12)) (then (call $emit_byte (i32.const 46))))
          (call $emit_u64 (i64.extend_i32_u (i32.load8_u $am (i32.add (i32.const 32) (local.get $i)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $oct4 (i32.lt_u (local.get $i) (i32.const 16))))
        (return)))
    (local.set $i (i32.const 0))
    (loop $groups
      (if (i32.eq (local.get $i) (local.get $best))
        (then
          (call $emit_byte (i32.const 58))
          (if (i32.eqz (local.get $i)) (then (call $emit_byte (i32.const 58))))
          (local.set $i (i32.add (local.get $i) (local.get $best_len))))
        (else
          (call $emit_hex4
            (i32.or (i32.shl (i32.load8_u $am (i32.add (i32.const 32) (i32.shl (local.get $i) (i32.const 1)))) (i32.const 8))
                    (i32.load8_u $am (i32.add (i32.const 33) (i32.shl (local.get $i) (i32.const 1))))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (if (i32.lt_u (local.get $i) (i32.const 8)) (then (call $emit_byte (i32.const 58))))))
      (br_if $groups (i32.lt_u (local.get $i) (i32.const 8)))))

  ;; HTTP_<NAME> for every request header but Content-Type/Content-Length, in the order the
  ;; host lists the names; repeated values joined with ", " ("; " for Cookie).
  (func $emit_http_headers
    (local $st i32) (local $cursor i32) (local $n i32) (local $p i32) (local $end i32)
    (local $len i32) (local $i i32) (local $c i32) (local $ok i32) (local $vstart i32)
    (local $vlen i32) (local $k i32) (local $src i32) (local $dst i32) (local $sep i32)
    (local $mark i32) (local $next i64)
    (loop $page
      (local.set $st (call $req_header_names_get (global.get $req)
        (call $abs (global.get $NAMEBUF)) (global.get $NAMECAP) (local.get $cursor)
        (call $abs (i32.const 16)) (call $abs (i32.const 0))))
      (if (local.get $st) (then (return)))
      (local.set $n (i32.load $am (i32.const 0)))
      ;; fetch_values reuses the cursor slot: keep the names cursor now
      (local.set $next (i64.load $am (i32.const 16)))
      (local.set $p (global.get $NAMEBUF))
      (local.set $end (i32.add (global.get $NAMEBUF) (local.get $n)))
      (block $names_done
        (loop $name
          (br_if $names_done (i32.ge_u (local.get $p) (local.get $end)))
          (local.set $len (call $find (local.get $p) (i32.sub (local.get $end) (local.get $p)) (i32.const 0)))
          (if (i32.lt_s (local.get $len) (i32.const 0)) (then (local.set $len (i32.sub (local.get $end) (local.get $p)))))
          ;; lower-case it; only names of [a-z0-9-] become variables
          (local.set $ok (i32.ne (local.get $len) (i32.const 0)))
          (local.set $i (i32.const 0))
          (block $chk_done
            (loop $chk
              (br_if $chk_done (i32.ge_u (local.get $i) (local.get $len)))
              (local.set $c (call $lower (i32.load8_u $am (i32.add (local.get $p) (local.get $i)))))
              (i32.store8 $am (i32.add (local.get $p) (local.get $i)) (local.get $c))
              (if (i32.eqz (i32.or (i32.eq (local.get $c) (i32.const 45))
                             (i32.or (i32.and (i32.ge_u (local.get $c) (i32.const 97)) (i32.le_u (local.get $c) (i32.const 122)))
                                     (i32.and (i32.ge_u (local.get $c) (i32.const 48)) (i32.le_u (local.get $c) (i32.const 57))))))
                (then (local.set $ok (i32.const 0))))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $chk)))
          (if (call $ieq (local.get $p) (local.get $len) @lit"content-type") (then (local.set $ok (i32.const 0))))
          (if (call $ieq (local.get $p) (local.get $len) @lit"content-length") (then (local.set $ok (i32.const 0))))
          (if (local.get $ok)
            (then
              (local.set $mark (global.get $arena))
              (call $emit @lit"HTTP_")
              (local.set $i (i32.const 0))
              (loop $up
                (local.set $c (call $upper (i32.load8_u $am (i32.add (local.get $p) (local.get $i)))))
                (call $emit_byte (select (i32.const 95) (local.get $c) (i32.eq (local.get $c) (i32.const 45))))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br_if $up (i32.lt_u (local.get $i) (local.get $len))))
              (call $emit_byte (i32.const 61))
              (local.set $vstart (global.get $arena))
              (local.set $vlen (call $fetch_values (local.get $p) (local.get $len)))
              (if (i32.eqz (local.get $vlen))
                (then (global.set $arena (local.get $mark)))
                (else
                  ;; values are NUL-terminated: k values -> joined length vlen + k - 2
                  (local.set $k (i32.const 0))
                  (local.set $i (i32.const 0))
                  (loop $count
                    (if (i32.eqz (i32.load8_u $am (i32.add (local.get $vstart) (local.get $i))))
                      (then (local.set $k (i32.add (local.get $k) (i32.const 1)))))
                    (local.set $i (i32.add (local.get $i) (i32.const 1)))
                    (br_if $count (i32.lt_u (local.get $i) (local.get $vlen))))
                  (local.set $sep (select (i32.const 59) (i32.const 44)
                                    (call $ieq (local.get $p) (local.get $len) @lit"cookie")))
                  (call $ensure (i32.add (local.get $vstart) (i32.add (local.get $vlen) (local.get $k))))
                  ;; expand from the back: drop the last NUL, each other NUL -> sep + " "
                  (local.set $src (i32.sub (i32.add (local.get $vstart) (local.get $vlen)) (i32.const 2)))
                  (local.set $dst (i32.sub (i32.add (local.get $vstart) (i32.add (local.get $vlen) (local.get $k))) (i32.const 3)))
                  (block $x_done
                    (loop $x
                      (br_if $x_done (i32.lt_s (local.get $src) (local.get $vstart)))
                      (local.set $c (i32.load8_u $am (local.get $src)))
                      (if (i32.eqz (local.get $c))
                        (then
                          (i32.store8 $am (local.get $dst) (i32.const 32))
                          (i32.store8 $am (i32.sub (local.get $dst) (i32.const 1)) (local.get $sep))
                          (local.set $dst (i32.sub (local.get $dst) (i32.const 2))))
                        (else
                          (i32.store8 $am (local.get $dst) (local.get $c))
                          (local.set $dst (i32.sub (local.get $dst) (i32.const 1)))))
                      (local.set $src (i32.sub (local.get $src) (i32.const 1)))
                      (br $x)))
                  (global.set $arena (i32.sub (i32.add (local.get $vstart) (i32.add (local.get $vlen) (local.get $k))) (i32.const 2)))
                  (call $var_end)))))
          (local.set $p (i32.add (i32.add (local.get $p) (local.get $len)) (i32.const 1)))
          (br $name)))
      (if (i64.ge_s (local.get $next) (i64.const 0))
        (then
          (local.set $cursor (i32.wrap_i64 (local.get $next)))
          (br_if $page (i32.ne (local.get $n) (i32.const 0)))))))

  ;; Does KEY of the entry at $e ("KEY=...") name a built-in variable?
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
  (func $buffer_body
    (local $n i32)
    (global.set $bodybuf (global.get $arena))
    (loop $more
      (call $ensure (i32.add (global.get $arena) (i32.const 65536)))
      (if (call $body_read (global.get $reqbody) (call $abs (global.get $arena))
            (i32.sub (call $am_capacity) (global.get $arena)) (call $abs (i32.const 0)))
        (then unreachable))
      (local.set $n (i32.load $am (i32.const 0)))
      (global.set $arena (i32.add (global.get $arena) (local.get $n)))
      (br_if $more (local.get $n)))
    (global.set $bodybuf_len (i32.sub (global.get $arena) (global.get $bodybuf)))
    (global.set $body_buffered (i32.const 1))
    (global.set $content_length (i64.extend_i32_u (global.get $bodybuf_len))))

  (func $init
    (local $len i32) (local $v i32)
    (memory.init $am $lits (i32.const 64) (i32.const 0) (i32.const {{LITS_BYTES}}))
    (global.set $t0 (call $now))
    (drop (call $abi_init (i64.const 1)))
    (if (call $req_body_downstream_get (call $abs (i32.const 0)) (call $abs (i32.const 4)))
      (then unreachable))
    (global.set $req (i32.load $am (i32.const 0)))
    (global.set $reqbody (i32.load $am (i32.const 4)))

    (if (call $body_known_length (global.get $reqbody) (call $abs (i32.const 16)))
      (then (call $buffer_body))
      (else (global.set $content_length (i64.load $am (i32.const 16)))))

    ;; the raw URI stays in the arena as the source of several variables
    (global.set $uri (global.get $arena))
    (global.set $uri_len (call $fetch_uri))
    (global.set $arena (i32.add (global.get $arena) (global.get $uri_len)))
    (call $parse_uri)

    (global.set $bi_start (global.get $arena))
    (call $emit @lit"REQUEST_METHOD=")
    (local.set $len (call $fetch_method))
    (local.set $v (global.get $arena))
    (global.set $method (local.get $v))
    (global.set $method_len (local.get $len))
    (global.set $arena (i32.add (global.get $arena) (local.get $len)))
    (block $up_done
      (loop $up
        (br_if $up_done (i32.ge_u (local.get $v) (global.get $arena)))
        (i32.store8 $am (local.get $v) (call $upper (i32.load8_u $am (local.get $v))))
        (local.set $v (i32.add (local.get $v) (i32.const 1)))
        (br $up)))
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
    (call $emit @lit"REMOTE_ADDR=")
    (call $emit_client_ip)
    (call $var_end)
    (call $emit @lit"CONTENT_TYPE=")
    (local.set $v (global.get $arena))
    (local.set $len (call $fetch_values @lit"content-type"))
    ;; the first value only
    (if (local.get $len)
      (then (global.set $arena (i32.add (local.get $v) (call $find (local.get $v) (local.get $len) (i32.const 0))))))
    (call $var_end)
    (call $emit @lit"CONTENT_LENGTH=")
    (call $emit_u64 (global.get $content_length))
    (call $var_end)
    (call $emit_http_headers)
    (global.set $bi_end (global.get $arena))

    (call $emit_config)
    (call $emit_argv)
    {{KV_INIT}}
    {{OUTBOUND_INIT}})

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
  (func (export "fd_read") (param $fd i32) (param $iovs i32) (param $count i32) (param $nread i32) (result i32)
    (local $i i32) (local $ptr i32) (local $len i32) (local $n i32) (local $total i32)
    (if (i32.ne (local.get $fd) (i32.const 0))
      (then (return (call $real_fd_read (local.get $fd) (local.get $iovs) (local.get $count) (local.get $nread)))))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $ptr (i32.load $gm (i32.add (local.get $iovs) (i32.shl (local.get $i) (i32.const 3)))))
        (local.set $len (i32.load $gm offset=4 (i32.add (local.get $iovs) (i32.shl (local.get $i) (i32.const 3)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $each (i32.eqz (local.get $len)))
        (if (global.get $body_buffered)
          (then
            (local.set $n (i32.sub (global.get $bodybuf_len) (global.get $bodybuf_pos)))
            (if (i32.gt_u (local.get $n) (local.get $len)) (then (local.set $n (local.get $len))))
            (memory.copy $gm $am (local.get $ptr) (i32.add (global.get $bodybuf) (global.get $bodybuf_pos)) (local.get $n))
            (global.set $bodybuf_pos (i32.add (global.get $bodybuf_pos) (local.get $n))))
          (else
            ;; the guest's memory is at address 0: its pointers are absolute already
            (if (call $body_read (global.get $reqbody) (local.get $ptr) (local.get $len) (call $abs (i32.const 8)))
              (then (return (i32.const 29)))) ;; EIO
            (local.set $n (i32.load $am (i32.const 8)))))
        (local.set $total (i32.add (local.get $total) (local.get $n)))
        (br_if $each (i32.eq (local.get $n) (local.get $len)))))
    (i32.store $gm (local.get $nread) (local.get $total))
    (i32.const 0))

  ;; Appends [$ptr, +$len) (absolute) to the response body, which the host buffers until
  ;; the function ends (so an exit code or a bad header block can still turn it into a 5xx).
  (func $write_body (param $ptr i32) (param $len i32)
    (local $n i32)
    (if (i32.lt_s (global.get $outbody) (i32.const 0))
      (then
        (if (call $body_new (call $abs (i32.const 8))) (then unreachable))
        (global.set $outbody (i32.load $am (i32.const 8)))))
    (block $done
      (loop $more
        (br_if $done (i32.eqz (local.get $len)))
        (if (call $body_write (global.get $outbody) (local.get $ptr) (local.get $len) (i32.const 0) (call $abs (i32.const 8)))
          (then unreachable))
        (local.set $n (i32.load $am (i32.const 8)))
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $ptr (i32.add (local.get $ptr) (local.get $n)))
        (local.set $len (i32.sub (local.get $len) (local.get $n)))
        (br $more))))

  ;; stdout: the CGI header block is kept in $am (at $hdrbuf); what follows the blank line is body.
  (func (export "fd_write") (param $fd i32) (param $iovs i32) (param $count i32) (param $nwritten i32) (result i32)
    (local $i i32) (local $ptr i32) (local $len i32) (local $j i32) (local $b i32) (local $p i32) (local $total i32)
    (if (i32.ne (local.get $fd) (i32.const 1))
      (then (return (call $real_fd_write (local.get $fd) (local.get $iovs) (local.get $count) (local.get $nwritten)))))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $ptr (i32.load $gm (i32.add (local.get $iovs) (i32.shl (local.get $i) (i32.const 3)))))
        (local.set $len (i32.load $gm offset=4 (i32.add (local.get $iovs) (i32.shl (local.get $i) (i32.const 3)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (local.set $total (i32.add (local.get $total) (local.get $len)))
        (if (i32.eqz (global.get $finished))
          (then
            (local.set $j (i32.const 0))
            (if (i32.eqz (global.get $out_state))
              (then
                (block $head_done
                  (loop $byte
                    (br_if $head_done (i32.ge_u (local.get $j) (local.get $len)))
                    (if (i32.ge_u (global.get $hdr_len) (global.get $HDRCAP))
                      (then (global.set $out_state (i32.const 2)) (br $head_done)))
                    (if (i32.eqz (global.get $hdrbuf)) (then (global.set $hdrbuf (global.get $arena))))
                    (call $ensure (i32.add (i32.add (global.get $hdrbuf) (global.get $hdr_len)) (i32.const 1)))
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
                  (then (global.set $out_state (i32.const 2))))))
            (if (i32.eq (global.get $out_state) (i32.const 1))
              (then (call $write_body (i32.add (local.get $ptr) (local.get $j)) (i32.sub (local.get $len) (local.get $j)))))))
        (br $each)))
    (i32.store $gm (local.get $nwritten) (local.get $total))
    (i32.const 0))

  ;; ---------------------------------------------------------------- responses

  (func $send_error (param $status i32)
    (local $resp i32) (local $body i32)
    (if (call $resp_new (call $abs (i32.const 0))) (then unreachable))
    (local.set $resp (i32.load $am (i32.const 0)))
    (drop (call $resp_status_set (local.get $resp) (local.get $status)))
    (call $append_lit_header (local.get $resp) @lit"content-type" @lit"text/plain; charset=utf-8")
    (if (call $body_new (call $abs (i32.const 0))) (then unreachable))
    (local.set $body (i32.load $am (i32.const 0)))
    (if (i32.eq (local.get $status) (i32.const 502))
      (then (call $write_lit (local.get $body) @lit"{{BODY_502}}"))
      (else
        (if (i32.eq (local.get $status) (i32.const 400))
          (then (call $write_lit (local.get $body) @lit"{{BODY_400}}"))
          (else (call $write_lit (local.get $body) @lit"{{BODY_500}}")))))
    (drop (call $resp_send_downstream (local.get $resp) (local.get $body) (i32.const 0)))
    (call $request_line (local.get $status)))

  ;; Monotonic nanoseconds (0 when the host has no clock).
  (func $now (result i64)
    (if (call $real_clock_time_get (i32.const 1) (i64.const 1000) (call $abs (i32.const 48)))
      (then (return (i64.const 0))))
    (i64.load $am (i32.const 48)))

  ;; One line per request on the instance's own stdout (fd 1 is the CGI response for the
  ;; function, so only this adapter writes there): Fastly's log tailing shows it, and
  ;; `wfn logs` (log-stream.ts) reads it back as the request line:
  ;;   wfn-request <status> <duration µs> <ok|error> <METHOD> <raw path>[?<raw query>]
  ;; Written once the response is sent; a request whose instance traps or is stopped by
  ;; Fastly never gets here (docs/targets/fastly.md says so).
  (func $request_line (param $status i32)
    (local $start i32) (local $t1 i64)
    (local.set $t1 (call $now))
    ;; past the header block's room, which is not part of the arena
    (if (i32.and (i32.ne (global.get $hdrbuf) (i32.const 0))
                 (i32.lt_u (global.get $arena) (i32.add (global.get $hdrbuf) (global.get $hdr_len))))
      (then (global.set $arena (i32.add (global.get $hdrbuf) (global.get $hdr_len)))))
    (local.set $start (global.get $arena))
    (call $emit @lit"wfn-request ")
    (call $emit_u64 (i64.extend_i32_u (local.get $status)))
    (call $emit_byte (i32.const 32))
    (call $emit_u64 (select (i64.div_u (i64.sub (local.get $t1) (global.get $t0)) (i64.const 1000)) (i64.const 0)
                            (i64.gt_u (local.get $t1) (global.get $t0))))
    (if (i32.ge_u (local.get $status) (i32.const 500))
      (then (call $emit @lit" error "))
      (else (call $emit @lit" ok ")))
    (call $emit (global.get $method) (global.get $method_len))
    (call $emit_byte (i32.const 32))
    (call $emit (global.get $path) (global.get $path_len))
    (if (global.get $query_len)
      (then
        (call $emit_byte (i32.const 63))
        (call $emit (global.get $query) (global.get $query_len))))
    (call $emit_byte (i32.const 10))
    (i32.store $am (i32.const 48) (call $abs (local.get $start)))
    (i32.store $am (i32.const 52) (i32.sub (global.get $arena) (local.get $start)))
    (drop (call $real_fd_write (i32.const 1) (call $abs (i32.const 48)) (i32.const 1) (call $abs (i32.const 56)))))

  (func $append_lit_header (param $resp i32) (param $n i32) (param $nl i32) (param $v i32) (param $vl i32)
    (drop (call $resp_header_append (local.get $resp) (call $abs (local.get $n)) (local.get $nl)
      (call $abs (local.get $v)) (local.get $vl))))

  (func $write_lit (param $body i32) (param $p i32) (param $len i32)
    (drop (call $body_write (local.get $body) (call $abs (local.get $p)) (local.get $len) (i32.const 0) (call $abs (i32.const 8)))))

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
  (func $finish
    (local $resp i32) (local $status i32)
    (if (global.get $finished) (then (return)))
    (global.set $finished (i32.const 1))
    (if (i32.ne (global.get $out_state) (i32.const 1))
      (then (call $send_error (i32.const 502)) (return)))
    (if (call $resp_new (call $abs (i32.const 0))) (then unreachable))
    (local.set $resp (i32.load $am (i32.const 0)))
    (local.set $status (call $parse_headers (local.get $resp)))
    (if (i32.eqz (local.get $status))
      (then (call $send_error (i32.const 502)) (return)))
    (drop (call $resp_status_set (local.get $resp) (local.get $status)))
    (if (i32.lt_s (global.get $outbody) (i32.const 0))
      (then (call $write_body (i32.const 0) (i32.const 0))))
    (drop (call $resp_send_downstream (local.get $resp) (global.get $outbody) (i32.const 0)))
    (call $request_line (local.get $status)))

  (func (export "proc_exit") (param $code i32)
    (if (i32.eqz (local.get $code))
      (then (call $finish))
      (else
        (if (i32.eqz (global.get $finished))
          (then
            (global.set $finished (i32.const 1))
            (call $send_error (i32.const 500))))))
    (call $real_proc_exit (local.get $code))
    unreachable)

  (func (export "_start")
    (call $init)
    ;; A request the environment cannot carry never reaches the function (as on every target).
    (if (global.get $bad_request)
      (then
        (global.set $finished (i32.const 1))
        (call $send_error (i32.const 400))
        (return)))
    (call $guest_start)
    (call $finish))

{{SECRETS_CODE}}
{{OUTBOUND_CODE}}
{{KV_CODE}}
)
