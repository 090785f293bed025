/**
 * Stage `cluster`: spectral clustering of every network state (stages/conditions.ts
 * networkStates: trained unpruned and pruned networks, and untrained `init` networks) for every
 * k of the sweep `cluster.k`. Axes {dataset, dropout, run, phase, k}.
 *
 * Output `labels`, one row per neuron in node order (schema: science/cluster/tables.ts).
 * Metrics: ncut, k, live_nodes, ave_in_out = (1 − ncut/k) / (2·ncut/k) (original run_clustering),
 * modularity (Newman's Q of the same partition).
 * External network files (params `external.models`, stage `external-model`) are network states too.
 */
import { defineStage, type Axes } from '../engine/types.ts';
import { buildGraph, clusterWeights } from '../science/cluster/index.ts';
import { modularity } from '../science/cluster/modularity.ts';
import { labelColumns, labelsTable } from '../science/cluster/tables.ts';
import { weightsFromTable } from '../science/weights.ts';
import { externalStates, networkStates, weightsInput, weightsOf } from './conditions.ts';
import type { Params } from './params/index.ts';

export interface ClusterStageParams {
  k: number;
  seed: number;
  nInit: number;
}

/** Average ratio of within-cluster to between-cluster edge weight (original `ave_in_out`). */
export function aveInOut(ncut: number, k: number): number {
  return (1 - ncut / k) / ((2 * ncut) / k);
}

export const clusterStage = defineStage({
  module: import.meta.url,
  name: 'cluster',
  description: 'Spectral clustering and n-cut of every network state (trained, pruned, untrained) for each k',
  deps: ['export', 'external-model'],
  matrix: (p: Params): Axes[] => [...networkStates(p), ...externalStates(p)].flatMap((state) => p.cluster.k.map((k) => ({ ...state, k }))),
  // k comes from the axes, not the sweep list `cluster.k`: adding a k must not rerun the others.
  params: (p: Params, axes): ClusterStageParams => ({ k: Number(axes.k), seed: p.cluster.seed, nInit: p.cluster.n_init }),
  inputs: (axes) => [weightsInput(axes)],
  outputs: ['labels'],
  async run(ctx) {
    const { k, seed, nInit } = ctx.params;
    const { layers } = weightsFromTable(await weightsOf(ctx.inputs).outputs.weights.table(), `${ctx.inputs.export ? 'export' : 'external-model'} weights`);
    const result = clusterWeights(layers, k, seed, { nInit });
    const sizes = [layers[0].fanIn, ...layers.map((l) => l.fanOut)];
    const graph = buildGraph(layers);
    const q = modularity(
      graph,
      Int32Array.from(graph.liveNodes, (n) => result.labels[n]),
    );
    return {
      outputs: { labels: labelsTable.toTable(labelColumns(result.labels, sizes)) },
      metrics: { ncut: result.ncut, k, live_nodes: result.liveNodes, ave_in_out: aveInOut(result.ncut, k), modularity: q },
    };
  },
});
