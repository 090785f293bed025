/**
 * The distance loops of k-means (kmeans.ts) in plain JavaScript: the oracle of the WebAssembly
 * kernels (science/kernels/kmeans-wat.ts, one module per dimension d; a test compares them bit for
 * bit) and the fallback where WebAssembly is unavailable or d has no module.
 *
 * Bit-identical to the WebAssembly: every squared distance is summed left to right from the first
 * coordinate (`s = 0; s += t·t` is ((t0² + t1²) + …), since 0 + t0² = t0²), the comparisons are the
 * same strict ones (the lowest centre index wins ties), and the bounds, counts and sums take the
 * same operations in the same order.
 */

/** ‖a[ao..ao+d) − b[bo..bo+d)‖², summed left to right. */
export function sqDist(a: Float64Array, ao: number, b: Float64Array, bo: number, d: number): number {
  let s = 0;
  for (let f = 0; f < d; f++) {
    const t = a[ao + f] - b[bo + f];
    s += t * t;
  }
  return s;
}

/**
 * First assignment of Lloyd's iterations: labels[i] = nearest centre (lowest index on ties),
 * upper[i] = its distance, lower[i] = the distance to the second nearest.
 */
export function nearestTwo(
  X: Float64Array,
  n: number,
  d: number,
  C: Float64Array,
  k: number,
  labels: Int32Array,
  upper: Float64Array,
  lower: Float64Array,
): void {
  for (let i = 0, xo = 0; i < n; i++, xo += d) {
    let a = 0;
    let bestD = Infinity;
    let nextD = Infinity;
    for (let c = 0, co = 0; c < k; c++, co += d) {
      const s = sqDist(X, xo, C, co, d);
      if (s < bestD) {
        nextD = bestD;
        bestD = s;
        a = c;
      } else if (s < nextD) nextD = s;
    }
    labels[i] = a;
    upper[i] = Math.sqrt(bestD);
    lower[i] = Math.sqrt(nextD);
  }
}

/** labels[i] = nearest centre (lowest index on ties); returns the inertia Σ squared distance, in point order. */
export function assignAll(X: Float64Array, n: number, d: number, C: Float64Array, k: number, labels: Int32Array): number {
  let inertia = 0;
  for (let i = 0, xo = 0; i < n; i++, xo += d) {
    let best = 0;
    let bestD = Infinity;
    for (let c = 0, co = 0; c < k; c++, co += d) {
      const s = sqDist(X, xo, C, co, d);
      if (s < bestD) {
        bestD = s;
        best = c;
      }
    }
    labels[i] = best;
    inertia += bestD;
  }
  return inertia;
}

/**
 * k-means++ candidate potential: out[i] = min(closest[i], ‖x_i − x_candidate‖²), skipping the
 * distance when the triangle inequality already rules the candidate out (see kmeans.ts
 * PRUNE_FACTOR); returns Σ out in point order. The candidate is X[candidateOffset..+d).
 */
export function candidatePotential(
  X: Float64Array,
  n: number,
  d: number,
  candidateOffset: number,
  closest: Float64Array,
  nearest: Int32Array,
  toCandidate: Float64Array,
  out: Float64Array,
  pruneFactor: number,
): number {
  let pot = 0;
  for (let i = 0, xo = 0; i < n; i++, xo += d) {
    const c = closest[i];
    if (toCandidate[nearest[i]] >= pruneFactor * c) {
      out[i] = c;
      pot += c;
      continue;
    }
    const s = sqDist(X, xo, X, candidateOffset, d);
    const dd = s < c ? s : c;
    out[i] = dd;
    pot += dd;
  }
  return pot;
}

/**
 * One pass of Hamerly's bounded Lloyd assignment (kmeans.ts lloydInto): loosen each point's
 * bounds by the centres' last movement, skip it when they prove its centre is still nearest,
 * else recompute distances and move it (updating the running counts and sums).
 */
export function hamerlyPass(
  X: Float64Array,
  n: number,
  d: number,
  C: Float64Array,
  k: number,
  labels: Int32Array,
  upper: Float64Array,
  lower: Float64Array,
  halfNearest: Float64Array,
  moved: Float64Array,
  max1: number,
  max2: number,
  argMax: number,
  counts: Float64Array,
  sums: Float64Array,
): void {
  for (let i = 0, xo = 0; i < n; i++, xo += d) {
    const a = labels[i];
    const h = halfNearest[a];
    const up = upper[i] + moved[a];
    let l = lower[i] - (a === argMax ? max2 : max1);
    if (l < 0) l = 0;
    upper[i] = up;
    lower[i] = l;
    const bound = h > l ? h : l;
    if (up <= bound) continue;
    const ao = a * d;
    const s = sqDist(X, xo, C, ao, d);
    const u = Math.sqrt(s);
    upper[i] = u;
    if (u <= bound) continue;
    let best = 0;
    let bestD = Infinity;
    let nextD = Infinity;
    for (let c = 0, co = 0; c < k; c++, co += d) {
      const q = c === a ? s : sqDist(X, xo, C, co, d);
      if (q < bestD) {
        nextD = bestD;
        bestD = q;
        best = c;
      } else if (q < nextD) nextD = q;
    }
    if (best !== a) {
      counts[a]--;
      counts[best]++;
      const bo = best * d;
      for (let f = 0; f < d; f++) {
        sums[ao + f] -= X[xo + f];
        sums[bo + f] += X[xo + f];
      }
      labels[i] = best;
    }
    upper[i] = Math.sqrt(bestD);
    lower[i] = Math.sqrt(nextD);
  }
}
