/**
 * The importance taxonomy of a lesioned sub-module (original
 * `src/lesion/output.py:layer_cluster_taxonomify`; paper §4.1 and Table A.18). The first
 * matching rule wins, in this order:
 *   1. (single only) proportion of the layer == 1                → complete
 *   2. (single only) size ≤ smallSize (12 ≈ 5 % of 256)          → small
 *   3. p < 1/n and diff ≤ diffThreshold                          → important
 *   4. p == 1 and diff > diffThreshold                           → prunable
 *   5. p == 1 and diff ≤ diffThreshold                           → least_important
 *   6. p < 1/n and diff ≥ diffThreshold                          → sig-but-not-diff
 *   7. p ≥ 1/n and diff < diffThreshold                          → diff-but-not-sig
 *   8. otherwise                                                 → other
 * n is the number of random trials (so p < 1/n means "worse than every random control");
 * diff is an accuracy difference (negative = damage), diffThreshold −0.01 by default. Rule 3
 * comes first, so diff exactly at the threshold with a significant p is `important`.
 * Labels are the original's (`least_important` with an underscore, the others hyphenated).
 */

export const CATEGORIES = ['complete', 'small', 'important', 'prunable', 'least_important', 'sig-but-not-diff', 'diff-but-not-sig', 'other'] as const;
export type Category = (typeof CATEGORIES)[number];

export interface TaxonomyInput {
  p: number;
  diff: number;
  /** Single lesions only (rules 1–2): sub-module size and its proportion of the layer's live neurons. */
  size?: number;
  proportion?: number;
}

export interface TaxonomyOptions {
  /** Number of random trials behind p. */
  trials: number;
  diffThreshold: number;
  /** Apply rules 1–2 (single lesions); double lesions use rules 3–8 only. */
  withSize: boolean;
  smallSize: number;
}

export function classify(x: TaxonomyInput, o: TaxonomyOptions): Category {
  const pThreshold = 1 / o.trials;
  if (o.withSize) {
    if (x.proportion === undefined || x.size === undefined) throw new Error('classify: single lesions need size and proportion');
    if (x.proportion === 1) return 'complete';
    if (x.size <= o.smallSize) return 'small';
  }
  if (x.p < pThreshold && x.diff <= o.diffThreshold) return 'important';
  if (x.p === 1 && x.diff > o.diffThreshold) return 'prunable';
  if (x.p === 1 && x.diff <= o.diffThreshold) return 'least_important';
  if (x.p < pThreshold && x.diff >= o.diffThreshold) return 'sig-but-not-diff';
  if (x.p >= pThreshold && x.diff < o.diffThreshold) return 'diff-but-not-sig';
  return 'other';
}
