;; The host-independent half of wfn's outbound HTTP host API (`wfn_http_v1`, docs/contract.md)
;; in WAT: the checks, messages, URL parsing and normalization, the allow-list matcher, the
;; redirect loop and the handle table, written once for the two WAT hosts that splice it in
;; after their own part: the Fastly adapter (adapters/fastly/outbound.wat, on Fastly hostcalls)
;; and the component bridge (src/pipeline/component/outbound.wat, on wasi:http). Filled with the
;; same {{OB_*}} values (src/pipeline/outbound-values.ts); it behaves as src/runtime/outbound
;; (imports.ts, fetch.ts) does on the Node hosts, with the same messages.
;;
;; What each host defines: the globals and $ob_init (the regions of $am), $ob_now, $ob_fail (the
;; log line), $ob_hop (one request: $ob_resp and $ob_status set, or an error code with the
;; message written), $ob_resp_header (a response header's first value at $ob_scratch),
;; $ob_drop_hop (the end of a response not handed on), $ob_keep (its handles into a table
;; entry), and the headers, body_read and close exports. A table entry is 360 bytes: the
;; host's handles at 0 and 4, bytes read at 8, status at 12 (0 = closed), the deadline (i64 ns)
;; at 16, the first origin's length at 24 and the origin at 28 (320 bytes), the call's timeout
;; in ms at 348 (bit 31: the function's own), more of the host's handles at 352 and 356.

  ;; ------------------------------------------------------------- small helpers

  ;; Is [$p, $p+$len) inside the function's memory?
  (func $ob_in_guest (param $p i32) (param $len i32) (result i32)
    (i64.le_u (i64.add (i64.extend_i32_u (local.get $p)) (i64.extend_i32_u (local.get $len)))
              (i64.shl (i64.extend_i32_u (memory.size $gm)) (i64.const 16))))

  ;; Case-insensitive: the function's bytes [$p, +$len) against a lower-case literal.
  (func $ob_gieq (param $p i32) (param $len i32) (param $lit i32) (param $lit_len i32) (result i32)
    (local $i i32)
    (if (i32.ne (local.get $len) (local.get $lit_len)) (then (return (i32.const 0))))
    (block $diff
      (loop $cmp
        (if (i32.ge_u (local.get $i) (local.get $len)) (then (return (i32.const 1))))
        (br_if $diff (i32.ne (call $lower (i32.load8_u $gm (i32.add (local.get $p) (local.get $i))))
                             (i32.load8_u $am (i32.add (local.get $lit) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $cmp)))
    (i32.const 0))

  ;; Is the function's name [$p, +$len) one of the NUL-terminated lower-case names of a literal?
  (func $ob_name_in (param $p i32) (param $len i32) (param $list i32) (param $list_len i32) (result i32)
    (local $at i32) (local $end i32) (local $n i32)
    (local.set $at (local.get $list))
    (local.set $end (i32.add (local.get $list) (local.get $list_len)))
    (block $none
      (loop $each
        (br_if $none (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $n (call $find (local.get $at) (i32.sub (local.get $end) (local.get $at)) (i32.const 0)))
        (if (call $ob_gieq (local.get $p) (local.get $len) (local.get $at) (local.get $n)) (then (return (i32.const 1))))
        (local.set $at (i32.add (i32.add (local.get $at) (local.get $n)) (i32.const 1)))
        (br $each)))
    (i32.const 0))

  ;; Milliseconds left before $deadline (at least 1), or 0 when it has passed.
  (func $ob_left_ms (param $deadline i64) (result i32)
    (local $left i64)
    (local.set $left (i64.sub (local.get $deadline) (call $ob_now)))
    (if (i64.le_s (local.get $left) (i64.const 0)) (then (return (i32.const 0))))
    (i32.wrap_i64 (i64.add (i64.div_u (local.get $left) (i64.const 1000000)) (i64.const 1))))

  (func $ob_msg_byte (param $b i32)
    (if (i32.lt_u (global.get $ob_msg_len) (i32.const 1024))
      (then
        (i32.store8 $am (i32.add (global.get $ob_msg) (global.get $ob_msg_len)) (local.get $b))
        (global.set $ob_msg_len (i32.add (global.get $ob_msg_len) (i32.const 1))))))

  (func $ob_msg_bytes (param $p i32) (param $len i32)
    (local $i i32)
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (call $ob_msg_byte (i32.load8_u $am (i32.add (local.get $p) (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each))))

  ;; Bytes of the function's memory (at most $max of them) into the message.
  (func $ob_msg_guest (param $p i32) (param $len i32) (param $max i32)
    (local $i i32)
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (br_if $done (i32.ge_u (local.get $i) (local.get $max)))
        (call $ob_msg_byte (i32.load8_u $gm (i32.add (local.get $p) (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each))))

  ;; Writes $n in decimal at $at (in $am); returns the number of bytes.
  (func $ob_dec (param $at i32) (param $n i32) (result i32)
    (local $div i32) (local $len i32) (local $d i32)
    (local.set $div (i32.const 1000000000))
    (loop $digits
      (local.set $d (i32.div_u (local.get $n) (local.get $div)))
      (local.set $n (i32.rem_u (local.get $n) (local.get $div)))
      (if (i32.or (i32.or (local.get $len) (local.get $d)) (i32.eq (local.get $div) (i32.const 1)))
        (then
          (i32.store8 $am (i32.add (local.get $at) (local.get $len)) (i32.add (i32.const 48) (local.get $d)))
          (local.set $len (i32.add (local.get $len) (i32.const 1)))))
      (local.set $div (i32.div_u (local.get $div) (i32.const 10)))
      (br_if $digits (local.get $div)))
    (local.get $len))

  (func $ob_msg_u32 (param $n i32)
    (local $at i32)
    (local.set $at (i32.add (global.get $ob_io) (i32.const 40)))
    (call $ob_msg_bytes (local.get $at) (call $ob_dec (local.get $at) (local.get $n))))

  (func $ob_msg_hex (param $n i32)
    (local $shift i32) (local $d i32) (local $started i32)
    (local.set $shift (i32.const 28))
    (loop $next
      (local.set $d (i32.and (i32.shr_u (local.get $n) (local.get $shift)) (i32.const 15)))
      (if (i32.or (i32.or (local.get $started) (local.get $d)) (i32.eqz (local.get $shift)))
        (then
          (local.set $started (i32.const 1))
          (call $ob_msg_byte (i32.load8_u $am (i32.add @off"0123456789abcdef" (local.get $d))))))
      (local.set $shift (i32.sub (local.get $shift) (i32.const 4)))
      (br_if $next (i32.ge_s (local.get $shift) (i32.const 0)))))

  ;; scheme://host:port of the current hop (the port always written, as messages name origins)
  (func $ob_msg_origin
    (if (global.get $u_https)
      (then (call $ob_msg_bytes @lit"https://"))
      (else (call $ob_msg_bytes @lit"http://")))
    (call $ob_msg_bytes (global.get $u_host) (global.get $u_host_len))
    (call $ob_msg_byte (i32.const 58))
    (call $ob_msg_u32 (global.get $u_port)))

  (func $ob_msg_start (global.set $ob_msg_len (i32.const 0)))

  ;; "<pre><first origin><post>": the shape of most messages (they name the call's first origin).
  (func $ob_msg_first (param $pre i32) (param $pre_len i32) (param $post i32) (param $post_len i32)
    (call $ob_msg_start)
    (call $ob_msg_bytes (local.get $pre) (local.get $pre_len))
    (call $ob_msg_bytes (global.get $ob_first) (global.get $ob_first_len))
    (call $ob_msg_bytes (local.get $post) (local.get $post_len)))

  ;; A timeout after $ms (the function's own timeout for the call when $own): names $origin.
  (func $ob_msg_timeout (param $origin i32) (param $origin_len i32) (param $ms i32) (param $own i32)
    (call $ob_msg_start)
    (call $ob_msg_bytes @lit"{{OB_MSG_TIMEOUT_PRE}}")
    (call $ob_msg_bytes (local.get $origin) (local.get $origin_len))
    (call $ob_msg_bytes @lit"{{OB_MSG_TIMEOUT_MID}}")
    (call $ob_msg_u32 (local.get $ms))
    (if (local.get $own)
      (then (call $ob_msg_bytes @lit"{{OB_MSG_TIMEOUT_OWN}}"))
      (else (call $ob_msg_bytes @lit"{{OB_MSG_TIMEOUT_POST}}"))))

  ;; The start of an INVALID message; the caller appends the detail.
  (func $ob_msg_invalid
    (call $ob_msg_start)
    (call $ob_msg_bytes @lit"{{OB_MSG_INVALID}}"))

  ;; A failure the log does not show (a bad handle or pointer: the guest's own bug, as imports.ts).
  (func $ob_fail_quietly (param $code i32) (result i32) (local.get $code))

  (func $ob_bad_pointer (result i32)
    (call $ob_msg_invalid)
    (call $ob_msg_bytes @lit"{{OB_MSG_POINTER}}")
    (call $ob_fail_quietly (i32.const 5)))

  ;; An out-parameter write into the function's memory (checked by the caller).
  (func $ob_put (param $p i32) (param $v i32) (i32.store $gm (local.get $p) (local.get $v)))

  ;; ------------------------------------------------------------- URL handling

  ;; Appends $c to the normalized URL, percent-encoded when $enc says so.
  (func $ob_url_byte (param $c i32) (param $enc i32)
    (local $at i32)
    (local.set $at (i32.add (global.get $ob_url) (global.get $ob_url_len)))
    (if (local.get $enc)
      (then
        (i32.store8 $am (local.get $at) (i32.const 37))
        (i32.store8 $am offset=1 (local.get $at) (i32.load8_u $am (i32.add @off"0123456789ABCDEF" (i32.shr_u (local.get $c) (i32.const 4)))))
        (i32.store8 $am offset=2 (local.get $at) (i32.load8_u $am (i32.add @off"0123456789ABCDEF" (i32.and (local.get $c) (i32.const 15)))))
        (global.set $ob_url_len (i32.add (global.get $ob_url_len) (i32.const 3))))
      (else
        (i32.store8 $am (local.get $at) (local.get $c))
        (global.set $ob_url_len (i32.add (global.get $ob_url_len) (i32.const 1))))))

  (func $ob_url_text (param $p i32) (param $len i32)
    (memory.copy $am $am (i32.add (global.get $ob_url) (global.get $ob_url_len)) (local.get $p) (local.get $len))
    (global.set $ob_url_len (i32.add (global.get $ob_url_len) (local.get $len))))

  ;; Bytes WHATWG URL parsing percent-encodes: in the path (C0, space, ", <, >, `, {, }, DEL
  ;; and above) and in the query (C0, space, ", ', <, >, DEL and above).
  (func $ob_needs_encoding (param $c i32) (param $query i32) (result i32)
    (if (i32.or (i32.le_u (local.get $c) (i32.const 32)) (i32.ge_u (local.get $c) (i32.const 127)))
      (then (return (i32.const 1))))
    (if (i32.or (i32.eq (local.get $c) (i32.const 34)) (i32.or (i32.eq (local.get $c) (i32.const 60)) (i32.eq (local.get $c) (i32.const 62))))
      (then (return (i32.const 1))))
    (if (local.get $query) (then (return (i32.eq (local.get $c) (i32.const 39)))))
    (i32.or (i32.eq (local.get $c) (i32.const 96)) (i32.or (i32.eq (local.get $c) (i32.const 123)) (i32.eq (local.get $c) (i32.const 125)))))

  ;; Why the URL in $ob_raw cannot be used, as the message's detail (checkOutboundUrl's words).
  (func $ob_msg_not_absolute
    (call $ob_msg_byte (i32.const 34))
    (call $ob_msg_bytes (global.get $ob_raw) (select (global.get $ob_raw_len) (i32.const 200) (i32.le_u (global.get $ob_raw_len) (i32.const 200))))
    (if (i32.gt_u (global.get $ob_raw_len) (i32.const 200)) (then (call $ob_msg_bytes @lit"...")))
    (call $ob_msg_bytes @lit"\22 is not an absolute URL"))

  ;; Parses $ob_raw into $ob_url and the $u_* globals: an absolute http(s) URL, no credentials,
  ;; an ASCII host (IPv6 in brackets), an optional port; the fragment is dropped. Returns 1, or
  ;; 0 with the reason appended to the message (the caller has written its start).
  (func $ob_parse (result i32)
    (local $p i32) (local $end i32) (local $i i32) (local $c i32) (local $auth_end i32)
    (local $port i32) (local $digits i32) (local $query i32) (local $explicit i32)
    (local.set $p (global.get $ob_raw))
    (local.set $end (i32.add (global.get $ob_raw) (global.get $ob_raw_len)))
    (global.set $ob_url_len (i32.const 0))
    ;; scheme: a letter, then letters, digits, "+", "-", "."
    (local.set $i (local.get $p))
    (block $scheme_end
      (loop $scheme
        (if (i32.ge_u (local.get $i) (local.get $end)) (then (call $ob_msg_not_absolute) (return (i32.const 0))))
        (local.set $c (call $lower (i32.load8_u $am (local.get $i))))
        (br_if $scheme_end (i32.and (i32.eq (local.get $c) (i32.const 58)) (i32.gt_u (local.get $i) (local.get $p))))
        (if (i32.eqz (i32.or (i32.and (i32.ge_u (local.get $c) (i32.const 97)) (i32.le_u (local.get $c) (i32.const 122)))
              (i32.and (i32.gt_u (local.get $i) (local.get $p))
                (i32.or (i32.or (i32.eq (local.get $c) (i32.const 43)) (i32.eq (local.get $c) (i32.const 45)))
                        (i32.or (i32.eq (local.get $c) (i32.const 46)) (i32.and (i32.ge_u (local.get $c) (i32.const 48)) (i32.le_u (local.get $c) (i32.const 57))))))))
          (then (call $ob_msg_not_absolute) (return (i32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $scheme)))
    (if (call $ieq (local.get $p) (i32.sub (local.get $i) (local.get $p)) @lit"https")
      (then (global.set $u_https (i32.const 1)))
      (else
        (if (call $ieq (local.get $p) (i32.sub (local.get $i) (local.get $p)) @lit"http")
          (then (global.set $u_https (i32.const 0)))
          (else
            (call $ob_msg_bytes @lit"the scheme \22")
            (local.set $c (local.get $p))
            (block $sd (loop $sl
              (br_if $sd (i32.ge_u (local.get $c) (local.get $i)))
              (call $ob_msg_byte (call $lower (i32.load8_u $am (local.get $c))))
              (local.set $c (i32.add (local.get $c) (i32.const 1)))
              (br $sl)))
            (call $ob_msg_bytes @lit"\22 is not supported (only http and https)")
            (return (i32.const 0))))))
    ;; "//"
    (if (i32.or (i32.gt_u (i32.add (local.get $i) (i32.const 3)) (local.get $end))
          (i32.or (i32.ne (i32.load8_u $am offset=1 (local.get $i)) (i32.const 47))
                  (i32.ne (i32.load8_u $am offset=2 (local.get $i)) (i32.const 47))))
      (then (call $ob_msg_not_absolute) (return (i32.const 0))))
    (local.set $p (i32.add (local.get $i) (i32.const 3)))
    ;; authority: up to "/", "?", "#" or the end
    (local.set $i (local.get $p))
    (block $a_end
      (loop $auth
        (br_if $a_end (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $c (i32.load8_u $am (local.get $i)))
        (br_if $a_end (i32.or (i32.eq (local.get $c) (i32.const 47)) (i32.or (i32.eq (local.get $c) (i32.const 63)) (i32.eq (local.get $c) (i32.const 35)))))
        (if (i32.eq (local.get $c) (i32.const 64))
          (then (call $ob_msg_bytes @lit"{{OB_MSG_CREDENTIALS}}") (return (i32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $auth)))
    (local.set $auth_end (local.get $i))
    ;; host: [v6] or a name / IPv4 of [A-Za-z0-9.-_], lower-cased
    (if (global.get $u_https) (then (call $ob_url_text @lit"https://")) (else (call $ob_url_text @lit"http://")))
    (global.set $u_host (i32.add (global.get $ob_url) (global.get $ob_url_len)))
    (local.set $i (local.get $p))
    (block $bad_host
      (if (i32.and (i32.lt_u (local.get $i) (local.get $auth_end)) (i32.eq (i32.load8_u $am (local.get $i)) (i32.const 91)))
        (then
          (block $v6_end
            (loop $v6
              (br_if $bad_host (i32.ge_u (local.get $i) (local.get $auth_end)))
              (local.set $c (call $lower (i32.load8_u $am (local.get $i))))
              (call $ob_url_byte (local.get $c) (i32.const 0))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $v6_end (i32.eq (local.get $c) (i32.const 93)))
              (br_if $bad_host (i32.eqz (i32.or (i32.or (i32.eq (local.get $c) (i32.const 58)) (i32.eq (local.get $c) (i32.const 46)))
                                                (i32.or (i32.eq (local.get $c) (i32.const 91)) (i32.ge_s (call $hexval (local.get $c)) (i32.const 0))))))
              (br $v6))))
        (else
          (block $name_end
            (loop $name
              (br_if $name_end (i32.ge_u (local.get $i) (local.get $auth_end)))
              (local.set $c (call $lower (i32.load8_u $am (local.get $i))))
              (br_if $name_end (i32.eq (local.get $c) (i32.const 58)))
              (br_if $bad_host (i32.eqz (i32.or (i32.or (i32.eq (local.get $c) (i32.const 45)) (i32.eq (local.get $c) (i32.const 46)))
                                   (i32.or (i32.eq (local.get $c) (i32.const 95))
                                           (i32.or (i32.and (i32.ge_u (local.get $c) (i32.const 97)) (i32.le_u (local.get $c) (i32.const 122)))
                                                   (i32.and (i32.ge_u (local.get $c) (i32.const 48)) (i32.le_u (local.get $c) (i32.const 57))))))))
              (call $ob_url_byte (local.get $c) (i32.const 0))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $name)))))
      (global.set $u_host_len (i32.sub (i32.add (global.get $ob_url) (global.get $ob_url_len)) (global.get $u_host)))
      (br_if $bad_host (i32.or (i32.eqz (global.get $u_host_len)) (i32.gt_u (global.get $u_host_len) (i32.const 253))))
      ;; port: ":" and 1-5 digits (nothing after ":" is the default port)
      (local.set $port (select (i32.const 443) (i32.const 80) (global.get $u_https)))
      (if (i32.lt_u (local.get $i) (local.get $auth_end))
        (then
          (br_if $bad_host (i32.ne (i32.load8_u $am (local.get $i)) (i32.const 58)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (if (i32.lt_u (local.get $i) (local.get $auth_end))
            (then
              (block $p_end
                (loop $pd
                  (br_if $p_end (i32.ge_u (local.get $i) (local.get $auth_end)))
                  (local.set $c (i32.sub (i32.load8_u $am (local.get $i)) (i32.const 48)))
                  (br_if $bad_host (i32.or (i32.gt_u (local.get $c) (i32.const 9)) (i32.ge_u (local.get $digits) (i32.const 5))))
                  (local.set $explicit (i32.add (i32.mul (local.get $explicit) (i32.const 10)) (local.get $c)))
                  (local.set $digits (i32.add (local.get $digits) (i32.const 1)))
                  (local.set $i (i32.add (local.get $i) (i32.const 1)))
                  (br $pd)))
              (br_if $bad_host (i32.gt_u (local.get $explicit) (i32.const 65535)))
              (local.set $port (local.get $explicit))))))
      (global.set $u_port (local.get $port))
      ;; the port is written only when it is not the scheme's default (WHATWG serialization)
      (if (i32.ne (local.get $port) (select (i32.const 443) (i32.const 80) (global.get $u_https)))
        (then
          (call $ob_url_byte (i32.const 58) (i32.const 0))
          (global.set $ob_url_len (i32.add (global.get $ob_url_len)
            (call $ob_dec (i32.add (global.get $ob_url) (global.get $ob_url_len)) (local.get $port))))))
      (global.set $u_auth_len (i32.sub (i32.add (global.get $ob_url) (global.get $ob_url_len)) (global.get $u_host)))
      ;; path and query, percent-encoded as WHATWG does; the fragment is not sent
      (global.set $u_path (i32.add (global.get $ob_url) (global.get $ob_url_len)))
      (if (i32.or (i32.ge_u (local.get $auth_end) (local.get $end)) (i32.ne (i32.load8_u $am (local.get $auth_end)) (i32.const 47)))
        (then (call $ob_url_byte (i32.const 47) (i32.const 0))))
      (local.set $i (local.get $auth_end))
      (block $rest_end
        (loop $rest
          (br_if $rest_end (i32.ge_u (local.get $i) (local.get $end)))
          (local.set $c (i32.load8_u $am (local.get $i)))
          (br_if $rest_end (i32.eq (local.get $c) (i32.const 35)))
          (if (i32.eq (local.get $c) (i32.const 63)) (then (local.set $query (i32.const 1))))
          ;; a backslash in the path of an http(s) URL is a slash
          (if (i32.and (i32.eqz (local.get $query)) (i32.eq (local.get $c) (i32.const 92))) (then (local.set $c (i32.const 47))))
          (call $ob_url_byte (local.get $c) (call $ob_needs_encoding (local.get $c) (local.get $query)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $rest)))
      (return (i32.const 1)))
    (call $ob_msg_not_absolute)
    (i32.const 0))

  ;; Is the current hop's origin in the allow list? Entries: flags (1 https, 2 "*." subdomain,
  ;; 4 any port), port (u16), host length (u8), host (a "*." entry keeps the leading ".").
  (func $ob_allowed (result i32)
    (local $p i32) (local $end i32) (local $flags i32) (local $len i32) (local $h i32)
    (local.set $p (global.get $ob_policy))
    (local.set $end (i32.add (global.get $ob_policy) (i32.const {{OB_POLICY_BYTES}})))
    (block $none
      (loop $each
        (br_if $none (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $flags (i32.load8_u $am (local.get $p)))
        (local.set $len (i32.load8_u $am offset=3 (local.get $p)))
        (local.set $h (i32.add (local.get $p) (i32.const 4)))
        (block $next
          (br_if $next (i32.ne (i32.and (local.get $flags) (i32.const 1)) (global.get $u_https)))
          (if (i32.eqz (i32.and (local.get $flags) (i32.const 4)))
            (then (br_if $next (i32.ne (i32.load16_u $am offset=1 (local.get $p)) (global.get $u_port)))))
          (if (i32.and (local.get $flags) (i32.const 2))
            (then
              ;; a strict subdomain: the host ends with ".suffix" and is longer
              (br_if $next (i32.le_u (global.get $u_host_len) (local.get $len)))
              (br_if $next (call $memcmp (local.get $h)
                (i32.sub (i32.add (global.get $u_host) (global.get $u_host_len)) (local.get $len)) (local.get $len))))
            (else
              (br_if $next (i32.ne (global.get $u_host_len) (local.get $len)))
              (br_if $next (call $memcmp (local.get $h) (global.get $u_host) (local.get $len)))))
          (return (i32.const 1)))
        (local.set $p (i32.add (local.get $h) (local.get $len)))
        (br $each)))
    (i32.const 0))

  ;; ------------------------------------------------------------- request headers

  ;; Every line "name: value" (the last LF may be left out): the name a token, no CR or NUL in
  ;; the value. Returns 1, or 0 with the message written (header-lines.ts's words).
  (func $ob_check_headers (param $p i32) (param $len i32) (result i32)
    (local $end i32) (local $ls i32) (local $le i32) (local $i i32) (local $c i32) (local $line i32) (local $colon i32)
    (local.set $end (i32.add (local.get $p) (local.get $len)))
    (local.set $ls (local.get $p))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $ls) (local.get $end)))
        (local.set $line (i32.add (local.get $line) (i32.const 1)))
        (local.set $le (local.get $ls))
        (block $eol (loop $scan
          (br_if $eol (i32.ge_u (local.get $le) (local.get $end)))
          (br_if $eol (i32.eq (i32.load8_u $gm (local.get $le)) (i32.const 10)))
          (local.set $le (i32.add (local.get $le) (i32.const 1)))
          (br $scan)))
        ;; the name: token characters up to the first ":"
        (local.set $colon (i32.const -1))
        (local.set $i (local.get $ls))
        (block $name_end
          (loop $name
            (br_if $name_end (i32.ge_u (local.get $i) (local.get $le)))
            (local.set $c (i32.load8_u $gm (local.get $i)))
            (if (i32.eq (local.get $c) (i32.const 58)) (then (local.set $colon (local.get $i)) (br $name_end)))
            (br_if $name_end (i32.eqz (call $is_token_char (local.get $c))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $name)))
        (if (i32.le_s (local.get $colon) (local.get $ls))
          (then
            (call $ob_msg_invalid)
            (call $ob_msg_bytes @lit"header line ")
            (call $ob_msg_u32 (local.get $line))
            (call $ob_msg_bytes @lit" has no valid name before \22:\22")
            (return (i32.const 0))))
        (local.set $i (local.get $colon))
        (block $value_ok
          (loop $value
            (br_if $value_ok (i32.ge_u (local.get $i) (local.get $le)))
            (local.set $c (i32.load8_u $gm (local.get $i)))
            (if (i32.or (i32.eqz (local.get $c)) (i32.eq (local.get $c) (i32.const 13)))
              (then
                (call $ob_msg_invalid)
                (call $ob_msg_bytes @lit"header \22")
                (local.set $i (local.get $ls))
                (block $nd (loop $nn
                  (br_if $nd (i32.ge_u (local.get $i) (local.get $colon)))
                  (call $ob_msg_byte (call $lower (i32.load8_u $gm (local.get $i))))
                  (local.set $i (i32.add (local.get $i) (i32.const 1)))
                  (br $nn)))
                (call $ob_msg_bytes @lit"\22 holds a CR or NUL byte")
                (return (i32.const 0))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $value)))
        (local.set $ls (i32.add (local.get $le) (i32.const 1)))
        (br $each)))
    (i32.const 1))

  ;; ------------------------------------------------------------- redirects and limits

  ;; The current response's Location, resolved against the current URL into $ob_raw. 0 when
  ;; there is none (the 3xx is then the answer, as fetch.ts does).
  (func $ob_location (result i32)
    (local $v i32) (local $len i32) (local $out i32) (local $c i32) (local $i i32) (local $keep i32)
    (local.set $len (call $ob_resp_header @lit"location"))
    (if (i32.lt_s (local.get $len) (i32.const 0)) (then (return (i32.const 0))))
    (local.set $v (global.get $ob_scratch))
    (local.set $out (global.get $ob_raw))
    ;; an absolute URL ("scheme:" first) is taken as it is
    (block $relative
      (block $absolute
        (loop $scheme
          (br_if $relative (i32.ge_u (local.get $i) (local.get $len)))
          (local.set $c (call $lower (i32.load8_u $am (i32.add (local.get $v) (local.get $i)))))
          (br_if $absolute (i32.and (i32.eq (local.get $c) (i32.const 58)) (i32.gt_u (local.get $i) (i32.const 0))))
          (br_if $relative (i32.eqz (i32.or (i32.and (i32.ge_u (local.get $c) (i32.const 97)) (i32.le_u (local.get $c) (i32.const 122)))
            (i32.and (i32.gt_u (local.get $i) (i32.const 0))
              (i32.or (i32.or (i32.eq (local.get $c) (i32.const 43)) (i32.eq (local.get $c) (i32.const 45)))
                      (i32.or (i32.eq (local.get $c) (i32.const 46)) (i32.and (i32.ge_u (local.get $c) (i32.const 48)) (i32.le_u (local.get $c) (i32.const 57)))))))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $scheme)))
      (memory.copy $am $am (local.get $out) (local.get $v) (local.get $len))
      (global.set $ob_raw_len (local.get $len))
      (return (i32.const 1)))
    ;; relative: "//host...", "/path", "?query", or a path relative to the current one
    (local.set $c (if (result i32) (local.get $len) (then (i32.load8_u $am (local.get $v))) (else (i32.const 0))))
    (if (global.get $u_https)
      (then (memory.copy $am $am (local.get $out) @lit"https:") (local.set $i (i32.const 6)))
      (else (memory.copy $am $am (local.get $out) @lit"http:") (local.set $i (i32.const 5))))
    (if (i32.eqz (i32.and (i32.eq (local.get $c) (i32.const 47))
                          (i32.and (i32.gt_u (local.get $len) (i32.const 1)) (i32.eq (i32.load8_u $am offset=1 (local.get $v)) (i32.const 47)))))
      (then
        ;; "//" + host[:port]
        (i32.store16 $am (i32.add (local.get $out) (local.get $i)) (i32.const 0x2f2f))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (memory.copy $am $am (i32.add (local.get $out) (local.get $i)) (global.get $u_host) (global.get $u_auth_len))
        (local.set $i (i32.add (local.get $i) (global.get $u_auth_len)))
        (if (i32.ne (local.get $c) (i32.const 47))
          (then
            ;; the current path before "?", and for a relative path only up to its last "/"
            (block $p_end
              (loop $pp
                (br_if $p_end (i32.ge_u (i32.add (global.get $u_path) (local.get $keep)) (i32.add (global.get $ob_url) (global.get $ob_url_len))))
                (br_if $p_end (i32.eq (i32.load8_u $am (i32.add (global.get $u_path) (local.get $keep))) (i32.const 63)))
                (local.set $keep (i32.add (local.get $keep) (i32.const 1)))
                (br $pp)))
            (if (i32.ne (local.get $c) (i32.const 63))
              (then
                (block $s_end
                  (loop $ss
                    (br_if $s_end (i32.eqz (local.get $keep)))
                    (br_if $s_end (i32.eq (i32.load8_u $am (i32.add (global.get $u_path) (i32.sub (local.get $keep) (i32.const 1)))) (i32.const 47)))
                    (local.set $keep (i32.sub (local.get $keep) (i32.const 1)))
                    (br $ss)))))
            (memory.copy $am $am (i32.add (local.get $out) (local.get $i)) (global.get $u_path) (local.get $keep))
            (local.set $i (i32.add (local.get $i) (local.get $keep)))))))
    (if (i32.gt_u (i32.add (local.get $i) (local.get $len)) (i32.const 8192)) (then (return (i32.const 0))))
    (memory.copy $am $am (i32.add (local.get $out) (local.get $i)) (local.get $v) (local.get $len))
    (global.set $ob_raw_len (i32.add (local.get $i) (local.get $len)))
    (i32.const 1))

  ;; The origin of the current hop differs from the previous one's (kept at the scratch area)?
  (func $ob_origin_changed (param $prev_https i32) (param $prev_port i32) (param $prev i32) (param $prev_len i32) (result i32)
    (if (i32.or (i32.ne (local.get $prev_https) (global.get $u_https)) (i32.ne (local.get $prev_port) (global.get $u_port)))
      (then (return (i32.const 1))))
    (if (i32.ne (local.get $prev_len) (global.get $u_host_len)) (then (return (i32.const 1))))
    (call $memcmp (local.get $prev) (global.get $u_host) (local.get $prev_len)))

  ;; A declared content-length over the limit: too large already (fetch.ts refuses it at once).
  (func $ob_declared_too_large (result i32)
    (local $len i32) (local $i i32) (local $n i64) (local $c i32)
    (local.set $len (call $ob_resp_header @lit"content-length"))
    (if (i32.le_s (local.get $len) (i32.const 0)) (then (return (i32.const 0))))
    (loop $digits
      (local.set $c (i32.sub (i32.load8_u $am (i32.add (global.get $ob_scratch) (local.get $i))) (i32.const 48)))
      (if (i32.gt_u (local.get $c) (i32.const 9)) (then (return (i32.const 0))))
      (local.set $n (i64.add (i64.mul (local.get $n) (i64.const 10)) (i64.extend_i32_u (local.get $c))))
      (if (i64.gt_u (local.get $n) (i64.const {{OB_MAX_BYTES}})) (then (return (i32.const 1))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $digits (i32.lt_u (local.get $i) (local.get $len))))
    (i32.const 0))

  ;; ------------------------------------------------------------- wfn_http_v1

  (func (export "wfn_http_v1.send")
    (param $mp i32) (param $ml i32) (param $up i32) (param $ul i32) (param $hp i32) (param $hl i32)
    (param $bp i32) (param $bl i32) (param $flags i32) (param $out i32) (result i32)
    (local $st i32) (local $i i32) (local $h i32) (local $prev i32) (local $prev_https i32) (local $prev_port i32)
    (if (i32.eqz (call $ob_in_guest (local.get $out) (i32.const 4))) (then (return (call $ob_bad_pointer))))
    ;; every call counts, as imports.ts counts them
    (global.set $ob_calls (i32.add (global.get $ob_calls) (i32.const 1)))
    (if (i32.gt_u (global.get $ob_calls) (i32.const {{OB_MAX_CALLS}}))
      (then
        (call $ob_msg_start)
        (call $ob_msg_bytes @lit"{{OB_MSG_LIMIT}}")
        (return (call $ob_fail (i32.const 8)))))
    ;; bit 0 follows redirects, bits 1-7 are reserved, bits 8-31 are the call's own timeout (ms)
    (if (i32.and (local.get $flags) (i32.const 0xfe))
      (then
        (call $ob_msg_invalid)
        (call $ob_msg_bytes @lit"reserved flag bits are set (0x")
        (call $ob_msg_hex (local.get $flags))
        (call $ob_msg_byte (i32.const 41))
        (return (call $ob_fail (i32.const 5)))))
    (global.set $ob_call_ms (i32.const {{OB_TIMEOUT_MS}}))
    (global.set $ob_own_timeout (i32.const 0))
    (if (i32.and (i32.ne (i32.shr_u (local.get $flags) (i32.const 8)) (i32.const 0))
                 (i32.lt_u (i32.shr_u (local.get $flags) (i32.const 8)) (i32.const {{OB_TIMEOUT_MS}})))
      (then
        (global.set $ob_call_ms (i32.shr_u (local.get $flags) (i32.const 8)))
        (global.set $ob_own_timeout (i32.const 1))))
    (if (i32.eqz (i32.and (i32.and (call $ob_in_guest (local.get $mp) (local.get $ml)) (call $ob_in_guest (local.get $up) (local.get $ul)))
                          (i32.and (call $ob_in_guest (local.get $hp) (local.get $hl)) (call $ob_in_guest (local.get $bp) (local.get $bl)))))
      (then (return (call $ob_bad_pointer))))
    ;; the method: a token (of at most 64 bytes here), not CONNECT, TRACE or TRACK
    (block $bad_method
      (br_if $bad_method (i32.or (i32.eqz (local.get $ml)) (i32.gt_u (local.get $ml) (i32.const 64))))
      (block $m_ok
        (loop $m
          (br_if $m_ok (i32.ge_u (local.get $i) (local.get $ml)))
          (br_if $bad_method (i32.eqz (call $is_token_char (i32.load8_u $gm (i32.add (local.get $mp) (local.get $i))))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $m)))
      (memory.copy $am $gm (global.get $ob_method) (local.get $mp) (local.get $ml))
      (global.set $ob_method_len (local.get $ml))
      (if (i32.or (call $ieq (global.get $ob_method) (local.get $ml) @lit"connect")
            (i32.or (call $ieq (global.get $ob_method) (local.get $ml) @lit"trace") (call $ieq (global.get $ob_method) (local.get $ml) @lit"track")))
        (then
          (call $ob_msg_invalid)
          (call $ob_msg_bytes @lit"the method ")
          (call $ob_msg_bytes (global.get $ob_method) (local.get $ml))
          (call $ob_msg_bytes @lit" is not supported")
          (return (call $ob_fail (i32.const 5)))))
      (if (i32.gt_u (local.get $ul) (i32.const 8192))
        (then
          (call $ob_msg_invalid)
          (call $ob_msg_bytes @lit"the URL is longer than 8192 bytes")
          (return (call $ob_fail (i32.const 5)))))
      (memory.copy $am $gm (global.get $ob_raw) (local.get $up) (local.get $ul))
      (global.set $ob_raw_len (local.get $ul))
      ;; the URL, then the allow list (imports.ts's order)
      (call $ob_msg_invalid)
      (if (i32.eqz (call $ob_parse)) (then (return (call $ob_fail (i32.const 5)))))
      ;; keep the first origin: the messages name it
      (global.set $ob_msg_len (i32.const 0))
      (call $ob_msg_origin)
      (memory.copy $am $am (global.get $ob_first) (global.get $ob_msg) (global.get $ob_msg_len))
      (global.set $ob_first_len (global.get $ob_msg_len))
      (if (i32.eqz (call $ob_allowed))
        (then
          (call $ob_msg_first @lit"{{OB_MSG_DENIED_PRE}}" @lit"{{OB_MSG_DENIED_POST}}")
          (return (call $ob_fail (i32.const 1)))))
      (if (i32.eqz (call $ob_check_headers (local.get $hp) (local.get $hl))) (then (return (call $ob_fail (i32.const 5)))))
      (if (i32.and (i32.ne (local.get $bl) (i32.const 0))
            (i32.or (call $ieq (global.get $ob_method) (local.get $ml) @lit"get") (call $ieq (global.get $ob_method) (local.get $ml) @lit"head")))
        (then
          (call $ob_msg_invalid)
          (call $ob_msg_bytes @lit"a ")
          (local.set $i (i32.const 0))
          (block $ud (loop $u
            (br_if $ud (i32.ge_u (local.get $i) (local.get $ml)))
            (call $ob_msg_byte (call $upper (i32.load8_u $am (i32.add (global.get $ob_method) (local.get $i)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $u)))
          (call $ob_msg_bytes @lit" request cannot have a body")
          (return (call $ob_fail (i32.const 5)))))
      (global.set $ob_body_ptr (local.get $bp))
      (global.set $ob_body_len (local.get $bl))
      (global.set $ob_hops (i32.const 0))
      (global.set $ob_drop_body_headers (i32.const 0))
      (global.set $ob_drop_credentials (i32.const 0))
      (global.set $ob_deadline (i64.add (call $ob_now) (i64.mul (i64.extend_i32_u (global.get $ob_call_ms)) (i64.const 1000000))))
      (loop $hop
        (local.set $st (call $ob_hop (local.get $hp) (local.get $hl)))
        (if (local.get $st) (then (return (call $ob_fail (local.get $st)))))
        (if (i32.and (i32.and (local.get $flags) (i32.const 1))
              (i32.or (i32.and (i32.ge_u (global.get $ob_status) (i32.const 301)) (i32.le_u (global.get $ob_status) (i32.const 303)))
                      (i32.or (i32.eq (global.get $ob_status) (i32.const 307)) (i32.eq (global.get $ob_status) (i32.const 308)))))
          (then
            (if (call $ob_location)
              (then
                (call $ob_drop_hop)
                (if (i32.ge_u (global.get $ob_hops) (i32.const 20))
                  (then
                    (call $ob_msg_first @lit"{{OB_MSG_REDIRECTS_PRE}}" @lit"{{OB_MSG_REDIRECTS_POST}}")
                    (return (call $ob_fail (i32.const 9)))))
                (global.set $ob_hops (i32.add (global.get $ob_hops) (i32.const 1)))
                ;; 301/302/303: GET without a body (HEAD stays HEAD); 307/308 repeat the request
                (if (i32.le_u (global.get $ob_status) (i32.const 303))
                  (then
                    (global.set $ob_body_len (i32.const 0))
                    (global.set $ob_drop_body_headers (i32.const 1))
                    (if (i32.eqz (call $ieq (global.get $ob_method) (global.get $ob_method_len) @lit"head"))
                      (then
                        (memory.copy $am $am (global.get $ob_method) @lit"GET")
                        (global.set $ob_method_len (i32.const 3))))))
                ;; credentials do not go on to another origin: remember this one to compare
                (local.set $prev (i32.add (global.get $ob_scratch) (i32.const 8704)))
                (call $ensure (i32.add (local.get $prev) (i32.const 256)))
                (memory.copy $am $am (local.get $prev) (global.get $u_host) (global.get $u_host_len))
                (local.set $prev_https (global.get $u_https))
                (local.set $prev_port (global.get $u_port))
                (local.set $i (global.get $u_host_len))
                ;; (the next hop parses first: $ob_hop checks the origin change before sending)
                (global.set $ob_drop_credentials (i32.or (global.get $ob_drop_credentials)
                  (call $ob_next_origin_changed (local.get $prev_https) (local.get $prev_port) (local.get $prev) (local.get $i))))
                (br $hop))))))
      (if (call $ob_declared_too_large)
        (then
          (call $ob_drop_hop)
          (call $ob_msg_start)
          (call $ob_msg_bytes @lit"{{OB_MSG_TOO_LARGE_PRE}}")
          (call $ob_msg_origin)
          (call $ob_msg_bytes @lit"{{OB_MSG_TOO_LARGE_POST}}")
          (return (call $ob_fail (i32.const 4)))))
      ;; the host's part of the entry (its response and body handles), then the rest
      (local.set $h (global.get $ob_nhandles))
      (local.set $i (i32.add (global.get $ob_handles) (i32.mul (local.get $h) (i32.const 360))))
      (local.set $st (call $ob_keep (local.get $i)))
      (if (local.get $st) (then (return (call $ob_fail (local.get $st)))))
      (global.set $ob_nhandles (i32.add (local.get $h) (i32.const 1)))
      (i32.store $am offset=8 (local.get $i) (i32.const 0))
      (i32.store $am offset=12 (local.get $i) (global.get $ob_status))
      (i64.store $am offset=16 (local.get $i) (global.get $ob_deadline))
      (i32.store $am offset=24 (local.get $i) (global.get $ob_first_len))
      (memory.copy $am $am (i32.add (local.get $i) (i32.const 28)) (global.get $ob_first) (global.get $ob_first_len))
      (i32.store $am offset=348 (local.get $i) (i32.or (global.get $ob_call_ms) (i32.shl (global.get $ob_own_timeout) (i32.const 31))))
      (call $ob_put (local.get $out) (i32.add (local.get $h) (i32.const 1)))
      (return (i32.const 0)))
    (call $ob_msg_invalid)
    (call $ob_msg_byte (i32.const 34))
    (call $ob_msg_guest (local.get $mp) (local.get $ml) (i32.const 40))
    (call $ob_msg_bytes @lit"\22 is not an HTTP method")
    (call $ob_fail (i32.const 5)))

  ;; Parses the redirect's target (in $ob_raw) just to compare its origin with the previous
  ;; hop's; $ob_hop parses it again (and reports what is wrong with it).
  (func $ob_next_origin_changed (param $https i32) (param $port i32) (param $prev i32) (param $prev_len i32) (result i32)
    (local $keep i32)
    (local.set $keep (global.get $ob_msg_len))
    (if (i32.eqz (call $ob_parse)) (then (global.set $ob_msg_len (local.get $keep)) (return (i32.const 1))))
    (global.set $ob_msg_len (local.get $keep))
    (call $ob_origin_changed (local.get $https) (local.get $port) (local.get $prev) (local.get $prev_len)))

  ;; The table entry of an open response handle, or 0 (with the message written).
  (func $ob_entry (param $h i32) (result i32)
    (local $e i32)
    (if (i32.and (i32.ge_u (local.get $h) (i32.const 1)) (i32.le_u (local.get $h) (global.get $ob_nhandles)))
      (then
        (local.set $e (i32.add (global.get $ob_handles) (i32.mul (i32.sub (local.get $h) (i32.const 1)) (i32.const 360))))
        (if (i32.load $am offset=12 (local.get $e)) (then (return (local.get $e))))))
    (call $ob_msg_start)
    (call $ob_msg_bytes @lit"outbound response handle ")
    (call $ob_msg_u32 (local.get $h))
    (call $ob_msg_bytes @lit" is not open")
    (i32.const 0))

  (func (export "wfn_http_v1.status") (param $h i32) (param $out i32) (result i32)
    (local $e i32)
    (local.set $e (call $ob_entry (local.get $h)))
    (if (i32.eqz (local.get $e)) (then (return (call $ob_fail_quietly (i32.const 6)))))
    (if (i32.eqz (call $ob_in_guest (local.get $out) (i32.const 4))) (then (return (call $ob_bad_pointer))))
    (call $ob_put (local.get $out) (i32.load $am offset=12 (local.get $e)))
    (i32.const 0))

  ;; The entry's first origin, for a message about the body.
  (func $ob_msg_entry (param $e i32) (param $pre i32) (param $pre_len i32) (param $post i32) (param $post_len i32)
    (call $ob_msg_start)
    (call $ob_msg_bytes (local.get $pre) (local.get $pre_len))
    (call $ob_msg_bytes (i32.add (local.get $e) (i32.const 28)) (i32.load $am offset=24 (local.get $e)))
    (call $ob_msg_bytes (local.get $post) (local.get $post_len)))

  (func (export "wfn_http_v1.error_message") (param $buf i32) (param $len i32) (param $out i32) (result i32)
    (if (i32.eqz (call $ob_in_guest (local.get $out) (i32.const 4))) (then (return (call $ob_bad_pointer))))
    (call $ob_put (local.get $out) (global.get $ob_msg_len))
    (if (i32.gt_u (global.get $ob_msg_len) (local.get $len)) (then (return (i32.const 7))))
    (if (i32.eqz (call $ob_in_guest (local.get $buf) (local.get $len))) (then (return (call $ob_bad_pointer))))
    (memory.copy $gm $am (local.get $buf) (global.get $ob_msg) (global.get $ob_msg_len))
    (i32.const 0))
