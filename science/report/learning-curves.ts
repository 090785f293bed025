/**
 * Learning curves in the report: a table of the n-cut after every N-th epoch of training and
 * pruning, with the original code's values beside ours where it has them (reference §11.3), and
 * a figure of n-cut against epoch, one panel per dataset, one line per condition.
 */
import type { ReportFigure, VegaLiteSpec } from './figures.ts';
import { fmt, MISSING, NONE, type ReportTable } from './format.ts';
import type { MetricsCollector } from './metrics.ts';
import type { ReportOptions } from './options.ts';
import { datasetLabel, PAPER_LEARNING_CURVES } from './paper.ts';
import type { LearningCurveRecord } from './records.ts';
import { conditionKey, conditionLabel } from './tables.ts';

const r6 = (x: number) => Math.round(x * 1e6) / 1e6;

/** The original code's n-cut at this point, when it has one (no dropout, k = 4, same epoch count). */
export function paperCurveValue(curve: Pick<LearningCurveRecord, 'dataset' | 'dropout' | 'k'>, epochTotal: number): number | null {
  if (curve.dropout || curve.k !== PAPER_LEARNING_CURVES.k) return null;
  return PAPER_LEARNING_CURVES.curves[curve.dataset]?.find(([e]) => e === epochTotal)?.[1] ?? null;
}

function sortedCurves(curves: readonly LearningCurveRecord[]): LearningCurveRecord[] {
  return [...curves].sort((a, b) => a.dataset.localeCompare(b.dataset) || Number(a.dropout) - Number(b.dropout) || a.run - b.run);
}

/** Epochs of training before the first pruning epoch (the offset of the pruned points). */
function trainingEpochs(curve: LearningCurveRecord): number | null {
  const first = curve.points.find((p) => p.phase === 'pruned');
  return first ? first.epochTotal - first.epoch : null;
}

export function learningCurveTable(curves: readonly LearningCurveRecord[], metrics: MetricsCollector): ReportTable {
  const id = 'table-learning-curves';
  const rows: string[][] = [];
  const readings: string[] = [];
  for (const c of sortedCurves(curves)) {
    const row = `${conditionKey(c.dataset, c.dropout)}/run${c.run}`;
    for (const p of c.points) {
      const paper = paperCurveValue(c, p.epochTotal);
      metrics.add(id, row, `ncut_epoch_${p.epochTotal}`, p.ncut, { paper });
      rows.push([
        conditionLabel(c.dataset, c.dropout),
        String(c.run),
        p.phase === 'unpruned' ? 'training' : 'pruning',
        String(p.epochTotal),
        fmt(p.testAccuracy),
        fmt(p.ncut),
        paper === null ? NONE : fmt(paper),
      ]);
    }
    const train = c.points.filter((p) => p.phase === 'unpruned');
    const prune = c.points.filter((p) => p.phase === 'pruned');
    if (train.length && prune.length)
      readings.push(
        `${conditionLabel(c.dataset, c.dropout)}: ${fmt(train[0].ncut)} → ${fmt(train.at(-1)!.ncut)} in training, ${fmt(prune.at(-1)!.ncut)} after pruning`,
      );
  }
  return {
    id,
    title: 'Learning curves: n-cut during training and pruning',
    caption:
      `The n-cut (k = ${curves[0]?.k ?? PAPER_LEARNING_CURVES.k}) of each network's weights after every N-th epoch (learning_curve.every / prune_every), ` +
      `pruning epochs counted on from the end of training. "Original code": ${PAPER_LEARNING_CURVES.source}, one network per dataset without dropout, k = 4.`,
    columns: ['Network', 'Run', 'Phase', 'Epoch', 'Test acc.', 'n-cut', 'Original code'],
    rows,
    reading: readings.length ? readings.join('; ') + '.' : MISSING,
    missing: curves.length ? [] : ['no learning curves (set learning_curve.runs and rerun train, prune and learning-curve)'],
  };
}

export function learningCurveFigure(curves: readonly LearningCurveRecord[], o: ReportOptions): ReportFigure {
  const id = 'fig-learning-curves';
  const k = curves[0]?.k ?? PAPER_LEARNING_CURVES.k;
  const title = `Learning curves: n-cut during training and pruning (k = ${k})`;
  if (!curves.length) return { id, title, spec: null, reading: 'No learning curves yet.', missing: ['learning curves (stage learning-curve)'] };
  const rows: Record<string, unknown>[] = [];
  const panels: string[] = [];
  for (const c of sortedCurves(curves)) {
    const panel = datasetLabel(c.dataset);
    if (!panels.includes(panel)) panels.push(panel);
    const series = `${c.dropout ? 'dropout' : 'no dropout'}${curves.filter((x) => x.dataset === c.dataset && x.dropout === c.dropout).length > 1 ? `, run ${c.run}` : ''}`;
    for (const p of c.points)
      rows.push({ kind: 'ours', panel, series, epoch: p.epochTotal, ncut: r6(p.ncut), phase: p.phase === 'unpruned' ? 'training' : 'pruning' });
    const boundary = trainingEpochs(c);
    if (boundary !== null) rows.push({ kind: 'boundary', panel, epoch: boundary + 0.5 });
  }
  for (const dataset of new Set(curves.map((c) => c.dataset))) {
    const panel = datasetLabel(dataset);
    for (const [epoch, ncut] of PAPER_LEARNING_CURVES.curves[dataset] ?? [])
      if (k === PAPER_LEARNING_CURVES.k) rows.push({ kind: 'paper', panel, series: 'original code (no dropout)', epoch, ncut });
  }
  const x = { field: 'epoch', type: 'quantitative', title: 'epoch (training, then pruning)', scale: { zero: false } };
  const y = { field: 'ncut', type: 'quantitative', title: 'n-cut', scale: { zero: false } };
  const color = {
    field: 'series',
    type: 'nominal',
    title: null,
    scale: { domain: ['no dropout', 'dropout', 'original code (no dropout)'], range: [o.colors.pruned, o.colors.pruned_dropout, o.colors.actual] },
    legend: { orient: 'bottom', labelLimit: 260 },
  };
  const spec: VegaLiteSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    data: { values: rows },
    facet: { field: 'panel', type: 'nominal', title: null, sort: panels },
    columns: Math.min(3, panels.length),
    resolve: { scale: { x: 'independent' } },
    spec: {
      width: o.panel.width,
      height: o.panel.height,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'boundary'" }],
          mark: { type: 'rule', strokeDash: [2, 3], color: '#888888' },
          encoding: { x: { field: 'epoch', type: 'quantitative' }, tooltip: { value: 'pruning starts' } },
        },
        {
          transform: [{ filter: "datum.kind === 'paper'" }],
          mark: { type: 'line', strokeDash: [5, 3], point: { shape: 'diamond', filled: false, size: 50 }, strokeWidth: 1 },
          encoding: { x, y, color },
        },
        {
          transform: [{ filter: "datum.kind === 'ours'" }],
          mark: { type: 'line', point: { filled: true, size: 30 } },
          encoding: { x, y, color, detail: { field: 'series' }, tooltip: [{ field: 'series' }, { field: 'phase' }, { field: 'epoch' }, { field: 'ncut' }] },
        },
      ],
    },
  };
  const drops = sortedCurves(curves).map((c) => {
    const first = c.points[0];
    const last = c.points.at(-1)!;
    return `${conditionLabel(c.dataset, c.dropout)} ${fmt(first.ncut)} (epoch ${first.epochTotal}) → ${fmt(last.ncut)} (epoch ${last.epochTotal})`;
  });
  return {
    id,
    title,
    spec,
    reading: `Dotted rule: pruning starts. Dashed diamonds: the original code's curves (one network each, no dropout). ${drops.join('; ')}.`,
    missing: [],
  };
}
