/** Number formatting, the table model every report table uses, and its Markdown rendering. */

/** A rendered report table: Markdown cells plus what README.md needs to index it. */
export interface ReportTable {
  /** File stem under tables/, e.g. "table-1". */
  readonly id: string;
  readonly title: string;
  /** What the table shows and where the paper column comes from. */
  readonly caption: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly string[])[];
  /** Extra Markdown after the table (paper tables that cannot be matched row by row, notes). */
  readonly appendix?: string;
  /** One-line reading for README.md. */
  readonly reading: string;
  /** Parts with no runs yet, listed in README.md. */
  readonly missing: readonly string[];
}

export const MISSING = 'missing';
export const NONE = '—';

/** Fixed-point number, "—" for null/NaN. */
export function fmt(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || Number.isNaN(x)) return NONE;
  if (!Number.isFinite(x)) return x > 0 ? '+inf' : '-inf';
  const s = x.toFixed(digits);
  return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s; // no "-0.000"
}

/** Signed fixed-point ("+0.468", "-2.678"), as the paper prints Cohen's d and δ. */
export function fmtSigned(x: number | null | undefined, digits = 3): string {
  const s = fmt(x, digits);
  return s === NONE || s.startsWith('-') || s.startsWith('+') ? s : `+${s}`;
}

/** "mean ± sd". */
export function fmtMeanSd(mean: number | null | undefined, sd: number | null | undefined, digits = 3): string {
  if (mean === null || mean === undefined || Number.isNaN(mean)) return NONE;
  return sd === null || sd === undefined || Number.isNaN(sd) ? fmt(mean, digits) : `${fmt(mean, digits)} ± ${fmt(sd, digits)}`;
}

export function fmtBool(b: boolean | null | undefined): string {
  return b === null || b === undefined ? NONE : b ? '✓' : '×';
}

function escapeCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** A GitHub-flavoured Markdown table with columns padded to equal width (readable as plain text). */
export function markdownTable(columns: readonly string[], rows: readonly (readonly string[])[]): string {
  const cells = [columns, ...rows].map((r) => columns.map((_, i) => escapeCell(r[i] ?? '')));
  const widths = columns.map((_, i) => Math.max(3, ...cells.map((r) => [...r[i]].length)));
  const line = (r: readonly string[]) => `| ${r.map((c, i) => c + ' '.repeat(widths[i] - [...c].length)).join(' | ')} |`;
  return [line(cells[0]), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...cells.slice(1).map(line)].join('\n');
}

/** The Markdown file of one report table. */
export function renderTable(t: ReportTable): string {
  const parts = [`# ${t.title}`, '', t.caption, '', markdownTable(t.columns, t.rows)];
  if (t.missing.length) parts.push('', `**Missing:** ${t.missing.join('; ')}.`);
  if (t.appendix) parts.push('', t.appendix);
  return parts.join('\n') + '\n';
}
