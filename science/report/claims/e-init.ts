/**
 * Claim e (paper §3 and §3.2 "Does clusterability come from training alone?", Figure 3): trained
 * pruned networks are more clusterable than randomly initialised ones. Inputs: the n-cuts of the
 * random-init networks (phase `init`) and of the pruned networks per condition. Verdict: a
 * majority per condition below the lowest init n-cut.
 */
import { mean } from '../../stats.ts';
import { fmt } from '../format.ts';
import { PAPER_INIT_NCUT_SUPPORT } from '../paper.ts';
import { type Claim, fraction, majorityVerdict, ncutsOf, noPruned, paperNetworks, prunedConditions } from './claim.ts';

export const eInit: Claim = {
  id: 'e-init',
  letter: 'e',
  title: 'Trained pruned networks are more clusterable than randomly initialised ones',
  source: 'Section 3, Figure 3',
  rule: () =>
    'per condition, the proportion of pruned networks whose n-cut is below the lowest n-cut of the random-init networks (phase `init`); holds when that is a majority in every condition, does not hold when in none, mixed otherwise.',
  evaluate(index, k, _o, metric) {
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
};
