/**
 * Claim b (paper §3.1 "How does dropout affect clusterability?", Table 1, Figure 2): dropout
 * lowers the n-cut. Inputs: per dataset, the n-cuts of networks trained with and without dropout
 * (pruned; unpruned shown with the same rule). Verdict: lower with dropout at p < report.alpha
 * (Welch's t-test) in every dataset, higher in every dataset, or mixed.
 */
import { mean } from '../../stats.ts';
import { fmt, fmtSigned, NONE } from '../format.ts';
import { datasetLabel } from '../paper.ts';
import { welchTTest } from '../stats.ts';
import { type Claim, fmtP, ncutsOf, paperMeanNcut, paperTableRow, TABLE1_DATASETS, verdictCode, verdictText, type Verdict } from './claim.ts';

export const bDropout: Claim = {
  id: 'b-dropout',
  letter: 'b',
  title: 'Dropout lowers the n-cut',
  source: 'Section 3.1, Table 1, Figure 2',
  rule: (o) =>
    `per dataset with pruned networks both with and without dropout, the difference of mean n-cuts (with − without) and Welch's t-test; holds when the n-cut is lower with dropout and p < ${o.alpha} (\`report.alpha\`) in every such dataset, does not hold when it is higher with dropout in every such dataset, mixed otherwise. Unpruned networks are shown with the same rule.`,
  evaluate(index, k, o, metric) {
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
};
