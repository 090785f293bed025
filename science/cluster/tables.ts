/**
 * Arrow tables of the clustering stages.
 *
 * `labels` (stage cluster), one row per neuron in node order:
 *   neuron  int32   node-order index: the inputs, then each dense layer's neurons in forward order
 *   layer   int32   node layer of the neuron (0 = inputs, 1.. = dense layers)
 *   label   int32   cluster 0..k−1, or −1 for a neuron without any non-zero weight (removed)
 * Shuffle samples (stage shuffle-sample: `ncuts` of a shard, `samples` once combined):
 *   sample  int32    sample index 0..n−1
 *   ncut    float64  n-cut of that shuffled network
 */
import type { Table } from 'apache-arrow';
import { nodeLayerOf } from '../graph/index.ts';
import { defineTable, float64, int32 } from '../table-schema.ts';

export const labelsTable = defineTable({ neuron: int32, layer: int32, label: int32 });

/** The labels table's columns of a clustering of a network with these layer sizes (inputs first). */
export function labelColumns(labels: Int32Array, fullLayerSizes: readonly number[]) {
  return { neuron: Int32Array.from({ length: labels.length }, (_, i) => i), layer: nodeLayerOf(fullLayerSizes), label: labels };
}

export const shuffleSamplesTable = defineTable({ sample: int32, ncut: float64 });

/** Samples from shard tables, ordered by sample index, the first `count` of them. */
export function firstSamples(tables: readonly Table[], count: number, source = 'shuffle-sample shard'): { samples: Int32Array; ncuts: Float64Array } {
  const rows = tables.flatMap((t) => shuffleSamplesTable.fromTable(t, source));
  rows.sort((a, b) => a.sample - b.sample);
  if (rows.length < count) throw new Error(`${source}: ${rows.length} samples stored, ${count} needed`);
  const kept = rows.slice(0, count);
  kept.forEach(({ sample }, j) => {
    if (sample !== j) throw new Error(`${source}: sample ${j} is missing (found ${sample})`);
  });
  return { samples: Int32Array.from(kept, (r) => r.sample), ncuts: Float64Array.from(kept, (r) => r.ncut) };
}
