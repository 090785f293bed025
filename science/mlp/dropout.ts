/**
 * Dropout masks from our own seeded generator, so that a mask is a pure function of
 * (seed, step) and a resumed run redraws exactly the masks an uninterrupted one would
 * (tf.dropout's internal RNG cannot be replayed).
 *
 * Semantics of Keras `Dropout(rate)` / TF 1.14 `nn.dropout` (Srivastava et al. 2014, "inverted"
 * dropout): each activation is kept independently with probability 1 − rate and scaled by
 * 1/(1 − rate) during training; inference uses no mask.
 */
import { Rng, deriveSeed } from '../random.ts';

/** Stream tag that separates dropout masks from other draws of the same phase seed. */
const DROPOUT_STREAM = 0x64726f70; // "drop"

/**
 * The masks of one training step: one rows × width[i] array per hidden layer, entries 0 or
 * 1/(1 − rate). A uniform 31-bit draw u keeps its unit when u ≥ ⌊rate·2³¹⌋ (so P(keep) = 1 − rate,
 * exactly for rates that are multiples of 2⁻³¹ such as 0.5, else within 2⁻³¹).
 *
 * The draws come from a xoshiro128** generator (the algorithm of science/random.ts) whose 128-bit
 * state is the first four outputs of Rng(deriveSeed(seed, DROPOUT_STREAM, step)); it runs on local
 * variables because the masks need ~130k draws per step of the paper's MLP, and a method call per
 * draw cost ≈ 1.7 ms per step (this loop: ≈ 0.3 ms).
 */
export function dropoutMasks(seed: number, step: number, rows: number, widths: readonly number[], rate: number): Float32Array[] {
  if (!(rate >= 0 && rate < 1)) throw new RangeError(`dropout rate must be in [0, 1), got ${rate}`);
  const seeder = new Rng(deriveSeed(seed, DROPOUT_STREAM, step));
  let s0 = seeder.nextUint32() | 0;
  let s1 = seeder.nextUint32() | 0;
  let s2 = seeder.nextUint32() | 0;
  let s3 = seeder.nextUint32() | 0;
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1; // the all-zero state is a fixed point
  // Decisions use the top 31 bits u of each draw: keep when u ≥ ⌊rate·2³¹⌋. Then u − threshold
  // cannot overflow int32 and its sign bit is the decision, so the loop has no (unpredictable) branch.
  const threshold = Math.floor(rate * 2 ** 31);
  const scale = Math.fround(1 / (1 - rate));
  // Masks are written as float32 bit patterns through an Int32Array view: integer stores only.
  const scaleBits = new Int32Array(Float32Array.of(scale).buffer)[0];
  // A plain loop, not widths.map: a closure would move the generator state into a heap context.
  const masks: Float32Array[] = [];
  for (const width of widths) {
    const mask = new Float32Array(rows * width);
    const bits = new Int32Array(mask.buffer);
    for (let i = 0; i < bits.length; i++) {
      const r = Math.imul(s1, 5);
      const result = Math.imul((r << 7) | (r >>> 25), 9);
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      bits[i] = scaleBits & ~(((result >>> 1) - threshold) >> 31);
    }
    masks.push(mask);
  }
  return masks;
}
