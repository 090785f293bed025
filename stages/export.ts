/**
 * Stage `export`: every network state the analysis sees (axes {dataset, dropout, run, phase} =
 * networkStates(params), stages/conditions.ts) as
 *   `weights`        the public weights file (science/weights.ts), metadata incl. test_accuracy
 *   `model_json`     a TF.js layers model.json (its manifest names `model.weights.bin`)
 *   `model_weights`  the weights binary model.json refers to
 * Phase 'unpruned' reads `train`, 'pruned' reads `prune`, 'init' draws an untrained
 * Glorot-uniform network from the instance seed (paper Fig. 3). Metrics: train/test accuracy and
 * loss of the phase's last epoch (null for init), epochs of that phase, kernel sparsity.
 */
import { defineStage, type Axes, type InputSpec, type Metrics } from '../engine/types.ts';
import { deriveSeed } from '../science/random.ts';
import { weightsFromTable, weightsToTable, type DenseLayer } from '../science/weights.ts';
import { backendRuntime, initBackend, type BackendChoice } from '../science/mlp/backend.ts';
import { glorotUniformInit, kernelSparsity, layerSizes } from '../science/mlp/model.ts';
import { historyTable } from '../science/mlp/history.ts';
import { toTfjsModel } from '../science/mlp/tfjs-model.ts';
import { dropoutRate, networkStates, type Phase } from './conditions.ts';
import { INIT_SEED } from './seeds.ts';
import type { Params } from './params/index.ts';

export interface ExportConfig {
  backend: BackendChoice;
  /** Hidden widths of an untrained network (phase init only). */
  hidden: number[] | null;
  /** Dropout rate written into model.json (0 = no Dropout layers). */
  dropoutRate: number;
}

/** The upstream stage that produced a phase's weights. */
const SOURCE_STAGE: Record<Exclude<Phase, 'init'>, string> = { unpruned: 'train', pruned: 'prune' };

function phaseOf(axes: Axes): Phase {
  const phase = String(axes.phase);
  if (phase !== 'init' && phase !== 'unpruned' && phase !== 'pruned') throw new Error(`export: unknown phase '${phase}'`);
  return phase;
}

export const exportStage = defineStage({
  module: import.meta.url,
  name: 'export',
  description: 'Export every network state (init, unpruned, pruned) as a public weights file and a TF.js model',
  deps: ['train', 'prune'],
  matrix: networkStates,
  params: (p: Params, axes): ExportConfig =>
    phaseOf(axes) === 'init'
      ? { backend: p.train.backend, hidden: [...p.train.hidden], dropoutRate: 0 }
      : { backend: p.train.backend, hidden: null, dropoutRate: dropoutRate(p.train, axes) },
  // Each phase reads only its own producer, so an unpruned export's key depends only on train's outputs.
  inputs: (axes): InputSpec[] => {
    const phase = phaseOf(axes);
    if (phase === 'init') return [];
    return [{ stage: SOURCE_STAGE[phase], where: { dataset: axes.dataset, dropout: axes.dropout, run: axes.run }, outputs: ['weights', 'history'] }];
  },
  outputs: ['weights', 'model_json', 'model_weights'],
  runtime: (p) => backendRuntime(p.backend),
  async run(ctx) {
    const phase = phaseOf(ctx.axes);
    const meta = { dataset: String(ctx.axes.dataset), dropout: ctx.axes.dropout === true, run: Number(ctx.axes.run), phase };
    let layers: DenseLayer[];
    let metrics: Metrics;
    if (phase === 'init') {
      layers = glorotUniformInit(layerSizes(ctx.params.hidden ?? []), deriveSeed(ctx.seed, INIT_SEED));
      metrics = { train_accuracy: null, train_loss: null, test_accuracy: null, test_loss: null, epochs: 0 };
    } else {
      const upstream = ctx.inputs[SOURCE_STAGE[phase]][0];
      layers = weightsFromTable(await upstream.outputs.weights.table(), `${SOURCE_STAGE[phase]} weights`).layers;
      const history = historyTable.fromTable(await upstream.outputs.history.table(), `${SOURCE_STAGE[phase]} history`);
      const last = history[history.length - 1];
      metrics = {
        train_accuracy: last.trainAccuracy,
        train_loss: last.trainLoss,
        test_accuracy: last.testAccuracy,
        test_loss: last.testLoss,
        epochs: history.length,
        // Which backend trained it (also in the key as a runtime fact); shown in the report's provenance.
        backend: `${ctx.runtime.backend} ${ctx.runtime.backend_version}`,
      };
    }
    metrics.sparsity = kernelSparsity(layers);
    await initBackend(ctx.params.backend);
    const model = await toTfjsModel(layers, ctx.params.dropoutRate);
    const testAccuracy = typeof metrics.test_accuracy === 'number' ? metrics.test_accuracy : undefined;
    return {
      outputs: {
        weights: weightsToTable({ layers, meta: { ...meta, ...(testAccuracy === undefined ? {} : { testAccuracy }) } }),
        model_json: model.modelJson,
        model_weights: model.weightsBin,
      },
      metrics,
    };
  },
});
