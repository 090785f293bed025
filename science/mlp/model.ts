/**
 * The paper's MLP (§3 and appendix A.2; original `create_mlp_layers`): dense layers
 * 784 → 256 → 256 → 256 → 256 → 10, ReLU on hidden layers, softmax output, a dropout layer after
 * each hidden layer when dropout is on. Kernels are Glorot-uniform, biases zero (Keras defaults).
 *
 * Weights live in plain Float32Arrays (science/weights.ts `DenseLayer`, Keras orientation
 * fan_in × fan_out, row-major); the trainer uploads them to tfjs for each step.
 */
import { Rng, deriveSeed } from '../random.ts';
import type { DenseLayer } from '../weights.ts';

/** Inputs: 28 × 28 gray pixels, flattened row-major. */
export const INPUT_SIZE = 784;
/** Classes of every dataset of the paper. */
export const NUM_CLASSES = 10;
/** The paper's hidden layer widths. */
export const PAPER_HIDDEN = [256, 256, 256, 256] as const;

/** Layer sizes [input, ...hidden, output]. */
export function layerSizes(hidden: readonly number[]): number[] {
  for (const h of hidden) if (!Number.isInteger(h) || h < 1) throw new RangeError(`hidden layer widths must be positive integers, got [${hidden.join(', ')}]`);
  return [INPUT_SIZE, ...hidden, NUM_CLASSES];
}

/**
 * Glorot-uniform kernels U(−√(6/(fan_in+fan_out)), +√(6/(fan_in+fan_out))) (Glorot & Bengio 2010;
 * Keras `glorot_uniform`) and zero biases. Layer i draws from Rng(deriveSeed(seed, i)), so the
 * same seed always gives the same network.
 */
export function glorotUniformInit(sizes: readonly number[], seed: number): DenseLayer[] {
  const layers: DenseLayer[] = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    const fanIn = sizes[i];
    const fanOut = sizes[i + 1];
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    const rng = new Rng(deriveSeed(seed, i));
    const kernel = new Float32Array(fanIn * fanOut);
    for (let j = 0; j < kernel.length; j++) kernel[j] = (2 * rng.float() - 1) * limit;
    layers.push({ fanIn, fanOut, kernel, bias: new Float32Array(fanOut) });
  }
  return layers;
}

/** A deep copy (the trainer mutates its weights in place). */
export function cloneLayers(layers: readonly DenseLayer[]): DenseLayer[] {
  return layers.map((l) => ({ fanIn: l.fanIn, fanOut: l.fanOut, kernel: l.kernel.slice(), bias: l.bias.slice() }));
}

/** Fraction of kernel entries that are exactly zero, over all layers (biases excluded). */
export function kernelSparsity(layers: readonly DenseLayer[]): number {
  let zeros = 0;
  let total = 0;
  for (const l of layers) {
    total += l.kernel.length;
    for (let i = 0; i < l.kernel.length; i++) if (l.kernel[i] === 0) zeros++;
  }
  return total === 0 ? 0 : zeros / total;
}
