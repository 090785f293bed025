/**
 * Adam (Kingma & Ba 2015) exactly as tf.keras 1.14 applies it (`training_ops.ApplyAdam`),
 * the optimiser of the original code: lr 1e-3, β1 0.9, β2 0.999, ε 1e-7 by default, with the
 * bias correction folded into the step size:
 *   t ← t + 1;  lr_t = lr·√(1 − β2^t)/(1 − β1^t)
 *   m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²;  w ← w − lr_t·m/(√v + ε)
 * Runs on plain Float32Arrays; arithmetic is float64, stored as float32. This JavaScript loop
 * (≈ 2.4 ms per step for the paper's 400,906 parameters) is the reference and the fallback of
 * the WebAssembly kernel in adam-wasm.ts (≈ 0.8 ms with the gradient copy, bit-identical), which
 * the trainer uses wherever WebAssembly SIMD is available.
 */
export interface AdamConfig {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

export const KERAS_ADAM: AdamConfig = { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };

/** The float64 constants of update number t (1-based): both implementations use exactly these. */
export function adamConstants(config: AdamConfig, t: number): { beta1: number; c1: number; beta2: number; c2: number; lrT: number; epsilon: number } {
  const { learningRate, beta1, beta2, epsilon } = config;
  const lrT = (learningRate * Math.sqrt(1 - beta2 ** t)) / (1 - beta1 ** t);
  return { beta1, c1: 1 - beta1, beta2, c2: 1 - beta2, lrT, epsilon };
}

export class Adam {
  /** Steps taken (Keras `optimizer.iterations`). */
  iterations = 0;
  readonly m: Float32Array[];
  readonly v: Float32Array[];

  constructor(
    readonly config: AdamConfig,
    sizes: readonly number[],
  ) {
    this.m = sizes.map((n) => new Float32Array(n));
    this.v = sizes.map((n) => new Float32Array(n));
  }

  /** One update of every parameter array in place; grads[i] matches params[i]. */
  step(params: Float32Array[], grads: ArrayLike<number>[]): void {
    this.iterations++;
    const { beta1, c1, beta2, c2, lrT, epsilon } = adamConstants(this.config, this.iterations);
    for (let p = 0; p < params.length; p++) {
      const w = params[p];
      const g = grads[p];
      const m = this.m[p];
      const v = this.v[p];
      if (g.length !== w.length) throw new Error(`Adam: gradient ${p} has ${g.length} values, parameter has ${w.length}`);
      for (let i = 0; i < w.length; i++) {
        const gi = g[i];
        const mi = beta1 * m[i] + c1 * gi;
        const vi = beta2 * v[i] + c2 * gi * gi;
        m[i] = mi;
        v[i] = vi;
        w[i] -= (lrT * mi) / (Math.sqrt(vi) + epsilon);
      }
    }
  }
}
