/**
 * Spectral embedding with scikit-learn's semantics (`sklearn.manifold.spectral_embedding`
 * with `norm_laplacian=True, drop_first=False`, as called by `SpectralClustering(
 * affinity='precomputed')`): the k eigenvectors of the normalised Laplacian L = I − S,
 * S = D^-1/2·A·D^-1/2, with the smallest eigenvalues, i.e. the k algebraically largest
 * eigenpairs of S; each divided entry-wise by sqrt(degree); each multiplied by the sign of its
 * largest-|·| entry (`_deterministic_vector_sign_flip`); the first (trivial) vector kept.
 *
 * Unlike the original (AMG-preconditioned LOBPCG, ≤ 21 iterations, loose tolerance) the
 * eigenvectors here are exact to a residual tolerance.
 *
 * How: the weight graph is bipartite (even vs odd node layers), A = [[0, B], [Bᵀ, 0]], so the
 * eigenvalues of S are ±σ with σ the singular values of C = D_e^-1/2·B·D_o^-1/2, and the
 * eigenvector of +σ is [u; w]/√2 with Cᵀ·C·w = σ²·w and u = C·w/σ. We therefore run Lanczos on
 * the folded operator M = CᵀC on the smaller side: its spectrum σ² lies in [0, 1], the wanted
 * values are at the top and the unwanted mirror images −σ are gone, which widens the relative
 * gaps and cuts the number of iterations. The trivial eigenvector sqrt(d) (σ = 1) is known
 * exactly and deflated. Small or degenerate graphs use a dense eigendecomposition of S.
 */
import type { GraphBlock, LayeredGraph } from '../graph/index.ts';
import { toDenseAdjacency } from '../graph/index.ts';
import { symmetricEigen } from './dense.ts';
import { largestEigenpairs, type SymmetricOperator } from './lanczos.ts';
import { csrMul, csrTranspose, denseMul, denseMulT } from './kernels.ts';

export interface EmbeddingOptions {
  /** 'auto' (default): Lanczos on the folded operator, dense for tiny graphs. */
  solver?: 'auto' | 'lanczos' | 'dense';
  /** Lanczos residual tolerance on M = CᵀC (default 1e-9). */
  tol?: number;
}

export interface SpectralEmbedding {
  /** nodeCount × k row-major: row i is node i's coordinates (compact order). */
  embedding: Float64Array;
  k: number;
  /** Eigenvalues of S = D^-1/2 A D^-1/2, descending (1 − these are the Laplacian's, ascending). */
  eigenvalues: Float64Array;
  /** Unit eigenvectors of S (before the 1/sqrt(degree) scaling and sign flip), compact order. */
  eigenvectors: Float64Array[];
  /** Which solver ran, and how many operator applications Lanczos used. */
  solver: 'lanczos' | 'dense';
  applications: number;
}

/** Graphs up to this many nodes use the dense solver under 'auto'. */
const DENSE_MAX_NODES = 80;

type Product = (x: Float64Array, y: Float64Array) => void;

/** y[rows part] += W·x[cols part] for one block, as a closure over monomorphic kernels. */
function forward(b: GraphBlock, xOff: number, yOff: number): Product {
  if (b.kind === 'dense') {
    const { values, rows, cols } = b;
    return (x, y) => denseMul(values, rows, cols, x, xOff, y, yOff);
  }
  const { indptr, indices, values, rows } = b;
  return (x, y) => csrMul(indptr, indices, values, rows, x, xOff, y, yOff);
}

/** y[cols part] += Wᵀ·x[rows part]; CSR blocks are transposed once so both directions gather. */
function backward(b: GraphBlock, xOff: number, yOff: number): Product {
  if (b.kind === 'dense') {
    const { values, rows, cols } = b;
    return (x, y) => denseMulT(values, rows, cols, x, xOff, y, yOff);
  }
  const t = csrTranspose(b.indptr, b.indices, b.values, b.rows, b.cols);
  const cols = b.cols;
  return (x, y) => csrMul(t.indptr, t.indices, t.values, cols, x, xOff, y, yOff);
}

/**
 * The folded operator M = D_P^-1/2·B_PQ·D_Q^-1·B_QP·D_P^-1/2 on side P (the node layers of one
 * parity), and the map w ↦ C·w to the other side Q.
 */
export class FoldedOperator implements SymmetricOperator {
  readonly n: number;
  readonly nQ: number;
  /** Offset of node layer l within its side's vector. */
  private readonly sideOffset: number[];
  private readonly invSqrtP: Float64Array;
  private readonly invQ: Float64Array;
  private readonly invSqrtQ: Float64Array;
  private readonly t: Float64Array;
  private readonly u: Float64Array;
  /** The products making up B_QP (side P → side Q) and B_PQ (side Q → side P). */
  private readonly productsToQ: Product[] = [];
  private readonly productsToP: Product[] = [];
  /** sqrt(degree) on side P, unit norm: the trivial eigenvector of M (σ = 1). */
  readonly trivial: Float64Array;

  constructor(
    private readonly graph: LayeredGraph,
    readonly parity: 0 | 1,
  ) {
    const L = graph.layerSizes.length;
    this.sideOffset = new Array(L).fill(0);
    let nP = 0;
    let nQ = 0;
    for (let l = 0; l < L; l++) {
      if (l % 2 === parity) {
        this.sideOffset[l] = nP;
        nP += graph.layerSizes[l];
      } else {
        this.sideOffset[l] = nQ;
        nQ += graph.layerSizes[l];
      }
    }
    this.n = nP;
    this.nQ = nQ;
    this.invSqrtP = new Float64Array(nP);
    this.invQ = new Float64Array(nQ);
    this.invSqrtQ = new Float64Array(nQ);
    this.trivial = new Float64Array(nP);
    let volP = 0;
    for (let l = 0; l < L; l++) {
      const off = graph.layerOffsets[l];
      for (let i = 0; i < graph.layerSizes[l]; i++) {
        const d = graph.degree[off + i];
        const s = this.sideOffset[l] + i;
        if (l % 2 === parity) {
          this.invSqrtP[s] = 1 / Math.sqrt(d);
          this.trivial[s] = Math.sqrt(d);
          volP += d;
        } else {
          this.invQ[s] = 1 / d;
          this.invSqrtQ[s] = 1 / Math.sqrt(d);
        }
      }
    }
    const norm = Math.sqrt(volP);
    for (let i = 0; i < nP; i++) this.trivial[i] /= norm;
    this.t = new Float64Array(nP);
    this.u = new Float64Array(nQ);
    graph.blocks.forEach((b, l) => {
      const rowsOff = this.sideOffset[l];
      const colsOff = this.sideOffset[l + 1];
      // Block l has rows in node layer l and columns in node layer l + 1.
      if (l % 2 === parity) {
        this.productsToQ.push(backward(b, rowsOff, colsOff));
        this.productsToP.push(forward(b, colsOff, rowsOff));
      } else {
        this.productsToQ.push(forward(b, colsOff, rowsOff));
        this.productsToP.push(backward(b, rowsOff, colsOff));
      }
    });
  }

  /** u ← B_QP·t (t on side P, u on side Q). */
  private toQ(t: Float64Array, u: Float64Array): void {
    u.fill(0);
    for (const product of this.productsToQ) product(t, u);
  }

  /** y ← B_PQ·u (u on side Q, y on side P). */
  private toP(u: Float64Array, y: Float64Array): void {
    y.fill(0);
    for (const product of this.productsToP) product(u, y);
  }

  apply(x: Float64Array, y: Float64Array): void {
    const { t, u, invSqrtP, invQ } = this;
    for (let i = 0; i < this.n; i++) t[i] = x[i] * invSqrtP[i];
    this.toQ(t, u);
    for (let i = 0; i < this.nQ; i++) u[i] *= invQ[i];
    this.toP(u, y);
    for (let i = 0; i < this.n; i++) y[i] *= invSqrtP[i];
  }

  /** C·w = D_Q^-1/2·B_QP·D_P^-1/2·w. */
  applyC(w: Float64Array): Float64Array {
    const t = new Float64Array(this.n);
    for (let i = 0; i < this.n; i++) t[i] = w[i] * this.invSqrtP[i];
    const u = new Float64Array(this.nQ);
    this.toQ(t, u);
    for (let i = 0; i < this.nQ; i++) u[i] *= this.invSqrtQ[i];
    return u;
  }

  /** Scatter a side-P vector and a side-Q vector into one compact-order vector. */
  assemble(p: Float64Array, q: Float64Array, scale: number): Float64Array {
    const out = new Float64Array(this.graph.nodeCount);
    const L = this.graph.layerSizes.length;
    for (let l = 0; l < L; l++) {
      const src = l % 2 === this.parity ? p : q;
      const so = this.sideOffset[l];
      const off = this.graph.layerOffsets[l];
      for (let i = 0; i < this.graph.layerSizes[l]; i++) out[off + i] = src[so + i] * scale;
    }
    return out;
  }
}

function sideSizes(graph: LayeredGraph): [number, number] {
  let even = 0;
  let odd = 0;
  graph.layerSizes.forEach((s, l) => (l % 2 === 0 ? (even += s) : (odd += s)));
  return [even, odd];
}

/** Top-k eigenpairs of S by Lanczos on the folded operator; undefined when the fold cannot give them. */
function foldedEigenpairs(graph: LayeredGraph, k: number, seed: number, tol: number) {
  const [even, odd] = sideSizes(graph);
  const parity: 0 | 1 = odd <= even ? 1 : 0;
  const op = new FoldedOperator(graph, parity);
  // The fold gives min(even, odd) values σ ≥ 0; the rest of S's top spectrum would be zeros.
  if (k > op.n - 1) return undefined;
  const result = largestEigenpairs(op, k - 1, { seed, tol, deflate: [op.trivial] });
  const values = [1, ...Array.from(result.values, (s2) => Math.sqrt(Math.max(0, s2)))];
  const ws = [op.trivial, ...result.vectors];
  // Singular values this small leave u = C·w/σ ill-defined: let the dense solver handle them.
  if (values[k - 1] < 1e-6) return undefined;
  const vectors = ws.map((w, t) => {
    const u = op.applyC(w);
    const s = values[t];
    for (let i = 0; i < u.length; i++) u[i] /= s;
    return op.assemble(w, u, Math.SQRT1_2);
  });
  return { values: Float64Array.from(values), vectors, applications: result.applications };
}

function denseEigenpairs(graph: LayeredGraph, k: number) {
  const n = graph.nodeCount;
  const s = toDenseAdjacency(graph);
  const inv = Float64Array.from(graph.degree, (d) => 1 / Math.sqrt(d));
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) s[i * n + j] *= inv[i] * inv[j];
  const { values, vectors } = symmetricEigen(s, n);
  const pick = Array.from({ length: k }, (_, t) => n - 1 - t);
  return {
    values: Float64Array.from(pick.map((j) => values[j])),
    vectors: pick.map((j) => Float64Array.from({ length: n }, (_, i) => vectors[i * n + j])),
    applications: 0,
  };
}

/** The k-dimensional spectral embedding of a graph (sklearn `spectral_embedding`, drop_first=False). */
export function spectralEmbedding(graph: LayeredGraph, k: number, seed: number, options: EmbeddingOptions = {}): SpectralEmbedding {
  const n = graph.nodeCount;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`spectralEmbedding: k must be a positive integer, got ${k}`);
  if (k > n) throw new RangeError(`spectralEmbedding: k = ${k} exceeds the ${n} live nodes`);
  const solver = options.solver ?? 'auto';
  let pairs: { values: Float64Array; vectors: Float64Array[]; applications: number } | undefined;
  let used: 'lanczos' | 'dense' = 'dense';
  if (solver === 'lanczos' || (solver === 'auto' && n > DENSE_MAX_NODES)) {
    pairs = foldedEigenpairs(graph, k, seed, options.tol ?? 1e-9);
    if (pairs) used = 'lanczos';
    else if (solver === 'lanczos') throw new RangeError(`spectralEmbedding: the Lanczos solver cannot give k = ${k} eigenvectors of this graph; use the dense solver`);
  }
  pairs ??= denseEigenpairs(graph, k);

  const embedding = new Float64Array(n * k);
  const dd = Float64Array.from(graph.degree, Math.sqrt);
  pairs.vectors.forEach((v, c) => {
    // Divide by sqrt(degree), then flip so that the largest-|·| entry (first on ties) is positive.
    let best = 0;
    let bestAbs = -1;
    for (let i = 0; i < n; i++) {
      const x = v[i] / dd[i];
      if (Math.abs(x) > bestAbs) {
        bestAbs = Math.abs(x);
        best = x;
      }
    }
    const sign = best < 0 ? -1 : 1;
    for (let i = 0; i < n; i++) embedding[i * k + c] = (sign * v[i]) / dd[i];
  });
  return { embedding, k, eigenvalues: pairs.values, eigenvectors: pairs.vectors, solver: used, applications: pairs.applications };
}
