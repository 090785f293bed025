/**
 * Random-control trials (the samples of the lesion-single and lesion-double stages): trial i
 * draws its controls from its own seed only, so any range of trials can be computed anywhere
 * and the results of a trial never depend on which other trials ran with it.
 */
import { evaluateLesions, type EvaluateOptions, type PreparedNetwork, type TestSet } from './evaluate.ts';
import { doubleTrialPlans, singleTrialPlans } from './experiments.ts';
import type { SubmoduleSet } from './submodules.ts';
import { emptyTrialRows, pushTrial, type TrialRows } from './tables.ts';

export interface Trial {
  index: number;
  seed: number;
}

/** Single-lesion trials, evaluated together (one pass over the test set shares the intact activations). */
export function runSingleTrials(net: PreparedNetwork, test: TestSet, set: SubmoduleSet, trials: readonly Trial[], opts: EvaluateOptions = {}): TrialRows {
  const perTrial = trials.map((t) => singleTrialPlans(set, t.seed));
  const acc = evaluateLesions(
    net,
    test,
    perTrial.flatMap((p) => p.plans),
    opts,
  ).accuracy;
  const out = emptyTrialRows();
  let offset = 0;
  trials.forEach((t, k) => {
    pushTrial(out, t.index, perTrial[k].rows, acc, offset);
    offset += perTrial[k].rows.length;
  });
  return out;
}

/** Double-lesion trials (joint and conditional), one evaluation per trial (each has hundreds of lesions). */
export function runDoubleTrials(net: PreparedNetwork, test: TestSet, set: SubmoduleSet, trials: readonly Trial[], opts: EvaluateOptions = {}): TrialRows {
  const out = emptyTrialRows();
  trials.forEach((t, k) => {
    const { plans, rows } = doubleTrialPlans(set, t.seed);
    const progress = opts.onProgress;
    const acc = evaluateLesions(net, test, plans, { ...opts, onProgress: progress && ((f) => progress((k + f) / trials.length)) }).accuracy;
    pushTrial(out, t.index, rows, acc);
  });
  return out;
}
