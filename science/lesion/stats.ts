/**
 * Statistics of a lesion against its random controls (original
 * `src/lesion/output.py:compute_damaged_cluster_stats`): on the accuracies, mean and sd of the
 * random controls — sd with ddof 1 (pandas `std`), unlike the clustering z-scores (ddof 0) —,
 * z = (true − mean)/sd, and p = (#{controls < true} + 1)/(n + 1) (science/stats.ts pValue).
 */
import { mean, pValue, sd } from '../stats.ts';

export interface ControlStats {
  /** Mean and sd (ddof 1) of the random controls' accuracies. */
  mean: number;
  sd: number;
  /** (true − mean)/sd: ±Infinity or NaN when the controls do not vary. */
  z: number;
  /** Small when the true lesion hurts more than the random ones; 1/(n + 1) when it hurts more than all. */
  p: number;
  n: number;
}

export function controlStats(trueAcc: number, controls: ArrayLike<number>): ControlStats {
  const m = mean(controls);
  const s = sd(controls, 1);
  return { mean: m, sd: s, z: (trueAcc - m) / s, p: pValue(trueAcc, controls), n: controls.length };
}
