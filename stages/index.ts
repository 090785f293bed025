/** Every stage of the pipeline, in a readable order (the engine derives the real order from deps). */
import type { StageDef } from '../engine/types.ts';
import { datasetsStage } from './datasets.ts';
import { trainStage } from './train.ts';
import { pruneStage } from './prune.ts';
import { exportStage } from './export.ts';

export const stages: StageDef[] = [
  // each area adds its stages here
  datasetsStage,
  trainStage,
  pruneStage,
  exportStage,
];
