/**
 * The hand-written backward pass of a training step (science/mlp/trainer.ts batchGradients)
 * against tfjs' automatic differentiation of the textbook forward pass, on the wasm backend.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../science/random.ts';
import { initBackend } from '../science/mlp/backend.ts';
import { batchGradients } from '../science/mlp/trainer.ts';
import { glorotUniformInit } from '../science/mlp/model.ts';
import { dropoutMasks } from '../science/mlp/dropout.ts';
import type { DenseLayer } from '../science/weights.ts';

before(async () => {
  await initBackend('wasm');
});

/** tf.grads of mean softmax cross-entropy through matMul + bias, ReLU, times mask. */
function referenceGradients(
  layers: DenseLayer[],
  x: Float32Array,
  labels: Uint8Array,
  rows: number,
  masks: Float32Array[] | null,
): { loss: number; grads: Float32Array[] } {
  return tf.tidy(() => {
    const xs = tf.tensor2d(x.subarray(0, rows * 784), [rows, 784]);
    const onehot = tf.oneHot(tf.tensor1d(labels.subarray(0, rows), 'int32'), 10);
    const weights = [...layers.map((l) => tf.tensor2d(l.kernel, [l.fanIn, l.fanOut])), ...layers.map((l) => tf.tensor1d(l.bias))];
    const f = (...w: tf.Tensor[]) => {
      let h: tf.Tensor = xs;
      layers.forEach((l, i) => {
        h = tf.add(tf.matMul(h as tf.Tensor2D, w[i] as tf.Tensor2D), w[layers.length + i]);
        if (i < layers.length - 1) {
          h = tf.relu(h);
          if (masks) h = tf.mul(h, tf.tensor2d(masks[i], [rows, l.fanOut]));
        }
      });
      return tf.losses.softmaxCrossEntropy(onehot, h as tf.Tensor2D) as tf.Scalar;
    };
    const { value, grads } = tf.valueAndGrads(f)(weights);
    return { loss: value.dataSync()[0], grads: grads.map((g) => g.dataSync() as Float32Array) };
  });
}

for (const dropout of [false, true])
  test(`batchGradients equals tf.grads of the same network${dropout ? ' with dropout masks' : ''} (1e-5)`, () => {
    const rng = new Rng(dropout ? 7 : 8);
    const rows = 37; // not a multiple of anything the kernels block by
    const layers = glorotUniformInit([784, 24, 16, 10], dropout ? 3 : 4);
    for (const l of layers) for (let j = 0; j < l.bias.length; j++) l.bias[j] = (rng.float() - 0.5) * 0.2;
    const x = Float32Array.from({ length: rows * 784 }, () => rng.float());
    const labels = Uint8Array.from({ length: rows }, () => rng.int(10));
    const masks = dropout ? dropoutMasks(5, 9, rows, [24, 16], 0.5) : null;
    let grads: Float32Array[] = [];
    const ours = { ...batchGradients(layers, x, labels, rows, masks, 2, (g) => (grads = g.map((a) => a.slice()))), grads };
    const ref = referenceGradients(layers, x, labels, rows, masks);
    assert.ok(Math.abs(ours.lossSum / rows - ref.loss) < 1e-5, `loss ${ours.lossSum / rows} vs ${ref.loss}`);
    assert.equal(ours.grads.length, ref.grads.length);
    ours.grads.forEach((g, i) => {
      assert.equal(g.length, ref.grads[i].length, `gradient ${i} size`);
      let maxDiff = 0;
      let maxAbs = 0;
      g.forEach((v, j) => {
        maxDiff = Math.max(maxDiff, Math.abs(v - ref.grads[i][j]));
        maxAbs = Math.max(maxAbs, Math.abs(ref.grads[i][j]));
      });
      assert.ok(maxAbs > 0, `gradient ${i} is not all zero`);
      assert.ok(maxDiff < 1e-5, `gradient ${i}: max difference ${maxDiff}`);
    });
  });
