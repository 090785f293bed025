/**
 * The "External models" table: each network file of params `external.models` at every k, with
 * its n-cut, the modularity Q of the same clusters, and each shuffle null (mean ± sd, p, z),
 * read as in the paper's Table 1 (p = 1/(n+1) means the n-cut is below every shuffle).
 */
import { fmt, fmtMeanSd, NONE, type ReportTable } from './format.ts';
import type { MetricsCollector } from './metrics.ts';
import { SHUFFLE_METHODS, type ExternalModelRecord } from './records.ts';

export function externalModelsTable(records: readonly ExternalModelRecord[], metrics: MetricsCollector): ReportTable {
  const sorted = [...records].sort((a, b) => (a.model < b.model ? -1 : a.model > b.model ? 1 : a.k - b.k));
  const rows: string[][] = [];
  for (const r of sorted) {
    const row = `${r.model} k=${r.k}`;
    metrics.add('external-models', row, 'ncut', r.ncut);
    metrics.add('external-models', row, 'modularity', r.modularity);
    const methods = SHUFFLE_METHODS.filter((m) => r.shuffles[m]);
    if (methods.length === 0) rows.push([r.model, String(r.k), fmt(r.ncut), fmt(r.modularity), NONE, NONE, NONE, NONE, NONE]);
    for (const m of methods) {
      const s = r.shuffles[m]!;
      metrics.add('external-models', row, `${m}_p`, s.p);
      metrics.add('external-models', row, `${m}_z`, s.z);
      rows.push([
        r.model,
        String(r.k),
        fmt(r.ncut),
        fmt(r.modularity),
        m,
        `${fmtMeanSd(s.mean, s.sd)} (n = ${s.n})`,
        fmt(s.p, 4),
        fmt(s.z, 2),
        s.significant ? '✓' : '×',
      ]);
    }
  }
  return {
    id: 'external-models',
    title: 'External models: n-cut, modularity and shuffle nulls of network files (params external.models)',
    caption:
      "One row per file, k and shuffle method. n-cut of the spectral clustering (lower = more modular), Newman's modularity Q of the same clusters (higher = more modular), the shuffled networks' n-cut (mean ± sd, ddof 0), p = (#{shuffles below} + 1)/(n + 1) and z. Graph definitions for CNNs: docs/models.md.",
    columns: ['Model', 'k', 'n-cut', 'Q', 'Shuffle', 'Shuffle n-cut', 'p', 'z', 'Below all'],
    rows,
    reading: 'Clusterability of the external networks, read like Table 1.',
    missing: [],
  };
}
