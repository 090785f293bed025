/**
 * Figure 1 of the paper ("A surprisingly modular pruned neural network, split into modules"):
 * one pruned MLP drawn with its layers as columns, its neurons as dots coloured by module and
 * grouped by module within each column, and the heaviest edges between them.
 *
 * Layout, so that modules read as blocks at page width:
 * - each column spans the full height whatever its width (784 inputs and 10 outputs alike), its
 *   neurons ordered by module (0..k−1), a gap between consecutive modules;
 * - neurons without any non-zero weight (label −1, removed before clustering) sit below the
 *   live ones, after a wider gap, in grey: "isolated";
 * - edges: in each layer, the `edgeShare` heaviest of its non-zero |w| (a share per layer, so
 *   the thin input layer is not drowned by the heavier hidden ones); an edge inside one module
 *   takes that module's colour, an edge between modules is grey.
 * The same inputs give the same spec bytes (no randomness, fixed rounding).
 */
import type { WeightMatrix } from '../graph/index.ts';
import type { ReportFigure, VegaLiteSpec } from './figures.ts';
import type { ReportOptions } from './options.ts';
import { datasetLabel } from './paper.ts';
import type { DrawnNetworkRecord } from './records.ts';

export interface Figure1Network {
  readonly dataset: string;
  readonly dropout: boolean;
  readonly run: number;
  readonly k: number;
  readonly ncut: number | null;
  /** Dense layers in forward order (kernel fanIn × fanOut, row-major). */
  readonly layers: readonly WeightMatrix[];
  /** Cluster of every node in node order (inputs first), −1 for an isolated neuron. */
  readonly labels: Int32Array;
}

export interface Figure1Node {
  readonly column: number;
  /** 0 (top) … 1 (bottom) within the column. */
  readonly y: number;
  /** Module 0..k−1, or −1 when isolated. */
  readonly module: number;
}

export interface Figure1Edge {
  readonly column: number;
  readonly y: number;
  readonly y2: number;
  /** Module of both ends, or −1 for an edge between modules. */
  readonly module: number;
  readonly weight: number;
}

export interface Figure1Layout {
  readonly nodes: Figure1Node[];
  readonly edges: Figure1Edge[];
  readonly columnSizes: number[];
}

/** Gap between modules and before the isolated block, as a share of the column's neurons. */
const MODULE_GAP_SHARE = 0.04;
const ISOLATED_GAP_SHARE = 0.1;

/** y of every node of one column: live nodes by module, then the isolated ones. */
export function columnPositions(labels: Int32Array, k: number): Float64Array {
  const n = labels.length;
  const byModule = Array.from({ length: k + 1 }, () => [] as number[]);
  for (let i = 0; i < n; i++) byModule[labels[i] < 0 ? k : labels[i]].push(i);
  // Gaps in neuron slots: a share of the column, at least one empty slot so small columns show them too.
  const moduleGap = Math.max(1, MODULE_GAP_SHARE * n);
  const isolatedGap = Math.max(2, ISOLATED_GAP_SHARE * n);
  const blocks = byModule.map((members, m) => ({ members, gap: m === k ? isolatedGap : moduleGap })).filter((b) => b.members.length > 0);
  const span = n - 1 + blocks.slice(1).reduce((sum, b) => sum + b.gap, 0);
  const slot = 1 / Math.max(1, span);
  const y = new Float64Array(n);
  let at = 0;
  blocks.forEach((block, b) => {
    if (b > 0) at += (block.gap + 1) * slot;
    block.members.forEach((i, r) => (y[i] = at + r * slot));
    at += (block.members.length - 1) * slot;
  });
  return y;
}

/** Indices of the `share` heaviest non-zero |w| of a kernel (at least one when any is non-zero). */
export function heaviestEntries(kernel: ArrayLike<number>, share: number): number[] {
  const nonzero: number[] = [];
  for (let i = 0; i < kernel.length; i++) if (kernel[i] !== 0) nonzero.push(i);
  if (!nonzero.length) return [];
  const keep = Math.max(1, Math.round(share * nonzero.length));
  // Ties broken by index so the selection is a pure function of the kernel.
  nonzero.sort((a, b) => Math.abs(kernel[b]) - Math.abs(kernel[a]) || a - b);
  return nonzero.slice(0, keep).sort((a, b) => a - b);
}

export function figure1Layout(net: Figure1Network, edgeShare: number): Figure1Layout {
  const sizes = [net.layers[0].fanIn, ...net.layers.map((l) => l.fanOut)];
  const total = sizes.reduce((a, b) => a + b, 0);
  if (net.labels.length !== total) throw new Error(`figure 1: ${net.labels.length} labels for a network of ${total} neurons`);
  const offsets = sizes.map((_, c) => sizes.slice(0, c).reduce((a, b) => a + b, 0));
  const columnLabels = sizes.map((s, c) => net.labels.subarray(offsets[c], offsets[c] + s));
  const ys = columnLabels.map((labels) => columnPositions(labels, net.k));
  const nodes: Figure1Node[] = [];
  ys.forEach((y, c) => y.forEach((yi, i) => nodes.push({ column: c, y: yi, module: columnLabels[c][i] })));
  const edges: Figure1Edge[] = [];
  net.layers.forEach((layer, c) => {
    for (const e of heaviestEntries(layer.kernel, edgeShare)) {
      const i = Math.floor(e / layer.fanOut);
      const j = e % layer.fanOut;
      const a = columnLabels[c][i];
      const b = columnLabels[c + 1][j];
      edges.push({ column: c, y: ys[c][i], y2: ys[c + 1][j], module: a === b ? a : -1, weight: Math.abs(layer.kernel[e]) });
    }
  });
  return { nodes, edges, columnSizes: sizes };
}

const r4 = (x: number) => Math.round(x * 1e4) / 1e4;

export interface Figure1Style {
  readonly width: number;
  readonly height: number;
  /** Module colours, in module order (cycled when k is larger). */
  readonly palette: readonly string[];
  readonly isolated: string;
  readonly between: string;
}

/** Tableau 10, vega's default categorical scheme, written out so the spec is self-contained. */
export const FIGURE1_STYLE: Figure1Style = {
  width: 640,
  height: 420,
  palette: ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac'],
  isolated: '#a8a8a8',
  between: '#9e9e9e',
};

function columnTitle(c: number, columns: number): string {
  if (c === 0) return 'input';
  if (c === columns - 1) return 'output';
  return `hidden ${c}`;
}

/** The Vega-Lite spec of Figure 1 (inline data; edges as rules under the neuron dots). */
export function figure1Spec(net: Figure1Network, layout: Figure1Layout, title: string, style: Figure1Style = FIGURE1_STYLE): VegaLiteSpec {
  const columns = layout.columnSizes.length;
  const names = layout.columnSizes.map((s, c) => `${columnTitle(c, columns)} (${s})`);
  const moduleName = (m: number) => (m < 0 ? 'isolated' : `module ${m + 1}`);
  const domain = [...Array.from({ length: net.k }, (_, m) => moduleName(m)), 'isolated'];
  const range = [...Array.from({ length: net.k }, (_, m) => style.palette[m % style.palette.length]), style.isolated];
  const maxWeight = Math.max(...layout.edges.map((e) => e.weight), 1e-12);
  const edgeRows = layout.edges.map((e) => ({
    kind: 'edge',
    x: e.column,
    x2: e.column + 1,
    y: r4(e.y),
    y2: r4(e.y2),
    within: e.module >= 0,
    module: e.module >= 0 ? moduleName(e.module) : 'between modules',
    w: r4(e.weight / maxWeight),
  }));
  // Larger columns get smaller dots so that 784 inputs still read as a column of separate points.
  const nodeRows = layout.nodes.map((n) => ({
    kind: 'node',
    x: n.column,
    y: r4(n.y),
    module: moduleName(n.module),
    size: dotSize(layout.columnSizes[n.column]),
  }));
  const x = {
    field: 'x',
    type: 'quantitative',
    scale: { domain: [-0.15, columns - 0.85] },
    axis: {
      values: names.map((_, c) => c),
      labelExpr: `${JSON.stringify(names)}[datum.value]`,
      title: null,
      grid: false,
      ticks: false,
      domain: false,
      labelFontSize: 12,
      labelAngle: 0,
      labelOverlap: false,
      labelPadding: 6,
    },
  };
  const y = { field: 'y', type: 'quantitative', scale: { domain: [-0.02, 1.02], reverse: true }, axis: null };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, fontSize: 14 },
    width: style.width,
    height: style.height,
    config: { view: { stroke: null }, legend: { orient: 'right', labelFontSize: 12, titleFontSize: 12, symbolOpacity: 1 } },
    data: { values: [...edgeRows, ...nodeRows] },
    layer: [
      {
        transform: [{ filter: "datum.kind === 'edge' && !datum.within" }],
        mark: { type: 'rule', color: style.between, strokeCap: 'round' },
        encoding: {
          x,
          y,
          x2: { field: 'x2' },
          y2: { field: 'y2' },
          opacity: { value: 0.18 },
          strokeWidth: { field: 'w', type: 'quantitative', scale: { range: [0.3, 1.6] }, legend: null },
        },
      },
      {
        transform: [{ filter: "datum.kind === 'edge' && datum.within" }],
        mark: { type: 'rule', strokeCap: 'round' },
        encoding: {
          x,
          y,
          x2: { field: 'x2' },
          y2: { field: 'y2' },
          color: { field: 'module', type: 'nominal', scale: { domain, range } },
          opacity: { value: 0.35 },
          strokeWidth: { field: 'w', type: 'quantitative', scale: { range: [0.3, 1.6] }, legend: null },
        },
      },
      {
        transform: [{ filter: "datum.kind === 'node'" }],
        mark: { type: 'circle', opacity: 1, stroke: 'white', strokeWidth: 0.2 },
        encoding: {
          x,
          y,
          size: { field: 'size', type: 'quantitative', scale: null },
          color: { field: 'module', type: 'nominal', title: 'neurons', scale: { domain, range } },
        },
      },
    ],
  };
}

function dotSize(columnSize: number): number {
  if (columnSize > 400) return 7;
  if (columnSize > 100) return 12;
  return 60;
}

/** Figure 1 of the report: the network of `report.figure_1`, or listed as missing. */
export function figure1(drawn: DrawnNetworkRecord | null | undefined, o: ReportOptions): ReportFigure {
  const want = o.figure_1;
  const name = `${datasetLabel(want.dataset)}${want.dropout ? ' + dropout' : ''}, run ${want.run}`;
  const title = `Figure 1: a pruned network split into its modules (${name}, k = ${o.main_k})`;
  if (!drawn)
    return {
      id: 'fig-1',
      title,
      spec: null,
      reading: 'The network of report.figure_1 is not pruned and clustered yet.',
      missing: [`pruned ${name} clustered at k = ${o.main_k}`],
    };
  const layout = figure1Layout(drawn, want.edge_share);
  const isolated = layout.nodes.filter((n) => n.module < 0).length;
  const within = layout.edges.filter((e) => e.module >= 0).length;
  return {
    id: 'fig-1',
    title,
    spec: figure1Spec(drawn, layout, `${name}: n-cut ${drawn.ncut === null ? '—' : drawn.ncut.toFixed(3)} at k = ${drawn.k}`),
    reading:
      `Columns are layers, dots neurons grouped and coloured by module; grey dots (${isolated}) have no non-zero weight left. ` +
      `The heaviest ${(want.edge_share * 100).toFixed(0)} % of each layer's weights are drawn: ${within} of ${layout.edges.length} run inside one module (coloured), the rest between modules (grey).`,
    missing: [],
  };
}
