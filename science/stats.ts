/**
 * Small statistics shared by the clustering, lesion and report areas.
 *
 * Conventions follow the original code (Filan et al., `src/utils.py`):
 * - `sd(xs, ddof)`: numpy's `np.std(xs, ddof=ddof)`. Clustering z-scores use ddof 0
 *   (`np.std`), lesion z-scores use ddof 1 (pandas `std`).
 * - `pValue`: North, Curtis & Sham 2002 (PMC379178), `compute_pvalue`:
 *   p = (#{s < x} + 1) / (n + 1), strict `<`, ties not counted.
 * - `cohenD`: `cohen_d(d1, d2)`, pooled standard deviation with ddof 1 per sample.
 */

/** Arithmetic mean; NaN for an empty sample. */
export function mean(xs: ArrayLike<number>): number {
  if (xs.length === 0) return NaN;
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s / xs.length;
}

/** Variance with `ddof` delta degrees of freedom (numpy `var`); NaN when n ≤ ddof. */
export function variance(xs: ArrayLike<number>, ddof = 0): number {
  const n = xs.length;
  if (n - ddof <= 0) return NaN;
  const m = mean(xs);
  let s = 0;
  for (let i = 0; i < n; i++) s += (xs[i] - m) * (xs[i] - m);
  return s / (n - ddof);
}

/** Standard deviation with `ddof` delta degrees of freedom (numpy `std`). */
export function sd(xs: ArrayLike<number>, ddof = 0): number {
  return Math.sqrt(variance(xs, ddof));
}

/** z-score of `x` against a sample: (x − mean) / sd(ddof). ±Infinity when the sample has zero spread. */
export function zScore(x: number, xs: ArrayLike<number>, ddof = 0): number {
  return (x - mean(xs)) / sd(xs, ddof);
}

/** One-sided empirical p-value that `x` is lower than the sample: (#{s < x} + 1) / (n + 1). */
export function pValue(x: number, xs: ArrayLike<number>): number {
  let below = 0;
  for (let i = 0; i < xs.length; i++) if (xs[i] < x) below++;
  return (below + 1) / (xs.length + 1);
}

/** The smallest p-value `pValue` can give with n samples; a result is significant iff p equals it. */
export function minPValue(n: number): number {
  return 1 / (n + 1);
}

/** Cohen's d of two samples: (mean1 − mean2) / s, s the pooled SD with ddof 1 (`cohen_d` in the original). */
export function cohenD(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n1 = a.length;
  const n2 = b.length;
  const pooled = Math.sqrt(((n1 - 1) * variance(a, 1) + (n2 - 1) * variance(b, 1)) / (n1 + n2 - 2));
  return (mean(a) - mean(b)) / pooled;
}

export function min(xs: ArrayLike<number>): number {
  let m = Infinity;
  for (let i = 0; i < xs.length; i++) if (xs[i] < m) m = xs[i];
  return xs.length ? m : NaN;
}

export function max(xs: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < xs.length; i++) if (xs[i] > m) m = xs[i];
  return xs.length ? m : NaN;
}

/** Summary of a null distribution against an observed value, as the clustering tables report it (sd ddof 0). */
export interface NullSummary {
  n: number;
  mean: number;
  sd: number;
  z: number;
  p: number;
  /** p equals the smallest possible p-value 1/(n+1): x is below every sample. */
  significant: boolean;
  min: number;
  max: number;
}

export function summarizeNull(x: number, samples: ArrayLike<number>): NullSummary {
  const n = samples.length;
  const p = pValue(x, samples);
  return {
    n,
    mean: mean(samples),
    sd: sd(samples, 0),
    z: zScore(x, samples, 0),
    p,
    significant: n > 0 && p === minPValue(n),
    min: min(samples),
    max: max(samples),
  };
}
