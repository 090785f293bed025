/**
 * Stage `shuffle-sample`: the shuffle null distributions of the n-cut (paper §3). For every
 * trained network state (phases unpruned and pruned) and external network file, every k of `cluster.k` and every method of
 * `shuffle.methods`, `shuffle.samples` independent samples: shuffle the network after removing
 * its degree-0 neurons, rebuild the graph (dropping neurons the shuffle isolated), cluster, n-cut.
 * Sample i draws from the engine's sample seed i, so raising the count computes only new samples.
 * Axes {dataset, dropout, run, phase, k, method}.
 *
 * Each shard outputs `ncuts`, its samples; combining keeps the first `shuffle.samples` as output
 * `samples`. Both have the schema of science/cluster/tables.ts shuffleSamplesTable (sample, ncut).
 * Metrics: ncut (the real network's, from `cluster`), n, mean, sd (ddof 0), z, p =
 * (#{samples < ncut} + 1)/(n + 1), significant (p = 1/(n + 1)), min, max.
 * Cohen's d between the two methods is left to the report (science/stats.ts cohenD).
 */
import { defineStage, type Axes, type InputInstance, type InputSpec } from '../engine/types.ts';
import { prepareForShuffles, shuffleSample, type ShuffleMethod } from '../science/cluster/index.ts';
import { firstSamples, shuffleSamplesTable } from '../science/cluster/tables.ts';
import { summarizeNull } from '../science/stats.ts';
import { weightsFromTable } from '../science/weights.ts';
import { externalStates, networkStates, weightsInput, weightsOf } from './conditions.ts';
import type { Params } from './params/index.ts';

export interface ShuffleStageParams {
  /**
   * The count, nested like params.yaml: the engine drops samples.count's path from shard keys,
   * which keep `shuffle: {}` (as they always have: the sample seeds derive from them).
   */
  shuffle: { samples: number };
  k: number;
  method: ShuffleMethod;
  nInit: number;
}

/** Samples per shard: 10 shards for the paper's 320. */
export const SHUFFLE_SHARD_SIZE = 32;

function realNcut(inputs: Readonly<Record<string, readonly InputInstance[]>>): number {
  const m = inputs.cluster?.[0]?.metrics;
  if (!m || typeof m.ncut !== 'number') throw new Error('shuffle-sample: the matching cluster instance reported no ncut metric');
  return m.ncut;
}

export const shuffleSampleStage = defineStage({
  module: import.meta.url,
  name: 'shuffle-sample',
  description: 'Shuffle nulls of the n-cut (layer, layer_nonzero) for every trained network state and k',
  deps: ['export', 'external-model', 'cluster'],
  matrix: (p: Params): Axes[] =>
    [...networkStates(p), ...externalStates(p)]
      .filter((state) => state.phase !== 'init')
      .flatMap((state) => p.cluster.k.flatMap((k) => p.shuffle.methods.map((method) => ({ ...state, k, method })))),
  // k and method come from the axes (adding one must not rerun the others).
  params: (p: Params, axes): ShuffleStageParams => ({
    shuffle: { samples: p.shuffle.samples },
    k: Number(axes.k),
    method: String(axes.method) as ShuffleMethod,
    nInit: p.cluster.n_init,
  }),
  inputs: (axes): InputSpec[] => [
    weightsInput(axes),
    // The real network's n-cut (a metric) comes with its labels, which determine it.
    { stage: 'cluster', where: { dataset: axes.dataset, dropout: axes.dropout, run: axes.run, phase: axes.phase, k: axes.k }, outputs: ['labels'] },
  ],
  outputs: ['samples'],
  samples: {
    count: (p: Params) => p.shuffle.samples,
    shardSize: SHUFFLE_SHARD_SIZE,
    async combine(ctx) {
      const tables = await Promise.all(
        ctx.shards.map((s) => {
          if (!s.outputs.ncuts) throw new Error(`shuffle-sample: shard ${s.start}..${s.end} has no 'ncuts' output`);
          return s.outputs.ncuts.table();
        }),
      );
      const { samples, ncuts } = firstSamples(tables, ctx.count);
      const ncut = realNcut(ctx.inputs);
      const summary = summarizeNull(ncut, ncuts);
      return { outputs: { samples: shuffleSamplesTable.toTable({ sample: samples, ncut: ncuts }) }, metrics: { ncut, ...summary } };
    },
  },
  async run(ctx) {
    const shard = ctx.shard!;
    const { k, method, nInit } = ctx.params;
    const { layers } = weightsFromTable(await weightsOf(ctx.inputs).outputs.weights.table(), 'network weights');
    const reduced = prepareForShuffles(layers);
    const n = shard.end - shard.start;
    const samples = new Int32Array(n);
    const ncuts = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      if (ctx.signal.aborted) throw new Error('shuffle-sample: interrupted');
      const i = shard.start + j;
      samples[j] = i;
      ncuts[j] = shuffleSample(reduced, method, k, shard.sampleSeed(i), { nInit });
      ctx.progress({ fraction: (j + 1) / n });
    }
    return { outputs: { ncuts: shuffleSamplesTable.toTable({ sample: samples, ncut: ncuts }) } };
  },
});
