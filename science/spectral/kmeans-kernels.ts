/**
 * The distance loops of k-means (kmeans.ts), specialised to the dimension d.
 *
 * Why generated code: a loop over the d coordinates re-reads the point's coordinates for every
 * centre and keeps the sum in memory-bound form; with d known, V8 keeps the point in registers
 * and the sums unrolled (measured ≈ 2.7× faster at d = 4 than the loop over f). JavaScript has
 * no generics over a length, so the loops are written once as source templates and compiled per
 * d with `new Function` (cached; the spectral embedding uses d = k, so a run sees few values).
 *
 * Bit-identical to the loops they replace: every squared distance is summed left to right from
 * the first coordinate (`t0*t0 + t1*t1 + …` is ((t0² + t1²) + …), the same sequence of roundings
 * as `s = 0; s += t*t`), and where the loop version stopped a partial sum early (once it could
 * no longer win) the full sum is at least as large, so every comparison goes the same way.
 */

export interface DistanceKernels {
  /**
   * First assignment of Lloyd's iterations: labels[i] = nearest centre (lowest index on ties),
   * upper[i] = its distance, lower[i] = the distance to the second nearest.
   */
  nearestTwo(X: Float64Array, n: number, centers: Float64Array, k: number, labels: Int32Array, upper: Float64Array, lower: Float64Array): void;
  /** labels[i] = nearest centre (lowest index on ties); returns the inertia Σ squared distance. */
  assignAll(X: Float64Array, n: number, centers: Float64Array, k: number, labels: Int32Array): number;
  /**
   * k-means++ candidate potential: out[i] = min(closest[i], ‖x_i − x_candidate‖²), skipping the
   * distance when the triangle inequality already rules the candidate out (see kmeans.ts); returns Σ out.
   */
  candidatePotential(
    X: Float64Array,
    n: number,
    candidateOffset: number,
    closest: Float64Array,
    nearest: Int32Array,
    toCandidate: Float64Array,
    out: Float64Array,
    pruneFactor: number,
  ): number;
  /**
   * One pass of Hamerly's bounded Lloyd assignment (kmeans.ts lloydInto): loosen each point's
   * bounds by the centres' last movement, skip it when they prove its centre is still nearest,
   * else recompute distances and move it (updating the running counts and sums).
   */
  hamerlyPass(
    X: Float64Array,
    n: number,
    centers: Float64Array,
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
  ): void;
}

const cache = new Map<number, DistanceKernels>();

/** The kernels for dimension d (compiled on first use). */
export function distanceKernels(d: number): DistanceKernels {
  if (!Number.isInteger(d) || d < 1) throw new RangeError(`distanceKernels: d must be a positive integer, got ${d}`);
  let kernels = cache.get(d);
  if (!kernels) cache.set(d, (kernels = compile(d)));
  return kernels;
}

const range = (d: number) => Array.from({ length: d }, (_, f) => f);

/** `const x0 = X[xo], x1 = X[xo + 1], …;` */
const load = (d: number, name: string, array: string, offset: string) =>
  `const ${range(d)
    .map((f) => `${name}${f} = ${array}[${offset} + ${f}]`)
    .join(', ')};`;

/** Squared distance between the locals x0… and `array[offset…]`, summed left to right. */
const dist = (d: number, array: string, offset: string) =>
  `(${range(d)
    .map((f) => `(x${f} - ${array}[${offset} + ${f}]) * (x${f} - ${array}[${offset} + ${f}])`)
    .join(' + ')})`;

function compile(d: number): DistanceKernels {
  const nearestTwo = `
    for (let i = 0, xo = 0; i < n; i++, xo += ${d}) {
      ${load(d, 'x', 'X', 'xo')}
      let a = 0, bestD = Infinity, nextD = Infinity;
      for (let c = 0, co = 0; c < k; c++, co += ${d}) {
        const s = ${dist(d, 'C', 'co')};
        if (s < bestD) { nextD = bestD; bestD = s; a = c; } else if (s < nextD) nextD = s;
      }
      labels[i] = a;
      upper[i] = Math.sqrt(bestD);
      lower[i] = Math.sqrt(nextD);
    }`;
  const assignAll = `
    let inertia = 0;
    for (let i = 0, xo = 0; i < n; i++, xo += ${d}) {
      ${load(d, 'x', 'X', 'xo')}
      let best = 0, bestD = Infinity;
      for (let c = 0, co = 0; c < k; c++, co += ${d}) {
        const s = ${dist(d, 'C', 'co')};
        if (s < bestD) { bestD = s; best = c; }
      }
      labels[i] = best;
      inertia += bestD;
    }
    return inertia;`;
  // The candidate's coordinates are the fixed operand here, so they are the hoisted locals.
  const candidatePotential = `
    ${load(d, 'x', 'X', 'co')}
    let pot = 0;
    for (let i = 0, xo = 0; i < n; i++, xo += ${d}) {
      const c = closest[i];
      if (toCandidate[nearest[i]] >= pruneFactor * c) { out[i] = c; pot += c; continue; }
      const s = ${dist(d, 'X', 'xo').replace(/\(x(\d+) - X\[xo \+ (\d+)\]\)/g, '(X[xo + $2] - x$1)')};
      const dd = s < c ? s : c;
      out[i] = dd;
      pot += dd;
    }
    return pot;`;
  const hamerlyPass = `
    for (let i = 0, xo = 0; i < n; i++, xo += ${d}) {
      const a = labels[i];
      const h = halfNearest[a];
      const up = upper[i] + moved[a];
      let l = lower[i] - (a === argMax ? max2 : max1);
      if (l < 0) l = 0;
      upper[i] = up;
      lower[i] = l;
      const bound = h > l ? h : l;
      if (up <= bound) continue;
      ${load(d, 'x', 'X', 'xo')}
      const ao = a * ${d};
      const s = ${dist(d, 'C', 'ao')};
      const u = Math.sqrt(s);
      upper[i] = u;
      if (u <= bound) continue;
      let best = 0, bestD = Infinity, nextD = Infinity;
      for (let c = 0, co = 0; c < k; c++, co += ${d}) {
        const q = c === a ? s : ${dist(d, 'C', 'co')};
        if (q < bestD) { nextD = bestD; bestD = q; best = c; } else if (q < nextD) nextD = q;
      }
      if (best !== a) {
        counts[a]--;
        counts[best]++;
        const bo = best * ${d};
        ${range(d)
          .map((f) => `sums[ao + ${f}] -= x${f}; sums[bo + ${f}] += x${f};`)
          .join('\n        ')}
        labels[i] = best;
      }
      upper[i] = Math.sqrt(bestD);
      lower[i] = Math.sqrt(nextD);
    }`;
  const fn = (args: string, body: string) => new Function(...args.split(',').map((a) => a.trim()), `'use strict';${body}`);
  return {
    nearestTwo: fn('X, n, C, k, labels, upper, lower', nearestTwo) as DistanceKernels['nearestTwo'],
    assignAll: fn('X, n, C, k, labels', assignAll) as DistanceKernels['assignAll'],
    candidatePotential: fn('X, n, co, closest, nearest, toCandidate, out, pruneFactor', candidatePotential) as DistanceKernels['candidatePotential'],
    hamerlyPass: fn('X, n, C, k, labels, upper, lower, halfNearest, moved, max1, max2, argMax, counts, sums', hamerlyPass) as DistanceKernels['hamerlyPass'],
  };
}
