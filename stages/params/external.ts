/** params.yaml section `external:` (optional): networks trained elsewhere, analysed like ours. */
import { z } from 'zod';
import { CONV_NORMS } from '../../science/models/network.ts';

export const externalParams = z
  .object({
    models: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'Network files to cluster and compare with shuffles like the study networks: ONNX, PyTorch state dict, safetensors, Keras .h5/.keras, NumPy .npz or Arrow weights (docs/models.md). Paths relative to the working directory; the file content digest enters the keys. Default: none.',
      ),
    layers: z
      .record(z.string(), z.array(z.string().min(1)).min(1))
      .default({})
      .describe(
        'Per model file (as written in `models`): the weight layers to use, in order (names or globs), for files without topology whose tensor order is unclear.',
      ),
    conv_norm: z
      .enum(CONV_NORMS)
      .default('l1')
      .describe("Edge weight of a convolution kernel slice K[o, i]: l1 = Σ|K|, l2 = √ΣK², successor-l1/l2 = the successor code's matrix norms."),
  })
  .strict()
  .default({ models: [], layers: {}, conv_norm: 'l1' })
  .describe('External networks (issue 16): each file becomes a network state through cluster, shuffle-sample and the report\'s "External models" table.');

export type ExternalParams = z.infer<typeof externalParams>;
