/**
 * Weights → graph (Filan et al. §2; original `weights_to_graph` and
 * `delete_isolated_ccs_refactored`, see shared/reference/original-implementation.md §1).
 *
 * Nodes are numbered layer by layer ("node order"): the fan_in inputs of the first dense layer,
 * then the neurons of every dense layer in forward order (784, 256, 256, 256, 256, 10 for the
 * paper's MLP, 1818 nodes). Dense layer l connects node layer l to node layer l + 1 with an
 * undirected edge of weight |w| for every non-zero kernel entry; biases are ignored. The graph is
 * therefore bipartite (even vs odd node layers), which the eigensolver exploits.
 *
 * Nodes without any non-zero incident edge (degree 0) are removed; only those, exactly as the
 * original (larger disconnected components stay). The remaining "live" nodes keep node order and
 * are numbered 0..nodeCount-1 ("compact order").
 *
 * Storage: one block per dense layer, the |w| values between the live nodes of node layers l and
 * l + 1, either CSR (rows = live nodes of layer l) or, when at least 40 % of the entries are
 * non-zero, a dense row-major array (4 bytes an entry beats 8 bytes a CSR entry and has no
 * index indirection). Values are Float32 (the weights file's precision, so |w| is exact);
 * degrees and all arithmetic on them are Float64.
 */

/** A dense layer's kernel: fanIn × fanOut, row-major (Keras orientation). `DenseLayer` satisfies it. */
export interface WeightMatrix {
  fanIn: number;
  fanOut: number;
  kernel: Float32Array | Float64Array;
}

/**
 * A kernel in CSR form (what a shuffle of a mostly-zero kernel produces, so that no dense copy is
 * built): row i of the fanIn rows holds its non-zero values[indptr[i]..indptr[i+1]) at columns
 * indices[…], strictly increasing within the row. Equivalent to the dense kernel with zeros elsewhere.
 */
export interface SparseWeightMatrix {
  fanIn: number;
  fanOut: number;
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

/** A kernel, dense or sparse; `buildGraph` gives the same graph for either form. */
export type AnyWeightMatrix = WeightMatrix | SparseWeightMatrix;

function isSparse(layer: AnyWeightMatrix): layer is SparseWeightMatrix {
  return 'indptr' in layer;
}

/** |w| between live nodes of node layer l (rows) and l + 1 (cols). */
export type GraphBlock =
  | { kind: 'dense'; rows: number; cols: number; nnz: number; values: Float32Array }
  | { kind: 'csr'; rows: number; cols: number; nnz: number; indptr: Int32Array; indices: Int32Array; values: Float32Array };

export interface LayeredGraph {
  /** Nodes per node layer before removal (layer 0 = inputs). */
  fullLayerSizes: number[];
  /** Live nodes per node layer. */
  layerSizes: number[];
  /** Compact index of each node layer's first live node; layerOffsets[L + 1] = nodeCount. */
  layerOffsets: number[];
  /** Live nodes. */
  nodeCount: number;
  /** All nodes, live or not. */
  fullNodeCount: number;
  /** Node-order index of each live node (compact → node order), increasing. */
  liveNodes: Int32Array;
  /** Per node layer: index within the layer of each live node of that layer. */
  liveInLayer: Int32Array[];
  /** One block per dense layer: edges between node layers l and l + 1. */
  blocks: GraphBlock[];
  /** Weighted degree Σ|w| of each live node, compact order. */
  degree: Float64Array;
  /** Number of undirected edges (non-zero weights). */
  edgeCount: number;
}

/** Input that cannot form a graph (bad shapes, non-finite weights). */
export class GraphInputError extends Error {
  override name = 'GraphInputError';
}

/** Blocks with at least this fraction of non-zero entries are stored dense. */
const DENSE_FRACTION = 0.4;

function checkShapes(layers: readonly AnyWeightMatrix[]): void {
  if (layers.length === 0) throw new GraphInputError('the network has no dense layers');
  layers.forEach((l, i) => {
    if (isSparse(l)) {
      if (l.indptr.length !== l.fanIn + 1 || l.indptr[l.fanIn] !== l.values.length || l.indices.length !== l.values.length)
        throw new GraphInputError(`layer ${i}: sparse kernel arrays do not match fan_in ${l.fanIn} (indptr ${l.indptr.length}, values ${l.values.length})`);
    } else if (l.kernel.length !== l.fanIn * l.fanOut)
      throw new GraphInputError(`layer ${i}: kernel has ${l.kernel.length} values, expected fan_in × fan_out = ${l.fanIn} × ${l.fanOut}`);
    if (i > 0 && layers[i - 1].fanOut !== l.fanIn)
      throw new GraphInputError(`layer ${i}: fan_in ${l.fanIn} does not match layer ${i - 1} fan_out ${layers[i - 1].fanOut}`);
  });
}

/**
 * Build the graph of a network's kernels and remove degree-0 nodes. Kernels may be dense or
 * sparse (CSR); both forms visit the non-zero entries in the same row-major order, so the degrees
 * (sums of Float64 terms in that order) and the graph are bit-identical.
 */
export function buildGraph(layers: readonly AnyWeightMatrix[]): LayeredGraph {
  checkShapes(layers);
  const fullLayerSizes = [layers[0].fanIn, ...layers.map((l) => l.fanOut)];
  const { fullDegree, nnzPerLayer, edgeCount } = fullDegrees(layers, fullLayerSizes);
  const liveInLayer = fullDegree.map(liveIndices);
  const { layerSizes, layerOffsets, nodeCount, fullNodeCount, liveNodes, degree } = compactNodes(fullLayerSizes, fullDegree, liveInLayer);
  const blocks = layers.map((layer, l): GraphBlock => {
    const rowIdx = liveInLayer[l];
    const colIdx = liveInLayer[l + 1];
    return isSparse(layer) ? sparseBlock(layer, rowIdx, colIdx, nnzPerLayer[l]) : denseKernelBlock(layer, rowIdx, colIdx, nnzPerLayer[l]);
  });
  return { fullLayerSizes, layerSizes, layerOffsets, nodeCount, fullNodeCount, liveNodes, liveInLayer, blocks, degree, edgeCount };
}

/**
 * Weighted degrees Σ|w| of every node (live or not) per node layer, Float64, and the non-zero
 * count per layer: the original's `weights_to_graph` degrees, which decide which nodes are live.
 * Each row's terms are summed into rowSum first, then added to the node's degree (that order is
 * part of the bits).
 */
function fullDegrees(layers: readonly AnyWeightMatrix[], fullLayerSizes: readonly number[]) {
  const fullDegree = fullLayerSizes.map((n) => new Float64Array(n));
  let edgeCount = 0;
  const nnzPerLayer: number[] = [];
  layers.forEach((layer, l) => {
    const nnz = isSparse(layer) ? addSparseDegrees(layer, l, fullDegree[l], fullDegree[l + 1]) : addDenseDegrees(layer, l, fullDegree[l], fullDegree[l + 1]);
    nnzPerLayer.push(nnz);
    edgeCount += nnz;
  });
  return { fullDegree, nnzPerLayer, edgeCount };
}

/** A sparse kernel's |w| added to the degrees of its rows (dOut) and columns (dIn); returns its nnz. Rejects stored zeros and non-finite values. */
function addSparseDegrees(layer: SparseWeightMatrix, l: number, dOut: Float64Array, dIn: Float64Array): number {
  const { fanIn, indptr, indices, values } = layer;
  for (let i = 0; i < fanIn; i++) {
    let rowSum = 0;
    for (let p = indptr[i]; p < indptr[i + 1]; p++) {
      const w = values[p];
      const a = Math.abs(w);
      if (!(a < Infinity) || w === 0)
        throw new GraphInputError(`layer ${l}: sparse kernel entry [${i}, ${indices[p]}] is ${w}; stored weights must be finite and non-zero`);
      rowSum += a;
      dIn[indices[p]] += a;
    }
    dOut[i] += rowSum;
  }
  return values.length;
}

/** The dense-kernel twin of addSparseDegrees: the same terms in the same row-major order, zeros skipped. */
function addDenseDegrees(layer: WeightMatrix, l: number, dOut: Float64Array, dIn: Float64Array): number {
  const { fanIn, fanOut, kernel } = layer;
  let nnz = 0;
  for (let i = 0; i < fanIn; i++) {
    const base = i * fanOut;
    let rowSum = 0;
    for (let j = 0; j < fanOut; j++) {
      const w = kernel[base + j];
      if (w !== 0) {
        const a = Math.abs(w);
        if (!(a < Infinity)) throw new GraphInputError(`layer ${l}: kernel[${i}, ${j}] is ${w}; weights must be finite numbers`);
        rowSum += a;
        dIn[j] += a;
        nnz++;
      }
    }
    dOut[i] += rowSum;
  }
  return nnz;
}

/** The live nodes of one node layer (any non-zero incident edge), ascending: the original's `delete_isolated_ccs_refactored` keeps exactly these. */
function liveIndices(deg: Float64Array): Int32Array {
  let count = 0;
  for (let i = 0; i < deg.length; i++) if (deg[i] > 0) count++;
  const idx = new Int32Array(count);
  for (let i = 0, c = 0; i < deg.length; i++) if (deg[i] > 0) idx[c++] = i;
  return idx;
}

/** Compact numbering of the live nodes: per-layer sizes and offsets, each live node's node-order index and its degree. */
function compactNodes(fullLayerSizes: readonly number[], fullDegree: readonly Float64Array[], liveInLayer: readonly Int32Array[]) {
  const layerSizes = liveInLayer.map((x) => x.length);
  const layerOffsets = [0];
  for (const s of layerSizes) layerOffsets.push(layerOffsets[layerOffsets.length - 1] + s);
  const nodeCount = layerOffsets[layerOffsets.length - 1];
  const liveNodes = new Int32Array(nodeCount);
  const degree = new Float64Array(nodeCount);
  let fullOffset = 0;
  for (let l = 0; l < liveInLayer.length; l++) {
    const idx = liveInLayer[l];
    for (let c = 0; c < idx.length; c++) {
      liveNodes[layerOffsets[l] + c] = fullOffset + idx[c];
      degree[layerOffsets[l] + c] = fullDegree[l][idx[c]];
    }
    fullOffset += fullLayerSizes[l];
  }
  return { layerSizes, layerOffsets, nodeCount, fullNodeCount: fullOffset, liveNodes, degree };
}

/**
 * The block of a dense kernel between the live rows and columns: dense when at least
 * DENSE_FRACTION of it is non-zero, else CSR (zeros dropped, row-major order).
 */
function denseKernelBlock(layer: WeightMatrix, rowIdx: Int32Array, colIdx: Int32Array, nnz: number): GraphBlock {
  const { fanOut, kernel } = layer;
  const rows = rowIdx.length;
  const cols = colIdx.length;
  if (nnz >= DENSE_FRACTION * rows * cols) {
    const values = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      const src = rowIdx[r] * fanOut;
      const dst = r * cols;
      for (let c = 0; c < cols; c++) values[dst + c] = Math.abs(kernel[src + colIdx[c]]);
    }
    return { kind: 'dense', rows, cols, nnz, values };
  }
  const indptr = new Int32Array(rows + 1);
  const indices = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  let p = 0;
  for (let r = 0; r < rows; r++) {
    const src = rowIdx[r] * fanOut;
    for (let c = 0; c < cols; c++) {
      const w = kernel[src + colIdx[c]];
      if (w !== 0) {
        indices[p] = c;
        values[p] = Math.abs(w);
        p++;
      }
    }
    indptr[r + 1] = p;
  }
  return { kind: 'csr', rows, cols, nnz, indptr, indices, values };
}

/**
 * The block of a sparse kernel between the live rows and columns: the same block (same kind, same
 * entries in the same order) as the dense path builds from the equivalent dense kernel.
 */
function sparseBlock(layer: SparseWeightMatrix, rowIdx: Int32Array, colIdx: Int32Array, nnz: number): GraphBlock {
  const { fanOut, indptr, indices, values: w } = layer;
  const rows = rowIdx.length;
  const cols = colIdx.length;
  // Every column with an entry is live, so the map is defined wherever it is read.
  const compactCol = new Int32Array(fanOut);
  for (let c = 0; c < cols; c++) compactCol[colIdx[c]] = c;
  if (nnz >= DENSE_FRACTION * rows * cols) {
    const values = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      const src = rowIdx[r];
      const dst = r * cols;
      for (let p = indptr[src]; p < indptr[src + 1]; p++) values[dst + compactCol[indices[p]]] = Math.abs(w[p]);
    }
    return { kind: 'dense', rows, cols, nnz, values };
  }
  const outIndptr = new Int32Array(rows + 1);
  const outIndices = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  let q = 0;
  for (let r = 0; r < rows; r++) {
    const src = rowIdx[r];
    for (let p = indptr[src]; p < indptr[src + 1]; p++, q++) {
      outIndices[q] = compactCol[indices[p]];
      values[q] = Math.abs(w[p]);
    }
    outIndptr[r + 1] = q;
  }
  return { kind: 'csr', rows, cols, nnz, indptr: outIndptr, indices: outIndices, values };
}

/**
 * The network restricted to the graph's live nodes: each kernel keeps the rows of live nodes of
 * its input layer and the columns of live nodes of its output layer, signed values unchanged.
 * This is the "already-reduced" network the shuffles permute (original: `shuffle_smaller_model`).
 */
export function reduceNetwork(layers: readonly WeightMatrix[], graph: LayeredGraph = buildGraph(layers)): WeightMatrix[] {
  return layers.map((layer, l) => {
    const rowIdx = graph.liveInLayer[l];
    const colIdx = graph.liveInLayer[l + 1];
    const kernel = new Float32Array(rowIdx.length * colIdx.length);
    for (let r = 0; r < rowIdx.length; r++) {
      const src = rowIdx[r] * layer.fanOut;
      const dst = r * colIdx.length;
      for (let c = 0; c < colIdx.length; c++) kernel[dst + c] = layer.kernel[src + colIdx[c]];
    }
    return { fanIn: rowIdx.length, fanOut: colIdx.length, kernel };
  });
}

/** Visit every edge once: callback(i, j, |w|) with compact node indices, i in the lower layer. */
export function forEachEdge(graph: LayeredGraph, visit: (i: number, j: number, w: number) => void): void {
  graph.blocks.forEach((b, l) => {
    const ro = graph.layerOffsets[l];
    const co = graph.layerOffsets[l + 1];
    if (b.kind === 'dense') {
      for (let r = 0; r < b.rows; r++)
        for (let c = 0; c < b.cols; c++) {
          const w = b.values[r * b.cols + c];
          if (w !== 0) visit(ro + r, co + c, w);
        }
    } else {
      for (let r = 0; r < b.rows; r++) for (let p = b.indptr[r]; p < b.indptr[r + 1]; p++) visit(ro + r, co + b.indices[p], b.values[p]);
    }
  });
}

/** A symmetric sparse matrix in CSR form (n × n). */
export interface CsrMatrix {
  n: number;
  indptr: Int32Array;
  indices: Int32Array;
  values: Float64Array;
}

/** The full symmetric adjacency matrix A (compact order) as CSR; for generic graph code and tests. */
export function toAdjacency(graph: LayeredGraph): CsrMatrix {
  const n = graph.nodeCount;
  const counts = new Int32Array(n + 1);
  forEachEdge(graph, (i, j) => {
    counts[i + 1]++;
    counts[j + 1]++;
  });
  for (let i = 0; i < n; i++) counts[i + 1] += counts[i];
  const indptr = counts.slice();
  const fill = counts.slice(0, n);
  const indices = new Int32Array(indptr[n]);
  const values = new Float64Array(indptr[n]);
  // Sort each row's columns so the CSR is canonical.
  forEachEdge(graph, (i, j, w) => {
    indices[fill[i]] = j;
    values[fill[i]++] = w;
    indices[fill[j]] = i;
    values[fill[j]++] = w;
  });
  for (let r = 0; r < n; r++) {
    const a = indptr[r];
    const b = indptr[r + 1];
    const order = Array.from({ length: b - a }, (_, t) => a + t).sort((x, y) => indices[x] - indices[y]);
    const idx = order.map((t) => indices[t]);
    const val = order.map((t) => values[t]);
    indices.set(idx, a);
    values.set(val, a);
  }
  return { n, indptr, indices, values };
}

/** The dense symmetric adjacency matrix (n × n row-major, compact order). Small graphs only. */
export function toDenseAdjacency(graph: LayeredGraph): Float64Array {
  const n = graph.nodeCount;
  const a = new Float64Array(n * n);
  forEachEdge(graph, (i, j, w) => {
    a[i * n + j] = w;
    a[j * n + i] = w;
  });
  return a;
}

/** Node layer (0 = inputs) of every node in node order, for labelling outputs. */
export function nodeLayerOf(fullLayerSizes: readonly number[]): Int32Array {
  const total = fullLayerSizes.reduce((a, b) => a + b, 0);
  const out = new Int32Array(total);
  let p = 0;
  fullLayerSizes.forEach((s, l) => {
    out.fill(l, p, p + s);
    p += s;
  });
  return out;
}
