/**
 * Each stage declares the params it reads once, as a typed function (`params: (p: Params, axes)
 * => ...`), and the engine derives the key paths from it (engine/param-reads.ts). On a params file
 * where every stage has instances (test/fixtures/stage-params/params.yaml) this checks:
 *
 *  - the params part of every instance's key, and of its shard keys, is exactly what the earlier
 *    declarations (string lists such as `['cluster.k', 'cluster.seed', 'cluster.n_init']` plus a
 *    `resolve`) gave: key-params.txt was written by them (commit 1ef5701). Same key params, same
 *    seeds, same results;
 *  - the key paths each stage reads, against the lists those declarations named;
 *  - a misspelt key is a type error (tsc checks the @ts-expect-error below) and, in untyped code,
 *    an error naming the key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildGraph, paramPaths, withoutPath } from '../engine/graph.ts';
import { canonicalJson } from '../engine/hash.ts';
import { loadParams } from '../engine/params.ts';
import { defineStage } from '../engine/types.ts';
import { stages } from '../stages/index.ts';
import { paramsSchema, type Params } from '../stages/params/index.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FIXTURE = 'test/fixtures/stage-params';
// Relative to the project root: external-model reads its files relative to the working directory.
process.chdir(ROOT);
const params = loadParams({ root: ROOT, file: `${FIXTURE}/params.yaml`, overrides: [], schema: paramsSchema }).values as Params;

/** What each stage declared before: `params: [...]` (only these reached its resolve()). */
const DECLARED_BEFORE: Record<string, string[]> = {
  datasets: ['datasets.seed'],
  train: ['train', 'learning_curve'],
  prune: ['train', 'prune', 'learning_curve'],
  export: ['train'],
  'external-model': ['external.models', 'external.layers', 'external.conv_norm'],
  cluster: ['cluster.k', 'cluster.seed', 'cluster.n_init'],
  'shuffle-sample': ['shuffle.samples', 'cluster.n_init'],
  'learning-curve': ['learning_curve.k', 'cluster.seed', 'cluster.n_init'],
  'lesion-modules': ['lesion.k', 'train.overrides'],
  'lesion-single': ['lesion.single_trials', 'train.overrides'],
  'lesion-double': ['lesion.double_trials', 'train.overrides'],
  lesion: ['lesion.small_size', 'lesion.diff_threshold'],
  report: ['report'],
};

const TRAIN_SETTINGS = [
  'backend',
  'batch_size',
  'beta_1',
  'beta_2',
  'dropout_rate',
  'epochs',
  'epsilon',
  'hidden',
  'learning_rate',
  'overrides',
  'shuffle',
  'train_examples',
];
const PRUNE_SCHEDULE = ['begin_step', 'end_step', 'epochs', 'final_sparsity', 'frequency', 'initial_sparsity', 'overrides', 'power'];

/** What each stage reads now, derived from its params(): where it differs from DECLARED_BEFORE, that list named more than the stage read. */
const READS: Record<string, string[]> = {
  datasets: ['datasets.seed'],
  // Whole sections before; the sweep (train.datasets, dropout, runs) and learning_curve.k were never read.
  train: [...['every', 'overrides', 'runs'].map((k) => `learning_curve.${k}`), ...TRAIN_SETTINGS.map((k) => `train.${k}`)],
  prune: [
    ...['overrides', 'prune_every', 'runs'].map((k) => `learning_curve.${k}`),
    ...PRUNE_SCHEDULE.map((k) => `prune.${k}`),
    ...TRAIN_SETTINGS.map((k) => `train.${k}`),
  ],
  export: ['train.backend', 'train.dropout_rate', 'train.hidden', 'train.overrides'],
  // One entry of the external.layers mapping per model file.
  'external-model': [
    'external.conv_norm',
    'external.layers["test/fixtures/models/mlp.npz"]',
    'external.layers["test/fixtures/models/mlp.onnx"]',
    'external.models',
  ],
  // cluster.k, the sweep list, never entered the key: k comes from the axes (adding a k must not rerun the others).
  cluster: ['cluster.n_init', 'cluster.seed'],
  'shuffle-sample': ['cluster.n_init', 'shuffle.samples'],
  'learning-curve': ['cluster.n_init', 'cluster.seed', 'learning_curve.k'],
  'lesion-modules': ['lesion.k', 'train.overrides'],
  'lesion-single': ['lesion.single_trials', 'train.overrides'],
  'lesion-double': ['lesion.double_trials', 'train.overrides'],
  lesion: ['lesion.diff_threshold', 'lesion.small_size'],
  report: ['report'],
};

const within = (path: string, declared: string) => path === declared || path.startsWith(`${declared}.`) || path.startsWith(`${declared}[`);

test('every stage reads only params its earlier declaration named, and these ones', () => {
  assert.deepEqual(stages.map((s) => s.name).sort(), Object.keys(DECLARED_BEFORE).sort());
  for (const stage of stages) {
    const reads = paramPaths(stage, params);
    assert.deepEqual(reads, READS[stage.name], stage.name);
    for (const path of reads) {
      assert.ok(
        DECLARED_BEFORE[stage.name].some((d) => within(path, d)),
        `${stage.name} reads ${path}, which it did not declare before`,
      );
    }
  }
});

test('the params part of every key (and shard key) is what the string-list declarations gave', () => {
  const lines = buildGraph(stages, params).all.map((inst) => {
    const shard = inst.countPath ? canonicalJson(withoutPath(inst.params, inst.countPath)) : '-';
    return [inst.id, canonicalJson(inst.params), shard, inst.count ?? '-'].join('\t');
  });
  const expected = readFileSync(`${FIXTURE}/key-params.txt`, 'utf8').trimEnd().split('\n');
  assert.equal(lines.length, expected.length);
  lines.forEach((line, i) => assert.equal(line, expected[i]));
});

test('a misspelt params key is a type error, and an error naming the key in untyped code', () => {
  const stage = defineStage({
    module: import.meta.url,
    name: 'typo',
    description: 'reads a key that does not exist',
    deps: [],
    // @ts-expect-error: `sed` is not a key of the cluster section
    params: (p: Params) => ({ seed: p.cluster.sed }),
    outputs: ['out'],
    run: async () => ({ outputs: {} }),
  });
  assert.throws(() => buildGraph([stage], params), /stage 'typo' reads params key 'cluster.sed', which the params file does not define/);
});
