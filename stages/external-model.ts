/**
 * Stage `external-model`: one network file of params `external.models` (ONNX, PyTorch state dict,
 * safetensors, Keras, NumPy, Arrow; docs/models.md) read into its weight graph. Axis {model}
 * (the file's base name). The file's content digest is part of the key, so editing the file
 * reruns everything downstream and nothing else.
 *
 * Output `weights`: the graph's edge-weight matrices in the public weights schema
 * (science/weights.ts): a dense layer's kernel as it is, a convolution's per-channel kernel norms,
 * so `cluster` and `shuffle-sample` treat it like an exported network; the biases of a ReLU MLP
 * (zeros otherwise), so the lesion stages can run it.
 * Metrics: format, digest, nodes (all node layers), node_layers ("name:units" list), lesion ('ok'
 * or why the file is not a ReLU MLP: science/models/mlp.ts).
 */
import { UserError } from '../engine/errors.ts';
import { defineStage, type Axes } from '../engine/types.ts';
import { ModelFormatError, readModel, type ConvNorm, type ModelNetwork } from '../science/models/index.ts';
import { mlpFromOps } from '../science/models/mlp.ts';
import { weightsToTable, type DenseLayer } from '../science/weights.ts';
import { externalModels } from './conditions.ts';
import { readInputFile, readUnchanged, sha256 } from './input-files.ts';
import type { Params } from './params/index.ts';

export interface ExternalModelParams {
  path: string;
  /** sha256 of the file's bytes. */
  digest: string;
  layers: string[];
  convNorm: ConvNorm;
}

/** The file's ReLU MLP (its dense layers with biases, for lesions), or why it is not one. */
function lesionableMlp(network: ModelNetwork, path: string): { layers: DenseLayer[] } | { refused: string } {
  try {
    return { layers: mlpFromOps(network.ops, { source: path, topology: network.format === 'onnx' }) };
  } catch (e) {
    if (!(e instanceof ModelFormatError)) throw e;
    return { refused: e.message.replace(`${path}: `, '') };
  }
}

export const externalModelStage = defineStage({
  module: import.meta.url,
  name: 'external-model',
  description: 'Read a network file of external.models (ONNX, PyTorch, safetensors, Keras, NumPy) into its weight graph',
  deps: [],
  matrix: (p: Params): Axes[] => externalModels(p).map(({ model }) => ({ model })),
  // Only this file's path, content digest and options enter its key.
  params: (p: Params, axes): ExternalModelParams => {
    const { path } = externalModels(p).find((m) => m.model === axes.model)!;
    return { path, digest: sha256(readInputFile('external.models', path)), layers: p.external.layers[path] ?? [], convNorm: p.external.conv_norm };
  },
  outputs: ['weights'],
  async run(ctx) {
    const { path, digest, layers, convNorm } = ctx.params;
    const bytes = readUnchanged('external.models', path, digest);
    let network;
    try {
      network = await readModel(bytes, { source: path, layers, convNorm });
    } catch (e) {
      if (e instanceof ModelFormatError) throw new UserError(`external.models: ${e.message}`);
      throw new UserError(`external.models: ${path}: cannot read the model (${(e as Error).message}); the file may be truncated or corrupt`);
    }
    const { graph } = network;
    const mlp = lesionableMlp(network, path);
    const table = weightsToTable({
      layers: graph.layers.map((l, i) => ({
        fanIn: l.fanIn,
        fanOut: l.fanOut,
        kernel: Float32Array.from(l.kernel),
        bias: 'layers' in mlp ? mlp.layers[i].bias : new Float32Array(l.fanOut),
      })),
      meta: { dataset: String(ctx.axes.model), dropout: false, run: 0, phase: 'unpruned' },
    });
    return {
      outputs: { weights: table },
      metrics: {
        format: network.format,
        digest,
        nodes: graph.nodeLayers.reduce((a, n) => a + n.units, 0),
        node_layers: graph.nodeLayers.map((n) => `${n.name}:${n.units}${n.unit === 'channel' ? 'ch' : ''}`).join(' '),
        // Read by the lesion stages: 'ok', or why the file is not a ReLU MLP they can run.
        lesion: 'layers' in mlp ? 'ok' : mlp.refused,
      },
    };
  },
});
