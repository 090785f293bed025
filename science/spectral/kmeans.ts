/**
 * k-means with scikit-learn's defaults (`sklearn.cluster.k_means` as of 0.20, which
 * `SpectralClustering(assign_labels='kmeans')` calls): k-means++ seeding with 2 + ⌊ln k⌋ local
 * trials (`_k_init`), `n_init` = 10 restarts keeping the lowest inertia, at most `max_iter` = 300
 * Lloyd iterations, stopping when the summed squared centre shift is ≤ tol·mean(per-feature
 * variance) with tol = 1e-4, data centred first, empty clusters re-seeded with the points
 * farthest from their centres (`_centers_dense`), and a final assignment to the best centres.
 * (sklearn's default 'elkan' algorithm computes the same Lloyd iterates, only faster.)
 *
 * Each restart r draws from its own generator `new Rng(deriveSeed(seed, r))`.
 */
import { Rng, deriveSeed } from '../random.ts';

export interface KMeansOptions {
  nInit?: number;
  maxIter?: number;
  /** Relative tolerance (× mean feature variance). */
  tol?: number;
}

export interface KMeansResult {
  /** Cluster of each point, 0..k-1. */
  labels: Int32Array;
  /** Sum of squared distances to the assigned centres. */
  inertia: number;
  /** k × d row-major (in the centred coordinates). */
  centers: Float64Array;
  /** Lloyd iterations of the kept restart. */
  iterations: number;
}

/** k-means of n points in d dimensions (`data` row-major n × d). */
export function kmeans(data: Float64Array, n: number, d: number, k: number, seed: number, options: KMeansOptions = {}): KMeansResult {
  const nInit = options.nInit ?? 10;
  const maxIter = options.maxIter ?? 300;
  if (data.length !== n * d) throw new RangeError(`kmeans: expected ${n}×${d} values, got ${data.length}`);
  if (!Number.isInteger(k) || k < 1 || k > n) throw new RangeError(`kmeans: k must be an integer in [1, ${n}], got ${k}`);
  if (!Number.isInteger(nInit) || nInit < 1) throw new RangeError(`kmeans: nInit must be a positive integer, got ${nInit}`);
  // Centre the data (sklearn does this for numerical precision; distances are unchanged).
  const X = Float64Array.from(data);
  let meanVar = 0;
  for (let f = 0; f < d; f++) {
    let m = 0;
    for (let i = 0; i < n; i++) m += X[i * d + f];
    m /= n;
    let v = 0;
    for (let i = 0; i < n; i++) {
      const x = (X[i * d + f] -= m);
      v += x * x;
    }
    meanVar += v / n;
  }
  const tol = (meanVar / d) * (options.tol ?? 1e-4);

  let best: KMeansResult | undefined;
  for (let run = 0; run < nInit; run++) {
    const rng = new Rng(deriveSeed(seed, run));
    const centers = kmeansPlusPlus(X, n, d, k, rng);
    const result = lloyd(X, n, d, k, centers, maxIter, tol);
    if (!best || result.inertia < best.inertia) best = result;
  }
  return best!;
}

/** k-means++ seeding (Arthur & Vassilvitskii 2007) with sklearn's greedy local trials. */
export function kmeansPlusPlus(X: Float64Array, n: number, d: number, k: number, rng: Rng): Float64Array {
  const centers = new Float64Array(k * d);
  const trials = 2 + Math.floor(Math.log(k));
  const first = rng.int(n);
  centers.set(X.subarray(first * d, first * d + d), 0);
  const closest = new Float64Array(n);
  let potential = 0;
  for (let i = 0; i < n; i++) {
    closest[i] = sqDist(X, i * d, X, first * d, d);
    potential += closest[i];
  }
  const cumulative = new Float64Array(n);
  const candidate = new Float64Array(n);
  const bestDist = new Float64Array(n);
  for (let c = 1; c < k; c++) {
    let acc = 0;
    for (let i = 0; i < n; i++) cumulative[i] = acc += closest[i];
    let bestId = -1;
    let bestPot = Infinity;
    for (let t = 0; t < trials; t++) {
      const r = rng.float() * potential;
      const id = Math.min(searchLeft(cumulative, r), n - 1);
      const co = id * d;
      let pot = 0;
      for (let i = 0; i < n; i++) {
        const xo = i * d;
        let s = 0;
        for (let f = 0; f < d; f++) {
          const u = X[xo + f] - X[co + f];
          s += u * u;
        }
        const dd = s < closest[i] ? s : closest[i];
        candidate[i] = dd;
        pot += dd;
      }
      if (bestId < 0 || pot < bestPot) {
        bestId = id;
        bestPot = pot;
        bestDist.set(candidate);
      }
    }
    centers.set(X.subarray(bestId * d, bestId * d + d), c * d);
    potential = bestPot;
    closest.set(bestDist);
  }
  return centers;
}

/** First index with cumulative[i] ≥ value (numpy searchsorted, side='left'). */
function searchLeft(cumulative: Float64Array, value: number): number {
  let lo = 0;
  let hi = cumulative.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cumulative[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function sqDist(a: Float64Array, ao: number, b: Float64Array, bo: number, d: number): number {
  let s = 0;
  for (let f = 0; f < d; f++) {
    const t = a[ao + f] - b[bo + f];
    s += t * t;
  }
  return s;
}

/**
 * Nearest centre of every point (lowest index on ties) with its squared distance; returns the
 * inertia Σ dist. `bounds`, when given, receives Hamerly's lower bound: the distance (not
 * squared) to the second-nearest centre.
 */
function assignAll(X: Float64Array, n: number, d: number, k: number, centers: Float64Array, labels: Int32Array, dist: Float64Array, second?: Float64Array): number {
  let inertia = 0;
  for (let i = 0; i < n; i++) {
    const xo = i * d;
    let bestC = 0;
    let bestD = Infinity;
    let nextD = Infinity;
    for (let c = 0; c < k; c++) {
      let s = 0;
      const co = c * d;
      for (let f = 0; f < d; f++) {
        const t = X[xo + f] - centers[co + f];
        s += t * t;
      }
      if (s < bestD) {
        nextD = bestD;
        bestD = s;
        bestC = c;
      } else if (s < nextD) nextD = s;
    }
    labels[i] = bestC;
    dist[i] = bestD;
    if (second) second[i] = Math.sqrt(nextD);
    inertia += bestD;
  }
  return inertia;
}

/** New centres = cluster means; an empty cluster takes the next point farthest from its centre. */
function updateCenters(X: Float64Array, n: number, d: number, k: number, labels: Int32Array, far: (i: number) => number, centers: Float64Array): void {
  const counts = new Float64Array(k);
  centers.fill(0);
  for (let i = 0; i < n; i++) {
    const c = labels[i];
    counts[c]++;
    for (let f = 0; f < d; f++) centers[c * d + f] += X[i * d + f];
  }
  let order: number[] | undefined;
  let used = 0;
  for (let c = 0; c < k; c++) {
    if (counts[c] > 0) {
      for (let f = 0; f < d; f++) centers[c * d + f] /= counts[c];
    } else {
      order ??= Array.from({ length: n }, (_, i) => i).sort((a, b) => far(b) - far(a) || a - b);
      const p = order[used++];
      for (let f = 0; f < d; f++) centers[c * d + f] = X[p * d + f];
    }
  }
}

/**
 * Lloyd's iterations, computed with Elkan's bounds (C. Elkan, "Using the triangle inequality to
 * accelerate k-means", ICML 2003; sklearn's default algorithm): per point an upper bound on the
 * distance to its centre and a lower bound to every other centre, so most distances are never
 * computed. The iterates are Lloyd's (up to exact distance ties).
 */
function lloyd(X: Float64Array, n: number, d: number, k: number, init: Float64Array, maxIter: number, tol: number): KMeansResult {
  const centers = init.slice();
  const old = new Float64Array(k * d);
  const labels = new Int32Array(n);
  const dist = new Float64Array(n);
  const upper = new Float64Array(n); // ≥ distance to the assigned centre
  const lower = new Float64Array(n * k); // lower[i·k + c] ≤ distance from point i to centre c
  const halfCC = new Float64Array(k * k); // half the centre–centre distances
  const halfNearest = new Float64Array(k);
  const moved = new Float64Array(k);
  // First assignment: all distances.
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestD = Infinity;
    for (let c = 0; c < k; c++) {
      const dc = Math.sqrt(sqDist(X, i * d, centers, c * d, d));
      lower[i * k + c] = dc;
      if (dc < bestD) {
        bestD = dc;
        best = c;
      }
    }
    labels[i] = best;
    upper[i] = bestD;
  }
  let iterations = 0;
  for (let it = 0; it < maxIter; it++) {
    iterations = it + 1;
    if (it > 0) {
      for (let a = 0; a < k; a++) {
        let m = Infinity;
        for (let b = 0; b < k; b++) {
          if (b === a) continue;
          const h = Math.sqrt(sqDist(centers, a * d, centers, b * d, d)) / 2;
          halfCC[a * k + b] = h;
          if (h < m) m = h;
        }
        halfNearest[a] = m;
      }
      for (let i = 0; i < n; i++) {
        let a = labels[i];
        let u = upper[i];
        if (u <= halfNearest[a]) continue;
        let stale = true;
        const lo = i * k;
        const xo = i * d;
        for (let c = 0; c < k; c++) {
          if (c === a || u <= lower[lo + c] || u <= halfCC[a * k + c]) continue;
          if (stale) {
            u = Math.sqrt(sqDist(X, xo, centers, a * d, d));
            lower[lo + a] = u;
            stale = false;
            if (u <= lower[lo + c] || u <= halfCC[a * k + c]) continue;
          }
          const dc = Math.sqrt(sqDist(X, xo, centers, c * d, d));
          lower[lo + c] = dc;
          if (dc < u || (dc === u && c < a)) {
            a = c;
            u = dc;
          }
        }
        labels[i] = a;
        upper[i] = u;
      }
    }
    old.set(centers);
    updateCenters(X, n, d, k, labels, (i) => upper[i], centers);
    let shift = 0;
    for (let c = 0; c < k; c++) {
      const s = sqDist(old, c * d, centers, c * d, d);
      shift += s;
      moved[c] = Math.sqrt(s);
    }
    if (shift <= tol) break;
    for (let i = 0; i < n; i++) {
      upper[i] += moved[labels[i]];
      const lo = i * k;
      for (let c = 0; c < k; c++) {
        const l = lower[lo + c] - moved[c];
        lower[lo + c] = l > 0 ? l : 0;
      }
    }
  }
  // Labels that match the returned centres (sklearn re-runs the E-step at the end), and the inertia.
  const inertia = assignAll(X, n, d, k, centers, labels, dist);
  return { labels, inertia, centers, iterations };
}
