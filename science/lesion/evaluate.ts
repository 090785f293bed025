/**
 * Fast accuracy of many lesioned versions of one MLP on a test set.
 *
 * Why it is fast (the original re-ran a Keras forward pass of the whole network for every
 * lesion: ≈ 390 s per double-lesion trial):
 * - Sparse weights: pruned kernels (≈ 10 % density) are stored by column and each output
 *   gathers its few incoming edges, for 8 images at a time held in SIMD registers — in a
 *   small WebAssembly module (kernel-wasm.ts), with a JavaScript fallback giving the same bits.
 *   The WebAssembly backend keeps every level in chunks of 8 rows, neuron-major, and twice
 *   (pre-activations and ReLU), so a pass reads its input in place: no transpose per pass.
 * - Reuse below the lesion: lesioning neurons G of level a leaves levels < a unchanged and
 *   zeroes exactly G's activations at level a, so the pre-activations of level a+1 are the
 *   parent's minus G's contributions (Σ_{n∈G} relu(z_a[n])·W_a[n,:]) — a rank-|G| update —
 *   and only the levels above a+1 are recomputed.
 * - Shared prefixes: the plans are arranged in a trie of lesion groups sorted by level. A
 *   plan "X at level a, then Y at level b > a" starts from the state of "X" (shared with every
 *   other plan that lesions X first), so the cost of a pair is that of lesioning at its
 *   deeper level. Equal groups are recognised by content.
 * - Blocks: the test images are processed in blocks of 64 rows; for each block the intact
 *   activations are computed once and the whole trie is walked, so every buffer stays in cache.
 * Arithmetic is float64 (weights are float32 values); see lesion.ts:predictClasses for the
 * plain reference these results are tested against.
 */
import type { DenseLayer } from '../weights.ts';
import { validatePlan, type LesionPlan } from './lesion.ts';
import { CHUNK_ROWS, createWasmKernel } from './kernel-wasm.ts';

/**
 * One dense layer's non-zero weights twice: as compressed sparse rows (row = input neuron,
 * entries = outgoing edges; used to remove a lesioned neuron's contributions) and as
 * compressed sparse columns (column = output neuron, entries = incoming edges; used for the
 * forward pass, which gathers into registers and so beats scattering in JavaScript).
 */
interface SparseLayer {
  fanIn: number;
  fanOut: number;
  rowStart: Int32Array;
  col: Int32Array;
  val: Float64Array;
  colStart: Int32Array;
  /** Row index of each column entry, times GATHER_ROWS (the stride of the transposed block). */
  rowTimesStride: Int32Array;
  colVal: Float64Array;
  bias: Float64Array;
}

/** Images processed together by the forward kernel (8 independent sums kept in registers). */
const GATHER_ROWS = 8;

/** A network prepared for fast lesion evaluation. */
export interface PreparedNetwork {
  /** Widths of levels 0..L (input, hidden…, logits). */
  readonly widths: readonly number[];
  readonly layers: readonly SparseLayer[];
}

export function prepareNetwork(layers: readonly DenseLayer[]): PreparedNetwork {
  const sparse = layers.map((l): SparseLayer => {
    const { fanIn, fanOut, kernel } = l;
    let nnz = 0;
    for (let i = 0; i < kernel.length; i++) if (kernel[i] !== 0) nnz++;
    const rowStart = new Int32Array(fanIn + 1);
    const col = new Int32Array(nnz);
    const val = new Float64Array(nnz);
    const colStart = new Int32Array(fanOut + 1);
    const rowTimesStride = new Int32Array(nnz);
    const colVal = new Float64Array(nnz);
    let e = 0;
    for (let i = 0; i < fanIn; i++) {
      for (let j = 0; j < fanOut; j++) {
        const w = kernel[i * fanOut + j];
        if (w !== 0) {
          col[e] = j;
          val[e] = w;
          e++;
          colStart[j + 1]++;
        }
      }
      rowStart[i + 1] = e;
    }
    for (let j = 0; j < fanOut; j++) colStart[j + 1] += colStart[j];
    const fill = colStart.slice(0, fanOut);
    // Rows ascending within each column: the same summation order as a row-by-row pass.
    for (let i = 0; i < fanIn; i++)
      for (let e2 = rowStart[i]; e2 < rowStart[i + 1]; e2++) {
        const at = fill[col[e2]]++;
        rowTimesStride[at] = i * GATHER_ROWS;
        colVal[at] = val[e2];
      }
    return { fanIn, fanOut, rowStart, col, val, colStart, rowTimesStride, colVal, bias: Float64Array.from(l.bias) };
  });
  return { widths: [layers[0].fanIn, ...layers.map((l) => l.fanOut)], layers: sparse };
}

/** The test split: n × widths[0] values in [0, 255] (scaled by 1/255 here) and labels. */
export interface TestSet {
  images: Uint8Array | Float32Array;
  labels: Uint8Array;
}

export interface LesionAccuracies {
  /** Accuracy of each plan, in plan order. */
  accuracy: Float64Array;
  /** plans × classes: accuracy within each true class (NaN for a class absent from the test set). */
  classAccuracy: Float64Array;
  nClasses: number;
  /**
   * Work done per block of images, showing the reuse: `deltaPasses` rank-|G| updates of the
   * level above a lesion, `layerPasses` full passes of a dense layer (the intact network's
   * included), `nodes` distinct lesion states (plans sharing a prefix share its state).
   */
  work: { nodes: number; deltaPasses: number; layerPasses: number };
}

export interface EvaluateOptions {
  /** Images per block (default 64). Does not change any result. */
  blockSize?: number;
  signal?: AbortSignal;
  /** Called after each block with the fraction of images done. */
  onProgress?: (fraction: number) => void;
  /**
   * Forward kernel of the wide layers: 'wasm' (WebAssembly SIMD, kernel-wasm.ts; the default
   * where available) or 'js'. Both give the same bits.
   */
  kernel?: 'wasm' | 'js';
}

interface TrieNode {
  level: number;
  neurons: Int32Array;
  children: TrieNode[];
  childByKey: Map<string, TrieNode>;
  /** Plans that end at this node. */
  terminals: number[];
  /** Highest level this node must compute (its own output or what its children read). */
  needTo: number;
}

/** Merge a plan's groups per level (sorted, unique neurons) and sort them by level. */
function canonicalGroups(plan: LesionPlan): { level: number; neurons: Int32Array }[] {
  const byLevel = new Map<number, Set<number>>();
  for (const g of plan) {
    let s = byLevel.get(g.level);
    if (!s) byLevel.set(g.level, (s = new Set()));
    for (let i = 0; i < g.neurons.length; i++) s.add(g.neurons[i]);
  }
  return [...byLevel.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([level, s]) => ({ level, neurons: Int32Array.from([...s].sort((a, b) => a - b)) }))
    .filter((g) => g.neurons.length > 0);
}

function buildTrie(plans: readonly LesionPlan[], depth: number): TrieNode {
  const root: TrieNode = { level: 0, neurons: new Int32Array(0), children: [], childByKey: new Map(), terminals: [], needTo: depth };
  plans.forEach((plan, p) => {
    let node = root;
    for (const g of canonicalGroups(plan)) {
      const key = `${g.level}|${g.neurons.join(',')}`;
      let child = node.childByKey.get(key);
      if (!child) {
        child = { level: g.level, neurons: g.neurons, children: [], childByKey: new Map(), terminals: [], needTo: 0 };
        node.childByKey.set(key, child);
        node.children.push(child);
      }
      node = child;
    }
    node.terminals.push(p);
  });
  const setNeed = (node: TrieNode): void => {
    let need = node.terminals.length > 0 ? depth : node.level;
    for (const c of node.children) {
      setNeed(c);
      need = Math.max(need, c.level + 1);
    }
    node.needTo = node === root ? depth : need;
  };
  setNeed(root);
  return root;
}

/**
 * out[r, :] = bias + Σ_k relu(inp[r, k]) · W[k, :] for r < rows. Eight rows at a time: their
 * ReLU'd inputs are transposed into `scratch` (k-major) so each weight is loaded once for eight
 * sums held in registers. Inputs of level 0 are pixels ≥ 0, so the ReLU leaves them unchanged.
 */
function denseRelu(inp: Float64Array, out: Float64Array, layer: SparseLayer, rows: number, scratch: Float64Array): void {
  const { fanIn, fanOut, colStart, rowTimesStride: ri, colVal: w, bias } = layer;
  const h = scratch;
  for (let r = 0; r < rows; r += GATHER_ROWS) {
    const m = Math.min(GATHER_ROWS, rows - r);
    for (let t = 0; t < GATHER_ROWS; t++) {
      const base = (r + t) * fanIn;
      if (t < m)
        for (let k = 0; k < fanIn; k++) {
          const v = inp[base + k];
          h[k * GATHER_ROWS + t] = v > 0 ? v : 0;
        }
      else for (let k = 0; k < fanIn; k++) h[k * GATHER_ROWS + t] = 0;
    }
    const ob = r * fanOut;
    for (let j = 0; j < fanOut; j++) {
      const b = bias[j];
      let s0 = b,
        s1 = b,
        s2 = b,
        s3 = b,
        s4 = b,
        s5 = b,
        s6 = b,
        s7 = b;
      const end = colStart[j + 1];
      for (let e = colStart[j]; e < end; e++) {
        const i = ri[e];
        const x = w[e];
        s0 += h[i] * x;
        s1 += h[i + 1] * x;
        s2 += h[i + 2] * x;
        s3 += h[i + 3] * x;
        s4 += h[i + 4] * x;
        s5 += h[i + 5] * x;
        s6 += h[i + 6] * x;
        s7 += h[i + 7] * x;
      }
      out[ob + j] = s0;
      if (m > 1) out[ob + fanOut + j] = s1;
      if (m > 2) out[ob + 2 * fanOut + j] = s2;
      if (m > 3) out[ob + 3 * fanOut + j] = s3;
      if (m > 4) out[ob + 4 * fanOut + j] = s4;
      if (m > 5) out[ob + 5 * fanOut + j] = s5;
      if (m > 6) out[ob + 6 * fanOut + j] = s6;
      if (m > 7) out[ob + 7 * fanOut + j] = s7;
    }
  }
}

/**
 * The same as denseRelu, one row at a time, scattering each active input into its outgoing
 * edges: faster where most inputs are 0 (pixels). Same summation order (inputs ascending).
 */
function denseReluScatter(inp: Float64Array, out: Float64Array, layer: SparseLayer, rows: number): void {
  const { fanIn, fanOut, rowStart, col, val, bias } = layer;
  for (let r = 0; r < rows; r++) {
    const ib = r * fanIn;
    const ob = r * fanOut;
    for (let j = 0; j < fanOut; j++) out[ob + j] = bias[j];
    for (let k = 0; k < fanIn; k++) {
      const v = inp[ib + k];
      if (v <= 0) continue;
      const end = rowStart[k + 1];
      for (let e = rowStart[k]; e < end; e++) out[ob + col[e]] += v * val[e];
    }
  }
}

/**
 * Narrow layers (the logits: few edges per row), row by row, gathering each output's incoming
 * edges with the ReLU applied on the fly; same summation order as the other kernels.
 */
function denseReluRows(inp: Float64Array, out: Float64Array, layer: SparseLayer, rows: number): void {
  const { fanIn, fanOut, colStart, rowTimesStride, colVal: w, bias } = layer;
  for (let r = 0; r < rows; r++) {
    const ib = r * fanIn;
    const ob = r * fanOut;
    for (let j = 0; j < fanOut; j++) {
      let s = bias[j];
      const end = colStart[j + 1];
      for (let e = colStart[j]; e < end; e++) {
        const v = inp[ib + rowTimesStride[e] / GATHER_ROWS];
        if (v > 0) s += v * w[e];
      }
      out[ob + j] = s;
    }
  }
}

/**
 * Which kernel a layer uses: pixels (mostly 0) scatter; the other layers gather, 8 rows at a
 * time (WebAssembly: every layer; JavaScript: wide ones) or row by row (JavaScript, narrow ones).
 */
const kernelOf = (level: number, layer: SparseLayer): 'scatter' | 'gather8' | 'rows' => (level === 0 ? 'scatter' : layer.fanOut >= 64 ? 'gather8' : 'rows');

/** out = parent − contributions of the lesioned neurons G of the previous level (rank-|G| update). */
function removeContributions(parentIn: Float64Array, parentOut: Float64Array, out: Float64Array, layer: SparseLayer, neurons: Int32Array, rows: number): void {
  const { fanIn, fanOut, rowStart, col, val } = layer;
  out.set(parentOut.subarray(0, rows * fanOut));
  const g = neurons.length;
  for (let r = 0; r < rows; r++) {
    const ib = r * fanIn;
    const ob = r * fanOut;
    for (let t = 0; t < g; t++) {
      const n = neurons[t];
      const v = parentIn[ib + n];
      if (v <= 0) continue;
      const end = rowStart[n + 1];
      for (let e = rowStart[n]; e < end; e++) out[ob + col[e]] -= v * val[e];
    }
  }
}

/** Bytes of one float64. */
const F64 = 8;

/**
 * How one backend walks the trie for a block of images: the levels of a lesion state are views
 * into preallocated buffers (per trie depth, so a node's state lives until its subtree is done).
 */
interface Walker<S> {
  /** The intact network's levels for the current block (rows ≤ block size). */
  intact(rows: number): S;
  /** The state of `node`: its parent's levels below node.level + 1, then recomputed up to node.needTo. */
  lesion(node: TrieNode, parent: S, d: number, rows: number): S;
  /** The logits of a state, where logit j of row r sits at index(r) + j · step. */
  logits(state: S): { values: Float64Array; index: (r: number) => number; step: number };
}

/**
 * The JavaScript backend: row-major levels (row r, neuron k at r · width + k) holding
 * pre-activations; each pass applies the ReLU to its input.
 */
function jsWalker(prepared: PreparedNetwork, input: Float64Array, B: number): Walker<Float64Array[]> {
  const { widths, layers } = prepared;
  const depth = layers.length;
  const scratch = new Float64Array(Math.max(...widths) * GATHER_ROWS);
  const buffers = Array.from({ length: depth }, () => widths.map((w, l) => new Float64Array(l === 0 ? 0 : B * w)));
  const forward = (level: number, inp: Float64Array, out: Float64Array, rows: number): void => {
    const layer = layers[level];
    const kind = kernelOf(level, layer);
    if (kind === 'scatter') denseReluScatter(inp, out, layer, rows);
    else if (kind === 'rows') denseReluRows(inp, out, layer, rows);
    else denseRelu(inp, out, layer, rows, scratch);
  };
  const nClasses = widths[depth];
  return {
    intact(rows) {
      const state: Float64Array[] = [input];
      for (let l = 1; l <= depth; l++) forward(l - 1, state[l - 1], (state[l] = buffers[0][l]), rows);
      return state;
    },
    lesion(node, parent, d, rows) {
      const state = parent.slice();
      const own = buffers[d];
      const a = node.level;
      if (node.needTo > a) {
        removeContributions(parent[a], parent[a + 1], own[a + 1], layers[a], node.neurons, rows);
        state[a + 1] = own[a + 1];
        for (let l = a + 2; l <= node.needTo; l++) forward(l - 1, state[l - 1], (state[l] = own[l]), rows);
      }
      return state;
    },
    logits: (state) => ({ values: state[depth], index: (r) => r * nClasses, step: 1 }),
  };
}

/** A level of the WebAssembly backend: pre-activations and their ReLU, both chunked (see below). */
interface ChunkedLevel {
  pre: Float64Array;
  relu: Float64Array;
}

/** The WebAssembly memory of wasmWalker: weights, every trie node's lesioned edges, the levels per trie depth. */
function wasmArena(prepared: PreparedNetwork, B: number, nodes: readonly TrieNode[]) {
  const { widths, layers } = prepared;
  const depth = layers.length;
  let bytes = 0;
  const reserve = (n: number): number => {
    const at = bytes;
    bytes += Math.ceil(n / 16) * 16;
    return at;
  };
  // The output columns of each layer that anything reads: all logits; of a hidden level, the
  // neurons with outgoing edges (the others feed nothing, so the kernels skip them).
  const readCols = layers.map((l, i) => {
    const next = layers[i + 1];
    const cols: number[] = [];
    for (let j = 0; j < l.fanOut; j++) if (!next || next.rowStart[j + 1] > next.rowStart[j]) cols.push(j);
    return { cols: Int32Array.from(cols), at: reserve(cols.length * 4) };
  });
  // Gathered layers: per column entry, the byte offset of its input neuron in a chunk.
  const layerAt = layers.map((l) => ({
    colStart: reserve((l.fanOut + 1) * 4),
    ri: reserve(l.val.length * 4),
    w: reserve(l.val.length * F64),
    bias: reserve(l.fanOut * F64),
  }));
  // Per trie node, its lesioned neurons' outgoing edges grouped by target column (neurons
  // ascending within a column, the order removeContributions subtracts them in).
  const deltaAt = nodes.map((node) => {
    const l = layers[node.level];
    let nnz = 0;
    for (const k of node.neurons) nnz += l.rowStart[k + 1] - l.rowStart[k];
    return { colStart: reserve((l.fanOut + 1) * 4), ri: reserve(nnz * 4), w: reserve(nnz * F64), nnz };
  });
  // Buffers for whole chunks: the last chunk of a block may compute a few rows never read.
  const rowsAlloc = Math.ceil(B / CHUNK_ROWS) * CHUNK_ROWS;
  const levelAt = Array.from({ length: depth }, () =>
    widths.map((w, l) => (l === 0 ? null : { pre: reserve(rowsAlloc * w * F64), relu: reserve(rowsAlloc * w * F64) })),
  );
  const wasm = createWasmKernel(bytes);
  if (!wasm) return null;
  const arena = wasm.memory.buffer;
  for (const { cols, at } of readCols) new Int32Array(arena, at, cols.length).set(cols);
  layers.forEach((l, i) => {
    const at = layerAt[i];
    new Int32Array(arena, at.colStart, l.fanOut + 1).set(l.colStart);
    new Int32Array(arena, at.ri, l.val.length).set(l.rowTimesStride.map((x) => (x / GATHER_ROWS) * CHUNK_ROWS * F64));
    new Float64Array(arena, at.w, l.val.length).set(l.colVal);
    new Float64Array(arena, at.bias, l.fanOut).set(l.bias);
  });
  const deltas = new Map<TrieNode, (typeof deltaAt)[number]>();
  nodes.forEach((node, k) => {
    const at = deltaAt[k];
    const { rowStart, col, val, fanOut } = layers[node.level];
    const colStart = new Int32Array(arena, at.colStart, fanOut + 1);
    for (const n of node.neurons) for (let e = rowStart[n]; e < rowStart[n + 1]; e++) colStart[col[e] + 1]++;
    for (let j = 0; j < fanOut; j++) colStart[j + 1] += colStart[j];
    const fill = colStart.slice(0, fanOut);
    const ri = new Int32Array(arena, at.ri, at.nnz);
    const w = new Float64Array(arena, at.w, at.nnz);
    for (const n of node.neurons)
      for (let e = rowStart[n]; e < rowStart[n + 1]; e++) {
        const to = fill[col[e]]++;
        ri[to] = n * CHUNK_ROWS * F64;
        w[to] = val[e];
      }
    deltas.set(node, at);
  });
  const empty = new Float64Array(0);
  const levels = levelAt.map((ats) =>
    ats.map(
      (at, l): ChunkedLevel =>
        at
          ? { pre: new Float64Array(arena, at.pre, rowsAlloc * widths[l]), relu: new Float64Array(arena, at.relu, rowsAlloc * widths[l]) }
          : { pre: empty, relu: empty },
    ),
  );
  return { wasm, readCols, layerAt, deltas, levels };
}

/**
 * The WebAssembly backend (kernel-wasm.ts gatherT / gatherSubT). Every level is stored in
 * chunks of CHUNK_ROWS rows, neuron-major within a chunk (row t, neuron k of chunk c at
 * c · width · 8 + k · 8 + t), twice: pre-activations (what a rank-|G| update starts from and
 * what is scored) and their ReLU (what the next layer reads). The kernels then load the eight
 * rows of an input neuron as whole vectors, with no transpose per pass, and store whole vectors.
 * Neurons without outgoing edges are not computed (nothing reads them; their entries stay
 * stale). The products and sums are those of the JavaScript backend, in the same order (same bits).
 */
function wasmWalker(prepared: PreparedNetwork, input: Float64Array, B: number, nodes: readonly TrieNode[]): Walker<ChunkedLevel[]> | null {
  const { widths, layers } = prepared;
  const depth = layers.length;
  const built = wasmArena(prepared, B, nodes);
  if (!built) return null;
  const { wasm, readCols, layerAt, deltas, levels } = built;
  const level1 = new Float64Array(B * widths[1]);
  const chunks = (rows: number) => Math.ceil(rows / CHUNK_ROWS);
  const forward = (level: number, inp: ChunkedLevel, out: ChunkedLevel, rows: number): void => {
    const at = layerAt[level];
    const { fanIn, fanOut } = layers[level];
    wasm.gatherT(
      inp.relu.byteOffset,
      at.colStart,
      at.ri,
      at.w,
      at.bias,
      out.pre.byteOffset,
      out.relu.byteOffset,
      fanOut,
      fanIn,
      chunks(rows),
      readCols[level].at,
      readCols[level].cols.length,
    );
  };
  const nClasses = widths[depth];
  return {
    intact(rows) {
      // Level 1 from the pixels (mostly 0: scattered row by row), then into the chunked layout.
      denseReluScatter(input, level1, layers[0], rows);
      const own = levels[0];
      const w1 = widths[1];
      const { pre, relu } = own[1];
      for (let r = 0; r < rows; r++) {
        const base = Math.floor(r / CHUNK_ROWS) * w1 * CHUNK_ROWS + (r % CHUNK_ROWS);
        for (let k = 0; k < w1; k++) {
          const v = level1[r * w1 + k];
          pre[base + k * CHUNK_ROWS] = v;
          relu[base + k * CHUNK_ROWS] = v > 0 ? v : 0;
        }
      }
      const state: ChunkedLevel[] = [own[0], own[1]];
      for (let l = 2; l <= depth; l++) forward(l - 1, state[l - 1], (state[l] = own[l]), rows);
      return state;
    },
    lesion(node, parent, d, rows) {
      const state = parent.slice();
      const own = levels[d];
      const a = node.level;
      if (node.needTo > a) {
        const at = deltas.get(node)!;
        const { fanIn, fanOut } = layers[a];
        // A lesioned level's pre-activations are read only by children lesioning it (never: a
        // child lesions a deeper level) and by the scoring of the logits.
        const update = a + 1 === depth ? wasm.gatherSubT : wasm.gatherSubReluT;
        update(
          parent[a].relu.byteOffset,
          at.colStart,
          at.ri,
          at.w,
          parent[a + 1].pre.byteOffset,
          own[a + 1].pre.byteOffset,
          own[a + 1].relu.byteOffset,
          fanOut,
          fanIn,
          chunks(rows),
          readCols[a].at,
          readCols[a].cols.length,
        );
        state[a + 1] = own[a + 1];
        for (let l = a + 2; l <= node.needTo; l++) forward(l - 1, state[l - 1], (state[l] = own[l]), rows);
      }
      return state;
    },
    logits: (state) => ({ values: state[depth].pre, index: (r) => Math.floor(r / CHUNK_ROWS) * nClasses * CHUNK_ROWS + (r % CHUNK_ROWS), step: CHUNK_ROWS }),
  };
}

/**
 * Accuracy (overall and per class) of every plan's lesioned network on the test set.
 * Equivalent to building `lesionWeights(layers, plan)` and running a forward pass for each
 * plan (lesion.ts:predictClasses) up to float64 rounding: the rank-|G| update leaves logits
 * within ~1e-16 (relative) of a fresh pass, which can only matter for exact ties between logits.
 */
export function evaluateLesions(
  net: PreparedNetwork | readonly DenseLayer[],
  test: TestSet,
  plans: readonly LesionPlan[],
  opts: EvaluateOptions = {},
): LesionAccuracies {
  const prepared = preparedWithPlans(net, plans);
  const { widths, layers } = prepared;
  const depth = layers.length; // level of the logits
  const nIn = widths[0];
  const nClasses = widths[depth];
  const n = test.labels.length;
  checkTestSet(test, nIn, nClasses);
  const B = Math.max(GATHER_ROWS, Math.ceil((opts.blockSize ?? 64) / GATHER_ROWS) * GATHER_ROWS);
  const root = buildTrie(plans, depth);
  const input = new Float64Array(B * nIn);
  const walker: Walker<unknown> =
    (opts.kernel === 'js' ? null : (wasmWalker(prepared, input, B, descendants(root)) as Walker<unknown> | null)) ??
    (jsWalker(prepared, input, B) as Walker<unknown>);
  const tally: Tally = { labels: test.labels, nClasses, correct: new Int32Array(plans.length * nClasses), classTotal: new Int32Array(nClasses) };
  const work = { nodes: 0, deltaPasses: 0, layerPasses: 0 };
  for (let rowStart = 0; rowStart < n; rowStart += B) {
    if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');
    const rows = Math.min(B, n - rowStart);
    for (let i = 0; i < rows * nIn; i++) input[i] = test.images[rowStart * nIn + i] / 255;
    for (let r = 0; r < rows; r++) tally.classTotal[tally.labels[rowStart + r]]++;
    // Every block does the same work: count it on the first only.
    walkBlock(walker, root, depth, { rowStart, rows }, tally, rowStart === 0 ? work : null);
    opts.onProgress?.(Math.min(1, (rowStart + rows) / n));
  }
  return { ...accuracies(tally, plans.length, n), nClasses, work };
}

/** The network prepared for evaluation; plans on a network not yet prepared are validated against its layers first. */
function preparedWithPlans(net: PreparedNetwork | readonly DenseLayer[], plans: readonly LesionPlan[]): PreparedNetwork {
  if ('widths' in net) return net;
  const layers = net as readonly DenseLayer[];
  const prepared = prepareNetwork(layers);
  plans.forEach((p, i) => validatePlan(layers, p, `lesion plan ${i}`));
  return prepared;
}

/** Reject a test set whose pixel count or labels do not fit the network. */
function checkTestSet(test: TestSet, nIn: number, nClasses: number): void {
  const n = test.labels.length;
  if (test.images.length !== n * nIn) throw new Error(`test set: ${test.images.length} pixel values for ${n} labels, expected ${n} × ${nIn}`);
  for (let i = 0; i < n; i++)
    if (test.labels[i] >= nClasses) throw new Error(`test set: label ${test.labels[i]} at row ${i} but the network has ${nClasses} outputs`);
}

/** Every node below the root, depth first in child order (the order wasmArena lays out their edges). */
function descendants(root: TrieNode): TrieNode[] {
  const nodes: TrieNode[] = [];
  const collect = (node: TrieNode): void => node.children.forEach((c) => (nodes.push(c), collect(c)));
  collect(root);
  return nodes;
}

/** The counts accuracies are made of: correct predictions per (plan, class) and test images per class. */
interface Tally {
  labels: Uint8Array;
  nClasses: number;
  /** plans × classes. */
  correct: Int32Array;
  classTotal: Int32Array;
}

/**
 * One block of images through the whole trie, depth first: each node's state from its parent's
 * (the rank-|G| update and the levels above it), scored for the plans that end there. Counts
 * the work into `work` when given.
 */
function walkBlock(
  walker: Walker<unknown>,
  root: TrieNode,
  depth: number,
  block: { rowStart: number; rows: number },
  tally: Tally,
  work: LesionAccuracies['work'] | null,
): void {
  const { rows } = block;
  const visit = (node: TrieNode, parent: unknown, d: number): void => {
    if (work) {
      work.nodes++;
      work.deltaPasses++;
      work.layerPasses += Math.max(0, node.needTo - node.level - 1);
    }
    const state = walker.lesion(node, parent, d, rows);
    if (node.terminals.length > 0) scoreBlock(walker.logits(state), block, node.terminals, tally);
    for (const c of node.children) visit(c, state, d + 1);
  };
  const state = walker.intact(rows);
  if (work) work.layerPasses += depth;
  if (root.terminals.length > 0) scoreBlock(walker.logits(state), block, root.terminals, tally);
  for (const c of root.children) visit(c, state, 1);
}

/** Count, for each plan in `terminals`, the block's rows whose predicted class (the first largest logit, as argmax) is the label. */
function scoreBlock(
  logits: ReturnType<Walker<unknown>['logits']>,
  block: { rowStart: number; rows: number },
  terminals: readonly number[],
  tally: Tally,
): void {
  const { values, index, step } = logits;
  const { labels, nClasses, correct } = tally;
  for (let r = 0; r < block.rows; r++) {
    const b = index(r);
    let best = 0;
    let bestV = values[b];
    for (let j = 1; j < nClasses; j++) {
      const v = values[b + j * step];
      if (v > bestV) {
        bestV = v;
        best = j;
      }
    }
    const y = labels[block.rowStart + r];
    if (best === y) for (const p of terminals) correct[p * nClasses + y]++;
  }
}

/** Each plan's accuracy and per-class accuracies from the tally (NaN where there is nothing to divide by). */
function accuracies(tally: Tally, planCount: number, n: number): { accuracy: Float64Array; classAccuracy: Float64Array } {
  const { nClasses, correct, classTotal } = tally;
  const accuracy = new Float64Array(planCount);
  const classAccuracy = new Float64Array(planCount * nClasses);
  for (let p = 0; p < planCount; p++) {
    let sum = 0;
    for (let c = 0; c < nClasses; c++) {
      sum += correct[p * nClasses + c];
      classAccuracy[p * nClasses + c] = classTotal[c] === 0 ? NaN : correct[p * nClasses + c] / classTotal[c];
    }
    accuracy[p] = n === 0 ? NaN : sum / n;
  }
  return { accuracy, classAccuracy };
}
