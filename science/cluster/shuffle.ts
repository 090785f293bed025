/**
 * The two shuffle nulls of the paper (§3.1 and §4; original `shuffle_weights` and
 * `shuffle_weights_nonzero`), applied to every weight matrix independently:
 * - `layer`: a uniformly random permutation of all entries of the matrix, zeros included
 *   (keeps the multiset of values, randomises the topology);
 * - `layer_nonzero`: a uniformly random permutation of the non-zero values among the non-zero
 *   positions (keeps the sparsity pattern exactly).
 *
 * `layer` is drawn as "a uniformly random ordered sample of nnz distinct positions receives the
 * non-zero values in order" (a partial Fisher–Yates over positions), which has exactly the
 * distribution of a full permutation but costs O(nnz) random draws instead of O(size).
 */
import type { WeightMatrix } from '../graph/index.ts';
import type { Rng } from '../random.ts';

export const SHUFFLE_METHODS = ['layer', 'layer_nonzero'] as const;
export type ShuffleMethod = (typeof SHUFFLE_METHODS)[number];

export function isShuffleMethod(x: unknown): x is ShuffleMethod {
  return (SHUFFLE_METHODS as readonly unknown[]).includes(x);
}

function nonzeroPositions(kernel: ArrayLike<number>): Int32Array {
  let nnz = 0;
  for (let i = 0; i < kernel.length; i++) if (kernel[i] !== 0) nnz++;
  const pos = new Int32Array(nnz);
  for (let i = 0, p = 0; i < kernel.length; i++) if (kernel[i] !== 0) pos[p++] = i;
  return pos;
}

/** Shuffle one kernel (a new Float32Array; the input is not modified). */
export function shuffleKernel(kernel: Float32Array | Float64Array, method: ShuffleMethod, rng: Rng): Float32Array {
  const size = kernel.length;
  const out = new Float32Array(size);
  const nzPos = nonzeroPositions(kernel);
  const nnz = nzPos.length;
  if (method === 'layer') {
    // Partial Fisher–Yates over all positions: slots[0..nnz) become a uniform ordered sample.
    const slots = new Int32Array(size);
    for (let i = 0; i < size; i++) slots[i] = i;
    for (let i = 0; i < nnz; i++) {
      const j = i + rng.int(size - i);
      const t = slots[i];
      slots[i] = slots[j];
      slots[j] = t;
      out[slots[i]] = kernel[nzPos[i]];
    }
  } else {
    const values = new Float32Array(nnz);
    for (let i = 0; i < nnz; i++) values[i] = kernel[nzPos[i]];
    rng.shuffle(values);
    for (let i = 0; i < nnz; i++) out[nzPos[i]] = values[i];
  }
  return out;
}

/** Shuffle every layer of a network with one generator (layers in order). */
export function shuffleLayers(layers: readonly WeightMatrix[], method: ShuffleMethod, rng: Rng): WeightMatrix[] {
  if (!isShuffleMethod(method)) throw new RangeError(`unknown shuffle method '${method}'; expected one of ${SHUFFLE_METHODS.join(', ')}`);
  return layers.map((l) => ({ fanIn: l.fanIn, fanOut: l.fanOut, kernel: shuffleKernel(l.kernel, method, rng) }));
}
