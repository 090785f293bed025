/**
 * Spectral clustering of MLP weight graphs and the shuffle nulls (Filan et al. §2–§3): the one-call
 * API other areas use, plus the lower-level pieces.
 *
 *   clusterWeights(layers, k, seed) → labels per neuron in node order (−1 for removed neurons),
 *   the n-cut and the number of live nodes.
 *   shuffleSample(reduced, method, k, seed) → the n-cut of one shuffled copy of the reduced network.
 */
import { buildGraph, reduceNetwork, type LayeredGraph, type WeightMatrix } from '../graph/index.ts';
import { Rng, deriveSeed } from '../random.ts';
import { spectralEmbedding, type EmbeddingOptions } from '../spectral/embedding.ts';
import { kmeans } from '../spectral/kmeans.ts';
import { ncut } from './ncut.ts';
import { rememberNonzeroPositions, shuffleLayersCompact, type ShuffleMethod } from './shuffle.ts';

export { buildGraph, reduceNetwork, toAdjacency, toDenseAdjacency, forEachEdge, nodeLayerOf, GraphInputError } from '../graph/index.ts';
export type { LayeredGraph, WeightMatrix, SparseWeightMatrix, AnyWeightMatrix, GraphBlock, CsrMatrix } from '../graph/index.ts';
export { spectralEmbedding, kmeans, kmeansPlusPlus, symmetricEigen, largestEigenpairs } from '../spectral/index.ts';
export { ncut, ncutAdjacency, NCUT_EPSILON } from './ncut.ts';
export { shuffleLayers, shuffleLayersCompact, shuffleKernel, shuffleKernelCompact, isShuffleMethod, SHUFFLE_METHODS, type ShuffleMethod } from './shuffle.ts';

export interface ClusterOptions {
  /** k-means restarts (scikit-learn n_init); default: kmeans's, scikit-learn's. Stages pass `cluster.n_init`. */
  nInit?: number;
  /** Eigensolver choice and tolerance. */
  embedding?: EmbeddingOptions;
}

/** A network or graph that cannot be clustered as asked (too few live nodes, no edges). */
export class ClusterInputError extends Error {
  override name = 'ClusterInputError';
}

export interface GraphClustering {
  /** One label in 0..k-1 per live node (compact order). */
  labels: Int32Array;
  ncut: number;
}

/** Spectral clustering of a graph (sklearn SpectralClustering(affinity='precomputed', assign_labels='kmeans')). */
export function clusterGraph(graph: LayeredGraph, k: number, seed: number, opts: ClusterOptions = {}): GraphClustering {
  if (!Number.isInteger(k) || k < 1) throw new ClusterInputError(`k must be a positive integer, got ${k}`);
  if (graph.edgeCount === 0) throw new ClusterInputError('the network has no non-zero weights, so its graph has no edges to cluster');
  if (graph.nodeCount < k) throw new ClusterInputError(`the graph has ${graph.nodeCount} live nodes, fewer than k = ${k} clusters`);
  const emb = spectralEmbedding(graph, k, deriveSeed(seed, 1), opts.embedding);
  const { labels } = kmeans(emb.embedding, graph.nodeCount, k, k, deriveSeed(seed, 2), { nInit: opts.nInit });
  return { labels, ncut: ncut(graph, labels) };
}

export interface WeightsClustering {
  /** One label per neuron in node order (inputs, hidden layers, outputs); −1 for removed (degree-0) neurons. */
  labels: Int32Array;
  ncut: number;
  /** Neurons with at least one non-zero weight. */
  liveNodes: number;
}

/** Cluster a network's weight graph into k clusters (the API the lesion area uses). */
export function clusterWeights(layers: WeightMatrix[], k: number, seed: number, opts: ClusterOptions = {}): WeightsClustering {
  const graph = buildGraph(layers);
  const result = clusterGraph(graph, k, seed, opts);
  const labels = new Int32Array(graph.fullNodeCount).fill(-1);
  for (let i = 0; i < graph.nodeCount; i++) labels[graph.liveNodes[i]] = result.labels[i];
  return { labels, ncut: result.ncut, liveNodes: graph.nodeCount };
}

/**
 * One sample of a shuffle null: shuffle the (already reduced) network with `method`, rebuild the
 * graph (dropping nodes the shuffle isolated), cluster it and return its n-cut. The shuffle draws
 * from deriveSeed(seed, 0), the clustering from deriveSeed(seed, 1).
 */
export function shuffleSample(reduced: readonly WeightMatrix[], method: ShuffleMethod, k: number, seed: number, opts: ClusterOptions = {}): number {
  // Mostly-zero shuffled kernels stay sparse: the graph is built without a dense copy.
  const shuffled = shuffleLayersCompact(reduced, method, new Rng(deriveSeed(seed, 0)));
  return clusterGraph(buildGraph(shuffled), k, deriveSeed(seed, 1), opts).ncut;
}

/**
 * The network restricted to its live nodes, ready for `shuffleSample`: fresh kernels whose non-zero
 * positions are remembered, so each sample skips rescanning them. Do not modify the returned kernels.
 */
export function prepareForShuffles(layers: readonly WeightMatrix[]): WeightMatrix[] {
  const reduced = reduceNetwork(layers);
  for (const layer of reduced) rememberNonzeroPositions(layer.kernel);
  return reduced;
}
