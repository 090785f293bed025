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
import { Field, FixedSizeList, Float32, RecordBatch, Schema, Struct, Table, Uint8, Utf8, type Vector, makeData, vectorFromArray } from 'apache-arrow';

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

function concatImages(a: Uint8Array | Float32Array, b: Uint8Array | Float32Array): Uint8Array | Float32Array {
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    const out = new Uint8Array(a.length + b.length);
    out.set(a);
    out.set(b, a.length);
    return out;
  }
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

export function datasetToTable(ds: ImageDataset): Table {
  const nTrain = splitSize(ds.train);
  const nTest = splitSize(ds.test);
  const n = nTrain + nTest;
  for (const [name, s] of [
    ['train', ds.train],
    ['test', ds.test],
  ] as const) {
    if (s.images.length !== splitSize(s) * IMAGE_SIZE)
      throw new Error(`dataset ${ds.name}: ${name} images hold ${s.images.length} values, expected ${splitSize(s)} × ${IMAGE_SIZE}`);
  }
  const images = concatImages(ds.train.images, ds.test.images);
  const pixelChild =
    images instanceof Uint8Array
      ? makeData({ type: new Uint8(), length: images.length, data: images })
      : makeData({ type: new Float32(), length: images.length, data: images });
  const pixelType = pixelChild.type;
  const pixelsType: FixedSizeList = new FixedSizeList(IMAGE_SIZE, new Field('pixel', pixelType, false));
  const pixels = makeData({ type: pixelsType, length: n, nullCount: 0, child: pixelChild });
  const labels = new Uint8Array(n);
  labels.set(ds.train.labels);
  labels.set(ds.test.labels, nTrain);
  const split = vectorFromArray(
    Array.from({ length: n }, (_, i) => (i < nTrain ? 'train' : 'test')),
    new Utf8(),
  );
  const children = [split.data[0], makeData({ type: new Uint8(), length: n, data: labels }), pixels];
  const fields = [new Field('split', new Utf8(), false), new Field('label', new Uint8(), false), new Field('pixels', pixelsType, false)];
  if (ds.train.source || ds.test.source) {
    if (!ds.train.source || !ds.test.source) throw new Error(`dataset ${ds.name}: source column must be set on both splits`);
    const source = new Uint8Array(n);
    source.set(ds.train.source);
    source.set(ds.test.source, nTrain);
    children.push(makeData({ type: new Uint8(), length: n, data: source }));
    fields.push(new Field('source', new Uint8(), false));
  }
  const metadata = new Map([['name', ds.name]]);
  if (ds.sources) metadata.set('sources', ds.sources.join(','));
  const schema = new Schema(fields, metadata);
  const struct = makeData({ type: new Struct(fields), length: n, nullCount: 0, children });
  return new Table(schema, [new RecordBatch(schema, struct)]);
}

/** Read a dataset table back (train rows first, then test rows, as written). */
export function datasetFromTable(t: Table): ImageDataset {
  const name = t.schema.metadata.get('name') ?? 'unknown';
  const splitCol = t.getChild('split');
  const labelCol = t.getChild('label');
  const pixelCol = t.getChild('pixels');
  if (!splitCol || !labelCol || !pixelCol) throw new Error(`dataset table ${name}: expected columns split, label, pixels`);
  const n = t.numRows;
  let nTrain = 0;
  while (nTrain < n && splitCol.get(nTrain) === 'train') nTrain++;
  // Concatenate the chunks' contiguous child buffers (fast path; no per-row access).
  const chunks = pixelCol.data.map((d) => d.children[0].values.subarray(d.offset * IMAGE_SIZE, (d.offset + d.length) * IMAGE_SIZE));
  const isFloat = chunks[0] instanceof Float32Array;
  const images = isFloat ? new Float32Array(n * IMAGE_SIZE) : new Uint8Array(n * IMAGE_SIZE);
  let at = 0;
  for (const c of chunks) {
    images.set(c, at);
    at += c.length;
  }
  const labels = flatUint8(labelCol, n);
  const sourceCol = t.getChild('source');
  const source = sourceCol ? flatUint8(sourceCol, n) : undefined;
  const sources = t.schema.metadata.get('sources')?.split(',') as [string, string] | undefined;
  const split = (from: number, to: number): Split => ({
    images: images.subarray(from * IMAGE_SIZE, to * IMAGE_SIZE),
    labels: labels.subarray(from, to),
    ...(source ? { source: source.subarray(from, to) } : {}),
  });
  return { name, ...(sources ? { sources } : {}), train: split(0, nTrain), test: split(nTrain, n) };
}

function flatUint8(col: Vector, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let at = 0;
  for (const d of col.data) {
    out.set((d.values as Uint8Array).subarray(d.offset, d.offset + d.length), at);
    at += d.length;
  }
  return out;
}
