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
 * state is the first four outputs of Rng(deriveSeed(seed, DROPOUT_STREAM, step)) (dropoutDraw),
 * layer after layer in one stream; it runs on local variables because the masks need ~130k draws
 * per step of the paper's MLP, and a method call per draw cost ≈ 1.7 ms per step (this loop:
 * ≈ 0.5 ms; the trainer draws the same stream in WebAssembly on the wasm backend, step-wasm.ts).
 */
export function dropoutMasks(seed: number, step: number, rows: number, widths: readonly number[], rate: number): Float32Array[] {
  const draw = dropoutDraw(seed, step, rate);
  let [s0, s1, s2, s3] = draw.state;
  const { threshold, scaleBits } = draw;
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

/** What the masks of one step are drawn from: the generator's initial state and the decision constants. */
export interface DropoutDraw {
  /** xoshiro128** state (int32 words) before the step's first draw. */
  state: [number, number, number, number];
  /** Keep a unit when the draw's top 31 bits are ≥ this (⌊rate·2³¹⌋). */
  threshold: number;
  /** float32 bits of the kept units' value 1/(1 − rate). */
  scaleBits: number;
}

/**
 * The generator state and constants of step `step`'s masks (dropoutMasks draws from them;
 * step-wasm.ts draws the same stream in WebAssembly, every layer's mask one after the other).
 */
export function dropoutDraw(seed: number, step: number, rate: number): DropoutDraw {
  if (!(rate >= 0 && rate < 1)) throw new RangeError(`dropout rate must be in [0, 1), got ${rate}`);
  const seeder = new Rng(deriveSeed(seed, DROPOUT_STREAM, step));
  const state: [number, number, number, number] = [seeder.nextUint32() | 0, seeder.nextUint32() | 0, seeder.nextUint32() | 0, seeder.nextUint32() | 0];
  if ((state[0] | state[1] | state[2] | state[3]) === 0) state[0] = 1; // the all-zero state is a fixed point
  // Decisions use the top 31 bits u of each draw: keep when u ≥ ⌊rate·2³¹⌋. Then u − threshold
  // cannot overflow int32 and its sign bit is the decision, so the loop has no (unpredictable) branch.
  const threshold = Math.floor(rate * 2 ** 31);
  // Masks are written as float32 bit patterns: integer stores only.
  const scaleBits = new Int32Array(Float32Array.of(Math.fround(1 / (1 - rate))).buffer)[0];
  return { state, threshold, scaleBits };
}
