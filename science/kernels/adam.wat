;; Adam (science/mlp/adam-wasm.ts registers it), bit-identical to `Adam.step` of science/mlp/adam.ts:
;; every operation is elementwise, so each f64x2 lane promotes float32 → float64 and does the same
;; float64 operations in the same order (WebAssembly has no fused multiply-add, SIMD lanes round like
;; scalars, sqrt and division are correctly rounded in both), then rounds to float32 on store.
;; Pointers are byte offsets into the imported memory; w, m, v and g are float32.
;; Edit, then `npm run build:kernels` (docs/kernels.md).
(module
  (import "env" "memory" (memory 1))

  ;; For p < bytes, 16 bytes (two pairs of float32) per step, with the six float64 constants at
  ;; $consts (β1, c1, β2, c2, lr_t, ε; each splatted to both lanes):
  ;;   m' = β1·m + c1·g;  v' = β2·v + (c2·g)·g;  w' = w − (lr_t·m')/(√v' + ε)   (m', v' unrounded in w')
  ;; Oracle: science/mlp/adam.ts Adam.step (Kingma & Ba 2015, §2 with the bias corrections folded into lr_t, as Keras does).
  (func $adam (export "adam")
    (param $w i32) (param $m i32) (param $v i32) (param $g i32) (param $bytes i32) (param $consts i32)
    (local $p i32) (local $beta1 v128) (local $c1 v128) (local $beta2 v128) (local $c2 v128) (local $lrT v128)
    (local $epsilon v128) (local $G v128) (local $M v128) (local $V v128)
    (local.set $beta1 (f64x2.splat (f64.load (local.get $consts))))
    (local.set $c1 (f64x2.splat (f64.load offset=8 (local.get $consts))))
    (local.set $beta2 (f64x2.splat (f64.load offset=16 (local.get $consts))))
    (local.set $c2 (f64x2.splat (f64.load offset=24 (local.get $consts))))
    (local.set $lrT (f64x2.splat (f64.load offset=32 (local.get $consts))))
    (local.set $epsilon (f64x2.splat (f64.load offset=40 (local.get $consts))))
    (local.set $p (i32.const 0))
    (block $steps_done
      (loop $steps
        (br_if $steps_done (i32.ge_u (local.get $p) (local.get $bytes)))
        (local.set $G (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $g) (local.get $p)))))
        (local.set $M
          (f64x2.add
            (f64x2.mul
              (local.get $beta1)
              (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $m) (local.get $p)))))
            (f64x2.mul (local.get $c1) (local.get $G))))
        (v128.store64_lane 0 (i32.add (local.get $m) (local.get $p)) (f32x4.demote_f64x2_zero (local.get $M)))
        (local.set $V
          (f64x2.add
            (f64x2.mul
              (local.get $beta2)
              (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $v) (local.get $p)))))
            (f64x2.mul (f64x2.mul (local.get $c2) (local.get $G)) (local.get $G))))
        (v128.store64_lane 0 (i32.add (local.get $v) (local.get $p)) (f32x4.demote_f64x2_zero (local.get $V)))
        (v128.store64_lane 0
          (i32.add (local.get $w) (local.get $p))
          (f32x4.demote_f64x2_zero
            (f64x2.sub
              (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $w) (local.get $p))))
              (f64x2.div
                (f64x2.mul (local.get $lrT) (local.get $M))
                (f64x2.add (f64x2.sqrt (local.get $V)) (local.get $epsilon))))))
        (local.set $G
          (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (i32.add (local.get $g) (local.get $p)))))
        (local.set $M
          (f64x2.add
            (f64x2.mul
              (local.get $beta1)
              (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (i32.add (local.get $m) (local.get $p)))))
            (f64x2.mul (local.get $c1) (local.get $G))))
        (v128.store64_lane offset=8 0
          (i32.add (local.get $m) (local.get $p))
          (f32x4.demote_f64x2_zero (local.get $M)))
        (local.set $V
          (f64x2.add
            (f64x2.mul
              (local.get $beta2)
              (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (i32.add (local.get $v) (local.get $p)))))
            (f64x2.mul (f64x2.mul (local.get $c2) (local.get $G)) (local.get $G))))
        (v128.store64_lane offset=8 0
          (i32.add (local.get $v) (local.get $p))
          (f32x4.demote_f64x2_zero (local.get $V)))
        (v128.store64_lane offset=8 0
          (i32.add (local.get $w) (local.get $p))
          (f32x4.demote_f64x2_zero
            (f64x2.sub
              (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (i32.add (local.get $w) (local.get $p))))
              (f64x2.div
                (f64x2.mul (local.get $lrT) (local.get $M))
                (f64x2.add (f64x2.sqrt (local.get $V)) (local.get $epsilon))))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $steps)))))
