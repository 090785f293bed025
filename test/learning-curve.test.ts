/** Learning curves: which runs keep snapshots, the learning-curve stage's arithmetic, Figure 1 through the report stage. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { tableFromArrays, type Table } from 'apache-arrow';
import type { InputArtifact, InputInstance, RunContext } from '../engine/types.ts';
import { clusterWeights } from '../science/cluster/index.ts';
import { curveTable } from '../science/cluster/learning-curve.ts';
import { labelColumns, labelsTable } from '../science/cluster/tables.ts';
import { historyTable, type EpochMetrics } from '../science/mlp/history.ts';
import { glorotUniformInit } from '../science/mlp/model.ts';
import { snapshotsFromTable, snapshotsToTable, type WeightSnapshot } from '../science/mlp/snapshots.ts';
import { DEFAULT_REPORT_OPTIONS } from '../science/report/options.ts';
import { weightsToTable } from '../science/weights.ts';
import { learningCurveConditions, snapshotEvery } from '../stages/conditions.ts';
import { learningCurveStage } from '../stages/learning-curve.ts';
import { paramsSchema } from '../stages/params/index.ts';
import { gatherRecords } from '../stages/report.ts';

function artifact(table: Table, digest: string): InputArtifact {
  return { kind: 'arrow', digest: digest as InputArtifact['digest'], table: async () => table, bytes: async () => new Uint8Array(), files: async () => ({}) };
}

const history = (epochs: number): EpochMetrics[] =>
  Array.from({ length: epochs }, (_, i) => ({ epoch: i + 1, trainLoss: 1, trainAccuracy: 0.5, testLoss: 1, testAccuracy: 0.5 + i / 100, sparsity: 0 }));

test('snapshot periods: only the runs listed, per-condition overrides, separate training and pruning periods', () => {
  const params = parse(readFileSync(new URL('../params.yaml', import.meta.url), 'utf8'));
  const curve = paramsSchema.parse(params).learning_curve;
  assert.equal(snapshotEvery(curve, { dataset: 'mnist', dropout: false, run: 0 }, 'unpruned'), 5);
  assert.equal(snapshotEvery(curve, { dataset: 'mnist', dropout: true, run: 0 }, 'pruned'), 5);
  assert.equal(snapshotEvery(curve, { dataset: 'mnist', dropout: false, run: 1 }, 'unpruned'), 0, 'run 1 keeps nothing');
  assert.equal(snapshotEvery(curve, { dataset: 'random-kiloepoch', dropout: false, run: 0 }, 'unpruned'), 50);
  assert.equal(snapshotEvery(curve, { dataset: 'random-kiloepoch', dropout: false, run: 0 }, 'pruned'), 5);
  const conditions = learningCurveConditions(params);
  assert.ok(conditions.length > 0 && conditions.every((c) => c.run === 0));
  assert.equal(conditions.length, params.train.datasets.length * params.train.dropout.length);
  assert.deepEqual(learningCurveConditions({ ...params, learning_curve: { ...params.learning_curve, runs: [] } }), []);
});

test('snapshots table: round trip, empty table for runs without a curve', () => {
  const snaps: WeightSnapshot[] = [5, 10].map((epoch) => ({ epoch, layers: glorotUniformInit([6, 4, 3], epoch) }));
  assert.deepEqual(snapshotsFromTable(snapshotsToTable(snaps, 'unpruned', 5)), snaps);
  const empty = snapshotsToTable([], 'pruned', 0);
  assert.equal(empty.numRows, 0);
  assert.deepEqual(snapshotsFromTable(empty), []);
  assert.throws(() => snapshotsFromTable(tableFromArrays({ epoch: Int32Array.from([1]) }), 'x.arrow'), /x\.arrow: missing column 'layer'/);
});

test('stage learning-curve: one point per snapshot, pruning epochs offset by training, n-cut as `cluster` computes it', async () => {
  const sizes = [784, 24, 16, 10];
  const trainSnaps: WeightSnapshot[] = [2, 4].map((epoch) => ({ epoch, layers: glorotUniformInit(sizes, epoch) }));
  const pruneSnaps: WeightSnapshot[] = [3].map((epoch) => ({ epoch, layers: glorotUniformInit(sizes, 10 + epoch) }));
  const axes = { dataset: 'mnist', dropout: false, run: 0 };
  const inputs: Record<string, InputInstance[]> = {
    train: [
      {
        stage: 'train',
        axes,
        outputs: {
          snapshots: artifact(snapshotsToTable(trainSnaps, 'unpruned', 2), 't'),
          history: artifact(historyTable.toTable(history(4), { phase: 'unpruned' }), 'th'),
        },
        metrics: {},
      },
    ],
    prune: [
      {
        stage: 'prune',
        axes,
        outputs: {
          snapshots: artifact(snapshotsToTable(pruneSnaps, 'pruned', 3), 'p'),
          history: artifact(historyTable.toTable(history(3), { phase: 'pruned' }), 'ph'),
        },
        metrics: {},
      },
    ],
  };
  const ctx = { stage: 'learning-curve', axes, params: { k: 4, seed: 42, nInit: 2 }, inputs, progress: () => {} } as unknown as RunContext<{
    k: number;
    seed: number;
    nInit: number;
  }>;
  const result = await learningCurveStage.run(ctx);
  const points = curveTable.fromTable(result.outputs.curve as Table, 'learning-curve curve');
  assert.deepEqual(
    points.map((p) => [p.phase, p.epoch, p.epochTotal]),
    [
      ['unpruned', 2, 2],
      ['unpruned', 4, 4],
      ['pruned', 3, 7],
    ],
  );
  assert.equal(points[1].testAccuracy, 0.53);
  const expected = clusterWeights([...trainSnaps[1].layers], 4, 42, { nInit: 2 }).ncut;
  assert.equal(points[1].ncut, expected);
  assert.equal(result.metrics!.train_last_ncut, expected);
  assert.equal(result.metrics!.points, 3);
});

test('report: Figure 1 draws the pruned network of report.figure_1 from its export weights and its labels at main_k', async () => {
  const O = { ...DEFAULT_REPORT_OPTIONS, figure_1: { dataset: 'fashion', dropout: true, run: 0, edge_share: 0.05 } };
  const layers = glorotUniformInit([784, 12, 10], 3);
  const { labels, ncut } = clusterWeights(layers, 4, 42);
  const axes = { dataset: 'fashion', dropout: true, run: 0, phase: 'pruned' };
  const labelTable = labelsTable.toTable(labelColumns(labels, [784, 12, 10]));
  const inputs: Record<string, InputInstance[]> = {
    export: [
      {
        stage: 'export',
        axes,
        outputs: { weights: artifact(weightsToTable({ layers, meta: { dataset: 'fashion', dropout: true, run: 0, phase: 'pruned' } }), 'w') },
        metrics: {},
      },
    ],
    cluster: [
      {
        stage: 'cluster',
        axes: { ...axes, k: 7 },
        outputs: { labels: artifact(labelsTable.toTable(labelColumns(new Int32Array(labels.length), [784, 12, 10])), 'l7') },
        metrics: { ncut: 9, k: 7 },
      },
      { stage: 'cluster', axes: { ...axes, k: 4 }, outputs: { labels: artifact(labelTable, 'l4') }, metrics: { ncut, k: 4 } },
    ],
  };
  const g = await gatherRecords(inputs, O);
  assert.ok(g.drawn);
  assert.equal(g.drawn.k, 4);
  assert.equal(g.drawn.ncut, ncut);
  assert.deepEqual(g.drawn.labels, labels);
  assert.deepEqual(
    g.drawn.layers.map((l) => [l.fanIn, l.fanOut]),
    [
      [784, 12],
      [12, 10],
    ],
  );
});
