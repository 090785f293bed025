/**
 * The report's tables: each built from whatever records exist, with the paper's value beside
 * ours, missing parts listed, and every number also entered into metrics.json.
 */
import { cohenD, mean, sd } from '../stats.ts';
import { fmt, fmtBool, fmtMeanSd, fmtSigned, markdownTable, MISSING, NONE, type ReportTable } from './format.ts';
import type { MetricsCollector } from './metrics.ts';
import type { ReportOptions } from './options.ts';
import {
  datasetLabel,
  PAPER_CLUSTERABILITY,
  PAPER_CLUSTERABILITY_NONZERO,
  PAPER_DEPENDENCIES,
  PAPER_MIXTURES,
  PAPER_PER_NETWORK,
  PAPER_RANDOM_EXPERIMENTS,
  PAPER_SINGLE_LESION,
  type MeanSd,
  type PaperConditionRow,
  type PaperConditionTable,
  type PaperNetworkRow,
  type PaperNetworkTable,
} from './paper.ts';
import type { LesionRecord, NetworkRecord, PairLesionRow, Phase, ShuffleMethod, SingleLesionRow } from './records.ts';
import { pooledMoments } from './stats.ts';

/** Row name of a training condition: "mnist", "mnist+dropout". */
export function conditionKey(dataset: string, dropout: boolean): string {
  return dropout ? `${dataset}+dropout` : dataset;
}

/** Row label of a training condition: "MNIST", "MNIST + dropout". */
export function conditionLabel(dataset: string, dropout: boolean): string {
  return `${datasetLabel(dataset)}${dropout ? ' + dropout' : ''}`;
}

/** Network records indexed by (dataset, dropout, phase, k), each list sorted by run. */
export class NetworkIndex {
  private readonly byKey = new Map<string, NetworkRecord[]>();
  readonly ks: readonly number[];

  constructor(readonly networks: readonly NetworkRecord[]) {
    const ks = new Set<number>();
    for (const n of networks) {
      const key = NetworkIndex.key(n.dataset, n.dropout, n.phase, n.k);
      let list = this.byKey.get(key);
      if (!list) this.byKey.set(key, (list = []));
      list.push(n);
      ks.add(n.k);
    }
    for (const list of this.byKey.values()) list.sort((a, b) => a.run - b.run);
    this.ks = [...ks].sort((a, b) => a - b);
  }

  private static key(dataset: string, dropout: boolean, phase: Phase, k: number): string {
    return `${dataset}\u0000${dropout}\u0000${phase}\u0000${k}`;
  }

  get(dataset: string, dropout: boolean, phase: Phase, k: number): readonly NetworkRecord[] {
    return this.byKey.get(NetworkIndex.key(dataset, dropout, phase, k)) ?? [];
  }
}

/** Summary over the runs of one condition, as Table 1 reports it. */
export interface ConditionStats {
  readonly runs: number;
  readonly ncuts: number[];
  /** 1/0 per network with shuffles of the method. */
  readonly significant: number[];
  readonly trainAccs: number[];
  readonly testAccs: number[];
  /** Per-network shuffle means (replicates of the distribution mean). */
  readonly distMeans: number[];
  /** Mean and sd (ddof 0) over all shuffles of all networks. */
  readonly dist: { n: number; mean: number; sd: number } | null;
}

export function conditionStats(records: readonly NetworkRecord[], method: ShuffleMethod): ConditionStats {
  const clustered = records.filter((r) => r.ncut !== null);
  const shuffles = records.map((r) => r.shuffles[method]).filter((s) => s !== undefined);
  return {
    runs: clustered.length,
    ncuts: clustered.map((r) => r.ncut!),
    significant: shuffles.map((s) => (s.significant ? 1 : 0)),
    trainAccs: records.filter((r) => r.trainAcc !== null).map((r) => r.trainAcc!),
    testAccs: records.filter((r) => r.testAcc !== null).map((r) => r.testAcc!),
    distMeans: shuffles.map((s) => s.mean),
    dist: shuffles.length ? pooledMoments(shuffles) : null,
  };
}

export const meanOrNull = (xs: readonly number[]) => (xs.length ? mean(xs) : null);
/** Sample sd over networks (ddof 1, as pandas' std in the original's tables). */
export const sdOrNull = (xs: readonly number[]) => (xs.length > 1 ? sd(xs, 1) : null);
const paperMeanSd = (v: MeanSd | undefined, m?: number) => (v ? fmtMeanSd(v[0], v[1]) : m !== undefined ? fmt(m) : NONE);
const paperNum = (v: number | undefined, digits = 3) => (v === undefined ? NONE : fmt(v, digits));

function ours(stats: ConditionStats, cell: () => string, available: boolean): string {
  return stats.runs === 0 && !available ? MISSING : available ? cell() : NONE;
}

function meanAbsDiff(pairs: readonly [number | null, number | undefined][]): number | null {
  const d = pairs.filter((p): p is [number, number] => p[0] !== null && p[1] !== undefined).map(([a, b]) => Math.abs(a - b));
  return d.length ? mean(d) : null;
}

// ---------------------------------------------------------------- Table 1, A.1–A.3 and twins

/** File stem of the clusterability table at k: table-1, table-A1 … and their `-nonzero` twins. */
export function clusterabilityId(k: number, method: ShuffleMethod): string {
  const base = k === 4 ? 'table-1' : k === 7 ? 'table-A1' : k === 10 ? 'table-A2' : k === 2 ? 'table-A3' : `table-k${k}`;
  return method === 'layer' ? base : `${base}-nonzero`;
}

/** The datasets × dropout rows of a clusterability table: the paper's rows, then any other condition we have at this k. */
function conditionRowsFor(paper: PaperConditionTable | undefined, fallback: readonly PaperConditionRow[]): readonly PaperConditionRow[] {
  return paper?.rows ?? fallback;
}

/** The paper's name of the clusterability table at k ("Table 1" for k = 4). */
export function clusterabilityName(k: number): string {
  return k === 4 ? 'Table 1' : k === 7 ? 'Table A.1' : k === 10 ? 'Table A.2' : k === 2 ? 'Table A.3' : `Clusterability at k = ${k}`;
}

export function clusterabilityTable(index: NetworkIndex, k: number, method: ShuffleMethod, metrics: MetricsCollector): ReportTable {
  const id = clusterabilityId(k, method);
  const paper = (method === 'layer' ? PAPER_CLUSTERABILITY : PAPER_CLUSTERABILITY_NONZERO)[k];
  const rows = conditionRowsFor(
    paper,
    PAPER_CLUSTERABILITY[4].rows.map(({ dataset, dropout }) => ({ dataset, dropout })),
  );
  const missing: string[] = [];
  const sigPairs: string[] = [];
  const ncutDiffs: [number | null, number | undefined][] = [];
  const out = rows.map((p) => {
    const st = conditionStats(index.get(p.dataset, p.dropout, 'pruned', k), method);
    const key = conditionKey(p.dataset, p.dropout);
    const label = conditionLabel(p.dataset, p.dropout);
    if (st.runs === 0) missing.push(`${label}: no pruned networks clustered at k = ${k}`);
    else if (st.significant.length === 0) missing.push(`${label}: no \`${method}\` shuffles at k = ${k}`);
    const propSig = meanOrNull(st.significant);
    const ncut = meanOrNull(st.ncuts);
    const paperNcut = p.ncut?.[0] ?? p.ncutMean;
    const paperDist = p.dist?.[0] ?? p.distMean;
    metrics.add(id, key, 'prop_sig', propSig, { runs: st.significant, paper: p.propSig });
    metrics.add(id, key, 'train_acc', meanOrNull(st.trainAccs), { runs: st.trainAccs, paper: p.trainAcc });
    metrics.add(id, key, 'test_acc', meanOrNull(st.testAccs), { runs: st.testAccs, paper: p.testAcc });
    metrics.add(id, key, 'ncut', ncut, { runs: st.ncuts, paper: paperNcut });
    metrics.add(id, key, 'ncut_sd', sdOrNull(st.ncuts), { paper: p.ncut?.[1] });
    metrics.add(id, key, 'dist_mean', st.dist?.mean ?? null, { runs: st.distMeans, paper: paperDist });
    metrics.add(id, key, 'dist_sd', st.dist?.sd ?? null, { paper: p.dist?.[1] });
    if (propSig !== null) sigPairs.push(`${label} ${fmt(propSig, 1)}${p.propSig !== undefined ? ` (paper ${fmt(p.propSig, 1)})` : ''}`);
    ncutDiffs.push([ncut, paperNcut]);
    return [
      datasetLabel(p.dataset),
      fmtBool(p.dropout),
      String(st.runs),
      ours(st, () => fmt(propSig, 2), st.significant.length > 0),
      paperNum(p.propSig, 1),
      ours(st, () => fmt(meanOrNull(st.trainAccs)), st.trainAccs.length > 0),
      paperNum(p.trainAcc),
      ours(st, () => fmt(meanOrNull(st.testAccs)), st.testAccs.length > 0),
      paperNum(p.testAcc),
      ours(st, () => fmtMeanSd(ncut, sdOrNull(st.ncuts)), st.runs > 0),
      paperMeanSd(p.ncut, p.ncutMean),
      ours(st, () => fmtMeanSd(st.dist!.mean, st.dist!.sd), st.dist !== null),
      paperMeanSd(p.dist, p.distMean),
    ];
  });
  const named = clusterabilityName(k);
  const methodText =
    method === 'layer' ? 'all weights of each layer shuffled (`layer`)' : 'only the non-zero weights shuffled, topology kept (`layer_nonzero`)';
  const dev = meanAbsDiff(ncutDiffs);
  return {
    id,
    title: `${named}${method === 'layer_nonzero' ? ' — `layer_nonzero` twin' : ''}: clusterability of pruned networks, k = ${k}`,
    caption:
      `Pruned networks clustered into k = ${k}; null distribution: ${methodText}. "Prop. sig." is the proportion of networks whose n-cut is below every shuffle (p = 1/(n+1)). ` +
      `Accuracies are means over runs (train accuracy: last epoch, dropout active). "N-cuts": mean ± sd (ddof 1) over networks; "Dist. n-cuts": mean ± sd over all shuffles of all networks. ` +
      `Paper column: ${paper ? paper.source : 'the paper has no table for this k'}.`,
    columns: ['Dataset', 'Dropout', 'Runs', 'Prop. sig.', 'paper', 'Train acc.', 'paper', 'Test acc.', 'paper', 'N-cuts', 'paper', 'Dist. n-cuts', 'paper'],
    rows: out,
    missing,
    reading: sigPairs.length ? `Proportion significant: ${sigPairs.join(', ')}${dev !== null ? `; mean |n-cut − paper| = ${fmt(dev)}` : ''}.` : 'No runs yet.',
  };
}

// ---------------------------------------------------------------- Tables 2–4

export function randomDataTable(index: NetworkIndex, which: keyof typeof PAPER_RANDOM_EXPERIMENTS, o: ReportOptions, metrics: MetricsCollector): ReportTable {
  const paper = PAPER_RANDOM_EXPERIMENTS[which];
  const id = which === 'random' ? 'table-2' : which === 'kilo_epoch' ? 'table-3' : 'table-4';
  const dataset = o.datasets[which];
  const k = o.main_k;
  const missing: string[] = [];
  const readings: string[] = [];
  const rows = paper.rows.map((p) => {
    const pruned = conditionStats(index.get(dataset, p.dropout, 'pruned', k), 'layer');
    const unpruned = conditionStats(index.get(dataset, p.dropout, 'unpruned', k), 'layer');
    const key = conditionKey(dataset, p.dropout);
    const label = conditionLabel(dataset, p.dropout);
    if (pruned.runs === 0 && unpruned.runs === 0) missing.push(`${label}: no networks clustered at k = ${k}`);
    const propSig = meanOrNull(pruned.significant);
    metrics.add(id, key, 'prop_sig', propSig, { runs: pruned.significant, paper: p.propSig });
    metrics.add(id, key, 'train_acc', meanOrNull(pruned.trainAccs), { runs: pruned.trainAccs, paper: p.trainAcc });
    metrics.add(id, key, 'unpruned_ncut', meanOrNull(unpruned.ncuts), { runs: unpruned.ncuts, paper: p.unprunedNcut[0] });
    metrics.add(id, key, 'unpruned_ncut_sd', sdOrNull(unpruned.ncuts), { paper: p.unprunedNcut[1] });
    metrics.add(id, key, 'ncut', meanOrNull(pruned.ncuts), { runs: pruned.ncuts, paper: p.ncut[0] });
    metrics.add(id, key, 'ncut_sd', sdOrNull(pruned.ncuts), { paper: p.ncut[1] });
    metrics.add(id, key, 'dist_mean', pruned.dist?.mean ?? null, { runs: pruned.distMeans, paper: p.dist[0] });
    metrics.add(id, key, 'dist_sd', pruned.dist?.sd ?? null, { paper: p.dist[1] });
    if (pruned.runs > 0)
      readings.push(
        `${p.dropout ? 'dropout' : 'no dropout'}: n-cut ${fmt(meanOrNull(pruned.ncuts))} vs shuffles ${fmt(pruned.dist?.mean)} (paper ${fmt(p.ncut[0])} vs ${fmt(p.dist[0])})`,
      );
    return [
      fmtBool(p.dropout),
      `${unpruned.runs}/${pruned.runs}`,
      ours(pruned, () => fmt(propSig, 2), pruned.significant.length > 0),
      paperNum(p.propSig, 1),
      ours(pruned, () => fmt(meanOrNull(pruned.trainAccs)), pruned.trainAccs.length > 0),
      paperNum(p.trainAcc),
      unpruned.runs ? fmtMeanSd(meanOrNull(unpruned.ncuts), sdOrNull(unpruned.ncuts)) : MISSING,
      paperMeanSd(p.unprunedNcut),
      ours(pruned, () => fmtMeanSd(meanOrNull(pruned.ncuts), sdOrNull(pruned.ncuts)), pruned.runs > 0),
      paperMeanSd(p.ncut),
      ours(pruned, () => fmtMeanSd(pruned.dist!.mean, pruned.dist!.sd), pruned.dist !== null),
      paperMeanSd(p.dist),
    ];
  });
  const what = {
    random: 'the unlearnable random dataset (60,000 random images, random labels)',
    kilo_epoch: 'the kilo-epoch random dataset experiment (1000 unpruned epochs)',
    memorization: 'the memorization experiment (3,000 random examples, 100 + 100 epochs, no shuffling)',
  }[which];
  return {
    id,
    title: `${paper.source}: ${what}`,
    caption:
      `Dataset \`${dataset}\` (params \`report.datasets.${which}\`), k = ${k}, \`layer\` shuffles. Reporting as in Table 1; "Unp. n-cuts" are the unpruned networks, ` +
      `accuracies and distributions are of pruned networks. "Runs" = unpruned/pruned networks clustered. Paper column: ${paper.source}.`,
    columns: ['Dropout', 'Runs', 'Prop. sig.', 'paper', 'Train acc.', 'paper', 'Unp. n-cuts', 'paper', 'N-cuts', 'paper', 'Dist. n-cuts', 'paper'],
    rows,
    missing,
    reading: readings.length ? `${readings.join('; ')}.` : 'No runs yet.',
  };
}

// ---------------------------------------------------------------- Tables A.4–A.15

function networkCohenD(r: NetworkRecord | undefined): number | null {
  const a = r?.shuffles.layer?.samples;
  const b = r?.shuffles.layer_nonzero?.samples;
  return a && b && a.length > 1 && b.length > 1 ? cohenD(a, b) : null;
}

/** Cohen's d between the `layer` and `layer_nonzero` null distributions of one network (paper §A.4; positive = `layer` higher). */
export { networkCohenD };

const PER_NETWORK_COLUMNS = [
  'Run',
  'N-cut',
  'paper',
  'p-value',
  'paper',
  'Dist. n-cuts',
  'paper',
  'p-value (non-zero)',
  'paper',
  'Non-zero dist. n-cuts',
  'paper',
  "Cohen's d",
  'paper',
];

/** One run's row of Tables A.4–A.15 (ours beside the paper's run of the same index), its numbers entered into metrics. */
function perNetworkRow(
  id: string,
  run: number,
  r: NetworkRecord | undefined,
  pp: PaperNetworkRow | undefined,
  d: number | null,
  metrics: MetricsCollector,
): string[] {
  const L = r?.shuffles.layer;
  const N = r?.shuffles.layer_nonzero;
  const row = `run${run}`;
  metrics.add(id, row, 'ncut', r?.ncut ?? null, { paper: pp?.[1] });
  metrics.add(id, row, 'p', L?.p ?? null, { paper: pp?.[2] });
  metrics.add(id, row, 'dist_mean', L?.mean ?? null, { paper: pp?.[3] });
  metrics.add(id, row, 'dist_sd', L?.sd ?? null, { paper: pp?.[4] });
  metrics.add(id, row, 'p_nonzero', N?.p ?? null, { paper: pp?.[5] });
  metrics.add(id, row, 'nonzero_dist_mean', N?.mean ?? null, { paper: pp?.[6] });
  metrics.add(id, row, 'nonzero_dist_sd', N?.sd ?? null, { paper: pp?.[7] });
  metrics.add(id, row, 'cohen_d', d, { paper: pp?.[8] });
  const mine = (s: string) => (r ? s : MISSING);
  return [
    String(run),
    mine(fmt(r?.ncut)),
    pp ? fmt(pp[1]) : NONE,
    mine(fmt(L?.p)),
    pp ? fmt(pp[2]) : NONE,
    mine(fmtMeanSd(L?.mean, L?.sd)),
    pp ? fmtMeanSd(pp[3], pp[4]) : NONE,
    mine(fmt(N?.p)),
    pp ? fmt(pp[5]) : NONE,
    mine(fmtMeanSd(N?.mean, N?.sd)),
    pp ? fmtMeanSd(pp[6], pp[7]) : NONE,
    mine(fmtSigned(d)),
    pp ? fmtSigned(pp[8]) : NONE,
  ];
}

export function perNetworkTable(index: NetworkIndex, paper: PaperNetworkTable, o: ReportOptions, metrics: MetricsCollector): ReportTable {
  const k = o.main_k;
  const records = index.get(paper.dataset, paper.dropout, paper.phase, k);
  const byRun = new Map(records.map((r) => [r.run, r]));
  const paperByRun = new Map(paper.rows.map((r) => [r[0], r]));
  const runs = [...new Set([...paperByRun.keys(), ...byRun.keys()])].sort((a, b) => a - b);
  const id = paper.id;
  const ds: number[] = [];
  const rows = runs.map((run) => {
    const r = byRun.get(run);
    const d = networkCohenD(r);
    if (d !== null) ds.push(d);
    return perNetworkRow(id, run, r, paperByRun.get(run), d, metrics);
  });
  const ncuts = records.filter((r) => r.ncut !== null).map((r) => r.ncut!);
  const paperMean = (i: number) => mean(paper.rows.map((r) => r[i]));
  metrics.add(id, 'mean', 'ncut', meanOrNull(ncuts), { runs: ncuts, paper: paperMean(1) });
  metrics.add(id, 'mean', 'cohen_d', meanOrNull(ds), { runs: ds, paper: paperMean(8) });
  const sig: number[] = records.filter((r) => r.shuffles.layer).map((r) => (r.shuffles.layer!.significant ? 1 : 0));
  rows.push([
    'mean',
    ncuts.length ? fmt(meanOrNull(ncuts)) : MISSING,
    fmt(paperMean(1)),
    '',
    '',
    '',
    '',
    '',
    '',
    '',
    '',
    ds.length ? fmtSigned(meanOrNull(ds)) : NONE,
    fmtSigned(paperMean(8)),
  ]);
  const label = conditionLabel(paper.dataset, paper.dropout);
  return {
    id,
    title: `${paper.source}: each network trained on ${label}, ${paper.phase === 'pruned' ? 'after pruning' : 'before pruning'}`,
    caption:
      `k = ${k}. p-values: (#{shuffles < n-cut} + 1)/(n + 1) (North et al. 2002); "Dist. n-cuts": mean ± sd (ddof 0) of the \`layer\` shuffles; ` +
      `"non-zero": the \`layer_nonzero\` shuffles. Cohen's d = (mean_layer − mean_nonzero)/pooled sd (ddof 1). Runs are independent seeds, so row i here and row i in the paper are different networks: compare the distributions and the mean row. Paper column: ${paper.source}.`,
    columns: PER_NETWORK_COLUMNS,
    rows,
    missing: records.length ? [] : [`${label}, ${paper.phase}: no networks clustered at k = ${k}`],
    reading: records.length
      ? `${sig.reduce((a, b) => a + b, 0)}/${sig.length} significant (paper ${paper.rows.filter((r) => r[2] < 0.004).length}/${paper.rows.length}); mean n-cut ${fmt(meanOrNull(ncuts))} (paper ${fmt(paperMean(1))}); mean Cohen's d ${fmtSigned(meanOrNull(ds))} (paper ${fmtSigned(paperMean(8))}).`
      : 'No runs yet.',
  };
}

// ---------------------------------------------------------------- Tables A.16–A.17

export function mixturesTable(index: NetworkIndex, which: 'without' | 'with', o: ReportOptions, metrics: MetricsCollector): ReportTable {
  const paper = PAPER_MIXTURES[which];
  const id = which === 'without' ? 'table-A16' : 'table-A17';
  const k = o.main_k;
  const missing: string[] = [];
  const diffs: [number | null, number | undefined][] = [];
  const rows = paper.rows.map((p) => {
    const st = conditionStats(index.get(p.dataset, p.dropout, 'pruned', k), 'layer');
    const key = conditionKey(p.dataset, p.dropout);
    if (st.runs === 0) missing.push(`${conditionLabel(p.dataset, p.dropout)}: no pruned networks clustered at k = ${k}`);
    const ncut = meanOrNull(st.ncuts);
    diffs.push([ncut, p.ncut?.[0]]);
    metrics.add(id, key, 'ncut', ncut, { runs: st.ncuts, paper: p.ncut?.[0] });
    metrics.add(id, key, 'ncut_sd', sdOrNull(st.ncuts), { paper: p.ncut?.[1] });
    metrics.add(id, key, 'train_acc', meanOrNull(st.trainAccs), { runs: st.trainAccs, paper: p.trainAcc });
    metrics.add(id, key, 'test_acc', meanOrNull(st.testAccs), { runs: st.testAccs, paper: p.testAcc });
    return [
      datasetLabel(p.dataset),
      String(st.runs),
      ours(st, () => fmtMeanSd(ncut, sdOrNull(st.ncuts)), st.runs > 0),
      paperMeanSd(p.ncut),
      ours(st, () => fmt(meanOrNull(st.trainAccs)), st.trainAccs.length > 0),
      paperNum(p.trainAcc),
      ours(st, () => fmt(meanOrNull(st.testAccs)), st.testAccs.length > 0),
      paperNum(p.testAcc),
    ];
  });
  const dev = meanAbsDiff(diffs);
  const present = diffs.filter((d) => d[0] !== null).length;
  return {
    id,
    title: `${paper.source}: LINES and mixture datasets, pruned, ${which === 'with' ? 'with' : 'without'} dropout`,
    caption:
      `k = ${k}. "-SEP" (dataset names ending in \`-separated\`): classes 0–4 from the first dataset, 5–9 from the second; otherwise both contribute every class. ` +
      `"N-cuts": mean ± sd over networks. Paper column: ${paper.source}.`,
    columns: ['Dataset', 'Runs', 'N-cuts', 'paper', 'Mean train acc.', 'paper', 'Mean test acc.', 'paper'],
    rows,
    missing,
    reading: present ? `${present}/${rows.length} datasets with runs; mean |n-cut − paper| = ${fmt(dev)}.` : 'No runs yet.',
  };
}

// ---------------------------------------------------------------- Tables A.18–A.19

export function findLesion(lesions: readonly LesionRecord[], o: ReportOptions): LesionRecord | undefined {
  const n = o.lesion_network;
  return lesions.find((l) => l.dataset === n.dataset && l.dropout === n.dropout && l.run === n.run);
}

const subName = (layer: number, cluster: number) => `${layer}-${cluster}`;

function countBy<T>(xs: readonly T[], key: (x: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of xs) m.set(key(x), (m.get(key(x)) ?? 0) + 1);
  return m;
}

/** Random-control accuracy diff of a single lesion: mean and sd of (control accuracy − intact accuracy). */
function controlDiff(r: SingleLesionRow): { mean: number; sd: number } {
  const intact = r.trueAcc - r.diff;
  return { mean: r.mean - intact, sd: r.sd };
}

export function singleLesionTable(lesion: LesionRecord | undefined, o: ReportOptions, metrics: MetricsCollector): ReportTable {
  const id = 'table-A18';
  const net = o.lesion_network;
  const label = `${conditionLabel(net.dataset, net.dropout)}, run ${net.run}`;
  const single = lesion?.single ?? [];
  const sorted = [...single].sort((a, b) => a.layer - b.layer || a.cluster - b.cluster);
  const rows = sorted.map((r) => {
    const c = controlDiff(r);
    const row = `L${subName(r.layer, r.cluster)}`;
    metrics.add(id, row, 'diff', r.diff);
    metrics.add(id, row, 'p', r.p);
    metrics.add(id, row, 'proportion', r.proportion);
    metrics.add(id, row, 'control_diff_mean', c.mean);
    return [String(r.layer), String(r.cluster), String(r.size), fmtSigned(r.diff, 4), fmt(r.p, 4), fmt(r.proportion), r.category, fmtMeanSd(c.mean, c.sd, 4)];
  });
  const ourCounts = countBy(sorted, (r) => r.category);
  const paperCounts = countBy(PAPER_SINGLE_LESION.rows, (r) => r[5]);
  const categories = [...new Set([...paperCounts.keys(), ...ourCounts.keys()])].sort();
  for (const c of categories) metrics.add(id, 'category', c, lesion?.single ? (ourCounts.get(c) ?? 0) : null, { paper: paperCounts.get(c) ?? 0 });
  metrics.add(id, 'network', 'n_submodules', lesion?.single ? sorted.length : null, { paper: PAPER_SINGLE_LESION.rows.length });
  metrics.add(id, 'network', 'intact_accuracy', lesion?.intactAccuracy ?? null);
  const countsTable = markdownTable(
    ['Category', 'ours', 'paper'],
    categories.map((c) => [c, lesion?.single ? String(ourCounts.get(c) ?? 0) : MISSING, String(paperCounts.get(c) ?? 0)]),
  );
  const paperTable = markdownTable(
    ['Layer', 'Label', 'Acc. diff.', 'p-value', 'Proportion', 'Type', 'Acc. diff. dist.'],
    // Printed as the paper prints them (its precision varies by row).
    PAPER_SINGLE_LESION.rows.map((r) => [String(r[0]), String(r[1]), fmtSigned(r[2], 4), String(r[3]), fmt(r[4]), r[5], `${r[6]} ± ${r[7]}`]),
  );
  return {
    id,
    title: `Table A.18: sub-modules of the lesioned network (${label})`,
    caption:
      `Single lesions: all incoming weights of a sub-module (hidden layer ∩ cluster) set to 0. "Acc. diff." = lesioned − intact test accuracy` +
      `${lesion?.intactAccuracy != null ? ` (intact ${fmt(lesion.intactAccuracy, 4)})` : ''}; p against random same-size sets of live neurons of the same layer; ` +
      `"Acc. diff. dist." = mean ± sd (ddof 1) of the random lesions' diffs. Cluster labels are arbitrary, so rows cannot be matched with the paper's: compare the category counts below and the paper's table (${PAPER_SINGLE_LESION.source}).`,
    columns: ['Layer', 'Label', 'Size', 'Acc. diff.', 'p-value', 'Proportion', 'Type', 'Acc. diff. dist.'],
    rows: rows.length ? rows : [[MISSING, '', '', '', '', '', '', '']],
    appendix: `## Categories, ours vs paper\n\n${countsTable}\n\n## The paper's ${PAPER_SINGLE_LESION.source}\n\n${paperTable}`,
    missing: lesion?.single ? [] : [`single lesions of ${label}`],
    reading: lesion?.single
      ? `${ourCounts.get('important') ?? 0} important of ${sorted.length} sub-modules (paper ${paperCounts.get('important') ?? 0} of ${PAPER_SINGLE_LESION.rows.length}).`
      : 'No lesion results yet.',
  };
}

export interface DependencyPairView {
  readonly x: SingleLesionRow;
  readonly y: SingleLesionRow;
  /** X important conditioned on Y, and the reverse. */
  readonly xGivenY: boolean | null;
  readonly yGivenX: boolean | null;
  /** δ(X,Y) = ℓ(X∪Y) − ℓ(Y), δ(Y,X) = ℓ(X∪Y) − ℓ(X): accuracy lost (positive = damage). */
  readonly deltaXY: number | null;
  readonly deltaYX: number | null;
}

/** Pairs of individually important sub-modules in different layers, X the earlier (paper Table A.19). */
export function dependencyPairs(lesion: LesionRecord): DependencyPairView[] {
  const important = (lesion.single ?? []).filter((r) => r.category === 'important').sort((a, b) => a.layer - b.layer || a.cluster - b.cluster);
  const cond = new Map<string, PairLesionRow>((lesion.conditional ?? []).map((r) => [`${subName(r.layerX, r.clusterX)}|${subName(r.layerY, r.clusterY)}`, r]));
  const isImportant = (r: PairLesionRow | undefined) => (r ? (r.important ?? r.category === 'important') : null);
  const out: DependencyPairView[] = [];
  for (const x of important) {
    for (const y of important) {
      if (x.layer >= y.layer) continue;
      const xy = cond.get(`${subName(x.layer, x.cluster)}|${subName(y.layer, y.cluster)}`);
      const yx = cond.get(`${subName(y.layer, y.cluster)}|${subName(x.layer, x.cluster)}`);
      out.push({ x, y, xGivenY: isImportant(xy), yGivenX: isImportant(yx), deltaXY: xy ? -xy.diff : null, deltaYX: yx ? -yx.diff : null });
    }
  }
  return out;
}

function patternOf(a: boolean | null, b: boolean | null): string {
  return `${fmtBool(a)}${fmtBool(b)}`;
}

export function dependencyTable(lesion: LesionRecord | undefined, o: ReportOptions, metrics: MetricsCollector): ReportTable {
  const id = 'table-A19';
  const net = o.lesion_network;
  const label = `${conditionLabel(net.dataset, net.dropout)}, run ${net.run}`;
  const have = lesion?.single && lesion.conditional;
  const pairs = have ? dependencyPairs(lesion!) : [];
  const rows = pairs.map((p) => {
    const row = `${subName(p.x.layer, p.x.cluster)}_${subName(p.y.layer, p.y.cluster)}`;
    metrics.add(id, row, 'delta_xy', p.deltaXY);
    metrics.add(id, row, 'delta_yx', p.deltaYX);
    return [
      subName(p.x.layer, p.x.cluster),
      subName(p.y.layer, p.y.cluster),
      fmtBool(p.xGivenY),
      fmtBool(p.yGivenX),
      fmtSigned(p.deltaXY),
      fmtSigned(p.deltaYX),
    ];
  });
  const ourPatterns = countBy(pairs, (p) => patternOf(p.xGivenY, p.yGivenX));
  const paperPatterns = countBy(PAPER_DEPENDENCIES.rows, (r) => patternOf(r[2], r[3]));
  const patterns = ['✓✓', '✓×', '×✓', '××'];
  for (const pat of patterns) {
    const name = pat.replace(/✓/g, 'Y').replace(/×/g, 'N');
    metrics.add(id, 'pattern', name, have ? (ourPatterns.get(pat) ?? 0) : null, { paper: paperPatterns.get(pat) ?? 0 });
  }
  metrics.add(id, 'network', 'n_pairs', have ? pairs.length : null, { paper: PAPER_DEPENDENCIES.rows.length });
  const countsTable = markdownTable(
    ['X|Y, Y|X', 'ours', 'paper'],
    patterns.map((pat) => [pat, have ? String(ourPatterns.get(pat) ?? 0) : MISSING, String(paperPatterns.get(pat) ?? 0)]),
  );
  const paperTable = markdownTable(
    ['X', 'Y', 'X|Y', 'Y|X', 'δ(X,Y)', 'δ(Y,X)'],
    PAPER_DEPENDENCIES.rows.map((r) => [r[0], r[1], fmtBool(r[2]), fmtBool(r[3]), fmtSigned(r[4]), fmtSigned(r[5])]),
  );
  const edges = lesion?.edges?.length ?? null;
  return {
    id,
    title: `Table A.19: dependencies between important sub-modules (${label})`,
    caption:
      `Pairs (X, Y) of individually important sub-modules in different layers, X the earlier. "X|Y": X is important conditioned on Y (lesioning X with Y already lesioned is worse than ` +
      `every random same-size X' and costs ≥ 1 pp). δ(X,Y) = ℓ(X∪Y) − ℓ(Y), accuracy lost (paper §4.2). Sub-modules are "layer-cluster"; labels are arbitrary, so compare the patterns below and the paper's table (${PAPER_DEPENDENCIES.source}).`,
    columns: ['X', 'Y', 'X|Y', 'Y|X', 'δ(X,Y)', 'δ(Y,X)'],
    rows: rows.length ? rows : [[have ? 'no pairs of important sub-modules' : MISSING, '', '', '', '', '']],
    appendix: `## Patterns, ours vs paper\n\n${countsTable}\n\n## The paper's ${PAPER_DEPENDENCIES.source}\n\n${paperTable}`,
    missing: have ? [] : [`conditional double lesions of ${label}`],
    reading: have
      ? `${pairs.length} pairs of important sub-modules (paper ${PAPER_DEPENDENCIES.rows.length}); both conditionally important in ${ourPatterns.get('✓✓') ?? 0} (paper ${paperPatterns.get('✓✓') ?? 0})${edges !== null ? `; ${edges} dependency edges` : ''}.`
      : 'No double-lesion results yet.',
  };
}

export { PAPER_PER_NETWORK };
