/**
 * The logic of `pipeline.ts diff`: what changed between two revisions' params and
 * reports/metrics.json, with Welch's t-test where both sides have replicate runs and a
 * Benjamini–Hochberg correction over the metrics of each table ("within noise" = not
 * significant at the false-discovery rate α). Git access lives in cli/diff.ts.
 */
import { markdownTable } from './format.ts';
import type { MetricEntry, MetricsMap } from './metrics.ts';
import { benjaminiHochberg, welchTTest } from './stats.ts';

export interface RevisionReport {
  /** How the revision is named to the user ("HEAD", "working tree", a commit). */
  readonly label: string;
  /** Parsed params.yaml, or null when the revision has none. */
  readonly params: unknown;
  readonly metrics: MetricsMap;
}

export interface ParamChange {
  readonly path: string;
  readonly old: unknown;
  readonly new: unknown;
}

export interface MetricChange {
  readonly name: string;
  readonly table: string;
  readonly status: 'changed' | 'added' | 'removed';
  readonly old: number | null;
  readonly new: number | null;
  readonly delta: number | null;
  /** Welch's two-sided p on the per-run values (null without ≥ 2 runs on both sides). */
  readonly p: number | null;
  /** Benjamini–Hochberg adjusted p over the table's tested metrics. */
  readonly q: number | null;
  /** True when the change is not significant at α after BH; null when untested. */
  readonly withinNoise: boolean | null;
}

export interface DiffResult {
  readonly a: string;
  readonly b: string;
  readonly alpha: number;
  readonly params: readonly ParamChange[];
  readonly metrics: readonly MetricChange[];
  /** Metrics present on both sides with identical values and runs. */
  readonly unchanged: number;
}

/** Flatten nested objects to dotted paths; arrays and scalars are leaves. */
export function flattenParams(value: unknown, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (!entries.length && prefix) out[prefix] = {};
    for (const [k, v] of entries) flattenParams(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out[prefix] = value;
  }
  return out;
}

export function diffParams(a: unknown, b: unknown): ParamChange[] {
  const fa = flattenParams(a ?? {});
  const fb = flattenParams(b ?? {});
  const keys = [...new Set([...Object.keys(fa), ...Object.keys(fb)])].sort();
  return keys.filter((k) => JSON.stringify(fa[k]) !== JSON.stringify(fb[k])).map((k) => ({ path: k, old: fa[k], new: fb[k] }));
}

const sameEntry = (x: MetricEntry, y: MetricEntry) => x.value === y.value && JSON.stringify(x.runs ?? []) === JSON.stringify(y.runs ?? []);

export function diffReports(a: RevisionReport, b: RevisionReport, opts: { alpha: number }): DiffResult {
  const names = [...new Set([...Object.keys(a.metrics), ...Object.keys(b.metrics)])].sort();
  // Welch p for every metric with replicates on both sides, grouped by table (the BH family).
  const tested = new Map<string, { name: string; p: number }[]>();
  const pOf = new Map<string, number>();
  for (const name of names) {
    const x = a.metrics[name];
    const y = b.metrics[name];
    if (!x || !y || !x.runs || !y.runs) continue;
    const w = welchTTest(x.runs, y.runs);
    if (!w || Number.isNaN(w.p)) continue;
    pOf.set(name, w.p);
    const family = y.table;
    tested.set(family, [...(tested.get(family) ?? []), { name, p: w.p }]);
  }
  const qOf = new Map<string, number>();
  for (const family of tested.values()) {
    const q = benjaminiHochberg(family.map((t) => t.p));
    family.forEach((t, i) => qOf.set(t.name, q[i]));
  }
  const metrics: MetricChange[] = [];
  let unchanged = 0;
  for (const name of names) {
    const x = a.metrics[name];
    const y = b.metrics[name];
    if (x && y && sameEntry(x, y)) {
      unchanged++;
      continue;
    }
    const old = x?.value ?? null;
    const now = y?.value ?? null;
    const p = pOf.get(name) ?? null;
    const q = qOf.get(name) ?? null;
    metrics.push({
      name,
      table: (y ?? x)!.table,
      status: !x ? 'added' : !y ? 'removed' : 'changed',
      old,
      new: now,
      delta: old !== null && now !== null ? now - old : null,
      p,
      q,
      withinNoise: q === null ? null : q > opts.alpha,
    });
  }
  return { a: a.label, b: b.label, alpha: opts.alpha, params: diffParams(a.params, b.params), metrics, unchanged };
}

function num(x: number | null): string {
  if (x === null) return '—';
  if (x === 0) return '0';
  const ax = Math.abs(x);
  return ax >= 1e4 || ax < 1e-3 ? x.toExponential(3) : x.toFixed(4);
}

function signed(x: number | null): string {
  const s = num(x);
  return x !== null && x > 0 ? `+${s}` : s;
}

function note(m: MetricChange, alpha: number): string {
  if (m.status !== 'changed') return m.status;
  if (m.withinNoise === null) return '';
  return m.withinNoise ? 'within noise' : `significant (q ≤ ${alpha})`;
}

const showParam = (v: unknown) => (v === undefined ? '(absent)' : JSON.stringify(v));

function metricRows(r: DiffResult): string[][] {
  return r.metrics.map((m) => [m.name, num(m.old), num(m.new), signed(m.delta), m.p === null ? '' : num(m.p), note(m, r.alpha)]);
}

/** Plain-text table with columns padded to equal width. */
function alignedTable(columns: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((c, i) => Math.max([...c].length, ...rows.map((r) => [...(r[i] ?? '')].length)));
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => c + ' '.repeat(widths[i] - [...c].length))
      .join('  ')
      .trimEnd();
  return [line(columns), line(widths.map((w) => '─'.repeat(w))), ...rows.map(line)].join('\n');
}

export type DiffFormat = 'text' | 'md' | 'json';

export function formatDiff(r: DiffResult, format: DiffFormat): string {
  if (format === 'json') return JSON.stringify(r, null, 2) + '\n';
  const metricColumns = ['metric', 'old', 'new', 'delta', 'Welch p', ''];
  const paramRows = r.params.map((c) => [c.path, showParam(c.old), showParam(c.new)]);
  const summary = `${r.metrics.length} metric(s) changed, ${r.unchanged} unchanged; "within noise" = Welch's t-test on the per-run values not significant after Benjamini–Hochberg over each table's metrics (α = ${r.alpha}).`;
  if (format === 'md') {
    return [
      `### Report diff: \`${r.a}\` → \`${r.b}\``,
      '',
      '#### Params',
      '',
      paramRows.length
        ? markdownTable(
            ['param', 'old', 'new'],
            paramRows.map((x) => x.map((c) => `\`${c}\``)),
          )
        : 'No params changed.',
      '',
      '#### Metrics',
      '',
      r.metrics.length ? markdownTable(metricColumns.slice(0, 5).concat(['note']), metricRows(r)) : 'No metrics changed.',
      '',
      summary,
      '',
    ].join('\n');
  }
  return [
    `Report diff: ${r.a} → ${r.b}`,
    '',
    'Params',
    paramRows.length ? alignedTable(['param', 'old', 'new'], paramRows) : '  (no params changed)',
    '',
    'Metrics',
    r.metrics.length ? alignedTable(metricColumns, metricRows(r)) : '  (no metrics changed)',
    '',
    summary,
    '',
  ].join('\n');
}
