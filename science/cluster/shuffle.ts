/**
 * The two shuffle nulls of the paper (§3.1 and §4; original `shuffle_weights` and
 * `shuffle_weights_nonzero`), applied to every weight matrix independently:
 * - `layer`: a uniformly random permutation of all entries of the matrix, zeros included
 *   (keeps the multiset of values, randomises the topology);
 * - `layer_nonzero`: a uniformly random permutation of the non-zero values among the non-zero
 *   positions (keeps the sparsity pattern exactly).
 *
 * For a mostly-zero matrix `layer` is drawn as "a uniformly random ordered sample of nnz distinct
 * positions receives the non-zero values in order" (a partial Fisher–Yates over positions), which
 * has exactly the distribution of a full permutation but costs O(nnz) random draws, not O(size).
 */
import type { AnyWeightMatrix, SparseWeightMatrix, WeightMatrix } from '../graph/index.ts';
import type { Rng } from '../random.ts';

export const SHUFFLE_METHODS = ['layer', 'layer_nonzero'] as const;
export type ShuffleMethod = (typeof SHUFFLE_METHODS)[number];

export function isShuffleMethod(x: unknown): x is ShuffleMethod {
  return (SHUFFLE_METHODS as readonly unknown[]).includes(x);
}

/**
 * An identity permutation 0..size-1 kept between calls (callers restore it after use), so the
 * sparse path costs O(nnz) per shuffle rather than O(size) to build the positions.
 */
let slotScratch = new Int32Array(0);
function identitySlots(size: number): Int32Array {
  if (slotScratch.length < size) {
    slotScratch = new Int32Array(size);
    for (let i = 0; i < size; i++) slotScratch[i] = i;
  }
  return slotScratch;
}

/** Positions of the non-zero entries, ascending: one scan into a reused buffer, then a copy. */
let positionScratch = new Int32Array(0);
/**
 * Positions of the non-zero entries of kernels registered by `rememberNonzeroPositions` (the
 * prepared networks that every shuffle sample of an instance starts from: scanning a 784 × 256
 * kernel again for each of hundreds of samples was ≈ 0.4 ms a sample).
 */
const knownPositions = new WeakMap<Float32Array | Float64Array, Int32Array>();

function nonzeroPositions(kernel: Float32Array | Float64Array): Int32Array {
  const known = knownPositions.get(kernel);
  if (known) return known;
  if (positionScratch.length < kernel.length) positionScratch = new Int32Array(kernel.length);
  const scratch = positionScratch;
  let nnz = 0;
  for (let i = 0; i < kernel.length; i++) if (kernel[i] !== 0) scratch[nnz++] = i;
  return scratch.slice(0, nnz);
}

/** Remember the non-zero positions of `kernel`, which its owner promises never to modify. */
export function rememberNonzeroPositions(kernel: Float32Array | Float64Array): void {
  knownPositions.set(kernel, nonzeroPositions(kernel));
}

let drawScratch = new Int32Array(0);
/** Fisher–Yates draws below first, first − 1, …, first − count + 1 (a view of shared scratch). */
function drawsBelow(rng: Rng, first: number, count: number): Int32Array {
  if (drawScratch.length < count) drawScratch = new Int32Array(count);
  const draws = drawScratch.subarray(0, Math.max(0, count));
  rng.belowSequence(draws, first, -1);
  return draws;
}

/**
 * Shuffle one kernel (the input is not modified) into the cheaper form for the result: a dense
 * kernel when it is mostly non-zero, else CSR (no dense copy of a mostly-zero matrix is built or
 * scanned). `shuffleKernel` is this result made dense: same draws, same values at the same places.
 */
export function shuffleKernelCompact(layer: WeightMatrix, method: ShuffleMethod, rng: Rng): AnyWeightMatrix {
  const { fanIn, fanOut, kernel } = layer;
  const size = kernel.length;
  if (size !== fanIn * fanOut) throw new RangeError(`shuffleKernel: ${size} entries, expected ${fanIn} × ${fanOut}`);
  if (size >= 2 ** 21) throw new RangeError(`shuffleKernel: ${size} entries exceed the supported 2^21`);
  const nzPos = nonzeroPositions(kernel);
  const nnz = nzPos.length;
  // Without zeros both methods are one uniform permutation of all entries.
  if ((method === 'layer' || nnz === size) && size > 0) {
    if (2 * nnz >= size) {
      const out = Float32Array.from(kernel);
      // Mostly non-zero: a plain Fisher–Yates over all entries.
      const draws = drawsBelow(rng, size, size - 1);
      for (let i = size - 1; i > 0; i--) {
        const j = draws[size - 1 - i];
        const t = out[i];
        out[i] = out[j];
        out[j] = t;
      }
      return { fanIn, fanOut, kernel: out };
    }
    // Mostly zero: partial Fisher–Yates over positions; slots[0..nnz) become a uniform ordered sample.
    const chosenPos = new Int32Array(nnz);
    const chosenVal = new Float32Array(nnz);
    const slots = identitySlots(size);
    const swappedWith = new Int32Array(nnz);
    const draws = drawsBelow(rng, size, nnz);
    for (let i = 0; i < nnz; i++) {
      const j = i + draws[i];
      swappedWith[i] = j;
      const chosen = slots[j];
      slots[j] = slots[i];
      slots[i] = chosen;
      chosenPos[i] = chosen;
      chosenVal[i] = kernel[nzPos[i]];
    }
    // Undo the swaps (in reverse) so the shared scratch is the identity again: O(nnz), not O(size).
    for (let i = nnz - 1; i >= 0; i--) {
      const j = swappedWith[i];
      const t = slots[j];
      slots[j] = slots[i];
      slots[i] = t;
    }
    return csrFromPositions(fanIn, fanOut, chosenPos, chosenVal);
  }
  const values = new Float32Array(nnz);
  for (let i = 0; i < nnz; i++) values[i] = kernel[nzPos[i]];
  const draws = drawsBelow(rng, nnz, nnz - 1);
  for (let i = nnz - 1; i > 0; i--) {
    const j = draws[nnz - 1 - i];
    const t = values[i];
    values[i] = values[j];
    values[j] = t;
  }
  // The pattern is kept: nzPos is row-major, so values[i] sits at nzPos[i] in CSR order.
  const indptr = new Int32Array(fanIn + 1);
  const indices = new Int32Array(nnz);
  for (let i = 0; i < nnz; i++) {
    const p = nzPos[i];
    const r = (p / fanOut) | 0;
    indptr[r + 1]++;
    indices[i] = p - r * fanOut;
  }
  for (let r = 0; r < fanIn; r++) indptr[r + 1] += indptr[r];
  return { fanIn, fanOut, indptr, indices, values };
}

/**
 * CSR of distinct flat positions (row-major) with their values, in any order: two stable counting
 * passes, by column then by row, sort the entries into row-major order in O(nnz + fanIn + fanOut).
 */
function csrFromPositions(fanIn: number, fanOut: number, pos: Int32Array, val: Float32Array): SparseWeightMatrix {
  const nnz = pos.length;
  const colStart = new Int32Array(fanOut + 1);
  const row = new Int32Array(nnz);
  const col = new Int32Array(nnz);
  for (let i = 0; i < nnz; i++) {
    const r = (pos[i] / fanOut) | 0;
    row[i] = r;
    col[i] = pos[i] - r * fanOut;
    colStart[col[i] + 1]++;
  }
  for (let c = 0; c < fanOut; c++) colStart[c + 1] += colStart[c];
  const byCol = new Int32Array(nnz);
  for (let i = 0; i < nnz; i++) byCol[colStart[col[i]]++] = i;
  const indptr = new Int32Array(fanIn + 1);
  for (let i = 0; i < nnz; i++) indptr[row[i] + 1]++;
  for (let r = 0; r < fanIn; r++) indptr[r + 1] += indptr[r];
  const fill = indptr.slice(0, fanIn);
  const indices = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  for (let t = 0; t < nnz; t++) {
    const i = byCol[t];
    const q = fill[row[i]]++;
    indices[q] = col[i];
    values[q] = val[i];
  }
  return { fanIn, fanOut, indptr, indices, values };
}

/** Shuffle one kernel (a new dense Float32Array; the input is not modified). */
export function shuffleKernel(kernel: Float32Array | Float64Array, method: ShuffleMethod, rng: Rng): Float32Array {
  return denseKernel(shuffleKernelCompact({ fanIn: 1, fanOut: kernel.length, kernel }, method, rng));
}

function denseKernel(layer: AnyWeightMatrix): Float32Array {
  if (!('indptr' in layer)) return layer.kernel as Float32Array; // a fresh Float32Array from the shuffle
  const { fanIn, fanOut, indptr, indices, values } = layer;
  const out = new Float32Array(fanIn * fanOut);
  for (let r = 0; r < fanIn; r++) for (let p = indptr[r]; p < indptr[r + 1]; p++) out[r * fanOut + indices[p]] = values[p];
  return out;
}

/**
 * Shuffle every layer of a network with one generator (layers in order), each layer in the
 * compact form of `shuffleKernelCompact`; `buildGraph` takes the result as it is. The draws, and
 * so the graph, are those of `shuffleLayers`.
 */
export function shuffleLayersCompact(layers: readonly WeightMatrix[], method: ShuffleMethod, rng: Rng): AnyWeightMatrix[] {
  if (!isShuffleMethod(method)) throw new RangeError(`unknown shuffle method '${method}'; expected one of ${SHUFFLE_METHODS.join(', ')}`);
  return layers.map((l) => shuffleKernelCompact(l, method, rng));
}

/** Shuffle every layer of a network with one generator (layers in order). */
export function shuffleLayers(layers: readonly WeightMatrix[], method: ShuffleMethod, rng: Rng): WeightMatrix[] {
  if (!isShuffleMethod(method)) throw new RangeError(`unknown shuffle method '${method}'; expected one of ${SHUFFLE_METHODS.join(', ')}`);
  return layers.map((l) => ({ fanIn: l.fanIn, fanOut: l.fanOut, kernel: denseKernel(shuffleKernelCompact(l, method, rng)) }));
}
