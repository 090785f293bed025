/**
 * Learning curves (the original code's `mlp-learning-curve` notebook, reference §11.3): the
 * n-cut of a network's weights after every N-th epoch of training and then of pruning, each
 * snapshot clustered like any network state (spectral clustering at one k, no shuffles).
 *
 * Curve table schema (one row per snapshot, training first, epochs ascending):
 *   phase          dictionary<int32, utf8>  "unpruned" (training) or "pruned" (pruning)
 *   epoch          int32    epoch within the phase (1-based)
 *   epoch_total    int32    epoch counted from the start of training: pruning epochs are offset
 *                           by the training epochs, as the notebook's x axis is
 *   ncut           float64  n-cut of the snapshot's clustering
 *   test_accuracy  float64  test accuracy after that epoch (from the phase's history; NaN if absent)
 *   sparsity       float64  fraction of kernel weights exactly zero
 */
import { defineTable, float64, int32, type RowOf, utf8DictionaryOf } from '../table-schema.ts';
import { clusterWeights, type ClusterOptions } from './index.ts';
import type { WeightSnapshot } from '../mlp/snapshots.ts';
import type { EpochMetrics } from '../mlp/history.ts';
import { kernelSparsity } from '../mlp/model.ts';

export interface CurvePhase {
  readonly phase: 'unpruned' | 'pruned';
  readonly snapshots: readonly WeightSnapshot[];
  readonly history: readonly EpochMetrics[];
}

/** The curve table's declaration (phase: a dictionary column, as first written by tableFromArrays). */
export const curveTable = defineTable({
  phase: utf8DictionaryOf(['unpruned', 'pruned'] as const),
  epoch: int32,
  epochTotal: int32,
  ncut: float64,
  testAccuracy: float64,
  sparsity: float64,
});

export type CurvePoint = Readonly<RowOf<typeof curveTable>>;

/**
 * Cluster every snapshot of the training phase, then of the pruning phase (offset by the
 * training epochs). Every snapshot uses the same seed, as every network state does in `cluster`.
 */
export function learningCurve(
  training: CurvePhase,
  pruning: CurvePhase,
  k: number,
  seed: number,
  opts: ClusterOptions = {},
  onPoint?: (done: number, total: number) => void,
): CurvePoint[] {
  const total = training.snapshots.length + pruning.snapshots.length;
  const points: CurvePoint[] = [];
  for (const [phase, offset] of [
    [training, 0],
    [pruning, training.history.length],
  ] as const) {
    for (const snap of phase.snapshots) {
      const { ncut } = clusterWeights([...snap.layers], k, seed, opts);
      const metrics = phase.history.find((h) => h.epoch === snap.epoch);
      points.push({
        phase: phase.phase,
        epoch: snap.epoch,
        epochTotal: offset + snap.epoch,
        ncut,
        testAccuracy: metrics?.testAccuracy ?? NaN,
        sparsity: kernelSparsity(snap.layers),
      });
      onPoint?.(points.length, total);
    }
  }
  return points;
}
