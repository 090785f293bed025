/**
 * Stage `train`: the unpruned phase of every network of the sweep (axes {dataset, dropout, run},
 * from stages/conditions.ts). Glorot init, data order and dropout masks all derive from the
 * instance seed; checkpoints every epoch, so an interrupted run resumes bit-identically.
 *
 * Outputs: `weights` (the public weights file, science/weights.ts, phase 'unpruned'),
 * `history` (per-epoch metrics, science/mlp/history.ts) and `snapshots` (the weights every
 * `learning_curve.every` epochs for the runs in `learning_curve.runs`, science/mlp/snapshots.ts;
 * no rows for other runs).
 */
import { defineStage } from '../engine/types.ts';
import { deriveSeed } from '../science/random.ts';
import { datasetFromTable } from '../science/datasets/table.ts';
import { backendRuntime, initBackend } from '../science/mlp/backend.ts';
import { glorotUniformInit, layerSizes } from '../science/mlp/model.ts';
import { epochMessage, trainingSplits, trainPhase } from '../science/mlp/trainer.ts';
import { phaseResult } from './phase-result.ts';
import { resolveTrainConfig, snapshotEvery, trainConditions, type TrainConfig } from './conditions.ts';
import { INIT_SEED, PHASE_SEED } from './seeds.ts';
import type { Params } from './params/index.ts';

/** A condition's training settings and its snapshot period (0 for runs without a learning curve). */
export type TrainStageConfig = TrainConfig & { snapshotEvery: number };

export const trainStage = defineStage({
  module: import.meta.url,
  name: 'train',
  description: 'Train each network of the sweep for its unpruned epochs (Adam, seeded data order and dropout masks)',
  deps: ['datasets'],
  matrix: trainConditions,
  params: (p: Params, axes): TrainStageConfig => ({
    ...resolveTrainConfig(p.train, axes),
    snapshotEvery: snapshotEvery(p.learning_curve, axes, 'unpruned'),
  }),
  inputs: (_axes, p) => [{ stage: 'datasets', where: { dataset: p.source }, outputs: ['table'] }],
  outputs: ['weights', 'history', 'snapshots'],
  runtime: (p) => backendRuntime(p.backend),
  async run(ctx) {
    const p = ctx.params;
    const backend = await initBackend(p.backend);
    ctx.progress({ message: `training on ${backend.label}` });
    const table = await ctx.inputs.datasets[0].outputs.table.table();
    const data = trainingSplits(datasetFromTable(table), p.trainExamples);
    const result = await trainPhase({
      phase: 'unpruned',
      ...data,
      initial: glorotUniformInit(layerSizes(p.hidden), deriveSeed(ctx.seed, INIT_SEED)),
      seed: deriveSeed(ctx.seed, PHASE_SEED),
      epochs: p.epochs,
      batchSize: p.batchSize,
      adam: p.adam,
      dropoutRate: p.dropoutRate,
      shuffle: p.shuffle,
      snapshotEvery: p.snapshotEvery,
      checkpoint: ctx.checkpoint,
      signal: ctx.signal,
      onEpoch: (r) => ctx.progress({ fraction: r.metrics.epoch / r.epochs, message: epochMessage(r) }),
      onResume: (message) => ctx.progress({ message }),
    });
    return phaseResult(ctx.axes, result, 'unpruned', p.snapshotEvery, { n_train: data.train.labels.length });
  },
});
