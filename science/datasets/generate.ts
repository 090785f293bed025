/**
 * The paper's generated datasets (reference §6; original `src/generate_datasets.py`).
 *
 * They are seeded and deterministic (same seed → identical bytes) but use science/random.ts
 * (xoshiro128**), so they cannot bit-match the original's numpy streams: the distributions are
 * the same, the individual images are not. Each dataset draws from its own generator derived
 * from the seed, so adding or reordering datasets never changes another one.
 */
import { Rng, deriveSeed } from '../random.ts';
import { IMAGE_SIZE, type ImageDataset, type Split } from './table.ts';

const SIDE = 28;

/** Stream tags for deriveSeed(seed, tag): one independent generator per dataset. */
export const SEED_TAGS = { line: 1, random: 2, mixture: 3 } as const;

/**
 * LINES (`line_counting_data_gen`): each image holds 1–10 distinct vertical full-height lines
 * (a whole column set to 255; a repeated column is redrawn), label = number of lines − 1.
 * Training images are drawn first, then test images, from one generator.
 */
export function generateLines(seed: number, nTrain = 60000, nTest = 10000): ImageDataset {
  const rng = new Rng(deriveSeed(seed, SEED_TAGS.line));
  const draw = (n: number): Split => {
    const images = new Uint8Array(n * IMAGE_SIZE);
    const labels = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const count = 1 + rng.int(10);
      let used = 0; // bit c set = column c drawn
      for (let k = 0; k < count; k++) {
        let col: number;
        do col = rng.int(SIDE);
        while (used & (1 << col));
        used |= 1 << col;
        const base = i * IMAGE_SIZE + col;
        for (let row = 0; row < SIDE; row++) images[base + row * SIDE] = 255;
      }
      labels[i] = count - 1;
    }
    return { images, labels };
  };
  const train = draw(nTrain);
  const test = draw(nTest);
  return { name: 'line', train, test };
}

/**
 * RANDOM (`generate_random_datast`): pixels uniform in 0..255, labels uniform in 0..9, drawn
 * independently; train images, train labels, then test images, test labels.
 */
export function generateRandom(seed: number, nTrain = 60000, nTest = 10000): ImageDataset {
  const rng = new Rng(deriveSeed(seed, SEED_TAGS.random));
  const draw = (n: number): Split => {
    const images = new Uint8Array(n * IMAGE_SIZE);
    // four uniform bytes per 32-bit draw, low byte first (IMAGE_SIZE is a multiple of 4)
    for (let i = 0; i < images.length; i += 4) {
      const w = rng.nextUint32();
      images[i] = w & 255;
      images[i + 1] = (w >>> 8) & 255;
      images[i + 2] = (w >>> 16) & 255;
      images[i + 3] = w >>> 24;
    }
    const labels = new Uint8Array(n);
    for (let i = 0; i < n; i++) labels[i] = rng.int(10);
    return { images, labels };
  };
  const train = draw(nTrain);
  const test = draw(nTest);
  return { name: 'random', train, test };
}

/** MEMORIZATION: the first `n` RANDOM training examples (trained unshuffled) and the full RANDOM test set. */
export function memorizationFrom(random: ImageDataset, n = 3000): ImageDataset {
  return {
    name: 'memorization',
    train: { images: random.train.images.subarray(0, n * IMAGE_SIZE), labels: random.train.labels.subarray(0, n) },
    test: random.test,
  };
}
