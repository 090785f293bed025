/**
 * Sub-modules and their random controls (paper §4.1–4.2; original
 * `src/lesion/experimentation.py:_layers_labels_gen`, `_single_damaged_neurons_gen`,
 * `_double_conditional_damaged_neurons_gen`).
 *
 * A sub-module is (hidden layer ℓ, cluster c): the live (not removed, label ≠ −1) neurons of
 * layer ℓ labelled c. Its random control in one trial is a uniformly random set of the same
 * size from the live neurons of the same layer, drawn as the original did: one random
 * permutation of the live neurons' labels per layer and trial, so the controls of one layer's
 * sub-modules are disjoint within a trial.
 */
import { Rng, deriveSeed } from '../random.ts';
import { LesionInputError } from './lesion.ts';

export interface Submodule {
  /** Position in the sorted (layer, cluster) list. */
  readonly index: number;
  /** Hidden layer, 1..L−1 (the lesion level). */
  readonly layer: number;
  readonly cluster: number;
  /** Neuron indices within the layer, ascending. */
  readonly neurons: Int32Array;
  /** Live neurons in the layer (the denominator of `proportion`). */
  readonly liveInLayer: number;
}

/** The live neurons of one hidden layer and their cluster labels (same order). */
export interface LiveLayer {
  readonly layer: number;
  readonly live: Int32Array;
  readonly labels: Int32Array;
}

export interface SubmoduleSet {
  readonly submodules: readonly Submodule[];
  /** Indexed by hidden layer: liveLayers[ℓ − 1] is layer ℓ. */
  readonly liveLayers: readonly LiveLayer[];
}

/**
 * Sub-modules from a clustering. `labels` has one entry per node in node order (inputs, hidden
 * layers, outputs), −1 for removed nodes; `widths` are the node counts of every level
 * (e.g. [784, 256, 256, 256, 256, 10]). Sorted by (layer, cluster).
 */
export function findSubmodules(labels: Int32Array, widths: readonly number[]): SubmoduleSet {
  const total = widths.reduce((s, w) => s + w, 0);
  if (labels.length !== total)
    throw new LesionInputError(`clustering labels: ${labels.length} labels for a network with ${total} neurons (${widths.join('-')})`);
  const submodules: Submodule[] = [];
  const liveLayers: LiveLayer[] = [];
  let offset = widths[0];
  for (let layer = 1; layer < widths.length - 1; layer++) {
    const width = widths[layer];
    const live: number[] = [];
    const byCluster = new Map<number, number[]>();
    for (let n = 0; n < width; n++) {
      const c = labels[offset + n];
      if (c === -1) continue;
      if (!Number.isInteger(c) || c < 0)
        throw new LesionInputError(`clustering labels: label ${c} at node ${offset + n} (expected −1 or a cluster number ≥ 0)`);
      live.push(n);
      let list = byCluster.get(c);
      if (!list) byCluster.set(c, (list = []));
      list.push(n);
    }
    const liveArr = Int32Array.from(live);
    liveLayers.push({ layer, live: liveArr, labels: Int32Array.from(live, (n) => labels[offset + n]) });
    for (const c of [...byCluster.keys()].sort((a, b) => a - b))
      submodules.push({ index: submodules.length, layer, cluster: c, neurons: Int32Array.from(byCluster.get(c)!), liveInLayer: live.length });
    offset += width;
  }
  return { submodules, liveLayers };
}

/** Seed streams, so that each kind of random draw is independent of the others and of order. */
const JOINT_STREAM = 1;
const CONDITIONAL_STREAM = 2;

/**
 * Permute the labels among `pool` (live neurons, maybe minus a conditioning sub-module) and
 * return, per cluster label, the neurons that received it (ascending). Sizes are preserved.
 */
function permutedSets(pool: Int32Array, poolLabels: Int32Array, rng: Rng): Map<number, Int32Array> {
  const perm = rng.permutation(pool.length);
  const lists = new Map<number, number[]>();
  for (let pos = 0; pos < pool.length; pos++) {
    const c = poolLabels[perm[pos]];
    let list = lists.get(c);
    if (!list) lists.set(c, (list = []));
    list.push(pool[pos]);
  }
  return new Map([...lists].map(([c, l]) => [c, Int32Array.from(l)]));
}

/**
 * One trial's random control of every sub-module (indexed like `submodules`): per hidden
 * layer, one permutation of the live neurons' labels (original `_layers_labels_gen(to_shuffle)`).
 */
export function randomControls(set: SubmoduleSet, seed: number): Int32Array[] {
  const perLayer = set.liveLayers.map((l) => permutedSets(l.live, l.labels, new Rng(deriveSeed(seed, JOINT_STREAM, l.layer))));
  return set.submodules.map((s) => perLayer[s.layer - 1].get(s.cluster)!);
}

/**
 * Random controls of the sub-modules in the layer of the conditioning sub-module `given`
 * (conditional double lesions, "X | Y" with X and Y in one layer): the labels are permuted
 * among the layer's live neurons *excluding* Y's, so X's control never overlaps Y. Returns a
 * map from sub-module index to its control, for every other sub-module of Y's layer. (For X in
 * another layer the trial's `randomControls` are used: their pool does not involve Y.)
 */
export function conditionalControls(set: SubmoduleSet, given: Submodule, seed: number): Map<number, Int32Array> {
  const layer = set.liveLayers[given.layer - 1];
  const keep: number[] = [];
  for (let i = 0; i < layer.live.length; i++) if (layer.labels[i] !== given.cluster) keep.push(i);
  const pool = Int32Array.from(keep, (i) => layer.live[i]);
  const poolLabels = Int32Array.from(keep, (i) => layer.labels[i]);
  const sets = permutedSets(pool, poolLabels, new Rng(deriveSeed(seed, CONDITIONAL_STREAM, given.index)));
  const out = new Map<number, Int32Array>();
  for (const s of set.submodules) if (s.layer === given.layer && s.index !== given.index) out.set(s.index, sets.get(s.cluster)!);
  return out;
}
