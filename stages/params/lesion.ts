/** params.yaml section `lesion:` (defaults live in params.yaml). */
import { z } from 'zod';

export const lesionNetwork = z
  .object({
    dataset: z.string().min(1).describe('Condition name (a value of train.datasets).'),
    dropout: z.boolean().describe('Whether the network was trained with dropout.'),
    run: z.number().int().min(0).describe("Which of the condition's trained networks (0-based)."),
  })
  .strict();

export const lesionParams = z
  .object({
    networks: z
      .array(lesionNetwork)
      .describe(
        'Pruned networks to lesion, one instance of each lesion stage per entry (the paper: one Fashion-MNIST network trained with dropout); [] switches the lesion experiments off.',
      ),
    k: z.number().int().min(2).describe("Clusters per network; a sub-module is one cluster within one hidden layer (the paper's lesion figures use 10)."),
    single_trials: z
      .number()
      .int()
      .min(1)
      .describe('Random controls per sub-module in the single lesion experiment (paper: 100). Raising it reuses earlier trials.'),
    double_trials: z.number().int().min(1).describe('Random controls per pair in the double lesion experiments (paper: 50). Raising it reuses earlier trials.'),
    small_size: z.number().int().min(0).describe('Sub-modules with at most this many neurons are `small` (original: 12 ≈ 5 % of 256).'),
    diff_threshold: z.number().max(0).describe('Accuracy difference at or below which a lesion counts as damaging (original: −0.01, one percentage point).'),
  })
  .strict()
  .describe('The lesion experiments (paper §4): sub-modules, single and double lesions, dependency graph.');

export type LesionParams = z.infer<typeof lesionParams>;
export type LesionNetwork = z.infer<typeof lesionNetwork>;
