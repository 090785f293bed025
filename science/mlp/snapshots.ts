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
import type { Table } from 'apache-arrow';
import { defineTable, int32, listFloat32 } from '../table-schema.ts';
import { validateWeights, type DenseLayer } from '../weights.ts';

export interface WeightSnapshot {
  /** Epoch within the phase (1-based) after which these weights were taken. */
  readonly epoch: number;
  readonly layers: readonly DenseLayer[];
}

/** Whether the weights after `epoch` (1-based) are kept, for a period `every` (0 = never). */
export function isSnapshotEpoch(epoch: number, every: number): boolean {
  return every > 0 && epoch % every === 0;
}

/** The snapshots table's declaration: a row is one dense layer of one snapshot. */
export const snapshotsTable = defineTable(
  { epoch: int32, layer: int32, fanIn: int32, fanOut: int32, kernel: listFloat32, bias: listFloat32 },
  { metadata: ['phase', 'every'] },
);

export function snapshotsToTable(snapshots: readonly WeightSnapshot[], phase: 'unpruned' | 'pruned', every: number): Table {
  const rows = snapshots.flatMap((s) => s.layers.map((l, layer) => ({ epoch: s.epoch, layer, ...l })));
  return snapshotsTable.toTable(rows, { phase, every: String(every) });
}

/** Read a snapshots table; `source` names it in error messages. */
export function snapshotsFromTable(t: Table, source = 'snapshots table'): WeightSnapshot[] {
  const byEpoch = new Map<number, { index: number; layer: DenseLayer }[]>();
  for (const { epoch, layer, fanIn, fanOut, kernel, bias } of snapshotsTable.fromTable(t, source)) {
    if (!byEpoch.has(epoch)) byEpoch.set(epoch, []);
    byEpoch.get(epoch)!.push({ index: layer, layer: { fanIn, fanOut, kernel, bias } });
  }
  return [...byEpoch.entries()]
    .sort(([a], [b]) => a - b)
    .map(([epoch, entries]) => {
      const layers = entries.sort((a, b) => a.index - b.index).map((e) => e.layer);
      validateWeights(layers, `${source}, epoch ${epoch}`);
      return { epoch, layers };
    });
}
