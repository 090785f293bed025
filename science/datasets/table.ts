/**
 * The dataset table: every image dataset of the pipeline as one Arrow IPC table.
 *
 * Schema (one row per example, train rows first, then test rows):
 *   split   utf8 (dictionary-free)         "train" | "test"
 *   label   uint8                          class 0..9
 *   pixels  fixed_size_list<784>[uint8]    28×28 row-major, values 0..255, for integer datasets
 *        or fixed_size_list<784>[float32]  unrounded values in [0, 255] (CIFAR-10 gray and mixtures with it)
 *   source  uint8 (mixtures only)          0 = first source dataset, 1 = second
 * Schema metadata: name (dataset name), sources (comma-separated, mixtures only).
 *
 * Python: `pyarrow.ipc.open_file(p).read_all().to_pandas()`; pixels as `np.stack(df.pixels)`.
 */
import type { Table } from 'apache-arrow';
import { defineTable, fixedSizeList, uint8, utf8Of } from '../table-schema.ts';

export const IMAGE_SIZE = 784;

export interface Split {
  /** n × 784 values in [0, 255]; Uint8Array for integer datasets, Float32Array otherwise. */
  images: Uint8Array | Float32Array;
  labels: Uint8Array;
  /** Mixtures only: 0 = first source, 1 = second. */
  source?: Uint8Array;
}

export interface ImageDataset {
  name: string;
  /** Mixtures only: the two source datasets' names. */
  sources?: [string, string];
  train: Split;
  test: Split;
}

export const splitSize = (s: Split): number => s.labels.length;

function concat<A extends Uint8Array | Float32Array>(a: A, b: A): A;
function concat(a: Uint8Array | Float32Array, b: Uint8Array | Float32Array): Uint8Array | Float32Array;
function concat(a: Uint8Array | Float32Array, b: Uint8Array | Float32Array): Uint8Array | Float32Array {
  const out = a instanceof Uint8Array && b instanceof Uint8Array ? new Uint8Array(a.length + b.length) : new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** The dataset table's declaration (schema above); a row is one example. */
export const datasetTable = defineTable(
  { split: utf8Of(['train', 'test'] as const), label: uint8, pixels: fixedSizeList(IMAGE_SIZE, 'pixel'), source: uint8.optional() },
  { metadata: ['name', 'sources'] },
);

export function datasetToTable(ds: ImageDataset): Table {
  const nTrain = splitSize(ds.train);
  const n = nTrain + splitSize(ds.test);
  for (const [name, s] of [
    ['train', ds.train],
    ['test', ds.test],
  ] as const) {
    if (s.images.length !== splitSize(s) * IMAGE_SIZE)
      throw new Error(`dataset ${ds.name}: ${name} images hold ${s.images.length} values, expected ${splitSize(s)} × ${IMAGE_SIZE}`);
  }
  if (!ds.train.source !== !ds.test.source) throw new Error(`dataset ${ds.name}: source column must be set on both splits`);
  return datasetTable.toTable(
    {
      split: Array.from({ length: n }, (_, i) => (i < nTrain ? 'train' : 'test')),
      label: concat(ds.train.labels, ds.test.labels),
      pixels: concat(ds.train.images, ds.test.images),
      ...(ds.train.source && ds.test.source ? { source: concat(ds.train.source, ds.test.source) } : {}),
    },
    { name: ds.name, ...(ds.sources ? { sources: ds.sources.join(',') } : {}) },
  );
}

/** Read a dataset table back (train rows first, then test rows, as written). */
export function datasetFromTable(t: Table): ImageDataset {
  const name = t.schema.metadata.get('name') ?? 'unknown';
  const c = datasetTable.columnsOf(t, `dataset table ${name}`);
  const n = t.numRows;
  let nTrain = 0;
  while (nTrain < n && c.split[nTrain] === 'train') nTrain++;
  const sources = datasetTable.metadataOf(t, name).sources?.split(',') as [string, string] | undefined;
  const split = (from: number, to: number): Split => ({
    images: c.pixels.subarray(from * IMAGE_SIZE, to * IMAGE_SIZE),
    labels: c.label.subarray(from, to),
    ...(c.source ? { source: c.source.subarray(from, to) } : {}),
  });
  return { name, ...(sources ? { sources } : {}), train: split(0, nTrain), test: split(nTrain, n) };
}
