/**
 * Weight snapshots of a training or pruning phase, taken every N epochs for learning curves
 * (the original code's `mlp-learning-curve` notebook: the n-cut after every 5th epoch).
 *
 * Snapshots table schema (one row per snapshot and dense layer, epochs ascending, layers in
 * forward order within an epoch):
 *   epoch    int32          1-based epoch within the phase after which the weights were taken
 *   layer    int32          dense layer index, from 0
 *   fan_in   int32
 *   fan_out  int32
 *   kernel   list<float32>  fan_in × fan_out, row-major (as in the weights file, science/weights.ts)
 *   bias     list<float32>
 * Schema metadata: phase ("unpruned" | "pruned"), every (the snapshot period, "0" when none).
 * A phase that keeps no snapshots writes the same schema with no rows.
 */
import { Field, RecordBatch, Schema, Struct, Table, makeData, type Vector } from 'apache-arrow';
import { int32Vector, listOfFloat32, validateWeights, type DenseLayer } from '../weights.ts';

export interface WeightSnapshot {
  /** Epoch within the phase (1-based) after which these weights were taken. */
  readonly epoch: number;
  readonly layers: readonly DenseLayer[];
}

/** Whether the weights after `epoch` (1-based) are kept, for a period `every` (0 = never). */
export function isSnapshotEpoch(epoch: number, every: number): boolean {
  return every > 0 && epoch % every === 0;
}

export function snapshotsToTable(snapshots: readonly WeightSnapshot[], phase: 'unpruned' | 'pruned', every: number): Table {
  const rows = snapshots.flatMap((s) => s.layers.map((layer, i) => ({ epoch: s.epoch, i, layer })));
  const columns: Record<string, Vector> = {
    epoch: int32Vector(rows.map((r) => r.epoch)),
    layer: int32Vector(rows.map((r) => r.i)),
    fan_in: int32Vector(rows.map((r) => r.layer.fanIn)),
    fan_out: int32Vector(rows.map((r) => r.layer.fanOut)),
    kernel: listOfFloat32(rows.map((r) => r.layer.kernel)),
    bias: listOfFloat32(rows.map((r) => r.layer.bias)),
  };
  const fields = Object.entries(columns).map(([name, v]) => new Field(name, v.type, false));
  const schema = new Schema(
    fields,
    new Map([
      ['phase', phase],
      ['every', String(every)],
    ]),
  );
  const struct = makeData({ type: new Struct(fields), length: rows.length, nullCount: 0, children: Object.values(columns).map((v) => v.data[0]) });
  return new Table(schema, [new RecordBatch(schema, struct)]);
}

/** Read a snapshots table; `source` names it in error messages. */
export function snapshotsFromTable(t: Table, source = 'snapshots table'): WeightSnapshot[] {
  const names = ['epoch', 'layer', 'fan_in', 'fan_out', 'kernel', 'bias'];
  for (const name of names) if (!t.getChild(name)) throw new Error(`${source}: missing column '${name}' (expected ${names.join(', ')})`);
  const col = (name: string) => t.getChild(name)!;
  const byEpoch = new Map<number, { index: number; layer: DenseLayer }[]>();
  for (let row = 0; row < t.numRows; row++) {
    const epoch = Number(col('epoch').get(row));
    const layer: DenseLayer = {
      fanIn: Number(col('fan_in').get(row)),
      fanOut: Number(col('fan_out').get(row)),
      kernel: Float32Array.from((col('kernel').get(row) as Vector).toArray() as ArrayLike<number>),
      bias: Float32Array.from((col('bias').get(row) as Vector).toArray() as ArrayLike<number>),
    };
    if (!byEpoch.has(epoch)) byEpoch.set(epoch, []);
    byEpoch.get(epoch)!.push({ index: Number(col('layer').get(row)), layer });
  }
  return [...byEpoch.entries()]
    .sort(([a], [b]) => a - b)
    .map(([epoch, entries]) => {
      const layers = entries.sort((a, b) => a.index - b.index).map((e) => e.layer);
      validateWeights(layers, `${source}, epoch ${epoch}`);
      return { epoch, layers };
    });
}
