/**
 * Arrow tables of the lesion stages. Every table is one Arrow IPC file; sub-modules are named
 * by (layer, cluster) with layer = hidden layer 1..4 and cluster = the clustering's label.
 *
 * Intermediate tables (between the lesion stages):
 *   submodules     submodule int32 (index in (layer, cluster) order), layer int32, cluster int32,
 *                  size int32, live_in_layer int32, proportion float64 (size / live_in_layer),
 *                  neurons list<int32> (indices within the layer)
 *   true_lesions   kind utf8 ('intact' | 'single' | 'pair'), x int32, y int32 (sub-module
 *                  indices, −1 = none), accuracy float64, class_accuracy list<float64>
 *   single trials  trial int32, submodule int32, accuracy float64 (a random control's accuracy)
 *   double trials  trial int32, kind utf8 ('joint' | 'conditional'), x int32, y int32,
 *                  accuracy float64 (joint: X'∪Y', conditional "x | y": X'∪Y)
 *
 * Result tables (stage `lesion`, read by the report):
 *   single             layer, cluster, size int32; proportion, true_acc, diff, mean, sd, z, p
 *                      float64; category utf8. diff = true_acc − intact accuracy (negative =
 *                      damage); mean and sd (ddof 1) are of the random controls' accuracies;
 *                      z = (true_acc − mean)/sd; p = (#{controls < true_acc} + 1)/(n + 1).
 *   single_per_class   layer, cluster, class int32; true_acc, diff float64 (within the class)
 *   double_joint       layer_x, cluster_x, layer_y, cluster_y int32; true_acc, diff, mean, sd,
 *                      z, p float64; category utf8; important bool. Pairs x ≤ y (self-pairs
 *                      included); diff = acc(X∪Y) − intact.
 *   double_conditional same columns plus delta float64, for "X | Y" (x ≠ y): true_acc =
 *                      acc(X∪Y), controls X'∪Y; diff = acc(X∪Y) − acc(Y); delta = −diff =
 *                      δ(X, Y) = ℓ(X∪Y) − ℓ(Y) of the paper (accuracy lost, positive = damage);
 *                      important = X is important conditioned on Y.
 *   dependency_pairs   from_layer, from_cluster, to_layer, to_cluster int32; from_given_to,
 *                      to_given_from bool; delta_from_to, delta_to_from float64; edge bool;
 *                      kind utf8 ('' when no edge) — every pair of individually important
 *                      sub-modules in different layers, "from" the earlier (paper Table A.19)
 *   dependency_edges   from_layer, from_cluster, to_layer, to_cluster int32; kind utf8 — the
 *                      edges of Fig. 6b (kind: see experiments.ts EdgeKind)
 * Schema metadata of the result tables: intact_accuracy, trials (random trials per row).
 *
 * Each table is declared once below (science/table-schema.ts: the Arrow names are the
 * snake_case of the keys); the stages write and the report reads through these declarations.
 */
import type { Table } from 'apache-arrow';
import { bool, defineTable, float64, int32, listFloat64, listInt32, type RowOf, utf8, utf8Of } from '../table-schema.ts';
import type { Submodule, SubmoduleSet } from './submodules.ts';
import type { DependencyPair, PlanRow } from './experiments.ts';

const PLAN_KINDS = ['intact', 'single', 'pair', 'joint', 'conditional'] as const satisfies readonly PlanRow['kind'][];

// ---------------------------------------------------------------- sub-modules

export const submodulesTable = defineTable(
  { submodule: int32, layer: int32, cluster: int32, size: int32, liveInLayer: int32, proportion: float64, neurons: listInt32 },
  { metadata: ['k', 'ncut', 'live_layers'] },
);

export function submodulesToTable(set: SubmoduleSet, metadata: { k?: string; ncut?: string } = {}): Table {
  const rows = set.submodules.map((x) => ({
    submodule: x.index,
    layer: x.layer,
    cluster: x.cluster,
    size: x.neurons.length,
    liveInLayer: x.liveInLayer,
    proportion: x.neurons.length / x.liveInLayer,
    neurons: x.neurons,
  }));
  const liveLayers = JSON.stringify(set.liveLayers.map((l) => ({ layer: l.layer, live: Array.from(l.live), labels: Array.from(l.labels) })));
  return submodulesTable.toTable(rows, { ...metadata, live_layers: liveLayers });
}

/** Read the sub-modules back (with the live neurons and labels of every layer, for the random controls). */
export function submodulesFromTable(t: Table, what = 'submodules table'): SubmoduleSet {
  const raw = submodulesTable.metadataOf(t, what, ['live_layers']).live_layers;
  const liveLayers = (JSON.parse(raw) as { layer: number; live: number[]; labels: number[] }[]).map((l) => ({
    layer: l.layer,
    live: Int32Array.from(l.live),
    labels: Int32Array.from(l.labels),
  }));
  const submodules: Submodule[] = submodulesTable.fromTable(t, what).map((r, i) => {
    if (r.submodule !== i) throw new Error(`${what}: row ${i} has submodule ${r.submodule}; rows must be in submodule order`);
    return { index: r.submodule, layer: r.layer, cluster: r.cluster, neurons: r.neurons, liveInLayer: r.liveInLayer };
  });
  return { submodules, liveLayers };
}

// ---------------------------------------------------------------- true lesions

export const trueLesionsTable = defineTable(
  { kind: utf8Of(PLAN_KINDS), x: int32, y: int32, accuracy: float64, classAccuracy: listFloat64 },
  { metadata: ['classes'] },
);

export function trueLesionsToTable(rows: readonly PlanRow[], accuracy: ArrayLike<number>, classAccuracy: ArrayLike<number>, nClasses: number): Table {
  return trueLesionsTable.toTable(
    {
      kind: rows.map((r) => r.kind),
      x: rows.map((r) => r.x),
      y: rows.map((r) => r.y),
      accuracy,
      classAccuracy: rows.map((_, i) => Array.prototype.slice.call(classAccuracy, i * nClasses, (i + 1) * nClasses) as number[]),
    },
    { classes: String(nClasses) },
  );
}

export function trueLesionsFromTable(
  t: Table,
  what = 'true_lesions table',
): { rows: PlanRow[]; accuracy: Float64Array; classAccuracy: Float64Array; nClasses: number } {
  const c = trueLesionsTable.columnsOf(t, what);
  const nClasses = c.classAccuracy.length === 0 ? 0 : c.classAccuracy[0].length;
  const classAccuracy = new Float64Array(c.classAccuracy.length * nClasses);
  c.classAccuracy.forEach((a, i) => classAccuracy.set(a, i * nClasses));
  return { rows: c.kind.map((kind, i) => ({ kind, x: c.x[i], y: c.y[i] })), accuracy: c.accuracy, classAccuracy, nClasses };
}

// ---------------------------------------------------------------- trials

/** Per-trial random-control accuracies (single or double). */
export interface TrialRows {
  trial: number[];
  kind: PlanRow['kind'][];
  x: number[];
  y: number[];
  accuracy: number[];
}

export function emptyTrialRows(): TrialRows {
  return { trial: [], kind: [], x: [], y: [], accuracy: [] };
}

export function pushTrial(out: TrialRows, trial: number, rows: readonly PlanRow[], accuracy: ArrayLike<number>, offset = 0): void {
  rows.forEach((r, i) => {
    out.trial.push(trial);
    out.kind.push(r.kind);
    out.x.push(r.x);
    out.y.push(r.y);
    out.accuracy.push(accuracy[offset + i]);
  });
}

export const singleTrialsTable = defineTable({ trial: int32, submodule: int32, accuracy: float64 });
export const doubleTrialsTable = defineTable({ trial: int32, kind: utf8Of(PLAN_KINDS), x: int32, y: int32, accuracy: float64 });

export function singleTrialsToTable(t: TrialRows): Table {
  return singleTrialsTable.toTable({ trial: t.trial, submodule: t.x, accuracy: t.accuracy });
}

export function doubleTrialsToTable(t: TrialRows): Table {
  return doubleTrialsTable.toTable(t);
}

/** Single or double trials (a double table has a `kind` column). */
export function trialsFromTable(t: Table, what: string): TrialRows {
  if (t.getChild('kind') !== null) {
    const c = doubleTrialsTable.columnsOf(t, what);
    return { trial: Array.from(c.trial), kind: c.kind, x: Array.from(c.x), y: Array.from(c.y), accuracy: Array.from(c.accuracy) };
  }
  const c = singleTrialsTable.columnsOf(t, what);
  return {
    trial: Array.from(c.trial),
    kind: Array.from({ length: t.numRows }, () => 'single' as const),
    x: Array.from(c.submodule),
    y: Array.from({ length: t.numRows }, () => -1),
    accuracy: Array.from(c.accuracy),
  };
}

/** Concatenate trial tables keeping only trials < count (shards are whole, the count may end inside one). */
export function concatTrials(parts: readonly TrialRows[], count: number): TrialRows {
  const out = emptyTrialRows();
  for (const p of parts)
    p.trial.forEach((tr, i) => {
      if (tr >= count) return;
      out.trial.push(tr);
      out.kind.push(p.kind[i]);
      out.x.push(p.x[i]);
      out.y.push(p.y[i]);
      out.accuracy.push(p.accuracy[i]);
    });
  return out;
}

/**
 * Group trial accuracies per (kind, x, y), ordered by trial. Checks every group has the same
 * trials 0..n−1, so a missing shard cannot go unnoticed.
 */
export function groupTrials(t: TrialRows, what: string): { n: number; groups: Map<string, Float64Array> } {
  const trials = [...new Set(t.trial)].sort((a, b) => a - b);
  const n = trials.length;
  trials.forEach((tr, i) => {
    if (tr !== i) throw new Error(`${what}: trials are not 0..${n - 1} (found trial ${tr} at position ${i})`);
  });
  const groups = new Map<string, Float64Array>();
  const seen = new Map<string, number>();
  t.trial.forEach((tr, i) => {
    const key = `${t.kind[i]}:${t.x[i]}:${t.y[i]}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = new Float64Array(n).fill(NaN)));
    g[tr] = t.accuracy[i];
    seen.set(key, (seen.get(key) ?? 0) + 1);
  });
  for (const [key, count] of seen) if (count !== n) throw new Error(`${what}: ${key} has ${count} trials, expected ${n}`);
  return { n, groups };
}

// ---------------------------------------------------------------- results

const RESULT_METADATA = ['intact_accuracy', 'trials'] as const;
const STATS = { trueAcc: float64, diff: float64, mean: float64, sd: float64, z: float64, p: float64 };
const PAIR = { layerX: int32, clusterX: int32, layerY: int32, clusterY: int32, trueAcc: float64, diff: float64 };
const PAIR_TAIL = { mean: float64, sd: float64, z: float64, p: float64, category: utf8, important: bool };

export const singleLesionTable = defineTable(
  { layer: int32, cluster: int32, size: int32, proportion: float64, ...STATS, category: utf8 },
  { metadata: RESULT_METADATA },
);
export const singlePerClassTable = defineTable({ layer: int32, cluster: int32, class: int32, trueAcc: float64, diff: float64 }, { metadata: RESULT_METADATA });
export const doubleJointTable = defineTable({ ...PAIR, ...PAIR_TAIL }, { metadata: RESULT_METADATA });
export const doubleConditionalTable = defineTable({ ...PAIR, delta: float64, ...PAIR_TAIL }, { metadata: RESULT_METADATA });
export const dependencyPairsTable = defineTable(
  {
    fromLayer: int32,
    fromCluster: int32,
    toLayer: int32,
    toCluster: int32,
    fromGivenTo: bool,
    toGivenFrom: bool,
    deltaFromTo: float64,
    deltaToFrom: float64,
    edge: bool,
    kind: utf8,
  },
  { metadata: RESULT_METADATA },
);
export const dependencyEdgesTable = defineTable(
  { fromLayer: int32, fromCluster: int32, toLayer: int32, toCluster: int32, kind: utf8 },
  { metadata: RESULT_METADATA },
);

export type DependencyEdgeRow = RowOf<typeof dependencyEdgesTable>;

/** Rows of dependency_pairs: every pair, `edge` whether it is an edge of Fig. 6b, `kind` '' when not. */
export const dependencyPairRows = (pairs: readonly DependencyPair[]): RowOf<typeof dependencyPairsTable>[] =>
  pairs.map((p) => ({ ...p, edge: p.kind !== null, kind: p.kind ?? '' }));

/** Rows of dependency_edges: the pairs that are edges. */
export const dependencyEdgeRows = (pairs: readonly DependencyPair[]): DependencyEdgeRow[] =>
  pairs.flatMap((p) =>
    p.kind === null ? [] : [{ fromLayer: p.fromLayer, fromCluster: p.fromCluster, toLayer: p.toLayer, toCluster: p.toCluster, kind: p.kind }],
  );
