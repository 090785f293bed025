;; The inner loops of the lesion evaluation (science/lesion/evaluate.ts; science/lesion/kernel-wasm.ts
;; registers them): the forward pass of a layer and the rank-|G| update of the level above a lesion,
;; equal to the same loops in JavaScript: the same float64 products and sums in the same order
;; (WebAssembly has no fused multiply-add, and f64x2 lanes round like scalars; at most the sign of a
;; zero differs, since inactive inputs add ±0 here and are skipped there).
;; Data layout ("chunked"): every level is stored in chunks of CHUNK_ROWS = 8 rows, neuron-major
;; within a chunk — value (row t, neuron k) at k·8 + t — so the eight rows of one neuron are 64
;; contiguous bytes, four f64x2 accumulators ($acc0..$acc3). Each level is kept twice, as its
;; pre-activations and their ReLU. ri[e] is the byte offset of column entry e's input neuron within a
;; chunk (k·64); all pointers are byte offsets into the imported memory. max(x, 0) is f64x2.max, the
;; lane-wise twin of f64.max (the bits of the JavaScript `v > 0 ? v : 0` up to the sign of a zero).
;; Edit, then `npm run build:kernels` (docs/kernels.md).
(module
  (import "env" "memory" (memory 1))

  ;; `chunks` consecutive chunks; per chunk, for j in cols[0 .. nCols) (the output columns anything
  ;; reads, ascending): acc[t] = bias[j]; acc[t] += h[ri[e] + t]·w[e] over j's edges e in order;
  ;; outPre[j·8 + t] = acc[t]; outRelu[j·8 + t] = max(acc[t], 0); then h += fanIn·64 and
  ;; outPre, outRelu += fanOut·64 (the next chunk). Oracle: the JavaScript forward pass of evaluate.ts.
  (func $gatherT (export "gatherT")
    (param $h i32) (param $colStart i32) (param $ri i32) (param $w i32) (param $bias i32) (param $outPre i32)
    (param $outRelu i32) (param $fanOut i32) (param $fanIn i32) (param $chunks i32) (param $cols i32)
    (param $nCols i32)
    (local $j i32) (local $e i32) (local $end i32) (local $hp i32) (local $p i32) (local $c i32)
    (local $i i32) (local $acc0 v128) (local $acc1 v128) (local $acc2 v128) (local $acc3 v128)
    (local $wv v128)
    (local.set $c (i32.const 0))
    (block $chunks_done
      (loop $chunks
        (br_if $chunks_done (i32.ge_u (local.get $c) (local.get $chunks)))
        (local.set $i (i32.const 0))
        (block $columns_done
          (loop $columns
            (br_if $columns_done (i32.ge_u (local.get $i) (local.get $nCols)))
            (local.set $j (i32.load (i32.add (local.get $cols) (i32.shl (local.get $i) (i32.const 2)))))
            (local.set $p (i32.shl (local.get $j) (i32.const 6)))
            (local.set $acc3
              (local.tee $acc2
                (local.tee $acc1
                  (local.tee $acc0
                    (f64x2.splat
                      (f64.load (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 3)))))))))
            (local.set $e
              (i32.load
                (local.tee $hp (i32.add (local.get $colStart) (i32.shl (local.get $j) (i32.const 2))))))
            (local.set $end (i32.load offset=4 (local.get $hp)))
            (block $edges_done
              (loop $edges
                (br_if $edges_done (i32.ge_u (local.get $e) (local.get $end)))
                (local.set $hp
                  (i32.add
                    (local.get $h)
                    (i32.load (i32.add (local.get $ri) (i32.shl (local.get $e) (i32.const 2))))))
                (local.set $wv
                  (f64x2.splat (f64.load (i32.add (local.get $w) (i32.shl (local.get $e) (i32.const 3))))))
                (local.set $acc0
                  (f64x2.add (local.get $acc0) (f64x2.mul (v128.load (local.get $hp)) (local.get $wv))))
                (local.set $acc1
                  (f64x2.add
                    (local.get $acc1)
                    (f64x2.mul (v128.load offset=16 (local.get $hp)) (local.get $wv))))
                (local.set $acc2
                  (f64x2.add
                    (local.get $acc2)
                    (f64x2.mul (v128.load offset=32 (local.get $hp)) (local.get $wv))))
                (local.set $acc3
                  (f64x2.add
                    (local.get $acc3)
                    (f64x2.mul (v128.load offset=48 (local.get $hp)) (local.get $wv))))
                (local.set $e (i32.add (local.get $e) (i32.const 1)))
                (br $edges)))
            (v128.store (i32.add (local.get $outPre) (local.get $p)) (local.get $acc0))
            (v128.store
              (i32.add (local.get $outRelu) (local.get $p))
              (f64x2.max (local.get $acc0) (f64x2.splat (f64.const 0))))
            (v128.store offset=16 (i32.add (local.get $outPre) (local.get $p)) (local.get $acc1))
            (v128.store offset=16
              (i32.add (local.get $outRelu) (local.get $p))
              (f64x2.max (local.get $acc1) (f64x2.splat (f64.const 0))))
            (v128.store offset=32 (i32.add (local.get $outPre) (local.get $p)) (local.get $acc2))
            (v128.store offset=32
              (i32.add (local.get $outRelu) (local.get $p))
              (f64x2.max (local.get $acc2) (f64x2.splat (f64.const 0))))
            (v128.store offset=48 (i32.add (local.get $outPre) (local.get $p)) (local.get $acc3))
            (v128.store offset=48
              (i32.add (local.get $outRelu) (local.get $p))
              (f64x2.max (local.get $acc3) (f64x2.splat (f64.const 0))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $columns)))
        (local.set $h (i32.add (local.get $h) (i32.shl (local.get $fanIn) (i32.const 6))))
        (local.set $outPre (i32.add (local.get $outPre) (i32.shl (local.get $fanOut) (i32.const 6))))
        (local.set $outRelu (i32.add (local.get $outRelu) (i32.shl (local.get $fanOut) (i32.const 6))))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $chunks))))

  ;; The rank-|G| update: as gatherT from acc[t] = parent[j·8 + t] (the unlesioned pre-activations),
  ;; subtracting; the column entries are the lesioned neurons' outgoing edges, neurons ascending within
  ;; a column; parent advances with the chunk too. Oracle: the JavaScript update of evaluate.ts.
  (func $gatherSubT (export "gatherSubT")
    (param $h i32) (param $colStart i32) (param $ri i32) (param $w i32) (param $parent i32)
    (param $outPre i32) (param $outRelu i32) (param $fanOut i32) (param $fanIn i32) (param $chunks i32)
    (param $cols i32) (param $nCols i32)
    (local $j i32) (local $e i32) (local $end i32) (local $hp i32) (local $p i32) (local $c i32)
    (local $i i32) (local $acc0 v128) (local $acc1 v128) (local $acc2 v128) (local $acc3 v128)
    (local $wv v128)
    (local.set $c (i32.const 0))
    (block $chunks_done
      (loop $chunks
        (br_if $chunks_done (i32.ge_u (local.get $c) (local.get $chunks)))
        (local.set $i (i32.const 0))
        (block $columns_done
          (loop $columns
            (br_if $columns_done (i32.ge_u (local.get $i) (local.get $nCols)))
            (local.set $j (i32.load (i32.add (local.get $cols) (i32.shl (local.get $i) (i32.const 2)))))
            (local.set $p (i32.shl (local.get $j) (i32.const 6)))
            (local.set $acc0 (v128.load (i32.add (local.get $parent) (local.get $p))))
            (local.set $acc1 (v128.load offset=16 (i32.add (local.get $parent) (local.get $p))))
            (local.set $acc2 (v128.load offset=32 (i32.add (local.get $parent) (local.get $p))))
            (local.set $acc3 (v128.load offset=48 (i32.add (local.get $parent) (local.get $p))))
            (local.set $e
              (i32.load
                (local.tee $hp (i32.add (local.get $colStart) (i32.shl (local.get $j) (i32.const 2))))))
            (local.set $end (i32.load offset=4 (local.get $hp)))
            (block $edges_done
              (loop $edges
                (br_if $edges_done (i32.ge_u (local.get $e) (local.get $end)))
                (local.set $hp
                  (i32.add
                    (local.get $h)
                    (i32.load (i32.add (local.get $ri) (i32.shl (local.get $e) (i32.const 2))))))
                (local.set $wv
                  (f64x2.splat (f64.load (i32.add (local.get $w) (i32.shl (local.get $e) (i32.const 3))))))
                (local.set $acc0
                  (f64x2.sub (local.get $acc0) (f64x2.mul (v128.load (local.get $hp)) (local.get $wv))))
                (local.set $acc1
                  (f64x2.sub
                    (local.get $acc1)
                    (f64x2.mul (v128.load offset=16 (local.get $hp)) (local.get $wv))))
                (local.set $acc2
                  (f64x2.sub
                    (local.get $acc2)
                    (f64x2.mul (v128.load offset=32 (local.get $hp)) (local.get $wv))))
                (local.set $acc3
                  (f64x2.sub
                    (local.get $acc3)
                    (f64x2.mul (v128.load offset=48 (local.get $hp)) (local.get $wv))))
                (local.set $e (i32.add (local.get $e) (i32.const 1)))
                (br $edges)))
            (v128.store (i32.add (local.get $outPre) (local.get $p)) (local.get $acc0))
            (v128.store
              (i32.add (local.get $outRelu) (local.get $p))
              (f64x2.max (local.get $acc0) (f64x2.splat (f64.const 0))))
            (v128.store offset=16 (i32.add (local.get $outPre) (local.get $p)) (local.get $acc1))
            (v128.store offset=16
              (i32.add (local.get $outRelu) (local.get $p))
              (f64x2.max (local.get $acc1) (f64x2.splat (f64.const 0))))
            (v128.store offset=32 (i32.add (local.get $outPre) (local.get $p)) (local.get $acc2))
            (v128.store offset=32
              (i32.add (local.get $outRelu) (local.get $p))
              (f64x2.max (local.get $acc2) (f64x2.splat (f64.const 0))))
            (v128.store offset=48 (i32.add (local.get $outPre) (local.get $p)) (local.get $acc3))
            (v128.store offset=48
              (i32.add (local.get $outRelu) (local.get $p))
              (f64x2.max (local.get $acc3) (f64x2.splat (f64.const 0))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $columns)))
        (local.set $h (i32.add (local.get $h) (i32.shl (local.get $fanIn) (i32.const 6))))
        (local.set $outPre (i32.add (local.get $outPre) (i32.shl (local.get $fanOut) (i32.const 6))))
        (local.set $outRelu (i32.add (local.get $outRelu) (i32.shl (local.get $fanOut) (i32.const 6))))
        (local.set $parent (i32.add (local.get $parent) (i32.shl (local.get $fanOut) (i32.const 6))))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $chunks))))

  ;; gatherSubT without the outPre stores: below the logits nothing reads a lesioned level's
  ;; pre-activations.
  (func $gatherSubReluT (export "gatherSubReluT")
    (param $h i32) (param $colStart i32) (param $ri i32) (param $w i32) (param $parent i32)
    (param $outPre i32) (param $outRelu i32) (param $fanOut i32) (param $fanIn i32) (param $chunks i32)
    (param $cols i32) (param $nCols i32)
    (local $j i32) (local $e i32) (local $end i32) (local $hp i32) (local $p i32) (local $c i32)
    (local $i i32) (local $acc0 v128) (local $acc1 v128) (local $acc2 v128) (local $acc3 v128)
    (local $wv v128)
    (local.set $c (i32.const 0))
    (block $chunks_done
      (loop $chunks
        (br_if $chunks_done (i32.ge_u (local.get $c) (local.get $chunks)))
        (local.set $i (i32.const 0))
        (block $columns_done
          (loop $columns
            (br_if $columns_done (i32.ge_u (local.get $i) (local.get $nCols)))
            (local.set $j (i32.load (i32.add (local.get $cols) (i32.shl (local.get $i) (i32.const 2)))))
            (local.set $p (i32.shl (local.get $j) (i32.const 6)))
            (local.set $acc0 (v128.load (i32.add (local.get $parent) (local.get $p))))
            (local.set $acc1 (v128.load offset=16 (i32.add (local.get $parent) (local.get $p))))
            (local.set $acc2 (v128.load offset=32 (i32.add (local.get $parent) (local.get $p))))
            (local.set $acc3 (v128.load offset=48 (i32.add (local.get $parent) (local.get $p))))
            (local.set $e
              (i32.load
                (local.tee $hp (i32.add (local.get $colStart) (i32.shl (local.get $j) (i32.const 2))))))
            (local.set $end (i32.load offset=4 (local.get $hp)))
            (block $edges_done
              (loop $edges
                (br_if $edges_done (i32.ge_u (local.get $e) (local.get $end)))
                (local.set $hp
                  (i32.add
                    (local.get $h)
                    (i32.load (i32.add (local.get $ri) (i32.shl (local.get $e) (i32.const 2))))))
                (local.set $wv
                  (f64x2.splat (f64.load (i32.add (local.get $w) (i32.shl (local.get $e) (i32.const 3))))))
                (local.set $acc0
                  (f64x2.sub (local.get $acc0) (f64x2.mul (v128.load (local.get $hp)) (local.get $wv))))
                (local.set $acc1
                  (f64x2.sub
                    (local.get $acc1)
                    (f64x2.mul (v128.load offset=16 (local.get $hp)) (local.get $wv))))
                (local.set $acc2
                  (f64x2.sub
                    (local.get $acc2)
                    (f64x2.mul (v128.load offset=32 (local.get $hp)) (local.get $wv))))
                (local.set $acc3
                  (f64x2.sub
                    (local.get $acc3)
                    (f64x2.mul (v128.load offset=48 (local.get $hp)) (local.get $wv))))
                (local.set $e (i32.add (local.get $e) (i32.const 1)))
                (br $edges)))
            (v128.store
              (i32.add (local.get $outRelu) (local.get $p))
              (f64x2.max (local.get $acc0) (f64x2.splat (f64.const 0))))
            (v128.store offset=16
              (i32.add (local.get $outRelu) (local.get $p))
              (f64x2.max (local.get $acc1) (f64x2.splat (f64.const 0))))
            (v128.store offset=32
              (i32.add (local.get $outRelu) (local.get $p))
              (f64x2.max (local.get $acc2) (f64x2.splat (f64.const 0))))
            (v128.store offset=48
              (i32.add (local.get $outRelu) (local.get $p))
              (f64x2.max (local.get $acc3) (f64x2.splat (f64.const 0))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $columns)))
        (local.set $h (i32.add (local.get $h) (i32.shl (local.get $fanIn) (i32.const 6))))
        (local.set $outPre (i32.add (local.get $outPre) (i32.shl (local.get $fanOut) (i32.const 6))))
        (local.set $outRelu (i32.add (local.get $outRelu) (i32.shl (local.get $fanOut) (i32.const 6))))
        (local.set $parent (i32.add (local.get $parent) (i32.shl (local.get $fanOut) (i32.const 6))))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $chunks)))))
