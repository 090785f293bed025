/** Training science without tfjs: pruning schedule and masks, dropout masks, Adam, init, checkpoints, params and conditions. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { tableFromIPC, tableToIPC } from 'apache-arrow';
import { Rng } from '../science/random.ts';
import {
  isMaskUpdateStep,
  kthLargest,
  magnitudeMask,
  roundHalfToEven,
  scheduledSparsity,
  validateSchedule,
  weightsToKeep,
  type PruningSchedule,
} from '../science/mlp/pruning.ts';
import { dropoutMasks } from '../science/mlp/dropout.ts';
import { Adam, KERAS_ADAM } from '../science/mlp/adam.ts';
import { glorotUniformInit, kernelSparsity, layerSizes } from '../science/mlp/model.ts';
import { decodeCheckpoint, encodeCheckpoint, CheckpointFormatError, type TrainerState } from '../science/mlp/checkpoint.ts';
import { historyTable, type EpochMetrics } from '../science/mlp/history.ts';
import { trainParams, pruneParams, initParams } from '../stages/params/train.ts';
import { networkStates, resolvePruneConfig, resolveTrainConfig, trainConditions } from '../stages/conditions.ts';
import { backendRuntime, resolveBackend, BackendUnavailableError } from '../science/mlp/backend.ts';

const MNIST_SCHEDULE: PruningSchedule = { initialSparsity: 0.5, finalSparsity: 0.9, beginStep: 0, endStep: 469 * 20, frequency: 10, power: 3 };

test('pruning schedule: polynomial decay values at chosen steps', () => {
  const s = MNIST_SCHEDULE;
  assert.equal(scheduledSparsity(s, 0), 0.5);
  assert.equal(scheduledSparsity(s, s.endStep), 0.9);
  assert.equal(scheduledSparsity(s, s.endStep + 500), 0.9, 'clipped after end_step');
  // Halfway: 0.9 + (0.5 − 0.9)·0.5³ = 0.85
  assert.ok(Math.abs(scheduledSparsity(s, s.endStep / 2) - 0.85) < 1e-12, 'halfway');
  for (const step of [10, 1234, 5000, 9370]) {
    const expected = 0.9 - 0.4 * (1 - step / 9380) ** 3;
    assert.ok(Math.abs(scheduledSparsity(s, step) - expected) < 1e-12, `step ${step}`);
  }
  // begin_step shifts the curve; before it, the initial sparsity holds.
  const shifted = { ...s, beginStep: 100, endStep: 200 };
  assert.equal(scheduledSparsity(shifted, 50), 0.5);
  assert.ok(Math.abs(scheduledSparsity(shifted, 150) - 0.85) < 1e-12, 'shifted halfway');
});

test('pruning schedule: masks update every `frequency` steps inside [begin, end] only', () => {
  const s = MNIST_SCHEDULE;
  assert.ok(isMaskUpdateStep(s, 0), 'step 0 already prunes');
  assert.ok(isMaskUpdateStep(s, 10), 'isMaskUpdateStep(s, 10)');
  assert.ok(!isMaskUpdateStep(s, 5), '!isMaskUpdateStep(s, 5)');
  assert.ok(isMaskUpdateStep(s, 9370), 'isMaskUpdateStep(s, 9370)');
  assert.ok(isMaskUpdateStep(s, 9380), 'isMaskUpdateStep(s, 9380)');
  assert.ok(!isMaskUpdateStep(s, 9390), 'after end_step');
  const shifted = { ...s, beginStep: 3 };
  assert.ok(!isMaskUpdateStep(shifted, 0), '!isMaskUpdateStep(shifted, 0)');
  assert.ok(isMaskUpdateStep(shifted, 13), 'isMaskUpdateStep(shifted, 13)');
  assert.throws(() => validateSchedule({ ...s, endStep: 0 }), /endStep/);
  assert.throws(() => validateSchedule({ ...s, finalSparsity: 1 }), /finalSparsity/);
});

test('pruning: round half to even and weights kept per layer', () => {
  assert.equal(roundHalfToEven(2.5), 2);
  assert.equal(roundHalfToEven(3.5), 4);
  assert.equal(roundHalfToEven(2.4), 2);
  assert.equal(roundHalfToEven(-2.5), -2);
  assert.equal(weightsToKeep(784 * 256, 0.9), 20070); // 200704 × 0.1 = 20070.4
  assert.equal(weightsToKeep(256 * 10, 0.9), 256);
  assert.equal(weightsToKeep(100, 0.5), 50);
});

test('kthLargest agrees with sorting on random and tied data', () => {
  const rng = new Rng(11);
  for (const n of [1, 2, 7, 100, 1001]) {
    const a = Float32Array.from({ length: n }, () => rng.float());
    const tied = Float32Array.from({ length: n }, () => rng.int(4)); // many ties
    for (const arr of [a, tied]) {
      const sorted = Array.from(arr).sort((x, y) => y - x);
      for (const k of new Set([1, Math.ceil(n / 2), n])) assert.equal(kthLargest(arr, k), sorted[k - 1], `n=${n} k=${k}`);
    }
  }
  const input = Float32Array.from([3, 1, 2]);
  kthLargest(input, 2);
  assert.deepEqual(Array.from(input), [3, 1, 2], 'input not modified');
});

test('magnitudeMask keeps exactly the k largest |w| (ties aside), signs ignored', () => {
  const rng = new Rng(5);
  const w = Float32Array.from({ length: 1000 }, () => rng.normal());
  const mask = magnitudeMask(w, 0.9);
  const kept = mask.reduce((n, m) => n + m, 0);
  assert.equal(kept, 100);
  const threshold = Array.from(w, Math.abs).sort((a, b) => b - a)[99];
  for (let i = 0; i < w.length; i++) assert.equal(mask[i], Math.abs(w[i]) >= threshold ? 1 : 0);
  // Ties at the threshold keep a few more (tfmot's |w| ≥ threshold).
  const tied = Float32Array.from([5, -5, 5, 1, 1, 1, 1, 1, 1, 1]);
  assert.equal(
    magnitudeMask(tied, 0.8).reduce((n, m) => n + m, 0),
    3,
  );
  assert.equal(
    magnitudeMask(Float32Array.from([1, 2]), 0.9).reduce((n, m) => n + m, 0),
    0,
    'k = round(0.2) = 0 prunes all',
  );
});

test('magnitudeMask (radix select) equals |w| ≥ kthLargest(|w|) on kernels with zeros, −0, ties and tiny and huge values', () => {
  const rng = new Rng(12);
  for (const n of [1, 7, 1000, 65_537]) {
    const w = Float32Array.from({ length: n }, () => {
      const u = rng.float();
      if (u < 0.2) return u < 0.1 ? 0 : -0; // already pruned weights
      if (u < 0.3) return [0.5, -0.5, 1e-30, -3e38][rng.int(4)]; // ties and extremes
      return rng.normal() * 10 ** (rng.int(9) - 6);
    });
    for (const s of [0, 0.13, 0.5, 0.9, 0.999]) {
      const k = weightsToKeep(n, s);
      const mask = magnitudeMask(w, s);
      if (k === 0) {
        assert.ok(mask.every((m) => m === 0));
        continue;
      }
      const abs = Float32Array.from(w, Math.abs);
      const threshold = kthLargest(abs, k);
      for (let i = 0; i < n; i++) assert.equal(mask[i], abs[i] >= threshold ? 1 : 0, `n=${n} s=${s} i=${i}`);
    }
  }
});

test('dropout masks: reproducible per (seed, step), different across steps and seeds, rate and scale right', () => {
  const a = dropoutMasks(42, 7, 128, [256, 256], 0.5);
  const b = dropoutMasks(42, 7, 128, [256, 256], 0.5);
  assert.deepEqual(a, b);
  assert.notDeepEqual(dropoutMasks(42, 8, 128, [256, 256], 0.5)[0], a[0], 'next step differs');
  assert.notDeepEqual(dropoutMasks(43, 7, 128, [256, 256], 0.5)[0], a[0], 'other seed differs');
  assert.notDeepEqual(a[0], a[1], 'layers differ within a step');
  for (const rate of [0.2, 0.5]) {
    const [m] = dropoutMasks(1, 0, 200, [500], rate);
    const scale = Math.fround(1 / (1 - rate));
    let dropped = 0;
    for (const v of m) {
      assert.ok(v === 0 || v === scale, `mask value ${v}`);
      if (v === 0) dropped++;
    }
    const frac = dropped / m.length;
    assert.ok(Math.abs(frac - rate) < 0.01, `rate ${rate}: dropped ${frac}`);
  }
  assert.throws(() => dropoutMasks(1, 0, 1, [1], 1), /dropout rate/);
});

test('Adam matches the textbook algorithm (Kingma & Ba) with Keras epsilon placement', () => {
  const rng = new Rng(9);
  const n = 50;
  const w = Float32Array.from({ length: n }, () => rng.normal());
  const target = Float64Array.from({ length: n }, () => rng.normal());
  const adam = new Adam(KERAS_ADAM, [n]);
  // Reference in float64: m̂ = m/(1−β1ᵗ), v̂ = v/(1−β2ᵗ), w −= lr·m̂/(√v̂ + ε/√(1−β2ᵗ)) — algebraically Keras' update.
  const ref = Float64Array.from(w);
  const m = new Float64Array(n);
  const v = new Float64Array(n);
  const { learningRate: lr, beta1, beta2, epsilon } = KERAS_ADAM;
  for (let t = 1; t <= 200; t++) {
    const g = Float32Array.from(w, (x, i) => 2 * (x - target[i]));
    adam.step([w], [g]);
    for (let i = 0; i < n; i++) {
      const gi = 2 * (ref[i] - target[i]);
      m[i] = beta1 * m[i] + (1 - beta1) * gi;
      v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
      const mHat = m[i] / (1 - beta1 ** t);
      const vHat = v[i] / (1 - beta2 ** t);
      ref[i] -= (lr * mHat) / (Math.sqrt(vHat) + epsilon / Math.sqrt(1 - beta2 ** t));
    }
  }
  assert.equal(adam.iterations, 200);
  for (let i = 0; i < n; i++) assert.ok(Math.abs(w[i] - ref[i]) < 1e-5, `param ${i}: ${w[i]} vs ${ref[i]}`);
  // The first step moves every parameter by lr (sign of the gradient), Adam's hallmark.
  const one = new Adam(KERAS_ADAM, [2]);
  const p = Float32Array.from([0, 0]);
  one.step([p], [Float32Array.from([3, -0.5])]);
  assert.ok(Math.abs(p[0] + 1e-3) < 1e-6 && Math.abs(p[1] - 1e-3) < 1e-6, `${p}`);
});

test('Glorot-uniform init: bounds, spread, zero biases, seeded', () => {
  const layers = glorotUniformInit(layerSizes([256, 256, 256, 256]), 3);
  assert.deepEqual(
    layers.map((l) => [l.fanIn, l.fanOut]),
    [
      [784, 256],
      [256, 256],
      [256, 256],
      [256, 256],
      [256, 10],
    ],
  );
  for (const l of layers) {
    const limit = Math.sqrt(6 / (l.fanIn + l.fanOut));
    let sq = 0;
    for (const x of l.kernel) {
      assert.ok(Math.abs(x) <= limit, `${x} outside ±${limit}`);
      sq += x * x;
    }
    const variance = sq / l.kernel.length;
    assert.ok(Math.abs(variance / ((limit * limit) / 3) - 1) < 0.1, `variance ${variance}`);
    assert.ok(
      l.bias.every((b) => b === 0),
      'zero biases',
    );
  }
  assert.deepEqual(glorotUniformInit([5, 3, 2], 3), glorotUniformInit([5, 3, 2], 3));
  assert.notDeepEqual(glorotUniformInit([5, 3, 2], 3)[0].kernel, glorotUniformInit([5, 3, 2], 4)[0].kernel);
  assert.equal(kernelSparsity(layers), 0);
  assert.throws(() => layerSizes([0]), /positive integers/);
});

test('checkpoint encode/decode round-trips every array and field; corrupt bytes are rejected', () => {
  const layers = glorotUniformInit([6, 4, 3], 1);
  const state: TrainerState = {
    fingerprint: '{"x":1}',
    epochsDone: 2,
    step: 17,
    adamIterations: 17,
    history: [{ epoch: 1, trainLoss: 1.5, trainAccuracy: 0.5, testLoss: 1.25, testAccuracy: 0.625, sparsity: 0 }],
    layers,
    // Adam state in the trainer's parameter order: kernels, then biases.
    adamM: [layers[0].kernel.map((x) => x / 2), new Float32Array(12), new Float32Array(4), new Float32Array(3)],
    adamV: [new Float32Array(24).fill(0.25), new Float32Array(12), new Float32Array(4), new Float32Array(3)],
    masks: [new Float32Array(24).fill(1), new Float32Array(12)],
    snapshots: [{ epoch: 1, layers: glorotUniformInit([6, 4, 3], 2) }],
  };
  const back = decodeCheckpoint(encodeCheckpoint(state));
  assert.deepEqual(back, state);
  assert.deepEqual(decodeCheckpoint(encodeCheckpoint({ ...state, snapshots: [] })).snapshots, []);
  const noMasks = decodeCheckpoint(encodeCheckpoint({ ...state, masks: null }));
  assert.equal(noMasks.masks, null);
  const bytes = encodeCheckpoint(state);
  assert.throws(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 4)), CheckpointFormatError);
  assert.throws(() => decodeCheckpoint(new Uint8Array(20)), CheckpointFormatError);
});

test('history table: documented columns and round trip through Arrow IPC', () => {
  const history: EpochMetrics[] = [
    { epoch: 1, trainLoss: 0.5, trainAccuracy: 0.9, testLoss: 0.4, testAccuracy: 0.92, sparsity: 0.5 },
    { epoch: 2, trainLoss: 0.25, trainAccuracy: 0.95, testLoss: 0.3, testAccuracy: 0.94, sparsity: 0.9 },
  ];
  const t = tableFromIPC(tableToIPC(historyTable.toTable(history, { phase: 'pruned' }), 'file'));
  assert.deepEqual(
    t.schema.fields.map((f) => f.name),
    ['epoch', 'train_loss', 'train_accuracy', 'test_loss', 'test_accuracy', 'sparsity'],
  );
  assert.equal(t.schema.metadata.get('phase'), 'pruned');
  assert.deepEqual(historyTable.fromTable(t, 'history table'), history);
});

const paramsYaml = parseYaml(readFileSync(new URL('../params.yaml', import.meta.url), 'utf8'));

test('params.yaml: train/prune/init sections validate and encode the paper conditions', () => {
  const params = { train: trainParams.parse(paramsYaml.train), prune: pruneParams.parse(paramsYaml.prune), init: initParams.parse(paramsYaml.init) };
  const at = (dataset: string, dropout: boolean) => ({ dataset, dropout, run: 0 });
  const mnist = resolveTrainConfig(params.train, at('mnist', false));
  assert.equal(mnist.epochs, 20);
  assert.equal(mnist.dropoutRate, 0);
  assert.equal(mnist.batchSize, 128);
  assert.deepEqual(mnist.adam, { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });
  assert.equal(resolveTrainConfig(params.train, at('mnist', true)).dropoutRate, 0.5);
  const cifarDrop = resolveTrainConfig(params.train, at('cifar10', true));
  assert.equal(cifarDrop.epochs, 100);
  assert.equal(cifarDrop.dropoutRate, 0.2);
  assert.equal(resolveTrainConfig(params.train, at('cifar10', false)).epochs, 20);
  assert.equal(resolvePruneConfig(params.prune, at('cifar10', false)).epochs, 40);
  assert.equal(resolvePruneConfig(params.prune, at('mnist', true)).epochs, 20);
  const mix = resolveTrainConfig(params.train, at('mnist-cifar10-separated', true));
  assert.equal(mix.epochs, 30);
  assert.equal(mix.dropoutRate, 0.2);
  const memo = resolveTrainConfig(params.train, at('memorization', false));
  assert.deepEqual([memo.epochs, memo.shuffle, memo.trainExamples], [100, false, 3000]);
  assert.equal(resolvePruneConfig(params.prune, at('memorization', false)).epochs, 100);
  const kilo = resolveTrainConfig(params.train, at('random-kiloepoch', false));
  assert.deepEqual([kilo.source, kilo.epochs], ['random', 1000]);
  assert.equal(params.train.runs, 10);
  assert.equal(params.init.networks, 200);
  assert.throws(() => trainParams.parse({ ...paramsYaml.train, backend: 'gpu' }));
  assert.throws(() => trainParams.parse({ ...paramsYaml.train, typo: 1 }), 'sections are strict');
});

test('conditions: dataset × dropout × runs with run overrides; network states add phases and init networks', () => {
  const train = trainParams.parse({
    ...paramsYaml.train,
    datasets: ['mnist', 'fashion'],
    dropout: [false, true],
    runs: 3,
    overrides: [{ dataset: 'fashion', dropout: true, runs: 1 }],
  });
  const conditions = trainConditions({ train });
  assert.equal(conditions.length, 3 + 3 + 3 + 1);
  assert.deepEqual(conditions[0], { dataset: 'mnist', dropout: false, run: 0 });
  assert.deepEqual(conditions.at(-1), { dataset: 'fashion', dropout: true, run: 0 });
  const states = networkStates({ train, init: { networks: 4 } });
  assert.equal(states.length, 2 * conditions.length + 4);
  assert.deepEqual(states[0], { dataset: 'mnist', dropout: false, run: 0, phase: 'unpruned' });
  assert.deepEqual(states[1], { dataset: 'mnist', dropout: false, run: 0, phase: 'pruned' });
  assert.deepEqual(states.at(-1), { dataset: 'init', dropout: false, run: 3, phase: 'init' });
  assert.equal(new Set(states.map((s) => JSON.stringify(s))).size, states.length, 'states are distinct');
  assert.throws(() => trainConditions({}), /section 'train:' is missing/);
  assert.throws(() => trainConditions({ train: { ...train, datasets: ['init'] } }), /reserved/);
});

test('backend resolution: auto picks an installed backend; a missing one is a clear error', () => {
  const auto = resolveBackend('auto');
  assert.ok(['onnx', 'tensorflow', 'wasm', 'cpu'].includes(auto));
  assert.equal(resolveBackend('cpu'), 'cpu');
  const facts = backendRuntime('wasm');
  assert.equal(facts.backend, 'wasm');
  assert.match(facts.backend_version, /^\d+\.\d+\.\d+/);
  assert.match(facts.tfjs_core, /^\d+\.\d+\.\d+/);
  assert.equal(facts.matmul_gradient, 'explicit-transpose');
  assert.equal(backendRuntime('cpu').matmul_gradient, undefined);
  let tfjsNode = true;
  try {
    import.meta.resolve('@tensorflow/tfjs-node');
  } catch {
    tfjsNode = false;
  }
  if (!tfjsNode)
    assert.throws(
      () => resolveBackend('tensorflow'),
      (e: Error) => e instanceof BackendUnavailableError && /tfjs-node is not installed/.test(e.message),
    );
});
