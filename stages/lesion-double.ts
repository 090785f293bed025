/**
 * Stage `lesion-double`: the random controls of the double lesion experiments (paper §4.2).
 * Trial i computes, with the sample seed of trial i, for every pair X ≤ Y the joint control
 * (random X and Y, disjoint in one layer) and for every ordered pair X ≠ Y the conditional
 * control "X | Y" (Y lesioned for real, random X from X's layer without Y's neurons).
 * Trials are the samples of this stage, so raising `lesion.double_trials` computes only the
 * new ones. Output `trials` (trial, kind, x, y, accuracy; science/lesion/tables.ts).
 */
import { defineStage } from '../engine/types.ts';
import { concatTrials, doubleTrialsToTable, prepareNetwork, runDoubleTrials, trialsFromTable } from '../science/lesion/index.ts';
import { lesionMatrix, loadNetwork, loadSubmodules, networkInputs, sourceDataset } from './lesion-inputs.ts';

/** The count (lesion.double_trials) stays out of the resolved params, so it never enters a shard's key. */
interface DoubleParams {
  source: string;
}

export const lesionDoubleStage = defineStage<DoubleParams>({
  module: import.meta.url,
  name: 'lesion-double',
  description: 'Random controls of the joint and conditional double lesion experiments: one trial per sample',
  deps: ['export', 'datasets', 'lesion-modules'],
  params: ['lesion.double_trials', 'train.overrides'],
  matrix: lesionMatrix,
  resolve: (subset, axes) => ({ source: sourceDataset(subset.train?.overrides, axes) }),
  inputs: (axes, p) => [...networkInputs(axes, p.source), { stage: 'lesion-modules', outputs: ['submodules'] }],
  outputs: ['trials'],
  samples: {
    countParam: 'lesion.double_trials',
    // One trial per shard: a trial takes tens of seconds, so shards spread over the cores and a crash loses little.
    shardSize: 1,
    async combine(ctx) {
      const parts = await Promise.all(ctx.shards.map(async (s) => trialsFromTable(await s.outputs.trials.table(), 'lesion-double shard')));
      return { outputs: { trials: doubleTrialsToTable(concatTrials(parts, ctx.count)) }, metrics: { trials: ctx.count } };
    },
  },
  async run(ctx) {
    const shard = ctx.shard!;
    const { layers, test } = await loadNetwork(ctx.inputs);
    const set = await loadSubmodules(ctx.inputs);
    const trials = Array.from({ length: shard.end - shard.start }, (_, k) => ({ index: shard.start + k, seed: shard.sampleSeed(shard.start + k) }));
    const rows = runDoubleTrials(prepareNetwork(layers), test, set, trials, { signal: ctx.signal, onProgress: (fraction) => ctx.progress({ fraction }) });
    return { outputs: { trials: doubleTrialsToTable(rows) } };
  },
});
