/**
 * Stage `lesion-modules`: cluster one pruned network into `lesion.k` clusters, list its
 * sub-modules (cluster ∩ hidden layer), and measure the true lesions once: the intact network,
 * every sub-module alone, every pair together (paper §4). Cheap; the random controls are the
 * sample stages lesion-single and lesion-double.
 * Outputs: `submodules`, `true_lesions` (schemas: science/lesion/tables.ts).
 */
import { defineStage } from '../engine/types.ts';
import { clusterWeights } from '../science/cluster/index.ts';
import { evaluateLesions, findSubmodules, prepareNetwork, submodulesToTable, trueLesionsToTable, truePlans } from '../science/lesion/index.ts';
import { lesionMatrix, lesionNetworkParams, loadNetwork, networkInputs, type LesionNetworkParams } from './lesion-inputs.ts';
import type { Params } from './params/index.ts';

type ModulesParams = { k: number } & LesionNetworkParams;

export const lesionModulesStage = defineStage({
  module: import.meta.url,
  name: 'lesion-modules',
  description: 'Cluster a pruned network, list its sub-modules and measure the true single and pair lesions',
  deps: ['export', 'external-model', 'datasets'],
  matrix: lesionMatrix,
  params: (p: Params, axes): ModulesParams => ({ k: p.lesion.k, ...lesionNetworkParams(p, axes) }),
  inputs: (axes, p) => networkInputs(axes, p),
  outputs: ['submodules', 'true_lesions'],
  async run(ctx) {
    const { layers, test } = await loadNetwork(ctx.inputs, ctx.params);
    // k-means restarts: scikit-learn's default (science/spectral/kmeans.ts), not cluster.n_init, which is
    // not in this key (reading it would put it there and redraw every sub-module of the stored runs).
    const clustering = clusterWeights(layers, ctx.params.k, ctx.seed);
    const widths = [layers[0].fanIn, ...layers.map((l) => l.fanOut)];
    const set = findSubmodules(clustering.labels, widths);
    const { plans, rows } = truePlans(set);
    const acc = evaluateLesions(prepareNetwork(layers), test, plans, { signal: ctx.signal, onProgress: (fraction) => ctx.progress({ fraction }) });
    return {
      outputs: {
        submodules: submodulesToTable(set, { k: String(ctx.params.k), ncut: String(clustering.ncut) }),
        true_lesions: trueLesionsToTable(rows, acc.accuracy, acc.classAccuracy, acc.nClasses),
      },
      metrics: {
        intact_accuracy: acc.accuracy[0],
        n_submodules: set.submodules.length,
        k: ctx.params.k,
        ncut: clustering.ncut,
        live_nodes: clustering.liveNodes,
      },
    };
  },
});
