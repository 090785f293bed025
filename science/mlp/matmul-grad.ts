/**
 * A faster gradient for tfjs' BatchMatMul kernel on the wasm backend.
 *
 * tfjs-core's stock gradient (src/gradients/BatchMatMul_grad.ts) computes dA = dy·Bᵀ and
 * dB = Aᵀ·dy with matMul's transposeA/transposeB flags. The wasm backend runs those flagged
 * matMuls far slower than a plain one (bench:train: a whole Adam step of the paper's MLP goes
 * from ≈ 100 to ≈ 20 ms), so this version transposes explicitly and calls the
 * non-transposed kernel. Same mathematics, same four transpose cases as the stock gradient.
 */
import * as tf from '@tensorflow/tfjs-core';

const BATCH_MAT_MUL = 'BatchMatMul';

/** Swap the last two axes (an explicit transpose of a matrix or batch of matrices). */
function transposeLast2(x: tf.Tensor): tf.Tensor {
  const rank = x.rank;
  if (rank < 2) throw new Error(`BatchMatMul gradient: expected rank ≥ 2, got ${rank}`);
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return tf.transpose(x, perm);
}

/** matMul(x, y, tx, ty) computed as matMul(tx ? xᵀ : x, ty ? yᵀ : y) with the plain kernel. */
function plainMatMul(x: tf.Tensor, y: tf.Tensor, tx: boolean, ty: boolean): tf.Tensor {
  return tf.matMul(tx ? transposeLast2(x) : x, ty ? transposeLast2(y) : y, false, false);
}

export const fastBatchMatMulGradConfig: tf.GradConfig = {
  kernelName: BATCH_MAT_MUL,
  inputsToSave: ['a', 'b'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
    const g = dy as tf.Tensor;
    const [a, b] = saved;
    const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
    // The products below are exactly the stock gradient's, with the flags turned into transposes.
    if (!transposeA && !transposeB) return { a: () => plainMatMul(g, b, false, true), b: () => plainMatMul(a, g, true, false) };
    if (!transposeA && transposeB) return { a: () => plainMatMul(g, b, false, false), b: () => plainMatMul(g, a, true, false) };
    if (transposeA && !transposeB) return { a: () => plainMatMul(b, g, false, true), b: () => plainMatMul(a, g, false, false) };
    return { a: () => plainMatMul(b, g, true, true), b: () => plainMatMul(g, a, true, true) };
  },
};

let stockGradConfig: tf.GradConfig | undefined;

/** The gradient tfjs-core ships for BatchMatMul (captured before any replacement). */
export function stockBatchMatMulGradConfig(): tf.GradConfig {
  if (!stockGradConfig) {
    const current = tf.getGradient(BATCH_MAT_MUL);
    if (!current) throw new Error('tfjs-core has no gradient registered for BatchMatMul');
    stockGradConfig = current;
  }
  return stockGradConfig;
}

function register(config: tf.GradConfig): void {
  if (tf.getGradient(BATCH_MAT_MUL) === config) return;
  // registerGradient refuses to overwrite silently only in DEBUG mode; unregister first anyway.
  tf.unregisterGradient(BATCH_MAT_MUL);
  tf.registerGradient(config);
}

/** Use the explicit-transpose gradient for BatchMatMul (the registry is global to this thread). */
export function installFastMatMulGradient(): void {
  stockBatchMatMulGradConfig();
  register(fastBatchMatMulGradConfig);
}

/** Put tfjs-core's stock BatchMatMul gradient back. */
export function restoreStockMatMulGradient(): void {
  register(stockBatchMatMulGradConfig());
}
