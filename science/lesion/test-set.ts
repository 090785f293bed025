/**
 * A test set as the lesion evaluation reads it: pixel values on the 0..255 scale, which
 * evaluate.ts divides by 255. A network trained on normalised inputs, (x − mean) / std on the
 * [0, 1] pixels (torchvision's Normalize), gets its inputs on that scale: 255 · ((x/255 − mean)/std),
 * so the evaluation's division by 255 yields exactly what the network saw in training, up to float32 rounding.
 */
import type { TestSet } from './evaluate.ts';

export interface Normalization {
  mean: number;
  std: number;
}

export function normalizedTestSet(test: TestSet, n: Normalization | undefined): TestSet {
  if (!n) return test;
  const images = Float32Array.from(test.images, (x) => 255 * ((x / 255 - n.mean) / n.std));
  return { images, labels: test.labels };
}
