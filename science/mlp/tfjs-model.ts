/**
 * The TensorFlow.js Layers model of a network, for users who want to load it with
 * `tf.loadLayersModel`: a Sequential of Dense layers (ReLU hidden, softmax output) named as Keras
 * names them (dense, dense_1, ...), with a Dropout layer after each hidden layer when the
 * network was trained with dropout (inactive at inference, as in the original .h5 files).
 *
 * Output: `model.json` (the standard TF.js layers-model JSON; its weights manifest points at
 * MODEL_WEIGHTS_FILE) and the weights binary (float32 little-endian, kernel then bias per layer).
 * Built with tfjs-layers itself, so the topology is exactly what the loader expects.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DenseLayer } from '../weights.ts';

/** File name the model.json weights manifest refers to: save the weights bytes under it. */
export const MODEL_WEIGHTS_FILE = 'model.weights.bin';

export interface TfjsModelFiles {
  /** model.json, UTF-8. */
  modelJson: Uint8Array;
  /** The weights binary (MODEL_WEIGHTS_FILE). */
  weightsBin: Uint8Array;
}

const layerName = (kind: string, i: number) => (i === 0 ? kind : `${kind}_${i}`);

function concatWeightData(data: ArrayBuffer | ArrayBuffer[]): Uint8Array {
  const parts = Array.isArray(data) ? data : [data];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(new Uint8Array(p), at);
    at += p.byteLength;
  }
  return out;
}

/** Serialise a network as a TF.js layers model. Needs an initialised tfjs backend (any). */
export async function toTfjsModel(layers: readonly DenseLayer[], dropoutRate: number): Promise<TfjsModelFiles> {
  const tfl = await import('@tensorflow/tfjs-layers');
  const model = tfl.sequential({ name: 'mlp' });
  const last = layers.length - 1;
  layers.forEach((l, i) => {
    model.add(
      tfl.layers.dense({
        units: l.fanOut,
        activation: i < last ? 'relu' : 'softmax',
        // The weights are set below; the initialisers are declared as Keras' defaults for fidelity.
        kernelInitializer: 'glorotUniform',
        biasInitializer: 'zeros',
        name: layerName('dense', i),
        ...(i === 0 ? { inputShape: [l.fanIn] } : {}),
      }),
    );
    if (dropoutRate > 0 && i < last) model.add(tfl.layers.dropout({ rate: dropoutRate, name: layerName('dropout', i) }));
  });
  const values = layers.flatMap((l) => [tf.tensor2d(l.kernel, [l.fanIn, l.fanOut]), tf.tensor1d(l.bias)]);
  model.setWeights(values);
  tf.dispose(values);
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
    }),
  );
  model.dispose();
  if (!artifacts?.weightData || !artifacts.weightSpecs) throw new Error('tfjs-layers did not produce model weights');
  const modelJson: tf.io.ModelJSON = {
    modelTopology: artifacts.modelTopology as {},
    format: 'layers-model',
    generatedBy: artifacts.generatedBy ?? 'tfjs-layers',
    convertedBy: null as unknown as string,
    weightsManifest: [{ paths: [MODEL_WEIGHTS_FILE], weights: artifacts.weightSpecs }],
  };
  return {
    modelJson: new TextEncoder().encode(JSON.stringify(modelJson)),
    weightsBin: concatWeightData(artifacts.weightData as ArrayBuffer | ArrayBuffer[]),
  };
}

/** Load exported files back as a tfjs LayersModel (what `tf.loadLayersModel('file://…/model.json')` does). */
export async function loadTfjsModel(files: TfjsModelFiles) {
  const tfl = await import('@tensorflow/tfjs-layers');
  const json = JSON.parse(new TextDecoder().decode(files.modelJson)) as tf.io.ModelJSON;
  const weights = files.weightsBin.slice().buffer;
  return tfl.loadLayersModel(tf.io.fromMemory(json.modelTopology, json.weightsManifest[0].weights, weights));
}
