/**
 * Claim g (paper §3.2, Tables 2–3: "We see an increase in clusterability after pruning, but the
 * eventual clusterability is no more than that of a random network with the same distribution of
 * weights"): pruned networks trained on random data are no more clusterable than their `layer`
 * shuffles. Inputs: the pruned random-data networks and their shuffle summaries. Verdict per
 * condition: at most half of its networks significant (n-cut below every shuffle).
 */
import { mean } from '../../stats.ts';
import { fmt, NONE } from '../format.ts';
import { conditionStats } from '../tables.ts';
import { type Claim, fraction } from './claim.ts';
import { perConditionVerdict, randomConditions } from './random-data.ts';

export const gRandomPruned: Claim = {
  id: 'g-random-pruned',
  letter: 'g',
  title: 'Pruned networks trained on random data are no more clusterable than their shuffles',
  source: 'Section 3.2, Tables 2–3',
  rule: () =>
    'per random-data condition (Tables 2 and 3, with and without dropout), the proportion of pruned networks whose n-cut is below all of their `layer` shuffles; the claim holds for a condition when that is at most one half; holds when it holds in every condition, does not hold when in none, mixed otherwise (the paper calls its kilo-epoch result "somewhat ambiguous": 0.1 and 0.3 significant).',
  datasets: (o) => [o.datasets.random, o.datasets.kilo_epoch],
  evaluate(index, k, o, metric) {
    const conds = randomConditions(index, k, o, ['random', 'kilo_epoch'])
      .map((c) => ({ ...c, st: conditionStats(c.pruned, 'layer') }))
      .filter((c) => c.st.significant.length > 0);
    const holds = conds.map((c) => mean(c.st.significant) <= 0.5);
    const rows = conds.map((c) => {
      const prop = mean(c.st.significant);
      metric(c.key, 'prop_sig', prop, { runs: c.st.significant, paper: c.paper?.propSig });
      return [
        c.label,
        fraction(c.st.significant),
        fmt(prop, 2),
        c.paper ? fmt(c.paper.propSig, 1) : NONE,
        fmt(c.st.dist?.mean),
        c.paper ? fmt(c.paper.dist[0]) : NONE,
      ];
    });
    const paperProps = conds.map((c) => c.paper?.propSig).filter((p): p is number => p !== undefined);
    return {
      verdict: perConditionVerdict(holds, 'at most half significant', `no \`layer\` shuffles of pruned random-data networks at k = ${k}`),
      paperVerdict:
        conds.length && paperProps.length === conds.length
          ? perConditionVerdict(
              paperProps.map((p) => p <= 0.5),
              'at most half significant',
              '',
            )
          : null,
      columns: ['Condition', 'Significant', 'Prop.', 'paper', 'Shuffle mean', 'paper'],
      rows,
      notes: [],
    };
  },
};
