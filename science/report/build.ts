/**
 * Build the whole report from plain records: Markdown tables, Vega-Lite specs + SVGs,
 * metrics.json and README.md. Pure apart from rendering; the same input gives the same bytes.
 */
import { comparisonSection } from './comparison.ts';
import { externalModelsTable } from './external.ts';
import { markdownTable, renderTable, type ReportTable } from './format.ts';
import { MetricsCollector } from './metrics.ts';
import type { ReportOptions } from './options.ts';
import { PAPER_PER_NETWORK } from './paper.ts';
import type { ReportInput } from './records.ts';
import { figure2, figure3, figure4, figure5, figure6a, figure6b, figureA1, renderSvg, violinFigures, type ReportFigure } from './figures.ts';
import { figure1 } from './figure-1.ts';
import { learningCurveFigure, learningCurveTable } from './learning-curves.ts';
import {
  clusterabilityTable,
  conditionKey,
  dependencyTable,
  findLesion,
  mixturesTable,
  NetworkIndex,
  networkCohenD,
  perNetworkTable,
  randomDataTable,
  singleLesionTable,
} from './tables.ts';

export interface BuiltReport {
  /** Relative path → file content (UTF-8 text). */
  readonly files: Record<string, string>;
  readonly tables: readonly ReportTable[];
  readonly figures: readonly ReportFigure[];
  /** "id: what is missing" lines, as listed in README.md. */
  readonly missing: readonly string[];
  readonly metricCount: number;
}

/** The k values that get a clusterability table: the paper's (4, 7, 10, 2) and any other k in the runs. */
function clusterabilityKs(index: NetworkIndex, mainK: number): number[] {
  const paperOrder = [4, 7, 10, 2];
  const ks = [...new Set([mainK, ...paperOrder, ...index.ks])];
  return [...paperOrder.filter((k) => ks.includes(k)), ...ks.filter((k) => !paperOrder.includes(k)).sort((a, b) => a - b)];
}

export async function buildReport(input: ReportInput, o: ReportOptions): Promise<BuiltReport> {
  const index = new NetworkIndex(input.networks);
  const metrics = new MetricsCollector();
  const tables: ReportTable[] = [];
  const groups = new Set(o.tables);
  const ks = clusterabilityKs(index, o.main_k);

  if (groups.has('clusterability')) for (const k of ks) tables.push(clusterabilityTable(index, k, 'layer', metrics));
  if (groups.has('clusterability_nonzero')) for (const k of ks) tables.push(clusterabilityTable(index, k, 'layer_nonzero', metrics));
  if (groups.has('random_data')) for (const which of ['random', 'kilo_epoch', 'memorization'] as const) tables.push(randomDataTable(index, which, o, metrics));
  if (groups.has('per_network')) for (const p of PAPER_PER_NETWORK) tables.push(perNetworkTable(index, p, o, metrics));
  if (groups.has('mixtures')) for (const which of ['without', 'with'] as const) tables.push(mixturesTable(index, which, o, metrics));
  const lesion = findLesion(input.lesions, o);
  if (groups.has('lesion_single')) tables.push(singleLesionTable(lesion, o, metrics));
  if (groups.has('lesion_dependencies')) tables.push(dependencyTable(lesion, o, metrics));
  if (groups.has('learning_curves')) tables.push(learningCurveTable(input.curves ?? [], metrics));
  // Only when params list external networks, so reports of the study alone are unchanged.
  if (input.externalModels?.length) tables.push(externalModelsTable(input.externalModels, metrics));

  const figures: ReportFigure[] = [];
  const want = new Set(o.figures);
  if (want.has('fig-1')) figures.push(figure1(input.drawn, o));
  if (want.has('fig-2')) figures.push(figure2(input.networks, o));
  if (want.has('fig-3')) figures.push(figure3(input.networks, o));
  if (want.has('fig-4')) figures.push(figure4(index, o));
  if (want.has('fig-A1')) figures.push(figureA1(input.networks, o));
  if (want.has('fig-A2-A5')) figures.push(...violinFigures(index, o));
  if (want.has('fig-5')) figures.push(figure5(lesion, o));
  if (want.has('fig-6a')) figures.push(figure6a(lesion, o));
  if (want.has('fig-6b')) figures.push(figure6b(lesion, o));
  if (want.has('fig-learning-curves')) figures.push(learningCurveFigure(input.curves ?? [], o));
  figureMetrics(input, o, metrics);
  const comparison = comparisonSection(index, o, metrics);

  const files: Record<string, string> = {};
  for (const t of tables) files[`tables/${t.id}.md`] = renderTable(t);
  for (const f of figures) {
    if (!f.spec) continue;
    files[`figures/${f.id}.vl.json`] = JSON.stringify(f.spec, null, 1) + '\n';
    files[`figures/${f.id}.svg`] = await renderSvg(f.spec);
  }
  files['metrics.json'] = JSON.stringify(metrics.toJSON(), null, 1) + '\n';
  const missing = [...tables.flatMap((t) => t.missing.map((m) => `${t.id}: ${m}`)), ...figures.flatMap((f) => f.missing.map((m) => `${f.id}: ${m}`))];
  files['README.md'] = readme(input, comparison, tables, figures, missing, metrics.size);
  return { files, tables, figures, missing, metricCount: metrics.size };
}

/** Numbers shown only in figures: random-init n-cuts (Fig. 3) and mean Cohen's d per condition (Fig. A.1). */
function figureMetrics(input: ReportInput, o: ReportOptions, metrics: MetricsCollector): void {
  const init = input.networks.filter((n) => n.phase === 'init' && n.k === o.main_k && n.ncut !== null).map((n) => n.ncut!);
  if (init.length) {
    metrics.add('fig-3', 'init', 'ncut', init.reduce((a, b) => a + b, 0) / init.length, { runs: init });
    metrics.add('fig-3', 'init', 'ncut_min', Math.min(...init), { paper: 2.3 });
    metrics.add('fig-3', 'init', 'ncut_max', Math.max(...init), { paper: 2.45 });
  }
  const groups = new Map<string, number[]>();
  for (const n of input.networks) {
    if (n.k !== o.main_k || n.phase === 'init') continue;
    const d = networkCohenD(n);
    if (d === null || !Number.isFinite(d)) continue;
    const key = `${conditionKey(n.dataset, n.dropout)}/${n.phase}`;
    groups.set(key, [...(groups.get(key) ?? []), d]);
  }
  for (const [key, ds] of groups) {
    const [row, phase] = key.split('/');
    metrics.add('fig-A1', row, `${phase}_cohen_d`, ds.reduce((a, b) => a + b, 0) / ds.length, { runs: ds });
  }
}

function readme(
  input: ReportInput,
  comparison: string,
  tables: readonly ReportTable[],
  figures: readonly ReportFigure[],
  missing: readonly string[],
  metricCount: number,
): string {
  const p = input.provenance;
  const lines: string[] = [
    '# Reports',
    '',
    'Generated by the `report` stage (`npx tsx pipeline.ts repro report --params FILE`, FILE being the params file `.published.json` in this folder names) from the cached runs; do not edit by hand.',
    "Each table prints our value beside the paper's. Compare two commits with `npx tsx pipeline.ts diff [REV_A] [REV_B] --report DIR` (DIR: this folder).",
    '',
    '## Provenance',
    '',
    markdownTable(
      ['Item', 'Value'],
      [
        ['Commit (newest change outside reports/)', p.commit],
        ['Commit date', p.commitDate],
        ['Report params digest', p.paramsDigest],
        ['Training backend', p.backends.length ? p.backends.join(', ') : 'not reported by the export stage'],
        ['Networks (records)', String(input.networks.length)],
        ['Metrics in metrics.json', String(metricCount)],
      ],
    ),
    '',
    'Inputs (per upstream stage: instances consumed and a digest over their output digests):',
    '',
    markdownTable(
      ['Stage', 'Instances', 'Digest'],
      p.inputs.map((i) => [i.stage, String(i.instances), i.digest]),
    ),
    '',
    'The date is deliberately the commit date, not the time of rendering: the same inputs give the same report bytes.',
    '',
    ...(input.notes ? [notesSection(input.notes), ''] : []),
    comparison,
    '',
    '## Tables',
    '',
    markdownTable(
      ['File', 'Table', 'Reading'],
      tables.map((t) => [`[${t.id}.md](tables/${t.id}.md)`, t.title.split(':')[0], t.reading]),
    ),
    '',
    '## Figures',
    '',
    markdownTable(
      ['Figure', 'Files', 'Reading'],
      figures.map((f) => [f.title.split(':')[0], f.spec ? `[svg](figures/${f.id}.svg) · [spec](figures/${f.id}.vl.json)` : 'missing', f.reading]),
    ),
    '',
    '## Missing',
    '',
    ...(missing.length ? missing.map((m) => `- ${m}`) : ['Nothing: every table and figure has runs.']),
    '',
    '## Files',
    '',
    '- `tables/*.md`: one Markdown table per paper table (ours, then the paper value in the column after it).',
    '- `figures/*.svg` with `figures/*.vl.json`: each figure and the Vega-Lite spec (data inline) that draws it.',
    '- `metrics.json`: every number above as `<table>/<row>/<column>` → `{table, value, runs?, paper?}`; `runs` are the per-run values behind a mean.',
    '',
  ];
  return lines.join('\n');
}

/**
 * "About this run": the notes of whoever ran the experiment (report.notes), headings demoted two
 * levels so they nest under this section (fenced code is left alone).
 */
export function notesSection(notes: { readonly path: string; readonly markdown: string }): string {
  let fenced = false;
  const body = notes.markdown
    .replace(/\s+$/, '')
    .split('\n')
    .map((line) => {
      if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
      return !fenced && /^#{1,4} /.test(line) ? `##${line}` : line;
    });
  return [
    '## About this run',
    '',
    `*Written by whoever ran it, in \`${notes.path}\` (\`report.notes\`); every number in the other sections is computed from the runs.*`,
    '',
    ...body,
  ].join('\n');
}
