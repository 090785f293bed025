/**
 * Mixtures of two datasets (reference §6; original `src/mix_datasets.py`, `mix_datasets.main`).
 *
 * - overlapping: all of the first and all of the second dataset, both keeping labels 0–9
 *   (e.g. MNIST digit 3 and CIFAR "cat" share label 3);
 * - separated: the first dataset's examples with label 0–4 and the second's with label 5–9.
 * Each split is the first source's rows followed by the second's, then shuffled with one
 * random permutation per split (train first, then test, from one generator derived from the
 * seed). `source` says where each row came from: 0 = first, 1 = second (the original's
 * boolean "came from d2"). If either source has float pixels (CIFAR-10 gray), both become float32.
 */
import { Rng, deriveSeed } from '../random.ts';
import { SEED_TAGS } from './generate.ts';
import { IMAGE_SIZE, splitSize, type ImageDataset, type Split } from './table.ts';

/** Labels 0..SEPARATION_LABEL−1 come from the first source, the rest from the second. */
export const SEPARATION_LABEL = 5;

export function mixDatasets(name: string, first: ImageDataset, second: ImageDataset, separated: boolean, seed: number): ImageDataset {
  const rng = new Rng(deriveSeed(seed, SEED_TAGS.mixture));
  const asFloat = first.train.images instanceof Float32Array || second.train.images instanceof Float32Array;
  const mixSplit = (a: Split, b: Split): Split => {
    const keepA = rowsWhere(a, (label) => !separated || label < SEPARATION_LABEL);
    const keepB = rowsWhere(b, (label) => !separated || label >= SEPARATION_LABEL);
    const n = keepA.length + keepB.length;
    const perm = rng.permutation(n);
    const images = asFloat ? new Float32Array(n * IMAGE_SIZE) : new Uint8Array(n * IMAGE_SIZE);
    const labels = new Uint8Array(n);
    const source = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const j = perm[i]; // row j of the concatenation [kept rows of a, kept rows of b]
      const fromB = j >= keepA.length;
      const s = fromB ? b : a;
      const row = fromB ? keepB[j - keepA.length] : keepA[j];
      images.set(s.images.subarray(row * IMAGE_SIZE, (row + 1) * IMAGE_SIZE), i * IMAGE_SIZE);
      labels[i] = s.labels[row];
      source[i] = fromB ? 1 : 0;
    }
    return { images, labels, source };
  };
  const train = mixSplit(first.train, second.train);
  const test = mixSplit(first.test, second.test);
  return { name, sources: [first.name, second.name], train, test };
}

function rowsWhere(s: Split, keep: (label: number) => boolean): Int32Array {
  const rows: number[] = [];
  for (let i = 0; i < splitSize(s); i++) if (keep(s.labels[i])) rows.push(i);
  return Int32Array.from(rows);
}
