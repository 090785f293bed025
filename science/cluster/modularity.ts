/**
 * Newman's modularity of a partition of a weighted graph (Newman 2006, PNAS 103:8577, eq. 3 with
 * weights; Newman 2004, Phys. Rev. E 70:056131): Q = Σ_c [ w_c / m − (d_c / 2m)² ], where m is the
 * total edge weight, w_c the weight of the edges inside cluster c and d_c the sum of the weighted
 * degrees of c's nodes. Also a Louvain partition (Blondel et al. 2008) by
 * graphology-communities-louvain, seeded, for comparison with the spectral clusters.
 */
import { UndirectedGraph } from 'graphology';
import louvainModule from 'graphology-communities-louvain';
import { forEachEdge, type LayeredGraph } from '../graph/index.ts';
import { Rng } from '../random.ts';

/** Q of `labels` (one per live node, compact order; labels < 0 are nodes outside every cluster). */
export function modularity(graph: LayeredGraph, labels: ArrayLike<number>): number {
  let m = 0;
  const inside = new Map<number, number>();
  const degree = new Map<number, number>();
  forEachEdge(graph, (i, j, w) => {
    m += w;
    if (labels[i] === labels[j]) inside.set(labels[i], (inside.get(labels[i]) ?? 0) + w);
  });
  for (let i = 0; i < graph.nodeCount; i++) degree.set(labels[i], (degree.get(labels[i]) ?? 0) + graph.degree[i]);
  if (m === 0) return 0;
  let q = 0;
  for (const [c, d] of degree) q += (inside.get(c) ?? 0) / m - (d / (2 * m)) ** 2;
  return q;
}

export interface LouvainResult {
  /** One community per live node (compact order). */
  labels: Int32Array;
  communities: number;
  modularity: number;
}

/** A Louvain partition of the graph (resolution 1), reproducible for a seed. */
export function louvainPartition(graph: LayeredGraph, seed: number): LouvainResult {
  const g = new UndirectedGraph();
  for (let i = 0; i < graph.nodeCount; i++) g.addNode(String(i));
  forEachEdge(graph, (i, j, w) => {
    g.addEdge(String(i), String(j), { weight: w });
  });
  const rng = new Rng(seed);
  // A CommonJS module: its default import is the function itself at run time.
  const louvain = louvainModule as unknown as typeof louvainModule.default;
  const result = louvain.detailed(g, { getEdgeWeight: 'weight', rng: () => rng.float() });
  const labels = Int32Array.from({ length: graph.nodeCount }, (_, i) => result.communities[String(i)]);
  return { labels, communities: result.count, modularity: modularity(graph, labels) };
}
