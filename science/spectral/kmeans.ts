/**
 * k-means with scikit-learn's defaults (`sklearn.cluster.k_means` as of 0.20, which
 * `SpectralClustering(assign_labels='kmeans')` calls): k-means++ seeding with 2 + ⌊ln k⌋ local
 * trials (`_k_init`), `n_init` = 10 restarts keeping the lowest inertia, at most `max_iter` = 300
 * Lloyd iterations, stopping when the summed squared centre shift is ≤ tol·mean(per-feature
 * variance) with tol = 1e-4, data centred first, empty clusters re-seeded with the points
 * farthest from their centres (`_centers_dense`), and a final assignment to the best centres.
 * (sklearn's default 'elkan' algorithm computes the same Lloyd iterates, only faster; here Hamerly's
 * bounds do the same with less bookkeeping.)
 *
 * Each restart r draws from its own generator `new Rng(deriveSeed(seed, r))`.
 * The distance loops run in WebAssembly where available (kmeans-wasm.ts, a module per d up to
 * KMEANS_MAX_D), else in JavaScript (kmeans-kernels.ts); the two are bit-identical.
 */
import { Rng, deriveSeed } from '../random.ts';
import { assignAll, candidatePotential, hamerlyPass, nearestTwo, sqDist } from './kmeans-kernels.ts';
import { kmeansModule, type KMeansWasmExports } from './kmeans-wasm.ts';
import { WasmArena } from '../kernels/runtime.ts';

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
  const ws = new Workspace(n, d, k);
  // Centre the data (sklearn does this for numerical precision; distances are unchanged).
  const X = ws.X;
  X.set(data);
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
    kmeansPlusPlusInto(X, n, d, k, rng, ws, ws.centers);
    const { inertia, iterations } = lloydInto(X, n, d, k, maxIter, tol, ws);
    // Keep the first restart with the lowest inertia (a strict <, as sklearn).
    if (!best || inertia < best.inertia) best = { labels: ws.labels.slice(), inertia, centers: ws.centers.slice(), iterations };
  }
  return best!;
}

/**
 * Buffers reused by every restart (no allocation inside the iterations). Where WebAssembly is
 * available, the data and everything the Hamerly pass touches live in one WebAssembly memory and
 * the pass runs there (kmeans-wasm.ts; bit-identical to kmeans-kernels.ts).
 */
class Workspace {
  /** The (centred) data, n × d. */
  readonly X: Float64Array;
  readonly centers: Float64Array;
  readonly old: Float64Array;
  readonly labels: Int32Array;
  /** Hamerly's bounds: upper[i] ≥ distance to the assigned centre, lower[i] ≤ distance to every other centre. */
  readonly upper: Float64Array;
  readonly lower: Float64Array;
  /** Half the distance from each centre to its nearest other centre. */
  readonly halfNearest: Float64Array;
  readonly moved: Float64Array;
  readonly counts: Float64Array;
  /** Per-cluster sums of the member points, updated as points change cluster. */
  readonly sums: Float64Array;
  /** The distance loops in WebAssembly, and the floats they exchange through memory: max1, max2, pruning factor, result. */
  readonly wasm: KMeansWasmExports | null;
  readonly scalars: Float64Array;
  /** Room for the Hamerly kernel's pair-major copy of the centres and its distances. */
  readonly scratch: Float64Array;
  // k-means++ buffers.
  closest: Float64Array;
  candidate: Float64Array;
  bestDist: Float64Array;
  readonly cumulative: Float64Array;
  /** Per point, the chosen centre its `closest` distance is to; per chosen centre, its squared distance to the candidate. */
  readonly nearest: Int32Array;
  readonly toCandidate: Float64Array;
  constructor(n: number, d: number, k: number) {
    const mod = kmeansModule(d);
    const B = WasmArena.bytesFor;
    const arena = mod ? new WasmArena(B(n * d, 8) + 2 * B(k * d, 8) + 2 * B(n, 4) + 6 * B(n, 8) + 4 * B(k, 8) + B(4, 8) + B((k + 1) * (d + 1), 8)) : null;
    const float64 = (length: number) => (arena ? arena.float64(length) : new Float64Array(length));
    const int32 = (length: number) => (arena ? arena.int32(length) : new Int32Array(length));
    this.X = float64(n * d);
    this.centers = float64(k * d);
    this.sums = float64(k * d);
    this.labels = int32(n);
    this.upper = float64(n);
    this.lower = float64(n);
    this.halfNearest = float64(k);
    this.moved = float64(k);
    this.counts = float64(k);
    this.scalars = float64(4);
    this.scratch = float64((k + 1) * (d + 1));
    this.closest = float64(n);
    this.candidate = float64(n);
    this.bestDist = float64(n);
    this.cumulative = float64(n);
    this.nearest = int32(n);
    this.toCandidate = float64(k);
    this.wasm = arena && mod ? arena.instantiate<KMeansWasmExports>(mod) : null;
    this.old = new Float64Array(k * d);
  }
}

/** k-means++ seeding (Arthur & Vassilvitskii 2007) with sklearn's greedy local trials. */
export function kmeansPlusPlus(X: Float64Array, n: number, d: number, k: number, rng: Rng): Float64Array {
  const centers = new Float64Array(k * d);
  kmeansPlusPlusInto(X, n, d, k, rng, new Workspace(n, d, k), centers);
  return centers;
}

/**
 * k-means++ into `centers` (sklearn `_k_init`): the first centre uniformly at random, then each
 * next one as the best (lowest resulting potential) of 2 + ⌊ln k⌋ candidates drawn with
 * probability ∝ squared distance to the nearest chosen centre.
 */
function kmeansPlusPlusInto(X: Float64Array, n: number, d: number, k: number, rng: Rng, ws: Workspace, centers: Float64Array): void {
  const trials = 2 + Math.floor(Math.log(k));
  const first = rng.int(n);
  for (let f = 0; f < d; f++) centers[f] = X[first * d + f];
  let closest = ws.closest;
  const nearest = ws.nearest;
  const toCandidate = ws.toCandidate;
  nearest.fill(0);
  let potential = 0;
  for (let i = 0; i < n; i++) {
    const s = sqDist(X, i * d, X, first * d, d);
    closest[i] = s;
    potential += s;
  }
  const cumulative = ws.cumulative;
  let candidate = ws.candidate;
  let bestDist = ws.bestDist;
  for (let c = 1; c < k; c++) {
    let acc = 0;
    for (let i = 0; i < n; i++) cumulative[i] = acc += closest[i];
    let bestId = -1;
    let bestPot = Infinity;
    for (let t = 0; t < trials; t++) {
      const r = rng.float() * potential;
      const id = Math.min(searchLeft(cumulative, r), n - 1);
      for (let j = 0; j < c; j++) toCandidate[j] = sqDist(X, id * d, centers, j * d, d);
      let pot: number;
      if (ws.wasm && X === ws.X) {
        ws.scalars[2] = PRUNE_FACTOR;
        ws.wasm.candidatePotential(
          X.byteOffset,
          n,
          X.byteOffset + id * d * 8,
          closest.byteOffset,
          nearest.byteOffset,
          toCandidate.byteOffset,
          candidate.byteOffset,
          ws.scalars.byteOffset + 16,
          ws.scalars.byteOffset + 24,
        );
        pot = ws.scalars[3];
      } else pot = candidatePotential(X, n, d, id * d, closest, nearest, toCandidate, candidate, PRUNE_FACTOR);
      if (bestId < 0 || pot < bestPot) {
        bestId = id;
        bestPot = pot;
        const swap = bestDist;
        bestDist = candidate;
        candidate = swap;
      }
    }
    for (let f = 0; f < d; f++) centers[c * d + f] = X[bestId * d + f];
    for (let i = 0; i < n; i++) if (bestDist[i] < closest[i]) nearest[i] = c;
    potential = bestPot;
    const swap = closest;
    closest = bestDist;
    bestDist = swap;
  }
  ws.closest = closest;
  ws.candidate = candidate;
  ws.bestDist = bestDist;
}

/**
 * Margin of the triangle-inequality test in candidatePotential (kmeans-kernels.ts): the candidate is skipped for point x when
 * ‖cand − centre‖² ≥ PRUNE_FACTOR·closest, i.e. ‖cand − centre‖ ≥ 2(1 + 5e-10)·‖x − centre‖, so
 * ‖x − cand‖ ≥ (1 + 1e-9)·‖x − centre‖. The relative margin dwarfs the rounding of these few
 * sums (~1e-15), so the distance the loop would compute is ≥ closest too: the result is exact.
 */
const PRUNE_FACTOR = 4 * (1 + 1e-9);

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

/** Per-cluster counts and coordinate sums of the current assignment. */
function clusterSums(X: Float64Array, n: number, d: number, labels: Int32Array, counts: Float64Array, sums: Float64Array): void {
  counts.fill(0);
  sums.fill(0);
  for (let i = 0, xo = 0; i < n; i++, xo += d) {
    const c = labels[i];
    counts[c]++;
    const co = c * d;
    for (let f = 0; f < d; f++) sums[co + f] += X[xo + f];
  }
}

/**
 * New centres = cluster means (from the running sums). An empty cluster takes the point farthest
 * from its (previous) centre, the next farthest for a second empty cluster, and so on (sklearn
 * `_relocate_empty_clusters_dense`). `old` holds the centres the labels were assigned to.
 */
function updateCenters(
  X: Float64Array,
  n: number,
  d: number,
  k: number,
  labels: Int32Array,
  old: Float64Array,
  counts: Float64Array,
  sums: Float64Array,
  centers: Float64Array,
): void {
  let order: number[] | undefined;
  let used = 0;
  for (let c = 0; c < k; c++) {
    const co = c * d;
    if (counts[c] > 0) {
      const count = counts[c];
      for (let f = 0; f < d; f++) centers[co + f] = sums[co + f] / count;
    } else {
      if (!order) {
        const dist = new Float64Array(n);
        for (let i = 0; i < n; i++) dist[i] = sqDist(X, i * d, old, labels[i] * d, d);
        order = Array.from({ length: n }, (_, i) => i).sort((a, b) => dist[b] - dist[a] || a - b);
      }
      const p = order[used++];
      for (let f = 0; f < d; f++) centers[co + f] = X[p * d + f];
    }
  }
}

/**
 * Lloyd's iterations from `ws.centers`, computed with Hamerly's bounds (G. Hamerly, "Making
 * k-means even faster", SDM 2010): per point an upper bound on the distance to its centre and one
 * lower bound on the distance to every other centre, so most points skip the distance
 * computations entirely. The iterates are Lloyd's (up to exact distance ties, where a point
 * keeps its centre). For the low dimensions of a spectral embedding (d = k) this beats Elkan's
 * k bounds per point (sklearn's default), whose bound updates alone cost n·k per iteration.
 * The bounds are loosened lazily, in the same pass that tests them, and the centres come from
 * running per-cluster sums updated only for points that change cluster.
 * Leaves the final centres in ws.centers and the matching labels in ws.labels.
 */
function lloydInto(X: Float64Array, n: number, d: number, k: number, maxIter: number, tol: number, ws: Workspace): { inertia: number; iterations: number } {
  const { centers, old, labels, upper, lower, halfNearest, moved, counts, sums } = ws;
  // First assignment: all distances.
  const wasm = X === ws.X ? ws.wasm : null;
  if (wasm) wasm.nearestTwo(X.byteOffset, n, centers.byteOffset, k, labels.byteOffset, upper.byteOffset, lower.byteOffset);
  else nearestTwo(X, n, d, centers, k, labels, upper, lower);
  clusterSums(X, n, d, labels, counts, sums);
  let iterations = 0;
  // Movement of the centres in the last update: the largest, the second largest, and which centre
  // moved most. The bounds are loosened by them lazily, in the next pass over the points.
  let max1 = 0;
  let max2 = 0;
  let argMax = -1;
  for (let it = 0; it < maxIter; it++) {
    iterations = it + 1;
    if (it > 0) {
      for (let a = 0; a < k; a++) {
        let m = Infinity;
        for (let b = 0; b < k; b++) {
          if (b === a) continue;
          const h = sqDist(centers, a * d, centers, b * d, d);
          if (h < m) m = h;
        }
        halfNearest[a] = Math.sqrt(m) / 2;
      }
      if (wasm) {
        ws.scalars[0] = max1;
        ws.scalars[1] = max2;
        const at = (a: Float64Array | Int32Array) => a.byteOffset;
        wasm.hamerly(
          at(X),
          n,
          at(centers),
          k,
          at(labels),
          at(upper),
          at(lower),
          at(halfNearest),
          at(moved),
          argMax,
          at(counts),
          at(sums),
          at(ws.scalars),
          at(ws.scratch),
        );
      } else hamerlyPass(X, n, d, centers, k, labels, upper, lower, halfNearest, moved, max1, max2, argMax, counts, sums);
    }
    old.set(centers);
    updateCenters(X, n, d, k, labels, old, counts, sums, centers);
    let shift = 0;
    max1 = 0;
    max2 = 0;
    argMax = -1;
    for (let c = 0; c < k; c++) {
      const s = sqDist(old, c * d, centers, c * d, d);
      shift += s;
      const m = Math.sqrt(s);
      moved[c] = m;
      if (m > max1) {
        max2 = max1;
        max1 = m;
        argMax = c;
      } else if (m > max2) max2 = m;
    }
    if (shift <= tol) break;
  }
  // The running sums drift from the plain sums by rounding; the final centres are recomputed from
  // scratch so that they (and the inertia that picks the best restart) do not depend on the path.
  clusterSums(X, n, d, labels, counts, sums);
  updateCenters(X, n, d, k, labels, old, counts, sums, centers);
  // Labels that match the returned centres (sklearn re-runs the E-step at the end), and the inertia.
  let inertia: number;
  if (wasm) {
    wasm.assignAll(X.byteOffset, n, centers.byteOffset, k, labels.byteOffset, ws.scalars.byteOffset + 24);
    inertia = ws.scalars[3];
  } else inertia = assignAll(X, n, d, centers, k, labels);
  return { inertia, iterations };
}
