;; The non-matMul work of a training step on the tfjs wasm backend (science/mlp/step-wasm.ts
;; registers the module on the backend's own memory, so these read and write tensors in place; the
;; onnx backend uses dropoutBits and maskKernels on memories of its own). Every function gives the
;; bits of what it replaces (trainer.ts and dropout.ts keep those as the reference path; a test
;; compares). Pointers are byte offsets into the imported memory; `bytes` counts a multiple of 16 (the
;; JavaScript wrappers do the last n mod 4 elements themselves, the same way).
;; Edit, then `npm run build:kernels` (docs/kernels.md).
(module
  (import "env" "memory" (memory 1))

  ;; out (cols × rows) = inᵀ for float32 in 4 × 4 blocks: four rows of four, two rounds of
  ;; i8x16.shuffle (32-bit lanes), four rows out; rows and cols multiples of 4.
  ;; Oracle: tf.transpose (trainer.ts's reference path).
  (func $transpose4 (export "transpose4")
    (param $in i32) (param $out i32) (param $rows i32) (param $cols i32)
    (local $r i32) (local $c i32) (local $p i32) (local $rowBytes i32) (local $outRowBytes i32)
    (local $row0 v128) (local $row1 v128) (local $row2 v128) (local $row3 v128) (local $t0 v128)
    (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $rowBytes (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $outRowBytes (i32.shl (local.get $rows) (i32.const 2)))
    (local.set $r (i32.const 0))
    (block $row_blocks_done
      (loop $row_blocks
        (br_if $row_blocks_done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $c (i32.const 0))
        (block $col_blocks_done
          (loop $col_blocks
            (br_if $col_blocks_done (i32.ge_u (local.get $c) (local.get $cols)))
            (local.set $row0
              (v128.load
                (local.tee $p
                  (i32.add
                    (i32.add (local.get $in) (i32.mul (local.get $r) (local.get $rowBytes)))
                    (i32.shl (local.get $c) (i32.const 2))))))
            (local.set $row1 (v128.load (local.tee $p (i32.add (local.get $p) (local.get $rowBytes)))))
            (local.set $row2 (v128.load (local.tee $p (i32.add (local.get $p) (local.get $rowBytes)))))
            (local.set $row3 (v128.load (i32.add (local.get $p) (local.get $rowBytes))))
            (local.set $t0
              (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $row0) (local.get $row1)))
            (local.set $t1
              (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31
                (local.get $row0)
                (local.get $row1)))
            (local.set $t2
              (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $row2) (local.get $row3)))
            (local.set $t3
              (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31
                (local.get $row2)
                (local.get $row3)))
            (v128.store
              (local.tee $p
                (i32.add
                  (i32.add (local.get $out) (i32.mul (local.get $c) (local.get $outRowBytes)))
                  (i32.shl (local.get $r) (i32.const 2))))
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
            (v128.store
              (local.tee $p (i32.add (local.get $p) (local.get $outRowBytes)))
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
            (v128.store
              (local.tee $p (i32.add (local.get $p) (local.get $outRowBytes)))
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
            (v128.store
              (i32.add (local.get $p) (local.get $outRowBytes))
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
            (local.set $c (i32.add (local.get $c) (i32.const 4)))
            (br $col_blocks)))
        (local.set $r (i32.add (local.get $r) (i32.const 4)))
        (br $row_blocks))))

  ;; h ← h & ([h > 0] | [h ≠ h]): tfjs Relu, v for v > 0 or NaN, +0 otherwise (also for −0).
  ;; Oracle: tf.relu (trainer.ts reluActivation without the kernels).
  (func $relu (export "relu")
    (param $h i32) (param $bytes i32)
    (local $p i32) (local $q i32) (local $v v128)
    (local.set $p (i32.const 0))
    (block $vectors_done
      (loop $vectors
        (br_if $vectors_done (i32.ge_u (local.get $p) (local.get $bytes)))
        (local.tee $q (i32.add (local.get $h) (local.get $p)))
        (local.set $v (v128.load (local.get $q)))
        (v128.and
          (local.get $v)
          (v128.or (f32x4.gt (local.get $v) (v128.const i64x2 0 0)) (f32x4.ne (local.get $v) (local.get $v))))
        (v128.store)
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $vectors))))

  ;; h ← relu(h)·mask, float32 products (no fused multiply-add): tfjs Relu then Mul (dropout).
  ;; Oracle: tf.mul(tf.relu(z), mask) (trainer.ts's reference path).
  (func $reluMask (export "reluMask")
    (param $h i32) (param $mask i32) (param $bytes i32)
    (local $p i32) (local $q i32) (local $v v128)
    (local.set $p (i32.const 0))
    (block $vectors_done
      (loop $vectors
        (br_if $vectors_done (i32.ge_u (local.get $p) (local.get $bytes)))
        (local.tee $q (i32.add (local.get $h) (local.get $p)))
        (local.set $v (v128.load (local.get $q)))
        (f32x4.mul
          (v128.and
            (local.get $v)
            (v128.or
              (f32x4.gt (local.get $v) (v128.const i64x2 0 0))
              (f32x4.ne (local.get $v) (local.get $v))))
          (v128.load (i32.add (local.get $mask) (local.get $p))))
        (v128.store)
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $vectors))))

  ;; d ← (d·step(h))·scale with step(h) = ([h > 0] & 1) | ([h ≠ h] & h) (tfjs Step: 1 for h > 0, NaN
  ;; for NaN, else 0), then Mul by the scalar dropout scale given as float32 bits (1 without dropout:
  ;; exact). Oracle: tf.mul(below, tf.step(h)) and the scale (trainer.ts batchGradients' reference path).
  (func $reluGrad (export "reluGrad")
    (param $d i32) (param $h i32) (param $bytes i32) (param $scaleBits i32)
    (local $p i32) (local $q i32) (local $hv v128) (local $one v128) (local $scale v128)
    (local.set $one (f32x4.splat (f32.const 1)))
    (local.set $scale (f32x4.splat (f32.reinterpret_i32 (local.get $scaleBits))))
    (local.set $p (i32.const 0))
    (block $vectors_done
      (loop $vectors
        (br_if $vectors_done (i32.ge_u (local.get $p) (local.get $bytes)))
        (local.set $hv (v128.load (i32.add (local.get $h) (local.get $p))))
        (v128.store
          (local.tee $q (i32.add (local.get $d) (local.get $p)))
          (f32x4.mul
            (f32x4.mul
              (v128.load (local.get $q))
              (v128.or
                (v128.and (f32x4.gt (local.get $hv) (v128.const i64x2 0 0)) (local.get $one))
                (v128.and (f32x4.ne (local.get $hv) (local.get $hv)) (local.get $hv))))
            (local.get $scale)))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $vectors))))

  ;; out[c] = float32(Σ_r m[r, c]) for float32 m (rows × cols, cols even): float64 sums from +0 in row
  ;; order, two columns per lane pair. Oracle: trainer.ts columnSums (bias gradients).
  (func $columnSums (export "columnSums")
    (param $m i32) (param $rows i32) (param $cols i32) (param $out i32)
    (local $c i32) (local $p i32) (local $end i32) (local $rowBytes i32) (local $colBytes i32)
    (local $acc v128)
    (local.set $colBytes (local.tee $rowBytes (i32.shl (local.get $cols) (i32.const 2))))
    (local.set $c (i32.const 0))
    (block $column_done
      (loop $column
        (br_if $column_done (i32.ge_u (local.get $c) (local.get $colBytes)))
        (local.set $acc (v128.const i64x2 0 0))
        (local.set $end
          (i32.add
            (local.tee $p (i32.add (local.get $m) (local.get $c)))
            (i32.mul (local.get $rows) (local.get $rowBytes))))
        (block $row_done
          (loop $row
            (br_if $row_done (i32.ge_u (local.get $p) (local.get $end)))
            (local.set $acc
              (f64x2.add (local.get $acc) (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $p)))))
            (local.set $p (i32.add (local.get $p) (local.get $rowBytes)))
            (br $row)))
        (v128.store64_lane 0
          (i32.add (local.get $out) (local.get $c))
          (f32x4.demote_f64x2_zero (local.get $acc)))
        (local.set $c (i32.add (local.get $c) (i32.const 8)))
        (br $column))))

  ;; n draws of xoshiro128** (Blackman & Vigna 2018) from state (s0..s3):
  ;; out[i] = scaleBits & ~(((draw >>> 1) − threshold) >> 31), i.e. the float32 bits of the dropout
  ;; scale where the draw's top 31 bits are ≥ threshold, else +0. The state advances in scalar code
  ;; (one serial stream); the output function of four consecutive s1 runs in i32x4 lanes.
  ;; Oracle: science/mlp/dropout.ts dropoutMasks (every layer's mask in one stream).
  (func $dropoutBits (export "dropoutBits")
    (param $out i32) (param $n i32) (param $s0 i32) (param $s1 i32) (param $s2 i32) (param $s3 i32)
    (param $threshold i32) (param $scaleBits i32)
    (local $i i32) (local $end i32) (local $result i32) (local $t i32) (local $end4 i32) (local $s1x4 v128)
    (local $scalex4 v128) (local $thresholdx4 v128)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $end4 (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (local.set $scalex4 (i32x4.splat (local.get $scaleBits)))
    (local.set $thresholdx4 (i32x4.splat (local.get $threshold)))
    (local.set $i (i32.const 0))
    (block $fours_done
      (loop $fours
        (br_if $fours_done (i32.ge_u (local.get $i) (local.get $end4)))
        (local.set $s1x4 (i32x4.replace_lane 0 (local.get $s1x4) (local.get $s1)))
        (local.set $t (i32.shl (local.get $s1) (i32.const 9)))
        (local.set $s2 (i32.xor (local.get $s2) (local.get $s0)))
        (local.set $s3 (i32.xor (local.get $s3) (local.get $s1)))
        (local.set $s1 (i32.xor (local.get $s1) (local.get $s2)))
        (local.set $s0 (i32.xor (local.get $s0) (local.get $s3)))
        (local.set $s2 (i32.xor (local.get $s2) (local.get $t)))
        (local.set $s3 (i32.rotl (local.get $s3) (i32.const 11)))
        (local.set $s1x4 (i32x4.replace_lane 1 (local.get $s1x4) (local.get $s1)))
        (local.set $t (i32.shl (local.get $s1) (i32.const 9)))
        (local.set $s2 (i32.xor (local.get $s2) (local.get $s0)))
        (local.set $s3 (i32.xor (local.get $s3) (local.get $s1)))
        (local.set $s1 (i32.xor (local.get $s1) (local.get $s2)))
        (local.set $s0 (i32.xor (local.get $s0) (local.get $s3)))
        (local.set $s2 (i32.xor (local.get $s2) (local.get $t)))
        (local.set $s3 (i32.rotl (local.get $s3) (i32.const 11)))
        (local.set $s1x4 (i32x4.replace_lane 2 (local.get $s1x4) (local.get $s1)))
        (local.set $t (i32.shl (local.get $s1) (i32.const 9)))
        (local.set $s2 (i32.xor (local.get $s2) (local.get $s0)))
        (local.set $s3 (i32.xor (local.get $s3) (local.get $s1)))
        (local.set $s1 (i32.xor (local.get $s1) (local.get $s2)))
        (local.set $s0 (i32.xor (local.get $s0) (local.get $s3)))
        (local.set $s2 (i32.xor (local.get $s2) (local.get $t)))
        (local.set $s3 (i32.rotl (local.get $s3) (i32.const 11)))
        (local.set $s1x4 (i32x4.replace_lane 3 (local.get $s1x4) (local.get $s1)))
        (local.set $t (i32.shl (local.get $s1) (i32.const 9)))
        (local.set $s2 (i32.xor (local.get $s2) (local.get $s0)))
        (local.set $s3 (i32.xor (local.get $s3) (local.get $s1)))
        (local.set $s1 (i32.xor (local.get $s1) (local.get $s2)))
        (local.set $s0 (i32.xor (local.get $s0) (local.get $s3)))
        (local.set $s2 (i32.xor (local.get $s2) (local.get $t)))
        (local.set $s3 (i32.rotl (local.get $s3) (i32.const 11)))
        ;; out[i..i+3] = scale & ~(((output(s1) >>> 1) − threshold) >> 31), output(s1) = rotl(s1·5, 7)·9
        (i32.add (local.get $out) (local.get $i))
        (local.get $scalex4)
        (local.set $s1x4 (i32x4.mul (local.get $s1x4) (i32x4.splat (i32.const 5))))
        (i32x4.mul
          (v128.or (i32x4.shl (local.get $s1x4) (i32.const 7)) (i32x4.shr_u (local.get $s1x4) (i32.const 25)))
          (i32x4.splat (i32.const 9)))
        (i32x4.shr_u (i32.const 1))
        (i32x4.sub (local.get $thresholdx4))
        (i32x4.shr_s (i32.const 31))
        v128.andnot
        v128.store
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $fours)))
    (block $ones_done
      (loop $ones
        (br_if $ones_done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $result
          (i32.mul (i32.rotl (i32.mul (local.get $s1) (i32.const 5)) (i32.const 7)) (i32.const 9)))
        (local.set $t (i32.shl (local.get $s1) (i32.const 9)))
        (local.set $s2 (i32.xor (local.get $s2) (local.get $s0)))
        (local.set $s3 (i32.xor (local.get $s3) (local.get $s1)))
        (local.set $s1 (i32.xor (local.get $s1) (local.get $s2)))
        (local.set $s0 (i32.xor (local.get $s0) (local.get $s3)))
        (local.set $s2 (i32.xor (local.get $s2) (local.get $t)))
        (local.set $s3 (i32.rotl (local.get $s3) (i32.const 11)))
        (i32.store
          (i32.add (local.get $out) (local.get $i))
          (i32.and
            (local.get $scaleBits)
            (i32.xor
              (i32.shr_s
                (i32.sub (i32.shr_u (local.get $result) (i32.const 1)) (local.get $threshold))
                (i32.const 31))
              (i32.const -1))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $ones))))

  ;; w ← w & ([|mask| ≠ 0] as all-ones lanes), four float32 at a time: the weight where the mask is
  ;; non-zero (either sign), +0 elsewhere. Oracle: science/mlp/pruning.ts applyMask.
  (func $maskKernels (export "maskKernels")
    (param $w i32) (param $mask i32) (param $bytes i32)
    (local $p i32) (local $q i32)
    (local.set $p (i32.const 0))
    (block $vectors_done
      (loop $vectors
        (br_if $vectors_done (i32.ge_u (local.get $p) (local.get $bytes)))
        (v128.store
          (local.tee $q (i32.add (local.get $w) (local.get $p)))
          (v128.and
            (i32x4.ne
              (v128.and
                (v128.load (i32.add (local.get $mask) (local.get $p)))
                (i32x4.splat (i32.const 2147483647)))
              (v128.const i64x2 0 0))
            (v128.load (local.get $q))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $vectors)))))
