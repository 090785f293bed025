/**
 * What `train` and `prune` return for a finished phase: the public weights file of the network
 * state, its per-epoch history, its weight snapshots (learning curves), and the metrics every
 * downstream stage reads (last epoch).
 */
import type { Axes, Metrics, StageResult } from '../engine/types.ts';
import { weightsToTable } from '../science/weights.ts';
import { kernelSparsity } from '../science/mlp/model.ts';
import { historyTable } from '../science/mlp/history.ts';
import { snapshotsToTable } from '../science/mlp/snapshots.ts';
import type { PhaseResult } from '../science/mlp/trainer.ts';

export function phaseResult(axes: Axes, result: PhaseResult, phase: 'unpruned' | 'pruned', snapshotEvery: number, extra: Metrics = {}): StageResult {
  const last = result.history[result.history.length - 1];
  const meta = { dataset: String(axes.dataset), dropout: axes.dropout === true, run: Number(axes.run), phase, testAccuracy: last.testAccuracy };
  return {
    outputs: {
      weights: weightsToTable({ layers: result.layers, meta }),
      history: historyTable.toTable(result.history, { phase }),
      snapshots: snapshotsToTable(result.snapshots, phase, snapshotEvery),
    },
    metrics: {
      train_accuracy: last.trainAccuracy,
      train_loss: last.trainLoss,
      test_accuracy: last.testAccuracy,
      test_loss: last.testLoss,
      epochs: result.history.length,
      sparsity: kernelSparsity(result.layers),
      ...extra,
    },
  };
}
