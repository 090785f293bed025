/**
 * All the statistics of one network's lesion experiments at once: the true lesions and the
 * random trials in, the rows of the result tables out (the `lesion` stage's work).
 */
import {
  analyseConditional,
  analyseJoint,
  analyseSingle,
  dependencyPairs,
  type AnalysisOptions,
  type ConditionalRow,
  type DependencyPair,
  type PairRow,
  type SinglePerClassRow,
  type SingleRow,
  type TrueLesions,
} from './experiments.ts';
import type { SubmoduleSet } from './submodules.ts';
import { groupTrials, type TrialRows } from './tables.ts';

export interface LesionAnalysis {
  single: SingleRow[];
  singlePerClass: SinglePerClassRow[];
  /** Pairs x ≤ y. */
  joint: PairRow[];
  /** "x | y" for every y, then every x ≠ y. */
  conditional: ConditionalRow[];
  dependency: DependencyPair[];
  singleTrials: number;
  doubleTrials: number;
}

export function analyseLesions(set: SubmoduleSet, truth: TrueLesions, singleTrials: TrialRows, doubleTrials: TrialRows, o: AnalysisOptions): LesionAnalysis {
  const n = set.submodules.length;
  const single = groupTrials(singleTrials, 'single-lesion trials');
  const double = groupTrials(doubleTrials, 'double-lesion trials');
  const control = (groups: Map<string, Float64Array>, key: string): Float64Array => {
    const g = groups.get(key);
    if (!g)
      throw new Error(`lesion analysis: the random trials have no rows for ${key} (were the sub-modules and the trials computed from the same clustering?)`);
    return g;
  };
  const { rows, perClass } = analyseSingle(
    set,
    truth,
    set.submodules.map((s) => control(single.groups, `single:${s.index}:-1`)),
    o,
  );
  const jointPairs: { x: number; y: number }[] = [];
  const condPairs: { x: number; y: number }[] = [];
  for (let x = 0; x < n; x++) for (let y = x; y < n; y++) jointPairs.push({ x, y });
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) if (x !== y) condPairs.push({ x, y });
  const joint = analyseJoint(
    set,
    truth,
    jointPairs,
    jointPairs.map((p) => control(double.groups, `joint:${p.x}:${p.y}`)),
    o,
  );
  const conditional = analyseConditional(
    set,
    truth,
    condPairs,
    condPairs.map((p) => control(double.groups, `conditional:${p.x}:${p.y}`)),
    o,
  );
  return {
    single: rows,
    singlePerClass: perClass,
    joint,
    conditional,
    dependency: dependencyPairs(rows, conditional),
    singleTrials: single.n,
    doubleTrials: double.n,
  };
}
