/**
 * Stage `prune`: the pruning phase of every trained network (axes {dataset, dropout, run}).
 * Starts from `train`'s weights with a fresh Adam and trains for the pruning epochs under
 * TF-MOT's polynomial-decay magnitude pruning (science/mlp/pruning.ts): every kernel, never
 * biases, masks refreshed every `frequency` steps, final weights exactly masked.
 *
 * Outputs: `weights` (public weights file, phase 'pruned'), `history` (per-epoch metrics) and
 * `snapshots` (every `learning_curve.prune_every` epochs for the runs with a learning curve).
 */
import { defineStage } from '../engine/types.ts';
import { deriveSeed } from '../science/random.ts';
import { datasetFromTable } from '../science/datasets/table.ts';
import { weightsFromTable } from '../science/weights.ts';
import { backendRuntime, initBackend, type BackendChoice } from '../science/mlp/backend.ts';
import type { AdamConfig } from '../science/mlp/adam.ts';
import { epochMessage, trainingSplits, trainPhase } from '../science/mlp/trainer.ts';
import { phaseResult } from './phase-result.ts';
import { resolvePruneConfig, resolveTrainConfig, snapshotEvery, trainConditions, type PruneConfig } from './conditions.ts';
import { PHASE_SEED } from './seeds.ts';
import type { Params } from './params/index.ts';

/** What the pruning phase depends on: the training settings it reuses, and the schedule. */
export interface PruneStageConfig {
  backend: BackendChoice;
  source: string;
  batchSize: number;
  adam: AdamConfig;
  dropoutRate: number;
  shuffle: boolean;
  trainExamples: number | null;
  schedule: PruneConfig;
  /** Pruning epochs between weight snapshots (0 for runs without a learning curve). */
  snapshotEvery: number;
}

export const pruneStage = defineStage({
  module: import.meta.url,
  name: 'prune',
  description: 'Prune each trained network to the target sparsity with TF-MOT polynomial decay (fresh Adam)',
  deps: ['train', 'datasets'],
  matrix: trainConditions,
  params: (p: Params, axes): PruneStageConfig => {
    const t = resolveTrainConfig(p.train, axes);
    return {
      backend: t.backend,
      source: t.source,
      batchSize: t.batchSize,
      adam: t.adam,
      dropoutRate: t.dropoutRate,
      shuffle: t.shuffle,
      trainExamples: t.trainExamples,
      schedule: resolvePruneConfig(p.prune, axes),
      snapshotEvery: snapshotEvery(p.learning_curve, axes, 'pruned'),
    };
  },
  inputs: (_axes, p) => [
    { stage: 'train', outputs: ['weights'] },
    { stage: 'datasets', where: { dataset: p.source }, outputs: ['table'] },
  ],
  outputs: ['weights', 'history', 'snapshots'],
  runtime: (p) => backendRuntime(p.backend),
  async run(ctx) {
    const p = ctx.params;
    const s = p.schedule;
    const backend = await initBackend(p.backend);
    ctx.progress({ message: `pruning on ${backend.label}` });
    const unpruned = weightsFromTable(await ctx.inputs.train[0].outputs.weights.table(), 'train weights');
    const data = trainingSplits(datasetFromTable(await ctx.inputs.datasets[0].outputs.table.table()), p.trainExamples);
    const stepsPerEpoch = Math.ceil(data.train.labels.length / p.batchSize);
    const result = await trainPhase({
      phase: 'pruned',
      ...data,
      initial: unpruned.layers,
      seed: deriveSeed(ctx.seed, PHASE_SEED),
      epochs: s.epochs,
      batchSize: p.batchSize,
      adam: p.adam,
      dropoutRate: p.dropoutRate,
      shuffle: p.shuffle,
      snapshotEvery: p.snapshotEvery,
      pruning: {
        initialSparsity: s.initialSparsity,
        finalSparsity: s.finalSparsity,
        beginStep: s.beginStep,
        endStep: s.endStep ?? stepsPerEpoch * s.epochs,
        frequency: s.frequency,
        power: s.power,
      },
      checkpoint: ctx.checkpoint,
      signal: ctx.signal,
      onEpoch: (r) => ctx.progress({ fraction: r.metrics.epoch / r.epochs, message: `pruning ${epochMessage(r)}` }),
      onResume: (message) => ctx.progress({ message }),
    });
    return phaseResult(ctx.axes, result, 'pruned', p.snapshotEvery);
  },
});
