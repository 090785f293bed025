/**
 * Build any dataset of the registry by name: obtain and verify the official files (mirror,
 * earlier download, or the official URLs), parse them, check counts and label histograms;
 * generate LINES / RANDOM / MEMORIZATION; mix two datasets.
 *
 * Knows nothing about caching or the engine: the caller passes the downloads directory, the
 * mirror directory (if any), the seed, a progress callback and how to lock a download.
 */
import { existsSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { cifarBatchesToSplit } from './cifar.ts';
import { fetchVerified, type DownloadOptions, type TakeLock } from './download.ts';
import { ChecksumError, DatasetError, MalformedFileError } from './errors.ts';
import { generateLines, generateRandom, memorizationFrom } from './generate.ts';
import { idxImages, idxLabels, parseIdx } from './idx.ts';
import { mixDatasets } from './mix.ts';
import { DATASETS, type DatasetInfo, type DownloadedDataset, type ExpectedContents, type OfficialFile } from './registry.ts';
import { IMAGE_SIZE, splitSize, type ImageDataset, type Split } from './table.ts';
import { officialUrls } from './urls.ts';
import { contentName, readVerified, type VerifiedContent } from './verify.ts';

export interface DatasetEnv {
  /** Seed of the generated datasets and of the mixtures' shuffles. */
  seed: number;
  /** Persistent directory for verified downloads (`<downloadsDir>/<mirror folder>/<file>`). */
  downloadsDir: string;
  /** Mirror directory laid out `<mirror>/<dataset folder>/<official file name>` (gzipped or not). */
  mirror?: string;
  /** Where to download a file from; default: official-urls.json. */
  urls?: (dataset: string, fileName: string) => string[];
  /** The dataset registry; default: registry.ts (tests pass tiny fixture datasets). */
  registry?: ReadonlyMap<string, DatasetInfo>;
  download?: Omit<DownloadOptions, 'signal' | 'onProgress'>;
  /** Locks a download so that concurrent builds fetch each file once (the pipeline passes engine/lock.ts's waitForLock). */
  lock: TakeLock;
  progress?: (update: { fraction?: number; message?: string }) => void;
  signal?: AbortSignal;
}

export interface BuiltDataset {
  dataset: ImageDataset;
  /** `<dataset>/<content name>` → verified content sha256, for every official file used. */
  digests: Record<string, string>;
  /** `<dataset>/<file name>` → where the file came from: `mirror <path>`, `downloads <path>` or `download <url>`. */
  origins: Record<string, string>;
}

/** The env var a mirror directory is read from (the `--mirror` option sets it). */
export const MIRROR_ENV = 'NNMOD_MIRROR';

export function mirrorHint(info: DownloadedDataset, file: OfficialFile): string {
  return `To work offline, put the official file in a mirror directory as <DIR>/${info.mirrorFolder}/${file.name} (gzipped or not) and pass --mirror <DIR> or set ${MIRROR_ENV}=<DIR>.`;
}

/** Paths a mirror may hold an official file under: the official name, and the decompressed name. */
export function mirrorCandidates(mirror: string, info: DownloadedDataset, file: OfficialFile): string[] {
  const names = [file.name];
  if (file.name.endsWith('.gz')) names.push(file.name.slice(0, -3));
  return names.map((n) => join(mirror, info.mirrorFolder, n));
}

/** Where a verified download of an official file lives. */
export const downloadPath = (downloadsDir: string, info: DownloadedDataset, file: OfficialFile): string => join(downloadsDir, info.mirrorFolder, file.name);

export interface ObtainedFile {
  path: string;
  origin: string;
  content: VerifiedContent;
}

/** A verified local copy of one official file: from the mirror, an earlier download, or the official URLs. */
export async function obtainOfficialFile(info: DownloadedDataset, file: OfficialFile, env: DatasetEnv): Promise<ObtainedFile> {
  const label = `dataset ${info.name}: ${file.name}`;
  let mirrorNote = '';
  if (env.mirror) {
    const candidates = mirrorCandidates(env.mirror, info, file);
    const found = candidates.find((p) => existsSync(p));
    if (found) {
      env.progress?.({ message: `verifying ${found}` });
      try {
        return { path: found, origin: `mirror ${found}`, content: await readVerified(found, file, `dataset ${info.name}: mirror file ${found}`) };
      } catch (e) {
        if (e instanceof DatasetError)
          throw new DatasetError(`${e.message}\n  Replace it with the official file, or remove it from the mirror to download it instead.`);
        throw e;
      }
    }
    mirrorNote = `Not in the mirror ${env.mirror} (looked for ${candidates.join(', ')}). `;
  }
  const dest = downloadPath(env.downloadsDir, info, file);
  if (existsSync(dest)) {
    try {
      return { path: dest, origin: `downloads ${dest}`, content: await readVerified(dest, file, label) };
    } catch (e) {
      if (!(e instanceof ChecksumError || e instanceof MalformedFileError)) throw e;
      await unlink(dest).catch(() => {}); // damaged since it was verified: fetch it again
    }
  }
  const urls = (env.urls ?? officialUrls)(info.name, file.name);
  const { url } = await fetchVerified(
    {
      urls,
      dest,
      verify: async (path) => void (await readVerified(path, file, file.name)),
      what: label,
      hint: mirrorNote + mirrorHint(info, file),
      lock: env.lock,
    },
    {
      ...env.download,
      signal: env.signal,
      onProgress: ({ received, total }) =>
        env.progress?.({
          ...(total ? { fraction: received / total } : {}),
          message: `downloading ${file.name} ${(received / 1e6).toFixed(1)}${total ? `/${(total / 1e6).toFixed(1)}` : ''} MB`,
        }),
    },
  );
  return { path: dest, origin: url ? `download ${url}` : `downloads ${dest}`, content: await readVerified(dest, file, label) };
}

/** Obtain, verify and parse a downloaded dataset (IDX files or the CIFAR-10 binary archive). */
export async function loadDownloaded(info: DownloadedDataset, env: DatasetEnv): Promise<BuiltDataset> {
  const digests: Record<string, string> = {};
  const origins: Record<string, string> = {};
  const contents = new Map<string, Uint8Array>();
  for (const file of info.files) {
    const got = await obtainOfficialFile(info, file, env);
    origins[`${info.name}/${file.name}`] = got.origin;
    for (const [name, digest] of Object.entries(got.content.digests)) digests[`${info.name}/${name}`] = digest;
    for (const [name, bytes] of got.content.contents) contents.set(name, bytes);
  }
  env.progress?.({ message: `parsing ${info.name}` });
  let train: Split;
  let test: Split;
  const tar = info.files.find((f) => f.kind === 'tar');
  if (tar) {
    const members = Object.keys(tar.members);
    const batches = (names: string[]) => names.map((name) => ({ name: `dataset ${info.name}: ${tar.name}: ${name}`, bytes: contents.get(name)! }));
    train = cifarBatchesToSplit(batches(members.filter((m) => !/test_batch/.test(m))));
    test = cifarBatchesToSplit(batches(members.filter((m) => /test_batch/.test(m))));
  } else {
    const idx = (role: string): [Uint8Array, string] => {
      const file = info.files.find((f) => f.kind === 'idx' && f.role === role);
      if (!file) throw new Error(`registry: dataset ${info.name} has no ${role} file`);
      return [contents.get(contentName(file.name))!, `dataset ${info.name}: ${file.name}`];
    };
    const split = (which: 'train' | 'test'): Split => {
      const [imageBytes, imageLabel] = idx(`${which}-images`);
      const [labelBytes, labelLabel] = idx(`${which}-labels`);
      const { n, images } = idxImages(parseIdx(imageBytes, imageLabel), imageLabel);
      const labels = idxLabels(parseIdx(labelBytes, labelLabel), labelLabel);
      if (labels.length !== n) throw new MalformedFileError(`dataset ${info.name}: ${n} ${which} images but ${labels.length} ${which} labels`);
      return { images, labels };
    };
    train = split('train');
    test = split('test');
  }
  const dataset: ImageDataset = { name: info.name, train, test };
  checkContents(dataset, info.expected);
  return { dataset, digests, origins };
}

export function labelHistogram(labels: Uint8Array, classes = 10): number[] {
  const h = new Array(classes).fill(0);
  for (const l of labels) h[l]++;
  return h;
}

/** Check sizes and label histograms against the known ones (a wrong registry or parser shows here). */
export function checkContents(ds: ImageDataset, expected: ExpectedContents): void {
  const problems: string[] = [];
  for (const [which, split, n, hist] of [
    ['train', ds.train, expected.nTrain, expected.trainHistogram],
    ['test', ds.test, expected.nTest, expected.testHistogram],
  ] as const) {
    if (splitSize(split) !== n) problems.push(`${which}: ${splitSize(split)} examples, expected ${n}`);
    if (split.images.length !== splitSize(split) * IMAGE_SIZE) problems.push(`${which}: ${split.images.length} pixel values for ${splitSize(split)} images`);
    const got = labelHistogram(split.labels);
    if (got.join() !== hist.join()) problems.push(`${which} label histogram ${got.join(' ')}, expected ${hist.join(' ')}`);
  }
  if (problems.length > 0) throw new MalformedFileError(`dataset ${ds.name}: contents differ from the known dataset: ${problems.join('; ')}`);
}

/**
 * Build a dataset by name. Mixtures build their sources here too (each source once), so a
 * mixture never depends on another stage instance.
 */
export async function buildDataset(name: string, env: DatasetEnv): Promise<BuiltDataset> {
  const registry = env.registry ?? DATASETS;
  const memo = new Map<string, Promise<BuiltDataset>>();
  const build = (n: string): Promise<BuiltDataset> => {
    let p = memo.get(n);
    if (!p) {
      p = buildOne(n);
      memo.set(n, p);
    }
    return p;
  };
  const buildOne = async (n: string): Promise<BuiltDataset> => {
    const info = registry.get(n);
    if (!info) throw new DatasetError(`unknown dataset '${n}'; known datasets: ${[...registry.keys()].join(', ')}`);
    switch (info.kind) {
      case 'download':
        return loadDownloaded(info, env);
      case 'generated': {
        env.progress?.({ message: `generating ${n}` });
        if (n === 'line') return generated(generateLines(env.seed, info.nTrain, info.nTest));
        if (n === 'random') return generated(generateRandom(env.seed, info.nTrain, info.nTest));
        if (n === 'memorization') {
          const random = (await build('random')).dataset;
          return generated(memorizationFrom(random, info.nTrain));
        }
        throw new Error(`registry: no generator for dataset '${n}'`);
      }
      case 'mixture': {
        const [a, b] = await Promise.all(info.sources.map(build));
        env.progress?.({ message: `mixing ${info.sources.join(' + ')}` });
        return {
          dataset: mixDatasets(n, a.dataset, b.dataset, info.separated, env.seed),
          digests: { ...a.digests, ...b.digests },
          origins: { ...a.origins, ...b.origins },
        };
      }
    }
  };
  return build(name);
}

const generated = (dataset: ImageDataset): BuiltDataset => ({ dataset, digests: {}, origins: {} });
