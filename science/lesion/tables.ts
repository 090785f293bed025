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
 */
import { Bool, Field, Float64, Int32, List, RecordBatch, Schema, Table, Utf8, type Vector, makeVector, vectorFromArray, type DataType } from 'apache-arrow';
import type { Submodule, SubmoduleSet } from './submodules.ts';
import type { DependencyPair, PairRow, PlanRow, SingleRow, SinglePerClassRow } from './experiments.ts';

type Column = Vector;

const int32 = (xs: ArrayLike<number>): Column => makeVector(Int32Array.from(xs));
const float64 = (xs: ArrayLike<number>): Column => makeVector(Float64Array.from(xs));
const utf8 = (xs: string[]): Column => vectorFromArray(xs, new Utf8());
const bool = (xs: boolean[]): Column => vectorFromArray(xs, new Bool());
const listOf = (type: DataType, xs: ArrayLike<number>[]): Column =>
  vectorFromArray(
    xs.map((a) => Array.from(a)),
    new List(new Field('item', type, false)),
  );

/** Build a table from named columns (all of one length) and string metadata. */
export function makeTable(columns: Record<string, Column>, metadata: Record<string, string> = {}): Table {
  const entries = Object.entries(columns);
  const length = entries.length === 0 ? 0 : entries[0][1].length;
  for (const [name, v] of entries) if (v.length !== length) throw new Error(`makeTable: column ${name} has ${v.length} rows, expected ${length}`);
  const plain = new Table(columns);
  const fields = plain.schema.fields.map((f) => new Field(f.name, f.type, false));
  const schema = new Schema(fields, new Map(Object.entries(metadata)));
  return new Table(
    schema,
    plain.batches.map((b) => new RecordBatch(schema, b.data)),
  );
}

function col(t: Table, name: string, what: string): Vector {
  const c = t.getChild(name);
  if (!c) throw new Error(`${what}: missing column '${name}' (columns: ${t.schema.fields.map((f) => f.name).join(', ')})`);
  return c;
}
const numbers = (t: Table, name: string, what: string): number[] => Array.from(col(t, name, what).toArray() as ArrayLike<number>, Number);
const strings = (t: Table, name: string, what: string): string[] => {
  const c = col(t, name, what);
  return Array.from({ length: t.numRows }, (_, i) => String(c.get(i)));
};
const lists = (t: Table, name: string, what: string): number[][] => {
  const c = col(t, name, what);
  return Array.from({ length: t.numRows }, (_, i) => Array.from((c.get(i) as Vector).toArray() as ArrayLike<number>, Number));
};

// ---------------------------------------------------------------- sub-modules

export function submodulesToTable(set: SubmoduleSet, metadata: Record<string, string> = {}): Table {
  const s = set.submodules;
  return makeTable(
    {
      submodule: int32(s.map((x) => x.index)),
      layer: int32(s.map((x) => x.layer)),
      cluster: int32(s.map((x) => x.cluster)),
      size: int32(s.map((x) => x.neurons.length)),
      live_in_layer: int32(s.map((x) => x.liveInLayer)),
      proportion: float64(s.map((x) => x.neurons.length / x.liveInLayer)),
      neurons: listOf(
        new Int32(),
        s.map((x) => x.neurons),
      ),
    },
    { ...metadata, live_layers: JSON.stringify(set.liveLayers.map((l) => ({ layer: l.layer, live: Array.from(l.live), labels: Array.from(l.labels) }))) },
  );
}

/** Read the sub-modules back (with the live neurons and labels of every layer, for the random controls). */
export function submodulesFromTable(t: Table, what = 'submodules table'): SubmoduleSet {
  const raw = t.schema.metadata.get('live_layers');
  if (raw === undefined) throw new Error(`${what}: schema metadata 'live_layers' is missing`);
  const liveLayers = (JSON.parse(raw) as { layer: number; live: number[]; labels: number[] }[]).map((l) => ({
    layer: l.layer,
    live: Int32Array.from(l.live),
    labels: Int32Array.from(l.labels),
  }));
  const index = numbers(t, 'submodule', what);
  const layer = numbers(t, 'layer', what);
  const cluster = numbers(t, 'cluster', what);
  const live = numbers(t, 'live_in_layer', what);
  const neurons = lists(t, 'neurons', what);
  const submodules: Submodule[] = index.map((i, r) => {
    if (i !== r) throw new Error(`${what}: row ${r} has submodule ${i}; rows must be in submodule order`);
    return { index: i, layer: layer[r], cluster: cluster[r], neurons: Int32Array.from(neurons[r]), liveInLayer: live[r] };
  });
  return { submodules, liveLayers };
}

// ---------------------------------------------------------------- true lesions

export function trueLesionsToTable(rows: readonly PlanRow[], accuracy: ArrayLike<number>, classAccuracy: ArrayLike<number>, nClasses: number): Table {
  return makeTable(
    {
      kind: utf8(rows.map((r) => r.kind)),
      x: int32(rows.map((r) => r.x)),
      y: int32(rows.map((r) => r.y)),
      accuracy: float64(accuracy),
      class_accuracy: listOf(
        new Float64(),
        rows.map((_, i) => Array.prototype.slice.call(classAccuracy, i * nClasses, (i + 1) * nClasses) as number[]),
      ),
    },
    { classes: String(nClasses) },
  );
}

export function trueLesionsFromTable(
  t: Table,
  what = 'true_lesions table',
): { rows: PlanRow[]; accuracy: Float64Array; classAccuracy: Float64Array; nClasses: number } {
  const kind = strings(t, 'kind', what) as PlanRow['kind'][];
  const x = numbers(t, 'x', what);
  const y = numbers(t, 'y', what);
  const accuracy = Float64Array.from(numbers(t, 'accuracy', what));
  const perClass = lists(t, 'class_accuracy', what);
  const nClasses = perClass.length === 0 ? 0 : perClass[0].length;
  const classAccuracy = Float64Array.from(perClass.flat());
  return { rows: kind.map((k, i) => ({ kind: k, x: x[i], y: y[i] })), accuracy, classAccuracy, nClasses };
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

export function singleTrialsToTable(t: TrialRows): Table {
  return makeTable({ trial: int32(t.trial), submodule: int32(t.x), accuracy: float64(t.accuracy) });
}

export function doubleTrialsToTable(t: TrialRows): Table {
  return makeTable({ trial: int32(t.trial), kind: utf8(t.kind), x: int32(t.x), y: int32(t.y), accuracy: float64(t.accuracy) });
}

export function trialsFromTable(t: Table, what: string): TrialRows {
  const isDouble = t.getChild('kind') !== null;
  return {
    trial: numbers(t, 'trial', what),
    kind: isDouble ? (strings(t, 'kind', what) as PlanRow['kind'][]) : Array.from({ length: t.numRows }, () => 'single' as const),
    x: numbers(t, isDouble ? 'x' : 'submodule', what),
    y: isDouble ? numbers(t, 'y', what) : Array.from({ length: t.numRows }, () => -1),
    accuracy: numbers(t, 'accuracy', what),
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

export function singleToTable(rows: readonly SingleRow[], metadata: Record<string, string>): Table {
  return makeTable(
    {
      layer: int32(rows.map((r) => r.layer)),
      cluster: int32(rows.map((r) => r.cluster)),
      size: int32(rows.map((r) => r.size)),
      proportion: float64(rows.map((r) => r.proportion)),
      true_acc: float64(rows.map((r) => r.trueAcc)),
      diff: float64(rows.map((r) => r.diff)),
      mean: float64(rows.map((r) => r.mean)),
      sd: float64(rows.map((r) => r.sd)),
      z: float64(rows.map((r) => r.z)),
      p: float64(rows.map((r) => r.p)),
      category: utf8(rows.map((r) => r.category)),
    },
    metadata,
  );
}

export function singlePerClassToTable(rows: readonly SinglePerClassRow[], metadata: Record<string, string>): Table {
  return makeTable(
    {
      layer: int32(rows.map((r) => r.layer)),
      cluster: int32(rows.map((r) => r.cluster)),
      class: int32(rows.map((r) => r.class)),
      true_acc: float64(rows.map((r) => r.trueAcc)),
      diff: float64(rows.map((r) => r.diff)),
    },
    metadata,
  );
}

export function pairsToTable(rows: readonly PairRow[], metadata: Record<string, string>, withDelta: boolean): Table {
  return makeTable(
    {
      layer_x: int32(rows.map((r) => r.layerX)),
      cluster_x: int32(rows.map((r) => r.clusterX)),
      layer_y: int32(rows.map((r) => r.layerY)),
      cluster_y: int32(rows.map((r) => r.clusterY)),
      true_acc: float64(rows.map((r) => r.trueAcc)),
      diff: float64(rows.map((r) => r.diff)),
      ...(withDelta ? { delta: float64(rows.map((r) => r.delta ?? NaN)) } : {}),
      mean: float64(rows.map((r) => r.mean)),
      sd: float64(rows.map((r) => r.sd)),
      z: float64(rows.map((r) => r.z)),
      p: float64(rows.map((r) => r.p)),
      category: utf8(rows.map((r) => r.category)),
      important: bool(rows.map((r) => r.important)),
    },
    metadata,
  );
}

export function dependencyPairsToTable(pairs: readonly DependencyPair[], metadata: Record<string, string>): Table {
  return makeTable(
    {
      from_layer: int32(pairs.map((p) => p.fromLayer)),
      from_cluster: int32(pairs.map((p) => p.fromCluster)),
      to_layer: int32(pairs.map((p) => p.toLayer)),
      to_cluster: int32(pairs.map((p) => p.toCluster)),
      from_given_to: bool(pairs.map((p) => p.fromGivenTo)),
      to_given_from: bool(pairs.map((p) => p.toGivenFrom)),
      delta_from_to: float64(pairs.map((p) => p.deltaFromTo)),
      delta_to_from: float64(pairs.map((p) => p.deltaToFrom)),
      edge: bool(pairs.map((p) => p.kind !== null)),
      kind: utf8(pairs.map((p) => p.kind ?? '')),
    },
    metadata,
  );
}

export function dependencyEdgesToTable(pairs: readonly DependencyPair[], metadata: Record<string, string>): Table {
  const edges = pairs.filter((p) => p.kind !== null);
  return makeTable(
    {
      from_layer: int32(edges.map((p) => p.fromLayer)),
      from_cluster: int32(edges.map((p) => p.fromCluster)),
      to_layer: int32(edges.map((p) => p.toLayer)),
      to_cluster: int32(edges.map((p) => p.toCluster)),
      kind: utf8(edges.map((p) => p.kind!)),
    },
    metadata,
  );
}
