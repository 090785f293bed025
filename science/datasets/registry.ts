/**
 * The registry of official dataset files and of every dataset name the pipeline knows.
 *
 * For each downloaded dataset it records the official file names and the sha256 of their
 * *content*: for IDX files, of the decompressed bytes (so a gzipped copy and a raw copy both
 * verify); for the CIFAR-10 archive, of each data member inside the tar (so `.tar.gz` and
 * `.tar` both verify). These digests are what makes a dataset what it is, so this file is
 * code and enters the stage key. Where the files are fetched from (URLs, a mirror) does not:
 * the URLs live in official-urls.json, read at run time (see urls.ts).
 *
 * Sources of the digests:
 * - MNIST, Fashion-MNIST: the offline mirror's CONTENT-SHA256SUMS (content byte-identical to the
 *   official IDX files; Fashion-MNIST .gz md5s match the values Zalando publishes).
 * - CIFAR-10: per-member sha256 of cifar-10-batches-bin/*.bin as listed by ankane/torchvision-ruby
 *   (lib/torchvision/datasets/cifar10.rb); the archive itself (cifar-10-binary.tar.gz, 170,052,171
 *   bytes, md5 c32a1d4ab5d03f1284b67883e8d87530 as published by the authors) has sha256
 *   c4a38c50…a1dd, kept here for information.
 */

import { DatasetError } from './errors.ts';

export type DatasetKind = 'download' | 'generated' | 'mixture';

/** An IDX file (gzipped or raw); `contentSha256` is the digest of the decompressed bytes. */
export interface IdxFile {
  kind: 'idx';
  /** Official file name (what the hosts serve, what a mirror holds). */
  name: string;
  role: 'train-images' | 'train-labels' | 'test-images' | 'test-labels';
  contentSha256: string;
}

/** A tar archive (gzipped or not) whose data members are verified one by one. */
export interface TarFile {
  kind: 'tar';
  name: string;
  /** Member path inside the archive → sha256 of its bytes. */
  members: Readonly<Record<string, string>>;
  /** sha256 of the official compressed archive as published (informational). */
  archiveSha256?: string;
  archiveBytes?: number;
}

export type OfficialFile = IdxFile | TarFile;

/** What a correct copy of a downloaded dataset must contain. */
export interface ExpectedContents {
  nTrain: number;
  nTest: number;
  /** Examples per label 0..9. */
  trainHistogram: readonly number[];
  testHistogram: readonly number[];
}

export interface DownloadedDataset {
  kind: 'download';
  name: string;
  title: string;
  /** Folder of a mirror directory holding this dataset's files (`<mirror>/<folder>/<file>`). */
  mirrorFolder: string;
  files: readonly OfficialFile[];
  expected: ExpectedContents;
}

export interface GeneratedDataset {
  kind: 'generated';
  name: string;
  title: string;
  nTrain: number;
  nTest: number;
}

export interface MixtureDataset {
  kind: 'mixture';
  name: string;
  title: string;
  /** First and second source (source column 0 and 1). */
  sources: [string, string];
  /** Separated: labels 0–4 from the first source, 5–9 from the second; else all of both. */
  separated: boolean;
}

export type DatasetInfo = DownloadedDataset | GeneratedDataset | MixtureDataset;

const uniform = (perClass: number): number[] => new Array(10).fill(perClass);

export const MNIST: DownloadedDataset = {
  kind: 'download',
  name: 'mnist',
  title: 'MNIST handwritten digits (LeCun, Cortes, Burges)',
  mirrorFolder: 'mnist',
  files: [
    {
      kind: 'idx',
      role: 'train-images',
      name: 'train-images-idx3-ubyte.gz',
      contentSha256: 'ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db',
    },
    {
      kind: 'idx',
      role: 'train-labels',
      name: 'train-labels-idx1-ubyte.gz',
      contentSha256: '65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5',
    },
    { kind: 'idx', role: 'test-images', name: 't10k-images-idx3-ubyte.gz', contentSha256: '0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7' },
    { kind: 'idx', role: 'test-labels', name: 't10k-labels-idx1-ubyte.gz', contentSha256: 'ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2' },
  ],
  expected: {
    nTrain: 60000,
    nTest: 10000,
    trainHistogram: [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
    testHistogram: [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009],
  },
};

export const FASHION: DownloadedDataset = {
  kind: 'download',
  name: 'fashion',
  title: 'Fashion-MNIST (Zalando Research)',
  mirrorFolder: 'fashion-mnist',
  files: [
    {
      kind: 'idx',
      role: 'train-images',
      name: 'train-images-idx3-ubyte.gz',
      contentSha256: 'c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888',
    },
    {
      kind: 'idx',
      role: 'train-labels',
      name: 'train-labels-idx1-ubyte.gz',
      contentSha256: 'bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9',
    },
    { kind: 'idx', role: 'test-images', name: 't10k-images-idx3-ubyte.gz', contentSha256: '5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b' },
    { kind: 'idx', role: 'test-labels', name: 't10k-labels-idx1-ubyte.gz', contentSha256: '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34' },
  ],
  expected: { nTrain: 60000, nTest: 10000, trainHistogram: uniform(6000), testHistogram: uniform(1000) },
};

/** Member names of the CIFAR-10 binary archive, in the order their records are read. */
export const CIFAR10_TRAIN_MEMBERS = [1, 2, 3, 4, 5].map((i) => `cifar-10-batches-bin/data_batch_${i}.bin`);
export const CIFAR10_TEST_MEMBERS = ['cifar-10-batches-bin/test_batch.bin'];

export const CIFAR10: DownloadedDataset = {
  kind: 'download',
  name: 'cifar10',
  title: 'CIFAR-10 (Krizhevsky), converted to 28×28 gray as the original code did',
  mirrorFolder: 'cifar-10',
  files: [
    {
      kind: 'tar',
      name: 'cifar-10-binary.tar.gz',
      members: {
        'cifar-10-batches-bin/data_batch_1.bin': 'cee916563c9f80d84e3cc88e17fdc0941787f1244f00a67874d45b261883ada5',
        'cifar-10-batches-bin/data_batch_2.bin': 'a591ca11fa1708a91ee40f54b3da4784ccd871ecf2137de63f51ada8b3fa57ed',
        'cifar-10-batches-bin/data_batch_3.bin': 'bbe8596564c0f86427f876058170b84dac6670ddf06d79402899d93ceea26f67',
        'cifar-10-batches-bin/data_batch_4.bin': '014e562d6e23c72197cc727519169a60359f5eccd8945ad5a09d710285ff4e48',
        'cifar-10-batches-bin/data_batch_5.bin': '755304fc0b379caeae8c14f0dac912fbc7d6cd469eb67a1029a08a39453a9add',
        'cifar-10-batches-bin/test_batch.bin': '8e2eb146ae340b09e24670f29cabc6326dba54da8789dab6768acf480273f65b',
      },
      archiveSha256: 'c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd',
      archiveBytes: 170052171,
    },
  ],
  expected: { nTrain: 50000, nTest: 10000, trainHistogram: uniform(5000), testHistogram: uniform(1000) },
};

export const LINE: GeneratedDataset = {
  kind: 'generated',
  name: 'line',
  title: 'LINES: 1–10 distinct vertical full-height lines, label = count − 1',
  nTrain: 60000,
  nTest: 10000,
};

export const RANDOM: GeneratedDataset = {
  kind: 'generated',
  name: 'random',
  title: 'RANDOM: uniform pixels and independent uniform labels (unlearnable)',
  nTrain: 60000,
  nTest: 10000,
};

export const MEMORIZATION: GeneratedDataset = {
  kind: 'generated',
  name: 'memorization',
  title: 'MEMORIZATION: the first 3000 RANDOM training examples, the full RANDOM test set',
  nTrain: 3000,
  nTest: 10000,
};

const MIXTURE_PAIRS: [string, string][] = [
  ['line', 'mnist'],
  ['line', 'cifar10'],
  ['mnist', 'cifar10'],
];

const mixtures: MixtureDataset[] = MIXTURE_PAIRS.flatMap(
  ([a, b]) =>
    [
      { kind: 'mixture', name: `${a}-${b}`, title: `${a} + ${b}, overlapping labels 0–9`, sources: [a, b], separated: false },
      { kind: 'mixture', name: `${a}-${b}-separated`, title: `${a} labels 0–4 + ${b} labels 5–9`, sources: [a, b], separated: true },
    ] satisfies MixtureDataset[],
);

/** Every dataset the pipeline can build, by name (the `dataset` axis value). */
export const DATASETS: ReadonlyMap<string, DatasetInfo> = new Map(
  ([MNIST, FASHION, CIFAR10, LINE, RANDOM, MEMORIZATION, ...mixtures] as DatasetInfo[]).map((d) => [d.name, d]),
);

export const DATASET_NAMES: readonly string[] = [...DATASETS.keys()];

export function datasetInfo(name: string): DatasetInfo {
  const info = DATASETS.get(name);
  if (!info) throw new DatasetError(`unknown dataset '${name}'; known datasets: ${DATASET_NAMES.join(', ')}`);
  return info;
}

/** The downloaded datasets a dataset needs (itself, or a mixture's downloaded sources). */
export function downloadedDependencies(name: string): DownloadedDataset[] {
  const info = datasetInfo(name);
  if (info.kind === 'download') return [info];
  if (info.kind === 'mixture') return info.sources.flatMap((s) => downloadedDependencies(s));
  return [];
}
