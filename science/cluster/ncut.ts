/**
 * Normalised cut (Shi & Malik 2000) as the original computes it (`compute_ncut`, reference §3):
 *   ncut = Σ_c cut(c) / (vol(c) + ε),  cut(c) = Σ_{i∈c, j∉c} A_ij,  vol(c) = Σ_{i∈c} deg(i),
 * over the labels present except −1, with ε = 1e-8 and no ½ factor (range [0, k]).
 */
import type { CsrMatrix, LayeredGraph } from '../graph/index.ts';

export const NCUT_EPSILON = 1e-8;

function sumTerms(cut: Float64Array, vol: Float64Array, present: Uint8Array, epsilon: number): number {
  let total = 0;
  for (let c = 0; c < cut.length; c++) if (present[c]) total += cut[c] / (vol[c] + epsilon);
  return total;
}

function labelCount(labels: Int32Array | readonly number[]): number {
  let max = -1;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (!Number.isInteger(l) || l < -1) throw new RangeError(`ncut: labels must be integers ≥ −1, got ${l} at ${i}`);
    if (l > max) max = l;
  }
  return max + 1;
}

/** n-cut of a clustering of a layered weight graph; `labels` in compact order (one per live node). */
export function ncut(graph: LayeredGraph, labels: Int32Array | readonly number[], epsilon = NCUT_EPSILON): number {
  if (labels.length !== graph.nodeCount) throw new RangeError(`ncut: ${labels.length} labels for ${graph.nodeCount} nodes`);
  const k = labelCount(labels);
  const cut = new Float64Array(k);
  const vol = new Float64Array(k);
  const present = new Uint8Array(k);
  for (let i = 0; i < labels.length; i++)
    if (labels[i] >= 0) {
      vol[labels[i]] += graph.degree[i];
      present[labels[i]] = 1;
    }
  graph.blocks.forEach((b, l) => {
    const ro = graph.layerOffsets[l];
    const co = graph.layerOffsets[l + 1];
    for (let r = 0; r < b.rows; r++) {
      const a = labels[ro + r];
      let outside = 0; // Σ w over this row's edges leaving cluster a
      if (b.kind === 'dense') {
        const base = r * b.cols;
        for (let c = 0; c < b.cols; c++) {
          const lc = labels[co + c];
          if (lc !== a) {
            const w = b.values[base + c];
            outside += w;
            if (lc >= 0) cut[lc] += w;
          }
        }
      } else {
        for (let p = b.indptr[r]; p < b.indptr[r + 1]; p++) {
          const lc = labels[co + b.indices[p]];
          if (lc !== a) {
            outside += b.values[p];
            if (lc >= 0) cut[lc] += b.values[p];
          }
        }
      }
      if (a >= 0) cut[a] += outside;
    }
  });
  return sumTerms(cut, vol, present, epsilon);
}

/** n-cut of a clustering of any symmetric graph given as a CSR adjacency matrix (labels −1 are skipped as clusters). */
export function ncutAdjacency(adjacency: CsrMatrix, labels: Int32Array | readonly number[], epsilon = NCUT_EPSILON): number {
  const { n, indptr, indices, values } = adjacency;
  if (labels.length !== n) throw new RangeError(`ncutAdjacency: ${labels.length} labels for ${n} nodes`);
  const k = labelCount(labels);
  const cut = new Float64Array(k);
  const vol = new Float64Array(k);
  const present = new Uint8Array(k);
  for (let i = 0; i < n; i++) {
    const a = labels[i];
    if (a < 0) continue;
    present[a] = 1;
    for (let p = indptr[i]; p < indptr[i + 1]; p++) {
      vol[a] += values[p];
      if (labels[indices[p]] !== a) cut[a] += values[p];
    }
  }
  return sumTerms(cut, vol, present, epsilon);
}
