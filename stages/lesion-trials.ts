/**
 * The recipe lesion-single and lesion-double share: the random controls of a lesion experiment
 * as the samples of a sample stage. One instance per network of `lesion.networks`; trial i draws
 * from the sample seed of trial i, so raising the count computes only the new trials. Each shard
 * lesions the pruned network (stage `export`) on its test set (stage `datasets`) with the
 * sub-modules of `lesion-modules`; combining keeps the first `count` trials as output `trials`.
 */
import type { Table } from 'apache-arrow';
import { defineStage, type StageDef } from '../engine/types.ts';
import { concatTrials, prepareNetwork, trialsFromTable, type runSingleTrials, type TrialRows } from '../science/lesion/index.ts';
import { lesionMatrix, lesionNetworkParams, loadNetwork, loadSubmodules, networkInputs, type LesionNetworkParams } from './lesion-inputs.ts';
import type { Params } from './params/index.ts';

/** The count stays out of these, so it never enters a shard's key. */
export type TrialsParams = LesionNetworkParams;

export interface TrialsRecipe {
  /** The stage file's `import.meta.url`. */
  module: string;
  name: string;
  description: string;
  /** The number of trials, e.g. `(p) => p.lesion.single_trials`. */
  count: (p: Params) => number;
  shardSize: number;
  /** The science: the rows of the given trials (runSingleTrials, runDoubleTrials). */
  runTrials: typeof runSingleTrials;
  /** Their table (singleTrialsToTable, doubleTrialsToTable). */
  toTable: (rows: TrialRows) => Table;
}

export function lesionTrialsStage(recipe: TrialsRecipe): StageDef<TrialsParams, Params> {
  return defineStage({
    module: recipe.module,
    name: recipe.name,
    description: recipe.description,
    deps: ['export', 'external-model', 'datasets', 'lesion-modules'],
    matrix: lesionMatrix,
    params: (p: Params, axes): TrialsParams => lesionNetworkParams(p, axes),
    inputs: (axes, p) => [...networkInputs(axes, p), { stage: 'lesion-modules', outputs: ['submodules'] }],
    outputs: ['trials'],
    samples: {
      count: recipe.count,
      shardSize: recipe.shardSize,
      async combine(ctx) {
        const parts = await Promise.all(ctx.shards.map(async (s) => trialsFromTable(await s.outputs.trials.table(), `${recipe.name} shard`)));
        return { outputs: { trials: recipe.toTable(concatTrials(parts, ctx.count)) }, metrics: { trials: ctx.count } };
      },
    },
    async run(ctx) {
      const shard = ctx.shard!;
      const { layers, test } = await loadNetwork(ctx.inputs, ctx.params);
      const set = await loadSubmodules(ctx.inputs);
      const trials = Array.from({ length: shard.end - shard.start }, (_, k) => ({ index: shard.start + k, seed: shard.sampleSeed(shard.start + k) }));
      const rows = recipe.runTrials(prepareNetwork(layers), test, set, trials, { signal: ctx.signal, onProgress: (fraction) => ctx.progress({ fraction }) });
      return { outputs: { trials: recipe.toTable(rows) } };
    },
  });
}
