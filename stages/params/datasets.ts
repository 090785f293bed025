/** params.yaml section `datasets:` (defaults live in params.yaml). */
import { z } from 'zod';
import { DATASET_NAMES } from '../../science/datasets/registry.ts';

export const datasetsParams = z
  .object({
    names: z
      .array(z.enum(DATASET_NAMES as [string, ...string[]]))
      .min(1)
      .refine((names) => new Set(names).size === names.length, { message: 'dataset names must not repeat' })
      .describe(
        'Datasets to build, one `datasets` instance each (the `dataset` axis). Only these are built, so a run that needs only MNIST never touches CIFAR-10. ' +
          `Known: ${DATASET_NAMES.join(', ')}.`,
      ),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 53 - 1)
      .describe(
        "Seed of the generated datasets (line, random, memorization) and of the mixtures' shuffles (the original used 42). Downloaded datasets ignore it.",
      ),
  })
  .strict()
  .describe('The datasets stage: which datasets to build and the seed of the generated ones.');

export type DatasetsParams = z.infer<typeof datasetsParams>;
