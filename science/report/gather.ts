/**
 * The report's records (records.ts) from the upstream runs: their axes, metrics and output
 * tables, decoded by the tables' own declarations. What a run is here is structural (any object
 * with axes, metrics and outputs that can be read as tables), so this knows nothing about the
 * cache; which stage plays which part is the report stage's business.
 */
import type { Table } from 'apache-arrow';
import { curveTable } from '../cluster/learning-curve.ts';
import { labelsTable, shuffleSamplesTable } from '../cluster/tables.ts';
import { dependencyEdgesTable, doubleConditionalTable, doubleJointTable, singleLesionTable } from '../lesion/tables.ts';
import { weightsFromTable } from '../weights.ts';
import type { ReportOptions } from './options.ts';
import type {
  DrawnNetworkRecord,
  ExternalModelRecord,
  LearningCurveRecord,
  LesionRecord,
  NetworkRecord,
  Phase,
  ShuffleMethod,
  ShuffleSummary,
} from './records.ts';

/** A finished upstream run: its axes, its metrics and its outputs (read as tables when needed). */
export interface Run {
  readonly axes: Readonly<Record<string, unknown>>;
  readonly metrics: Readonly<Record<string, unknown>>;
  readonly outputs: Readonly<Record<string, { table(): Promise<Table> } | undefined>>;
}

/** The runs the report reads, by the part they play. */
export interface ReportRuns {
  /** Network states with accuracies (metrics train_accuracy, test_accuracy) and weights. */
  readonly exports: readonly Run[];
  /** Clusterings of the study's network states (output labels, metric ncut). */
  readonly clusters: readonly Run[];
  /** Clusterings of external network files, with their model names. */
  readonly externalClusters: readonly (Run & { readonly model: string })[];
  /** Shuffle nulls (output samples, summary metrics). */
  readonly shuffles: readonly Run[];
  readonly curves: readonly Run[];
  /** Runs with lesion result tables (single, double_joint, double_conditional, dependency_edges). */
  readonly lesions: readonly Run[];
}

export type GatheredRecords = Awaited<ReturnType<typeof gatherRecords>>;

const num = (m: Run['metrics'], k: string): number | null => (typeof m[k] === 'number' && Number.isFinite(m[k]) ? (m[k] as number) : null);
const networkKey = (a: Run['axes']) => `${a.dataset}|${a.dropout}|${a.run}`;
const stateKey = (a: Run['axes']) => `${networkKey(a)}|${a.phase}|${a.k}`;

/** Every record the report is built from, but its provenance. */
export async function gatherRecords(runs: ReportRuns, o: ReportOptions) {
  const { accuracy, backends } = accuracies(runs.exports);
  const shuffles = await shuffleSummaries(runs.shuffles, o.main_k);
  const externalModels: ExternalModelRecord[] = runs.externalClusters.map((run) => ({
    model: run.model,
    k: Number(run.axes.k),
    ncut: num(run.metrics, 'ncut'),
    modularity: num(run.metrics, 'modularity'),
    shuffles: shuffles.get(stateKey(run.axes)) ?? {},
  }));
  const networks: NetworkRecord[] = runs.clusters.map((run) => {
    const a = run.axes;
    const acc = accuracy.get(`${networkKey(a)}|${a.phase}`);
    return {
      dataset: String(a.dataset),
      dropout: a.dropout === true,
      run: Number(a.run),
      phase: String(a.phase) as Phase,
      k: Number(a.k),
      trainAcc: acc?.train ?? null,
      testAcc: acc?.test ?? null,
      ncut: num(run.metrics, 'ncut'),
      shuffles: shuffles.get(stateKey(a)) ?? {},
    };
  });
  const lesions = await lesionRecords(runs.lesions);
  const curves = await learningCurveRecords(runs.curves);
  const drawn = await drawnNetwork(runs, o);
  return { networks, externalModels, lesions, backends: [...backends].sort(), curves, drawn };
}

/** Accuracies per network state, and the training backends the exports report. */
function accuracies(exports: readonly Run[]) {
  const accuracy = new Map<string, { train: number | null; test: number | null }>();
  const backends = new Set<string>();
  for (const run of exports) {
    accuracy.set(`${networkKey(run.axes)}|${run.axes.phase}`, { train: num(run.metrics, 'train_accuracy'), test: num(run.metrics, 'test_accuracy') });
    for (const key of ['backend', 'runtime']) if (typeof run.metrics[key] === 'string') backends.add(run.metrics[key] as string);
  }
  return { accuracy, backends };
}

/** Shuffle summaries per (state, k, method); the samples are read only at the main k (figures, Cohen's d). */
async function shuffleSummaries(runs: readonly Run[], mainK: number) {
  const shuffles = new Map<string, Partial<Record<ShuffleMethod, ShuffleSummary>>>();
  for (const run of runs) {
    const m = run.metrics;
    const method = String(run.axes.method) as ShuffleMethod;
    const table = Number(run.axes.k) === mainK ? await run.outputs.samples?.table() : undefined;
    const samples = table && shuffleSamplesTable.columnsOf(table, `shuffle-sample ${stateKey(run.axes)} ${method} samples`).ncut;
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
    const key = stateKey(run.axes);
    shuffles.set(key, { ...shuffles.get(key), [method]: summary });
  }
  return shuffles;
}

/** Lesion results merged per network (one run may hold some tables, another the rest). */
async function lesionRecords(runs: readonly Run[]): Promise<LesionRecord[]> {
  const lesions = new Map<string, { -readonly [K in keyof LesionRecord]: LesionRecord[K] }>();
  for (const run of runs) {
    const { single, double_joint, double_conditional, dependency_edges } = run.outputs;
    if (!single && !double_joint && !double_conditional && !dependency_edges) continue;
    const key = networkKey(run.axes);
    let rec = lesions.get(key);
    if (!rec) {
      rec = {
        dataset: String(run.axes.dataset),
        dropout: run.axes.dropout === true,
        run: Number(run.axes.run),
        intactAccuracy: null,
        single: null,
        joint: null,
        conditional: null,
        edges: null,
      };
      lesions.set(key, rec);
    }
    rec.intactAccuracy ??= num(run.metrics, 'intact_accuracy');
    const source = (name: string) => `lesion ${key} ${name}`;
    if (single) rec.single = singleLesionTable.fromTable(await single.table(), source('single'));
    if (double_joint) rec.joint = doubleJointTable.fromTable(await double_joint.table(), source('double_joint'));
    if (double_conditional) rec.conditional = doubleConditionalTable.fromTable(await double_conditional.table(), source('double_conditional'));
    if (dependency_edges) rec.edges = dependencyEdgesTable.fromTable(await dependency_edges.table(), source('dependency_edges'));
  }
  return [...lesions.values()];
}

async function learningCurveRecords(runs: readonly Run[]): Promise<LearningCurveRecord[]> {
  const out: LearningCurveRecord[] = [];
  for (const run of runs) {
    const a = run.axes;
    const curve = run.outputs.curve;
    if (!curve) throw new Error(`learning-curve ${networkKey(a)}: no 'curve' output`);
    const points = curveTable.fromTable(await curve.table(), `learning-curve ${networkKey(a)} curve`);
    out.push({ dataset: String(a.dataset), dropout: a.dropout === true, run: Number(a.run), k: Number(run.metrics.k), points });
  }
  return out;
}

/** Figure 1's network: the pruned export of report.figure_1 and its clustering at main_k, if both exist. */
async function drawnNetwork(runs: ReportRuns, o: ReportOptions): Promise<DrawnNetworkRecord | null> {
  const want = o.figure_1;
  const isIt = (a: Run['axes']) => a.dataset === want.dataset && a.dropout === want.dropout && Number(a.run) === want.run && a.phase === 'pruned';
  const exported = runs.exports.find((run) => isIt(run.axes));
  const clustered = runs.clusters.find((run) => isIt(run.axes) && Number(run.axes.k) === o.main_k);
  const weights = exported?.outputs.weights;
  const labels = clustered?.outputs.labels;
  if (!weights || !labels) return null;
  const { layers } = weightsFromTable(await weights.table(), 'figure 1 weights');
  const { label } = labelsTable.columnsOf(await labels.table(), 'figure 1 labels');
  return { dataset: want.dataset, dropout: want.dropout, run: want.run, k: o.main_k, ncut: num(clustered.metrics, 'ncut'), layers, labels: label };
}
