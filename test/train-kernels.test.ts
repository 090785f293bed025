/**
 * The trainer's WebAssembly kernels against the code they replace, bit for bit: Adam
 * (adam-wasm.ts vs adam.ts), the step kernels on the wasm backend's memory (step-wasm.ts vs
 * tfjs ops and dropout.ts), a whole batch's gradients and a whole training phase with the fast
 * kernels vs the reference ones (trainer.ts setStepKernels).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../science/random.ts';
import { initBackend } from '../science/mlp/backend.ts';
import { Adam, KERAS_ADAM, type AdamConfig } from '../science/mlp/adam.ts';
import { WasmAdam } from '../science/mlp/adam-wasm.ts';
import { WasmStepKernels } from '../science/mlp/step-wasm.ts';
import { dropoutDraw, dropoutMasks } from '../science/mlp/dropout.ts';
import { batchGradients, setStepKernels, trainPhase, type LabelledImages, type PhaseOptions, type StepMasks } from '../science/mlp/trainer.ts';
import { glorotUniformInit, layerSizes } from '../science/mlp/model.ts';
import { decodeCheckpoint } from '../science/mlp/checkpoint.ts';

before(async () => {
  await initBackend('wasm');
});
after(() => {
  setStepKernels('fast');
});

/** Index of the first element whose bits differ (NaNs of any payload count as equal), or -1. */
function firstBitDifference(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length, 'lengths');
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < a.length; i++) if (ua[i] !== ub[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return i;
  return -1;
}

function assertSameBits(a: Float32Array, b: Float32Array, what: string): void {
  const i = firstBitDifference(a, b);
  assert.equal(i, -1, `${what}: element ${i} differs (${a[i]} vs ${b[i]})`);
}

/** Values that exercise rounding and the special cases: zeros of both signs, subnormals, huge, infinities (when asked). */
function awkwardValues(rng: Rng, n: number, specials: boolean): Float32Array {
  const pool = [0, -0, 1e-45, -1e-45, 1e-39, 3e38, -3e38, ...(specials ? [Infinity, -Infinity, NaN] : [])];
  return Float32Array.from({ length: n }, () => {
    const pick = rng.int(10);
    if (pick === 0) return pool[rng.int(pool.length)];
    return (rng.float() - 0.5) * 10 ** (rng.int(12) - 8);
  });
}

test('WasmAdam equals adam.ts bit for bit: odd sizes, awkward gradients, bias correction at t = 1, 2 and 1000', (t) => {
  const rng = new Rng(21);
  const sizes = [1, 3, 7, 64, 1001, 4097];
  for (const config of [KERAS_ADAM, { learningRate: 0.01, beta1: 0.8, beta2: 0.99, epsilon: 1e-8 } satisfies AdamConfig]) {
    const wasm = WasmAdam.create(config, sizes);
    if (!wasm) return t.skip('WebAssembly SIMD unavailable');
    const js = new Adam(config, sizes);
    // Half the arrays start at 0, where the update's own rounding shows in the float32 result.
    const params = sizes.map((n, i) => Float32Array.from({ length: n }, () => (i % 2 ? 0 : rng.float() - 0.5)));
    params.forEach((p, i) => wasm.params[i].set(p));
    const stepBoth = (label: string) => {
      const grads = sizes.map((n) => awkwardValues(rng, n, false));
      js.step(params, grads);
      wasm.step(grads);
      assert.equal(wasm.iterations, js.iterations);
      sizes.forEach((_, i) => {
        assertSameBits(wasm.params[i], params[i], `${label} weights ${i}`);
        assertSameBits(wasm.m[i], js.m[i], `${label} m ${i}`);
        assertSameBits(wasm.v[i], js.v[i], `${label} v ${i}`);
      });
    };
    stepBoth('t = 1');
    stepBoth('t = 2');
    // Jump to t = 1000 with non-trivial moments (bias correction nearly 1).
    js.iterations = wasm.iterations = 999;
    stepBoth('t = 1000');
    stepBoth('t = 1001');
  }
  assert.ok(sizes.every((n, i) => n === WasmAdam.create(KERAS_ADAM, sizes)!.params[i].length));
});

test('WasmAdam rejects gradients of the wrong count or size with a message naming the array', () => {
  const wasm = WasmAdam.create(KERAS_ADAM, [4, 2]);
  if (!wasm) return;
  assert.throws(() => wasm.step([new Float32Array(4)]), /1 gradients for 2 parameter arrays/);
  assert.throws(() => wasm.step([new Float32Array(4), new Float32Array(3)]), /gradient 1 has 3 values, parameter has 2/);
  assert.equal(wasm.iterations, 0, 'a rejected step does not count');
});

function kernels(t: { skip(m: string): void }): WasmStepKernels | null {
  const k = WasmStepKernels.forActiveBackend();
  if (!k) t.skip('the wasm step kernels are unavailable');
  return k;
}

test('step kernels: dropout masks drawn in WebAssembly equal dropout.ts, every layer in one stream', (t) => {
  const k = kernels(t);
  if (!k) return;
  for (const [seed, step, rate, rows, widths] of [
    [1, 0, 0.5, 128, [256, 256]],
    [99, 12345, 0.2, 37, [24, 16, 7]],
    [7, 3, 0, 5, [3]],
  ] as const) {
    const expected = dropoutMasks(seed, step, rows, widths, rate);
    const joined = new Float32Array(expected.reduce((a, m) => a + m.length, 0));
    expected.reduce((at, m) => (joined.set(m, at), at + m.length), 0);
    const draw = dropoutDraw(seed, step, rate);
    tf.tidy(() =>
      assertSameBits(
        k.dropoutMask(joined.length, draw.state, draw.threshold, draw.scaleBits).dataSync() as Float32Array,
        joined,
        `seed ${seed} step ${step} rate ${rate}`,
      ),
    );
  }
});

test('step kernels: transpose, relu ⊙ mask, the ReLU/dropout gradient and column sums equal tfjs ops and the JavaScript sums', (t) => {
  const k = kernels(t);
  if (!k) return;
  const rng = new Rng(5);
  for (const [rows, cols] of [
    [8, 12],
    [36, 24],
    [5, 7],
    [128, 10],
  ] as const) {
    tf.tidy(() => {
      const shape: [number, number] = [rows, cols];
      const a = tf.tensor2d(awkwardValues(rng, rows * cols, true), shape);
      assertSameBits(k.transpose(a).dataSync() as Float32Array, tf.transpose(a).dataSync() as Float32Array, `transpose ${rows}×${cols}`);

      const mask = tf.tensor2d(
        Float32Array.from({ length: rows * cols }, () => (rng.int(2) ? 2 : 0)),
        shape,
      );
      const masks = tf.concat([tf.zeros([3]), tf.reshape(mask, [-1])]); // the mask at an offset, as the trainer stores them
      const z = awkwardValues(rng, rows * cols, true);
      const expected = tf.mul(tf.relu(tf.tensor2d(z, shape)), mask).dataSync() as Float32Array;
      const h = tf.tensor2d(z, shape);
      k.reluMaskInPlace(h, masks, 3);
      assertSameBits(h.dataSync() as Float32Array, expected, `relu ⊙ mask ${rows}×${cols}`);
      const plain = tf.tensor2d(z, shape);
      k.reluMaskInPlace(plain, null, 0);
      assertSameBits(plain.dataSync() as Float32Array, tf.relu(tf.tensor2d(z, shape)).dataSync() as Float32Array, `relu ${rows}×${cols}`);

      const g = awkwardValues(rng, rows * cols, true);
      for (const scale of [1, 2, Math.fround(1 / 0.8)]) {
        const reference = tf.mul(tf.tensor2d(g, shape), tf.step(h));
        const expectedGrad = (scale === 1 ? reference : tf.mul(reference, scale)).dataSync() as Float32Array;
        const d = tf.tensor2d(g, shape);
        k.reluGradInPlace(d, h, scale);
        assertSameBits(d.dataSync() as Float32Array, expectedGrad, `ReLU/dropout gradient ${rows}×${cols} scale ${scale}`);
      }

      const m = tf.tensor2d(awkwardValues(rng, rows * cols, false), shape);
      const sums = k.columnSums(m);
      if (cols % 2 !== 0) assert.equal(sums, null, 'odd column counts are left to JavaScript');
      else {
        const values = m.dataSync();
        const expectedSums = Float32Array.from({ length: cols }, (_, c) => {
          let s = 0;
          for (let r = 0; r < rows; r++) s += values[r * cols + c];
          return s;
        });
        assertSameBits(sums!.dataSync() as Float32Array, expectedSums, `column sums ${rows}×${cols}`);
      }
    });
  }
});

test('batchGradients: fast kernels give the reference bits (loss, accuracy count, every gradient), with and without dropout', () => {
  const rng = new Rng(17);
  const layers = glorotUniformInit([784, 24, 16, 10], 3);
  for (const l of layers) for (let j = 0; j < l.bias.length; j++) l.bias[j] = (rng.float() - 0.5) * 0.2;
  for (const rows of [36, 37]) {
    const x = Float32Array.from({ length: rows * 784 }, () => (rng.int(3) === 0 ? 0 : rng.float()));
    const labels = Uint8Array.from({ length: rows }, () => rng.int(10));
    const cases: [string, StepMasks | null, number][] = [
      ['no dropout', null, 1],
      ['drawn masks', { seed: 4, step: rows, rate: 0.5 }, 2],
      ['given masks', dropoutMasks(4, 1, rows, [24, 16], 0.2), Math.fround(1 / 0.8)],
    ];
    for (const [label, masks, scale] of cases) {
      const run = (kernels: 'fast' | 'reference') => {
        setStepKernels(kernels);
        let grads: Float32Array[] = [];
        const loss = batchGradients(layers, x, labels, rows, masks, scale, (g) => (grads = g.map((a) => a.slice())));
        return { loss, grads };
      };
      const reference = run('reference');
      const fast = run('fast');
      setStepKernels('fast');
      assert.equal(fast.loss.lossSum, reference.loss.lossSum, `${label}, ${rows} rows: loss`);
      assert.equal(fast.loss.correct, reference.loss.correct, `${label}, ${rows} rows: correct`);
      assert.equal(fast.grads.length, 6);
      fast.grads.forEach((g, i) => assertSameBits(g, reference.grads[i], `${label}, ${rows} rows: gradient ${i}`));
      assert.ok(
        fast.grads.every((g) => g.some((v) => v !== 0)),
        `${label}: gradients are not all zero`,
      );
    }
  }
});

test('trainPhase: the fast kernels train the reference weights and Adam moments bit for bit (pruning + dropout, partial last batch)', async () => {
  const rng = new Rng(3);
  const data = (n: number): LabelledImages => ({
    images: Uint8Array.from({ length: n * 784 }, () => rng.int(256)),
    labels: Uint8Array.from({ length: n }, () => rng.int(10)),
  });
  const train = data(150);
  const test = data(20);
  const run = async (kernels: 'fast' | 'reference') => {
    setStepKernels(kernels);
    let saved: Uint8Array | undefined;
    const common: Omit<PhaseOptions, 'phase' | 'initial' | 'seed' | 'epochs'> = {
      train,
      test,
      batchSize: 32,
      adam: KERAS_ADAM,
      dropoutRate: 0.5,
      shuffle: true,
      checkpoint: { load: async () => undefined, save: async (b) => void (saved = b) },
    };
    const unpruned = await trainPhase({ ...common, phase: 'unpruned', initial: glorotUniformInit(layerSizes([24, 16]), 5), seed: 8, epochs: 2 });
    const pruned = await trainPhase({
      ...common,
      phase: 'pruned',
      initial: unpruned.layers,
      seed: 9,
      epochs: 2,
      pruning: { initialSparsity: 0.5, finalSparsity: 0.9, beginStep: 0, endStep: 10, frequency: 2, power: 3 },
    });
    setStepKernels('fast');
    return { unpruned, pruned, state: decodeCheckpoint(saved!) };
  };
  const reference = await run('reference');
  const fast = await run('fast');
  for (const phase of ['unpruned', 'pruned'] as const)
    fast[phase].layers.forEach((l, i) => {
      assertSameBits(l.kernel, reference[phase].layers[i].kernel, `${phase} kernel ${i}`);
      assertSameBits(l.bias, reference[phase].layers[i].bias, `${phase} bias ${i}`);
      // Returned weights are copies, not views of the optimiser's WebAssembly memory.
      assert.equal(l.kernel.buffer.byteLength, l.kernel.byteLength, `${phase} kernel ${i} owns its buffer`);
    });
  assert.deepEqual(fast.pruned.history, reference.pruned.history);
  assert.equal(fast.state.adamIterations, reference.state.adamIterations);
  fast.state.adamM.forEach((m, i) => assertSameBits(m, reference.state.adamM[i], `Adam m ${i}`));
  fast.state.adamV.forEach((v, i) => assertSameBits(v, reference.state.adamV[i], `Adam v ${i}`));
});
