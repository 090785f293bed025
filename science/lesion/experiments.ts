/**
 * The lesion experiments of paper §4 as plans for the evaluator and statistics on the results.
 *
 * - True lesions (once per network): the intact network, every sub-module alone, every pair.
 * - Single-lesion trial: every sub-module's random control alone.
 * - Double-lesion trial: joint — for every pair X ≤ Y (with self-pairs, original
 *   `combinations_with_replacement`), both random controls; conditional "X | Y" — for every
 *   ordered pair X ≠ Y, Y lesioned for real and X's random control (from X's layer, excluding
 *   Y's neurons when they share a layer).
 * Statistics per row: the true accuracy against the trials' accuracies (stats.ts), the
 * taxonomy (taxonomy.ts), and for conditional rows the paper's δ(X, Y) = ℓ(X∪Y) − ℓ(Y).
 */
import type { LesionPlan } from './lesion.ts';
import { conditionalControls, randomControls, type Submodule, type SubmoduleSet } from './submodules.ts';
import { controlStats } from './stats.ts';
import { classify, type Category } from './taxonomy.ts';

/** Which lesion a plan (and a result row) stands for: x, y are sub-module indices, −1 for none. */
export interface PlanRow {
  kind: 'intact' | 'single' | 'pair' | 'joint' | 'conditional';
  x: number;
  y: number;
}

export interface Plans {
  plans: LesionPlan[];
  rows: PlanRow[];
}

const group = (s: Submodule, neurons: Int32Array = s.neurons) => ({ level: s.layer, neurons });

/** True lesions: intact (x = y = −1), each sub-module (y = −1), each pair x < y lesioned together. */
export function truePlans(set: SubmoduleSet): Plans {
  const subs = set.submodules;
  const plans: LesionPlan[] = [[]];
  const rows: PlanRow[] = [{ kind: 'intact', x: -1, y: -1 }];
  for (const s of subs) {
    plans.push([group(s)]);
    rows.push({ kind: 'single', x: s.index, y: -1 });
  }
  for (let x = 0; x < subs.length; x++)
    for (let y = x + 1; y < subs.length; y++) {
      plans.push([group(subs[x]), group(subs[y])]);
      rows.push({ kind: 'pair', x, y });
    }
  return { plans, rows };
}

/** One single-lesion trial: each sub-module's random control (rows: kind 'single', x). */
export function singleTrialPlans(set: SubmoduleSet, seed: number): Plans {
  const controls = randomControls(set, seed);
  return {
    plans: set.submodules.map((s) => [group(s, controls[s.index])]),
    rows: set.submodules.map((s) => ({ kind: 'single', x: s.index, y: -1 })),
  };
}

/** One double-lesion trial: joint rows (x ≤ y) then conditional rows "x | y" (x ≠ y). */
export function doubleTrialPlans(set: SubmoduleSet, seed: number): Plans {
  const subs = set.submodules;
  const controls = randomControls(set, seed);
  const plans: LesionPlan[] = [];
  const rows: PlanRow[] = [];
  for (let x = 0; x < subs.length; x++)
    for (let y = x; y < subs.length; y++) {
      plans.push(x === y ? [group(subs[x], controls[x])] : [group(subs[x], controls[x]), group(subs[y], controls[y])]);
      rows.push({ kind: 'joint', x, y });
    }
  for (const given of subs) {
    const sameLayer = conditionalControls(set, given, seed);
    for (const s of subs) {
      if (s.index === given.index) continue;
      const control = s.layer === given.layer ? sameLayer.get(s.index)! : controls[s.index];
      plans.push([group(s, control), group(given)]);
      rows.push({ kind: 'conditional', x: s.index, y: given.index });
    }
  }
  return { plans, rows };
}

/** Accuracies of the true lesions, as computed from truePlans. */
export interface TrueLesions {
  intact: number;
  intactByClass: Float64Array;
  /** Per sub-module. */
  single: Float64Array;
  /** submodules × classes. */
  singleByClass: Float64Array;
  nClasses: number;
  /** Accuracy with sub-modules x and y lesioned together (symmetric; x = y gives the single lesion). */
  pair(x: number, y: number): number;
}

export function trueLesions(n: number, rows: readonly PlanRow[], accuracy: ArrayLike<number>, classAccuracy: ArrayLike<number>, nClasses: number): TrueLesions {
  const single = new Float64Array(n).fill(NaN);
  const singleByClass = new Float64Array(n * nClasses).fill(NaN);
  const pairs = new Float64Array(n * n).fill(NaN);
  let intact = NaN;
  let intactByClass = new Float64Array(nClasses).fill(NaN);
  rows.forEach((r, i) => {
    const byClass = Float64Array.from({ length: nClasses }, (_, c) => classAccuracy[i * nClasses + c]);
    if (r.kind === 'intact') {
      intact = accuracy[i];
      intactByClass = byClass;
    } else if (r.kind === 'single') {
      single[r.x] = accuracy[i];
      singleByClass.set(byClass, r.x * nClasses);
    } else if (r.kind === 'pair') {
      pairs[r.x * n + r.y] = accuracy[i];
      pairs[r.y * n + r.x] = accuracy[i];
    }
  });
  for (let x = 0; x < n; x++) pairs[x * n + x] = single[x];
  const missing = Number.isNaN(intact) || single.some(Number.isNaN) || pairs.some(Number.isNaN);
  if (missing) throw new Error(`true lesions: the results do not cover the intact network, ${n} sub-modules and all their pairs`);
  return { intact, intactByClass, single, singleByClass, nClasses, pair: (x, y) => pairs[x * n + y] };
}

export interface AnalysisOptions {
  diffThreshold: number;
  smallSize: number;
}

interface StatsColumns {
  trueAcc: number;
  diff: number;
  mean: number;
  sd: number;
  z: number;
  p: number;
  category: Category;
}

export interface SingleRow extends StatsColumns {
  submodule: number;
  layer: number;
  cluster: number;
  size: number;
  proportion: number;
}

export interface SinglePerClassRow {
  layer: number;
  cluster: number;
  class: number;
  trueAcc: number;
  diff: number;
}

export interface PairRow extends StatsColumns {
  x: number;
  y: number;
  layerX: number;
  clusterX: number;
  layerY: number;
  clusterY: number;
  important: boolean;
  /** Conditional rows only: δ(X, Y) = ℓ(X∪Y) − ℓ(Y) = −diff (accuracy lost by also lesioning X). */
  delta?: number;
}

/** A conditional double lesion "X | Y" (always has delta). */
export interface ConditionalRow extends PairRow {
  delta: number;
}

/** Random controls grouped per result row: controls[i] are the trials' accuracies for row i. */
export type Controls = readonly ArrayLike<number>[];

function trialCount(controls: Controls, what: string): number {
  const n = controls.length === 0 ? 0 : controls[0].length;
  if (n === 0) throw new Error(`${what}: no random trials`);
  if (controls.some((c) => c.length !== n)) throw new Error(`${what}: rows have different numbers of random trials`);
  return n;
}

/** Single lesions: one row per sub-module (controls indexed by sub-module). */
export function analyseSingle(
  set: SubmoduleSet,
  truth: TrueLesions,
  controls: Controls,
  o: AnalysisOptions,
): { rows: SingleRow[]; perClass: SinglePerClassRow[] } {
  const trials = trialCount(controls, 'single lesions');
  const rows = set.submodules.map((s): SingleRow => {
    const trueAcc = truth.single[s.index];
    const st = controlStats(trueAcc, controls[s.index]);
    const diff = trueAcc - truth.intact;
    const size = s.neurons.length;
    const proportion = size / s.liveInLayer;
    const category = classify({ p: st.p, diff, size, proportion }, { trials, diffThreshold: o.diffThreshold, smallSize: o.smallSize, withSize: true });
    return { submodule: s.index, layer: s.layer, cluster: s.cluster, size, proportion, trueAcc, diff, mean: st.mean, sd: st.sd, z: st.z, p: st.p, category };
  });
  const perClass: SinglePerClassRow[] = [];
  for (const s of set.submodules)
    for (let c = 0; c < truth.nClasses; c++) {
      const acc = truth.singleByClass[s.index * truth.nClasses + c];
      perClass.push({ layer: s.layer, cluster: s.cluster, class: c, trueAcc: acc, diff: acc - truth.intactByClass[c] });
    }
  return { rows, perClass };
}

/** Joint double lesions: rows for x ≤ y in the order of `pairs`; diff = ℓ(X∪Y) as lesioned − intact accuracy. */
export function analyseJoint(
  set: SubmoduleSet,
  truth: TrueLesions,
  pairs: readonly { x: number; y: number }[],
  controls: Controls,
  o: AnalysisOptions,
): PairRow[] {
  const trials = trialCount(controls, 'joint double lesions');
  return pairs.map(({ x, y }, i) => {
    const trueAcc = truth.pair(x, y);
    const st = controlStats(trueAcc, controls[i]);
    const diff = trueAcc - truth.intact;
    const category = classify({ p: st.p, diff }, { trials, diffThreshold: o.diffThreshold, smallSize: o.smallSize, withSize: false });
    return pairRow(set, x, y, { trueAcc, diff, mean: st.mean, sd: st.sd, z: st.z, p: st.p, category });
  });
}

/**
 * Conditional double lesions "X | Y": true accuracy ℓ(X∪Y) against controls X'∪Y; diff =
 * acc(X∪Y) − acc(Y) (the original's s_{i|j} = diff_ij − diff_j), delta = −diff = δ(X, Y) of
 * the paper. X is important conditioned on Y when p < 1/n and diff ≤ diffThreshold (δ ≥ 1 pp).
 */
export function analyseConditional(
  set: SubmoduleSet,
  truth: TrueLesions,
  pairs: readonly { x: number; y: number }[],
  controls: Controls,
  o: AnalysisOptions,
): ConditionalRow[] {
  const trials = trialCount(controls, 'conditional double lesions');
  return pairs.map(({ x, y }, i) => {
    if (x === y) throw new Error(`conditional double lesions: row ${i} conditions sub-module ${x} on itself`);
    const trueAcc = truth.pair(x, y);
    const st = controlStats(trueAcc, controls[i]);
    const diff = trueAcc - truth.single[y];
    const category = classify({ p: st.p, diff }, { trials, diffThreshold: o.diffThreshold, smallSize: o.smallSize, withSize: false });
    return { ...pairRow(set, x, y, { trueAcc, diff, mean: st.mean, sd: st.sd, z: st.z, p: st.p, category }), delta: -diff };
  });
}

function pairRow(set: SubmoduleSet, x: number, y: number, st: StatsColumns): PairRow {
  const sx = set.submodules[x];
  const sy = set.submodules[y];
  return { x, y, layerX: sx.layer, clusterX: sx.cluster, layerY: sy.layer, clusterY: sy.cluster, ...st, important: st.category === 'important' };
}

/**
 * What an edge of the dependency graph means (paper §4.2, X in an earlier layer than Y):
 * - 'from-unimportant-given-to': X is unimportant conditioned on Y — all of X's information
 *   goes to Y;
 * - 'to-unimportant-given-from': Y is unimportant conditioned on X — all of Y's information
 *   comes from X;
 * - 'both': both hold.
 */
export type EdgeKind = 'from-unimportant-given-to' | 'to-unimportant-given-from' | 'both';

/** A pair of individually important sub-modules in different layers (paper Table A.19). */
export interface DependencyPair {
  from: number;
  to: number;
  fromLayer: number;
  fromCluster: number;
  toLayer: number;
  toCluster: number;
  /** X | Y and Y | X: important conditioned on the other. */
  fromGivenTo: boolean;
  toGivenFrom: boolean;
  /** δ(X, Y) = ℓ(X∪Y) − ℓ(Y) and δ(Y, X) = ℓ(X∪Y) − ℓ(X). */
  deltaFromTo: number;
  deltaToFrom: number;
  /** The edge X → Y of Fig. 6b, or null when each is important conditioned on the other. */
  kind: EdgeKind | null;
}

/**
 * The dependency graph (paper §4.2, Fig. 6b; original `build_tw_cond_imp_merged_df` and
 * `draw_tw_cond_dependency_graph`): for every pair X, Y of individually important sub-modules
 * in different layers (X earlier), an edge X → Y when one of them is unimportant conditioned
 * on the other.
 */
export function dependencyPairs(single: readonly SingleRow[], conditional: readonly PairRow[]): DependencyPair[] {
  const important = single.filter((r) => r.category === 'important').sort((a, b) => a.layer - b.layer || a.cluster - b.cluster);
  const cond = new Map(conditional.map((r) => [`${r.x},${r.y}`, r]));
  const out: DependencyPair[] = [];
  for (const X of important)
    for (const Y of important) {
      if (Y.layer <= X.layer) continue;
      const xy = cond.get(`${X.submodule},${Y.submodule}`);
      const yx = cond.get(`${Y.submodule},${X.submodule}`);
      if (!xy || !yx) throw new Error(`dependency graph: conditional results miss the pair (${X.layer}-${X.cluster}, ${Y.layer}-${Y.cluster})`);
      const kind: EdgeKind | null =
        !xy.important && !yx.important ? 'both' : !xy.important ? 'from-unimportant-given-to' : !yx.important ? 'to-unimportant-given-from' : null;
      out.push({
        from: X.submodule,
        to: Y.submodule,
        fromLayer: X.layer,
        fromCluster: X.cluster,
        toLayer: Y.layer,
        toCluster: Y.cluster,
        fromGivenTo: xy.important,
        toGivenFrom: yx.important,
        deltaFromTo: xy.delta!,
        deltaToFrom: yx.delta!,
        kind,
      });
    }
  return out;
}
