/**
 * `npx tsx pipeline.ts ncut FILE --k 4 [--seed S] [--shuffles N --method layer|layer_nonzero]
 *   [--layers NAMES] [--conv-norm l1|l2|successor-l1|successor-l2] [--louvain] [--json]`
 *
 * Clusters a network file — the public Arrow weights format (science/weights.ts), ONNX, a
 * PyTorch state dict, safetensors, Keras HDF5 / .keras or NumPy .npz (science/models,
 * docs/models.md) — exactly as the `cluster` stage does, reports the modularity Q of the
 * clusters (and of a Louvain partition with --louvain), and optionally compares the n-cut with N
 * shuffled copies (the `shuffle-sample` statistics). Shuffles run on worker threads (piscina).
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { tableFromIPC, type Table } from 'apache-arrow';
import type { Command } from 'commander';
import { UserError } from '../engine/errors.ts';
import type { CommandPlugin } from '../engine/project.ts';
import {
  buildGraph,
  clusterWeights,
  isShuffleMethod,
  prepareForShuffles,
  shuffleSample,
  SHUFFLE_METHODS,
  type ShuffleMethod,
  type WeightMatrix,
} from '../science/cluster/index.ts';
import { deriveSeed } from '../science/random.ts';
import { summarizeNull, type NullSummary } from '../science/stats.ts';
import { weightsFromTable, type DenseLayer } from '../science/weights.ts';
import { louvainPartition, modularity } from '../science/cluster/modularity.ts';
import { CONV_NORMS, isConvNorm, ModelFormatError, readModel, type ConvNorm, type ModelNetwork, type NodeLayer } from '../science/models/index.ts';

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
  /** Layer names or globs for files without topology (state dicts, safetensors, npz, Keras). */
  layers?: string[];
  convNorm?: ConvNorm;
  /** Also report a Louvain partition and its modularity. */
  louvain?: boolean;
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
  /** The file's format and its node layers (units or channels). */
  format: string;
  layers: NodeLayer[];
  /** Newman's modularity Q of the clusters. */
  modularity: number;
  louvain?: { communities: number; modularity: number };
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
    throw new UserError(
      `ncut: '${file}' is not an Arrow IPC weights file (${(e as Error).message}). Write one with weightsToIPC or pyarrow (see README "Weights file").`,
    );
  }
  try {
    return weightsFromTable(table, `ncut: ${file}`).layers;
  } catch (e) {
    throw new UserError((e as Error).message);
  }
}

/**
 * Read any supported network file (science/models). Every failure becomes a one-line UserError
 * naming the file: a damaged file can make a reader fail in ways no check anticipated.
 */
export async function readNetworkFile(file: string, opts: { layers?: string[]; convNorm?: ConvNorm } = {}): Promise<ModelNetwork> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (e as Error).message;
    throw new UserError(`ncut: cannot read '${file}': ${why}`);
  }
  try {
    return await readModel(bytes, { source: file, layers: opts.layers, convNorm: opts.convNorm });
  } catch (e) {
    if (e instanceof ModelFormatError) throw new UserError(`ncut: ${e.message}`);
    throw new UserError(`ncut: ${file}: cannot read the model (${(e as Error).message}); the file may be truncated or corrupt`);
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
      batches.push(pool.run({ reduced, method: opts.method, k: opts.k, nInit: opts.nInit, seeds: seeds.slice(i, i + BATCH) }));
    const out = new Float64Array(seeds.length);
    (await Promise.all(batches)).forEach((b, j) => out.set(b, j * BATCH));
    return out;
  } finally {
    await pool.destroy();
  }
}

/** The ncut verb's computation (exported for tests). */
export async function runNcut(file: string, opts: NcutOptions): Promise<NcutResult> {
  const network = await readNetworkFile(file, opts);
  const layers = network.graph.layers;
  let clustering;
  let graph;
  try {
    clustering = clusterWeights(layers, opts.k, opts.seed, { nInit: opts.nInit });
    graph = buildGraph(layers);
  } catch (e) {
    throw new UserError(`ncut: ${file}: ${(e as Error).message}`);
  }
  const compact = Int32Array.from(graph.liveNodes, (n) => clustering.labels[n]);
  const result: NcutResult = {
    file,
    k: opts.k,
    seed: opts.seed,
    ncut: clustering.ncut,
    live_nodes: clustering.liveNodes,
    neurons: clustering.labels.length,
    labels: Array.from(clustering.labels),
    format: network.format,
    layers: network.graph.nodeLayers,
    modularity: modularity(graph, compact),
  };
  if (opts.louvain) {
    const l = louvainPartition(graph, opts.seed);
    result.louvain = { communities: l.communities, modularity: l.modularity };
  }
  if (opts.shuffles > 0) {
    let samples: Float64Array;
    try {
      samples = await shuffleNcuts(prepareForShuffles(layers), opts);
    } catch (e) {
      // E.g. a layer too large to shuffle: say so in one line instead of a stack.
      throw new UserError(`ncut: ${file}: shuffles failed: ${(e as Error).message}`);
    }
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
    `${r.file} (${r.format}): ${r.layers.map((l) => `${l.name} ${l.units}${l.unit === 'channel' ? 'ch' : ''}`).join(' → ')}`,
    `${r.neurons} ${r.layers.some((l) => l.unit === 'channel') ? 'nodes (units and channels)' : 'neurons'}, ${r.live_nodes} with a non-zero weight`,
    `n-cut ${r.ncut.toFixed(6)} (k = ${r.k}, seed ${r.seed}); cluster sizes ${sizes(r.labels, r.k)}; modularity Q ${r.modularity.toFixed(6)}`,
  ];
  if (r.louvain) lines.push(`Louvain: ${r.louvain.communities} communities, modularity Q ${r.louvain.modularity.toFixed(6)}`);
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
    .description('cluster a network file and print its n-cut and modularity; with --shuffles, compare it with shuffled copies')
    .argument('<file>', 'network: Arrow weights (export schema), .onnx, PyTorch state dict (.pt), .safetensors, Keras .h5/.keras, NumPy .npz/.npy')
    .option('--k <k>', 'number of clusters', integer('--k', 2), 4)
    .option('--seed <seed>', 'seed of the clustering and the shuffles (the cluster stage uses cluster.seed, 42)', integer('--seed', 0), 42)
    .option('--shuffles <n>', 'shuffled copies to compare with (0 = none)', integer('--shuffles', 0), 0)
    .option('--method <method>', `shuffle method: ${SHUFFLE_METHODS.join(' | ')}`, 'layer')
    .option('--threads <n>', 'worker threads for the shuffles (default: one per core)', integer('--threads', 0))
    .option('--layers <names>', 'files without topology: the weight layers to use, in order (comma-separated names or globs, e.g. "features.*,classifier.*")')
    .option('--conv-norm <norm>', `edge weight of a conv kernel slice: ${CONV_NORMS.join(' | ')}`, 'l1')
    .option('--louvain', 'also report a Louvain partition (seeded) and its modularity')
    .option('--json', 'print JSON: ncut, k, labels, modularity, layers (and with --shuffles: mean, sd, z, p, n, ...)')
    .action(
      async (
        file: string,
        o: {
          k: number;
          seed: number;
          shuffles: number;
          method: string;
          threads?: number;
          layers?: string;
          convNorm: string;
          louvain?: boolean;
          json?: boolean;
        },
      ) => {
        if (!isShuffleMethod(o.method)) throw new UserError(`ncut: --method must be one of ${SHUFFLE_METHODS.join(', ')}, got '${o.method}'`);
        if (!isConvNorm(o.convNorm)) throw new UserError(`ncut: --conv-norm must be one of ${CONV_NORMS.join(', ')}, got '${o.convNorm}'`);
        const layers = o.layers
          ?.split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        const r = await runNcut(file, {
          k: o.k,
          seed: o.seed,
          shuffles: o.shuffles,
          method: o.method,
          threads: o.threads,
          layers,
          convNorm: o.convNorm,
          louvain: o.louvain,
        });
        if (o.json) {
          const { shuffles, ...rest } = r;
          process.stdout.write(JSON.stringify(shuffles ? { ...rest, ...shuffles } : rest) + '\n');
        } else process.stdout.write(formatText(r) + '\n');
      },
    );
};
