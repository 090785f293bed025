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
import { defineTable, float64, int32, type RowOf } from '../table-schema.ts';

/** The history table's declaration: a row is one epoch. */
export const historyTable = defineTable(
  { epoch: int32, trainLoss: float64, trainAccuracy: float64, testLoss: float64, testAccuracy: float64, sparsity: float64 },
  { metadata: ['phase'] },
);

export type EpochMetrics = RowOf<typeof historyTable>;
