/**
 * Training with tfjs (wasm backend) on tiny generated data: the BatchMatMul gradient fix,
 * determinism, crash-and-resume, pruning sparsity, TF.js export, and the stages' run().
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { tableFromIPC, tableToIPC, type Table } from 'apache-arrow';
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../science/random.ts';
import { initBackend } from '../science/mlp/backend.ts';
import { fastBatchMatMulGradConfig, stockBatchMatMulGradConfig } from '../science/mlp/matmul-grad.ts';
import { evaluate, meanCrossEntropyOp, trainPhase, type PhaseOptions } from '../science/mlp/trainer.ts';
import { glorotUniformInit, layerSizes } from '../science/mlp/model.ts';
import { KERAS_ADAM } from '../science/mlp/adam.ts';
import { weightsToKeep, type PruningSchedule } from '../science/mlp/pruning.ts';
import { loadTfjsModel, toTfjsModel, MODEL_WEIGHTS_FILE } from '../science/mlp/tfjs-model.ts';
import { weightsFromTable } from '../science/weights.ts';
import { datasetToTable } from '../science/datasets/table.ts';
import { historyTable } from '../science/mlp/history.ts';
import { trainStage, type TrainStageConfig } from '../stages/train.ts';
import { snapshotsFromTable } from '../science/mlp/snapshots.ts';
import { decodeCheckpoint } from '../science/mlp/checkpoint.ts';
import { pruneStage, type PruneStageConfig } from '../stages/prune.ts';
import { exportStage } from '../stages/export.ts';
import { digest, HIDDEN, memoryStore, TEST, toyOptions as options, TRAIN } from './fixtures/train/data.ts';
import type { Axes, InputInstance, RunContext } from '../engine/types.ts';

before(async () => {
  await initBackend('wasm');
});

test('BatchMatMul: the explicit-transpose gradient equals the stock gradient to 1e-5 on random shapes', () => {
  const stock = stockBatchMatMulGradConfig();
  const rng = new Rng(4);
  const dims = () => 1 + rng.int(9);
  for (let trial = 0; trial < 24; trial++) {
    const transposeA = trial % 2 === 1;
    const transposeB = trial % 4 >= 2;
    const batch = trial % 8 >= 4 ? [1 + rng.int(3)] : [];
    const [m, k, n] = [dims(), dims(), dims()];
    tf.tidy(() => {
      const a = tf.randomNormal([...batch, ...(transposeA ? [k, m] : [m, k])], 0, 1, 'float32', trial);
      const b = tf.randomNormal([...batch, ...(transposeB ? [n, k] : [k, n])], 0, 1, 'float32', trial + 100);
      const dy = tf.randomNormal([...batch, m, n], 0, 1, 'float32', trial + 200);
      const attrs = { transposeA, transposeB } as unknown as tf.NamedAttrMap;
      const want = stock.gradFunc(dy, [a, b], attrs);
      const got = fastBatchMatMulGradConfig.gradFunc(dy, [a, b], attrs);
      for (const input of ['a', 'b']) {
        const w = want[input]();
        const g = got[input]();
        assert.deepEqual(g.shape, w.shape, `trial ${trial} ${input} shape`);
        const diff = tf.max(tf.abs(tf.sub(g, w))).dataSync()[0];
        assert.ok(diff <= 1e-5, `trial ${trial} (tA=${transposeA}, tB=${transposeB}, batch=${batch}) ${input}: max diff ${diff}`);
      }
    });
  }
  // And it is the one the engine uses on wasm: tf.grads of a matMul goes through it.
  assert.equal(tf.getGradient('BatchMatMul'), fastBatchMatMulGradConfig);
});

test('the cross-entropy op equals tfjs softmaxCrossEntropy in value and gradient, and counts correct predictions', () => {
  const rng = new Rng(8);
  const rows = 37;
  const labels = Uint8Array.from({ length: rows }, () => rng.int(10));
  tf.tidy(() => {
    const logits = tf.mul(tf.randomNormal([rows, 10], 0, 1, 'float32', 3), 4);
    const oneHot = tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), 10), 'float32');
    const stats = { lossSum: 0, correct: 0 };
    const ours = tf.valueAndGrad((z: tf.Tensor) => meanCrossEntropyOp(labels, stats)(z) as tf.Scalar)(logits);
    const stock = tf.valueAndGrad((z: tf.Tensor) => tf.losses.softmaxCrossEntropy(oneHot, z, undefined, 0, tf.Reduction.MEAN) as tf.Scalar)(logits);
    const [a, b] = [ours.value.dataSync()[0], stock.value.dataSync()[0]];
    assert.ok(Math.abs(a - b) < 1e-5, `loss ${a} vs ${b}`);
    assert.ok(Math.abs(stats.lossSum / rows - b) < 1e-5, `summed loss ${stats.lossSum / rows} vs ${b}`);
    const gradDiff = tf.max(tf.abs(tf.sub(ours.grad, stock.grad))).dataSync()[0];
    assert.ok(gradDiff < 1e-6, `gradient max diff ${gradDiff}`);
    const predicted = tf.argMax(logits, 1).dataSync();
    assert.equal(stats.correct, labels.filter((l, i) => predicted[i] === l).length);
  });
});

test('training learns, is deterministic per seed, and a different seed gives different weights', async () => {
  const before = tf.memory().numTensors;
  const a = await trainPhase(options());
  const b = await trainPhase(options());
  const c = await trainPhase(options({ seed: 100 }));
  assert.equal(digest(a.layers), digest(b.layers), 'same seed and backend → identical weights');
  assert.deepEqual(a.history, b.history);
  assert.notEqual(digest(a.layers), digest(c.layers), 'another seed → other weights');
  assert.equal(tf.memory().numTensors, before, 'no tensors leak');
  assert.equal(a.history.length, 3);
  assert.ok(a.history[2].trainLoss < a.history[0].trainLoss, 'loss decreases');
  assert.ok(a.history[2].testAccuracy > 0.5, `test accuracy ${a.history[2].testAccuracy}`);
  // The recorded test metrics are those of the returned weights.
  const ev = evaluate(a.layers, TEST);
  assert.equal(ev.accuracy, a.history[2].testAccuracy);
  assert.ok(Math.abs(ev.loss - a.history[2].testLoss) < 1e-12, `test loss ${ev.loss} vs ${a.history[2].testLoss}`);
  // Dropout masks matter: without dropout the same seed trains other weights.
  const noDrop = await trainPhase(options({ dropoutRate: 0 }));
  assert.notEqual(digest(noDrop.layers), digest(a.layers));
  // The input weights are not modified.
  assert.deepEqual(options().initial, glorotUniformInit(layerSizes(HIDDEN), 7));
});

test('no shuffling trains in file order: the result does not depend on the order seed', async () => {
  const a = await trainPhase(options({ shuffle: false, dropoutRate: 0, seed: 1 }));
  const b = await trainPhase(options({ shuffle: false, dropoutRate: 0, seed: 2 }));
  assert.equal(digest(a.layers), digest(b.layers));
});

test('killed after epoch 1 of 3 and rerun: final weights identical to an uninterrupted run', async () => {
  const uninterrupted = await trainPhase(options({ checkpoint: memoryStore() }));
  const store = memoryStore(1);
  await assert.rejects(trainPhase(options({ checkpoint: store })), /simulated crash/);
  const messages: string[] = [];
  const resumed = await trainPhase(options({ checkpoint: store, onResume: (m) => messages.push(m) }));
  assert.equal(resumed.resumedEpochs, 1);
  assert.match(messages[0], /resuming unpruned phase after epoch 1\/3/);
  assert.equal(digest(resumed.layers), digest(uninterrupted.layers));
  assert.deepEqual(resumed.history, uninterrupted.history);
});

test('learning-curve snapshots: the weights of the epoch checkpoint, every N epochs, kept across a crash and resume', async () => {
  // Record every checkpoint as it is saved, to compare each snapshot with its epoch's checkpoint.
  const saved: Uint8Array[] = [];
  const recording = { load: async () => undefined, save: async (b: Uint8Array) => void saved.push(b.slice()) };
  const full = await trainPhase(options({ epochs: 4, snapshotEvery: 2, checkpoint: recording }));
  assert.deepEqual(
    full.snapshots.map((s) => s.epoch),
    [2, 4],
  );
  for (const snap of full.snapshots) assert.equal(digest(snap.layers), digest(decodeCheckpoint(saved[snap.epoch - 1]).layers), `epoch ${snap.epoch}`);
  assert.equal(digest(full.snapshots[1].layers), digest(full.layers));
  // Killed after epoch 3 (one snapshot taken), resumed: the same snapshots, bit for bit.
  const store = memoryStore(3);
  await assert.rejects(trainPhase(options({ epochs: 4, snapshotEvery: 2, checkpoint: store })), /simulated crash/);
  const resumed = await trainPhase(options({ epochs: 4, snapshotEvery: 2, checkpoint: store }));
  assert.equal(resumed.resumedEpochs, 3);
  assert.deepEqual(
    resumed.snapshots.map((s) => [s.epoch, digest(s.layers)]),
    full.snapshots.map((s) => [s.epoch, digest(s.layers)]),
  );
  // Without snapshots the trained weights are the same.
  assert.equal(digest((await trainPhase(options({ epochs: 4 }))).layers), digest(full.layers));
});

test('an abort signal stops training between steps; the run resumes from the last epoch checkpoint', async () => {
  const uninterrupted = await trainPhase(options());
  const store = memoryStore();
  const controller = new AbortController();
  await assert.rejects(
    trainPhase(options({ checkpoint: store, signal: controller.signal, onEpoch: (r) => r.metrics.epoch === 2 && controller.abort(new Error('interrupted')) })),
    /interrupted/,
  );
  const resumed = await trainPhase(options({ checkpoint: store }));
  assert.equal(resumed.resumedEpochs, 2);
  assert.equal(digest(resumed.layers), digest(uninterrupted.layers));
});

test('a checkpoint of another configuration is ignored, not resumed', async () => {
  const store = memoryStore();
  await trainPhase(options({ epochs: 1, checkpoint: store }));
  const messages: string[] = [];
  const fresh = await trainPhase(options({ epochs: 1, seed: 5, checkpoint: store, onResume: (m) => messages.push(m) }));
  assert.equal(fresh.resumedEpochs, 0);
  assert.match(messages[0], /ignoring the unpruned checkpoint/);
  assert.equal(digest(fresh.layers), digest((await trainPhase(options({ epochs: 1, seed: 5 }))).layers));
});

const SCHEDULE = (endStep: number): PruningSchedule => ({ initialSparsity: 0.5, finalSparsity: 0.9, beginStep: 0, endStep, frequency: 10, power: 3 });

test('pruning: each kernel ends at exactly the target sparsity, biases are never masked, resume is bit-identical', async () => {
  const trained = await trainPhase(options({ epochs: 2 }));
  const stepsPerEpoch = Math.ceil(TRAIN.labels.length / 32); // 7
  // end_step at a mask-update step inside the phase, so the final sparsity is reached.
  const prune = (over: Partial<PhaseOptions> = {}) =>
    trainPhase(options({ phase: 'pruned', initial: trained.layers, epochs: 4, pruning: SCHEDULE(20), seed: 3, ...over }));
  const pruned = await prune();
  assert.ok(stepsPerEpoch * 4 > 20, 'the schedule ends inside the phase');
  pruned.layers.forEach((l, i) => {
    const nonzero = l.kernel.reduce((n, w) => n + (w !== 0 ? 1 : 0), 0);
    assert.equal(nonzero, weightsToKeep(l.kernel.length, 0.9), `layer ${i} kernel`);
    assert.ok(
      l.bias.every((b) => b !== 0),
      `layer ${i} biases are trained, never pruned`,
    );
  });
  assert.ok(Math.abs(pruned.history.at(-1)!.sparsity - 0.9) < 0.01, `final sparsity ${pruned.history.at(-1)!.sparsity}`);
  assert.ok(pruned.history[0].sparsity >= 0.5, 'step 0 already prunes to ≥ 50%');
  // Crash after epoch 2 of 4, resume: masks and Adam state come back exactly.
  const store = memoryStore(2);
  await assert.rejects(prune({ checkpoint: store }), /simulated crash/);
  const resumed = await prune({ checkpoint: store });
  assert.equal(resumed.resumedEpochs, 2);
  assert.equal(digest(resumed.layers), digest(pruned.layers));
});

test('export: the TF.js model loads with tf.loadLayersModel and predicts like the weights', async () => {
  const net = (await trainPhase(options({ epochs: 1 }))).layers;
  const files = await toTfjsModel(net, 0.5);
  const json = JSON.parse(new TextDecoder().decode(files.modelJson));
  assert.equal(json.format, 'layers-model');
  assert.deepEqual(json.weightsManifest[0].paths, [MODEL_WEIGHTS_FILE]);
  const layerClasses = json.modelTopology.config.layers.map((l: any) => l.class_name);
  assert.deepEqual(layerClasses, ['Dense', 'Dropout', 'Dense', 'Dropout', 'Dense']);
  assert.equal(files.weightsBin.length, 4 * net.reduce((n, l) => n + l.kernel.length + l.bias.length, 0));
  const model = await loadTfjsModel(files);
  const x = tf.tensor2d(
    Float32Array.from(TEST.images.subarray(0, 5 * 784), (v) => v / 255),
    [5, 784],
  );
  const probs = (model.predict(x) as tf.Tensor).arraySync() as number[][];
  // The same forward pass by hand from the weights (ReLU hidden, softmax output).
  for (let r = 0; r < 5; r++) {
    let h = Array.from(TEST.images.subarray(r * 784, (r + 1) * 784), (v) => Math.fround(v / 255));
    net.forEach((l, i) => {
      const out = Array.from(l.bias);
      for (let a = 0; a < l.fanIn; a++) for (let b = 0; b < l.fanOut; b++) out[b] += h[a] * l.kernel[a * l.fanOut + b];
      h = i < net.length - 1 ? out.map((v) => Math.max(0, v)) : out;
    });
    const max = Math.max(...h);
    const exp = h.map((v) => Math.exp(v - max));
    const sum = exp.reduce((s, v) => s + v, 0);
    exp.forEach((e, c) => assert.ok(Math.abs(probs[r][c] - e / sum) < 1e-4, `row ${r} class ${c}`));
  }
  tf.dispose([x]);
  model.dispose();
  // Without dropout there are no Dropout layers; identical inputs give identical bytes.
  const plain = await toTfjsModel(net, 0);
  assert.deepEqual(
    JSON.parse(new TextDecoder().decode(plain.modelJson)).modelTopology.config.layers.map((l: any) => l.class_name),
    ['Dense', 'Dense', 'Dense'],
  );
  assert.deepEqual(await toTfjsModel(net, 0), plain);
});

// ---- the stages' run() with hand-built contexts -------------------------------------------

function artifact(value: Table | Uint8Array): InputInstance['outputs'][string] {
  const bytes = value instanceof Uint8Array ? value : tableToIPC(value, 'file');
  return {
    kind: value instanceof Uint8Array ? 'bytes' : 'arrow',
    digest: 'test' as any,
    table: async () => tableFromIPC(bytes),
    bytes: async () => bytes,
    files: async () => ({}),
  };
}

function context<P>(stage: string, axes: Axes, params: P, inputs: Record<string, InputInstance[]>, seed = 1234): RunContext<P> & { messages: string[] } {
  const messages: string[] = [];
  return {
    stage,
    key: 'k' as any,
    axes,
    params,
    inputs,
    runtime: {},
    seed,
    progress: (u) => u.message && messages.push(u.message),
    checkpoint: { load: async () => undefined, save: async () => {} },
    downloadsDir: '/nonexistent',
    signal: new AbortController().signal,
    messages,
  };
}

test('stages: train → prune → export on a tiny dataset, with the contract metrics and metadata', async () => {
  const table = datasetToTable({ name: 'toy', train: TRAIN, test: TEST });
  const datasets = [{ stage: 'datasets', axes: { dataset: 'toy' }, outputs: { table: artifact(table) }, metrics: {} }];
  const axes = { dataset: 'toy', dropout: true, run: 2 };
  const trainConfig: TrainStageConfig = {
    backend: 'wasm',
    source: 'toy',
    hidden: HIDDEN,
    epochs: 2,
    batchSize: 32,
    adam: KERAS_ADAM,
    dropoutRate: 0.5,
    shuffle: true,
    trainExamples: 150,
    snapshotEvery: 1,
  };
  const trainCtx = context('train', axes, trainConfig, { datasets });
  const trained = await trainStage.run(trainCtx);
  assert.deepEqual(Object.keys(trained.outputs).sort(), [...trainStage.outputs].sort());
  assert.match(trainCtx.messages.at(-1)!, /^epoch 2\/2 loss \d\.\d{3} acc \d\.\d{3} test \d\.\d{3} eta /);
  assert.equal(trained.metrics!.n_train, 150);
  const unprunedWeights = weightsFromTable(trained.outputs.weights as Table);
  assert.deepEqual(unprunedWeights.meta, { dataset: 'toy', dropout: true, run: 2, phase: 'unpruned', testAccuracy: trained.metrics!.test_accuracy });
  // Same context → same bytes (the determinism the cache relies on).
  const again = await trainStage.run(context('train', axes, trainConfig, { datasets }));
  assert.deepEqual(tableToIPC(again.outputs.weights as Table), tableToIPC(trained.outputs.weights as Table));
  // Snapshots after every epoch; the last one is the output network.
  const trainSnapshots = snapshotsFromTable(trained.outputs.snapshots as Table);
  assert.deepEqual(
    trainSnapshots.map((s) => s.epoch),
    [1, 2],
  );
  assert.deepEqual(trainSnapshots[1].layers, unprunedWeights.layers);
  assert.notDeepEqual(trainSnapshots[0].layers[0].kernel, trainSnapshots[1].layers[0].kernel);
  const withoutCurve = await trainStage.run(context('train', axes, { ...trainConfig, snapshotEvery: 0 }, { datasets }));
  assert.equal((withoutCurve.outputs.snapshots as Table).numRows, 0, 'runs without a learning curve emit no snapshot rows');
  assert.deepEqual(tableToIPC(withoutCurve.outputs.weights as Table), tableToIPC(trained.outputs.weights as Table), 'snapshots do not change training');

  const pruneConfig: PruneStageConfig = {
    backend: 'wasm',
    source: 'toy',
    batchSize: 32,
    adam: KERAS_ADAM,
    dropoutRate: 0.5,
    shuffle: true,
    trainExamples: 150,
    schedule: { epochs: 3, initialSparsity: 0.5, finalSparsity: 0.8, beginStep: 0, endStep: 10, frequency: 5, power: 3 },
    snapshotEvery: 2,
  };
  const trainInput = {
    stage: 'train',
    axes,
    outputs: { weights: artifact(trained.outputs.weights as Table), history: artifact(trained.outputs.history as Table) },
    metrics: trained.metrics!,
  };
  const pruned = await pruneStage.run(context('prune', axes, pruneConfig, { train: [trainInput], datasets }));
  assert.ok(Math.abs((pruned.metrics!.sparsity as number) - 0.8) < 0.01, `sparsity ${pruned.metrics!.sparsity}`);
  assert.equal(historyTable.fromTable(pruned.outputs.history as Table, 'prune history').length, 3);
  assert.deepEqual(
    snapshotsFromTable(pruned.outputs.snapshots as Table).map((s) => s.epoch),
    [2],
  );

  const pruneInput = {
    stage: 'prune',
    axes,
    outputs: { weights: artifact(pruned.outputs.weights as Table), history: artifact(pruned.outputs.history as Table) },
    metrics: pruned.metrics!,
  };
  const exported = await exportStage.run(
    context('export', { ...axes, phase: 'pruned' }, { backend: 'wasm', hidden: null, dropoutRate: 0.5 }, { prune: [pruneInput] }),
  );
  assert.deepEqual(Object.keys(exported.outputs).sort(), ['model_json', 'model_weights', 'weights']);
  for (const key of ['train_accuracy', 'train_loss', 'test_accuracy', 'test_loss', 'epochs', 'sparsity'])
    assert.equal(exported.metrics![key], pruned.metrics![key], key);
  // The public weights file opens with apache-arrow with the documented schema, and round-trips.
  const file = tableFromIPC(tableToIPC(exported.outputs.weights as Table, 'file'));
  assert.deepEqual(
    file.schema.fields.map((f) => `${f.name}:${f.type}`),
    ['layer:Int32', 'fan_in:Int32', 'fan_out:Int32', 'kernel:List<Float32>', 'bias:List<Float32>'],
  );
  assert.deepEqual(Object.fromEntries(file.schema.metadata), {
    dataset: 'toy',
    dropout: 'true',
    run: '2',
    phase: 'pruned',
    test_accuracy: String(pruned.metrics!.test_accuracy),
  });
  assert.deepEqual(weightsFromTable(file).layers, weightsFromTable(pruned.outputs.weights as Table).layers);
  const model = await loadTfjsModel({ modelJson: exported.outputs.model_json as Uint8Array, weightsBin: exported.outputs.model_weights as Uint8Array });
  model.dispose();

  // Untrained networks: Glorot from the instance seed, null accuracies, no inputs.
  assert.deepEqual(exportStage.inputs!({ dataset: 'init', dropout: false, run: 0, phase: 'init' }, { backend: 'wasm', hidden: HIDDEN, dropoutRate: 0 }), []);
  const initParams = { backend: 'wasm' as const, hidden: HIDDEN, dropoutRate: 0 };
  const init = await exportStage.run(context('export', { dataset: 'init', dropout: false, run: 0, phase: 'init' }, initParams, {}, 1));
  const init2 = await exportStage.run(context('export', { dataset: 'init', dropout: false, run: 1, phase: 'init' }, initParams, {}, 2));
  assert.equal(init.metrics!.test_accuracy, null);
  assert.equal(init.metrics!.epochs, 0);
  assert.equal(init.metrics!.sparsity, 0);
  const initWeights = weightsFromTable(init.outputs.weights as Table);
  assert.equal(initWeights.meta.phase, 'init');
  assert.equal(initWeights.meta.testAccuracy, undefined);
  assert.deepEqual(
    initWeights.layers.map((l) => [l.fanIn, l.fanOut]),
    [
      [784, 24],
      [24, 16],
      [16, 10],
    ],
  );
  assert.notDeepEqual(initWeights.layers[0].kernel, weightsFromTable(init2.outputs.weights as Table).layers[0].kernel);
});

test('stage wiring: keys see only what they need', () => {
  const unpruned = exportStage.inputs!({ dataset: 'mnist', dropout: false, run: 3, phase: 'unpruned' }, { backend: 'wasm', hidden: null, dropoutRate: 0 });
  assert.deepEqual(unpruned, [{ stage: 'train', where: { dataset: 'mnist', dropout: false, run: 3 }, outputs: ['weights', 'history'] }]);
  const pruned = exportStage.inputs!({ dataset: 'mnist', dropout: false, run: 3, phase: 'pruned' }, { backend: 'wasm', hidden: null, dropoutRate: 0 });
  assert.equal(pruned[0].stage, 'prune');
  const trainInputs = trainStage.inputs!({ dataset: 'random-kiloepoch', dropout: false, run: 0 }, { source: 'random' } as TrainStageConfig);
  assert.deepEqual(trainInputs, [{ stage: 'datasets', where: { dataset: 'random' }, outputs: ['table'] }]);
  for (const stage of [trainStage, pruneStage, exportStage]) assert.ok(stage.runtime, `${stage.name} declares runtime facts`);
});

test('the cpu backend trains with the stock gradient and agrees with wasm; switching back restores the fix', async () => {
  const onWasm = await trainPhase(options({ epochs: 1 }));
  await initBackend('cpu');
  try {
    assert.equal(tf.getBackend(), 'cpu');
    assert.equal(tf.getGradient('BatchMatMul'), stockBatchMatMulGradConfig(), 'the fix belongs to wasm only');
    const cpu = await trainPhase(options({ epochs: 1 }));
    const again = await trainPhase(options({ epochs: 1 }));
    assert.equal(digest(cpu.layers), digest(again.layers), 'deterministic on cpu too');
    // Same seeds, other kernels: the weights differ only by float rounding.
    let maxDiff = 0;
    cpu.layers.forEach((l, i) => l.kernel.forEach((w, j) => (maxDiff = Math.max(maxDiff, Math.abs(w - onWasm.layers[i].kernel[j])))));
    assert.ok(maxDiff < 1e-3, `cpu vs wasm max weight difference ${maxDiff}`);
  } finally {
    await initBackend('wasm');
  }
  assert.equal(tf.getBackend(), 'wasm');
  assert.equal(tf.getGradient('BatchMatMul'), fastBatchMatMulGradConfig);
});
