/**
 * What a lesion is (paper §4.1; original `src/lesion/experimentation.py:_damage_neurons`):
 * a lesioned neuron has its incoming kernel column and its bias set to 0, so its ReLU output
 * is 0 for every input; its outgoing weights stay as they are.
 *
 * Levels number the activations of an MLP with L dense layers: level 0 is the input, level l
 * (1..L) the output of dense layer l−1; levels 1..L−1 are the hidden layers that can be
 * lesioned (the original's `layer_id`), level L the logits. Neuron indices are within a level.
 */
import type { DenseLayer } from '../weights.ts';

/** A set of neurons of one hidden level to lesion. */
export interface LesionGroup {
  /** Hidden level, 1..L−1. */
  readonly level: number;
  /** Neuron indices within the level (any order; duplicates are harmless). */
  readonly neurons: ArrayLike<number>;
}

/** One lesioned network: the groups lesioned together ([] = the intact network). */
export type LesionPlan = readonly LesionGroup[];

export class LesionInputError extends Error {
  override name = 'LesionInputError';
}

/** Check that every group names an existing hidden level and existing neurons of it. */
export function validatePlan(layers: readonly DenseLayer[], plan: LesionPlan, what = 'lesion'): void {
  for (const g of plan) {
    if (!Number.isInteger(g.level) || g.level < 1 || g.level > layers.length - 1)
      throw new LesionInputError(`${what}: level ${g.level} is not a hidden layer (expected 1..${layers.length - 1})`);
    const width = layers[g.level - 1].fanOut;
    for (let i = 0; i < g.neurons.length; i++) {
      const n = g.neurons[i];
      if (!Number.isInteger(n) || n < 0 || n >= width)
        throw new LesionInputError(`${what}: neuron ${n} does not exist in hidden layer ${g.level} (width ${width})`);
    }
  }
}

/**
 * The lesioned network as weights: fresh copies of every kernel and bias, with the incoming
 * column and the bias of each lesioned neuron zeroed (dense layer `level − 1`, Keras
 * orientation fanIn × fanOut, so the column of neuron n is kernel[i·fanOut + n] for all i).
 */
export function lesionWeights(layers: readonly DenseLayer[], plan: LesionPlan): DenseLayer[] {
  validatePlan(layers, plan);
  const out = layers.map((l) => ({ fanIn: l.fanIn, fanOut: l.fanOut, kernel: l.kernel.slice(), bias: l.bias.slice() }));
  for (const g of plan) {
    const l = out[g.level - 1];
    for (let i = 0; i < g.neurons.length; i++) {
      const n = g.neurons[i];
      l.bias[n] = 0;
      for (let r = 0; r < l.fanIn; r++) l.kernel[r * l.fanOut + n] = 0;
    }
  }
  return out;
}

/**
 * Reference forward pass (dense, float64, no reuse): class predictions of an MLP with ReLU
 * hidden layers, argmax of the logits (first maximum, as numpy's argmax). Images are n × fanIn
 * in [0, 255] and are scaled by 1/255 as the original's `preprocess_dataset`.
 * Slow on purpose: it is the yardstick the fast evaluator is tested against.
 */
export function predictClasses(layers: readonly DenseLayer[], images: ArrayLike<number>, n: number): Int32Array {
  const preds = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    let act: Float64Array = new Float64Array(layers[0].fanIn);
    for (let i = 0; i < act.length; i++) act[i] = images[r * act.length + i] / 255;
    layers.forEach((l, li) => {
      const z = new Float64Array(l.fanOut);
      for (let j = 0; j < l.fanOut; j++) z[j] = l.bias[j];
      for (let i = 0; i < l.fanIn; i++) {
        const v = act[i];
        if (v === 0) continue;
        for (let j = 0; j < l.fanOut; j++) z[j] += v * l.kernel[i * l.fanOut + j];
      }
      if (li < layers.length - 1) for (let j = 0; j < z.length; j++) if (z[j] < 0) z[j] = 0;
      act = z;
    });
    let best = 0;
    for (let j = 1; j < act.length; j++) if (act[j] > act[best]) best = j;
    preds[r] = best;
  }
  return preds;
}
