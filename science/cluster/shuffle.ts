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
import type { WeightMatrix } from '../graph/index.ts';
import type { Rng } from '../random.ts';

export const SHUFFLE_METHODS = ['layer', 'layer_nonzero'] as const;
export type ShuffleMethod = (typeof SHUFFLE_METHODS)[number];

export function isShuffleMethod(x: unknown): x is ShuffleMethod {
  return (SHUFFLE_METHODS as readonly unknown[]).includes(x);
}

const TWO32 = 4294967296;

/**
 * A uniform integer in [0, n), n < 2^21, by Lemire's multiply-and-reject ("Fast random integer
 * generation in an interval", 2019): exact, and without the division of `Rng.int` per draw.
 */
function below(rng: Rng, n: number): number {
  let x = rng.nextUint32();
  let low = Math.imul(x, n) >>> 0; // low 32 bits of x·n
  if (low < n) {
    const threshold = (TWO32 - n) % n;
    while (low < threshold) {
      x = rng.nextUint32();
      low = Math.imul(x, n) >>> 0;
    }
  }
  return ((x * n) / TWO32) | 0; // x·n < 2^53 is exact; the quotient is < 2^21
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
  if (size >= 2 ** 21) throw new RangeError(`shuffleKernel: ${size} entries exceed the supported 2^21`);
  const nzPos = nonzeroPositions(kernel);
  const nnz = nzPos.length;
  // Without zeros both methods are one uniform permutation of all entries.
  if ((method === 'layer' || nnz === size) && size > 0) {
    if (2 * nnz >= size) {
      const out = Float32Array.from(kernel);
      // Mostly non-zero: a plain Fisher–Yates over all entries.
      for (let i = size - 1; i > 0; i--) {
        const j = below(rng, i + 1);
        const t = out[i];
        out[i] = out[j];
        out[j] = t;
      }
      return out;
    }
    // Mostly zero: partial Fisher–Yates over positions; slots[0..nnz) become a uniform ordered sample.
    const out = new Float32Array(size);
    const slots = identitySlots(size);
    const swappedWith = new Int32Array(nnz);
    for (let i = 0; i < nnz; i++) {
      const j = i + below(rng, size - i);
      swappedWith[i] = j;
      const chosen = slots[j];
      slots[j] = slots[i];
      slots[i] = chosen;
      out[chosen] = kernel[nzPos[i]];
    }
    // Undo the swaps (in reverse) so the shared scratch is the identity again: O(nnz), not O(size).
    for (let i = nnz - 1; i >= 0; i--) {
      const j = swappedWith[i];
      const t = slots[j];
      slots[j] = slots[i];
      slots[i] = t;
    }
    return out;
  }
  const out = new Float32Array(size);
  const values = new Float32Array(nnz);
  for (let i = 0; i < nnz; i++) values[i] = kernel[nzPos[i]];
  for (let i = nnz - 1; i > 0; i--) {
    const j = below(rng, i + 1);
    const t = values[i];
    values[i] = values[j];
    values[j] = t;
  }
  for (let i = 0; i < nnz; i++) out[nzPos[i]] = values[i];
  return out;
}

/** Shuffle every layer of a network with one generator (layers in order). */
export function shuffleLayers(layers: readonly WeightMatrix[], method: ShuffleMethod, rng: Rng): WeightMatrix[] {
  if (!isShuffleMethod(method)) throw new RangeError(`unknown shuffle method '${method}'; expected one of ${SHUFFLE_METHODS.join(', ')}`);
  return layers.map((l) => ({ fanIn: l.fanIn, fanOut: l.fanOut, kernel: shuffleKernel(l.kernel, method, rng) }));
}
