/**
 * README.md's "Comparison with the paper": our rows of Table 1 / A.1–A.3 (and their
 * `layer_nonzero` twins) beside the paper's, and a verdict on each of the paper's qualitative
 * claims, all computed from the records with a stated rule. The text is factual only (numbers,
 * rules, verdicts); the discussion of differences is written by hand elsewhere.
 *
 * Every number shown also enters metrics.json under the table id `comparison`:
 *  - rows table: `comparison/<condition>/<table id>_<metric>` (the derived differences; our
 *    means and proportions themselves are already under `table-1/…` etc.);
 *  - claims: `comparison/<condition or dataset>/<claim letter>_<metric>_k<k>` for the evidence,
 *    `comparison/<claim id>/verdict_k<k>` (1 holds, 0.5 mixed, 0 does not hold, null not
 *    testable; `paper` = the same rule on the paper's numbers) and `…/conditions_k<k>`,
 *    `…/conditions_holding_k<k>` (conditions judged, and meeting the claim's criterion).
 */
import { mean } from '../stats.ts';
import { fmt, fmtMeanSd, fmtSigned, markdownTable, NONE } from './format.ts';
import type { MetricsCollector } from './metrics.ts';
import type { ReportOptions } from './options.ts';
import {
  datasetLabel,
  PAPER_CLUSTERABILITY,
  PAPER_CLUSTERABILITY_NONZERO,
  PAPER_INIT_NCUT_SUPPORT,
  PAPER_PER_NETWORK,
  type PaperConditionRow,
  type PaperNetworkRow,
} from './paper.ts';
import type { NetworkRecord, ShuffleMethod } from './records.ts';
import { welchTTest } from './stats.ts';
import {
  clusterabilityId,
  clusterabilityName,
  conditionKey,
  conditionLabel,
  conditionStats,
  meanOrNull,
  networkCohenD,
  type NetworkIndex,
  sdOrNull,
} from './tables.ts';

/** The paper's clusterability tables in the order it prints them (Table 1, A.1, A.2, A.3). */
const PAPER_KS = [4, 7, 10, 2] as const;

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

/** The (dataset, dropout) conditions the claims are judged on: Table 1's rows, in its order. */
const TABLE1_CONDITIONS: readonly { dataset: string; dropout: boolean }[] = PAPER_CLUSTERABILITY[4].rows.map(({ dataset, dropout }) => ({ dataset, dropout }));
const TABLE1_DATASETS: readonly string[] = [...new Set(TABLE1_CONDITIONS.map((c) => c.dataset))];

const paperTableRow = (k: number, c: { dataset: string; dropout: boolean }): PaperConditionRow | undefined =>
  PAPER_CLUSTERABILITY[k]?.rows.find((r) => r.dataset === c.dataset && r.dropout === c.dropout);
/** The paper's per-network table (A.4–A.15) of a condition and phase; these are all at k = 4. */
const paperNetworks = (k: number, c: { dataset: string; dropout: boolean }, phase: 'unpruned' | 'pruned') =>
  k === 4 ? PAPER_PER_NETWORK.find((t) => t.dataset === c.dataset && t.dropout === c.dropout && t.phase === phase) : undefined;

const count = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
const ncutsOf = (records: readonly NetworkRecord[]) => records.filter((r) => r.ncut !== null).map((r) => r.ncut!);
const fraction = (xs: readonly number[]) => `${count(xs)}/${xs.length}`;
/** p-values span many decades: fixed point down to 0.001, scientific below. */
function fmtP(p: number | null | undefined): string {
  if (p === null || p === undefined || Number.isNaN(p)) return NONE;
  return p !== 0 && p < 1e-3 ? p.toExponential(1) : fmt(p, 3);
}

// ---------------------------------------------------------------- rows of Table 1 and A.1–A.3

interface RowsResult {
  readonly markdown: string;
  readonly shown: number;
  readonly paperRows: number;
}

function rowsTable(index: NetworkIndex, metrics: MetricsCollector): RowsResult {
  const rows: string[][] = [];
  let paperRows = 0;
  for (const method of ['layer', 'layer_nonzero'] as const satisfies readonly ShuffleMethod[]) {
    for (const k of PAPER_KS) {
      const paper = (method === 'layer' ? PAPER_CLUSTERABILITY : PAPER_CLUSTERABILITY_NONZERO)[k];
      if (!paper) continue;
      const id = clusterabilityId(k, method);
      for (const p of paper.rows) {
        paperRows++;
        const st = conditionStats(index.get(p.dataset, p.dropout, 'pruned', k), method);
        if (st.runs === 0) continue;
        const key = conditionKey(p.dataset, p.dropout);
        const ncut = meanOrNull(st.ncuts)!;
        const paperNcut = p.ncut?.[0] ?? p.ncutMean;
        // The twins' n-cuts are the same networks as the `layer` table's: that row's sd applies.
        const paperSd = p.ncut?.[1] ?? paperTableRow(k, p)?.ncut?.[1];
        const diffSd = paperNcut !== undefined && paperSd ? (ncut - paperNcut) / paperSd : null;
        const propSig = meanOrNull(st.significant);
        const propDiff = propSig !== null && p.propSig !== undefined ? propSig - p.propSig : null;
        const paperDist = p.dist?.[0] ?? p.distMean;
        const distDiff = st.dist && paperDist !== undefined ? st.dist.mean - paperDist : null;
        metrics.add('comparison', key, `${id}_ncut_diff_sd`, diffSd);
        metrics.add('comparison', key, `${id}_prop_sig_diff`, propDiff);
        metrics.add('comparison', key, `${id}_shuffle_mean_diff`, distDiff);
        rows.push([
          `${clusterabilityName(k)}${method === 'layer_nonzero' ? ' (`layer_nonzero`)' : ''}`,
          conditionLabel(p.dataset, p.dropout),
          String(st.runs),
          fmtMeanSd(ncut, sdOrNull(st.ncuts)),
          fmtMeanSd(paperNcut, paperSd),
          fmtSigned(diffSd, 1),
          propSig === null ? NONE : fmt(propSig, 2),
          p.propSig === undefined ? NONE : fmt(p.propSig, 1),
          fmt(st.dist?.mean),
          fmt(paperDist),
        ]);
      }
    }
  }
  const table = markdownTable(['Table', 'Condition', 'Runs', 'N-cut', 'paper', 'Δ / paper sd', 'Prop. sig.', 'paper', 'Shuffle mean', 'paper'], rows);
  const caption =
    'Pruned networks; "N-cut": mean ± sd (ddof 1) over networks. "Δ / paper sd" = (our mean − paper mean) / the paper\'s sd over its networks ' +
    '(for the `layer_nonzero` rows, whose networks are those of the `layer` table, the sd of the same `layer` row). "Prop. sig.": proportion of networks ' +
    'whose n-cut is below every shuffle of the row\'s method; "Shuffle mean": mean over all shuffles of all networks. The `layer_nonzero` paper values are the original code\'s ' +
    'notebook outputs (original-implementation.md §11), not printed in the paper.';
  return { markdown: rows.length ? `${caption}\n\n${table}` : 'No pruned networks clustered at k = 2, 4, 7 or 10 yet.', shown: rows.length, paperRows };
}

// ---------------------------------------------------------------- claims

interface ClaimAtK {
  readonly verdict: Verdict;
  /** Verdict of the same rule on the paper's own numbers, when they exist at this k. */
  readonly paperVerdict: Verdict | null;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly string[])[];
  /** Extra lines under the evidence table. */
  readonly notes: readonly string[];
}

interface Claim {
  /** Metrics row of the claim-level numbers. */
  readonly id: string;
  readonly letter: string;
  readonly title: string;
  readonly source: string;
  readonly rule: string;
  evaluate(k: number, metric: (row: string, name: string, value: number | null, extra?: { runs?: readonly number[]; paper?: number | null }) => void): ClaimAtK;
}

/** Table 1 conditions with pruned networks clustered at k. */
function prunedConditions(index: NetworkIndex, k: number) {
  return TABLE1_CONDITIONS.map((c) => ({
    ...c,
    key: conditionKey(c.dataset, c.dropout),
    label: conditionLabel(c.dataset, c.dropout),
    pruned: index.get(c.dataset, c.dropout, 'pruned', k),
  })).filter((c) => c.pruned.length > 0);
}

function claims(index: NetworkIndex, o: ReportOptions): Claim[] {
  const noPruned = (k: number) => `no pruned networks of Table 1's conditions clustered at k = ${k}`;
  const list: Claim[] = [
    {
      id: 'a-shuffles',
      letter: 'a',
      title: 'Pruned networks are more clusterable than their `layer` shuffles',
      source: 'Table 1, Tables A.1–A.3',
      rule: 'per condition, the proportion of pruned networks whose n-cut is below all of their `layer` shuffles (p = 1/(N+1)); holds when that is a majority in every condition, does not hold when in none, mixed otherwise.',
      evaluate(k, metric) {
        const pruned = prunedConditions(index, k);
        const conds = pruned.map((c) => ({ ...c, st: conditionStats(c.pruned, 'layer') })).filter((c) => c.st.significant.length > 0);
        const rows = conds.map((c) => {
          const prop = mean(c.st.significant);
          const zs = c.pruned.map((r) => r.shuffles.layer?.z).filter((z): z is number => z !== undefined && Number.isFinite(z));
          const paper = paperTableRow(k, c)?.propSig;
          metric(c.key, 'prop_sig', prop, { runs: c.st.significant, paper });
          metric(c.key, 'mean_z', meanOrNull(zs), { runs: zs });
          return [c.label, fraction(c.st.significant), fmt(prop, 2), paper === undefined ? NONE : fmt(paper, 1), fmt(meanOrNull(zs), 2)];
        });
        const paperProps = conds.map((c) => paperTableRow(k, c)?.propSig).filter((p): p is number => p !== undefined);
        return {
          verdict: majorityVerdict(
            conds.map((c) => mean(c.st.significant)),
            'significant',
            pruned.length ? `no \`layer\` shuffles of pruned networks at k = ${k}` : noPruned(k),
          ),
          paperVerdict: conds.length && paperProps.length === conds.length ? majorityVerdict(paperProps, 'significant', '') : null,
          columns: ['Condition', 'Significant', 'Prop.', 'paper', 'Mean z'],
          rows,
          notes: ['"Mean z" = mean over networks of (n-cut − shuffle mean) / shuffle sd.'],
        };
      },
    },
    {
      id: 'b-dropout',
      letter: 'b',
      title: 'Dropout lowers the n-cut',
      source: 'Section 3.1, Table 1, Figure 2',
      rule: `per dataset with pruned networks both with and without dropout, the difference of mean n-cuts (with − without) and Welch's t-test; holds when the n-cut is lower with dropout and p < ${o.alpha} (\`report.alpha\`) in every such dataset, does not hold when it is higher with dropout in every such dataset, mixed otherwise. Unpruned networks are shown with the same rule.`,
      evaluate(k, metric) {
        const rows: string[][] = [];
        const byPhase = { pruned: [] as { diff: number; p: number | null }[], unpruned: [] as { diff: number; p: number | null }[] };
        for (const phase of ['pruned', 'unpruned'] as const) {
          for (const dataset of TABLE1_DATASETS) {
            const without = ncutsOf(index.get(dataset, false, phase, k));
            const withDropout = ncutsOf(index.get(dataset, true, phase, k));
            if (!without.length || !withDropout.length) continue;
            const diff = mean(withDropout) - mean(without);
            const p = welchTTest(withDropout, without)?.p ?? null;
            byPhase[phase].push({ diff, p });
            const paperWith = phase === 'pruned' ? paperTableRow(k, { dataset, dropout: true })?.ncut?.[0] : paperMeanNcut(k, dataset, true, 'unpruned');
            const paperWithout = phase === 'pruned' ? paperTableRow(k, { dataset, dropout: false })?.ncut?.[0] : paperMeanNcut(k, dataset, false, 'unpruned');
            const paperDiff = paperWith !== undefined && paperWithout !== undefined ? paperWith - paperWithout : undefined;
            metric(dataset, `${phase}_ncut_without`, mean(without), { runs: without, paper: paperWithout });
            metric(dataset, `${phase}_ncut_with`, mean(withDropout), { runs: withDropout, paper: paperWith });
            metric(dataset, `${phase}_diff`, diff, { paper: paperDiff });
            metric(dataset, `${phase}_welch_p`, p);
            rows.push([
              datasetLabel(dataset),
              phase,
              `${without.length}/${withDropout.length}`,
              fmt(mean(without)),
              fmt(mean(withDropout)),
              fmtSigned(diff),
              paperDiff === undefined ? NONE : fmtSigned(paperDiff),
              fmtP(p),
            ]);
          }
        }
        const verdictOf = (tests: readonly { diff: number; p: number | null }[], phase: string): Verdict => {
          if (!tests.length) return { kind: 'not testable', reason: `no dataset has ${phase} networks both with and without dropout at k = ${k}` };
          const lowerSig = tests.filter((t) => t.diff < 0 && t.p !== null && t.p < o.alpha).length;
          const higher = tests.filter((t) => t.diff > 0).length;
          const detail = `lower with dropout at p < ${o.alpha} in ${lowerSig} of ${tests.length} datasets, higher in ${higher}`;
          return {
            kind: lowerSig === tests.length ? 'holds' : higher === tests.length ? 'does not hold' : 'mixed',
            detail,
            tested: tests.length,
            holding: lowerSig,
          };
        };
        const unpruned = verdictOf(byPhase.unpruned, 'unpruned');
        metric('b-dropout', 'unpruned_verdict', verdictCode(unpruned));
        return {
          verdict: verdictOf(byPhase.pruned, 'pruned'),
          paperVerdict: null,
          columns: ['Dataset', 'Phase', 'Runs (without/with)', 'N-cut without', 'N-cut with', 'Difference', 'paper', 'Welch p'],
          rows,
          notes: [
            `Unpruned networks, same rule: ${verdictText(unpruned)}${unpruned.kind === 'not testable' ? '' : ` (${unpruned.detail})`}.`,
            "The paper's differences: pruned from Table 1's means (its Welch p is not printed), unpruned from the means of Tables A.4–A.15 (k = 4 only).",
          ],
        };
      },
    },
    {
      id: 'c-nonzero',
      letter: 'c',
      title: '`layer_nonzero` shuffles are more clusterable than `layer` shuffles',
      source: 'Section 3.3, Figure 4, Tables A.6–A.15',
      rule: "per pruned network, whether the mean n-cut of its `layer_nonzero` shuffles is below the mean of its `layer` shuffles; holds when that is so for a majority of networks in every condition, does not hold when in none, mixed otherwise. Cohen's d = (mean_layer − mean_nonzero) / pooled sd (ddof 1), positive in the claim's direction, needs the shuffle samples (read at the main k only).",
      evaluate(k, metric) {
        const pruned = prunedConditions(index, k);
        const conds = pruned
          .map((c) => ({ ...c, both: c.pruned.filter((r) => r.shuffles.layer && r.shuffles.layer_nonzero) }))
          .filter((c) => c.both.length > 0);
        const props: number[] = [];
        const paperProps: number[] = [];
        const rows = conds.map((c) => {
          const below = c.both.map((r) => (r.shuffles.layer_nonzero!.mean < r.shuffles.layer!.mean ? 1 : 0));
          const ds = c.both.map(networkCohenD).filter((d): d is number => d !== null && Number.isFinite(d));
          const paper = paperNetworks(k, c, 'pruned');
          const paperProp = paper ? mean(paper.rows.map((r) => (r[6] < r[3] ? 1 : 0))) : undefined;
          const paperD = paper ? mean(paper.rows.map((r) => r[8])) : undefined;
          props.push(mean(below));
          if (paperProp !== undefined) paperProps.push(paperProp);
          metric(c.key, 'prop_nonzero_below', mean(below), { runs: below, paper: paperProp });
          metric(c.key, 'mean_cohen_d', meanOrNull(ds), { runs: ds, paper: paperD });
          return [
            c.label,
            fraction(below),
            fmt(mean(below), 2),
            paperProp === undefined ? NONE : fmt(paperProp, 1),
            ds.length ? fmtSigned(mean(ds)) : NONE,
            paperD === undefined ? NONE : fmtSigned(paperD),
          ];
        });
        return {
          verdict: majorityVerdict(
            props,
            'with the `layer_nonzero` mean below',
            pruned.length ? `no pruned networks with both shuffle methods at k = ${k}` : noPruned(k),
          ),
          paperVerdict: paperProps.length && paperProps.length === conds.length ? majorityVerdict(paperProps, 'with the `layer_nonzero` mean below', '') : null,
          columns: ['Condition', 'Non-zero mean below', 'Prop.', 'paper', "Mean Cohen's d", 'paper'],
          rows,
          notes: ["The paper's proportions and mean d come from Tables A.6–A.15 (pruned, k = 4)."],
        };
      },
    },
    {
      id: 'd-pruning',
      letter: 'd',
      title: 'Pruning lowers the n-cut',
      source: 'Figure 2',
      rule: 'per condition, networks paired by run: the proportion whose pruned n-cut is below their unpruned n-cut; holds when that is a majority in every condition, does not hold when in none, mixed otherwise.',
      evaluate(k, metric) {
        const props: number[] = [];
        const paperProps: number[] = [];
        const pruned = prunedConditions(index, k);
        const rows = pruned.flatMap((c) => {
          const unpruned = index.get(c.dataset, c.dropout, 'unpruned', k);
          const before = new Map(unpruned.filter((r) => r.ncut !== null).map((r) => [r.run, r.ncut!]));
          const lower = c.pruned.filter((r) => r.ncut !== null && before.has(r.run)).map((r) => (r.ncut! < before.get(r.run)! ? 1 : 0));
          if (!lower.length) return [];
          const paperBefore = paperNetworks(k, c, 'unpruned');
          const paperAfter = paperNetworks(k, c, 'pruned');
          const paperProp = paperBefore && paperAfter ? pairedLower(paperBefore.rows, paperAfter.rows) : undefined;
          const paperUnpruned = paperMeanNcut(k, c.dataset, c.dropout, 'unpruned');
          const paperPruned = paperTableRow(k, c)?.ncut?.[0];
          const unprunedNcuts = ncutsOf(unpruned);
          const prunedNcuts = ncutsOf(c.pruned);
          props.push(mean(lower));
          if (paperProp !== undefined) paperProps.push(paperProp);
          metric(c.key, 'unpruned_ncut', meanOrNull(unprunedNcuts), { runs: unprunedNcuts, paper: paperUnpruned });
          metric(c.key, 'pruned_ncut', meanOrNull(prunedNcuts), { runs: prunedNcuts, paper: paperPruned });
          metric(c.key, 'prop_pruned_lower', mean(lower), { runs: lower, paper: paperProp });
          return [
            [
              c.label,
              fmt(meanOrNull(unprunedNcuts)),
              fmt(paperUnpruned),
              fmt(meanOrNull(prunedNcuts)),
              fmt(paperPruned),
              fraction(lower),
              fmt(mean(lower), 2),
              fmt(paperProp, 1),
            ],
          ];
        });
        return {
          verdict: majorityVerdict(props, 'lower after pruning', pruned.length ? `no network clustered both unpruned and pruned at k = ${k}` : noPruned(k)),
          paperVerdict: paperProps.length && paperProps.length === props.length ? majorityVerdict(paperProps, 'lower after pruning', '') : null,
          columns: ['Condition', 'Unpruned n-cut', 'paper', 'Pruned n-cut', 'paper', 'Pruned lower', 'Prop.', 'paper'],
          rows,
          notes: [
            "The paper's unpruned means and pairs come from Tables A.4–A.15 (k = 4; run i before and after pruning); its pruned means from Table 1 / A.1–A.3.",
          ],
        };
      },
    },
    {
      id: 'e-init',
      letter: 'e',
      title: 'Trained pruned networks are more clusterable than randomly initialised ones',
      source: 'Section 3, Figure 3',
      rule: 'per condition, the proportion of pruned networks whose n-cut is below the lowest n-cut of the random-init networks (phase `init`); holds when that is a majority in every condition, does not hold when in none, mixed otherwise.',
      evaluate(k, metric) {
        const init = index.networks.filter((r) => r.phase === 'init' && r.k === k && r.ncut !== null).map((r) => r.ncut!);
        const paperInit = k === 4 ? PAPER_INIT_NCUT_SUPPORT : undefined;
        const conds = prunedConditions(index, k);
        if (!init.length) {
          return {
            verdict: { kind: 'not testable', reason: `no clustered random-init networks at k = ${k}` },
            paperVerdict: null,
            columns: [],
            rows: [],
            notes: [],
          };
        }
        const initMin = Math.min(...init);
        const initMax = Math.max(...init);
        metric('e-init', 'init_networks', init.length, { paper: paperInit?.networks });
        metric('e-init', 'init_ncut_min', initMin, { paper: paperInit?.min });
        metric('e-init', 'init_ncut_max', initMax, { paper: paperInit?.max });
        const props: number[] = [];
        const paperProps: number[] = [];
        const rows = conds.flatMap((c) => {
          const ncuts = ncutsOf(c.pruned);
          if (!ncuts.length) return [];
          const below = ncuts.map((x) => (x < initMin ? 1 : 0));
          const paper = paperNetworks(k, c, 'pruned');
          const paperProp = paper && paperInit ? mean(paper.rows.map((r) => (r[1] < paperInit.min ? 1 : 0))) : undefined;
          props.push(mean(below));
          if (paperProp !== undefined) paperProps.push(paperProp);
          metric(c.key, 'prop_below_init_min', mean(below), { runs: below, paper: paperProp });
          return [[c.label, fmt(Math.min(...ncuts)), fmt(Math.max(...ncuts)), fraction(below), fmt(mean(below), 2), fmt(paperProp, 1)]];
        });
        return {
          verdict: majorityVerdict(props, 'below the init minimum', noPruned(k)),
          paperVerdict: paperProps.length && paperProps.length === props.length ? majorityVerdict(paperProps, 'below the init minimum', '') : null,
          columns: ['Condition', 'Pruned n-cut min', 'Pruned n-cut max', 'Below init min', 'Prop.', 'paper'],
          rows,
          notes: [
            `Random-init networks: ${init.length}, n-cuts ${fmt(initMin)} – ${fmt(initMax)}${paperInit ? ` (paper: ${paperInit.networks} networks, ${fmt(paperInit.min, 2)} – ${fmt(paperInit.max, 2)}; its proportions use 2.30 against Tables A.6–A.15)` : ''}.`,
          ],
        };
      },
    },
  ];
  return list;
}

/** Proportion of the paper's networks whose pruned n-cut is below the unpruned n-cut of the same run. */
function pairedLower(before: readonly PaperNetworkRow[], after: readonly PaperNetworkRow[]): number | undefined {
  const ncutBefore = new Map(before.map((r) => [r[0], r[1]]));
  const lower = after.filter((r) => ncutBefore.has(r[0])).map((r) => (r[1] < ncutBefore.get(r[0])! ? 1 : 0));
  return lower.length ? mean(lower) : undefined;
}

/** Mean n-cut of the paper's per-network table (k = 4 only). */
function paperMeanNcut(k: number, dataset: string, dropout: boolean, phase: 'unpruned' | 'pruned'): number | undefined {
  const t = paperNetworks(k, { dataset, dropout }, phase);
  return t ? mean(t.rows.map((r) => r[1])) : undefined;
}

// ---------------------------------------------------------------- the section

/**
 * The "Comparison with the paper" section of README.md (Markdown, starting with its `##`
 * heading), with every number entered into `metrics` under `comparison`. Deterministic: the
 * same records give the same text and metrics.
 */
export function comparisonSection(index: NetworkIndex, o: ReportOptions, metrics: MetricsCollector): string {
  const rows = rowsTable(index, metrics);
  const omitted = rows.paperRows - rows.shown;
  metrics.add('comparison', 'rows', 'shown', rows.shown);
  metrics.add('comparison', 'rows', 'omitted', omitted);
  const otherKs = index.ks.filter((k) => k !== o.main_k);
  const all = claims(index, o);
  const summary: string[][] = [];
  const details: string[] = [];
  for (const claim of all) {
    const results = new Map<number, ClaimAtK>();
    for (const k of [o.main_k, ...otherKs]) {
      const r = claim.evaluate(k, (row, name, value, extra) => metrics.add('comparison', row, `${claim.letter}_${name}_k${k}`, value, extra));
      metrics.add('comparison', claim.id, `verdict_k${k}`, verdictCode(r.verdict), { paper: r.paperVerdict ? verdictCode(r.paperVerdict) : null });
      metrics.add('comparison', claim.id, `conditions_k${k}`, r.verdict.kind === 'not testable' ? 0 : r.verdict.tested);
      metrics.add('comparison', claim.id, `conditions_holding_k${k}`, r.verdict.kind === 'not testable' ? 0 : r.verdict.holding);
      results.set(k, r);
    }
    const main = results.get(o.main_k)!;
    const verdictLine = (v: Verdict) => `${verdictText(v)}${v.kind === 'not testable' ? '' : ` (${v.detail})`}`;
    const others = otherKs.map((k) => `k = ${k}: ${verdictLine(results.get(k)!.verdict)}`);
    summary.push([
      `${claim.letter}. ${claim.title}`,
      claim.source,
      `**${verdictText(main.verdict)}**`,
      main.paperVerdict ? verdictText(main.paperVerdict) : NONE,
      otherKs.length ? otherKs.map((k) => `k = ${k}: ${verdictText(results.get(k)!.verdict)}`).join('; ') : NONE,
    ]);
    details.push(
      `### ${claim.letter}. ${claim.title} (${claim.source})`,
      '',
      `Verdict at k = ${o.main_k}: **${verdictLine(main.verdict)}**.${main.paperVerdict ? ` The paper's numbers under the same rule: ${verdictLine(main.paperVerdict)}.` : ''}`,
      '',
      `Rule: ${claim.rule}`,
      '',
      ...(main.rows.length ? [markdownTable(main.columns, main.rows), ''] : []),
      ...(main.rows.length ? main.notes.flatMap((n) => [n, '']) : []),
      ...(others.length ? [`Other k: ${others.join('; ')}.`] : []),
      '',
    );
  }
  const lines = [
    '## Comparison with the paper',
    '',
    `Computed by the report from the same records as the tables (science/report/comparison.ts); every number is also in metrics.json under \`comparison/…\`. Claims are judged on the conditions of Table 1 (${TABLE1_DATASETS.map(datasetLabel).join(', ')}; with and without dropout) that have runs, at k = ${o.main_k} (\`report.main_k\`).`,
    '',
    '### Table 1 and Tables A.1–A.3, row by row',
    '',
    rows.markdown,
    '',
    `${omitted} of ${rows.paperRows} paper rows (Tables 1, A.1–A.3 and their \`layer_nonzero\` twins) have no pruned networks clustered here and are omitted; the tables list them as missing.`,
    '',
    "### The paper's qualitative claims",
    '',
    markdownTable(['Claim', 'Paper', `Verdict (k = ${o.main_k})`, "Paper's numbers, same rule", 'Other k'], summary),
    '',
    ...details,
  ];
  while (lines.at(-1) === '') lines.pop();
  return lines.join('\n');
}
