/**
 * Claim a (paper §3, Table 1; Tables A.1–A.3 for k = 2, 7, 10): pruned networks are more
 * clusterable than their `layer` shuffles. Inputs: the pruned networks of Table 1's conditions
 * with their `layer` shuffle summaries. Verdict: a majority of significant networks per condition.
 */
import { mean } from '../../stats.ts';
import { fmt, NONE } from '../format.ts';
import { conditionStats, meanOrNull } from '../tables.ts';
import { type Claim, majorityVerdict, noPruned, paperTableRow, prunedConditions, fraction } from './claim.ts';

export const aShuffles: Claim = {
  id: 'a-shuffles',
  letter: 'a',
  title: 'Pruned networks are more clusterable than their `layer` shuffles',
  source: 'Table 1, Tables A.1–A.3',
  rule: () =>
    'per condition, the proportion of pruned networks whose n-cut is below all of their `layer` shuffles (p = 1/(N+1)); holds when that is a majority in every condition, does not hold when in none, mixed otherwise.',
  evaluate(index, k, _o, metric) {
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
};
