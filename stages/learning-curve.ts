/**
 * Stage `learning-curve`: the n-cut after every N-th epoch of training and pruning, for the runs
 * in `learning_curve.runs` (axes {dataset, dropout, run}). Reads the `snapshots` and `history`
 * outputs of `train` and `prune`; clusters each snapshot at `learning_curve.k` with the
 * clustering seed and restarts of `cluster`.
 *
 * Output `curve` (science/cluster/learning-curve.ts). Metrics: points, first and last n-cut of
 * each phase.
 */
import { defineStage } from '../engine/types.ts';
import { curveTable, learningCurve, type CurvePhase } from '../science/cluster/learning-curve.ts';
import { historyTable } from '../science/mlp/history.ts';
import { snapshotsFromTable } from '../science/mlp/snapshots.ts';
import { learningCurveConditions } from './conditions.ts';
import type { Params } from './params/index.ts';

export interface LearningCurveStageParams {
  k: number;
  seed: number;
  nInit: number;
}

export const learningCurveStage = defineStage({
  module: import.meta.url,
  name: 'learning-curve',
  description: 'n-cut of the weight snapshots of training and pruning (learning curves)',
  deps: ['train', 'prune'],
  matrix: learningCurveConditions,
  // The clustering seed and restarts of `cluster`, at the curve's own k.
  params: (p: Params): LearningCurveStageParams => ({ k: p.learning_curve.k, seed: p.cluster.seed, nInit: p.cluster.n_init }),
  inputs: (axes) => {
    const where = { dataset: axes.dataset, dropout: axes.dropout, run: axes.run };
    return [
      { stage: 'train', where, outputs: ['snapshots', 'history'] },
      { stage: 'prune', where, outputs: ['snapshots', 'history'] },
    ];
  },
  outputs: ['curve'],
  async run(ctx) {
    const { k, seed, nInit } = ctx.params;
    const phaseOf = async (stage: 'train' | 'prune', phase: CurvePhase['phase']): Promise<CurvePhase> => {
      const outputs = ctx.inputs[stage][0].outputs;
      return {
        phase,
        snapshots: snapshotsFromTable(await outputs.snapshots.table(), `${stage} snapshots`),
        history: historyTable.fromTable(await outputs.history.table(), `${stage} history`),
      };
    };
    const points = learningCurve(await phaseOf('train', 'unpruned'), await phaseOf('prune', 'pruned'), k, seed, { nInit }, (done, total) =>
      ctx.progress({ fraction: done / total, message: `snapshot ${done}/${total}` }),
    );
    const ncuts = (phase: string) => points.filter((p) => p.phase === phase).map((p) => p.ncut);
    const [train, prune] = [ncuts('unpruned'), ncuts('pruned')];
    return {
      outputs: { curve: curveTable.toTable(points) },
      metrics: {
        points: points.length,
        k,
        train_first_ncut: train[0] ?? null,
        train_last_ncut: train.at(-1) ?? null,
        prune_first_ncut: prune[0] ?? null,
        prune_last_ncut: prune.at(-1) ?? null,
      },
    };
  },
});
