/**
 * Stage `report`: the paper's tables and figures regenerated into `report.dir` (reports/ or
 * reports/<profile>/, published from the `files` output), with the paper's values beside ours, metrics.json and a README with
 * provenance. No axes: by the default input rule it gathers every instance of each dep.
 *
 * This file only turns upstream instances into the plain records of science/report/records.ts;
 * science/report/build.ts does the rest. Its params are the `report:` section alone, so
 * changing a colour or the significance level reruns only the report.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Table } from 'apache-arrow';
import { UserError } from '../engine/errors.ts';
import { defineStage, type InputInstance, type Metrics, type StageDef } from '../engine/types.ts';
import { buildReport } from '../science/report/build.ts';
import type { ReportOptions } from '../science/report/options.ts';
import { EXTERNAL_PHASE, externalModelOf } from './conditions.ts';
import { curveFromTable } from '../science/cluster/learning-curve.ts';
import { weightsFromTable } from '../science/weights.ts';
import type { Params } from './params/index.ts';
import type {
  DependencyEdge,
  ExternalModelRecord,
  DrawnNetworkRecord,
  LearningCurveRecord,
  LesionRecord,
  NetworkRecord,
  PairLesionRow,
  Phase,
  Provenance,
  ShuffleMethod,
  ShuffleSummary,
  SingleLesionRow,
} from '../science/report/records.ts';

/** Upstream stages the report reads when they exist (see reportStageFor). */
export const REPORT_SOURCES = ['export', 'cluster', 'shuffle-sample', 'learning-curve'] as const;
/** Lesion outputs the report reads, from whichever lesion stage produces them. */
const LESION_OUTPUTS = ['single', 'double_joint', 'double_conditional', 'dependency_edges'] as const;

interface ReportStageParams {
  /** `dir` is where the report is published (the engine copies it there); the science never reads it. */
  report: ReportOptions & { readonly dir?: string };
}

const num = (m: Metrics, k: string): number | null => (typeof m[k] === 'number' && Number.isFinite(m[k]) ? (m[k] as number) : null);
const networkKey = (a: Readonly<Record<string, unknown>>) => `${a.dataset}|${a.dropout}|${a.run}`;

/** The report's records from its inputs (exported so tests can drive it with hand-built instances). */
export async function gatherRecords(inputs: Readonly<Record<string, readonly InputInstance[]>>, o: ReportOptions) {
  // Accuracies per network state, from `export`.
  const accuracy = new Map<string, { train: number | null; test: number | null }>();
  const backends = new Set<string>();
  for (const inst of inputs['export'] ?? []) {
    accuracy.set(`${networkKey(inst.axes)}|${inst.axes.phase}`, { train: num(inst.metrics, 'train_accuracy'), test: num(inst.metrics, 'test_accuracy') });
    for (const key of ['backend', 'runtime']) if (typeof inst.metrics[key] === 'string') backends.add(inst.metrics[key] as string);
  }
  // Shuffle summaries per (state, k, method); samples are read only at the main k (figures, Cohen's d).
  const shuffles = new Map<string, Partial<Record<ShuffleMethod, ShuffleSummary>>>();
  const stateKey = (a: InputInstance['axes']) => `${networkKey(a)}|${a.phase}|${a.k}`;
  for (const inst of inputs['shuffle-sample'] ?? []) {
    const m = inst.metrics;
    const method = String(inst.axes.method) as ShuffleMethod;
    let samples: Float64Array | undefined;
    if (Number(inst.axes.k) === o.main_k && inst.outputs.samples) samples = ncutColumn(await inst.outputs.samples.table());
    const summary: ShuffleSummary = {
      n: num(m, 'n') ?? samples?.length ?? 0,
      mean: num(m, 'mean') ?? NaN,
      sd: num(m, 'sd') ?? NaN,
      z: num(m, 'z') ?? NaN,
      p: num(m, 'p') ?? NaN,
      significant: m.significant === true,
      min: num(m, 'min') ?? NaN,
      max: num(m, 'max') ?? NaN,
      ...(samples ? { samples } : {}),
    };
    const key = stateKey(inst.axes);
    shuffles.set(key, { ...shuffles.get(key), [method]: summary });
  }
  const clusters = inputs['cluster'] ?? [];
  const externalModels: ExternalModelRecord[] = clusters
    .filter((inst) => inst.axes.phase === EXTERNAL_PHASE)
    .map((inst) => ({
      model: externalModelOf(inst.axes),
      k: Number(inst.axes.k),
      ncut: num(inst.metrics, 'ncut'),
      modularity: num(inst.metrics, 'modularity'),
      shuffles: shuffles.get(stateKey(inst.axes)) ?? {},
    }));
  const networks: NetworkRecord[] = clusters
    .filter((inst) => inst.axes.phase !== EXTERNAL_PHASE)
    .map((inst) => {
      const a = inst.axes;
      const acc = accuracy.get(`${networkKey(a)}|${a.phase}`);
      return {
        dataset: String(a.dataset),
        dropout: a.dropout === true,
        run: Number(a.run),
        phase: String(a.phase) as Phase,
        k: Number(a.k),
        trainAcc: acc?.train ?? null,
        testAcc: acc?.test ?? null,
        ncut: num(inst.metrics, 'ncut'),
        shuffles: shuffles.get(stateKey(a)) ?? {},
      };
    });
  // Lesion results: from any other dep that has lesion outputs, merged per network.
  const lesions = new Map<string, { -readonly [K in keyof LesionRecord]: LesionRecord[K] }>();
  for (const [stage, list] of Object.entries(inputs)) {
    if ((REPORT_SOURCES as readonly string[]).includes(stage)) continue;
    for (const inst of list) {
      if (!LESION_OUTPUTS.some((name) => inst.outputs[name])) continue;
      const key = networkKey(inst.axes);
      let rec = lesions.get(key);
      if (!rec) {
        rec = {
          dataset: String(inst.axes.dataset),
          dropout: inst.axes.dropout === true,
          run: Number(inst.axes.run),
          intactAccuracy: null,
          single: null,
          joint: null,
          conditional: null,
          edges: null,
        };
        lesions.set(key, rec);
      }
      rec.intactAccuracy ??= num(inst.metrics, 'intact_accuracy');
      if (inst.outputs.single) rec.single = singleRows(await inst.outputs.single.table());
      if (inst.outputs.double_joint) rec.joint = pairRows(await inst.outputs.double_joint.table());
      if (inst.outputs.double_conditional) rec.conditional = pairRows(await inst.outputs.double_conditional.table());
      if (inst.outputs.dependency_edges) rec.edges = edgeRows(await inst.outputs.dependency_edges.table());
    }
  }
  const curves = await learningCurveRecords(inputs['learning-curve'] ?? []);
  const drawn = await drawnNetwork(inputs, o);
  return { networks, externalModels, lesions: [...lesions.values()] as LesionRecord[], backends: [...backends].sort(), curves, drawn };
}

async function learningCurveRecords(instances: readonly InputInstance[]): Promise<LearningCurveRecord[]> {
  const out: LearningCurveRecord[] = [];
  for (const inst of instances) {
    const points = curveFromTable(await inst.outputs.curve.table(), `learning-curve ${networkKey(inst.axes)} curve`);
    out.push({ dataset: String(inst.axes.dataset), dropout: inst.axes.dropout === true, run: Number(inst.axes.run), k: Number(inst.metrics.k), points });
  }
  return out;
}

/** Figure 1's network: the pruned export of report.figure_1 and its clustering at main_k, if both exist. */
async function drawnNetwork(inputs: Readonly<Record<string, readonly InputInstance[]>>, o: ReportOptions): Promise<DrawnNetworkRecord | null> {
  const want = o.figure_1;
  const isIt = (a: InputInstance['axes']) => a.dataset === want.dataset && a.dropout === want.dropout && Number(a.run) === want.run && a.phase === 'pruned';
  const exported = (inputs['export'] ?? []).find((inst) => isIt(inst.axes));
  const clustered = (inputs['cluster'] ?? []).find((inst) => isIt(inst.axes) && Number(inst.axes.k) === o.main_k);
  if (!exported?.outputs.weights || !clustered?.outputs.labels) return null;
  const { layers } = weightsFromTable(await exported.outputs.weights.table(), 'figure 1 weights');
  const labels = Int32Array.from((await clustered.outputs.labels.table()).getChild('label')!.toArray() as ArrayLike<number>);
  return { dataset: want.dataset, dropout: want.dropout, run: want.run, k: o.main_k, ncut: num(clustered.metrics, 'ncut'), layers, labels };
}

function column(t: Table, name: string, what: string): (i: number) => unknown {
  const c = t.getChild(name);
  if (!c) throw new Error(`report: the ${what} table has no column '${name}' (columns: ${t.schema.fields.map((f) => f.name).join(', ')})`);
  return (i) => c.get(i);
}

function ncutColumn(t: Table): Float64Array {
  const c = t.getChild('ncut');
  if (!c) throw new Error(`report: a shuffle-sample 'samples' table has no 'ncut' column`);
  return Float64Array.from(c.toArray() as ArrayLike<number>);
}

function rows<T>(t: Table, what: string, names: readonly string[], make: (get: Record<string, (i: number) => unknown>, i: number) => T): T[] {
  const get = Object.fromEntries(names.map((n) => [n, column(t, n, what)]));
  return Array.from({ length: t.numRows }, (_, i) => make(get, i));
}

const N = (v: unknown) => Number(v);

function singleRows(t: Table): SingleLesionRow[] {
  return rows(t, 'single', ['layer', 'cluster', 'size', 'proportion', 'true_acc', 'diff', 'mean', 'sd', 'z', 'p', 'category'], (g, i) => ({
    layer: N(g.layer(i)),
    cluster: N(g.cluster(i)),
    size: N(g.size(i)),
    proportion: N(g.proportion(i)),
    trueAcc: N(g.true_acc(i)),
    diff: N(g.diff(i)),
    mean: N(g.mean(i)),
    sd: N(g.sd(i)),
    z: N(g.z(i)),
    p: N(g.p(i)),
    category: String(g.category(i)),
  }));
}

function pairRows(t: Table): PairLesionRow[] {
  const important = t.getChild('important');
  const category = t.getChild('category');
  return rows(t, 'double lesion', ['layer_x', 'cluster_x', 'layer_y', 'cluster_y', 'true_acc', 'diff', 'mean', 'sd', 'z', 'p'], (g, i) => ({
    layerX: N(g.layer_x(i)),
    clusterX: N(g.cluster_x(i)),
    layerY: N(g.layer_y(i)),
    clusterY: N(g.cluster_y(i)),
    trueAcc: N(g.true_acc(i)),
    diff: N(g.diff(i)),
    mean: N(g.mean(i)),
    sd: N(g.sd(i)),
    z: N(g.z(i)),
    p: N(g.p(i)),
    important: important ? important.get(i) === true : null,
    category: category ? String(category.get(i)) : null,
  }));
}

function edgeRows(t: Table): DependencyEdge[] {
  return rows(t, 'dependency_edges', ['from_layer', 'from_cluster', 'to_layer', 'to_cluster', 'kind'], (g, i) => ({
    fromLayer: N(g.from_layer(i)),
    fromCluster: N(g.from_cluster(i)),
    toLayer: N(g.to_layer(i)),
    toCluster: N(g.to_cluster(i)),
    kind: String(g.kind(i)),
  }));
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** Key-stable JSON (sorted object keys). */
function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/** Per upstream stage: how many instances, and a digest over their keys (or output digests). */
function inputProvenance(inputs: Readonly<Record<string, readonly InputInstance[]>>): Provenance['inputs'] {
  return Object.keys(inputs)
    .sort()
    .map((stage) => {
      const ids = inputs[stage].map((i) => i.key ?? stableJson(Object.fromEntries(Object.entries(i.outputs).map(([k, o]) => [k, o.digest])))).sort();
      return { stage, instances: ids.length, digest: sha256(ids.join('\n')).slice(0, 16) };
    });
}

const PROJECT_ROOT = dirname(dirname(fileURLToPath(import.meta.url)));

/**
 * The commit of the newest change outside reports/ (so committing the reports themselves does
 * not make them stale) and its date. Part of the key: the same key gives the same README bytes.
 */
export async function gitProvenance(root = PROJECT_ROOT): Promise<{ commit: string; commit_date: string }> {
  try {
    const out = await promisify(execFile)('git', ['log', '-1', '--format=%H%n%cI', '--', '.', ':(exclude)reports'], { cwd: root, encoding: 'utf8' });
    const [commit, date] = out.stdout.trim().split('\n');
    if (commit) return { commit, commit_date: date ?? 'unknown' };
  } catch {
    // not a git checkout, or git missing: fall through
  }
  return { commit: 'unknown', commit_date: 'unknown' };
}

/** A notes file that cannot be read: names the key and the file, says what to do. */
export class ReportNotesError extends UserError {}

/** The Markdown of report.notes (a path from the project root), or null when unset. */
export async function readNotes(path: string | null, root = PROJECT_ROOT): Promise<{ path: string; markdown: string } | null> {
  if (path === null) return null;
  const file = isAbsolute(path) ? path : resolve(root, path);
  try {
    return { path, markdown: await readFile(file, 'utf8') };
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read (${(err as Error).message})`;
    throw new ReportNotesError(`report.notes: the notes file '${path}' (${file}) ${why}; write it, or set report.notes: null in the params file`);
  }
}

export const reportStage = defineStage<ReportStageParams>({
  module: import.meta.url,
  name: 'report',
  description: "Regenerate the paper's tables and figures in reports/ with the paper's values beside ours",
  deps: [...REPORT_SOURCES],
  params: (p: Params): ReportStageParams => ({ report: p.report }),
  outputs: ['files'],
  publish: { files: (p) => p.report.dir ?? 'reports' },
  // The commit (newest change outside reports/) and the notes' content: both end up in README.md.
  runtime: async (p) => {
    const notes = await readNotes(p.report.notes);
    return { ...(await gitProvenance()), ...(notes ? { notes_sha256: sha256(notes.markdown) } : {}) };
  },
  async run(ctx) {
    const o = ctx.params.report;
    ctx.progress({ message: 'reading runs' });
    const { networks, externalModels, lesions, backends, curves, drawn } = await gatherRecords(ctx.inputs, o);
    const provenance: Provenance = {
      commit: ctx.runtime.commit ?? 'unknown',
      commitDate: ctx.runtime.commit_date ?? 'unknown',
      paramsDigest: sha256(stableJson(o)).slice(0, 16),
      inputs: inputProvenance(ctx.inputs),
      backends,
    };
    ctx.progress({ fraction: 0.3, message: 'rendering tables and figures' });
    const notes = await readNotes(o.notes);
    const built = await buildReport({ networks, externalModels, lesions, curves, drawn, provenance, ...(notes ? { notes } : {}) }, o);
    return {
      outputs: { files: { kind: 'files', files: built.files } },
      metrics: { tables: built.tables.length, figures: built.figures.filter((f) => f.spec).length, missing: built.missing.length, metrics: built.metricCount },
    };
  },
});

/**
 * The report stage with its deps narrowed to the stages that exist, so it works while the
 * lesion (or any other) area is absent: `stages.push(reportStageFor(stages))`.
 */
export function reportStageFor(stages: readonly StageDef[]): StageDef<ReportStageParams> {
  const names = new Set(stages.map((s) => s.name));
  const lesionStages = stages.filter((s) => s.outputs.some((out) => (LESION_OUTPUTS as readonly string[]).includes(out))).map((s) => s.name);
  const deps = [...REPORT_SOURCES.filter((n) => names.has(n)), ...lesionStages.filter((n) => !(REPORT_SOURCES as readonly string[]).includes(n))];
  return { ...reportStage, deps };
}
