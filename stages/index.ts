/** Every stage of the pipeline, in a readable order (the engine derives the real order from deps). */
import type { StageDef } from '../engine/types.ts';
import { datasetsStage } from './datasets.ts';
import { trainStage } from './train.ts';
import { pruneStage } from './prune.ts';
import { exportStage } from './export.ts';
import { externalModelStage } from './external-model.ts';
import { clusterStage } from './cluster.ts';
import { shuffleSampleStage } from './shuffle-sample.ts';
import { learningCurveStage } from './learning-curve.ts';
import { lesionModulesStage } from './lesion-modules.ts';
import { lesionSingleStage } from './lesion-single.ts';
import { lesionDoubleStage } from './lesion-double.ts';
import { lesionStage } from './lesion.ts';
import { reportStageFor } from './report.ts';
import { withWork } from './work.ts';

const defined: StageDef[] = [
  // each area adds its stages here
  datasetsStage,
  trainStage,
  pruneStage,
  exportStage,
  externalModelStage,
  clusterStage,
  shuffleSampleStage,
  learningCurveStage,
  lesionModulesStage,
  lesionSingleStage,
  lesionDoubleStage,
  lesionStage,
];

// The report reads every stage above that exists (export, cluster, shuffle-sample, lesion): keep it last.
defined.push(reportStageFor(defined));

/** With each stage's unit of work (for the time estimate; see stages/work.ts). */
export const stages: StageDef[] = withWork(defined);
