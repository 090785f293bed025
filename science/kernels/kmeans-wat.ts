/**
 * The k-means distance kernels as WebAssembly text, one module per dimension d (the d coordinates
 * of a point are unrolled into locals, so the point stays in registers across the centres).
 * Build-time only: scripts/build-kernels.ts assembles kmeansWat(d) for every d in KMEANS_D and
 * commits the bytes (science/kernels/build/kmeans-dN.wasm, science/kernels/generated/kmeans.ts);
 * nothing imports this file at run time.
 *
 * Every function matches its JavaScript oracle in science/spectral/kmeans-kernels.ts bit for bit:
 * squared distances summed left to right from the first coordinate, the same strict comparisons
 * (the lowest centre index wins ties), the same bound arithmetic, counts and sums updated the same
 * way. Scalar f64 operations round as JavaScript numbers do, f64x2 lanes round like scalars, and
 * WebAssembly has no fused multiply-add. Pointers are byte offsets into the imported memory; arrays
 * are float64 except labels and nearest (int32). Results JavaScript returns are stored at `result`.
 */

/**
 * The dimensions that get a module. The pipeline clusters a spectral embedding of dimension d = k
 * (params: k ∈ {2, 4, 7, 10}; sklearn's SpectralClustering default is 8), so 1..32 covers every
 * configured k with room to spare; a module grows by ≈ 170 bytes per d (≈ 130 KB for 1..32).
 * Beyond 32 kmeans.ts runs the JavaScript oracle (same bits, slower).
 */
export const KMEANS_D = { min: 1, max: 32 } as const;

const range = (d: number) => Array.from({ length: d }, (_, f) => f);
const offset = (bytes: number) => (bytes ? ` offset=${bytes}` : '');
const lines = (parts: string[], indent: number) => parts.map((p) => ' '.repeat(indent) + p).join('\n');
const locals = (names: string[], type: string) => names.map((n) => `(local $${n} ${type})`).join(' ');
const params = (names: string[]) => names.map((n) => `(param $${n} i32)`).join(' ');
const xs = (d: number) => range(d).map((f) => `x${f}`);

/**
 * ‖x − p‖² for x in the locals $x0… and p the d float64s at the address in local $ptr, left to
 * right from the first coordinate (stack form: each line pushes one squared term and adds it).
 */
function squaredDistance(d: number, ptr: string, indent: number, pointFirst = false): string {
  const diff = (f: number) =>
    pointFirst
      ? `(f64.sub (f64.load${offset(8 * f)} (local.get $${ptr})) (local.get $x${f}))`
      : `(f64.sub (local.get $x${f}) (f64.load${offset(8 * f)} (local.get $${ptr})))`;
  return lines(
    range(d).map((f) => `(f64.mul (local.tee $t ${diff(f)}) (local.get $t))${f > 0 ? ' f64.add' : ''}`),
    indent,
  );
}

/** $x0… = the d coordinates at the address in local $ptr. */
const loadPoint = (d: number, ptr: string, indent: number) =>
  lines(
    range(d).map((f) => `(local.set $x${f} (f64.load${offset(8 * f)} (local.get $${ptr})))`),
    indent,
  );

/** `for (i = 0, xp = X; i < n; i++, xp += 8d) body` */
function forEachPoint(d: number, body: string): string {
  return `    (local.set $i (i32.const 0))
    (local.set $xp (local.get $X))
    (block $points_done
      (loop $points
        (br_if $points_done (i32.ge_u (local.get $i) (local.get $n)))
${body}
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (local.set $xp (i32.add (local.get $xp) (i32.const ${8 * d})))
        (br $points)))`;
}

/**
 * hamerly: one pass of Hamerly's bounded Lloyd assignment (G. Hamerly, "Making k-means even
 * faster", SDM 2010; oracle kmeans-kernels.ts hamerlyPass). max1, max2 = scalars[0], scalars[1]. Per
 * point i: loosen its bounds by the centres' last movement, skip it when they prove its centre a
 * is still nearest, else compute the distances to all centres (two per f64x2, from a pair-major
 * copy of the centres in scratch) and the nearest two; if the nearest is not a, move x_i's count
 * and sum to it. scratch holds (k + 1)·(d + 1) float64s.
 */
function hamerly(d: number): string {
  return `  (func $hamerly (export "hamerly")
    ${params(['X', 'n', 'C', 'k', 'labels', 'upper', 'lower', 'half', 'moved', 'argMax', 'counts', 'sums', 'scalars', 'scratch'])}
    ${locals(['i', 'xp', 'a', 'c', 'cp', 'best', 'i8', 'ca', 'sa', 'sb', 'db', 'kp'], 'i32')}
    ${locals(['up', 'l', 'bound', 's', 'bestD', 'nextD', 'q', 't', 'h', 'max1', 'max2', ...xs(d)], 'f64')}
    ${locals(['vacc', 'vt', ...range(d).map((f) => `xv${f}`)], 'v128')}
${copyCentresPairMajor(d)}
    (local.set $max1 (f64.load (local.get $scalars)))
    (local.set $max2 (f64.load offset=8 (local.get $scalars)))
${forEachPoint(d, `        (block $point_done\n${hamerlyPoint(d)})`)})`;
}

/**
 * Centre c's coordinate f goes to pair c/2, slot f, lane c mod 2 of scratch (a zero lane pads an
 * odd k); $db = the distance buffer after the pairs.
 */
function copyCentresPairMajor(d: number): string {
  const copy = range(d).map((f) => `(f64.store${offset(16 * f)} (local.get $cp) (f64.load${offset(8 * f)} (local.get $ca)))`);
  const pad = range(d).map((f) => `(f64.store${offset(16 * f)} (local.get $cp) (f64.const 0))`);
  return `    (local.set $kp (i32.add (local.get $k) (i32.and (local.get $k) (i32.const 1))))
    (local.set $db (i32.add (local.get $scratch) (i32.mul (local.get $kp) (i32.const ${8 * d}))))
    (local.set $c (i32.const 0))
    (block $copy_done
      (loop $copy
        (br_if $copy_done (i32.ge_u (local.get $c) (local.get $kp)))
        (local.set $cp
          (i32.add
            (i32.add (local.get $scratch) (i32.mul (i32.shr_u (local.get $c) (i32.const 1)) (i32.const ${16 * d})))
            (i32.shl (i32.and (local.get $c) (i32.const 1)) (i32.const 3))))
        (if (i32.lt_u (local.get $c) (local.get $k))
          (then
            (local.set $ca (i32.add (local.get $C) (i32.mul (local.get $c) (i32.const ${8 * d}))))
${lines(copy, 12)})
          (else
${lines(pad, 12)}))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $copy)))`;
}

/** The body of hamerly for point i (x_i at $xp); `br $point_done` skips to the next point. */
function hamerlyPoint(d: number): string {
  return `          (local.set $i8 (i32.shl (local.get $i) (i32.const 3)))
          (local.set $a (i32.load (i32.add (local.get $labels) (i32.shl (local.get $i) (i32.const 2)))))
          ;; up = upper[i] + moved[a]; l = max(lower[i] − (a = argMax ? max2 : max1), 0)
          (local.set $up
            (f64.add
              (f64.load (i32.add (local.get $upper) (local.get $i8)))
              (f64.load (i32.add (local.get $moved) (i32.shl (local.get $a) (i32.const 3))))))
          (local.set $l
            (f64.sub
              (f64.load (i32.add (local.get $lower) (local.get $i8)))
              (select (local.get $max2) (local.get $max1) (i32.eq (local.get $a) (local.get $argMax)))))
          (local.set $l (select (f64.const 0) (local.get $l) (f64.lt (local.get $l) (f64.const 0))))
          (f64.store (i32.add (local.get $upper) (local.get $i8)) (local.get $up))
          (f64.store (i32.add (local.get $lower) (local.get $i8)) (local.get $l))
          ;; bound = h > l ? h : l; the bounds prove a nearest: next point
          (local.set $h (f64.load (i32.add (local.get $half) (i32.shl (local.get $a) (i32.const 3)))))
          (local.set $bound (select (local.get $h) (local.get $l) (f64.gt (local.get $h) (local.get $l))))
          (br_if $point_done (f64.le (local.get $up) (local.get $bound)))
${loadPoint(d, 'xp', 10)}
          ;; s = ‖x_i − C_a‖²; upper[i] = √s; still proved: next point
          (local.set $ca (i32.add (local.get $C) (i32.mul (local.get $a) (i32.const ${8 * d}))))
${squaredDistance(d, 'ca', 10)}
          (local.set $s)
          (f64.store (i32.add (local.get $upper) (local.get $i8)) (local.tee $q (f64.sqrt (local.get $s))))
          (br_if $point_done (f64.le (local.get $q) (local.get $bound)))
          (local.set $best (i32.const 0))
          (local.set $bestD (f64.const inf))
          (local.set $nextD (f64.const inf))
${allDistancesInPairs(d)}
${nearestTwoOfBuffer()}
${moveIfNearer(d)}
          (f64.store (i32.add (local.get $upper) (local.get $i8)) (f64.sqrt (local.get $bestD)))
          (f64.store (i32.add (local.get $lower) (local.get $i8)) (f64.sqrt (local.get $nextD)))`;
}

/** db[c], db[c + 1] = ‖x_i − C_c‖², ‖x_i − C_{c+1}‖² for c = 0, 2, …: each lane sums left to right. */
function allDistancesInPairs(d: number): string {
  const terms = range(d).map((f) =>
    f === 0
      ? `(local.set $vacc (f64x2.mul (local.tee $vacc (f64x2.sub (local.get $xv0) (v128.load (local.get $cp)))) (local.get $vacc)))`
      : `(local.set $vacc (f64x2.add (local.get $vacc) (f64x2.mul (local.tee $vt (f64x2.sub (local.get $xv${f}) (v128.load offset=${16 * f} (local.get $cp)))) (local.get $vt))))`,
  );
  return `${lines(
    range(d).map((f) => `(local.set $xv${f} (f64x2.splat (local.get $x${f})))`),
    10,
  )}
          (local.set $c (i32.const 0))
          (local.set $cp (local.get $scratch))
          (block $pairs_done
            (loop $pairs
              (br_if $pairs_done (i32.ge_u (local.get $c) (local.get $k)))
${lines(terms, 14)}
              (v128.store (i32.add (local.get $db) (i32.shl (local.get $c) (i32.const 3))) (local.get $vacc))
              (local.set $c (i32.add (local.get $c) (i32.const 2)))
              (local.set $cp (i32.add (local.get $cp) (i32.const ${16 * d})))
              (br $pairs)))`;
}

/** The nearest two in centre order (q = s for c = a, as the JavaScript reuses it). */
function nearestTwoOfBuffer(): string {
  return `          (local.set $c (i32.const 0))
          (block $centres_done
            (loop $centres
              (br_if $centres_done (i32.ge_u (local.get $c) (local.get $k)))
              (local.set $q
                (select
                  (local.get $s)
                  (f64.load (i32.add (local.get $db) (i32.shl (local.get $c) (i32.const 3))))
                  (i32.eq (local.get $c) (local.get $a))))
              (if (f64.lt (local.get $q) (local.get $bestD))
                (then (local.set $nextD (local.get $bestD)) (local.set $bestD (local.get $q)) (local.set $best (local.get $c)))
                (else (if (f64.lt (local.get $q) (local.get $nextD)) (then (local.set $nextD (local.get $q))))))
              (local.set $c (i32.add (local.get $c) (i32.const 1)))
              (br $centres)))`;
}

/** best ≠ a: counts[a] −= 1, counts[best] += 1, sums_a −= x_i, sums_best += x_i, labels[i] = best. */
function moveIfNearer(d: number): string {
  const sums = range(d).flatMap((f) => [
    `(f64.store${offset(8 * f)} (local.get $sa) (f64.sub (f64.load${offset(8 * f)} (local.get $sa)) (local.get $x${f})))`,
    `(f64.store${offset(8 * f)} (local.get $sb) (f64.add (f64.load${offset(8 * f)} (local.get $sb)) (local.get $x${f})))`,
  ]);
  return `          (if (i32.ne (local.get $best) (local.get $a))
            (then
              (f64.store
                (i32.add (local.get $counts) (i32.shl (local.get $a) (i32.const 3)))
                (f64.sub (f64.load (i32.add (local.get $counts) (i32.shl (local.get $a) (i32.const 3)))) (f64.const 1)))
              (f64.store
                (i32.add (local.get $counts) (i32.shl (local.get $best) (i32.const 3)))
                (f64.add (f64.load (i32.add (local.get $counts) (i32.shl (local.get $best) (i32.const 3)))) (f64.const 1)))
              (local.set $sa (i32.add (local.get $sums) (i32.mul (local.get $a) (i32.const ${8 * d}))))
              (local.set $sb (i32.add (local.get $sums) (i32.mul (local.get $best) (i32.const ${8 * d}))))
${lines(sums, 14)}
              (i32.store (i32.add (local.get $labels) (i32.shl (local.get $i) (i32.const 2))) (local.get $best))))`;
}

/**
 * nearestTwo (withBounds; oracle kmeans-kernels.ts nearestTwo, the first assignment of Lloyd's
 * iterations): labels[i] = nearest centre, upper[i] = its distance, lower[i] = the second
 * nearest's. assignAll (oracle assignAll, sklearn's final E-step): labels[i] = nearest centre,
 * result = the inertia Σ_i min_c ‖x_i − C_c‖², summed in point order.
 */
function nearest(d: number, withBounds: boolean): string {
  const update = withBounds
    ? `(if (f64.lt (local.get $s) (local.get $bestD))
              (then (local.set $nextD (local.get $bestD)) (local.set $bestD (local.get $s)) (local.set $best (local.get $c)))
              (else (if (f64.lt (local.get $s) (local.get $nextD)) (then (local.set $nextD (local.get $s))))))`
    : `(if (f64.lt (local.get $s) (local.get $bestD)) (then (local.set $bestD (local.get $s)) (local.set $best (local.get $c))))`;
  const results = withBounds
    ? `        (f64.store (i32.add (local.get $upper) (i32.shl (local.get $i) (i32.const 3))) (f64.sqrt (local.get $bestD)))
        (f64.store (i32.add (local.get $lower) (i32.shl (local.get $i) (i32.const 3))) (f64.sqrt (local.get $nextD)))`
    : `        (local.set $inertia (f64.add (local.get $inertia) (local.get $bestD)))`;
  const point = `${loadPoint(d, 'xp', 8)}
        (local.set $best (i32.const 0))
        (local.set $bestD (f64.const inf))
        (local.set $nextD (f64.const inf))
        (local.set $c (i32.const 0))
        (local.set $cp (local.get $C))
        (block $centres_done
          (loop $centres
            (br_if $centres_done (i32.ge_u (local.get $c) (local.get $k)))
${squaredDistance(d, 'cp', 12)}
            (local.set $s)
            ${update}
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (local.set $cp (i32.add (local.get $cp) (i32.const ${8 * d})))
            (br $centres)))
        (i32.store (i32.add (local.get $labels) (i32.shl (local.get $i) (i32.const 2))) (local.get $best))
${results}`;
  const name = withBounds ? 'nearestTwo' : 'assignAll';
  return `  (func $${name} (export "${name}")
    ${params(['X', 'n', 'C', 'k', 'labels', ...(withBounds ? ['upper', 'lower'] : ['result'])])}
    ${locals(['i', 'xp', 'c', 'cp', 'best'], 'i32')}
    ${locals(['s', 'bestD', 'nextD', 't', 'inertia', ...xs(d)], 'f64')}
    (local.set $inertia (f64.const 0))
${forEachPoint(d, point)}${withBounds ? '' : '\n    (f64.store (local.get $result) (local.get $inertia))'})`;
}

/**
 * candidatePotential (oracle kmeans-kernels.ts candidatePotential; sklearn `_k_init`'s local trials):
 * out[i] = min(closest[i], ‖x_i − candidate‖²), keeping closest[i] without the distance when
 * toCandidate[nearest[i]] ≥ factor·closest[i] (the triangle inequality rules the candidate out;
 * factor is the float64 at $factorPtr); result = Σ_i out[i] in point order.
 */
function candidatePotential(d: number): string {
  const point = `        (block $point_done
          (local.set $i8 (i32.shl (local.get $i) (i32.const 3)))
          (local.set $c (f64.load (i32.add (local.get $closest) (local.get $i8))))
          (if
            (f64.ge
              (f64.load
                (i32.add
                  (local.get $toCandidate)
                  (i32.shl (i32.load (i32.add (local.get $nearest) (i32.shl (local.get $i) (i32.const 2)))) (i32.const 3))))
              (f64.mul (local.get $factor) (local.get $c)))
            (then
              (f64.store (i32.add (local.get $out) (local.get $i8)) (local.get $c))
              (local.set $pot (f64.add (local.get $pot) (local.get $c)))
              (br $point_done)))
${squaredDistance(d, 'xp', 10, true)}
          (local.set $s)
          (local.set $dd (select (local.get $s) (local.get $c) (f64.lt (local.get $s) (local.get $c))))
          (f64.store (i32.add (local.get $out) (local.get $i8)) (local.get $dd))
          (local.set $pot (f64.add (local.get $pot) (local.get $dd))))`;
  return `  (func $candidatePotential (export "candidatePotential")
    ${params(['X', 'n', 'candidate', 'closest', 'nearest', 'toCandidate', 'out', 'factorPtr', 'result'])}
    ${locals(['i', 'xp', 'i8'], 'i32')}
    ${locals(['pot', 'c', 's', 't', 'dd', 'factor', ...xs(d)], 'f64')}
    (local.set $factor (f64.load (local.get $factorPtr)))
${loadPoint(d, 'candidate', 4)}
    (local.set $pot (f64.const 0))
${forEachPoint(d, point)}
    (f64.store (local.get $result) (local.get $pot)))`;
}

/** The module for dimension d: hamerly, nearestTwo, assignAll, candidatePotential (in this order). */
export function kmeansWat(d: number): string {
  if (!Number.isInteger(d) || d < 1) throw new RangeError(`kmeansWat: d must be a positive integer, got ${d}`);
  return `;; Generated by science/kernels/kmeans-wat.ts for d = ${d}.
(module
  (import "env" "memory" (memory 1))
${hamerly(d)}
${nearest(d, true)}
${nearest(d, false)}
${candidatePotential(d)})
`;
}
