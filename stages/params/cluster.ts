/** params.yaml sections `cluster:` and `shuffle:` (defaults live in params.yaml). */
import { z } from 'zod';
import { SHUFFLE_METHODS } from '../../science/cluster/shuffle.ts';

export const clusterParams = z
  .object({
    k: z
      .array(z.number().int().min(2))
      .min(1)
      .describe('Numbers of clusters to sweep (the paper: 4; its appendix also 2, 7 and 10). One cluster instance per network state and k.'),
    seed: z
      .number()
      .int()
      .min(0)
      .describe(
        'Seed of every clustering of a trained or untrained network (the original used 42); `pipeline.ts ncut --seed` with the same value gives the same labels.',
      ),
    n_init: z.number().int().min(1).describe('k-means restarts, keeping the lowest inertia (scikit-learn n_init; the original: 10).'),
  })
  .strict()
  .describe('Spectral clustering of the weight graphs (paper §2): scikit-learn SpectralClustering semantics with exact eigenvectors.');

export const shuffleParams = z
  .object({
    samples: z.number().int().min(0).describe('Shuffled networks per (network state, k, method) (the paper: 320). Raising it computes only the new samples.'),
    methods: z
      .array(z.enum(SHUFFLE_METHODS))
      .min(1)
      .describe(
        'Null distributions: layer = permute all entries of each weight matrix; layer_nonzero = permute only the non-zero values, keeping the sparsity pattern.',
      ),
  })
  .strict()
  .describe('Shuffle nulls of the n-cut (paper §3): trained (unpruned and pruned) networks only.');

export type ClusterParams = z.infer<typeof clusterParams>;
export type ShuffleParams = z.infer<typeof shuffleParams>;
