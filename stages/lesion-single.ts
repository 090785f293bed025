/**
 * Stage `lesion-single`: the random controls of the single lesion experiment (paper §4.1).
 * Trial i lesions, for every sub-module, a random set of its size from the live neurons of
 * its layer (seed: the sample seed of trial i); trials are the samples of this stage, so
 * raising `lesion.single_trials` computes only the new ones.
 * Output `trials` (trial, submodule, accuracy; science/lesion/tables.ts), the first
 * `single_trials` trials after combining.
 */
import { defineStage } from '../engine/types.ts';
import { concatTrials, prepareNetwork, runSingleTrials, singleTrialsToTable, trialsFromTable } from '../science/lesion/index.ts';
import { lesionMatrix, loadNetwork, loadSubmodules, networkInputs, sourceDataset } from './lesion-inputs.ts';

/** The count (lesion.single_trials) stays out of the resolved params, so it never enters a shard's key. */
interface SingleParams {
  source: string;
}

export const lesionSingleStage = defineStage<SingleParams>({
  module: import.meta.url,
  name: 'lesion-single',
  description: 'Random controls of the single lesion experiment: one trial per sample',
  deps: ['export', 'datasets', 'lesion-modules'],
  params: ['lesion.single_trials', 'train.overrides'],
  matrix: lesionMatrix,
  resolve: (subset, axes) => ({ source: sourceDataset(subset.train?.overrides, axes) }),
  inputs: (axes, p) => [...networkInputs(axes, p.source), { stage: 'lesion-modules', outputs: ['submodules'] }],
  outputs: ['trials'],
  samples: {
    countParam: 'lesion.single_trials',
    shardSize: 10,
    async combine(ctx) {
      const parts = await Promise.all(ctx.shards.map(async (s) => trialsFromTable(await s.outputs.trials.table(), 'lesion-single shard')));
      return { outputs: { trials: singleTrialsToTable(concatTrials(parts, ctx.count)) }, metrics: { trials: ctx.count } };
    },
  },
  async run(ctx) {
    const shard = ctx.shard!;
    const { layers, test } = await loadNetwork(ctx.inputs);
    const set = await loadSubmodules(ctx.inputs);
    const trials = Array.from({ length: shard.end - shard.start }, (_, k) => ({ index: shard.start + k, seed: shard.sampleSeed(shard.start + k) }));
    const rows = runSingleTrials(prepareNetwork(layers), test, set, trials, { signal: ctx.signal, onProgress: (fraction) => ctx.progress({ fraction }) });
    return { outputs: { trials: singleTrialsToTable(rows) } };
  },
});
