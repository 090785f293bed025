/**
 * `npx tsx pipeline.ts ncut FILE --k 4 [--seed S] [--shuffles N --method layer|layer_nonzero] [--json]`
 *
 * Clusters any network in the public weights format (science/weights.ts; e.g. an `export`
 * output, or a network trained elsewhere and written with pyarrow) exactly as the `cluster`
 * stage does, and optionally compares its n-cut with N shuffled copies (the `shuffle-sample`
 * statistics). Shuffles run on worker threads (piscina), one per core.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { tableFromIPC, type Table } from 'apache-arrow';
import type { Command } from 'commander';
import { UserError } from '../engine/errors.ts';
import type { CommandPlugin } from '../engine/project.ts';
import { clusterWeights, isShuffleMethod, prepareForShuffles, shuffleSample, SHUFFLE_METHODS, type ShuffleMethod, type WeightMatrix } from '../science/cluster/index.ts';
import { deriveSeed } from '../science/random.ts';
import { summarizeNull, type NullSummary } from '../science/stats.ts';
import { weightsFromTable, type DenseLayer } from '../science/weights.ts';

/** Stream tag of the shuffle seeds: shuffle i uses deriveSeed(seed, SHUFFLE_STREAM, i). */
const SHUFFLE_STREAM = 1;
/** Samples per worker task. */
const BATCH = 8;

export interface NcutOptions {
  k: number;
  seed: number;
  shuffles: number;
  method: ShuffleMethod;
  nInit?: number;
  /** Worker threads for the shuffles; 0 or 1 = none (in this thread). Default: one per core. */
  threads?: number;
}

export interface NcutResult {
  file: string;
  k: number;
  seed: number;
  ncut: number;
  live_nodes: number;
  neurons: number;
  /** One per neuron in node order, −1 for removed neurons. */
  labels: number[];
  shuffles?: NullSummary & { method: ShuffleMethod; samples: number[] };
}

/** Read a weights file; every failure becomes a UserError naming the file. */
export function readWeightsFile(file: string): DenseLayer[] {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (e as Error).message;
    throw new UserError(`ncut: cannot read weights file '${file}': ${why}. Pass an Arrow IPC weights file (export schema, see README "Weights file").`);
  }
  let table: Table;
  try {
    table = tableFromIPC(bytes);
    if (table.numCols === 0) throw new Error('no columns');
  } catch (e) {
    throw new UserError(`ncut: '${file}' is not an Arrow IPC weights file (${(e as Error).message}). Write one with weightsToIPC or pyarrow (see README "Weights file").`);
  }
  try {
    return weightsFromTable(table, `ncut: ${file}`).layers;
  } catch (e) {
    throw new UserError((e as Error).message);
  }
}

async function shuffleNcuts(reduced: WeightMatrix[], opts: NcutOptions): Promise<Float64Array> {
  const seeds = Array.from({ length: opts.shuffles }, (_, i) => deriveSeed(opts.seed, SHUFFLE_STREAM, i));
  const threads = Math.min(opts.threads ?? availableParallelism(), Math.ceil(seeds.length / BATCH));
  if (threads <= 1) return Float64Array.from(seeds, (s) => shuffleSample(reduced, opts.method, opts.k, s, { nInit: opts.nInit }));
  const { Piscina } = await import('piscina');
  const pool = new Piscina({ filename: new URL('./ncut-worker.mjs', import.meta.url).href, maxThreads: threads, minThreads: threads });
  try {
    const batches: Promise<Float64Array>[] = [];
    for (let i = 0; i < seeds.length; i += BATCH)
      batches.push(pool.run({ reduced, method: opts.method, k: opts.k, nInit: opts.nInit ?? 10, seeds: seeds.slice(i, i + BATCH) }));
    const out = new Float64Array(seeds.length);
    (await Promise.all(batches)).forEach((b, j) => out.set(b, j * BATCH));
    return out;
  } finally {
    await pool.destroy();
  }
}

/** The ncut verb's computation (exported for tests). */
export async function runNcut(file: string, opts: NcutOptions): Promise<NcutResult> {
  const layers = readWeightsFile(file);
  let clustering;
  try {
    clustering = clusterWeights(layers, opts.k, opts.seed, { nInit: opts.nInit });
  } catch (e) {
    throw new UserError(`ncut: ${file}: ${(e as Error).message}`);
  }
  const result: NcutResult = {
    file,
    k: opts.k,
    seed: opts.seed,
    ncut: clustering.ncut,
    live_nodes: clustering.liveNodes,
    neurons: clustering.labels.length,
    labels: Array.from(clustering.labels),
  };
  if (opts.shuffles > 0) {
    const samples = await shuffleNcuts(prepareForShuffles(layers), opts);
    result.shuffles = { method: opts.method, ...summarizeNull(clustering.ncut, samples), samples: Array.from(samples) };
  }
  return result;
}

function integer(flag: string, min: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < min) throw new UserError(`ncut: ${flag} must be an integer ≥ ${min}, got '${v}'`);
    return n;
  };
}

function formatText(r: NcutResult): string {
  const lines = [
    `${r.file}: ${r.neurons} neurons, ${r.live_nodes} with a non-zero weight`,
    `n-cut ${r.ncut.toFixed(6)} (k = ${r.k}, seed ${r.seed}); cluster sizes ${sizes(r.labels, r.k)}`,
  ];
  const s = r.shuffles;
  if (s) {
    lines.push(
      `${s.method} shuffles: n = ${s.n}, mean ${s.mean.toFixed(6)}, sd ${s.sd.toFixed(6)}, min ${s.min.toFixed(6)}, max ${s.max.toFixed(6)}`,
      `z ${s.z.toFixed(3)}, p ${s.p.toFixed(6)} — ${s.significant ? `significant: below all ${s.n} shuffles` : `not significant (smallest possible p is ${(1 / (s.n + 1)).toFixed(6)})`}`,
    );
  }
  return lines.join('\n');
}

function sizes(labels: number[], k: number): string {
  const count = new Array(k).fill(0);
  for (const l of labels) if (l >= 0) count[l]++;
  return count.join(' / ');
}

export const ncutCommand: CommandPlugin = (program: Command) => {
  program
    .command('ncut')
    .description('cluster a weights file (export schema) and print its n-cut; with --shuffles, compare it with shuffled copies')
    .argument('<file>', 'Arrow IPC weights file (layer, fan_in, fan_out, kernel, bias)')
    .option('--k <k>', 'number of clusters', integer('--k', 2), 4)
    .option('--seed <seed>', 'seed of the clustering and the shuffles (the cluster stage uses cluster.seed, 42)', integer('--seed', 0), 42)
    .option('--shuffles <n>', 'shuffled copies to compare with (0 = none)', integer('--shuffles', 0), 0)
    .option('--method <method>', `shuffle method: ${SHUFFLE_METHODS.join(' | ')}`, 'layer')
    .option('--threads <n>', 'worker threads for the shuffles (default: one per core)', integer('--threads', 0))
    .option('--json', 'print JSON: ncut, k, labels (and with --shuffles: mean, sd, z, p, n, ...)')
    .action(async (file: string, o: { k: number; seed: number; shuffles: number; method: string; threads?: number; json?: boolean }) => {
      if (!isShuffleMethod(o.method)) throw new UserError(`ncut: --method must be one of ${SHUFFLE_METHODS.join(', ')}, got '${o.method}'`);
      const r = await runNcut(file, { k: o.k, seed: o.seed, shuffles: o.shuffles, method: o.method, threads: o.threads });
      if (o.json) {
        const { shuffles, ...rest } = r;
        process.stdout.write(JSON.stringify(shuffles ? { ...rest, ...shuffles } : rest) + '\n');
      } else process.stdout.write(formatText(r) + '\n');
    });
};
