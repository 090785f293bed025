/**
 * Clustering benchmark (`npm run bench:cluster`): prints per-sample times of one shuffle sample
 * (shuffle + graph + eigenvectors + k-means + n-cut) on the paper's 1818-node MLP graph, one core.
 *
 * Networks: a Glorot-uniform 784-256-256-256-256-10 MLP (dense, 399,872 edges) and the same
 * network magnitude-pruned to 10 % of each layer (90 % sparsity). Pass a weights file (Arrow,
 * export schema) as the first argument to also time a real network, e.g. a trained pruned one.
 *
 * Options via environment: BENCH_SAMPLES (default 10), BENCH_K (default "4,10"), BENCH_WARMUP
 * (default 20: samples run untimed first per configuration, so the figures are the steady state a
 * shuffle-sample worker reaches after its first few of hundreds of samples, not V8's first
 * compilations), CPU=1 (CPU time instead of wall time).
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { buildGraph, clusterGraph, prepareForShuffles, shuffleLayersCompact, shuffleSample, type WeightMatrix } from '../science/cluster/index.ts';
import { spectralEmbedding } from '../science/spectral/embedding.ts';
import { kmeans } from '../science/spectral/kmeans.ts';
import { Rng, deriveSeed } from '../science/random.ts';
import { weightsFromIPC } from '../science/weights.ts';

const SIZES = [784, 256, 256, 256, 256, 10];

function glorotNetwork(seed: number): WeightMatrix[] {
  const rng = new Rng(seed);
  return SIZES.slice(1).map((fanOut, l) => {
    const fanIn = SIZES[l];
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    const kernel = new Float32Array(fanIn * fanOut);
    for (let i = 0; i < kernel.length; i++) kernel[i] = (rng.float() * 2 - 1) * limit;
    return { fanIn, fanOut, kernel };
  });
}

/** Keep the largest 10 % |w| of each layer (ties at the threshold kept, like tfmot). */
function magnitudePrune(layers: WeightMatrix[], density: number): WeightMatrix[] {
  return layers.map((l) => {
    const abs = Float32Array.from(l.kernel, Math.abs).sort();
    const keep = Math.round(abs.length * density);
    const threshold = abs[abs.length - keep];
    return { ...l, kernel: Float32Array.from(l.kernel, (w) => (Math.abs(w) >= threshold ? w : 0)) };
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Wall time (ms) of fn; with CPU=1 in the environment, this process's CPU time instead (less sensitive to a busy machine). */
const useCpu = process.env.CPU === '1';
function time<T>(fn: () => T): [T, number] {
  if (useCpu) {
    const c0 = process.cpuUsage();
    const r = fn();
    const c = process.cpuUsage(c0);
    return [r, (c.user + c.system) / 1000];
  }
  const t0 = performance.now();
  const r = fn();
  return [r, performance.now() - t0];
}

const samples = Number(process.env.BENCH_SAMPLES ?? 10);
const warmup = Number(process.env.BENCH_WARMUP ?? 20);
const ks = (process.env.BENCH_K ?? '4,10').split(',').map(Number);

const networks: [string, WeightMatrix[]][] = [
  ['glorot dense', glorotNetwork(1)],
  ['glorot pruned 90%', magnitudePrune(glorotNetwork(1), 0.1)],
];
if (process.argv[2]) networks.push([`file ${process.argv[2]}`, weightsFromIPC(readFileSync(process.argv[2]), process.argv[2]).layers]);

console.log(`one shuffle sample, ${samples} samples each after ${warmup} untimed, median (min) ms of ${useCpu ? 'CPU' : 'wall'} time, one thread`);
for (const [name, layers] of networks) {
  const reduced = prepareForShuffles(layers);
  const g0 = buildGraph(reduced);
  console.log(`\n${name}: ${g0.nodeCount} live nodes, ${g0.edgeCount} edges`);
  for (const k of ks) {
    for (const method of ['layer', 'layer_nonzero'] as const) {
      // Warm-up (JIT), the whole sample and its parts, on seeds the timed samples do not use.
      for (let w = 0; w < warmup; w++) {
        const seed = deriveSeed(12345, w);
        shuffleSample(reduced, method, k, seed);
        const graph = buildGraph(shuffleLayersCompact(reduced, method, new Rng(deriveSeed(seed, 0))));
        kmeans(spectralEmbedding(graph, k, deriveSeed(seed, 1)).embedding, graph.nodeCount, k, k, deriveSeed(seed, 2));
      }
      const total: number[] = [];
      const parts = { shuffle: [] as number[], graph: [] as number[], eig: [] as number[], kmeans: [] as number[], apps: [] as number[] };
      for (let s = 0; s < samples; s++) {
        const seed = deriveSeed(99, s);
        const [, t] = time(() => shuffleSample(reduced, method, k, seed));
        total.push(t);
        // The same sample again, timed by part (as shuffleSample does it: sparse shuffles stay sparse).
        const [shuffled, ts] = time(() => shuffleLayersCompact(reduced, method, new Rng(deriveSeed(seed, 0))));
        const [graph, tg] = time(() => buildGraph(shuffled));
        const [emb, te] = time(() => spectralEmbedding(graph, k, deriveSeed(seed, 1)));
        const [, tk] = time(() => kmeans(emb.embedding, graph.nodeCount, k, k, deriveSeed(seed, 2)));
        parts.shuffle.push(ts);
        parts.graph.push(tg);
        parts.eig.push(te);
        parts.kmeans.push(tk);
        parts.apps.push(emb.applications);
      }
      console.log(
        `  k=${String(k).padStart(2)} ${method.padEnd(13)} total ${median(total).toFixed(1)} (${Math.min(...total).toFixed(1)})` +
          `  | shuffle ${median(parts.shuffle).toFixed(1)} graph ${median(parts.graph).toFixed(1)} eigen ${median(parts.eig).toFixed(1)}` +
          ` [${median(parts.apps)} matvecs] kmeans ${median(parts.kmeans).toFixed(1)}`,
      );
    }
  }
  const [, tc] = time(() => clusterGraph(g0, 4, 42));
  console.log(`  clustering the network itself, k=4: ${tc.toFixed(1)} ms`);
}
