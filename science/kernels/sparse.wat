;; The CSR gather of the spectral eigensolve (science/spectral/sparse-wasm.ts registers it),
;; bit-identical to csrGather of science/spectral/kernels.ts: per row the same four partial sums over
;; the same entries in the same order. Scalar f64 arithmetic rounds exactly as JavaScript numbers do
;; and WebAssembly has no fused multiply-add, so only the speed differs (V8's typed-array loads made
;; the JavaScript loop ≈ 2.2 ns per entry, the largest part of a pruned network's eigensolve).
;; Pointers are byte offsets into the imported memory; indptr and indices are int32, values, x and y
;; float64. Edit, then `npm run build:kernels` (docs/kernels.md).
(module
  (import "env" "memory" (memory 1))

  ;; y[r] (+)= Σ_p values[p]·x[indices[p]] over the entries p of row r, r < rows: $pi and $pv walk
  ;; the entries from indptr[0]; s0..s3 take them in blocks of four, the rest go to s0;
  ;; y[r] = accumulate ? y[r] + ((s0 + s1) + (s2 + s3)) : (s0 + s1) + (s2 + s3).
  ;; Oracle: science/spectral/kernels.ts csrGather.
  (func $gather (export "gather")
    (param $indptr i32) (param $indices i32) (param $values i32) (param $rows i32) (param $x i32)
    (param $y i32) (param $accumulate i32)
    (local $r i32) (local $pi i32) (local $pv i32) (local $end i32) (local $s0 f64) (local $s1 f64)
    (local $s2 f64) (local $s3 f64)
    (local.set $pi (i32.add (local.get $indices) (i32.shl (i32.load (local.get $indptr)) (i32.const 2))))
    (local.set $pv (i32.add (local.get $values) (i32.shl (i32.load (local.get $indptr)) (i32.const 3))))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $end
          (i32.add
            (local.get $indices)
            (i32.shl
              (i32.load offset=4 (i32.add (local.get $indptr) (i32.shl (local.get $r) (i32.const 2))))
              (i32.const 2))))
        (local.set $s0 (f64.const 0))
        (local.set $s1 (f64.const 0))
        (local.set $s2 (f64.const 0))
        (local.set $s3 (f64.const 0))
        (block $quads_done
          (loop $quads
            (br_if $quads_done (i32.ge_u (i32.add (local.get $pi) (i32.const 12)) (local.get $end)))
            (local.set $s0
              (f64.add
                (local.get $s0)
                (f64.mul
                  (f64.load (local.get $pv))
                  (f64.load (i32.add (local.get $x) (i32.shl (i32.load (local.get $pi)) (i32.const 3)))))))
            (local.set $s1
              (f64.add
                (local.get $s1)
                (f64.mul
                  (f64.load offset=8 (local.get $pv))
                  (f64.load
                    (i32.add (local.get $x) (i32.shl (i32.load offset=4 (local.get $pi)) (i32.const 3)))))))
            (local.set $s2
              (f64.add
                (local.get $s2)
                (f64.mul
                  (f64.load offset=16 (local.get $pv))
                  (f64.load
                    (i32.add (local.get $x) (i32.shl (i32.load offset=8 (local.get $pi)) (i32.const 3)))))))
            (local.set $s3
              (f64.add
                (local.get $s3)
                (f64.mul
                  (f64.load offset=24 (local.get $pv))
                  (f64.load
                    (i32.add (local.get $x) (i32.shl (i32.load offset=12 (local.get $pi)) (i32.const 3)))))))
            (local.set $pi (i32.add (local.get $pi) (i32.const 16)))
            (local.set $pv (i32.add (local.get $pv) (i32.const 32)))
            (br $quads)))
        (block $tail_done
          (loop $tail
            (br_if $tail_done (i32.ge_u (local.get $pi) (local.get $end)))
            (local.set $s0
              (f64.add
                (local.get $s0)
                (f64.mul
                  (f64.load (local.get $pv))
                  (f64.load (i32.add (local.get $x) (i32.shl (i32.load (local.get $pi)) (i32.const 3)))))))
            (local.set $pi (i32.add (local.get $pi) (i32.const 4)))
            (local.set $pv (i32.add (local.get $pv) (i32.const 8)))
            (br $tail)))
        (local.set $s0
          (f64.add (f64.add (local.get $s0) (local.get $s1)) (f64.add (local.get $s2) (local.get $s3))))
        (f64.store
          (i32.add (local.get $y) (i32.shl (local.get $r) (i32.const 3)))
          (if
            (result f64)
            (local.get $accumulate)
            (then
              (f64.add
                (f64.load (i32.add (local.get $y) (i32.shl (local.get $r) (i32.const 3))))
                (local.get $s0)))
            (else (local.get $s0))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows)))))
