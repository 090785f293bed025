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
import { wasmDenseProducts } from './dense-wasm.ts';
import type { LayeredGraph } from '../graph/index.ts';
import { toDenseAdjacency } from '../graph/index.ts';
import { symmetricEigen } from './dense.ts';
import { largestEigenpairs, type SymmetricOperator } from './lanczos.ts';
import { csrGather, denseMul, denseMulT } from './kernels.ts';
import { wasmCsrGather, wasmCsrGatherAvailable, type WasmGather } from './sparse-wasm.ts';
import { WasmArena } from '../kernels/runtime.ts';

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

/** y[rows part] += W·x[cols part] for one dense block, as a closure over a monomorphic kernel. */
function forward(values: Float32Array, rows: number, cols: number, xOff: number, yOff: number): Product {
  return (x, y) => denseMul(values, rows, cols, x, xOff, y, yOff);
}

/** y[cols part] += Wᵀ·x[rows part] for one dense block. */
function backward(values: Float32Array, rows: number, cols: number, xOff: number, yOff: number): Product {
  return (x, y) => denseMulT(values, rows, cols, x, xOff, y, yOff);
}

/** Entries per row of the merged CSR matrices from one block: rowCount for the block's rows, colCount for its columns (both prefix-shifted by one). */
function countEntries(indptr: Int32Array, indices: Int32Array, rows: number, ro: number, co: number, rowCount: Int32Array, colCount: Int32Array): void {
  for (let r = 0; r < rows; r++) rowCount[ro + r + 1] += indptr[r + 1] - indptr[r];
  const nnz = indptr[rows];
  for (let p = 0; p < nnz; p++) colCount[co + indices[p] + 1]++;
}

/**
 * Scatter one block's entries, scaled by 1/sqrt(d_i·d_j), into the merged CSR matrix whose rows are
 * the block's rows (rFill/rIndices/rValues) and the one whose rows are its columns (cFill/…).
 */
function scatterEntries(
  indptr: Int32Array,
  indices: Int32Array,
  values: Float32Array,
  rows: number,
  ro: number,
  co: number,
  rowScale: Float64Array,
  colScale: Float64Array,
  rFill: Int32Array,
  rIndices: Int32Array,
  rValues: Float64Array,
  cFill: Int32Array,
  cIndices: Int32Array,
  cValues: Float64Array,
): void {
  for (let r = 0; r < rows; r++) {
    const i = ro + r;
    const si = rowScale[i];
    let a = rFill[i];
    const end = indptr[r + 1];
    for (let p = indptr[r]; p < end; p++) {
      const j = co + indices[p];
      const w = values[p] * si * colScale[j];
      rIndices[a] = j;
      rValues[a++] = w;
      const c = cFill[j]++;
      cIndices[c] = i;
      cValues[c] = w;
    }
    rFill[i] = a;
  }
}

/** Where each node layer's live nodes sit in its side's vector: side P holds the node layers of the operator's parity, side Q the others. */
interface SideLayout {
  /** Offset of node layer l within its side's vector. */
  sideOffset: number[];
  nP: number;
  nQ: number;
}

/** The two sides of the bipartite graph (even vs odd node layers), each layer's nodes contiguous in layer order. */
function sideLayout(graph: LayeredGraph, parity: 0 | 1): SideLayout {
  const L = graph.layerSizes.length;
  const sideOffset: number[] = new Array(L).fill(0);
  let nP = 0;
  let nQ = 0;
  for (let l = 0; l < L; l++) {
    if (l % 2 === parity) {
      sideOffset[l] = nP;
      nP += graph.layerSizes[l];
    } else {
      sideOffset[l] = nQ;
      nQ += graph.layerSizes[l];
    }
  }
  return { sideOffset, nP, nQ };
}

/** The degree scalings of both sides. */
interface SideScalings {
  /** D_P^-1/2 and D_Q^-1/2. */
  invSqrtP: Float64Array;
  invSqrtQ: Float64Array;
  /** sqrt(degree) on side P, unit norm: the trivial eigenvector of M (σ = 1). */
  trivial: Float64Array;
}

/**
 * D^-1/2 per side (S = D^-1/2·A·D^-1/2, sklearn `spectral_embedding` with norm_laplacian) and the
 * trivial eigenvector sqrt(d_P)/sqrt(vol P), which Lanczos deflates since it is known exactly.
 */
function sideScalings(graph: LayeredGraph, parity: 0 | 1, layout: SideLayout): SideScalings {
  const invSqrtP = new Float64Array(layout.nP);
  const invSqrtQ = new Float64Array(layout.nQ);
  const trivial = new Float64Array(layout.nP);
  let volP = 0;
  for (let l = 0; l < graph.layerSizes.length; l++) {
    const off = graph.layerOffsets[l];
    for (let i = 0; i < graph.layerSizes[l]; i++) {
      const d = graph.degree[off + i];
      const s = layout.sideOffset[l] + i;
      if (l % 2 === parity) {
        invSqrtP[s] = 1 / Math.sqrt(d);
        trivial[s] = Math.sqrt(d);
        volP += d;
      } else {
        invSqrtQ[s] = 1 / Math.sqrt(d);
      }
    }
  }
  const norm = Math.sqrt(volP);
  for (let i = 0; i < layout.nP; i++) trivial[i] /= norm;
  return { invSqrtP, invSqrtQ, trivial };
}

/** The row starts (CSR indptr) of the merged sparse parts of C (rows on side Q) and Cᵀ (rows on side P). */
function mergedRowStarts(graph: LayeredGraph, parity: 0 | 1, layout: SideLayout): { countQ: Int32Array; countP: Int32Array } {
  const { sideOffset, nP, nQ } = layout;
  const countQ = new Int32Array(nQ + 1);
  const countP = new Int32Array(nP + 1);
  graph.blocks.forEach((b, l) => {
    if (b.kind !== 'csr') return;
    const ro = sideOffset[l];
    const co = sideOffset[l + 1];
    // The rows' side counts whole CSR rows, the columns' side one per entry.
    if (l % 2 === parity) countEntries(b.indptr, b.indices, b.rows, ro, co, countP, countQ);
    else countEntries(b.indptr, b.indices, b.rows, ro, co, countQ, countP);
  });
  for (let i = 0; i < nQ; i++) countQ[i + 1] += countQ[i];
  for (let i = 0; i < nP; i++) countP[i + 1] += countP[i];
  return { countQ, countP };
}

/** The merged CSR matrices of the sparse blocks: C (nQ × nP) and Cᵀ (nP × nQ), values scaled by 1/sqrt(d_i·d_j). */
interface MergedCsr {
  cIndptr: Int32Array;
  cIndices: Int32Array;
  cValues: Float64Array;
  ctIndptr: Int32Array;
  ctIndices: Int32Array;
  ctValues: Float64Array;
}

/**
 * The merged CSR arrays (row starts filled in, entries still to scatter) and the vectors the
 * products run on: in WebAssembly memory when the gather runs there (sparse-wasm.ts: the same
 * gather, faster), else in ordinary typed arrays.
 */
function operatorMemory(layout: SideLayout, rowStarts: { countQ: Int32Array; countP: Int32Array }) {
  const { nP, nQ } = layout;
  const nnz = rowStarts.countQ[nQ];
  const bytes = WasmArena.bytesFor;
  const arena =
    nnz > 0 && wasmCsrGatherAvailable()
      ? new WasmArena(bytes(nQ + 1, 4) + bytes(nP + 1, 4) + 2 * bytes(nnz, 4) + 2 * bytes(nnz, 8) + 2 * bytes(nP, 8) + bytes(nQ, 8))
      : null;
  const wasmGather = arena ? wasmCsrGather(arena) : null;
  const int32 = (length: number) => (arena ? arena.int32(length) : new Int32Array(length));
  const float64 = (length: number) => (arena ? arena.float64(length) : new Float64Array(length));
  const cIndptr = int32(nQ + 1);
  cIndptr.set(rowStarts.countQ);
  const ctIndptr = int32(nP + 1);
  ctIndptr.set(rowStarts.countP);
  const csr: MergedCsr = { cIndptr, ctIndptr, cIndices: int32(nnz), cValues: float64(nnz), ctIndices: int32(nnz), ctValues: float64(nnz) };
  return { wasmGather, csr, x: float64(nP), y: float64(nP), u: float64(nQ) };
}

/**
 * Every block into the operator: a dense block becomes its two unscaled products (in WebAssembly
 * SIMD when available, bit-identical to kernels.ts), a sparse block's entries are scattered,
 * scaled, into the merged CSR matrices.
 */
function mergeBlocks(graph: LayeredGraph, parity: 0 | 1, layout: SideLayout, scalings: SideScalings, csr: MergedCsr): { toQ: Product[]; toP: Product[] } {
  const { invSqrtP, invSqrtQ } = scalings;
  const { cIndices, cValues, ctIndices, ctValues } = csr;
  const cFill = csr.cIndptr.slice(0, layout.nQ);
  const ctFill = csr.ctIndptr.slice(0, layout.nP);
  const toQ: Product[] = [];
  const toP: Product[] = [];
  const denseBlocks = graph.blocks.filter((b) => b.kind === 'dense');
  const wasm = denseBlocks.length > 0 ? wasmDenseProducts(denseBlocks) : null;
  let denseIndex = 0;
  graph.blocks.forEach((b, l) => {
    const rowsOnP = l % 2 === parity;
    const ro = layout.sideOffset[l];
    const co = layout.sideOffset[l + 1];
    if (b.kind === 'dense') {
      const i = denseIndex++;
      const fwd = (xOff: number, yOff: number) => (wasm ? wasm.forward(i, xOff, yOff) : forward(b.values, b.rows, b.cols, xOff, yOff));
      const bwd = (xOff: number, yOff: number) => (wasm ? wasm.backward(i, xOff, yOff) : backward(b.values, b.rows, b.cols, xOff, yOff));
      if (rowsOnP) {
        toQ.push(bwd(ro, co));
        toP.push(fwd(co, ro));
      } else {
        toQ.push(fwd(co, ro));
        toP.push(bwd(ro, co));
      }
      return;
    }
    if (rowsOnP) scatterEntries(b.indptr, b.indices, b.values, b.rows, ro, co, invSqrtP, invSqrtQ, ctFill, ctIndices, ctValues, cFill, cIndices, cValues);
    else scatterEntries(b.indptr, b.indices, b.values, b.rows, ro, co, invSqrtQ, invSqrtP, cFill, cIndices, cValues, ctFill, ctIndices, ctValues);
  });
  return { toQ, toP };
}

/**
 * The folded operator M = CᵀC on side P (the node layers of one parity), C = D_Q^-1/2·B_QP·D_P^-1/2,
 * and the map w ↦ C·w to the other side Q.
 *
 * Layout: all CSR blocks are merged into one CSR matrix per direction (C restricted to the sparse
 * blocks, rows on side Q, and its transpose, rows on side P) with Float64 values already scaled by
 * 1/sqrt(d_i·d_j), so a product is one gather loop with no per-block calls, no Float32 → Float64
 * conversions and no diagonal scalings. Dense blocks (≥ 40 % non-zero) stay Float32 row-major and
 * unscaled (a scaled Float64 copy would double their memory traffic); their contribution is
 * scaled by the degree vectors around the products.
 */
export class FoldedOperator implements SymmetricOperator {
  readonly n: number;
  readonly nQ: number;
  /** Offset of node layer l within its side's vector. */
  private readonly sideOffset: number[];
  private readonly invSqrtP: Float64Array;
  private readonly invSqrtQ: Float64Array;
  private readonly t: Float64Array;
  private readonly v: Float64Array;
  /** Input and output of `apply` (side P) and the intermediate C·x (side Q), in WebAssembly memory with the CSR arrays when the gather runs there. */
  private readonly x: Float64Array;
  private readonly y: Float64Array;
  private readonly u: Float64Array;
  /** The CSR gather in WebAssembly (sparse-wasm.ts) when the arrays live in its memory. */
  private readonly wasmGather: WasmGather | null;
  /** Dense blocks' products B_QP (side P → side Q) and B_PQ (side Q → side P), unscaled. */
  private readonly denseToQ: Product[];
  private readonly denseToP: Product[];
  /** The sparse blocks' part of C (nQ × n, CSR) and of Cᵀ (n × nQ, CSR), scaled. */
  private readonly cIndptr: Int32Array;
  private readonly cIndices: Int32Array;
  private readonly cValues: Float64Array;
  private readonly ctIndptr: Int32Array;
  private readonly ctIndices: Int32Array;
  private readonly ctValues: Float64Array;
  /** sqrt(degree) on side P, unit norm: the trivial eigenvector of M (σ = 1). */
  readonly trivial: Float64Array;

  constructor(
    private readonly graph: LayeredGraph,
    readonly parity: 0 | 1,
  ) {
    const layout = sideLayout(graph, parity);
    this.sideOffset = layout.sideOffset;
    this.n = layout.nP;
    this.nQ = layout.nQ;
    const scalings = sideScalings(graph, parity, layout);
    this.invSqrtP = scalings.invSqrtP;
    this.invSqrtQ = scalings.invSqrtQ;
    this.trivial = scalings.trivial;
    this.t = new Float64Array(layout.nP);
    this.v = new Float64Array(layout.nQ);
    const memory = operatorMemory(layout, mergedRowStarts(graph, parity, layout));
    this.wasmGather = memory.wasmGather;
    this.x = memory.x;
    this.y = memory.y;
    this.u = memory.u;
    const { csr } = memory;
    const dense = mergeBlocks(graph, parity, layout, scalings, csr);
    this.denseToQ = dense.toQ;
    this.denseToP = dense.toP;
    this.cIndptr = csr.cIndptr;
    this.cIndices = csr.cIndices;
    this.cValues = csr.cValues;
    this.ctIndptr = csr.ctIndptr;
    this.ctIndices = csr.ctIndices;
    this.ctValues = csr.ctValues;
  }

  /** y (+)= the CSR part of a product; x and y are this operator's own vectors. */
  private gather(indptr: Int32Array, indices: Int32Array, values: Float64Array, rows: number, x: Float64Array, y: Float64Array, accumulate: boolean): void {
    if (this.wasmGather) this.wasmGather(indptr, indices, values, rows, x, y, accumulate);
    else csrGather(indptr, indices, values, rows, x, y, accumulate);
  }

  /** this.u ← C·this.x (side P to side Q). */
  private toQ(): void {
    const { x, u } = this;
    if (this.denseToQ.length > 0) {
      const { t, invSqrtP, invSqrtQ } = this;
      for (let i = 0; i < this.n; i++) t[i] = x[i] * invSqrtP[i];
      u.fill(0);
      for (const product of this.denseToQ) product(t, u);
      for (let i = 0; i < this.nQ; i++) u[i] *= invSqrtQ[i];
      this.gather(this.cIndptr, this.cIndices, this.cValues, this.nQ, x, u, true);
    } else this.gather(this.cIndptr, this.cIndices, this.cValues, this.nQ, x, u, false);
  }

  apply(x: Float64Array, y: Float64Array): void {
    this.x.set(x);
    this.toQ();
    // y ← Cᵀ·u.
    const { u, y: out } = this;
    if (this.denseToP.length > 0) {
      const { v, invSqrtP, invSqrtQ } = this;
      for (let i = 0; i < this.nQ; i++) v[i] = u[i] * invSqrtQ[i];
      out.fill(0);
      for (const product of this.denseToP) product(v, out);
      for (let i = 0; i < this.n; i++) out[i] *= invSqrtP[i];
      this.gather(this.ctIndptr, this.ctIndices, this.ctValues, this.n, u, out, true);
    } else this.gather(this.ctIndptr, this.ctIndices, this.ctValues, this.n, u, out, false);
    y.set(out);
  }

  /** C·w = D_Q^-1/2·B_QP·D_P^-1/2·w. */
  applyC(w: Float64Array): Float64Array {
    this.x.set(w);
    this.toQ();
    return this.u.slice();
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
    else if (solver === 'lanczos')
      throw new RangeError(`spectralEmbedding: the Lanczos solver cannot give k = ${k} eigenvectors of this graph; use the dense solver`);
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
