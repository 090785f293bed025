/**
 * params.yaml section `learning_curve:` — which networks keep their weights every N epochs of
 * training and pruning, and the clustering of those snapshots (the original code's
 * `mlp-learning-curve` notebook: one network per condition, the n-cut at k = 4 after every 5th
 * epoch; reference §11.3).
 */
import { z } from 'zod';

const every = z.number().int().min(0);

export const learningCurveOverride = z
  .object({
    dataset: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).describe('Condition name(s) this override applies to (values of train.datasets).'),
    dropout: z.boolean().optional().describe('Apply only with (true) or without (false) dropout; omitted = both.'),
    every: every.optional().describe('Training epochs between snapshots for the matching conditions.'),
    prune_every: every.optional().describe('Pruning epochs between snapshots for the matching conditions.'),
  })
  .strict();

export const learningCurveParams = z
  .object({
    runs: z
      .array(z.number().int().min(0))
      .describe(
        'Runs of every condition that keep snapshots (the original notebook: one network each, so [0]); [] = no learning curves. Other runs emit nothing extra.',
      ),
    every: every.describe('Training epochs between weight snapshots (the original: 5); 0 = none in training.'),
    prune_every: every.describe('Pruning epochs between weight snapshots (the original: 5); 0 = none in pruning.'),
    k: z.number().int().min(2).describe('Clusters of every snapshot (the original: 4).'),
    overrides: z
      .array(learningCurveOverride)
      .describe('Per-condition periods (e.g. coarser for the 1,000-epoch runs), applied in order, later entries winning.'),
  })
  .strict()
  .describe('Learning curves (stage `learning-curve`): weights every N epochs of training and pruning for the runs listed, each clustered at k.');

export type LearningCurveParams = z.infer<typeof learningCurveParams>;
export type LearningCurveOverride = z.infer<typeof learningCurveOverride>;
