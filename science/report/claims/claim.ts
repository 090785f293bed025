/**
 * What a claim of the paper is to the report (comparison.ts): its rule in words, the evidence
 * rows it computes from the network records at one k, and a verdict, with the same rule applied
 * to the paper's own numbers where they exist. One file per claim in this folder.
 */
import { mean } from '../../stats.ts';
import { fmt, NONE } from '../format.ts';
import type { ReportOptions } from '../options.ts';
import { PAPER_CLUSTERABILITY, PAPER_PER_NETWORK, type PaperConditionRow, type PaperNetworkRow } from '../paper.ts';
import type { NetworkRecord } from '../records.ts';
import { conditionKey, conditionLabel, type NetworkIndex } from '../tables.ts';

export type Verdict =
  | {
      readonly kind: 'holds' | 'does not hold' | 'mixed';
      readonly detail: string;
      /** Conditions (or datasets) judged, and how many of them meet the claim's criterion. */
      readonly tested: number;
      readonly holding: number;
    }
  | { readonly kind: 'not testable'; readonly reason: string };

export function verdictText(v: Verdict): string {
  return v.kind === 'not testable' ? `not testable: ${v.reason}` : v.kind;
}

/** Numeric code of a verdict for metrics.json: 1 holds, 0.5 mixed, 0 does not hold, null not testable. */
export function verdictCode(v: Verdict): number | null {
  return v.kind === 'holds' ? 1 : v.kind === 'mixed' ? 0.5 : v.kind === 'does not hold' ? 0 : null;
}

/**
 * Majority rule over conditions: holds when every condition has a majority (> 1/2), does not
 * hold when none has, mixed otherwise; not testable without conditions.
 */
export function majorityVerdict(proportions: readonly number[], unit: string, reason: string): Verdict {
  if (!proportions.length) return { kind: 'not testable', reason };
  const majority = proportions.filter((p) => p > 0.5).length;
  const detail = `a majority ${unit} in ${majority} of ${proportions.length} conditions`;
  const kind = majority === proportions.length ? 'holds' : majority === 0 ? 'does not hold' : 'mixed';
  return { kind, detail, tested: proportions.length, holding: majority };
}

export interface ClaimAtK {
  readonly verdict: Verdict;
  /** Verdict of the same rule on the paper's own numbers, when they exist at this k. */
  readonly paperVerdict: Verdict | null;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly string[])[];
  /** Extra lines under the evidence table. */
  readonly notes: readonly string[];
}

/** Records one number of a claim's evidence: metrics.json `comparison/<row>/<claim letter>_<name>_k<k>`. */
export type ClaimMetric = (row: string, name: string, value: number | null, extra?: { runs?: readonly number[]; paper?: number | null }) => void;

export interface Claim {
  /** Metrics row of the claim-level numbers. */
  readonly id: string;
  readonly letter: string;
  readonly title: string;
  /** Where the paper makes the claim. */
  readonly source: string;
  rule(o: ReportOptions): string;
  evaluate(index: NetworkIndex, k: number, o: ReportOptions, metric: ClaimMetric): ClaimAtK;
  /** The datasets the claim is about, when not Table 1's: the report lists it only when some have networks. */
  datasets?(o: ReportOptions): readonly string[];
}

/** The (dataset, dropout) conditions the claims are judged on: Table 1's rows, in its order. */
export const TABLE1_CONDITIONS: readonly { dataset: string; dropout: boolean }[] = PAPER_CLUSTERABILITY[4].rows.map(({ dataset, dropout }) => ({
  dataset,
  dropout,
}));
export const TABLE1_DATASETS: readonly string[] = [...new Set(TABLE1_CONDITIONS.map((c) => c.dataset))];

export const paperTableRow = (k: number, c: { dataset: string; dropout: boolean }): PaperConditionRow | undefined =>
  PAPER_CLUSTERABILITY[k]?.rows.find((r) => r.dataset === c.dataset && r.dropout === c.dropout);
/** The paper's per-network table (A.4–A.15) of a condition and phase; these are all at k = 4. */
export const paperNetworks = (k: number, c: { dataset: string; dropout: boolean }, phase: 'unpruned' | 'pruned') =>
  k === 4 ? PAPER_PER_NETWORK.find((t) => t.dataset === c.dataset && t.dropout === c.dropout && t.phase === phase) : undefined;

/** Mean n-cut of the paper's per-network table (k = 4 only). */
export function paperMeanNcut(k: number, dataset: string, dropout: boolean, phase: 'unpruned' | 'pruned'): number | undefined {
  const t = paperNetworks(k, { dataset, dropout }, phase);
  return t ? mean(t.rows.map((r) => r[1])) : undefined;
}

/** Proportion of the paper's networks whose pruned n-cut is below the unpruned n-cut of the same run. */
export function pairedLower(before: readonly PaperNetworkRow[], after: readonly PaperNetworkRow[]): number | undefined {
  const ncutBefore = new Map(before.map((r) => [r[0], r[1]]));
  const lower = after.filter((r) => ncutBefore.has(r[0])).map((r) => (r[1] < ncutBefore.get(r[0])! ? 1 : 0));
  return lower.length ? mean(lower) : undefined;
}

const count = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
export const ncutsOf = (records: readonly NetworkRecord[]) => records.filter((r) => r.ncut !== null).map((r) => r.ncut!);
export const fraction = (xs: readonly number[]) => `${count(xs)}/${xs.length}`;

/** p-values span many decades: fixed point down to 0.001, scientific below. */
export function fmtP(p: number | null | undefined): string {
  if (p === null || p === undefined || Number.isNaN(p)) return NONE;
  return p !== 0 && p < 1e-3 ? p.toExponential(1) : fmt(p, 3);
}

/** Table 1 conditions with pruned networks clustered at k. */
export function prunedConditions(index: NetworkIndex, k: number) {
  return TABLE1_CONDITIONS.map((c) => ({
    ...c,
    key: conditionKey(c.dataset, c.dropout),
    label: conditionLabel(c.dataset, c.dropout),
    pruned: index.get(c.dataset, c.dropout, 'pruned', k),
  })).filter((c) => c.pruned.length > 0);
}

export const noPruned = (k: number) => `no pruned networks of Table 1's conditions clustered at k = ${k}`;
