/**
 * Claim d (paper §3, Figure 2): pruning lowers the n-cut. Inputs: per condition, networks paired
 * by run before and after pruning. Verdict: a majority per condition lower after pruning.
 */
import { mean } from '../../stats.ts';
import { fmt } from '../format.ts';
import { meanOrNull } from '../tables.ts';
import {
  type Claim,
  fraction,
  majorityVerdict,
  ncutsOf,
  noPruned,
  pairedLower,
  paperMeanNcut,
  paperNetworks,
  paperTableRow,
  prunedConditions,
} from './claim.ts';

export const dPruning: Claim = {
  id: 'd-pruning',
  letter: 'd',
  title: 'Pruning lowers the n-cut',
  source: 'Figure 2',
  rule: () =>
    'per condition, networks paired by run: the proportion whose pruned n-cut is below their unpruned n-cut; holds when that is a majority in every condition, does not hold when in none, mixed otherwise.',
  evaluate(index, k, _o, metric) {
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
};
