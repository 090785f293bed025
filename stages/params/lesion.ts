/** params.yaml section `lesion:` (defaults live in params.yaml). */
import { z } from 'zod';

export const lesionNetwork = z
  .object({
    dataset: z.string().min(1).describe('Condition name (a value of train.datasets).'),
    dropout: z.boolean().describe('Whether the network was trained with dropout.'),
    run: z.number().int().min(0).describe("Which of the condition's trained networks (0-based)."),
  })
  .strict();

const fileRef = z.string().min(1).describe('Path of an IDX file (gzipped or raw), relative to the working directory; its content digest enters the key.');

export const lesionExternalNetwork = z
  .object({
    model: z.string().min(1).describe('An external network file of external.models, by its base name ("net.onnx"); it must be a ReLU MLP (docs/models.md).'),
    test_set: z
      .union([
        z.string().min(1).describe('A dataset of datasets.names whose test split the network takes (e.g. mnist).'),
        z.object({ images: fileRef, labels: fileRef }).strict().describe('IDX files: n × rows × cols unsigned-byte images and n labels 0..9.'),
      ])
      .describe('The test set the lesions are measured on; pixels are scaled to [0, 1] as for the study networks.'),
    normalize: z
      .object({ mean: z.number(), std: z.number().positive() })
      .strict()
      .optional()
      .describe('Input normalisation the network was trained with (x − mean) / std on the [0, 1] pixels, e.g. torchvision Normalize((0.1307,), (0.3081,)).'),
  })
  .strict();

export const lesionParams = z
  .object({
    networks: z
      .array(z.union([lesionNetwork, lesionExternalNetwork]))
      .describe(
        'Pruned networks to lesion, one instance of each lesion stage per entry (the paper: one Fashion-MNIST network trained with dropout), or external MLP files with a test set ({model, test_set}); [] switches the lesion experiments off.',
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
export type LesionExternalNetwork = z.infer<typeof lesionExternalNetwork>;
