/**
 * Statistics the report and `diff` need beyond science/stats.ts (mean, sd, Cohen's d live there).
 */
import ttest2 from '@stdlib/stats-ttest2';
import { mean, variance } from '../stats.ts';

export interface WelchResult {
  readonly t: number;
  readonly df: number;
  /** Two-sided p-value. */
  readonly p: number;
}

/**
 * Welch's unequal-variance two-sample t-test, two-sided (scipy `ttest_ind(equal_var=False)`),
 * computed by @stdlib/stats-ttest2. Null when either side has fewer than 2 values. When both
 * samples have zero spread the statistic is undefined; the answer is then p = 1 for equal means
 * and p = 0 otherwise (the difference is exact).
 */
export function welchTTest(a: ArrayLike<number>, b: ArrayLike<number>): WelchResult | null {
  if (a.length < 2 || b.length < 2) return null;
  const va = variance(a, 1);
  const vb = variance(b, 1);
  if (va === 0 && vb === 0) {
    const same = mean(a) === mean(b);
    return { t: same ? 0 : Infinity, df: a.length + b.length - 2, p: same ? 1 : 0 };
  }
  const r = ttest2(Array.from(a), Array.from(b), { variance: 'unequal', alternative: 'two-sided' });
  return { t: r.statistic, df: r.df, p: r.pValue };
}

/**
 * Benjamini–Hochberg adjusted p-values (q-values), in the input order: q_(i) = min_{j ≥ i}
 * p_(j)·m/j over the ascending order, capped at 1 (R `p.adjust(method = "BH")`).
 * A test is significant at false-discovery rate α when q ≤ α.
 */
export function benjaminiHochberg(ps: readonly number[]): number[] {
  const m = ps.length;
  const order = ps.map((p, i) => [p, i] as const).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  const q = new Array<number>(m);
  let running = 1;
  for (let r = m - 1; r >= 0; r--) {
    const [p, i] = order[r];
    running = Math.min(running, (p * m) / (r + 1));
    q[i] = running;
  }
  return q;
}

/** Mean and sd (ddof 0) of the union of samples given only per-sample n, mean and sd (ddof 0). */
export function pooledMoments(parts: readonly { n: number; mean: number; sd: number }[]): { n: number; mean: number; sd: number } {
  let n = 0;
  let s1 = 0;
  let s2 = 0;
  for (const p of parts) {
    n += p.n;
    s1 += p.n * p.mean;
    s2 += p.n * (p.sd * p.sd + p.mean * p.mean);
  }
  if (n === 0) return { n: 0, mean: NaN, sd: NaN };
  const m = s1 / n;
  return { n, mean: m, sd: Math.sqrt(Math.max(0, s2 / n - m * m)) };
}

/**
 * Gaussian kernel density estimate on an even grid, with Scott's bandwidth n^(-1/5)·sd(ddof 1)
 * (scipy `gaussian_kde`, which seaborn 0.9's `distplot`/`violinplot` use). A zero-spread sample
 * gets a small bandwidth so it still draws as a narrow peak.
 */
export function gaussianKde(xs: ArrayLike<number>, points = 100, range?: readonly [number, number]): { x: number; density: number }[] {
  const n = xs.length;
  if (n === 0) return [];
  let bw = Math.pow(n, -1 / 5) * Math.sqrt(n > 1 ? variance(xs, 1) : 0);
  const m = mean(xs);
  if (!(bw > 0)) bw = Math.max(Math.abs(m) * 1e-3, 1e-6);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    lo = Math.min(lo, xs[i]);
    hi = Math.max(hi, xs[i]);
  }
  const [from, to] = range ?? [lo - 3 * bw, hi + 3 * bw];
  const norm = 1 / (n * bw * Math.sqrt(2 * Math.PI));
  const out: { x: number; density: number }[] = [];
  for (let g = 0; g < points; g++) {
    const x = points === 1 ? from : from + ((to - from) * g) / (points - 1);
    let s = 0;
    for (let i = 0; i < n; i++) {
      const u = (x - xs[i]) / bw;
      s += Math.exp(-0.5 * u * u);
    }
    out.push({ x, density: s * norm });
  }
  return out;
}

/**
 * Density-normalised histogram with the Freedman–Diaconis bin width capped at 50 bins (seaborn
 * 0.9 `distplot`'s default).
 */
export function histogram(xs: ArrayLike<number>): { start: number; end: number; count: number; density: number }[] {
  const n = xs.length;
  if (n === 0) return [];
  const sorted = Float64Array.from(xs).sort();
  const lo = sorted[0];
  const hi = sorted[n - 1];
  const quantile = (q: number) => {
    const pos = (n - 1) * q;
    const i = Math.floor(pos);
    return i + 1 < n ? sorted[i] + (sorted[i + 1] - sorted[i]) * (pos - i) : sorted[i];
  };
  const iqr = quantile(0.75) - quantile(0.25);
  const width = 2 * iqr * Math.pow(n, -1 / 3);
  const bins = hi > lo && width > 0 ? Math.min(50, Math.max(1, Math.ceil((hi - lo) / width))) : 1;
  const span = hi > lo ? hi - lo : 1;
  const step = span / bins;
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < n; i++) counts[Math.min(bins - 1, Math.floor((sorted[i] - lo) / step))]++;
  const start = hi > lo ? lo : lo - 0.5;
  return counts.map((count, b) => ({ start: start + b * step, end: start + (b + 1) * step, count, density: count / (n * step) }));
}
