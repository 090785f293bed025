/**
 * Stage `datasets`: one instance per dataset named in params (`datasets.names`), axis `dataset`.
 * Output `table`: the dataset table of science/datasets/table.ts (split, label, pixels[784],
 * source for mixtures). Metrics: n_train, n_test and `sha256:<dataset>/<file>` for every
 * official file verified.
 *
 * Official files come from the mirror directory in NNMOD_MIRROR (set by `repro --mirror DIR`),
 * else from earlier verified downloads in ctx.downloadsDir, else from the official URLs (each
 * download under the engine's lock, so concurrent instances fetch a file once). None of
 * that enters the key: every file is checked against the registry's content digests, which do
 * (registry.ts is in this stage's import closure). Only generated datasets and mixtures read
 * the seed, so changing it never rebuilds MNIST.
 */
import { defineStage } from '../engine/types.ts';
import { waitForLock } from '../engine/lock.ts';
import { buildDataset, MIRROR_ENV } from '../science/datasets/load.ts';
import { datasetInfo } from '../science/datasets/registry.ts';
import { datasetToTable, splitSize } from '../science/datasets/table.ts';
import type { Params } from './params/index.ts';

/** What enters the key besides the dataset name: the seed, for datasets that draw random numbers. */
interface DatasetsInstanceParams {
  seed?: number;
}

export const datasetsStage = defineStage({
  module: import.meta.url,
  name: 'datasets',
  description: 'Download and verify, or generate, each dataset; store it as an Arrow table',
  deps: [],
  matrix: (p: Params) => p.datasets.names.map((dataset) => ({ dataset })),
  params: (p: Params, axes): DatasetsInstanceParams => (datasetInfo(String(axes.dataset)).kind === 'download' ? {} : { seed: p.datasets.seed }),
  outputs: ['table'],
  async run(ctx) {
    const name = String(ctx.axes.dataset);
    const built = await buildDataset(name, {
      seed: ctx.params.seed ?? 0,
      downloadsDir: ctx.downloadsDir,
      lock: waitForLock,
      mirror: process.env[MIRROR_ENV] || undefined,
      progress: ctx.progress,
      signal: ctx.signal,
    });
    ctx.progress({ message: `writing the ${name} table` });
    const metrics: Record<string, number | string> = {
      n_train: splitSize(built.dataset.train),
      n_test: splitSize(built.dataset.test),
    };
    for (const [file, digest] of Object.entries(built.digests)) metrics[`sha256:${file}`] = digest;
    return { outputs: { table: datasetToTable(built.dataset) }, metrics };
  },
});
