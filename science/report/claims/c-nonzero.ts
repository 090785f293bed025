/**
 * Claim c (paper §3.3 "Does clusterability come from topology alone?", Figure 4, Tables
 * A.6–A.15): `layer_nonzero` shuffles are more clusterable than `layer` shuffles. Inputs: the
 * pruned networks with both shuffle methods (Cohen's d needs the samples, read at the main k).
 * Verdict: a majority of networks per condition with the `layer_nonzero` mean below.
 */
import { mean } from '../../stats.ts';
import { fmt, fmtSigned, NONE } from '../format.ts';
import { meanOrNull, networkCohenD } from '../tables.ts';
import { type Claim, fraction, majorityVerdict, noPruned, paperNetworks, prunedConditions } from './claim.ts';

export const cNonzero: Claim = {
  id: 'c-nonzero',
  letter: 'c',
  title: '`layer_nonzero` shuffles are more clusterable than `layer` shuffles',
  source: 'Section 3.3, Figure 4, Tables A.6–A.15',
  rule: () =>
    "per pruned network, whether the mean n-cut of its `layer_nonzero` shuffles is below the mean of its `layer` shuffles; holds when that is so for a majority of networks in every condition, does not hold when in none, mixed otherwise. Cohen's d = (mean_layer − mean_nonzero) / pooled sd (ddof 1), positive in the claim's direction, needs the shuffle samples (read at the main k only).",
  evaluate(index, k, _o, metric) {
    const pruned = prunedConditions(index, k);
    const conds = pruned.map((c) => ({ ...c, both: c.pruned.filter((r) => r.shuffles.layer && r.shuffles.layer_nonzero) })).filter((c) => c.both.length > 0);
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
};
