/**
 * Fast paths of the shuffle code must reproduce the draws and shuffles of their straightforward
 * versions exactly (cached shuffle samples depend on it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../science/random.ts';
import { prepareForShuffles, reduceNetwork, shuffleLayersCompact } from '../science/cluster/index.ts';

/** One draw in [0, n): Lemire's multiply-and-reject on 32 bits, as shuffle.ts drew before belowSequence. */
function referenceBelow(rng: Rng, n: number): number {
  let x = rng.nextUint32();
  let low = Math.imul(x, n) >>> 0;
  if (low < n) {
    const threshold = (2 ** 32 - n) % n;
    while (low < threshold) {
      x = rng.nextUint32();
      low = Math.imul(x, n) >>> 0;
    }
  }
  return Math.floor((x * n) / 2 ** 32);
}

test('Rng.belowSequence draws exactly what one reference draw per bound gives, and leaves the generator in the same state', () => {
  // Bounds near 2^21 make rejections likely enough to be exercised; small bounds hit low < n often.
  for (const [first, count] of [
    [2 ** 21, 5000],
    [1_500_007, 3000],
    [7, 7],
    [200_704, 20_000],
    [1, 1],
  ]) {
    const a = new Rng(first);
    const b = new Rng(first);
    const out = new Int32Array(count);
    a.belowSequence(out, first, -1);
    for (let t = 0; t < count; t++) assert.equal(out[t], referenceBelow(b, first - t), `bound ${first - t}`);
    assert.equal(a.nextUint32(), b.nextUint32(), 'generator state after the sequence');
  }
  assert.throws(() => new Rng(1).belowSequence(new Int32Array(3), 2, -1), /bound 0/);
});

test('shuffles of a prepared network (remembered non-zero positions) equal those of the plain reduced network', () => {
  const rng = new Rng(3);
  const sizes = [30, 20, 12, 5];
  const layers = sizes.slice(1).map((fanOut, l) => {
    const kernel = new Float32Array(sizes[l] * fanOut);
    for (let i = 0; i < kernel.length; i++) kernel[i] = rng.float() < 0.7 ? 0 : rng.float() - 0.5;
    return { fanIn: sizes[l], fanOut, kernel };
  });
  const prepared = prepareForShuffles(layers);
  const plain = reduceNetwork(layers);
  for (const method of ['layer', 'layer_nonzero'] as const)
    for (let seed = 0; seed < 5; seed++) {
      const a = shuffleLayersCompact(prepared, method, new Rng(seed));
      const b = shuffleLayersCompact(plain, method, new Rng(seed));
      assert.deepEqual(a, b, `${method}, seed ${seed}`);
    }
});
