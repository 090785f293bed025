/**
 * The paper's figures as Vega-Lite specs with inline data (each spec is self-contained and
 * saved beside its SVG), rendered to SVG headless with vega (renderer 'none', no browser).
 */
import * as vega from 'vega';
import * as vl from 'vega-lite';
import { cohenD, mean } from '../stats.ts';
import type { ReportOptions } from './options.ts';
import { datasetLabel, PAPER_INIT_NCUT_SUPPORT } from './paper.ts';
import type { DependencyEdge, LesionRecord, NetworkRecord, PairLesionRow, SingleLesionRow } from './records.ts';
import { gaussianKde, histogram } from './stats.ts';
import type { NetworkIndex } from './tables.ts';

export type VegaLiteSpec = Record<string, unknown>;

export interface ReportFigure {
  /** File stem under figures/, e.g. "fig-2". */
  readonly id: string;
  readonly title: string;
  /** Null when there is no data yet (the figure is listed as missing). */
  readonly spec: VegaLiteSpec | null;
  readonly reading: string;
  readonly missing: readonly string[];
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** Render a Vega-Lite spec to an SVG string (headless: vega's 'none' renderer, no canvas or DOM). */
export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  const compiled = vl.compile(spec as unknown as vl.TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return stableSvgIds(await view.toSVG());
  } finally {
    view.finalize();
  }
}

/**
 * vega numbers gradients and clip paths from a process-wide counter, so the same figure would
 * get different ids (and bytes) depending on what was rendered before it. Renumber them per
 * document, in order of appearance.
 */
export function stableSvgIds(svg: string): string {
  const ids = new Map<string, string>();
  const counters = new Map<string, number>();
  const rename = (prefix: string, n: string) => {
    const old = prefix + n;
    let now = ids.get(old);
    if (now === undefined) {
      const i = counters.get(prefix) ?? 0;
      counters.set(prefix, i + 1);
      ids.set(old, (now = prefix + i));
    }
    return now;
  };
  return svg.replace(/(id="|url\(#|href="#)(gradient_|clip|pattern_)(\d+)/g, (_, lead: string, prefix: string, n: string) => lead + rename(prefix, n));
}

/** Round for the inline data so specs stay small and their bytes stable. */
const r6 = (x: number) => Math.round(x * 1e6) / 1e6;

function base(title: string, o: ReportOptions, data: unknown[]): VegaLiteSpec {
  return { $schema: SCHEMA, title, data: { values: data }, config: { view: { continuousWidth: o.panel.width, continuousHeight: o.panel.height } } };
}

function conditionName(phase: string, dropout: boolean): string {
  return `${phase}${dropout ? ' + dropout' : ''}`;
}

function conditionScale(o: ReportOptions) {
  return {
    domain: ['unpruned', 'unpruned + dropout', 'pruned', 'pruned + dropout'],
    range: [o.colors.unpruned, o.colors.unpruned_dropout, o.colors.pruned, o.colors.pruned_dropout],
  };
}

const methodScale = (o: ReportOptions) => ({ domain: ['layer', 'layer_nonzero'], range: [o.colors.layer, o.colors.layer_nonzero] });

/** Figure 2: n-cut vs test accuracy of every trained network, before and after pruning. */
export function figure2(networks: readonly NetworkRecord[], o: ReportOptions): ReportFigure {
  const pts = networks
    .filter((n) => n.k === o.main_k && n.phase !== 'init' && n.ncut !== null && n.testAcc !== null)
    .map((n) => ({
      dataset: datasetLabel(n.dataset),
      run: n.run,
      condition: conditionName(n.phase, n.dropout),
      test_accuracy: r6(n.testAcc!),
      ncut: r6(n.ncut!),
    }));
  const title = `Figure 2: n-cut vs test accuracy, before and after pruning (k = ${o.main_k})`;
  if (!pts.length)
    return { id: 'fig-2', title, spec: null, reading: 'No clustered trained networks yet.', missing: ['trained networks with accuracy and n-cut'] };
  const datasets = [...new Set(pts.map((p) => p.dataset))];
  const drop = (phase: string) => pts.filter((p) => p.condition.startsWith(phase)).map((p) => p.ncut);
  const before = drop('unpruned');
  const after = drop('pruned');
  return {
    id: 'fig-2',
    title,
    spec: {
      ...base(title, o, pts),
      facet: { field: 'dataset', type: 'nominal', title: null, sort: datasets },
      columns: Math.min(3, datasets.length),
      resolve: { scale: { x: 'independent' } },
      spec: {
        mark: { type: 'point', filled: true, size: 40, opacity: 0.85 },
        encoding: {
          // padding (px): the extreme points sit inside the frame, not on an axis
          x: { field: 'test_accuracy', type: 'quantitative', title: 'test accuracy', scale: { zero: false, padding: 10 } },
          y: { field: 'ncut', type: 'quantitative', title: 'n-cut', scale: { zero: false, padding: 10 } },
          color: { field: 'condition', type: 'nominal', title: 'network', scale: conditionScale(o) },
          tooltip: [{ field: 'run' }, { field: 'condition' }, { field: 'ncut' }, { field: 'test_accuracy' }],
        },
      },
    },
    reading: `${pts.length} networks over ${datasets.length} datasets; mean n-cut ${before.length ? mean(before).toFixed(3) : '—'} before pruning, ${after.length ? mean(after).toFixed(3) : '—'} after.`,
    missing: [],
  };
}

/** Figure 3: n-cuts of randomly initialised networks, histogram and kernel density estimate. */
export function figure3(networks: readonly NetworkRecord[], o: ReportOptions): ReportFigure {
  const ncuts = networks.filter((n) => n.phase === 'init' && n.k === o.main_k && n.ncut !== null).map((n) => n.ncut!);
  const title = `Figure 3: n-cuts of ${ncuts.length} randomly initialised networks (k = ${o.main_k})`;
  if (!ncuts.length)
    return { id: 'fig-3', title, spec: null, reading: 'No clustered init networks yet.', missing: ['clustered random-init networks (phase init)'] };
  const bins = histogram(ncuts).map((b) => ({ kind: 'bin', start: r6(b.start), end: r6(b.end), density: r6(b.density) }));
  const kde = gaussianKde(ncuts, 120).map((p) => ({ kind: 'kde', x: r6(p.x), density: r6(p.density) }));
  const paper =
    o.main_k === 4
      ? [
          { kind: 'paper', x: PAPER_INIT_NCUT_SUPPORT.min },
          { kind: 'paper', x: PAPER_INIT_NCUT_SUPPORT.max },
        ]
      : [];
  const lo = Math.min(...ncuts);
  const hi = Math.max(...ncuts);
  return {
    id: 'fig-3',
    title,
    spec: {
      ...base(title, o, [...bins, ...kde, ...paper]),
      ...(paper.length
        ? {
            title: {
              text: title,
              subtitle: `dashed lines: the paper's range of init n-cuts (${PAPER_INIT_NCUT_SUPPORT.min}–${PAPER_INIT_NCUT_SUPPORT.max}, Fig. 3)`,
            },
          }
        : {}),
      width: o.panel.width * 2,
      height: o.panel.height,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'bin'" }],
          mark: { type: 'rect', color: o.colors.layer, opacity: 0.5 },
          encoding: {
            x: { field: 'start', type: 'quantitative', title: 'n-cut', scale: { zero: false } },
            x2: { field: 'end' },
            y: { field: 'density', type: 'quantitative', title: 'density' },
          },
        },
        {
          transform: [{ filter: "datum.kind === 'kde'" }],
          mark: { type: 'line', color: o.colors.layer },
          encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'density', type: 'quantitative' } },
        },
        ...(paper.length
          ? [
              {
                transform: [{ filter: "datum.kind === 'paper'" }],
                mark: { type: 'rule', strokeDash: [4, 3], color: o.colors.actual },
                encoding: { x: { field: 'x', type: 'quantitative' }, tooltip: { value: 'paper: support between 2.3 and 2.45' } },
              },
            ]
          : []),
      ],
    },
    reading: `range ${lo.toFixed(3)}–${hi.toFixed(3)}, mean ${mean(ncuts).toFixed(3)}${o.main_k === 4 ? ` (paper: support within ${PAPER_INIT_NCUT_SUPPORT.min}–${PAPER_INIT_NCUT_SUPPORT.max})` : ''}.`,
    missing: [],
  };
}

function kdeRows(samples: Float64Array, extra: Record<string, unknown>, points: number, normalise: boolean) {
  const pts = gaussianKde(samples, points);
  const top = normalise ? Math.max(...pts.map((p) => p.density)) || 1 : 1;
  return pts.map((p) => ({ ...extra, x: r6(p.x), density: r6(p.density / top) }));
}

/** Figure 4: shuffle distributions (`layer`, `layer_nonzero`) vs the real n-cut for representative pruned networks. */
export function figure4(index: NetworkIndex, o: ReportOptions): ReportFigure {
  const title = `Figure 4: n-cuts of pruned networks (run ${o.representative_run}) vs their shuffle distributions (k = ${o.main_k})`;
  const rows: Record<string, unknown>[] = [];
  const panels: string[] = [];
  const missing: string[] = [];
  const readings: string[] = [];
  for (const dataset of ['mnist', 'fashion']) {
    for (const dropout of [false, true]) {
      const net = index.get(dataset, dropout, 'pruned', o.main_k).find((n) => n.run === o.representative_run);
      const panel = `${datasetLabel(dataset)}${dropout ? ' + dropout' : ''}`;
      const L = net?.shuffles.layer?.samples;
      const N = net?.shuffles.layer_nonzero?.samples;
      if (!net || net.ncut === null || (!L && !N)) {
        missing.push(`${panel}: pruned run ${o.representative_run} with shuffle samples`);
        continue;
      }
      panels.push(panel);
      if (L) rows.push(...kdeRows(L, { panel, method: 'layer', kind: 'kde' }, 100, false));
      if (N) rows.push(...kdeRows(N, { panel, method: 'layer_nonzero', kind: 'kde' }, 100, false));
      rows.push({ panel, kind: 'actual', x: r6(net.ncut) });
      readings.push(`${panel} ${net.ncut.toFixed(3)} vs ${L ? mean(L).toFixed(3) : '—'}/${N ? mean(N).toFixed(3) : '—'}`);
    }
  }
  if (!panels.length) return { id: 'fig-4', title, spec: null, reading: 'No shuffle samples yet.', missing };
  return {
    id: 'fig-4',
    title,
    spec: {
      ...base(title, o, rows),
      title: { text: title, subtitle: "vertical line: the network's own n-cut" },
      facet: { field: 'panel', type: 'nominal', title: null, sort: panels },
      columns: 2,
      resolve: { scale: { x: 'independent', y: 'independent' } },
      spec: {
        layer: [
          {
            transform: [{ filter: "datum.kind === 'kde'" }],
            mark: { type: 'area', opacity: 0.45, line: true },
            encoding: {
              x: { field: 'x', type: 'quantitative', title: 'n-cut', scale: { zero: false } },
              y: { field: 'density', type: 'quantitative', title: 'density', stack: null },
              color: { field: 'method', type: 'nominal', title: 'shuffle', scale: methodScale(o) },
            },
          },
          {
            transform: [{ filter: "datum.kind === 'actual'" }],
            mark: { type: 'rule', color: o.colors.actual, strokeWidth: 2 },
            encoding: { x: { field: 'x', type: 'quantitative' } },
          },
        ],
      },
    },
    reading: `real n-cut vs mean of layer/layer_nonzero shuffles: ${readings.join('; ')}.`,
    missing,
  };
}

/** Figures A.2–A.5: split violins of both shuffle distributions per run, crosses at the real n-cuts. */
export function violinFigures(index: NetworkIndex, o: ReportOptions): ReportFigure[] {
  const panels: [string, 'unpruned' | 'pruned', boolean][] = [
    ['fig-A2', 'unpruned', false],
    ['fig-A3', 'unpruned', true],
    ['fig-A4', 'pruned', false],
    ['fig-A5', 'pruned', true],
  ];
  return panels.map(([id, phase, dropout]) => {
    const label = `${datasetLabel(o.violin_dataset)}${dropout ? ' with' : ' without'} dropout, ${phase === 'pruned' ? 'end of training' : 'before pruning'}`;
    const title = `Figure ${id.slice(4).replace(/^A/, 'A.')}: shuffle n-cut distributions per network, ${label} (k = ${o.main_k})`;
    const nets = index
      .get(o.violin_dataset, dropout, phase, o.main_k)
      .filter((n) => n.ncut !== null && (n.shuffles.layer?.samples || n.shuffles.layer_nonzero?.samples));
    if (!nets.length) return { id, title, spec: null, reading: 'No shuffle samples yet.', missing: [`${label}: networks with shuffle samples`] };
    const rows: Record<string, unknown>[] = [];
    for (const n of nets) {
      const L = n.shuffles.layer?.samples;
      const N = n.shuffles.layer_nonzero?.samples;
      // seaborn's split violin: `layer` to the left of the centre line, `layer_nonzero` to the right.
      if (L) rows.push(...kdeRows(L, { run: n.run, method: 'layer', kind: 'kde', side: -1 }, 60, true).map((p) => ({ ...p, width: -p.density })));
      if (N) rows.push(...kdeRows(N, { run: n.run, method: 'layer_nonzero', kind: 'kde', side: 1 }, 60, true).map((p) => ({ ...p, width: p.density })));
      rows.push({ run: n.run, kind: 'actual', x: r6(n.ncut!), width: 0 });
    }
    const below = nets.filter((n) => n.shuffles.layer?.significant).length;
    return {
      id,
      title,
      spec: {
        ...base(title, o, rows),
        facet: { column: { field: 'run', type: 'ordinal', title: 'run' } },
        spec: {
          width: 60,
          height: o.panel.height * 1.5,
          layer: [
            {
              transform: [{ filter: "datum.kind === 'kde'" }],
              mark: { type: 'area', orient: 'horizontal', opacity: 0.7 },
              encoding: {
                y: { field: 'x', type: 'quantitative', title: 'n-cut', scale: { zero: false } },
                x: { field: 'width', type: 'quantitative', axis: null, scale: { domain: [-1, 1] } },
                x2: { datum: 0 },
                color: { field: 'method', type: 'nominal', title: 'shuffle', scale: methodScale(o) },
                detail: { field: 'method' },
              },
            },
            {
              transform: [{ filter: "datum.kind === 'actual'" }],
              mark: { type: 'point', shape: 'cross', filled: true, size: 90, color: o.colors.actual },
              encoding: { y: { field: 'x', type: 'quantitative' }, x: { datum: 0 } },
            },
          ],
        },
        resolve: { scale: { y: 'shared' } },
      },
      reading: `${nets.length} networks; ${below} below every \`layer\` shuffle.`,
      missing: [],
    };
  });
}

/** Figure A.1: Cohen's d between the `layer` and `layer_nonzero` distributions of every network, with means. */
export function figureA1(networks: readonly NetworkRecord[], o: ReportOptions): ReportFigure {
  const title = `Figure A.1: Cohen's d, layer vs layer_nonzero shuffle distributions (k = ${o.main_k})`;
  const pts = networks
    .filter((n) => n.k === o.main_k && n.phase !== 'init')
    .flatMap((n) => {
      const a = n.shuffles.layer?.samples;
      const b = n.shuffles.layer_nonzero?.samples;
      if (!a || !b || a.length < 2 || b.length < 2) return [];
      const d = cohenD(a, b);
      return Number.isFinite(d) ? [{ method: conditionName(n.phase, n.dropout), dataset: datasetLabel(n.dataset), run: n.run, d: r6(d) }] : [];
    });
  if (!pts.length)
    return {
      id: 'fig-A1',
      title,
      spec: null,
      reading: 'No networks with both shuffle samples yet.',
      missing: ['networks with `layer` and `layer_nonzero` samples'],
    };
  const datasetOrder = [...new Set(['MNIST', 'Fashion', 'CIFAR-10', ...pts.map((p) => p.dataset)])].filter((d) => pts.some((p) => p.dataset === d));
  const byMethod = new Map<string, number[]>();
  for (const p of pts) byMethod.set(p.method, [...(byMethod.get(p.method) ?? []), p.d]);
  return {
    id: 'fig-A1',
    title,
    spec: {
      ...base(title, o, pts),
      facet: {
        column: {
          field: 'method',
          type: 'nominal',
          title: null,
          sort: ['unpruned', 'unpruned + dropout', 'pruned', 'pruned + dropout'],
          header: { labelLimit: 0 },
        },
      },
      // At least the width of the longest column title ("pruned + dropout"), so titles never overlap.
      spec: {
        width: Math.max(110, 40 * datasetOrder.length),
        height: o.panel.height,
        layer: [
          {
            mark: { type: 'point', filled: true, opacity: 0.35, size: 30 },
            encoding: {
              x: { field: 'dataset', type: 'nominal', sort: datasetOrder, title: null },
              y: { field: 'd', type: 'quantitative', title: "Cohen's d [layer vs. layer_nonzero]" },
              color: { field: 'dataset', type: 'nominal', legend: null },
            },
          },
          {
            mark: { type: 'point', shape: 'diamond', filled: true, size: 110, stroke: 'black', strokeWidth: 1 },
            encoding: {
              x: { field: 'dataset', type: 'nominal', sort: datasetOrder },
              y: { aggregate: 'mean', field: 'd', type: 'quantitative' },
              color: { field: 'dataset', type: 'nominal', legend: null },
            },
          },
        ],
      },
    },
    reading: `mean d by training: ${[...byMethod.entries()]
      .sort()
      .map(([m, ds]) => `${m} ${mean(ds).toFixed(2)}`)
      .join(', ')}.`,
    missing: [],
  };
}

/** Figure 5: sub-module proportion of its layer vs accuracy drop, coloured by taxonomy. */
export function figure5(lesion: LesionRecord | undefined, o: ReportOptions): ReportFigure {
  const title = 'Figure 5: sub-modules of the lesioned network — proportion of layer vs accuracy drop';
  if (!lesion?.single?.length) return { id: 'fig-5', title, spec: null, reading: 'No single-lesion results yet.', missing: ['single lesions'] };
  const pts = lesion.single.map((r) => ({
    submodule: `${r.layer}-${r.cluster}`,
    proportion: r6(r.proportion),
    drop_pp: r6(-r.diff * 100),
    category: r.category,
    label: r.category === 'important' ? `${r.layer}-${r.cluster}` : '',
  }));
  const cats = Object.keys(o.colors.taxonomy);
  const present = [...new Set(pts.map((p) => p.category))];
  const domain = [...cats.filter((c) => present.includes(c)), ...present.filter((c) => !cats.includes(c)).sort()];
  return {
    id: 'fig-5',
    title,
    spec: {
      ...base(title, o, pts),
      width: o.panel.width * 2,
      height: o.panel.height * 1.5,
      layer: [
        {
          mark: { type: 'point', filled: true, size: 60 },
          encoding: {
            x: { field: 'proportion', type: 'quantitative', title: "proportion of the layer's neurons" },
            y: { field: 'drop_pp', type: 'quantitative', title: 'accuracy drop (percentage points)', scale: { padding: 14 } },
            color: { field: 'category', type: 'nominal', title: 'type', scale: { domain, range: domain.map((c) => o.colors.taxonomy[c] ?? '#999999') } },
            tooltip: [{ field: 'submodule' }, { field: 'category' }, { field: 'drop_pp' }],
          },
        },
        {
          mark: { type: 'text', dx: 14, dy: -6, fontSize: 9 },
          encoding: { x: { field: 'proportion', type: 'quantitative' }, y: { field: 'drop_pp', type: 'quantitative' }, text: { field: 'label' } },
        },
      ],
    },
    reading: `${pts.filter((p) => p.category === 'important').length} of ${pts.length} sub-modules important.`,
    missing: [],
  };
}

/** Figure 6a: conditional importance of pairs of important sub-modules, δ in percentage points. */
export function figure6a(lesion: LesionRecord | undefined, o: ReportOptions): ReportFigure {
  const title = 'Figure 6a: conditional importance of important sub-modules — δ(row, column) in pp; ✓ = row important given column';
  const subtitle = 'diagonal (outlined): the drop of the single lesion of that sub-module';
  const important = (lesion?.single ?? []).filter((r) => r.category === 'important').sort((a, b) => a.layer - b.layer || a.cluster - b.cluster);
  if (!lesion?.conditional?.length || !important.length) {
    return {
      id: 'fig-6a',
      title,
      spec: null,
      reading: 'No conditional double-lesion results yet.',
      missing: ['conditional double lesions of important sub-modules'],
    };
  }
  const names = important.map((r) => `${r.layer}-${r.cluster}`);
  const set = new Set(names);
  const cells: Record<string, unknown>[] = important.map((r) => ({
    x: `${r.layer}-${r.cluster}`,
    y: `${r.layer}-${r.cluster}`,
    delta_pp: r6(-r.diff * 100),
    mark: 'single',
    text: (-r.diff * 100).toFixed(1),
  }));
  for (const c of lesion.conditional as readonly PairLesionRow[]) {
    const x = `${c.layerX}-${c.clusterX}`;
    const y = `${c.layerY}-${c.clusterY}`;
    if (x === y || !set.has(x) || !set.has(y)) continue;
    const imp = c.important ?? c.category === 'important';
    cells.push({ x, y, delta_pp: r6(-c.diff * 100), mark: imp ? 'important' : 'not', text: `${(-c.diff * 100).toFixed(1)}${imp ? '✓' : ''}` });
  }
  return {
    id: 'fig-6a',
    title,
    spec: {
      ...base(title, o, cells),
      title: { text: title, subtitle },
      width: Math.max(120, 28 * names.length),
      height: Math.max(120, 28 * names.length),
      encoding: {
        y: { field: 'x', type: 'ordinal', sort: names, title: 'X (lesioned, conditioned on column)' },
        x: { field: 'y', type: 'ordinal', sort: names, title: 'Y (already lesioned)' },
      },
      layer: [
        { mark: 'rect', encoding: { color: { field: 'delta_pp', type: 'quantitative', title: 'δ (pp)', scale: { scheme: 'reds' } } } },
        { transform: [{ filter: "datum.mark === 'single'" }], mark: { type: 'rect', fill: null, stroke: 'black', strokeWidth: 1.5 } },
        { mark: { type: 'text', fontSize: 8 }, encoding: { text: { field: 'text' }, color: { value: 'black' } } },
      ],
    },
    reading: `${cells.filter((c) => c.mark === 'important').length} of ${cells.filter((c) => c.mark !== 'single').length} ordered pairs conditionally important.`,
    missing: [],
  };
}

/** What each dependency-edge kind means (docs/lesion.md), as the legend says it. */
const EDGE_KIND_LABEL: Readonly<Record<string, string>> = {
  'from-unimportant-given-to': 'earlier unimportant given later (all its information goes to the later)',
  'to-unimportant-given-from': 'later unimportant given earlier (all its information comes from the earlier)',
  both: 'each unimportant given the other',
};

/** Node marks of Figure 6b: area in px² (radius ≈ 12.6 px) and how far before a node centre an arrow's tip stops. */
const NODE_AREA = 500;
const ARROW_TIP_GAP = Math.sqrt(NODE_AREA / Math.PI) + 3;

/**
 * Figure 6b's nodes ("layer-cluster"): the important sub-modules and every edge end; each node's
 * slot is its rank by cluster within its layer.
 */
function dependencyNodes(single: readonly SingleLesionRow[], edges: readonly DependencyEdge[]) {
  const nodes = new Map<string, { layer: number; cluster: number }>();
  for (const r of single) if (r.category === 'important') nodes.set(`${r.layer}-${r.cluster}`, { layer: r.layer, cluster: r.cluster });
  for (const e of edges) {
    nodes.set(`${e.fromLayer}-${e.fromCluster}`, { layer: e.fromLayer, cluster: e.fromCluster });
    nodes.set(`${e.toLayer}-${e.toCluster}`, { layer: e.toLayer, cluster: e.toCluster });
  }
  const rank = new Map<string, number>();
  const byLayer = new Map<number, string[]>();
  for (const [name, n] of [...nodes.entries()].sort((a, b) => a[1].layer - b[1].layer || a[1].cluster - b[1].cluster)) {
    const list = byLayer.get(n.layer) ?? [];
    list.push(name);
    byLayer.set(n.layer, list);
    rank.set(name, list.length - 1);
  }
  return { nodes, rank, layers: [...byLayer.keys()] };
}

/** Figure 6b: the sub-module dependency graph (nodes by layer, edges from the lesion stage, arrows earlier → later). */
export function figure6b(lesion: LesionRecord | undefined, o: ReportOptions): ReportFigure {
  const title = 'Figure 6b: sub-module dependency graph (layer-cluster; arrows from earlier to later layer)';
  if (!lesion?.edges) return { id: 'fig-6b', title, spec: null, reading: 'No dependency edges yet.', missing: ['dependency edges'] };
  const { nodes, rank, layers } = dependencyNodes(lesion.single ?? [], lesion.edges);
  const [minLayer, maxLayer] = [Math.min(1, ...layers), Math.max(4, ...layers)];
  const maxSlot = Math.max(0, ...rank.values());
  // Fixed domains with half a slot of margin: no node is cut at the frame, and data → pixels is
  // known here, so each arrowhead can be placed and turned in pixel space.
  const xDomain = [minLayer - 0.5, maxLayer + 0.5];
  const yDomain = [-0.5, maxSlot + 0.5];
  const width = o.panel.width * 2;
  const height = Math.max(o.panel.height, 60 * (maxSlot + 1));
  const px = (layer: number, slot: number) => ({
    x: ((layer - xDomain[0]) / (xDomain[1] - xDomain[0])) * width,
    y: ((slot - yDomain[0]) / (yDomain[1] - yDomain[0])) * height,
  });
  const fromPx = (p: { x: number; y: number }) => ({
    layer: xDomain[0] + (p.x / width) * (xDomain[1] - xDomain[0]),
    slot: yDomain[0] + (p.y / height) * (yDomain[1] - yDomain[0]),
  });
  const pos = (name: string) => ({ layer: nodes.get(name)!.layer, slot: rank.get(name)! });
  const edges = lesion.edges.map((e) => {
    const a = pos(`${e.fromLayer}-${e.fromCluster}`);
    const b = pos(`${e.toLayer}-${e.toCluster}`);
    const [pa, pb] = [px(a.layer, a.slot), px(b.layer, b.slot)];
    const [dx, dy] = [pb.x - pa.x, pb.y - pa.y];
    const len = Math.hypot(dx, dy) || 1;
    const tip = fromPx({ x: pb.x - (dx / len) * ARROW_TIP_GAP, y: pb.y - (dy / len) * ARROW_TIP_GAP });
    // Vega turns a shape clockwise by `angle` degrees; 'triangle-up' points to −y (screen up).
    const angle = r6((Math.atan2(dx, -dy) * 180) / Math.PI);
    return { a, b, tip, angle, kind: EDGE_KIND_LABEL[e.kind] ?? e.kind };
  });
  const rows: Record<string, unknown>[] = [
    ...[...nodes.keys()].map((name) => ({ kind: 'node', name, ...pos(name) })),
    ...edges.map((e) => ({ kind: 'edge', edge_kind: e.kind, layer: e.a.layer, slot: e.a.slot, layer2: e.b.layer, slot2: e.b.slot })),
    ...edges.map((e) => ({ kind: 'arrow', edge_kind: e.kind, layer: r6(e.tip.layer), slot: r6(e.tip.slot), angle: e.angle })),
  ];
  const x = { field: 'layer', type: 'quantitative', scale: { domain: xDomain, nice: false, zero: false } };
  const y = { field: 'slot', type: 'quantitative', axis: null, scale: { domain: yDomain, reverse: true, nice: false, zero: false } };
  const color = {
    field: 'edge_kind',
    type: 'nominal',
    title: 'edge',
    scale: { domain: Object.values(EDGE_KIND_LABEL) },
    legend: { orient: 'bottom', direction: 'vertical', labelLimit: 0 },
  };
  return {
    id: 'fig-6b',
    title,
    spec: {
      ...base(title, o, rows),
      width,
      height,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'edge'" }],
          mark: { type: 'rule', strokeWidth: 1.5, opacity: 0.8 },
          encoding: {
            x: { ...x, title: 'hidden layer', axis: { format: 'd', values: Array.from({ length: maxLayer - minLayer + 1 }, (_, i) => minLayer + i) } },
            y,
            x2: { field: 'layer2' },
            y2: { field: 'slot2' },
            color,
          },
        },
        {
          transform: [{ filter: "datum.kind === 'arrow'" }],
          mark: { type: 'point', shape: 'triangle-up', filled: true, size: 90, opacity: 1 },
          encoding: { x, y, angle: { field: 'angle', type: 'quantitative', scale: null }, color: { ...color, legend: null } },
        },
        {
          // Opaque nodes over the edges, so a line never runs through a label.
          transform: [{ filter: "datum.kind === 'node'" }],
          mark: { type: 'circle', size: NODE_AREA, color: '#eeeeee', stroke: '#444444', strokeWidth: 1.5, opacity: 1 },
          encoding: { x, y },
        },
        {
          transform: [{ filter: "datum.kind === 'node'" }],
          mark: { type: 'text', fontSize: 10 },
          encoding: { x, y, text: { field: 'name' } },
        },
      ],
    },
    reading: `${nodes.size} sub-modules, ${lesion.edges.length} edges.`,
    missing: [],
  };
}
