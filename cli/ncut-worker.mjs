// Worker thread of `pipeline.ts ncut --shuffles`: computes a batch of shuffle samples.
// Worker threads do not inherit tsx's module hooks on Node 20, so register tsx before loading .ts.
import { register } from 'tsx/esm/api';

register();
const { shuffleSample } = await import('../science/cluster/index.ts');

/** task: { reduced: WeightMatrix[], method, k, nInit, seeds: number[] } → Float64Array of n-cuts. */
export default function runBatch({ reduced, method, k, nInit, seeds }) {
  return Float64Array.from(seeds, (seed) => shuffleSample(reduced, method, k, seed, { nInit }));
}
