;; The function's secrets (wfn.toml `secrets`) read from a Fastly secret store into its
;; environment, after the configured variables (built-ins still win).
;;
;; A fragment of adapter.wat, spliced in by adapter-module.ts only when the function has
;; secrets. The store is the one `wfn deploy` links to the service under the name
;; {{SECRET_STORE}}; its values never pass through the package. The part above the @@code
;; line goes among the adapter's imports.

  (import "fastly_secret_store" "open" (func $ss_open (param i32 i32 i32) (result i32)))
  (import "fastly_secret_store" "get" (func $ss_get (param i32 i32 i32 i32) (result i32)))
  (import "fastly_secret_store" "plaintext" (func $ss_plaintext (param i32 i32 i32 i32) (result i32)))

;; @@code

  ;; Emits "NAME=value" for each secret the store holds. A store that is not linked leaves
  ;; them all unset, with one line on stderr; a secret missing from the store is unset.
  (func $emit_secrets
    (local $p i32) (local $end i32) (local $len i32) (local $store i32) (local $secret i32)
    (local $st i32) (local $mark i32)
    (if (call $ss_open (call $abs @off"{{SECRET_STORE}}") @len"{{SECRET_STORE}}" (call $abs (i32.const 0)))
      (then
        (i32.store $am (i32.const 48) (call $abs @off"{{SECRET_STORE_MISSING}}"))
        (i32.store $am (i32.const 52) @len"{{SECRET_STORE_MISSING}}")
        (drop (call $real_fd_write (i32.const 2) (call $abs (i32.const 48)) (i32.const 1) (call $abs (i32.const 56))))
        (return)))
    (local.set $store (i32.load $am (i32.const 0)))
    ;; the names, each NUL-terminated, live among the literals
    (local.set $p @off"{{SECRET_NAMES}}")
    (local.set $end (i32.add (local.get $p) @len"{{SECRET_NAMES}}"))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $len (call $find (local.get $p) (i32.sub (local.get $end) (local.get $p)) (i32.const 0)))
        (block $next
          (br_if $next (call $is_builtin_key (local.get $p) (local.get $len)))
          (br_if $next (call $ss_get (local.get $store) (call $abs (local.get $p)) (local.get $len) (call $abs (i32.const 0))))
          (local.set $secret (i32.load $am (i32.const 0)))
          (local.set $mark (global.get $arena))
          (call $emit (local.get $p) (local.get $len))
          (call $emit_byte (i32.const 61))
          (call $ensure (i32.add (global.get $arena) (i32.const 1024)))
          (local.set $st (call $ss_plaintext (local.get $secret) (call $abs (global.get $arena))
            (i32.sub (call $am_capacity) (global.get $arena)) (call $abs (i32.const 0))))
          (if (i32.eq (local.get $st) (i32.const 4))
            (then
              (call $ensure (i32.add (global.get $arena) (i32.load $am (i32.const 0))))
              (local.set $st (call $ss_plaintext (local.get $secret) (call $abs (global.get $arena))
                (i32.sub (call $am_capacity) (global.get $arena)) (call $abs (i32.const 0))))))
          (if (local.get $st)
            (then (global.set $arena (local.get $mark)) (br $next)))
          (global.set $arena (i32.add (global.get $arena) (i32.load $am (i32.const 0))))
          (call $emit_byte (i32.const 0))
          (global.set $cfg_count (i32.add (global.get $cfg_count) (i32.const 1))))
        (local.set $p (i32.add (i32.add (local.get $p) (local.get $len)) (i32.const 1)))
        (br $each))))
