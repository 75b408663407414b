;; wfn's key-value host API (`wfn_kv_v1`, docs/contract.md) on Fastly's KV store hostcalls.
;;
;; A fragment of adapter.wat, spliced in by adapter-module.ts only for a function that imports
;; wfn_kv_v1 (merge.ts renames its imports to wasi_snapshot_preview1."wfn_kv_v1.<name>", which
;; this code exports). The part above the @@code line goes among the adapter's imports.
;;
;; It behaves as src/runtime/kv/imports.ts does on the other hosts, with the same messages
;; (kv-values.ts takes them from src/runtime/kv/messages.ts): the arguments are checked (bounds,
;; the store against [kv] stores compiled in at package time, keys, value sizes, cursors, the
;; 1000 operations of an invocation), then each operation is a Fastly KV call and its wait:
;; a store opens under its own name (the resource link `wfn deploy` makes), `get` is
;; lookup + lookup_wait_v2 (the value's body is read straight into the function's buffers),
;; `set` writes the value into a new body for insert + insert_wait (ttl: time_to_live_sec),
;; `list` turns Fastly's JSON page ({"data": [keys], "meta": {"next_cursor"}}) into the API's
;; lines (the cursor, then one key per line), kept in a body the function reads like a value.
;; Errors are codes, never traps, with a message for error_message and one line on stderr.

  (import "fastly_kv_store" "open" (func $kv_h_open (param i32 i32 i32) (result i32)))
  (import "fastly_kv_store" "lookup" (func $kv_h_lookup (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "fastly_kv_store" "lookup_wait_v2" (func $kv_h_lookup_wait (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "fastly_kv_store" "insert" (func $kv_h_insert (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "fastly_kv_store" "insert_wait" (func $kv_h_insert_wait (param i32 i32) (result i32)))
  (import "fastly_kv_store" "delete" (func $kv_h_delete (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "fastly_kv_store" "delete_wait" (func $kv_h_delete_wait (param i32 i32) (result i32)))
  (import "fastly_kv_store" "list" (func $kv_h_list (param i32 i32 i32 i32) (result i32)))
  (import "fastly_kv_store" "list_wait" (func $kv_h_list_wait (param i32 i32 i32) (result i32)))
  (import "fastly_http_body" "close" (func $kv_body_close (param i32) (result i32)))

;; @@code

  ;; Error codes (src/runtime/kv/abi.ts): 0 ok, 1 not found, 2 denied, 3 invalid, 4 too large,
  ;; 5 bad handle, 6 buffer too small, 7 limit, 8 unavailable, 9 failed.
  ;; $kv_error of the waits: 1 ok, 2 bad request, 3 not found, 5 payload too large,
  ;; 6 internal error, 7 too many requests.

  ;; Regions of $am reserved by $kv_init (after the environment, before the CGI header block).
  (global $kv_io (mut i32) (i32.const 0))       ;; 128 bytes: out-parameters 0..31, a config 32..63, iovecs 64..95
  (global $kv_msg (mut i32) (i32.const 0))      ;; 1024 bytes: the last error's message
  (global $kv_msg_len (mut i32) (i32.const 0))
  (global $kv_text (mut i32) (i32.const 0))     ;; the messages' fixed parts ({{KV_TEXT}})
  (global $kv_stores (mut i32) (i32.const 0))   ;; {{KV_STORE_COUNT}} x 8 bytes: opened, Fastly store handle
  (global $kv_values (mut i32) (i32.const 0))   ;; {{KV_MAX_OPS}} x 16 bytes: open, body handle, length (one per get or list)
  (global $kv_nvalues (mut i32) (i32.const 0))
  (global $kv_ops (mut i32) (i32.const 0))
  ;; The store of the call in progress: its index in [kv] stores and its name (in $kv_text).
  (global $kv_sname (mut i32) (i32.const 0))
  (global $kv_sname_len (mut i32) (i32.const 0))

  (data $kv_text_data "{{KV_TEXT}}")

  (func $kv_init
    (local $a i32)
    (local.set $a (global.get $arena))
    (global.set $kv_io (local.get $a))
    (global.set $kv_msg (i32.add (local.get $a) (i32.const 128)))
    (global.set $kv_text (i32.add (local.get $a) (i32.const 1152)))
    (global.set $kv_stores (i32.add (global.get $kv_text) (i32.const {{KV_TEXT_ROOM}})))
    (global.set $kv_values (i32.add (global.get $kv_stores) (i32.const {{KV_STORES_BYTES}})))
    (global.set $arena (i32.add (global.get $kv_values) (i32.mul (i32.const {{KV_MAX_OPS}}) (i32.const 16))))
    (call $ensure (global.get $arena))
    (memory.fill $am (local.get $a) (i32.const 0) (i32.sub (global.get $arena) (local.get $a)))
    (memory.init $am $kv_text_data (global.get $kv_text) (i32.const 0) (i32.const {{KV_TEXT_BYTES}})))

  ;; Scratch for one call: beyond the CGI header block's room (as outbound.wat's, which no
  ;; call of this file interleaves with); nothing in it outlives the call.
  (func $kv_tmp (result i32)
    (i32.add (global.get $arena) (i32.add (global.get $HDRCAP) (i32.const 16))))

  ;; ------------------------------------------------------------ messages

  (func $kv_in_guest (param $p i32) (param $len i32) (result i32)
    (i64.le_u (i64.add (i64.extend_i32_u (local.get $p)) (i64.extend_i32_u (local.get $len)))
              (i64.shl (i64.extend_i32_u (memory.size $gm)) (i64.const 16))))

  (func $kv_msg_start (global.set $kv_msg_len (i32.const 0)))

  (func $kv_msg_byte (param $b i32)
    (if (i32.lt_u (global.get $kv_msg_len) (i32.const 1024))
      (then
        (i32.store8 $am (i32.add (global.get $kv_msg) (global.get $kv_msg_len)) (local.get $b))
        (global.set $kv_msg_len (i32.add (global.get $kv_msg_len) (i32.const 1))))))

  (func $kv_msg_bytes (param $p i32) (param $len i32)
    (local $i i32)
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (call $kv_msg_byte (i32.load8_u $am (i32.add (local.get $p) (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each))))

  ;; At most $max bytes of the function's memory.
  (func $kv_msg_guest (param $p i32) (param $len i32) (param $max i32)
    (local $i i32)
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (br_if $done (i32.ge_u (local.get $i) (local.get $max)))
        (call $kv_msg_byte (i32.load8_u $gm (i32.add (local.get $p) (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each))))

  (func $kv_msg_u32 (param $n i32)
    (local $div i32) (local $d i32) (local $started i32)
    (local.set $div (i32.const 1000000000))
    (loop $digits
      (local.set $d (i32.div_u (local.get $n) (local.get $div)))
      (local.set $n (i32.rem_u (local.get $n) (local.get $div)))
      (if (i32.or (i32.or (local.get $started) (local.get $d)) (i32.eq (local.get $div) (i32.const 1)))
        (then
          (local.set $started (i32.const 1))
          (call $kv_msg_byte (i32.add (i32.const 48) (local.get $d)))))
      (local.set $div (i32.div_u (local.get $div) (i32.const 10)))
      (br_if $digits (local.get $div))))

  (func $kv_msg_invalid
    (call $kv_msg_start)
    (call $kv_msg_bytes {{KV_T_INVALID}}))

  (func $kv_msg_store
    (call $kv_msg_bytes (global.get $kv_sname) (global.get $kv_sname_len)))

  ;; "<pre><store><post>"
  (func $kv_msg_about (param $pre i32) (param $pre_len i32) (param $post i32) (param $post_len i32)
    (call $kv_msg_start)
    (call $kv_msg_bytes (local.get $pre) (local.get $pre_len))
    (call $kv_msg_store)
    (call $kv_msg_bytes (local.get $post) (local.get $post_len)))

  ;; Logs the message (one line on stderr, as kvLogLine) and returns $code.
  (func $kv_fail (param $code i32) (result i32)
    (local $v i32)
    (local.set $v (i32.add (global.get $kv_io) (i32.const 64)))
    (i32.store $am (local.get $v) (call $abs {{KV_T_LOG_PREFIX_OFF}}))
    (i32.store $am offset=4 (local.get $v) {{KV_T_LOG_PREFIX_LEN}})
    (i32.store $am offset=8 (local.get $v) (call $abs (global.get $kv_msg)))
    (i32.store $am offset=12 (local.get $v) (global.get $kv_msg_len))
    (i32.store $am offset=16 (local.get $v) (call $abs {{KV_T_NEWLINE_OFF}}))
    (i32.store $am offset=20 (local.get $v) (i32.const 1))
    (drop (call $real_fd_write (i32.const 2) (call $abs (local.get $v)) (i32.const 3)
      (call $abs (i32.add (local.get $v) (i32.const 24)))))
    (local.get $code))

  (func $kv_bad_pointer (result i32)
    (call $kv_msg_invalid)
    (call $kv_msg_bytes {{KV_T_POINTER}})
    (call $kv_fail (i32.const 3)))

  (func $kv_put (param $p i32) (param $v i32) (i32.store $gm (local.get $p) (local.get $v)))

  ;; A Fastly call that failed with status $st (or kv_error $ke): FAILED, naming both.
  (func $kv_failed_status (param $st i32) (param $ke i32) (result i32)
    (call $kv_msg_about {{KV_T_FAILED_PRE}} {{KV_T_FAILED_MID}})
    (call $kv_msg_bytes {{KV_T_FASTLY_STATUS}})
    (call $kv_msg_u32 (local.get $st))
    (call $kv_msg_bytes {{KV_T_FASTLY_KV_ERROR}})
    (call $kv_msg_u32 (local.get $ke))
    (call $kv_msg_byte (i32.const 41))
    (call $kv_fail (i32.const 9)))

  ;; A hostcall's status: $inval is Fastly refusing the key (its rules are stricter than the
  ;; API's); anything else is FAILED.
  (func $kv_call_failed (param $st i32) (result i32)
    (if (i32.eq (local.get $st) (i32.const 2))
      (then
        (call $kv_msg_invalid)
        (call $kv_msg_bytes {{KV_T_FASTLY_KEY}})
        (return (call $kv_fail (i32.const 3)))))
    (call $kv_failed_status (local.get $st) (i32.const 0)))

  ;; A wait's $kv_error other than ok and not found.
  (func $kv_wait_failed (param $ke i32) (result i32)
    (if (i32.eq (local.get $ke) (i32.const 2))
      (then
        (call $kv_msg_invalid)
        (call $kv_msg_bytes {{KV_T_FASTLY_KEY}})
        (return (call $kv_fail (i32.const 3)))))
    (if (i32.eq (local.get $ke) (i32.const 7))
      (then
        (call $kv_msg_start)
        (call $kv_msg_bytes {{KV_T_LIMIT_PRE}})
        (call $kv_msg_bytes {{KV_T_FASTLY_RATE}})
        (return (call $kv_fail (i32.const 7)))))
    (if (i32.eq (local.get $ke) (i32.const 6))
      (then
        (call $kv_msg_about {{KV_T_UNAVAILABLE_PRE}} {{KV_T_UNAVAILABLE_MID}})
        (call $kv_msg_bytes {{KV_T_FASTLY_INTERNAL}})
        (return (call $kv_fail (i32.const 8)))))
    (call $kv_failed_status (i32.const 0) (local.get $ke)))

  ;; ------------------------------------------------------------ checks

  ;; Is [$p, +$len) of the function's memory UTF-8?
  (func $kv_utf8 (param $p i32) (param $len i32) (result i32)
    (local $i i32) (local $b i32) (local $n i32) (local $lo i32) (local $hi i32) (local $c i32)
    (block $bad
      (loop $each
        (if (i32.ge_u (local.get $i) (local.get $len)) (then (return (i32.const 1))))
        (local.set $b (i32.load8_u $gm (i32.add (local.get $p) (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $each (i32.lt_u (local.get $b) (i32.const 0x80)))
        (local.set $lo (i32.const 0x80))
        (local.set $hi (i32.const 0xbf))
        (local.set $n (i32.const 0))
        (if (i32.and (i32.ge_u (local.get $b) (i32.const 0xc2)) (i32.le_u (local.get $b) (i32.const 0xdf)))
          (then (local.set $n (i32.const 1))))
        (if (i32.eq (local.get $b) (i32.const 0xe0))
          (then (local.set $n (i32.const 2)) (local.set $lo (i32.const 0xa0))))
        (if (i32.and (i32.ge_u (local.get $b) (i32.const 0xe1)) (i32.le_u (local.get $b) (i32.const 0xef)))
          (then (local.set $n (i32.const 2))))
        (if (i32.eq (local.get $b) (i32.const 0xed))
          (then (local.set $hi (i32.const 0x9f))))
        (if (i32.eq (local.get $b) (i32.const 0xf0))
          (then (local.set $n (i32.const 3)) (local.set $lo (i32.const 0x90))))
        (if (i32.and (i32.ge_u (local.get $b) (i32.const 0xf1)) (i32.le_u (local.get $b) (i32.const 0xf3)))
          (then (local.set $n (i32.const 3))))
        (if (i32.eq (local.get $b) (i32.const 0xf4))
          (then (local.set $n (i32.const 3)) (local.set $hi (i32.const 0x8f))))
        (br_if $bad (i32.eqz (local.get $n)))
        (br_if $bad (i32.gt_u (i32.add (local.get $i) (local.get $n)) (local.get $len)))
        (local.set $c (i32.load8_u $gm (i32.add (local.get $p) (local.get $i))))
        (br_if $bad (i32.or (i32.lt_u (local.get $c) (local.get $lo)) (i32.gt_u (local.get $c) (local.get $hi))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (block $cont_done
          (loop $cont
            (br_if $cont_done (i32.eqz (local.get $n)))
            (local.set $c (i32.load8_u $gm (i32.add (local.get $p) (local.get $i))))
            (br_if $bad (i32.or (i32.lt_u (local.get $c) (i32.const 0x80)) (i32.gt_u (local.get $c) (i32.const 0xbf))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (local.set $n (i32.sub (local.get $n) (i32.const 1)))
            (br $cont)))
        (br $each)))
    (i32.const 0))

  ;; Does [$p, +$len) contain a newline or NUL?
  (func $kv_has_nl_nul (param $p i32) (param $len i32) (result i32)
    (local $i i32) (local $b i32)
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $b (i32.load8_u $gm (i32.add (local.get $p) (local.get $i))))
        (if (i32.or (i32.eqz (local.get $b)) (i32.eq (local.get $b) (i32.const 10))) (then (return (i32.const 1))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each)))
    (i32.const 0))

  ;; Is it "." or ".."?
  (func $kv_is_dots (param $p i32) (param $len i32) (result i32)
    (if (i32.eq (local.get $len) (i32.const 1))
      (then (return (i32.eq (i32.load8_u $gm (local.get $p)) (i32.const 46)))))
    (if (i32.eq (local.get $len) (i32.const 2))
      (then (return (i32.and (i32.eq (i32.load8_u $gm (local.get $p)) (i32.const 46))
                             (i32.eq (i32.load8_u $gm offset=1 (local.get $p)) (i32.const 46))))))
    (i32.const 0))

  ;; A key (or, with $prefix, a list prefix) as keyProblem checks it: 0 when valid, else the
  ;; INVALID failure (message written, line logged).
  (func $kv_check_key (param $p i32) (param $len i32) (param $prefix i32) (result i32)
    (if (i32.eqz (call $kv_in_guest (local.get $p) (local.get $len))) (then (return (call $kv_bad_pointer))))
    (call $kv_msg_invalid)
    (if (local.get $prefix)
      (then (call $kv_msg_bytes {{KV_T_THE_PREFIX}}))
      (else (call $kv_msg_bytes {{KV_T_THE_KEY}})))
    (if (i32.eqz (local.get $len))
      (then
        (call $kv_msg_bytes {{KV_T_KEY_EMPTY}})
        (return (call $kv_fail (i32.const 3)))))
    (if (i32.gt_u (local.get $len) (i32.const {{KV_MAX_KEY}}))
      (then
        (call $kv_msg_bytes {{KV_T_KEY_LONG_PRE}})
        (call $kv_msg_u32 (local.get $len))
        (call $kv_msg_bytes {{KV_T_KEY_LONG_POST}})
        (return (call $kv_fail (i32.const 3)))))
    (if (i32.eqz (call $kv_utf8 (local.get $p) (local.get $len)))
      (then
        (call $kv_msg_bytes {{KV_T_KEY_UTF8}})
        (return (call $kv_fail (i32.const 3)))))
    (if (call $kv_has_nl_nul (local.get $p) (local.get $len))
      (then
        (call $kv_msg_bytes {{KV_T_KEY_NL}})
        (return (call $kv_fail (i32.const 3)))))
    (if (i32.and (i32.eqz (local.get $prefix)) (call $kv_is_dots (local.get $p) (local.get $len)))
      (then
        (call $kv_msg_bytes {{KV_T_KEY_DOTS_PRE}})
        (call $kv_msg_guest (local.get $p) (local.get $len) (i32.const 2))
        (call $kv_msg_bytes {{KV_T_KEY_DOTS_POST}})
        (return (call $kv_fail (i32.const 3)))))
    (i32.const 0))

  ;; The Fastly handle of store handle $s (1-based), its name set for messages; -1 with the
  ;; BAD_HANDLE failure when it is not open.
  (func $kv_store (param $s i32) (result i32)
    (local $e i32)
    (if (i32.and (i32.ge_u (local.get $s) (i32.const 1)) (i32.le_u (local.get $s) (i32.const {{KV_STORE_COUNT}})))
      (then
        (local.set $e (i32.add (global.get $kv_stores) (i32.shl (i32.sub (local.get $s) (i32.const 1)) (i32.const 3))))
        (if (i32.load $am (local.get $e))
          (then
            (call $kv_name_of (i32.sub (local.get $s) (i32.const 1)))
            (return (i32.load $am offset=4 (local.get $e)))))))
    (call $kv_msg_start)
    (call $kv_msg_bytes {{KV_T_BAD_STORE_PRE}})
    (call $kv_msg_u32 (local.get $s))
    (call $kv_msg_bytes {{KV_T_BAD_HANDLE_POST}})
    (drop (call $kv_fail (i32.const 5)))
    (i32.const -1))

  ;; Sets $kv_sname to the name of store $i of [kv] stores (NUL-terminated names in $kv_text).
  (func $kv_name_of (param $i i32)
    (local $p i32) (local $end i32) (local $n i32)
    (local.set $p (i32.add (global.get $kv_text) (i32.const {{KV_NAMES_OFF}})))
    (local.set $end (i32.add (local.get $p) (i32.const {{KV_NAMES_LEN}})))
    (loop $each
      (local.set $n (call $find (local.get $p) (i32.sub (local.get $end) (local.get $p)) (i32.const 0)))
      (if (local.get $i)
        (then
          (local.set $p (i32.add (i32.add (local.get $p) (local.get $n)) (i32.const 1)))
          (local.set $i (i32.sub (local.get $i) (i32.const 1)))
          (br $each))))
    (global.set $kv_sname (local.get $p))
    (global.set $kv_sname_len (local.get $n)))

  ;; Counts one store operation: 0, or the LIMIT failure past 1000.
  (func $kv_count (result i32)
    (global.set $kv_ops (i32.add (global.get $kv_ops) (i32.const 1)))
    (if (i32.gt_u (global.get $kv_ops) (i32.const {{KV_MAX_OPS}}))
      (then
        (call $kv_msg_start)
        (call $kv_msg_bytes {{KV_T_LIMIT}})
        (return (call $kv_fail (i32.const 7)))))
    (i32.const 0))

  ;; A new value handle over $body ($len bytes), written out with its length.
  (func $kv_give (param $body i32) (param $len i32) (param $value_out i32) (param $len_out i32) (result i32)
    (local $e i32)
    (local.set $e (i32.add (global.get $kv_values) (i32.shl (global.get $kv_nvalues) (i32.const 4))))
    (global.set $kv_nvalues (i32.add (global.get $kv_nvalues) (i32.const 1)))
    (i32.store $am (local.get $e) (i32.const 1))
    (i32.store $am offset=4 (local.get $e) (local.get $body))
    (i32.store $am offset=8 (local.get $e) (local.get $len))
    (call $kv_put (local.get $value_out) (global.get $kv_nvalues))
    (call $kv_put (local.get $len_out) (local.get $len))
    (i32.const 0))

  ;; The entry of value handle $v, or 0 with the BAD_HANDLE failure.
  (func $kv_value (param $v i32) (result i32)
    (local $e i32)
    (if (i32.and (i32.ge_u (local.get $v) (i32.const 1)) (i32.le_u (local.get $v) (global.get $kv_nvalues)))
      (then
        (local.set $e (i32.add (global.get $kv_values) (i32.shl (i32.sub (local.get $v) (i32.const 1)) (i32.const 4))))
        (if (i32.load $am (local.get $e)) (then (return (local.get $e))))))
    (call $kv_msg_start)
    (call $kv_msg_bytes {{KV_T_BAD_VALUE_PRE}})
    (call $kv_msg_u32 (local.get $v))
    (call $kv_msg_bytes {{KV_T_BAD_HANDLE_POST}})
    (drop (call $kv_fail (i32.const 5)))
    (i32.const 0))

  ;; Writes [$p, +$len) of $mem (0: the function's, 1: $am) into $body; 0 when all was written.
  (func $kv_body_write (param $body i32) (param $p i32) (param $len i32) (param $mem i32) (result i32)
    (local $n i32)
    (block $done
      (loop $more
        (br_if $done (i32.eqz (local.get $len)))
        (if (call $body_write (local.get $body)
              (if (result i32) (local.get $mem) (then (call $abs (local.get $p))) (else (local.get $p)))
              (local.get $len) (i32.const 0) (call $abs (global.get $kv_io)))
          (then (return (i32.const 1))))
        (local.set $n (i32.load $am (global.get $kv_io)))
        (if (i32.eqz (local.get $n)) (then (return (i32.const 1))))
        (local.set $p (i32.add (local.get $p) (local.get $n)))
        (local.set $len (i32.sub (local.get $len) (local.get $n)))
        (br $more)))
    (i32.const 0))

  ;; Reads all of $body into $am at $at (grown as needed); the length, or -1.
  (func $kv_body_slurp (param $body i32) (param $at i32) (result i32)
    (local $len i32) (local $n i32)
    (loop $more
      (call $ensure (i32.add (i32.add (local.get $at) (local.get $len)) (i32.const 65536)))
      (if (call $body_read (local.get $body) (call $abs (i32.add (local.get $at) (local.get $len)))
            (i32.const 65536) (call $abs (global.get $kv_io)))
        (then (return (i32.const -1))))
      (local.set $n (i32.load $am (global.get $kv_io)))
      (local.set $len (i32.add (local.get $len) (local.get $n)))
      (br_if $more (local.get $n)))
    (local.get $len))

  ;; ------------------------------------------------------------ the API

  (func (export "wfn_kv_v1.open") (param $np i32) (param $nl i32) (param $out i32) (result i32)
    (local $i i32) (local $p i32) (local $end i32) (local $n i32) (local $e i32) (local $st i32)
    (if (i32.eqz (call $kv_in_guest (local.get $out) (i32.const 4))) (then (return (call $kv_bad_pointer))))
    (if (i32.eqz (call $kv_in_guest (local.get $np) (select (local.get $nl) (i32.const 256) (i32.lt_u (local.get $nl) (i32.const 256)))))
      (then (return (call $kv_bad_pointer))))
    (if (i32.or (i32.gt_u (local.get $nl) (i32.const 256)) (i32.eqz (call $kv_utf8 (local.get $np) (local.get $nl))))
      (then
        (call $kv_msg_invalid)
        (call $kv_msg_bytes {{KV_T_STORE_NAME}})
        (return (call $kv_fail (i32.const 3)))))
    (local.set $p (i32.add (global.get $kv_text) (i32.const {{KV_NAMES_OFF}})))
    (local.set $end (i32.add (local.get $p) (i32.const {{KV_NAMES_LEN}})))
    (block $found
      (loop $each
        (if (i32.ge_u (local.get $p) (local.get $end))
          (then
            (call $kv_msg_start)
            (call $kv_msg_bytes {{KV_T_DENIED_PRE}})
            (call $kv_msg_guest (local.get $np) (local.get $nl) (i32.const 80))
            (call $kv_msg_bytes {{KV_T_DENIED_POST}})
            (return (call $kv_fail (i32.const 2)))))
        (local.set $n (call $find (local.get $p) (i32.sub (local.get $end) (local.get $p)) (i32.const 0)))
        (if (i32.eq (local.get $n) (local.get $nl))
          (then
            (local.set $e (i32.const 0))
            (block $differ
              (loop $cmp
                (br_if $found (i32.ge_u (local.get $e) (local.get $n)))
                (br_if $differ (i32.ne (i32.load8_u $am (i32.add (local.get $p) (local.get $e)))
                                       (i32.load8_u $gm (i32.add (local.get $np) (local.get $e)))))
                (local.set $e (i32.add (local.get $e) (i32.const 1)))
                (br $cmp)))))
        (local.set $p (i32.add (i32.add (local.get $p) (local.get $n)) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each)))
    (local.set $e (i32.add (global.get $kv_stores) (i32.shl (local.get $i) (i32.const 3))))
    (if (i32.eqz (i32.load $am (local.get $e)))
      (then
        (call $kv_name_of (local.get $i))
        ;; the store is linked to the service under its [kv] name (deploy.ts)
        (local.set $st (call $kv_h_open (call $abs (global.get $kv_sname)) (global.get $kv_sname_len) (call $abs (global.get $kv_io))))
        (if (local.get $st)
          (then
            (call $kv_msg_about {{KV_T_UNAVAILABLE_PRE}} {{KV_T_UNAVAILABLE_MID}})
            (call $kv_msg_bytes {{KV_T_NOT_LINKED_PRE}})
            (call $kv_msg_store)
            (call $kv_msg_bytes {{KV_T_NOT_LINKED_POST}})
            (return (call $kv_fail (i32.const 8)))))
        (i32.store $am offset=4 (local.get $e) (i32.load $am (global.get $kv_io)))
        (i32.store $am (local.get $e) (i32.const 1))))
    (call $kv_put (local.get $out) (i32.add (local.get $i) (i32.const 1)))
    (i32.const 0))

  (func (export "wfn_kv_v1.get") (param $s i32) (param $kp i32) (param $kl i32) (param $vout i32) (param $lout i32) (result i32)
    (local $fs i32) (local $st i32) (local $ke i32) (local $body i32) (local $copy i32) (local $len i32) (local $tmp i32)
    (if (i32.eqz (i32.and (call $kv_in_guest (local.get $vout) (i32.const 4)) (call $kv_in_guest (local.get $lout) (i32.const 4))))
      (then (return (call $kv_bad_pointer))))
    (local.set $fs (call $kv_store (local.get $s)))
    (if (i32.eq (local.get $fs) (i32.const -1)) (then (return (i32.const 5))))
    (if (call $kv_check_key (local.get $kp) (local.get $kl) (i32.const 0)) (then (return (i32.const 3))))
    (if (call $kv_count) (then (return (i32.const 7))))
    (i32.store $am offset=32 (global.get $kv_io) (i32.const 0))
    (local.set $st (call $kv_h_lookup (local.get $fs) (local.get $kp) (local.get $kl) (i32.const 0)
      (call $abs (i32.add (global.get $kv_io) (i32.const 32))) (call $abs (global.get $kv_io))))
    (if (local.get $st) (then (return (call $kv_call_failed (local.get $st)))))
    ;; metadata, if the value has any (wfn writes none), goes to the scratch and is ignored
    (local.set $tmp (call $kv_tmp))
    (call $ensure (i32.add (local.get $tmp) (i32.const 8192)))
    (i32.store $am offset=12 (global.get $kv_io) (i32.const 0))
    (local.set $st (call $kv_h_lookup_wait (i32.load $am (global.get $kv_io))
      (call $abs (i32.add (global.get $kv_io) (i32.const 4))) (call $abs (local.get $tmp)) (i32.const 8192)
      (call $abs (i32.add (global.get $kv_io) (i32.const 8))) (call $abs (i32.add (global.get $kv_io) (i32.const 16)))
      (call $abs (i32.add (global.get $kv_io) (i32.const 12)))))
    (local.set $ke (i32.load $am offset=12 (global.get $kv_io)))
    (if (local.get $st) (then (return (call $kv_failed_status (local.get $st) (local.get $ke)))))
    (if (i32.eq (local.get $ke) (i32.const 3))
      (then
        (call $kv_msg_about {{KV_T_NOT_FOUND_PRE}} {{KV_T_NOT_FOUND_POST}})
        (return (i32.const 1))))
    (if (i32.ne (local.get $ke) (i32.const 1)) (then (return (call $kv_wait_failed (local.get $ke)))))
    (local.set $body (i32.load $am offset=4 (global.get $kv_io)))
    (if (i32.eqz (call $body_known_length (local.get $body) (call $abs (i32.add (global.get $kv_io) (i32.const 24)))))
      (then
        (return (call $kv_give (local.get $body) (i32.wrap_i64 (i64.load $am offset=24 (global.get $kv_io))) (local.get $vout) (local.get $lout)))))
    ;; The host does not say the length: read the value into a body of our own, counting.
    (local.set $len (call $kv_body_slurp (local.get $body) (local.get $tmp)))
    (drop (call $kv_body_close (local.get $body)))
    (if (i32.lt_s (local.get $len) (i32.const 0)) (then (return (call $kv_failed_status (i32.const 1) (i32.const 1)))))
    (if (call $body_new (call $abs (global.get $kv_io))) (then (return (call $kv_failed_status (i32.const 1) (i32.const 1)))))
    (local.set $copy (i32.load $am (global.get $kv_io)))
    (if (call $kv_body_write (local.get $copy) (local.get $tmp) (local.get $len) (i32.const 1))
      (then (return (call $kv_failed_status (i32.const 1) (i32.const 1)))))
    (call $kv_give (local.get $copy) (local.get $len) (local.get $vout) (local.get $lout)))

  (func (export "wfn_kv_v1.read") (param $v i32) (param $buf i32) (param $len i32) (param $out i32) (result i32)
    (local $e i32)
    (if (i32.eqz (i32.and (call $kv_in_guest (local.get $buf) (local.get $len)) (call $kv_in_guest (local.get $out) (i32.const 4))))
      (then (return (call $kv_bad_pointer))))
    (local.set $e (call $kv_value (local.get $v)))
    (if (i32.eqz (local.get $e)) (then (return (i32.const 5))))
    (if (call $body_read (i32.load $am offset=4 (local.get $e)) (local.get $buf) (local.get $len) (call $abs (global.get $kv_io)))
      (then
        (call $kv_msg_start)
        (call $kv_msg_bytes {{KV_T_READ_FAILED}})
        (return (call $kv_fail (i32.const 9)))))
    (call $kv_put (local.get $out) (i32.load $am (global.get $kv_io)))
    (i32.const 0))

  (func (export "wfn_kv_v1.close") (param $v i32) (result i32)
    (local $e i32)
    (local.set $e (call $kv_value (local.get $v)))
    (if (i32.eqz (local.get $e)) (then (return (i32.const 5))))
    (drop (call $kv_body_close (i32.load $am offset=4 (local.get $e))))
    (i32.store $am (local.get $e) (i32.const 0))
    (i32.const 0))

  (func (export "wfn_kv_v1.set") (param $s i32) (param $kp i32) (param $kl i32) (param $vp i32) (param $vl i32) (param $ttl i32) (result i32)
    (local $fs i32) (local $st i32) (local $ke i32) (local $body i32) (local $c i32)
    (local.set $fs (call $kv_store (local.get $s)))
    (if (i32.eq (local.get $fs) (i32.const -1)) (then (return (i32.const 5))))
    (if (call $kv_check_key (local.get $kp) (local.get $kl) (i32.const 0)) (then (return (i32.const 3))))
    (if (i32.gt_u (local.get $vl) (i32.const {{KV_MAX_VALUE}}))
      (then
        (call $kv_msg_about {{KV_T_TOO_LARGE_PRE}} {{KV_T_TOO_LARGE_MID}})
        (call $kv_msg_u32 (local.get $vl))
        (call $kv_msg_bytes {{KV_T_TOO_LARGE_POST}})
        (return (call $kv_fail (i32.const 4)))))
    (if (i32.eqz (call $kv_in_guest (local.get $vp) (local.get $vl))) (then (return (call $kv_bad_pointer))))
    (if (call $kv_count) (then (return (i32.const 7))))
    (if (call $body_new (call $abs (global.get $kv_io))) (then (return (call $kv_failed_status (i32.const 1) (i32.const 0)))))
    (local.set $body (i32.load $am (global.get $kv_io)))
    (if (call $kv_body_write (local.get $body) (local.get $vp) (local.get $vl) (i32.const 0))
      (then
        (drop (call $kv_body_close (local.get $body)))
        (return (call $kv_failed_status (i32.const 1) (i32.const 0)))))
    ;; $kv_insert_config: mode (overwrite), unused, metadata, metadata_len, time_to_live_sec, if_generation_match
    (local.set $c (i32.add (global.get $kv_io) (i32.const 32)))
    (memory.fill $am (local.get $c) (i32.const 0) (i32.const 32))
    (i32.store $am offset=16 (local.get $c) (local.get $ttl))
    (local.set $st (call $kv_h_insert (local.get $fs) (local.get $kp) (local.get $kl) (local.get $body)
      (select (i32.const 16) (i32.const 0) (local.get $ttl)) (call $abs (local.get $c)) (call $abs (global.get $kv_io))))
    (if (local.get $st) (then (return (call $kv_call_failed (local.get $st)))))
    (i32.store $am offset=4 (global.get $kv_io) (i32.const 0))
    (local.set $st (call $kv_h_insert_wait (i32.load $am (global.get $kv_io)) (call $abs (i32.add (global.get $kv_io) (i32.const 4)))))
    (local.set $ke (i32.load $am offset=4 (global.get $kv_io)))
    (if (local.get $st) (then (return (call $kv_failed_status (local.get $st) (local.get $ke)))))
    (if (i32.eq (local.get $ke) (i32.const 5))
      (then
        (call $kv_msg_about {{KV_T_TOO_LARGE_PRE}} {{KV_T_TOO_LARGE_MID}})
        (call $kv_msg_u32 (local.get $vl))
        (call $kv_msg_bytes {{KV_T_TOO_LARGE_POST}})
        (return (call $kv_fail (i32.const 4)))))
    (if (i32.ne (local.get $ke) (i32.const 1)) (then (return (call $kv_wait_failed (local.get $ke)))))
    (i32.const 0))

  (func (export "wfn_kv_v1.delete") (param $s i32) (param $kp i32) (param $kl i32) (result i32)
    (local $fs i32) (local $st i32) (local $ke i32)
    (local.set $fs (call $kv_store (local.get $s)))
    (if (i32.eq (local.get $fs) (i32.const -1)) (then (return (i32.const 5))))
    (if (call $kv_check_key (local.get $kp) (local.get $kl) (i32.const 0)) (then (return (i32.const 3))))
    (if (call $kv_count) (then (return (i32.const 7))))
    (i32.store $am offset=32 (global.get $kv_io) (i32.const 0))
    (local.set $st (call $kv_h_delete (local.get $fs) (local.get $kp) (local.get $kl) (i32.const 0)
      (call $abs (i32.add (global.get $kv_io) (i32.const 32))) (call $abs (global.get $kv_io))))
    (if (local.get $st) (then (return (call $kv_call_failed (local.get $st)))))
    (i32.store $am offset=4 (global.get $kv_io) (i32.const 0))
    (local.set $st (call $kv_h_delete_wait (i32.load $am (global.get $kv_io)) (call $abs (i32.add (global.get $kv_io) (i32.const 4)))))
    (local.set $ke (i32.load $am offset=4 (global.get $kv_io)))
    (if (local.get $st) (then (return (call $kv_failed_status (local.get $st) (local.get $ke)))))
    ;; deleting an absent key is fine
    (if (i32.and (i32.ne (local.get $ke) (i32.const 1)) (i32.ne (local.get $ke) (i32.const 3)))
      (then (return (call $kv_wait_failed (local.get $ke)))))
    (i32.const 0))

  ;; ---------------------------------------------------------- list's JSON

  ;; JSON parsing over $am [pos, $kv_jend): whitespace, strings (decoded to $kv_dst), values skipped.
  (global $kv_jend (mut i32) (i32.const 0))
  (global $kv_dst (mut i32) (i32.const 0))

  (func $kv_ws (param $p i32) (result i32)
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $p) (global.get $kv_jend)))
        (br_if $done (i32.eqz (call $is_space (i32.load8_u $am (local.get $p)))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $each)))
    (local.get $p))

  (func $kv_jbyte (param $p i32) (result i32)
    (if (i32.ge_u (local.get $p) (global.get $kv_jend)) (then (return (i32.const -1))))
    (i32.load8_u $am (local.get $p)))

  (func $kv_out (param $b i32)
    (i32.store8 $am (global.get $kv_dst) (local.get $b))
    (global.set $kv_dst (i32.add (global.get $kv_dst) (i32.const 1))))

  (func $kv_out_cp (param $cp i32)
    (if (i32.lt_u (local.get $cp) (i32.const 0x80)) (then (call $kv_out (local.get $cp)) (return)))
    (if (i32.lt_u (local.get $cp) (i32.const 0x800))
      (then
        (call $kv_out (i32.or (i32.const 0xc0) (i32.shr_u (local.get $cp) (i32.const 6))))
        (call $kv_out (i32.or (i32.const 0x80) (i32.and (local.get $cp) (i32.const 0x3f))))
        (return)))
    (if (i32.lt_u (local.get $cp) (i32.const 0x10000))
      (then
        (call $kv_out (i32.or (i32.const 0xe0) (i32.shr_u (local.get $cp) (i32.const 12))))
        (call $kv_out (i32.or (i32.const 0x80) (i32.and (i32.shr_u (local.get $cp) (i32.const 6)) (i32.const 0x3f))))
        (call $kv_out (i32.or (i32.const 0x80) (i32.and (local.get $cp) (i32.const 0x3f))))
        (return)))
    (call $kv_out (i32.or (i32.const 0xf0) (i32.shr_u (local.get $cp) (i32.const 18))))
    (call $kv_out (i32.or (i32.const 0x80) (i32.and (i32.shr_u (local.get $cp) (i32.const 12)) (i32.const 0x3f))))
    (call $kv_out (i32.or (i32.const 0x80) (i32.and (i32.shr_u (local.get $cp) (i32.const 6)) (i32.const 0x3f))))
    (call $kv_out (i32.or (i32.const 0x80) (i32.and (local.get $cp) (i32.const 0x3f)))))

  ;; Four hex digits at $p, or -1.
  (func $kv_hex4 (param $p i32) (result i32)
    (local $i i32) (local $v i32) (local $d i32)
    (if (i32.gt_u (i32.add (local.get $p) (i32.const 4)) (global.get $kv_jend)) (then (return (i32.const -1))))
    (loop $each
      (local.set $d (call $hexval (i32.load8_u $am (i32.add (local.get $p) (local.get $i)))))
      (if (i32.lt_s (local.get $d) (i32.const 0)) (then (return (i32.const -1))))
      (local.set $v (i32.or (i32.shl (local.get $v) (i32.const 4)) (local.get $d)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $each (i32.lt_u (local.get $i) (i32.const 4))))
    (local.get $v))

  ;; The string starting at the quote at $p, decoded to $kv_dst; the position after its closing
  ;; quote, or -1 when it is not a JSON string. (A lone surrogate becomes U+FFFD.)
  (func $kv_jstring (param $p i32) (result i32)
    (local $c i32) (local $cp i32) (local $lo i32)
    (if (i32.ne (call $kv_jbyte (local.get $p)) (i32.const 34)) (then (return (i32.const -1))))
    (local.set $p (i32.add (local.get $p) (i32.const 1)))
    (loop $each
      (local.set $c (call $kv_jbyte (local.get $p)))
      (if (i32.lt_s (local.get $c) (i32.const 0)) (then (return (i32.const -1))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (if (i32.eq (local.get $c) (i32.const 34)) (then (return (local.get $p))))
      (if (i32.ne (local.get $c) (i32.const 92))
        (then (call $kv_out (local.get $c)) (br $each)))
      (local.set $c (call $kv_jbyte (local.get $p)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (if (i32.eq (local.get $c) (i32.const 117))
        (then
          (local.set $cp (call $kv_hex4 (local.get $p)))
          (if (i32.lt_s (local.get $cp) (i32.const 0)) (then (return (i32.const -1))))
          (local.set $p (i32.add (local.get $p) (i32.const 4)))
          (if (i32.eq (i32.and (local.get $cp) (i32.const 0xfc00)) (i32.const 0xd800))
            (then
              (local.set $lo (i32.const -1))
              (if (i32.and (i32.eq (call $kv_jbyte (local.get $p)) (i32.const 92))
                           (i32.eq (call $kv_jbyte (i32.add (local.get $p) (i32.const 1))) (i32.const 117)))
                (then (local.set $lo (call $kv_hex4 (i32.add (local.get $p) (i32.const 2))))))
              (if (i32.and (i32.ge_s (local.get $lo) (i32.const 0)) (i32.eq (i32.and (local.get $lo) (i32.const 0xfc00)) (i32.const 0xdc00)))
                (then
                  (local.set $p (i32.add (local.get $p) (i32.const 6)))
                  (local.set $cp (i32.add (i32.const 0x10000)
                    (i32.or (i32.shl (i32.and (local.get $cp) (i32.const 0x3ff)) (i32.const 10)) (i32.and (local.get $lo) (i32.const 0x3ff))))))
                (else (local.set $cp (i32.const 0xfffd))))))
          (if (i32.eq (i32.and (local.get $cp) (i32.const 0xfc00)) (i32.const 0xdc00)) (then (local.set $cp (i32.const 0xfffd))))
          (call $kv_out_cp (local.get $cp))
          (br $each)))
      (if (i32.eq (local.get $c) (i32.const 98)) (then (call $kv_out (i32.const 8)) (br $each)))
      (if (i32.eq (local.get $c) (i32.const 102)) (then (call $kv_out (i32.const 12)) (br $each)))
      (if (i32.eq (local.get $c) (i32.const 110)) (then (call $kv_out (i32.const 10)) (br $each)))
      (if (i32.eq (local.get $c) (i32.const 114)) (then (call $kv_out (i32.const 13)) (br $each)))
      (if (i32.eq (local.get $c) (i32.const 116)) (then (call $kv_out (i32.const 9)) (br $each)))
      (if (i32.or (i32.eq (local.get $c) (i32.const 34)) (i32.or (i32.eq (local.get $c) (i32.const 92)) (i32.eq (local.get $c) (i32.const 47))))
        (then (call $kv_out (local.get $c)) (br $each)))
      (return (i32.const -1)))
    (i32.const -1))

  ;; Skips the value at $p (any JSON value); the position after it, or -1.
  (func $kv_jskip (param $p i32) (result i32)
    (local $c i32) (local $depth i32) (local $keep i32)
    (local.set $keep (global.get $kv_dst))
    (local.set $p (call $kv_ws (local.get $p)))
    (local.set $c (call $kv_jbyte (local.get $p)))
    (if (i32.eq (local.get $c) (i32.const 34))
      (then
        (local.set $p (call $kv_jstring (local.get $p)))
        (global.set $kv_dst (local.get $keep))
        (return (local.get $p))))
    (if (i32.or (i32.eq (local.get $c) (i32.const 123)) (i32.eq (local.get $c) (i32.const 91)))
      (then
        ;; an object or array: to its matching bracket, strings skipped whole
        (loop $each
          (local.set $c (call $kv_jbyte (local.get $p)))
          (if (i32.lt_s (local.get $c) (i32.const 0)) (then (return (i32.const -1))))
          (if (i32.eq (local.get $c) (i32.const 34))
            (then
              (local.set $p (call $kv_jstring (local.get $p)))
              (global.set $kv_dst (local.get $keep))
              (if (i32.lt_s (local.get $p) (i32.const 0)) (then (return (i32.const -1))))
              (br $each)))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (if (i32.or (i32.eq (local.get $c) (i32.const 123)) (i32.eq (local.get $c) (i32.const 91)))
            (then (local.set $depth (i32.add (local.get $depth) (i32.const 1)))))
          (if (i32.or (i32.eq (local.get $c) (i32.const 125)) (i32.eq (local.get $c) (i32.const 93)))
            (then (local.set $depth (i32.sub (local.get $depth) (i32.const 1)))))
          (br_if $each (local.get $depth)))
        (return (local.get $p))))
    ;; a number, true, false or null: to the next delimiter
    (block $done
      (loop $scalar
        (local.set $c (call $kv_jbyte (local.get $p)))
        (br_if $done (i32.lt_s (local.get $c) (i32.const 0)))
        (br_if $done (i32.or (i32.eq (local.get $c) (i32.const 44))
          (i32.or (i32.eq (local.get $c) (i32.const 125)) (i32.or (i32.eq (local.get $c) (i32.const 93)) (call $is_space (local.get $c))))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $scalar)))
    (local.get $p))

  ;; Is the decoded key at [$a, $kv_dst) the literal?
  (func $kv_jkey_is (param $a i32) (param $lit i32) (param $lit_len i32) (result i32)
    (if (i32.ne (i32.sub (global.get $kv_dst) (local.get $a)) (local.get $lit_len)) (then (return (i32.const 0))))
    (call $ieq (local.get $a) (local.get $lit_len) (local.get $lit) (local.get $lit_len)))

  ;; Fastly's page at [$j, +$jlen): the keys, one per line, at $keys; the cursor at $cur.
  ;; Globals $kv_keys_end and $kv_cur_end say where each ends; 0 when it is not such a page.
  (global $kv_keys_end (mut i32) (i32.const 0))
  (global $kv_cur_end (mut i32) (i32.const 0))

  (func $kv_parse_page (param $j i32) (param $jlen i32) (param $keys i32) (param $cur i32) (result i32)
    (local $p i32) (local $k i32) (local $c i32) (local $start i32) (local $mk i32)
    (global.set $kv_jend (i32.add (local.get $j) (local.get $jlen)))
    (global.set $kv_keys_end (local.get $keys))
    (global.set $kv_cur_end (local.get $cur))
    (local.set $p (call $kv_ws (local.get $j)))
    (if (i32.ne (call $kv_jbyte (local.get $p)) (i32.const 123)) (then (return (i32.const 0))))
    (local.set $p (call $kv_ws (i32.add (local.get $p) (i32.const 1))))
    (if (i32.eq (call $kv_jbyte (local.get $p)) (i32.const 125)) (then (return (i32.const 1))))
    (loop $member
      ;; the member's name, decoded just past the keys written so far (then dropped)
      (local.set $k (global.get $kv_keys_end))
      (global.set $kv_dst (local.get $k))
      (local.set $p (call $kv_jstring (local.get $p)))
      (if (i32.lt_s (local.get $p) (i32.const 0)) (then (return (i32.const 0))))
      (local.set $p (call $kv_ws (local.get $p)))
      (if (i32.ne (call $kv_jbyte (local.get $p)) (i32.const 58)) (then (return (i32.const 0))))
      (local.set $p (call $kv_ws (i32.add (local.get $p) (i32.const 1))))
      (if (call $kv_jkey_is (local.get $k) {{KV_T_JSON_DATA}})
        (then
          (if (i32.ne (call $kv_jbyte (local.get $p)) (i32.const 91)) (then (return (i32.const 0))))
          (local.set $p (call $kv_ws (i32.add (local.get $p) (i32.const 1))))
          (global.set $kv_dst (global.get $kv_keys_end))
          (if (i32.ne (call $kv_jbyte (local.get $p)) (i32.const 93))
            (then
              (loop $key
                (local.set $start (global.get $kv_dst))
                (local.set $p (call $kv_jstring (local.get $p)))
                (if (i32.lt_s (local.get $p) (i32.const 0)) (then (return (i32.const 0))))
                ;; a key the API cannot name (a newline or NUL in it, written by other tools) is left out
                (if (call $kv_am_has_nl_nul (local.get $start) (i32.sub (global.get $kv_dst) (local.get $start)))
                  (then (global.set $kv_dst (local.get $start)))
                  (else (call $kv_out (i32.const 10))))
                (local.set $p (call $kv_ws (local.get $p)))
                (local.set $c (call $kv_jbyte (local.get $p)))
                (if (i32.eq (local.get $c) (i32.const 44))
                  (then
                    (local.set $p (call $kv_ws (i32.add (local.get $p) (i32.const 1))))
                    (br $key)))
                (if (i32.ne (local.get $c) (i32.const 93)) (then (return (i32.const 0)))))))
          (global.set $kv_keys_end (global.get $kv_dst))
          (local.set $p (i32.add (local.get $p) (i32.const 1))))
        (else
          (if (call $kv_jkey_is (local.get $k) {{KV_T_JSON_META}})
            (then
              (if (i32.ne (call $kv_jbyte (local.get $p)) (i32.const 123)) (then (return (i32.const 0))))
              (local.set $p (call $kv_ws (i32.add (local.get $p) (i32.const 1))))
              (if (i32.ne (call $kv_jbyte (local.get $p)) (i32.const 125))
                (then
                  (loop $meta
                    (local.set $mk (global.get $kv_keys_end))
                    (global.set $kv_dst (local.get $mk))
                    (local.set $p (call $kv_jstring (local.get $p)))
                    (if (i32.lt_s (local.get $p) (i32.const 0)) (then (return (i32.const 0))))
                    (local.set $p (call $kv_ws (local.get $p)))
                    (if (i32.ne (call $kv_jbyte (local.get $p)) (i32.const 58)) (then (return (i32.const 0))))
                    (local.set $p (call $kv_ws (i32.add (local.get $p) (i32.const 1))))
                    (if (i32.and (call $kv_jkey_is (local.get $mk) {{KV_T_JSON_NEXT_CURSOR}})
                                 (i32.eq (call $kv_jbyte (local.get $p)) (i32.const 34)))
                      (then
                        (global.set $kv_dst (local.get $cur))
                        (local.set $p (call $kv_jstring (local.get $p)))
                        (global.set $kv_cur_end (global.get $kv_dst)))
                      (else (local.set $p (call $kv_jskip (local.get $p)))))
                    (if (i32.lt_s (local.get $p) (i32.const 0)) (then (return (i32.const 0))))
                    (local.set $p (call $kv_ws (local.get $p)))
                    (local.set $c (call $kv_jbyte (local.get $p)))
                    (if (i32.eq (local.get $c) (i32.const 44))
                      (then
                        (local.set $p (call $kv_ws (i32.add (local.get $p) (i32.const 1))))
                        (br $meta)))
                    (if (i32.ne (local.get $c) (i32.const 125)) (then (return (i32.const 0)))))))
              (local.set $p (i32.add (local.get $p) (i32.const 1))))
            (else
              (local.set $p (call $kv_jskip (local.get $p)))
              (if (i32.lt_s (local.get $p) (i32.const 0)) (then (return (i32.const 0))))))))
      (local.set $p (call $kv_ws (local.get $p)))
      (local.set $c (call $kv_jbyte (local.get $p)))
      (if (i32.eq (local.get $c) (i32.const 44))
        (then
          (local.set $p (call $kv_ws (i32.add (local.get $p) (i32.const 1))))
          (br $member)))
      (if (i32.ne (local.get $c) (i32.const 125)) (then (return (i32.const 0)))))
    (i32.const 1))

  (func $kv_am_has_nl_nul (param $p i32) (param $len i32) (result i32)
    (local $i i32) (local $b i32)
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $b (i32.load8_u $am (i32.add (local.get $p) (local.get $i))))
        (if (i32.or (i32.eqz (local.get $b)) (i32.eq (local.get $b) (i32.const 10))) (then (return (i32.const 1))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each)))
    (i32.const 0))

  (func (export "wfn_kv_v1.list")
    (param $s i32) (param $pp i32) (param $pl i32) (param $cp i32) (param $cl i32) (param $limit i32) (param $vout i32) (param $lout i32)
    (result i32)
    (local $fs i32) (local $st i32) (local $ke i32) (local $c i32) (local $body i32) (local $j i32) (local $jlen i32)
    (local $cur i32) (local $keys i32) (local $out i32)
    (if (i32.eqz (i32.and (call $kv_in_guest (local.get $vout) (i32.const 4)) (call $kv_in_guest (local.get $lout) (i32.const 4))))
      (then (return (call $kv_bad_pointer))))
    (local.set $fs (call $kv_store (local.get $s)))
    (if (i32.eq (local.get $fs) (i32.const -1)) (then (return (i32.const 5))))
    (if (i32.eqz (call $kv_in_guest (local.get $pp) (local.get $pl))) (then (return (call $kv_bad_pointer))))
    ;; a prefix follows the key rules, except that it may be "." or ".."
    (if (local.get $pl)
      (then (if (call $kv_check_key (local.get $pp) (local.get $pl) (i32.const 1)) (then (return (i32.const 3))))))
    (if (local.get $cl)
      (then
        (if (i32.eqz (call $kv_in_guest (local.get $cp) (local.get $cl))) (then (return (call $kv_bad_pointer))))
        (if (i32.or (i32.gt_u (local.get $cl) (i32.const {{KV_MAX_CURSOR}}))
              (i32.or (i32.eqz (call $kv_utf8 (local.get $cp) (local.get $cl)))
                      (call $kv_has_nl_nul (local.get $cp) (local.get $cl))))
          (then
            (call $kv_msg_invalid)
            (call $kv_msg_bytes {{KV_T_CURSOR}})
            (return (call $kv_fail (i32.const 3)))))))
    (if (i32.gt_u (local.get $limit) (i32.const 1000))
      (then
        (call $kv_msg_invalid)
        (call $kv_msg_bytes {{KV_T_LIST_LIMIT_PRE}})
        (call $kv_msg_u32 (local.get $limit))
        (call $kv_msg_bytes {{KV_T_LIST_LIMIT_POST}})
        (return (call $kv_fail (i32.const 3)))))
    (if (call $kv_count) (then (return (i32.const 7))))
    ;; $kv_list_config: mode (strong), cursor, cursor_len, limit, prefix, prefix_len
    (local.set $c (i32.add (global.get $kv_io) (i32.const 32)))
    (memory.fill $am (local.get $c) (i32.const 0) (i32.const 32))
    (i32.store $am offset=4 (local.get $c) (local.get $cp))
    (i32.store $am offset=8 (local.get $c) (local.get $cl))
    (i32.store $am offset=12 (local.get $c) (select (local.get $limit) (i32.const 1000) (local.get $limit)))
    (i32.store $am offset=16 (local.get $c) (local.get $pp))
    (i32.store $am offset=20 (local.get $c) (local.get $pl))
    (local.set $st (call $kv_h_list (local.get $fs)
      (i32.or (i32.const 4) (i32.or (select (i32.const 2) (i32.const 0) (local.get $cl)) (select (i32.const 8) (i32.const 0) (local.get $pl))))
      (call $abs (local.get $c)) (call $abs (global.get $kv_io))))
    (if (local.get $st) (then (return (call $kv_call_failed (local.get $st)))))
    (i32.store $am offset=8 (global.get $kv_io) (i32.const 0))
    (local.set $st (call $kv_h_list_wait (i32.load $am (global.get $kv_io))
      (call $abs (i32.add (global.get $kv_io) (i32.const 4))) (call $abs (i32.add (global.get $kv_io) (i32.const 8)))))
    (local.set $ke (i32.load $am offset=8 (global.get $kv_io)))
    (if (local.get $st) (then (return (call $kv_failed_status (local.get $st) (local.get $ke)))))
    (if (i32.eq (local.get $ke) (i32.const 2))
      (then
        ;; a list's bad request is its cursor (the prefix passed the key rules)
        (call $kv_msg_invalid)
        (call $kv_msg_bytes {{KV_T_CURSOR}})
        (return (call $kv_fail (i32.const 3)))))
    (if (i32.ne (local.get $ke) (i32.const 1)) (then (return (call $kv_wait_failed (local.get $ke)))))
    (local.set $body (i32.load $am offset=4 (global.get $kv_io)))
    (local.set $j (call $kv_tmp))
    (local.set $jlen (call $kv_body_slurp (local.get $body) (local.get $j)))
    (drop (call $kv_body_close (local.get $body)))
    (if (i32.lt_s (local.get $jlen) (i32.const 0)) (then (return (call $kv_failed_status (i32.const 1) (i32.const 1)))))
    ;; decoded text is never longer than its JSON: the cursor and the keys each fit in $jlen
    (local.set $cur (i32.add (local.get $j) (local.get $jlen)))
    (local.set $keys (i32.add (local.get $cur) (local.get $jlen)))
    (call $ensure (i32.add (local.get $keys) (i32.add (local.get $jlen) (i32.const 16))))
    (if (i32.eqz (call $kv_parse_page (local.get $j) (local.get $jlen) (local.get $keys) (local.get $cur)))
      (then
        (call $kv_msg_about {{KV_T_FAILED_PRE}} {{KV_T_FAILED_MID}})
        (call $kv_msg_bytes {{KV_T_BAD_PAGE}})
        (return (call $kv_fail (i32.const 9)))))
    (if (call $kv_am_has_nl_nul (local.get $cur) (i32.sub (global.get $kv_cur_end) (local.get $cur)))
      (then
        (call $kv_msg_about {{KV_T_FAILED_PRE}} {{KV_T_FAILED_MID}})
        (call $kv_msg_bytes {{KV_T_CURSOR_NEWLINE}})
        (return (call $kv_fail (i32.const 9)))))
    ;; the value: the cursor's line, then the keys' lines, in a body of our own
    (i32.store8 $am (global.get $kv_cur_end) (i32.const 10))
    (if (call $body_new (call $abs (global.get $kv_io))) (then (return (call $kv_failed_status (i32.const 1) (i32.const 0)))))
    (local.set $out (i32.load $am (global.get $kv_io)))
    (if (i32.or
          (call $kv_body_write (local.get $out) (local.get $cur) (i32.add (i32.sub (global.get $kv_cur_end) (local.get $cur)) (i32.const 1)) (i32.const 1))
          (call $kv_body_write (local.get $out) (local.get $keys) (i32.sub (global.get $kv_keys_end) (local.get $keys)) (i32.const 1)))
      (then (return (call $kv_failed_status (i32.const 1) (i32.const 0)))))
    (call $kv_give (local.get $out)
      (i32.add (i32.add (i32.sub (global.get $kv_cur_end) (local.get $cur)) (i32.const 1)) (i32.sub (global.get $kv_keys_end) (local.get $keys)))
      (local.get $vout) (local.get $lout)))

  (func (export "wfn_kv_v1.error_message") (param $buf i32) (param $len i32) (param $out i32) (result i32)
    (if (i32.eqz (call $kv_in_guest (local.get $out) (i32.const 4))) (then (return (call $kv_bad_pointer))))
    (if (i32.gt_u (global.get $kv_msg_len) (local.get $len))
      (then
        (call $kv_put (local.get $out) (global.get $kv_msg_len))
        (return (i32.const 6))))
    (if (i32.eqz (call $kv_in_guest (local.get $buf) (local.get $len))) (then (return (call $kv_bad_pointer))))
    (memory.copy $gm $am (local.get $buf) (global.get $kv_msg) (global.get $kv_msg_len))
    (call $kv_put (local.get $out) (global.get $kv_msg_len))
    (i32.const 0))
