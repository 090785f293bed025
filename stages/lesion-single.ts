/**
 * Stage `lesion-single`: the random controls of the single lesion experiment (paper §4.1).
 * Trial i lesions, for every sub-module, a random set of its size from the live neurons of
 * its layer (seed: the sample seed of trial i); trials are the samples of this stage, so
 * raising `lesion.single_trials` computes only the new ones.
 * Output `trials` (trial, submodule, accuracy; science/lesion/tables.ts), the first
 * `single_trials` trials after combining.
 */
import { runSingleTrials, singleTrialsToTable } from '../science/lesion/index.ts';
import { lesionTrialsStage } from './lesion-trials.ts';

export const lesionSingleStage = lesionTrialsStage({
  module: import.meta.url,
  name: 'lesion-single',
  description: 'Random controls of the single lesion experiment: one trial per sample',
  count: (p) => p.lesion.single_trials,
  shardSize: 10,
  runTrials: runSingleTrials,
  toTable: singleTrialsToTable,
});
