/**
 * The schema of params.yaml: one section per area, each defined in its own file here.
 * The engine validates params.yaml (and -S overrides) against it before anything runs.
 */
import { z } from 'zod';
import { datasetsParams } from './datasets.ts';
import { initParams, pruneParams, trainParams } from './train.ts';
import { lesionParams } from './lesion.ts';
import { reportParams } from './report.ts';
import { clusterParams, shuffleParams } from './cluster.ts';
import { externalParams } from './external.ts';
import { learningCurveParams } from './learning-curve.ts';

export const paramsSchema = z
  .object({
    // each area adds its section here, e.g. `datasets: datasetsParams,`
    datasets: datasetsParams,
    train: trainParams,
    prune: pruneParams,
    init: initParams,
    cluster: clusterParams,
    shuffle: shuffleParams,
    learning_curve: learningCurveParams,
    lesion: lesionParams,
    report: reportParams,
    external: externalParams,
  })
  .strict();

export type Params = z.infer<typeof paramsSchema>;
