;; The smallest useful trigger plugin: a pre sign-up that confirms every user and marks their
;; email verified. The contract (plugins/README.md): export `memory`, `alloc(len) -> ptr` and
;; `handle(ptr, len) -> i64`; the host writes the event JSON at the pointer `alloc` returned,
;; calls `handle`, and reads the answer at (result >> 32) with length (result & 0xffffffff).
(module
  (memory (export "memory") 1)
  ;; the answer, at offset 0: pre sign-up's `response`
  (data (i32.const 0) "{\"autoConfirmUser\":true,\"autoVerifyEmail\":true}")
  ;; alloc(len) -> ptr: a bump allocator; the instance lives for one call.
  (global $next (mut i32) (i32.const 4096))
  (func (export "alloc") (param $len i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (global.get $next))
    (global.set $next (i32.add (global.get $next) (local.get $len)))
    ;; grow the memory when the bump passes its end
    (if (i32.gt_u (global.get $next) (i32.mul (memory.size) (i32.const 65536)))
      (then (drop (memory.grow
        (i32.add (i32.div_u (i32.sub (global.get $next) (i32.mul (memory.size) (i32.const 65536))) (i32.const 65536)) (i32.const 1))))))
    (local.get $ptr))
  ;; handle(ptr, len) -> (answer pointer << 32) | answer length. This one ignores the event.
  (func (export "handle") (param $ptr i32) (param $len i32) (result i64)
    (i64.const 47)))
