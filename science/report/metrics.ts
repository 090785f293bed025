/**
 * reports/metrics.json: a flat map from a metric's name to its value, the per-run values behind
 * it when it is a mean over runs, the paper's value when the paper gives one, and the table or
 * figure it belongs to (the family `diff` corrects for multiple testing over).
 *
 * Names are `<table or figure id>/<row>/<column>`, e.g. `table-1/mnist+dropout/ncut`.
 */

export interface MetricEntry {
  /** Table or figure id (file stem). */
  readonly table: string;
  readonly value: number | null;
  /** Per-run values whose mean is `value` (replicates; `diff` runs Welch's t-test on them). */
  readonly runs?: readonly number[];
  readonly paper?: number | null;
}

export type MetricsMap = Record<string, MetricEntry>;

/** Collects metric entries; serialises them with sorted keys so the bytes are deterministic. */
export class MetricsCollector {
  private readonly entries = new Map<string, MetricEntry>();

  add(table: string, row: string, column: string, value: number | null, extra: { runs?: readonly number[]; paper?: number | null } = {}): void {
    const entry: MetricEntry = {
      table,
      value: value === null || Number.isFinite(value) ? value : null,
      ...(extra.runs && extra.runs.length ? { runs: extra.runs.map((x) => (Number.isFinite(x) ? x : NaN)).filter((x) => !Number.isNaN(x)) } : {}),
      ...(extra.paper !== undefined && extra.paper !== null ? { paper: extra.paper } : {}),
    };
    this.entries.set(`${table}/${row}/${column}`, entry);
  }

  toJSON(): MetricsMap {
    const out: MetricsMap = {};
    for (const key of [...this.entries.keys()].sort()) out[key] = this.entries.get(key)!;
    return out;
  }

  get size(): number {
    return this.entries.size;
  }
}

/** Parse and validate a metrics.json document; `where` names the file/revision in errors. */
export function parseMetrics(text: string, where: string): MetricsMap {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error(`${where} is not valid JSON (${(e as Error).message})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error(`${where} must be a JSON object mapping metric names to entries`);
  const out: MetricsMap = {};
  for (const [key, raw] of Object.entries(doc as Record<string, unknown>)) {
    const e = raw as Partial<MetricEntry> | null;
    if (typeof e !== 'object' || e === null || !('value' in e) || (e.value !== null && typeof e.value !== 'number')) {
      throw new Error(`${where}: entry "${key}" must be an object with a numeric or null "value"`);
    }
    out[key] = {
      table: typeof e.table === 'string' ? e.table : key.split('/')[0],
      value: e.value,
      ...(Array.isArray(e.runs) ? { runs: e.runs.filter((x): x is number => typeof x === 'number') } : {}),
      ...(typeof e.paper === 'number' ? { paper: e.paper } : {}),
    };
  }
  return out;
}
