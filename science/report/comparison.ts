/**
 * README.md's "Comparison with the paper": our rows of Table 1 / A.1–A.3 (and their
 * `layer_nonzero` twins) beside the paper's, and a verdict on each of the paper's qualitative
 * claims, all computed from the records with a stated rule (one file per claim in claims/). The
 * text is factual only (numbers, rules, verdicts); the discussion of differences is written by
 * hand elsewhere.
 *
 * Every number shown also enters metrics.json under the table id `comparison`:
 *  - rows table: `comparison/<condition>/<table id>_<metric>` (the derived differences; our
 *    means and proportions themselves are already under `table-1/…` etc.);
 *  - claims: `comparison/<condition or dataset>/<claim letter>_<metric>_k<k>` for the evidence,
 *    `comparison/<claim id>/verdict_k<k>` (1 holds, 0.5 mixed, 0 does not hold, null not
 *    testable; `paper` = the same rule on the paper's numbers) and `…/conditions_k<k>`,
 *    `…/conditions_holding_k<k>` (conditions judged, and meeting the claim's criterion).
 */
import { aShuffles } from './claims/a-shuffles.ts';
import { bDropout } from './claims/b-dropout.ts';
import { cNonzero } from './claims/c-nonzero.ts';
import { type Claim, type ClaimAtK, paperTableRow, TABLE1_DATASETS, type Verdict, verdictCode, verdictText } from './claims/claim.ts';
import { dPruning } from './claims/d-pruning.ts';
import { eInit } from './claims/e-init.ts';
import { fRandomUnpruned } from './claims/f-random-unpruned.ts';
import { gRandomPruned } from './claims/g-random-pruned.ts';
import { hMemorization } from './claims/h-memorization.ts';
import { iMixtures } from './claims/i-mixtures.ts';
import { fmt, fmtMeanSd, fmtSigned, markdownTable, NONE } from './format.ts';
import type { MetricsCollector } from './metrics.ts';
import type { ReportOptions } from './options.ts';
import { datasetLabel, PAPER_CLUSTERABILITY, PAPER_CLUSTERABILITY_NONZERO, PAPER_MIXTURES, PAPER_RANDOM_EXPERIMENTS, type PaperConditionRow } from './paper.ts';
import type { ShuffleMethod } from './records.ts';
import { clusterabilityId, clusterabilityName, conditionKey, conditionLabel, conditionStats, meanOrNull, type NetworkIndex, sdOrNull } from './tables.ts';

/** The paper's clusterability tables in the order it prints them (Table 1, A.1, A.2, A.3). */
const PAPER_KS = [4, 7, 10, 2] as const;

/** The paper's qualitative claims, in the order the section lists them (one file each in claims/). */
const CLAIMS: readonly Claim[] = [aShuffles, bDropout, cNonzero, dPruning, eInit, fRandomUnpruned, gRandomPruned, hMemorization, iMixtures];

// ---------------------------------------------------------------- rows of Table 1 and A.1–A.3

interface RowsResult {
  readonly markdown: string;
  readonly shown: number;
  readonly paperRows: number;
}

/** One paper table's rows to compare: its name, metrics id, k, shuffle method, and rows with their sd source. */
interface PaperRowsSource {
  readonly name: string;
  readonly id: string;
  readonly k: number;
  readonly method: ShuffleMethod;
  readonly rows: readonly PaperConditionRow[];
  /** The sd of a row's n-cut when the row has none (the `layer_nonzero` twins: the `layer` row's). */
  readonly sdOf?: (p: PaperConditionRow) => number | undefined;
}

/** Tables 1, A.1–A.3 and their twins; then Tables 2–4 (datasets named by `report.datasets`) and the LINES rows of A.16–A.17, all at k = 4. */
function paperRowSources(o: ReportOptions): PaperRowsSource[] {
  const clusterability = (['layer', 'layer_nonzero'] as const).flatMap((method) =>
    PAPER_KS.flatMap((k) => {
      const paper = (method === 'layer' ? PAPER_CLUSTERABILITY : PAPER_CLUSTERABILITY_NONZERO)[k];
      if (!paper) return [];
      const name = `${clusterabilityName(k)}${method === 'layer_nonzero' ? ' (`layer_nonzero`)' : ''}`;
      return [{ name, id: clusterabilityId(k, method), k, method, rows: paper.rows, sdOf: (p: PaperConditionRow) => paperTableRow(k, p)?.ncut?.[1] }];
    }),
  );
  const random = (Object.keys(PAPER_RANDOM_EXPERIMENTS) as (keyof typeof PAPER_RANDOM_EXPERIMENTS)[]).map((experiment) => {
    const t = PAPER_RANDOM_EXPERIMENTS[experiment];
    return {
      name: t.source,
      id: `table-${t.source.slice(-1)}`,
      k: 4,
      method: 'layer' as const,
      rows: t.rows.map((r) => ({ ...r, dataset: o.datasets[experiment] })),
    };
  });
  const mixtures = (['without', 'with'] as const).map((w) => {
    const t = PAPER_MIXTURES[w];
    const lines = t.rows.filter((r) => !TABLE1_DATASETS.includes(r.dataset));
    return { name: t.source, id: `table-A${t.source.slice(-2)}`, k: 4, method: 'layer' as const, rows: lines };
  });
  return [...clusterability, ...random, ...mixtures];
}

/** Our pruned networks of a paper row beside it; null when there are none. */
function comparisonRow(index: NetworkIndex, src: PaperRowsSource, p: PaperConditionRow, metrics: MetricsCollector): string[] | null {
  const st = conditionStats(index.get(p.dataset, p.dropout, 'pruned', src.k), src.method);
  if (st.runs === 0) return null;
  const key = conditionKey(p.dataset, p.dropout);
  const ncut = meanOrNull(st.ncuts)!;
  const paperNcut = p.ncut?.[0] ?? p.ncutMean;
  const paperSd = p.ncut?.[1] ?? src.sdOf?.(p);
  const diffSd = paperNcut !== undefined && paperSd ? (ncut - paperNcut) / paperSd : null;
  const propSig = meanOrNull(st.significant);
  const propDiff = propSig !== null && p.propSig !== undefined ? propSig - p.propSig : null;
  const paperDist = p.dist?.[0] ?? p.distMean;
  const distDiff = st.dist && paperDist !== undefined ? st.dist.mean - paperDist : null;
  metrics.add('comparison', key, `${src.id}_ncut_diff_sd`, diffSd);
  metrics.add('comparison', key, `${src.id}_prop_sig_diff`, propDiff);
  metrics.add('comparison', key, `${src.id}_shuffle_mean_diff`, distDiff);
  return [
    src.name,
    conditionLabel(p.dataset, p.dropout),
    String(st.runs),
    fmtMeanSd(ncut, sdOrNull(st.ncuts)),
    fmtMeanSd(paperNcut, paperSd),
    fmtSigned(diffSd, 1),
    propSig === null ? NONE : fmt(propSig, 2),
    p.propSig === undefined ? NONE : fmt(p.propSig, 1),
    fmt(st.dist?.mean),
    fmt(paperDist),
  ];
}

function rowsTable(index: NetworkIndex, o: ReportOptions, metrics: MetricsCollector): RowsResult {
  const rows: string[][] = [];
  let paperRows = 0;
  for (const src of paperRowSources(o)) {
    for (const p of src.rows) {
      paperRows++;
      const row = comparisonRow(index, src, p, metrics);
      if (row) rows.push(row);
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

// ---------------------------------------------------------------- the section

/**
 * The "Comparison with the paper" section of README.md (Markdown, starting with its `##`
 * heading), with every number entered into `metrics` under `comparison`. Deterministic: the
 * same records give the same text and metrics.
 */
export function comparisonSection(index: NetworkIndex, o: ReportOptions, metrics: MetricsCollector): string {
  const rows = rowsTable(index, o, metrics);
  const omitted = rows.paperRows - rows.shown;
  metrics.add('comparison', 'rows', 'shown', rows.shown);
  metrics.add('comparison', 'rows', 'omitted', omitted);
  const otherKs = index.ks.filter((k) => k !== o.main_k);
  const summary: string[][] = [];
  const details: string[] = [];
  const hasNetworks = (datasets: readonly string[]) => index.networks.some((r) => datasets.includes(r.dataset));
  const listed = CLAIMS.filter((c) => !c.datasets || hasNetworks(c.datasets(o)));
  const unlisted = CLAIMS.filter((c) => !listed.includes(c));
  for (const claim of listed) {
    const results = new Map<number, ClaimAtK>();
    for (const k of [o.main_k, ...otherKs]) {
      const r = claim.evaluate(index, k, o, (row, name, value, extra) => metrics.add('comparison', row, `${claim.letter}_${name}_k${k}`, value, extra));
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
      `Rule: ${claim.rule(o)}`,
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
    `Computed by the report from the same records as the tables (science/report/comparison.ts); every number is also in metrics.json under \`comparison/…\`. Claims a–e are judged on the conditions of Table 1 (${TABLE1_DATASETS.map(datasetLabel).join(', ')}; with and without dropout) that have runs, claims f–i on those of Tables 2–4 and A.16–A.17, at k = ${o.main_k} (\`report.main_k\`).`,
    '',
    '### Tables 1–4, A.1–A.3 and A.16–A.17, row by row',
    '',
    rows.markdown,
    '',
    `${omitted} of ${rows.paperRows} paper rows (Tables 1–4, A.1–A.3 with their \`layer_nonzero\` twins, and the LINES rows of A.16–A.17) have no pruned networks clustered here and are omitted; the tables list them as missing.`,
    '',
    "### The paper's qualitative claims",
    '',
    markdownTable(['Claim', 'Paper', `Verdict (k = ${o.main_k})`, "Paper's numbers, same rule", 'Other k'], summary),
    '',
    ...(unlisted.length
      ? [`Not listed, since no networks of their datasets are in this run: ${unlisted.map((c) => `${c.letter}. ${c.title} (${c.source})`).join('; ')}.`, '']
      : []),
    ...details,
  ];
  while (lines.at(-1) === '') lines.pop();
  return lines.join('\n');
}
