/**
 * Per-epoch training metrics of one phase, and their Arrow table.
 *
 * History table schema (one row per epoch, in order):
 *   epoch           int32    1-based epoch within the phase
 *   train_loss      float64  running mean categorical cross-entropy over the epoch's batches,
 *                            dropout active (what Keras reports as `loss`)
 *   train_accuracy  float64  running accuracy over the epoch's batches, dropout active (`acc`)
 *   test_loss       float64  cross-entropy on the whole test split after the epoch (`val_loss`)
 *   test_accuracy   float64  accuracy on the test split after the epoch (`val_acc`)
 *   sparsity        float64  fraction of kernel weights that are exactly zero after the epoch
 * Schema metadata: phase ("unpruned" | "pruned").
 */
import { Float64, Int32, Table, makeData, RecordBatch, Schema, Field, Struct } from 'apache-arrow';

export interface EpochMetrics {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  testLoss: number;
  testAccuracy: number;
  sparsity: number;
}

const COLUMNS = [
  ['epoch', 'epoch'],
  ['train_loss', 'trainLoss'],
  ['train_accuracy', 'trainAccuracy'],
  ['test_loss', 'testLoss'],
  ['test_accuracy', 'testAccuracy'],
  ['sparsity', 'sparsity'],
] as const;

export function historyToTable(history: readonly EpochMetrics[], phase: 'unpruned' | 'pruned'): Table {
  const n = history.length;
  const fields: Field[] = [];
  const children = COLUMNS.map(([name, key]) => {
    const type = key === 'epoch' ? new Int32() : new Float64();
    fields.push(new Field(name, type, false));
    const data = key === 'epoch' ? Int32Array.from(history, (h) => h.epoch) : Float64Array.from(history, (h) => h[key]);
    return makeData({ type, length: n, data } as any);
  });
  const schema = new Schema(fields, new Map([['phase', phase]]));
  const struct = makeData({ type: new Struct(fields), length: n, nullCount: 0, children });
  return new Table(schema, [new RecordBatch(schema, struct)]);
}

/** Read a history table; `source` names it in error messages. */
export function historyFromTable(t: Table, source = 'history table'): EpochMetrics[] {
  const cols = COLUMNS.map(([name]) => {
    const c = t.getChild(name);
    if (!c) throw new Error(`${source}: missing column '${name}' (expected ${COLUMNS.map(([n]) => n).join(', ')})`);
    return c;
  });
  return Array.from({ length: t.numRows }, (_, row) => {
    const m = {} as Record<string, number>;
    COLUMNS.forEach(([, key], i) => (m[key] = Number(cols[i].get(row))));
    return m as unknown as EpochMetrics;
  });
}
