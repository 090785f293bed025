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
 * 1/(1 − rate). A uniform 32-bit draw u keeps its unit when u ≥ rate·2³² (so P(keep) = 1 − rate).
 */
export function dropoutMasks(seed: number, step: number, rows: number, widths: readonly number[], rate: number): Float32Array[] {
  if (!(rate >= 0 && rate < 1)) throw new RangeError(`dropout rate must be in [0, 1), got ${rate}`);
  const rng = new Rng(deriveSeed(seed, DROPOUT_STREAM, step));
  const threshold = Math.floor(rate * 2 ** 32);
  const scale = Math.fround(1 / (1 - rate));
  return widths.map((width) => {
    const mask = new Float32Array(rows * width);
    for (let i = 0; i < mask.length; i++) mask[i] = rng.nextUint32() >= threshold ? scale : 0;
    return mask;
  });
}
