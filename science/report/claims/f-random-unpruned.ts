/**
 * Claim f (paper §3.2, Tables 2–3: "the unlearnable random dataset experiment shows no increase
 * in clusterability before pruning relative to the initial distribution shown in figure 3"; the
 * kilo-epoch runs the same after 1000 epochs): unpruned networks trained on random data are no
 * more clusterable than random initialisation. Inputs: the unpruned n-cuts of the random and
 * kilo-epoch conditions and the n-cuts of the random-init networks. Verdict per condition: at
 * most half of its unpruned networks below the lowest init n-cut.
 */
import { mean } from '../../stats.ts';
import { fmt, fmtMeanSd, NONE } from '../format.ts';
import { PAPER_INIT_NCUT_SUPPORT } from '../paper.ts';
import { meanOrNull, sdOrNull } from '../tables.ts';
import { type Claim, fraction, ncutsOf } from './claim.ts';
import { perConditionVerdict, randomConditions } from './random-data.ts';

export const fRandomUnpruned: Claim = {
  id: 'f-random-unpruned',
  letter: 'f',
  title: 'Unpruned networks trained on random data are no more clusterable than random initialisation',
  source: 'Section 3.2, Tables 2–3',
  rule: () =>
    "per random-data condition (Tables 2 and 3, with and without dropout), the proportion of unpruned networks whose n-cut is below the lowest n-cut of the random-init networks (phase `init`); the claim holds for a condition when that is at most one half; holds when it holds in every condition, does not hold when in none, mixed otherwise. The paper's numbers under the same rule: its mean unpruned n-cut against the lower end of its init support (2.30).",
  datasets: (o) => [o.datasets.random, o.datasets.kilo_epoch],
  evaluate(index, k, o, metric) {
    const init = ncutsOf(index.networks.filter((r) => r.phase === 'init' && r.k === k));
    const conds = randomConditions(index, k, o, ['random', 'kilo_epoch']).filter((c) => ncutsOf(c.unpruned).length > 0);
    if (!init.length || !conds.length) {
      const reason = !init.length ? `no clustered random-init networks at k = ${k}` : `no unpruned random-data networks clustered at k = ${k}`;
      return { verdict: { kind: 'not testable', reason }, paperVerdict: null, columns: [], rows: [], notes: [] };
    }
    const initMin = Math.min(...init);
    const holds: boolean[] = [];
    const paperHolds: boolean[] = [];
    const rows = conds.map((c) => {
      const ncuts = ncutsOf(c.unpruned);
      const below = ncuts.map((x) => (x < initMin ? 1 : 0));
      holds.push(mean(below) <= 0.5);
      const paper = c.paper?.unprunedNcut;
      if (paper) paperHolds.push(paper[0] >= PAPER_INIT_NCUT_SUPPORT.min);
      metric(c.key, 'prop_unpruned_below_init_min', mean(below), { runs: below });
      metric(c.key, 'unpruned_ncut_mean', meanOrNull(ncuts), { runs: ncuts, paper: paper?.[0] });
      return [c.label, fmtMeanSd(meanOrNull(ncuts), sdOrNull(ncuts)), paper ? fmtMeanSd(paper[0], paper[1]) : NONE, fraction(below), fmt(mean(below), 2)];
    });
    return {
      verdict: perConditionVerdict(holds, 'at most half below the init minimum', ''),
      paperVerdict: paperHolds.length === conds.length ? perConditionVerdict(paperHolds, 'mean unpruned n-cut at or above the init support', '') : null,
      columns: ['Condition', 'Unpruned n-cut', 'paper', 'Below init min', 'Prop.'],
      rows,
      notes: [
        `Random-init networks: ${init.length}, lowest n-cut ${fmt(initMin)} (paper: support ${fmt(PAPER_INIT_NCUT_SUPPORT.min, 2)} – ${fmt(PAPER_INIT_NCUT_SUPPORT.max, 2)}).`,
      ],
    };
  },
};
