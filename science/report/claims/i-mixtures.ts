/**
 * Claim i (paper Appendix A.5, Tables A.16–A.17: "networks trained on mixtures between LINES and
 * another dataset have n-cuts intermediate between those trained on LINES and those trained on
 * the other dataset", with one CIFAR-10 exception): LINES mixtures lie between their components.
 * Inputs: the mean pruned n-cut of each mixture and of its two component datasets. Verdict per
 * (mixture, dropout): the mixture's mean within [min, max] of its components' means.
 */
import { fmt, NONE } from '../format.ts';
import { PAPER_MIXTURES } from '../paper.ts';
import { conditionKey, conditionLabel, meanOrNull } from '../tables.ts';
import { type Claim, ncutsOf } from './claim.ts';
import { perConditionVerdict } from './random-data.ts';

/** Mixture dataset → its two components (science/datasets/mix.ts). */
const MIXTURES: Readonly<Record<string, readonly [string, string]>> = {
  'line-mnist': ['line', 'mnist'],
  'line-mnist-separated': ['line', 'mnist'],
  'line-cifar10': ['line', 'cifar10'],
  'line-cifar10-separated': ['line', 'cifar10'],
  'mnist-cifar10': ['mnist', 'cifar10'],
  'mnist-cifar10-separated': ['mnist', 'cifar10'],
};

const between = (x: number, a: number, b: number) => x >= Math.min(a, b) && x <= Math.max(a, b);

export const iMixtures: Claim = {
  id: 'i-mixtures',
  letter: 'i',
  title: 'Networks trained on a mixture lie between those trained on its two components',
  source: 'Appendix A.5, Tables A.16–A.17',
  rule: () =>
    "per mixture and dropout setting with runs of the mixture and of both components, whether the mixture's mean pruned n-cut lies within the range of its two components' mean pruned n-cuts; holds when it does for every mixture, does not hold when for none, mixed otherwise (the paper notes one exception, LINES-CIFAR-10-SEP without dropout).",
  datasets: (_o) => Object.keys(MIXTURES),
  evaluate(index, k, _o, metric) {
    const holds: boolean[] = [];
    const paperHolds: boolean[] = [];
    const meanNcut = (dataset: string, dropout: boolean) => meanOrNull(ncutsOf(index.get(dataset, dropout, 'pruned', k)));
    const rows = Object.entries(MIXTURES).flatMap(([mixture, [a, b]]) =>
      [false, true].flatMap((dropout) => {
        const [m, ma, mb] = [meanNcut(mixture, dropout), meanNcut(a, dropout), meanNcut(b, dropout)];
        if (m === null || ma === null || mb === null) return [];
        const ok = between(m, ma, mb);
        holds.push(ok);
        const paper = k === 4 ? PAPER_MIXTURES[dropout ? 'with' : 'without'].rows : undefined;
        const p = (d: string) => paper?.find((r) => r.dataset === d)?.ncut?.[0];
        const [pm, pa, pb] = [p(mixture), p(a), p(b)];
        const paperOk = pm !== undefined && pa !== undefined && pb !== undefined ? between(pm, pa, pb) : undefined;
        if (paperOk !== undefined) paperHolds.push(paperOk);
        metric(conditionKey(mixture, dropout), 'between_components', ok ? 1 : 0, { paper: paperOk === undefined ? null : paperOk ? 1 : 0 });
        return [
          [
            conditionLabel(mixture, dropout),
            fmt(m),
            `${fmt(ma)} / ${fmt(mb)}`,
            ok ? 'yes' : 'no',
            paperOk === undefined ? NONE : `${fmt(pm)} in ${fmt(pa)} / ${fmt(pb)}: ${paperOk ? 'yes' : 'no'}`,
          ],
        ];
      }),
    );
    return {
      verdict: perConditionVerdict(holds, 'between its components', `no mixture with runs of it and both components at k = ${k}`),
      paperVerdict: holds.length && paperHolds.length === holds.length ? perConditionVerdict(paperHolds, 'between its components', '') : null,
      columns: ['Mixture', 'Mean n-cut', 'Components (first / second)', 'Between', 'paper'],
      rows,
      notes: [],
    };
  },
};
