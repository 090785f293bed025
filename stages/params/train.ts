/**
 * params.yaml sections `train:`, `prune:` and `init:` (defaults live in params.yaml).
 *
 * The sweep is `train.datasets` × `train.dropout` × `train.runs`; `overrides` entries change
 * settings for the conditions they match (by dataset, optionally by dropout), later entries
 * winning, which is how the paper's per-dataset epochs and dropout rates are written down.
 */
import { z } from 'zod';

const datasetSelector = z
  .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
  .describe('Condition name(s) this override applies to (values of train.datasets).');

const positiveInt = z.number().int().min(1);
const unitInterval = z.number().min(0).lt(1);

export const trainOverride = z
  .object({
    dataset: datasetSelector,
    dropout: z.boolean().optional().describe('Apply only to conditions with (true) or without (false) dropout; omitted = both.'),
    source: z
      .string()
      .min(1)
      .optional()
      .describe('Dataset (a `datasets` instance) the condition trains on, when it differs from its name, e.g. random-kiloepoch trains on random.'),
    runs: positiveInt.optional().describe('Networks trained for the matching conditions.'),
    epochs: positiveInt.optional().describe('Epochs of unpruned training.'),
    dropout_rate: unitInterval.optional().describe('Dropout rate after each hidden layer (when dropout is on).'),
    shuffle: z.boolean().optional().describe('Reshuffle the training data every epoch.'),
    train_examples: positiveInt.nullable().optional().describe('Train on the first N training examples only (null = all).'),
    batch_size: positiveInt.optional().describe('Examples per training step.'),
    learning_rate: z.number().positive().optional().describe('Adam learning rate.'),
  })
  .strict();

export const trainParams = z
  .object({
    backend: z
      .enum(['auto', 'onnx', 'tensorflow', 'wasm', 'cpu'])
      .describe(
        'Training backend: onnx (ONNX Runtime, native CPU, from onnxruntime-node), tensorflow (@tensorflow/tfjs-node, if installed), wasm (@tensorflow/tfjs-backend-wasm), cpu (pure JS), or auto = the first of these that works here (one line says so when ONNX Runtime cannot load). Part of every training key.',
      ),
    datasets: z
      .array(z.string().min(1))
      .min(1)
      .describe('Conditions to train: dataset names (the `dataset` axis), or extra names given a `source` in overrides.'),
    dropout: z.array(z.boolean()).min(1).describe('Dropout settings to train for every dataset: [false, true] = both.'),
    runs: positiveInt.describe('Networks trained per (dataset, dropout) condition; the `run` axis is 0..runs−1.'),
    hidden: z.array(positiveInt).min(1).describe('Hidden layer widths (the paper: four layers of 256).'),
    epochs: positiveInt.describe('Epochs of unpruned training (the paper: 20).'),
    batch_size: positiveInt.describe('Examples per training step (the paper: 128).'),
    learning_rate: z.number().positive().describe('Adam learning rate (Keras default 0.001).'),
    beta_1: unitInterval.describe('Adam β1 (Keras default 0.9).'),
    beta_2: unitInterval.describe('Adam β2 (Keras default 0.999).'),
    epsilon: z.number().positive().describe('Adam ε (Keras default 1e-7).'),
    dropout_rate: unitInterval.describe('Dropout rate after each hidden layer when dropout is on (the paper: 0.5; 0.2 with CIFAR-10).'),
    shuffle: z.boolean().describe('Reshuffle the training data every epoch (Keras shuffle=True; the memorization experiment turns it off).'),
    train_examples: positiveInt.nullable().describe('Train on the first N training examples only (null = all).'),
    overrides: z.array(trainOverride).describe('Per-condition settings, applied in order to the conditions they match.'),
  })
  .strict()
  .describe('Training (stage `train`): the sweep of conditions and the unpruned phase.');

export const pruneOverride = z
  .object({
    dataset: datasetSelector,
    dropout: z.boolean().optional().describe('Apply only with (true) or without (false) dropout; omitted = both.'),
    epochs: positiveInt.optional().describe('Epochs of the pruning phase.'),
    initial_sparsity: unitInterval.optional().describe('Sparsity at the first pruning step.'),
    final_sparsity: unitInterval.optional().describe('Sparsity from end_step on.'),
    begin_step: z.number().int().min(0).optional().describe('First pruning step.'),
    end_step: positiveInt.nullable().optional().describe('Last pruning step (null = the whole pruning phase).'),
    frequency: positiveInt.optional().describe('Steps between mask updates.'),
    power: z.number().positive().optional().describe('Exponent of the polynomial decay.'),
  })
  .strict();

export const pruneParams = z
  .object({
    epochs: positiveInt.describe('Epochs of the pruning phase, which starts from the unpruned weights with a fresh Adam (the paper: 20; CIFAR-10 40).'),
    initial_sparsity: unitInterval.describe('tfmot PolynomialDecay initial_sparsity (the paper: 0.5).'),
    final_sparsity: unitInterval.describe('tfmot PolynomialDecay final_sparsity (the paper: 0.9).'),
    begin_step: z.number().int().min(0).describe('First pruning step (tfmot begin_step; the paper: 0).'),
    end_step: positiveInt
      .nullable()
      .describe('Last pruning step (tfmot end_step); null = ceil(training examples / batch size) × pruning epochs, as the original.'),
    frequency: positiveInt.describe('Masks are recomputed every this many steps (tfmot frequency; the paper: 10).'),
    power: z.number().positive().describe('Exponent of the polynomial decay (tfmot default 3).'),
    overrides: z.array(pruneOverride).describe('Per-condition settings, applied in order to the conditions they match.'),
  })
  .strict()
  .describe('Magnitude pruning (stage `prune`): TF-MOT polynomial decay schedule.');

export const initParams = z
  .object({
    networks: z
      .number()
      .int()
      .min(0)
      .describe("Untrained Glorot-initialised networks exported as phase `init` (the random-initialization baseline of the paper's Fig. 3: 200)."),
  })
  .strict()
  .describe('Untrained networks (exported by stage `export` with dataset `init`).');

export type TrainParams = z.infer<typeof trainParams>;
export type PruneParams = z.infer<typeof pruneParams>;
export type InitParams = z.infer<typeof initParams>;
export type TrainOverride = z.infer<typeof trainOverride>;
export type PruneOverride = z.infer<typeof pruneOverride>;
