/**
 * The public weights file: one MLP's dense layers as one Arrow IPC table.
 *
 * Schema (documented in the README so other tools can write or read it):
 *   layer   int32            dense layer index, from 0, in forward order
 *   fan_in  int32            inputs of the layer
 *   fan_out int32            outputs (neurons) of the layer
 *   kernel  list<float32>    fan_in × fan_out values, row-major: kernel[i * fan_out + j] is the
 *                            weight from input i to neuron j (the Keras orientation)
 *   bias    list<float32>    fan_out values
 * Schema metadata (strings): dataset, dropout ("true"/"false"), run, phase
 * ("init" | "unpruned" | "pruned"), test_accuracy (a decimal number, or "" when unknown).
 *
 * Python: `pyarrow.ipc.open_file(path).read_all()`; `np.array(t['kernel'][0].values).reshape(fan_in, fan_out)`.
 */
import { type Table, tableFromIPC, tableToIPC } from 'apache-arrow';
import { defineTable, int32, listFloat32 } from './table-schema.ts';

export interface DenseLayer {
  fanIn: number;
  fanOut: number;
  /** fanIn × fanOut, row-major (Keras orientation). */
  kernel: Float32Array;
  bias: Float32Array;
}

export interface WeightsMeta {
  dataset: string;
  dropout: boolean;
  run: number;
  phase: 'init' | 'unpruned' | 'pruned';
  /** Test accuracy of the network, when known. */
  testAccuracy?: number;
}

export interface Weights {
  layers: DenseLayer[];
  meta: WeightsMeta;
}

/** Check shapes: consecutive layers chain, arrays have the declared sizes. */
export function validateWeights(layers: DenseLayer[], source = 'weights'): void {
  if (layers.length === 0) throw new Error(`${source}: no dense layers`);
  layers.forEach((l, i) => {
    if (l.kernel.length !== l.fanIn * l.fanOut)
      throw new Error(`${source}: layer ${i} kernel has ${l.kernel.length} values, expected fan_in × fan_out = ${l.fanIn} × ${l.fanOut}`);
    if (l.bias.length !== l.fanOut) throw new Error(`${source}: layer ${i} bias has ${l.bias.length} values, expected fan_out = ${l.fanOut}`);
    if (i > 0 && layers[i - 1].fanOut !== l.fanIn)
      throw new Error(`${source}: layer ${i} fan_in ${l.fanIn} does not match layer ${i - 1} fan_out ${layers[i - 1].fanOut}`);
  });
}

/** The weights file's declaration (schema above); a row is one dense layer. */
export const weightsTable = defineTable(
  { layer: int32, fanIn: int32, fanOut: int32, kernel: listFloat32, bias: listFloat32 },
  { metadata: ['dataset', 'dropout', 'run', 'phase', 'test_accuracy'], help: 'see README "Weights file"' },
);

export function weightsToTable(w: Weights): Table {
  validateWeights(w.layers);
  return weightsTable.toTable(
    w.layers.map((l, i) => ({ layer: i, ...l })),
    {
      dataset: w.meta.dataset,
      dropout: String(w.meta.dropout),
      run: String(w.meta.run),
      phase: w.meta.phase,
      test_accuracy: w.meta.testAccuracy === undefined ? '' : String(w.meta.testAccuracy),
    },
  );
}

/** Read a weights table; `source` names the file in error messages. */
export function weightsFromTable(t: Table, source = 'weights file'): Weights {
  const layers: DenseLayer[] = weightsTable
    .fromTable(t, source)
    .sort((a, b) => a.layer - b.layer)
    .map(({ fanIn, fanOut, kernel, bias }) => ({ fanIn, fanOut, kernel, bias }));
  validateWeights(layers, source);
  const md = weightsTable.metadataOf(t, source);
  const acc = md.test_accuracy;
  return {
    layers,
    meta: {
      dataset: md.dataset ?? 'unknown',
      dropout: md.dropout === 'true',
      run: Number(md.run ?? 0),
      phase: (md.phase ?? 'pruned') as WeightsMeta['phase'],
      testAccuracy: acc === undefined || acc === '' ? undefined : Number(acc),
    },
  };
}

export const weightsToIPC = (w: Weights): Uint8Array => tableToIPC(weightsToTable(w), 'file');
export const weightsFromIPC = (bytes: Uint8Array, source?: string): Weights => weightsFromTable(tableFromIPC(bytes), source);
