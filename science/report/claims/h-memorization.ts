/**
 * Claim h (paper §3.2, Table 4: networks trained without dropout "did memorize the dataset and
 * were all statistically significantly clusterable"; with dropout they "did not memorize the
 * dataset, and seem to have n-cuts in line with the random distribution"): memorising networks
 * are significantly clusterable and dropout ones are not. Inputs: the pruned memorization
 * networks with their `layer` shuffles. Verdict: both halves, one, or neither.
 */
import { mean } from '../../stats.ts';
import { fmt, NONE } from '../format.ts';
import { conditionStats, meanOrNull } from '../tables.ts';
import { type Claim, fraction } from './claim.ts';
import { perConditionVerdict, randomConditions } from './random-data.ts';

/** What each half of the claim expects of its condition's proportion significant. */
const expected = (dropout: boolean, prop: number) => (dropout ? prop <= 0.5 : prop > 0.5);

export const hMemorization: Claim = {
  id: 'h-memorization',
  letter: 'h',
  title: 'Memorising networks (no dropout) are significantly clusterable; dropout ones are not',
  source: 'Section 3.2, Table 4',
  rule: () =>
    'the proportion of pruned memorization networks whose n-cut is below all of their `layer` shuffles: more than one half without dropout, at most one half with dropout; holds when both, does not hold when neither, mixed otherwise. The train accuracy shows whether they memorised.',
  datasets: (o) => [o.datasets.memorization],
  evaluate(index, k, o, metric) {
    const conds = randomConditions(index, k, o, ['memorization'])
      .map((c) => ({ ...c, st: conditionStats(c.pruned, 'layer') }))
      .filter((c) => c.st.significant.length > 0);
    const rows = conds.map((c) => {
      const prop = mean(c.st.significant);
      metric(c.key, 'prop_sig', prop, { runs: c.st.significant, paper: c.paper?.propSig });
      metric(c.key, 'train_acc', meanOrNull(c.st.trainAccs), { runs: c.st.trainAccs, paper: c.paper?.trainAcc });
      return [
        c.label,
        c.dropout ? 'at most half' : 'more than half',
        fraction(c.st.significant),
        fmt(prop, 2),
        c.paper ? fmt(c.paper.propSig, 1) : NONE,
        fmt(meanOrNull(c.st.trainAccs)),
        c.paper ? fmt(c.paper.trainAcc) : NONE,
      ];
    });
    const paperRows = conds.filter((c) => c.paper);
    return {
      verdict: perConditionVerdict(
        conds.map((c) => expected(c.dropout, mean(c.st.significant))),
        'as expected',
        `no \`layer\` shuffles of pruned memorization networks at k = ${k}`,
      ),
      paperVerdict:
        conds.length && paperRows.length === conds.length
          ? perConditionVerdict(
              paperRows.map((c) => expected(c.dropout, c.paper!.propSig)),
              'as expected',
              '',
            )
          : null,
      columns: ['Condition', 'Expected significant', 'Significant', 'Prop.', 'paper', 'Train acc.', 'paper'],
      rows,
      notes: [],
    };
  },
};
