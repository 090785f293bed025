/**
 * Stage `lesion`: statistics, importance taxonomy and dependency graph of the lesion
 * experiments (paper §4, Tables A.18–A.19, Figs. 5–6) from the true lesions (lesion-modules)
 * and the random controls (lesion-single, lesion-double). Cheap, so the thresholds can change
 * without recomputing a single trial.
 * Outputs (schemas: science/lesion/tables.ts): single, single_per_class, double_joint,
 * double_conditional, dependency_pairs, dependency_edges.
 */
import { defineStage } from '../engine/types.ts';
import {
  analyseConditional,
  analyseJoint,
  analyseSingle,
  dependencyEdgesToTable,
  dependencyPairs,
  dependencyPairsToTable,
  groupTrials,
  pairsToTable,
  singlePerClassToTable,
  singleToTable,
  trialsFromTable,
  trueLesions,
  trueLesionsFromTable,
} from '../science/lesion/index.ts';
import { lesionMatrix, loadSubmodules, onlyInput } from './lesion-inputs.ts';

interface AnalysisParams {
  small_size: number;
  diff_threshold: number;
}

export const lesionStage = defineStage<AnalysisParams>({
  module: import.meta.url,
  name: 'lesion',
  description: 'Lesion statistics, importance taxonomy and sub-module dependency graph',
  deps: ['lesion-modules', 'lesion-single', 'lesion-double'],
  params: ['lesion.small_size', 'lesion.diff_threshold'],
  matrix: lesionMatrix,
  resolve: (subset) => ({ small_size: subset.lesion.small_size, diff_threshold: subset.lesion.diff_threshold }),
  outputs: ['single', 'single_per_class', 'double_joint', 'double_conditional', 'dependency_pairs', 'dependency_edges'],
  async run(ctx) {
    const set = await loadSubmodules(ctx.inputs);
    const n = set.submodules.length;
    const t = trueLesionsFromTable(await onlyInput(ctx.inputs, 'lesion-modules').outputs.true_lesions.table(), 'lesion-modules true_lesions');
    const truth = trueLesions(n, t.rows, t.accuracy, t.classAccuracy, t.nClasses);
    const opts = { smallSize: ctx.params.small_size, diffThreshold: ctx.params.diff_threshold };

    const single = groupTrials(trialsFromTable(await onlyInput(ctx.inputs, 'lesion-single').outputs.trials.table(), 'lesion-single trials'), 'lesion-single trials');
    const { rows, perClass } = analyseSingle(set, truth, set.submodules.map((s) => control(single.groups, `single:${s.index}:-1`)), opts);

    const double = groupTrials(trialsFromTable(await onlyInput(ctx.inputs, 'lesion-double').outputs.trials.table(), 'lesion-double trials'), 'lesion-double trials');
    const jointPairs: { x: number; y: number }[] = [];
    const condPairs: { x: number; y: number }[] = [];
    for (let x = 0; x < n; x++) for (let y = x; y < n; y++) jointPairs.push({ x, y });
    for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) if (x !== y) condPairs.push({ x, y });
    const joint = analyseJoint(set, truth, jointPairs, jointPairs.map((p) => control(double.groups, `joint:${p.x}:${p.y}`)), opts);
    const conditional = analyseConditional(set, truth, condPairs, condPairs.map((p) => control(double.groups, `conditional:${p.x}:${p.y}`)), opts);
    const pairs = dependencyPairs(rows, conditional);

    const meta = (trials: number) => ({ intact_accuracy: String(truth.intact), trials: String(trials) });
    return {
      outputs: {
        single: singleToTable(rows, meta(single.n)),
        single_per_class: singlePerClassToTable(perClass, meta(single.n)),
        double_joint: pairsToTable(joint, meta(double.n), false),
        double_conditional: pairsToTable(conditional, meta(double.n), true),
        dependency_pairs: dependencyPairsToTable(pairs, meta(double.n)),
        dependency_edges: dependencyEdgesToTable(pairs, meta(double.n)),
      },
      metrics: {
        intact_accuracy: truth.intact,
        n_submodules: n,
        n_important: rows.filter((r) => r.category === 'important').length,
        n_dependency_edges: pairs.filter((p) => p.kind !== null).length,
        single_trials: single.n,
        double_trials: double.n,
      },
    };
  },
});

function control(groups: Map<string, Float64Array>, key: string): Float64Array {
  const g = groups.get(key);
  if (!g) throw new Error(`lesion: the random trials have no rows for ${key} (were lesion-modules and the trial stages computed from the same clustering?)`);
  return g;
}
