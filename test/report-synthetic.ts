/**
 * Synthetic report inputs for the report tests and bench/report.bench.ts: networks, shuffle
 * distributions and lesion results with known, seeded numbers (nothing here is trained).
 */
import { Rng } from '../science/random.ts';
import { summarizeNull } from '../science/stats.ts';
import type { LesionRecord, NetworkRecord, Phase, ReportInput, ShuffleMethod, ShuffleSummary } from '../science/report/records.ts';

export interface SyntheticScale {
  datasets?: readonly string[];
  dropouts?: readonly boolean[];
  runs?: number;
  ks?: readonly number[];
  samples?: number;
  phases?: readonly Phase[];
  initNetworks?: number;
  withSamples?: boolean;
  seed?: number;
}

/** Shuffle samples around `centre` with spread `spread`, summarised against `ncut` as shuffle-sample does. */
export function shuffleSummary(rng: Rng, ncut: number, centre: number, spread: number, n: number, withSamples = true): ShuffleSummary {
  const samples = new Float64Array(n);
  for (let i = 0; i < n; i++) samples[i] = centre + spread * rng.normal();
  const s = summarizeNull(ncut, samples);
  return { ...s, ...(withSamples ? { samples } : {}) };
}

export function syntheticNetworks(scale: SyntheticScale = {}): NetworkRecord[] {
  const {
    datasets = ['mnist', 'fashion', 'cifar10'],
    dropouts = [false, true],
    runs = 10,
    ks = [4],
    samples = 32,
    phases = ['unpruned', 'pruned'],
    initNetworks = 0,
    withSamples = true,
    seed = 1,
  } = scale;
  const rng = new Rng(seed);
  const out: NetworkRecord[] = [];
  for (const dataset of datasets)
    for (const dropout of dropouts)
      for (let run = 0; run < runs; run++)
        for (const phase of phases)
          for (const k of ks) {
            const base = (k / 2) * (phase === 'pruned' ? 1 : 1.2) - (dropout ? 0.15 : 0);
            const ncut = base + 0.02 * rng.normal();
            const shuffles: Partial<Record<ShuffleMethod, ShuffleSummary>> = {
              layer: shuffleSummary(rng, ncut, base + 0.08, 0.02, samples, withSamples),
              layer_nonzero: shuffleSummary(rng, ncut, base + 0.04, 0.02, samples, withSamples),
            };
            out.push({
              dataset,
              dropout,
              run,
              phase,
              k,
              trainAcc: 0.9 + 0.01 * rng.float(),
              testAcc: 0.88 + 0.01 * rng.float(),
              ncut,
              shuffles,
            });
          }
  for (let run = 0; run < initNetworks; run++)
    for (const k of ks)
      out.push({ dataset: 'init', dropout: false, run, phase: 'init', k, trainAcc: null, testAcc: null, ncut: 2.35 + 0.03 * rng.normal(), shuffles: {} });
  return out;
}

/** A lesion result with 3 important sub-modules over 3 layers, conditional rows for every ordered pair, and 2 edges. */
export function syntheticLesion(dataset = 'fashion', dropout = true, run = 0): LesionRecord {
  const subs = [
    { layer: 1, cluster: 0, size: 60, diff: -0.05, category: 'important' },
    { layer: 1, cluster: 2, size: 4, diff: -0.0004, category: 'small' },
    { layer: 2, cluster: 2, size: 110, diff: -0.035, category: 'important' },
    { layer: 3, cluster: 7, size: 30, diff: -0.004, category: 'sig-but-not-diff' },
    { layer: 4, cluster: 9, size: 40, diff: -0.0136, category: 'important' },
  ];
  const intact = 0.87;
  const single = subs.map((s) => ({
    layer: s.layer,
    cluster: s.cluster,
    size: s.size,
    proportion: s.size / 240,
    trueAcc: intact + s.diff,
    diff: s.diff,
    mean: intact - 0.002,
    sd: 0.001,
    z: (s.diff + 0.002) / 0.001,
    p: s.category === 'small' ? 0.5 : 1 / 101,
    category: s.category,
  }));
  const important = single.filter((s) => s.category === 'important');
  const conditional = important.flatMap((x) =>
    important
      .filter((y) => y !== x)
      .map((y) => {
        // X conditioned on Y stays important only when X is in the earlier layer (synthetic rule).
        const imp = x.layer < y.layer;
        const diff = imp ? -0.03 : -0.002;
        return {
          layerX: x.layer,
          clusterX: x.cluster,
          layerY: y.layer,
          clusterY: y.cluster,
          trueAcc: intact + y.diff + diff,
          diff,
          mean: 0,
          sd: 0,
          z: 0,
          p: imp ? 0.02 : 0.5,
          important: imp,
          category: imp ? 'important' : 'other',
        };
      }),
  );
  return {
    dataset,
    dropout,
    run,
    intactAccuracy: intact,
    single,
    joint: [],
    conditional,
    edges: [
      { fromLayer: 1, fromCluster: 0, toLayer: 2, toCluster: 2, kind: 'all-from' },
      { fromLayer: 2, fromCluster: 2, toLayer: 4, toCluster: 9, kind: 'all-to' },
    ],
  };
}

export function syntheticInput(scale: SyntheticScale = {}, lesions: LesionRecord[] = [syntheticLesion()]): ReportInput {
  return {
    networks: syntheticNetworks(scale),
    lesions,
    provenance: {
      commit: '0123456789abcdef0123456789abcdef01234567',
      commitDate: '2024-01-02T03:04:05Z',
      paramsDigest: 'feedface',
      inputs: [{ stage: 'cluster', instances: 1, digest: 'abc' }],
      backends: ['wasm 4.22.0'],
    },
  };
}
