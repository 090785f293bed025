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
import { Field, Float32, Int32, List, Schema, Table, makeData, Vector, RecordBatch, Struct, tableFromIPC, tableToIPC } from 'apache-arrow';

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

export function listOfFloat32(arrays: Float32Array[]): Vector {
  const offsets = new Int32Array(arrays.length + 1);
  for (let i = 0; i < arrays.length; i++) offsets[i + 1] = offsets[i] + arrays[i].length;
  const values = new Float32Array(offsets[arrays.length]);
  arrays.forEach((a, i) => values.set(a, offsets[i]));
  const child = makeData({ type: new Float32(), length: values.length, data: values });
  const type = new List(new Field('item', new Float32(), false));
  return new Vector([makeData({ type, length: arrays.length, nullCount: 0, valueOffsets: offsets, child })]);
}

export function int32Vector(values: number[]): Vector {
  return new Vector([makeData({ type: new Int32(), length: values.length, data: Int32Array.from(values) })]);
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

export function weightsToTable(w: Weights): Table {
  validateWeights(w.layers);
  const columns = {
    layer: int32Vector(w.layers.map((_, i) => i)),
    fan_in: int32Vector(w.layers.map((l) => l.fanIn)),
    fan_out: int32Vector(w.layers.map((l) => l.fanOut)),
    kernel: listOfFloat32(w.layers.map((l) => l.kernel)),
    bias: listOfFloat32(w.layers.map((l) => l.bias)),
  };
  const fields = Object.entries(columns).map(([name, v]) => new Field(name, v.type, false));
  const metadata = new Map<string, string>([
    ['dataset', w.meta.dataset],
    ['dropout', String(w.meta.dropout)],
    ['run', String(w.meta.run)],
    ['phase', w.meta.phase],
    ['test_accuracy', w.meta.testAccuracy === undefined ? '' : String(w.meta.testAccuracy)],
  ]);
  const schema = new Schema(fields, metadata);
  const struct = makeData({
    type: new Struct(fields),
    length: w.layers.length,
    nullCount: 0,
    children: Object.values(columns).map((v) => v.data[0]),
  });
  return new Table(schema, [new RecordBatch(schema, struct)]);
}

/** Read a weights table; `source` names the file in error messages. */
export function weightsFromTable(t: Table, source = 'weights file'): Weights {
  for (const name of ['layer', 'fan_in', 'fan_out', 'kernel', 'bias'])
    if (!t.getChild(name)) throw new Error(`${source}: missing column '${name}' (expected layer, fan_in, fan_out, kernel, bias; see README "Weights file")`);
  const order = Array.from({ length: t.numRows }, (_, i) => i).sort((a, b) => Number(t.getChild('layer')!.get(a)) - Number(t.getChild('layer')!.get(b)));
  const layers: DenseLayer[] = order.map((row) => {
    const kernel = t.getChild('kernel')!.get(row) as Vector;
    const bias = t.getChild('bias')!.get(row) as Vector;
    return {
      fanIn: Number(t.getChild('fan_in')!.get(row)),
      fanOut: Number(t.getChild('fan_out')!.get(row)),
      kernel: Float32Array.from(kernel.toArray() as ArrayLike<number>),
      bias: Float32Array.from(bias.toArray() as ArrayLike<number>),
    };
  });
  validateWeights(layers, source);
  const md = t.schema.metadata;
  const acc = md.get('test_accuracy');
  const phase = (md.get('phase') ?? 'pruned') as WeightsMeta['phase'];
  return {
    layers,
    meta: {
      dataset: md.get('dataset') ?? 'unknown',
      dropout: md.get('dropout') === 'true',
      run: Number(md.get('run') ?? 0),
      phase,
      testAccuracy: acc === undefined || acc === '' ? undefined : Number(acc),
    },
  };
}

export const weightsToIPC = (w: Weights): Uint8Array => tableToIPC(weightsToTable(w), 'file');
export const weightsFromIPC = (bytes: Uint8Array, source?: string): Weights => weightsFromTable(tableFromIPC(bytes), source);
