/**
 * `npm run bench:datasets`: time the datasets stage's work, and print the figures.
 * - MNIST from the offline mirror: read + gunzip + verify sha256 + parse IDX + check histograms,
 *   then build the Arrow table and write it as an IPC file (target ≤ 5 s in total).
 * - The same for Fashion-MNIST; generating LINES and RANDOM; a mixture; the CIFAR-10 gray
 *   conversion on synthetic records (CIFAR-10 itself is not in the mirror).
 * Mirror: $NNMOD_MIRROR, else ../shared/datasets. Each figure is the best of `--reps N` (default 3).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tableToIPC } from 'apache-arrow';
import { buildDataset } from '../science/datasets/load.ts';
import { waitForLock } from '../engine/lock.ts';
import { generateLines, generateRandom } from '../science/datasets/generate.ts';
import { mixDatasets } from '../science/datasets/mix.ts';
import { cifarBatchesToSplit, CIFAR_RECORD_BYTES } from '../science/datasets/cifar.ts';
import { datasetToTable, type ImageDataset } from '../science/datasets/table.ts';

const repsArg = process.argv.indexOf('--reps');
const reps = repsArg > 0 ? Number(process.argv[repsArg + 1]) : 3;
const mirror = process.env.NNMOD_MIRROR || resolve(fileURLToPath(new URL('.', import.meta.url)), '../../shared/datasets');
const scratch = mkdtempSync(join(tmpdir(), 'nnmod-bench-datasets-'));

async function best<T>(fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  let bestMs = Infinity;
  let value!: T;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    value = await fn();
    bestMs = Math.min(bestMs, performance.now() - t0);
  }
  return { ms: bestMs, value };
}

const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function writeTable(ds: ImageDataset): number {
  const bytes = tableToIPC(datasetToTable(ds), 'file');
  writeFileSync(join(scratch, `${ds.name}.arrow`), bytes);
  return bytes.length;
}

try {
  console.log(`datasets benchmark (best of ${reps}; node ${process.version})`);
  if (existsSync(join(mirror, 'mnist'))) {
    for (const name of ['mnist', 'fashion']) {
      const env = { seed: 42, downloadsDir: join(scratch, 'dl'), mirror, urls: () => [], lock: waitForLock };
      const load = await best(() => buildDataset(name, env));
      const write = await best(() => writeTable(load.value.dataset));
      const total = await best(async () => writeTable((await buildDataset(name, env)).dataset));
      console.log(
        `${name.padEnd(8)} from mirror: load+verify+parse ${fmt(load.ms)}, Arrow table + IPC write ${fmt(write.ms)} (${(write.value / 1e6).toFixed(1)} MB), ` +
          `total ${fmt(total.ms)}${name === 'mnist' ? ` (target ≤ 5 s: ${total.ms <= 5000 ? 'met' : 'NOT met'})` : ''}`,
      );
    }
  } else {
    console.log(`MNIST: skipped, no mirror at ${mirror} (set NNMOD_MIRROR)`);
  }
  const line = await best(() => generateLines(42));
  console.log(`line     generate 60k+10k: ${fmt(line.ms)}`);
  const random = await best(() => generateRandom(42));
  console.log(`random   generate 60k+10k: ${fmt(random.ms)}`);
  const mix = await best(() => mixDatasets('line-random-separated', line.value, random.value, true, 42));
  console.log(`mixture  line+random separated (~35k+6k rows): ${fmt(mix.ms)}`);
  const n = 10000;
  const batch = new Uint8Array(n * CIFAR_RECORD_BYTES);
  for (let i = 0; i < batch.length; i++) batch[i] = (i * 2654435761) >>> 24;
  for (let i = 0; i < n; i++) batch[i * CIFAR_RECORD_BYTES] = i % 10;
  const cifar = await best(() => cifarBatchesToSplit([{ name: 'synthetic', bytes: batch }]));
  console.log(`cifar10  gray 28×28 conversion: ${fmt(cifar.ms)} per 10k images (≈ ${fmt(cifar.ms * 6)} for all 60k)`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
