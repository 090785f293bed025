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
  analyseLesions,
  dependencyEdgeRows,
  dependencyEdgesTable,
  dependencyPairRows,
  dependencyPairsTable,
  doubleConditionalTable,
  doubleJointTable,
  singleLesionTable,
  singlePerClassTable,
  trialsFromTable,
  trueLesions,
  trueLesionsFromTable,
} from '../science/lesion/index.ts';
import { lesionMatrix, loadSubmodules, onlyInput } from './lesion-inputs.ts';
import type { Params } from './params/index.ts';

interface AnalysisParams {
  small_size: number;
  diff_threshold: number;
}

export const lesionStage = defineStage({
  module: import.meta.url,
  name: 'lesion',
  description: 'Lesion statistics, importance taxonomy and sub-module dependency graph',
  deps: ['lesion-modules', 'lesion-single', 'lesion-double'],
  matrix: lesionMatrix,
  params: (p: Params): AnalysisParams => ({ small_size: p.lesion.small_size, diff_threshold: p.lesion.diff_threshold }),
  outputs: ['single', 'single_per_class', 'double_joint', 'double_conditional', 'dependency_pairs', 'dependency_edges'],
  async run(ctx) {
    const set = await loadSubmodules(ctx.inputs);
    const t = trueLesionsFromTable(await onlyInput(ctx.inputs, 'lesion-modules').outputs.true_lesions.table(), 'lesion-modules true_lesions');
    const truth = trueLesions(set.submodules.length, t.rows, t.accuracy, t.classAccuracy, t.nClasses);
    const singleTrials = trialsFromTable(await onlyInput(ctx.inputs, 'lesion-single').outputs.trials.table(), 'lesion-single trials');
    const doubleTrials = trialsFromTable(await onlyInput(ctx.inputs, 'lesion-double').outputs.trials.table(), 'lesion-double trials');
    const r = analyseLesions(set, truth, singleTrials, doubleTrials, { smallSize: ctx.params.small_size, diffThreshold: ctx.params.diff_threshold });
    const meta = (trials: number) => ({ intact_accuracy: String(truth.intact), trials: String(trials) });
    return {
      outputs: {
        single: singleLesionTable.toTable(r.single, meta(r.singleTrials)),
        single_per_class: singlePerClassTable.toTable(r.singlePerClass, meta(r.singleTrials)),
        double_joint: doubleJointTable.toTable(r.joint, meta(r.doubleTrials)),
        double_conditional: doubleConditionalTable.toTable(r.conditional, meta(r.doubleTrials)),
        dependency_pairs: dependencyPairsTable.toTable(dependencyPairRows(r.dependency), meta(r.doubleTrials)),
        dependency_edges: dependencyEdgesTable.toTable(dependencyEdgeRows(r.dependency), meta(r.doubleTrials)),
      },
      metrics: {
        intact_accuracy: truth.intact,
        n_submodules: set.submodules.length,
        n_important: r.single.filter((x) => x.category === 'important').length,
        n_dependency_edges: r.dependency.filter((p) => p.kind !== null).length,
        single_trials: r.singleTrials,
        double_trials: r.doubleTrials,
      },
    };
  },
});
