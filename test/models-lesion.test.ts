/**
 * External MLP files through the lesion stages: `lesion.networks` entries {model, test_set} take
 * a file of `external.models` and a test set (IDX files here, built in the test) through
 * lesion-modules, lesion-single, lesion-double and lesion. The same network as ONNX and as a
 * PyTorch state dict gives the same lesions, and the same intact accuracy as the science run on
 * the file directly; a CNN is refused with the reason, and a normalisation changes the inputs.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Table } from 'apache-arrow';
import { z } from 'zod';
import { defineStage, type Metrics, type StageDef } from '../engine/types.ts';
import { encodeIdx } from '../science/datasets/idx.ts';
import { evaluateLesions, prepareNetwork } from '../science/lesion/index.ts';
import { readMlp } from '../science/models/index.ts';
import { externalModelStage } from '../stages/external-model.ts';
import { lesionDoubleStage } from '../stages/lesion-double.ts';
import { lesionModulesStage } from '../stages/lesion-modules.ts';
import { lesionSingleStage } from '../stages/lesion-single.ts';
import { lesionStage } from '../stages/lesion.ts';
import { reproInline } from './helpers/repro.ts';

const FIXTURES = new URL('./fixtures/models/', import.meta.url).pathname;
const N_TEST = 120;

/** 8 × 8 test images (the fixture MLP takes 64 inputs) and labels, from a fixed LCG. */
function writeTestSet(root: string): { images: Uint8Array; labels: Uint8Array } {
  let state = 12345;
  const next = () => (state = (state * 1103515245 + 12345) >>> 0) >>> 24;
  const images = Uint8Array.from({ length: N_TEST * 64 }, next);
  const labels = Uint8Array.from({ length: N_TEST }, () => next() % 10);
  writeFileSync(join(root, 'test-images.idx.gz'), encodeIdx([N_TEST, 8, 8], images, { gzip: true }));
  writeFileSync(join(root, 'test-labels.idx'), encodeIdx([N_TEST], labels));
  return { images, labels };
}

const emptyStage = (name: string, output: string): StageDef =>
  defineStage({ module: import.meta.url, name, description: 'none', deps: [], matrix: () => [], outputs: [output], run: async () => ({ outputs: {} }) });

function lesionProject(root: string) {
  const modules = new Map<string, { metrics: Metrics; trueLesions: string }>();
  const combined = new Map<string, string>();
  const capturingModules: StageDef = {
    ...lesionModulesStage,
    inline: true,
    async run(ctx) {
      const r = await lesionModulesStage.run(ctx);
      // Accuracies by plan kind: sub-module ids follow k-means' labels, which may be permuted (its seed comes from the instance).
      const rows = (r.outputs.true_lesions as Table).toArray().map((row) => `${row.kind} ${row.accuracy}`);
      modules.set(String(ctx.axes.dataset), { metrics: r.metrics!, trueLesions: JSON.stringify(rows.sort()) });
      return r;
    },
  };
  const capturingLesion: StageDef = {
    ...lesionStage,
    inline: true,
    async run(ctx) {
      const r = await lesionStage.run(ctx);
      // The sub-modules and their true lesions: the random controls and k-means draw from seeds of the
      // instance (its model name), so cluster ids may be permuted and controls differ.
      const rows = (r.outputs.single as Table).toArray().map((row) => JSON.stringify([row.layer, row.size, row.true_acc, row.diff]));
      combined.set(String(ctx.axes.dataset), JSON.stringify(rows.sort()));
      return r;
    },
  };
  const project = {
    name: 'models-lesion',
    root,
    paramsFile: 'params.yaml',
    paramsSchema: z.any(),
    stages: [
      emptyStage('export', 'weights'),
      emptyStage('datasets', 'table'),
      { ...externalModelStage, inline: true },
      capturingModules,
      { ...lesionSingleStage, inline: true },
      { ...lesionDoubleStage, inline: true },
      capturingLesion,
    ],
  };
  const run = (overrides: string[] = []) => reproInline(project, overrides);
  return { run, modules, combined };
}

function writeParams(root: string, models: string[], networks: string) {
  writeFileSync(
    join(root, 'params.yaml'),
    'train: { datasets: [], dropout: [false], runs: 1, overrides: [] }\n' +
      `external: { models: [${models.map((m) => JSON.stringify(join(root, m))).join(', ')}], layers: {}, conv_norm: l1 }\n` +
      `lesion: { networks: ${networks}, k: 3, single_trials: 3, double_trials: 2, small_size: 2, diff_threshold: -0.01 }\n`,
  );
}

const testSetYaml = (root: string) =>
  `{ images: ${JSON.stringify(join(root, 'test-images.idx.gz'))}, labels: ${JSON.stringify(join(root, 'test-labels.idx'))} }`;

test('an external MLP is lesioned on a user test set: the same lesions from .onnx and .pt, the intact accuracy of the file itself', async () => {
  const root = mkdtempSync(join(tmpdir(), 'models-lesion-'));
  try {
    for (const f of ['mlp.onnx', 'mlp.pt']) copyFileSync(join(FIXTURES, f), join(root, f));
    const testSet = writeTestSet(root);
    writeParams(root, ['mlp.onnx', 'mlp.pt'], `[{ model: mlp.onnx, test_set: ${testSetYaml(root)} }, { model: mlp.pt, test_set: ${testSetYaml(root)} }]`);
    const { run, modules, combined } = lesionProject(root);
    assert.deepEqual((await run()).failed, []);
    const onnx = modules.get('external:mlp.onnx')!;
    const pt = modules.get('external:mlp.pt')!;
    assert.ok(onnx && pt, 'both models were lesioned');
    assert.deepEqual(onnx.trueLesions, pt.trueLesions, 'the same true lesions from both formats');
    assert.deepEqual(combined.get('external:mlp.onnx'), combined.get('external:mlp.pt'), 'the same sub-modules and true single lesions from both formats');
    // The intact network's accuracy is the science's on the file's own MLP, biases included.
    const { layers } = await readMlp(readFileSync(join(root, 'mlp.onnx')), { source: 'mlp.onnx' });
    const intact = evaluateLesions(prepareNetwork(layers), testSet, [[]]);
    assert.equal(onnx.metrics.intact_accuracy, intact.accuracy[0]);
    const noBias = evaluateLesions(prepareNetwork(layers.map((l) => ({ ...l, bias: new Float32Array(l.fanOut) }))), testSet, [[]]);
    assert.notEqual(noBias.accuracy[0], intact.accuracy[0], 'the test tells biases from none');
    // A normalisation enters the key and the inputs.
    const normalized = `[{ model: mlp.onnx, test_set: ${testSetYaml(root)}, normalize: { mean: 0.5, std: 0.25 } }]`;
    writeParams(root, ['mlp.onnx', 'mlp.pt'], normalized);
    modules.clear();
    assert.deepEqual((await run()).failed, []);
    assert.notEqual(modules.get('external:mlp.onnx')!.metrics.intact_accuracy, onnx.metrics.intact_accuracy);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('lesioning an external CNN or a model not in external.models fails with the reason; a wrong-sized test set names both sizes', async () => {
  const root = mkdtempSync(join(tmpdir(), 'models-lesion-bad-'));
  try {
    for (const f of ['cnn.pt', 'mlp.onnx']) copyFileSync(join(FIXTURES, f), join(root, f));
    writeTestSet(root);
    const { run } = lesionProject(root);
    writeParams(root, ['cnn.pt'], `[{ model: cnn.pt, test_set: ${testSetYaml(root)} }]`);
    const cnn = await run();
    assert.equal(cnn.failed.length, 1);
    assert.match(cnn.failed[0].message, /lesion\.networks: model 'cnn\.pt' cannot be lesioned: '.*' is a convolution/);
    writeParams(root, ['cnn.pt'], `[{ model: mlp.onnx, test_set: ${testSetYaml(root)} }]`);
    await assert.rejects(run(), /lesion\.networks\[0\]: model 'mlp\.onnx' is not a file of external\.models \(cnn\.pt\)/);
    // 28 × 28 images for a 64-input network.
    writeFileSync(join(root, 'test-images.idx.gz'), encodeIdx([N_TEST, 28, 28], new Uint8Array(N_TEST * 784)));
    writeParams(root, ['mlp.onnx'], `[{ model: mlp.onnx, test_set: ${testSetYaml(root)} }]`);
    const wrong = await run();
    assert.match(wrong.failed[0]?.message ?? '', /test images have 784 values each, but the network takes 64 inputs/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
