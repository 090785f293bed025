;; Dense-block products of the weight-graph operator (science/spectral/dense-wasm.ts registers them),
;; bit-identical to denseMul and denseMulT of science/spectral/kernels.ts: every f64x2 lane does the
;; same float32 → float64 conversions, products and sums in the same order as the JavaScript
;; (WebAssembly has no fused multiply-add, and SIMD lanes round like scalars).
;; Pointers are byte offsets into the imported memory; A is float32 row-major, x and y float64. The
;; rows these loops leave out (denseMul's odd last row, which it sums in one chain; denseMulT's rows
;; after the last group of 8) are done by the JavaScript kernels.
;; Edit, then `npm run build:kernels` (docs/kernels.md).
(module
  (import "env" "memory" (memory 1))

  ;; y[r] += Σ_c A[r, c]·x[c] for r < rows (an even count): per row, two f64x2 accumulators hold
  ;; denseMul's partial sums (s0, s1) and (s2, s3) over c < cols4 (cols rounded down to a multiple
  ;; of 4), the remaining columns go to s0, and y[r] += (s0 + s1) + (s2 + s3).
  ;; Oracle: science/spectral/kernels.ts denseMul (its per-row arithmetic).
  (func $mulRows (export "mulRows")
    (param $A i32) (param $rows i32) (param $cols i32) (param $cols4 i32) (param $x i32) (param $y i32)
    (local $r i32) (local $c i32) (local $rowPtr i32) (local $s0 f64) (local $s1 f64) (local $s2 f64)
    (local $s3 f64) (local $v01 v128) (local $v23 v128)
    (local.set $r (i32.const 0))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $rowPtr
          (i32.add (local.get $A) (i32.shl (i32.mul (local.get $r) (local.get $cols)) (i32.const 2))))
        (local.set $v01 (f64x2.splat (f64.const 0)))
        (local.set $v23 (f64x2.splat (f64.const 0)))
        (local.set $c (i32.const 0))
        (block $quads_done
          (loop $quads
            (br_if $quads_done (i32.ge_u (local.get $c) (local.get $cols4)))
            (local.set $v01
              (f64x2.add
                (local.get $v01)
                (f64x2.mul
                  (f64x2.promote_low_f32x4
                    (v128.load64_zero (i32.add (local.get $rowPtr) (i32.shl (local.get $c) (i32.const 2)))))
                  (v128.load (i32.add (local.get $x) (i32.shl (local.get $c) (i32.const 3)))))))
            (local.set $v23
              (f64x2.add
                (local.get $v23)
                (f64x2.mul
                  (f64x2.promote_low_f32x4
                    (v128.load64_zero offset=8
                      (i32.add (local.get $rowPtr) (i32.shl (local.get $c) (i32.const 2)))))
                  (v128.load offset=16 (i32.add (local.get $x) (i32.shl (local.get $c) (i32.const 3)))))))
            (local.set $c (i32.add (local.get $c) (i32.const 4)))
            (br $quads)))
        (local.set $s0 (f64x2.extract_lane 0 (local.get $v01)))
        (local.set $s1 (f64x2.extract_lane 1 (local.get $v01)))
        (local.set $s2 (f64x2.extract_lane 0 (local.get $v23)))
        (local.set $s3 (f64x2.extract_lane 1 (local.get $v23)))
        (block $tail_done
          (loop $tail
            (br_if $tail_done (i32.ge_u (local.get $c) (local.get $cols)))
            (local.set $s0
              (f64.add
                (local.get $s0)
                (f64.mul
                  (f64.promote_f32
                    (f32.load (i32.add (local.get $rowPtr) (i32.shl (local.get $c) (i32.const 2)))))
                  (f64.load (i32.add (local.get $x) (i32.shl (local.get $c) (i32.const 3)))))))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $tail)))
        (f64.store
          (i32.add (local.get $y) (i32.shl (local.get $r) (i32.const 3)))
          (f64.add
            (f64.load (i32.add (local.get $y) (i32.shl (local.get $r) (i32.const 3))))
            (f64.add (f64.add (local.get $s0) (local.get $s1)) (f64.add (local.get $s2) (local.get $s3)))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows))))

  ;; y[c] += Σ_r A[r, c]·x[r] (Aᵀ·x) over `groups` groups of 8 rows: per group g, a_t = x[8g + t]
  ;; splatted to both lanes; for c < cols2, two columns per f64x2,
  ;; y[c] += ((P0 + P1) + (P2 + P3)) + ((P4 + P5) + (P6 + P7)) with P_t = A[8g + t, c]·a_t.
  ;; $off_t = t·cols·4, the byte offset of row t of a group ($off1 = cols·4·1: the multiply by 1 is
  ;; kept so that the bytes are those of the hand-assembled module).
  ;; Oracle: science/spectral/kernels.ts denseMulT (its per-column arithmetic).
  (func $mulCols (export "mulCols")
    (param $A i32) (param $groups i32) (param $cols i32) (param $cols2 i32) (param $x i32) (param $y i32)
    (local $g i32) (local $c i32) (local $rowPtr i32) (local $p i32) (local $off1 i32) (local $off2 i32)
    (local $off3 i32) (local $off4 i32) (local $off5 i32) (local $off6 i32) (local $off7 i32) (local $a0 v128)
    (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $a4 v128) (local $a5 v128) (local $a6 v128)
    (local $a7 v128)
    (local.set $off1 (i32.mul (i32.shl (local.get $cols) (i32.const 2)) (i32.const 1)))
    (local.set $off2 (i32.mul (i32.shl (local.get $cols) (i32.const 2)) (i32.const 2)))
    (local.set $off3 (i32.mul (i32.shl (local.get $cols) (i32.const 2)) (i32.const 3)))
    (local.set $off4 (i32.mul (i32.shl (local.get $cols) (i32.const 2)) (i32.const 4)))
    (local.set $off5 (i32.mul (i32.shl (local.get $cols) (i32.const 2)) (i32.const 5)))
    (local.set $off6 (i32.mul (i32.shl (local.get $cols) (i32.const 2)) (i32.const 6)))
    (local.set $off7 (i32.mul (i32.shl (local.get $cols) (i32.const 2)) (i32.const 7)))
    (local.set $g (i32.const 0))
    (block $groups_done
      (loop $groups
        (br_if $groups_done (i32.ge_u (local.get $g) (local.get $groups)))
        (local.set $rowPtr
          (i32.add
            (local.get $A)
            (i32.shl (i32.mul (i32.shl (local.get $g) (i32.const 3)) (local.get $cols)) (i32.const 2))))
        (local.set $a0
          (f64x2.splat (f64.load (i32.add (local.get $x) (i32.shl (local.get $g) (i32.const 6))))))
        (local.set $a1
          (f64x2.splat (f64.load offset=8 (i32.add (local.get $x) (i32.shl (local.get $g) (i32.const 6))))))
        (local.set $a2
          (f64x2.splat (f64.load offset=16 (i32.add (local.get $x) (i32.shl (local.get $g) (i32.const 6))))))
        (local.set $a3
          (f64x2.splat (f64.load offset=24 (i32.add (local.get $x) (i32.shl (local.get $g) (i32.const 6))))))
        (local.set $a4
          (f64x2.splat (f64.load offset=32 (i32.add (local.get $x) (i32.shl (local.get $g) (i32.const 6))))))
        (local.set $a5
          (f64x2.splat (f64.load offset=40 (i32.add (local.get $x) (i32.shl (local.get $g) (i32.const 6))))))
        (local.set $a6
          (f64x2.splat (f64.load offset=48 (i32.add (local.get $x) (i32.shl (local.get $g) (i32.const 6))))))
        (local.set $a7
          (f64x2.splat (f64.load offset=56 (i32.add (local.get $x) (i32.shl (local.get $g) (i32.const 6))))))
        (local.set $c (i32.const 0))
        (block $columns_done
          (loop $columns
            (br_if $columns_done (i32.ge_u (local.get $c) (local.get $cols2)))
            (local.set $p (i32.add (local.get $rowPtr) (i32.shl (local.get $c) (i32.const 2))))
            (v128.store
              (i32.add (local.get $y) (i32.shl (local.get $c) (i32.const 3)))
              (f64x2.add
                (v128.load (i32.add (local.get $y) (i32.shl (local.get $c) (i32.const 3))))
                (f64x2.add
                  (f64x2.add
                    (f64x2.add
                      (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $p))) (local.get $a0))
                      (f64x2.mul
                        (f64x2.promote_low_f32x4
                          (v128.load64_zero (i32.add (local.get $p) (local.get $off1))))
                        (local.get $a1)))
                    (f64x2.add
                      (f64x2.mul
                        (f64x2.promote_low_f32x4
                          (v128.load64_zero (i32.add (local.get $p) (local.get $off2))))
                        (local.get $a2))
                      (f64x2.mul
                        (f64x2.promote_low_f32x4
                          (v128.load64_zero (i32.add (local.get $p) (local.get $off3))))
                        (local.get $a3))))
                  (f64x2.add
                    (f64x2.add
                      (f64x2.mul
                        (f64x2.promote_low_f32x4
                          (v128.load64_zero (i32.add (local.get $p) (local.get $off4))))
                        (local.get $a4))
                      (f64x2.mul
                        (f64x2.promote_low_f32x4
                          (v128.load64_zero (i32.add (local.get $p) (local.get $off5))))
                        (local.get $a5)))
                    (f64x2.add
                      (f64x2.mul
                        (f64x2.promote_low_f32x4
                          (v128.load64_zero (i32.add (local.get $p) (local.get $off6))))
                        (local.get $a6))
                      (f64x2.mul
                        (f64x2.promote_low_f32x4
                          (v128.load64_zero (i32.add (local.get $p) (local.get $off7))))
                        (local.get $a7)))))))
            (local.set $c (i32.add (local.get $c) (i32.const 2)))
            (br $columns)))
        (local.set $g (i32.add (local.get $g) (i32.const 1)))
        (br $groups)))))
