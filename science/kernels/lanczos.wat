;; The vector loops of the Lanczos eigensolver (science/spectral/lanczos-wasm.ts registers them),
;; bit-identical to the JavaScript of science/spectral/lanczos.ts: WebAssembly has no fused
;; multiply-add and f64x2 lanes round like scalars, so each lane adds the same products in the same
;; order. Arrays are float64 in the imported memory; a basis is passed as a table of byte offsets
;; (int32). Locals ending in 2 hold a scalar splatted to both lanes.
;; Edit, then `npm run build:kernels` (docs/kernels.md).
(module
  (import "env" "memory" (memory 1))

  ;; result = Σ_t a[t]·b[t]: the JavaScript's four partial sums s0..s3 over t ≡ 0..3 (mod 4) are the
  ;; lanes of $v01 and $v23; the tail goes to s0; result = (s0 + s1) + (s2 + s3).
  ;; Oracle: science/spectral/lanczos.ts dot.
  (func $dot (export "dot")
    (param $a i32) (param $b i32) (param $n i32) (param $result i32)
    (local $t i32) (local $s0 f64) (local $s1 f64) (local $s2 f64) (local $s3 f64) (local $v01 v128)
    (local $v23 v128)
    (local.set $v01 (f64x2.splat (f64.const 0)))
    (local.set $v23 (f64x2.splat (f64.const 0)))
    (local.set $t (i32.const 0))
    (block $quads_done
      (loop $quads
        (br_if $quads_done (i32.ge_u (i32.add (local.get $t) (i32.const 3)) (local.get $n)))
        (local.set $v01
          (f64x2.add
            (local.get $v01)
            (f64x2.mul
              (v128.load (i32.add (local.get $a) (i32.shl (local.get $t) (i32.const 3))))
              (v128.load (i32.add (local.get $b) (i32.shl (local.get $t) (i32.const 3)))))))
        (local.set $v23
          (f64x2.add
            (local.get $v23)
            (f64x2.mul
              (v128.load offset=16 (i32.add (local.get $a) (i32.shl (local.get $t) (i32.const 3))))
              (v128.load offset=16 (i32.add (local.get $b) (i32.shl (local.get $t) (i32.const 3)))))))
        (local.set $t (i32.add (local.get $t) (i32.const 4)))
        (br $quads)))
    (local.set $s0 (f64x2.extract_lane 0 (local.get $v01)))
    (local.set $s1 (f64x2.extract_lane 1 (local.get $v01)))
    (local.set $s2 (f64x2.extract_lane 0 (local.get $v23)))
    (local.set $s3 (f64x2.extract_lane 1 (local.get $v23)))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $t) (local.get $n)))
        (local.set $s0
          (f64.add
            (local.get $s0)
            (f64.mul
              (f64.load (i32.add (local.get $a) (i32.shl (local.get $t) (i32.const 3))))
              (f64.load (i32.add (local.get $b) (i32.shl (local.get $t) (i32.const 3)))))))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $tail)))
    (f64.store
      (local.get $result)
      (f64.add (f64.add (local.get $s0) (local.get $s1)) (f64.add (local.get $s2) (local.get $s3)))))

  ;; h[i] = basis[i]·w for i < count: blocks of four basis vectors with one sequential sum each
  ;; (scalar, as the JavaScript), the remaining vectors by $dot. ($unused is declared and never read;
  ;; it is kept so that the bytes are those of the hand-assembled module.)
  ;; Oracle: science/spectral/lanczos.ts projections.
  (func $projections (export "projections")
    (param $w i32) (param $table i32) (param $count i32) (param $n i32) (param $h i32)
    (local $i i32) (local $t i32) (local $a i32) (local $b i32) (local $c i32) (local $d i32)
    (local $unused i32) (local $sa f64) (local $sb f64) (local $sc f64) (local $sd f64) (local $wt f64)
    (local.set $i (i32.const 0))
    (block $fours_done
      (loop $fours
        (br_if $fours_done (i32.ge_u (i32.add (local.get $i) (i32.const 3)) (local.get $count)))
        (local.set $a (i32.load (i32.add (local.get $table) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $b (i32.load offset=4 (i32.add (local.get $table) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $c (i32.load offset=8 (i32.add (local.get $table) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $d
          (i32.load offset=12 (i32.add (local.get $table) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $sa (f64.const 0))
        (local.set $sb (f64.const 0))
        (local.set $sc (f64.const 0))
        (local.set $sd (f64.const 0))
        (local.set $t (i32.const 0))
        (block $entries_done
          (loop $entries
            (br_if $entries_done (i32.ge_u (local.get $t) (local.get $n)))
            (local.set $wt (f64.load (i32.add (local.get $w) (i32.shl (local.get $t) (i32.const 3)))))
            (local.set $sa
              (f64.add
                (local.get $sa)
                (f64.mul
                  (f64.load (i32.add (local.get $a) (i32.shl (local.get $t) (i32.const 3))))
                  (local.get $wt))))
            (local.set $sb
              (f64.add
                (local.get $sb)
                (f64.mul
                  (f64.load (i32.add (local.get $b) (i32.shl (local.get $t) (i32.const 3))))
                  (local.get $wt))))
            (local.set $sc
              (f64.add
                (local.get $sc)
                (f64.mul
                  (f64.load (i32.add (local.get $c) (i32.shl (local.get $t) (i32.const 3))))
                  (local.get $wt))))
            (local.set $sd
              (f64.add
                (local.get $sd)
                (f64.mul
                  (f64.load (i32.add (local.get $d) (i32.shl (local.get $t) (i32.const 3))))
                  (local.get $wt))))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $entries)))
        (f64.store (i32.add (local.get $h) (i32.shl (local.get $i) (i32.const 3))) (local.get $sa))
        (f64.store offset=8 (i32.add (local.get $h) (i32.shl (local.get $i) (i32.const 3))) (local.get $sb))
        (f64.store offset=16 (i32.add (local.get $h) (i32.shl (local.get $i) (i32.const 3))) (local.get $sc))
        (f64.store offset=24 (i32.add (local.get $h) (i32.shl (local.get $i) (i32.const 3))) (local.get $sd))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $fours)))
    (block $rest_done
      (loop $rest
        (br_if $rest_done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $a (i32.load (i32.add (local.get $table) (i32.shl (local.get $i) (i32.const 2)))))
        (call $dot
          (local.get $a)
          (local.get $w)
          (local.get $n)
          (i32.add (local.get $h) (i32.shl (local.get $i) (i32.const 3))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rest))))

  ;; w −= Σ_i h[i]·basis[i], blocked as the JavaScript: per block of four vectors a, b, c, d,
  ;; w[t] −= (ha·a[t] + hb·b[t]) + (hc·c[t] + hd·d[t]), two t per f64x2 below n2 (n rounded down to
  ;; even), then the last t; per remaining vector, w[t] += (−h[i])·x[t] (a sign flip, as there).
  ;; Oracle: science/spectral/lanczos.ts subtractCombination (and axpy).
  (func $subtract (export "subtract")
    (param $w i32) (param $table i32) (param $count i32) (param $n i32) (param $h i32)
    (local $i i32) (local $t i32) (local $a i32) (local $b i32) (local $c i32) (local $d i32) (local $n2 i32)
    (local $ha f64) (local $hb f64) (local $hc f64) (local $hd f64) (local $ha2 v128) (local $hb2 v128)
    (local $hc2 v128) (local $hd2 v128)
    (local.set $n2 (i32.sub (local.get $n) (i32.and (local.get $n) (i32.const 1))))
    (local.set $i (i32.const 0))
    (block $fours_done
      (loop $fours
        (br_if $fours_done (i32.ge_u (i32.add (local.get $i) (i32.const 3)) (local.get $count)))
        (local.set $a (i32.load (i32.add (local.get $table) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $b (i32.load offset=4 (i32.add (local.get $table) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $c (i32.load offset=8 (i32.add (local.get $table) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $d
          (i32.load offset=12 (i32.add (local.get $table) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $ha (f64.load (i32.add (local.get $h) (i32.shl (local.get $i) (i32.const 3)))))
        (local.set $hb (f64.load offset=8 (i32.add (local.get $h) (i32.shl (local.get $i) (i32.const 3)))))
        (local.set $hc (f64.load offset=16 (i32.add (local.get $h) (i32.shl (local.get $i) (i32.const 3)))))
        (local.set $hd (f64.load offset=24 (i32.add (local.get $h) (i32.shl (local.get $i) (i32.const 3)))))
        (local.set $ha2 (f64x2.splat (local.get $ha)))
        (local.set $hb2 (f64x2.splat (local.get $hb)))
        (local.set $hc2 (f64x2.splat (local.get $hc)))
        (local.set $hd2 (f64x2.splat (local.get $hd)))
        (local.set $t (i32.const 0))
        (block $pairs_done
          (loop $pairs
            (br_if $pairs_done (i32.ge_u (local.get $t) (local.get $n2)))
            (v128.store
              (i32.add (local.get $w) (i32.shl (local.get $t) (i32.const 3)))
              (f64x2.sub
                (v128.load (i32.add (local.get $w) (i32.shl (local.get $t) (i32.const 3))))
                (f64x2.add
                  (f64x2.add
                    (f64x2.mul
                      (local.get $ha2)
                      (v128.load (i32.add (local.get $a) (i32.shl (local.get $t) (i32.const 3)))))
                    (f64x2.mul
                      (local.get $hb2)
                      (v128.load (i32.add (local.get $b) (i32.shl (local.get $t) (i32.const 3))))))
                  (f64x2.add
                    (f64x2.mul
                      (local.get $hc2)
                      (v128.load (i32.add (local.get $c) (i32.shl (local.get $t) (i32.const 3)))))
                    (f64x2.mul
                      (local.get $hd2)
                      (v128.load (i32.add (local.get $d) (i32.shl (local.get $t) (i32.const 3)))))))))
            (local.set $t (i32.add (local.get $t) (i32.const 2)))
            (br $pairs)))
        (block $singles_done
          (loop $singles
            (br_if $singles_done (i32.ge_u (local.get $t) (local.get $n)))
            (f64.store
              (i32.add (local.get $w) (i32.shl (local.get $t) (i32.const 3)))
              (f64.sub
                (f64.load (i32.add (local.get $w) (i32.shl (local.get $t) (i32.const 3))))
                (f64.add
                  (f64.add
                    (f64.mul
                      (local.get $ha)
                      (f64.load (i32.add (local.get $a) (i32.shl (local.get $t) (i32.const 3)))))
                    (f64.mul
                      (local.get $hb)
                      (f64.load (i32.add (local.get $b) (i32.shl (local.get $t) (i32.const 3))))))
                  (f64.add
                    (f64.mul
                      (local.get $hc)
                      (f64.load (i32.add (local.get $c) (i32.shl (local.get $t) (i32.const 3)))))
                    (f64.mul
                      (local.get $hd)
                      (f64.load (i32.add (local.get $d) (i32.shl (local.get $t) (i32.const 3)))))))))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $singles)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $fours)))
    (block $rest_done
      (loop $rest
        (br_if $rest_done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $a (i32.load (i32.add (local.get $table) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $ha (f64.neg (f64.load (i32.add (local.get $h) (i32.shl (local.get $i) (i32.const 3))))))
        (local.set $ha2 (f64x2.splat (local.get $ha)))
        (local.set $t (i32.const 0))
        (block $axpy_pairs_done
          (loop $axpy_pairs
            (br_if $axpy_pairs_done (i32.ge_u (local.get $t) (local.get $n2)))
            (v128.store
              (i32.add (local.get $w) (i32.shl (local.get $t) (i32.const 3)))
              (f64x2.add
                (v128.load (i32.add (local.get $w) (i32.shl (local.get $t) (i32.const 3))))
                (f64x2.mul
                  (local.get $ha2)
                  (v128.load (i32.add (local.get $a) (i32.shl (local.get $t) (i32.const 3)))))))
            (local.set $t (i32.add (local.get $t) (i32.const 2)))
            (br $axpy_pairs)))
        (block $axpy_singles_done
          (loop $axpy_singles
            (br_if $axpy_singles_done (i32.ge_u (local.get $t) (local.get $n)))
            (f64.store
              (i32.add (local.get $w) (i32.shl (local.get $t) (i32.const 3)))
              (f64.add
                (f64.load (i32.add (local.get $w) (i32.shl (local.get $t) (i32.const 3))))
                (f64.mul
                  (local.get $ha)
                  (f64.load (i32.add (local.get $a) (i32.shl (local.get $t) (i32.const 3)))))))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $axpy_singles)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rest))))

  ;; out += Σ_l y[l]·basis[l] over l in order, skipping y[l] = 0; two t per f64x2 below n2, then the
  ;; last t. Oracle: science/spectral/lanczos.ts ritzVectors.
  (func $combine (export "combine")
    (param $out i32) (param $table i32) (param $y i32) (param $count i32) (param $n i32)
    (local $l i32) (local $t i32) (local $x i32) (local $n2 i32) (local $yl f64) (local $yl2 v128)
    (local.set $n2 (i32.sub (local.get $n) (i32.and (local.get $n) (i32.const 1))))
    (local.set $l (i32.const 0))
    (block $vectors_done
      (loop $vectors
        (br_if $vectors_done (i32.ge_u (local.get $l) (local.get $count)))
        (local.set $yl (f64.load (i32.add (local.get $y) (i32.shl (local.get $l) (i32.const 3)))))
        (if
          (f64.ne (local.get $yl) (f64.const 0))
          (then
            (local.set $x (i32.load (i32.add (local.get $table) (i32.shl (local.get $l) (i32.const 2)))))
            (local.set $yl2 (f64x2.splat (local.get $yl)))
            (local.set $t (i32.const 0))
            (block $pairs_done
              (loop $pairs
                (br_if $pairs_done (i32.ge_u (local.get $t) (local.get $n2)))
                (v128.store
                  (i32.add (local.get $out) (i32.shl (local.get $t) (i32.const 3)))
                  (f64x2.add
                    (v128.load (i32.add (local.get $out) (i32.shl (local.get $t) (i32.const 3))))
                    (f64x2.mul
                      (local.get $yl2)
                      (v128.load (i32.add (local.get $x) (i32.shl (local.get $t) (i32.const 3)))))))
                (local.set $t (i32.add (local.get $t) (i32.const 2)))
                (br $pairs)))
            (block $singles_done
              (loop $singles
                (br_if $singles_done (i32.ge_u (local.get $t) (local.get $n)))
                (f64.store
                  (i32.add (local.get $out) (i32.shl (local.get $t) (i32.const 3)))
                  (f64.add
                    (f64.load (i32.add (local.get $out) (i32.shl (local.get $t) (i32.const 3))))
                    (f64.mul
                      (local.get $yl)
                      (f64.load (i32.add (local.get $x) (i32.shl (local.get $t) (i32.const 3)))))))
                (local.set $t (i32.add (local.get $t) (i32.const 1)))
                (br $singles)))))
        (local.set $l (i32.add (local.get $l) (i32.const 1)))
        (br $vectors)))))
