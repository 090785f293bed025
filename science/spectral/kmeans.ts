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
  let bestDist = new Float64Array(n);
  for (let c = 1; c < k; c++) {
    let acc = 0;
    for (let i = 0; i < n; i++) cumulative[i] = acc += closest[i];
    let bestId = -1;
    let bestPot = Infinity;
    for (let t = 0; t < trials; t++) {
      const r = rng.float() * potential;
      const id = Math.min(searchLeft(cumulative, r), n - 1);
      let pot = 0;
      for (let i = 0; i < n; i++) {
        const dd = Math.min(closest[i], sqDist(X, i * d, X, id * d, d));
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
    const tmp = closest.slice();
    closest.set(bestDist);
    bestDist = tmp;
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

/** Assign each point to its nearest centre (lowest index on ties); returns the inertia. */
function assign(X: Float64Array, n: number, d: number, k: number, centers: Float64Array, labels: Int32Array, dist: Float64Array): number {
  let inertia = 0;
  for (let i = 0; i < n; i++) {
    const xo = i * d;
    let bestC = 0;
    let bestD = Infinity;
    for (let c = 0; c < k; c++) {
      let s = 0;
      const co = c * d;
      for (let f = 0; f < d; f++) {
        const t = X[xo + f] - centers[co + f];
        s += t * t;
      }
      if (s < bestD) {
        bestD = s;
        bestC = c;
      }
    }
    labels[i] = bestC;
    dist[i] = bestD;
    inertia += bestD;
  }
  return inertia;
}

/** New centres = cluster means; an empty cluster takes the next point farthest from its centre. */
function updateCenters(X: Float64Array, n: number, d: number, k: number, labels: Int32Array, dist: Float64Array, centers: Float64Array): void {
  const counts = new Float64Array(k);
  centers.fill(0);
  for (let i = 0; i < n; i++) {
    const c = labels[i];
    counts[c]++;
    for (let f = 0; f < d; f++) centers[c * d + f] += X[i * d + f];
  }
  let far: number[] | undefined;
  let used = 0;
  for (let c = 0; c < k; c++) {
    if (counts[c] > 0) {
      for (let f = 0; f < d; f++) centers[c * d + f] /= counts[c];
    } else {
      far ??= Array.from({ length: n }, (_, i) => i).sort((a, b) => dist[b] - dist[a] || a - b);
      const p = far[used++];
      for (let f = 0; f < d; f++) centers[c * d + f] = X[p * d + f];
    }
  }
}

function lloyd(X: Float64Array, n: number, d: number, k: number, init: Float64Array, maxIter: number, tol: number): KMeansResult {
  let centers = init.slice();
  let old = new Float64Array(k * d);
  const labels = new Int32Array(n);
  const dist = new Float64Array(n);
  let bestLabels = new Int32Array(n);
  let bestCenters = centers.slice();
  let bestInertia = Infinity;
  let shift = 0;
  let iterations = 0;
  for (let it = 0; it < maxIter; it++) {
    iterations = it + 1;
    [old, centers] = [centers, old];
    const inertia = assign(X, n, d, k, old, labels, dist);
    updateCenters(X, n, d, k, labels, dist, centers);
    if (inertia < bestInertia) {
      bestInertia = inertia;
      bestLabels = labels.slice();
      bestCenters = centers.slice();
    }
    shift = 0;
    for (let t = 0; t < k * d; t++) shift += (old[t] - centers[t]) ** 2;
    if (shift <= tol) break;
  }
  if (shift > 0) {
    // Labels that match the returned centres (sklearn re-runs the E-step here).
    bestInertia = assign(X, n, d, k, bestCenters, bestLabels, dist);
  }
  return { labels: bestLabels, inertia: bestInertia, centers: bestCenters, iterations };
}
