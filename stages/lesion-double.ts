/**
 * Stage `lesion-double`: the random controls of the double lesion experiments (paper §4.2).
 * Trial i computes, with the sample seed of trial i, for every pair X ≤ Y the joint control
 * (random X and Y, disjoint in one layer) and for every ordered pair X ≠ Y the conditional
 * control "X | Y" (Y lesioned for real, random X from X's layer without Y's neurons).
 * Trials are the samples of this stage, so raising `lesion.double_trials` computes only the
 * new ones. Output `trials` (trial, kind, x, y, accuracy; science/lesion/tables.ts).
 */
import { doubleTrialsToTable, runDoubleTrials } from '../science/lesion/index.ts';
import { lesionTrialsStage } from './lesion-trials.ts';

export const lesionDoubleStage = lesionTrialsStage({
  module: import.meta.url,
  name: 'lesion-double',
  description: 'Random controls of the joint and conditional double lesion experiments: one trial per sample',
  count: (p) => p.lesion.double_trials,
  // One trial per shard: a trial takes tens of seconds, so shards spread over the cores and a crash loses little.
  shardSize: 1,
  runTrials: runDoubleTrials,
  toTable: doubleTrialsToTable,
});
