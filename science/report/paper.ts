/**
 * The paper's published numbers, kept as data with the table each came from, so every report
 * table can print the paper's value beside ours.
 *
 * Source: Filan et al., "Pruned neural networks are surprisingly modular" (arXiv 2003.04881),
 * transcribed from the paper text (/work/shared/paper/paper.txt). The `layer_nonzero` twins of
 * Tables 1 and A.1–A.3 are not printed in the paper; their reference values come from the
 * original code's notebook outputs, as recorded in original-implementation.md §11.1–11.2
 * (`source` says which). Dataset names are this project's `dataset` axis values.
 */

/** Mean and standard deviation as printed ("2.000 ± 0.035"). */
export type MeanSd = readonly [mean: number, sd: number];

/** One (dataset, dropout) row of a clusterability summary table (Tables 1–4, A.1–A.3, A.16–A.17). */
export interface PaperConditionRow {
  readonly dataset: string;
  readonly dropout: boolean;
  /** Proportion of the 10 networks significantly clusterable (p = 1/(n+1)). */
  readonly propSig?: number;
  readonly trainAcc?: number;
  readonly testAcc?: number;
  /** N-cuts of the unpruned networks (Tables 2–4). */
  readonly unprunedNcut?: MeanSd;
  /** N-cuts of the pruned networks: mean ± sd over the 10 networks. */
  readonly ncut?: MeanSd;
  /** Only a mean is known (reference values from the original notebooks). */
  readonly ncutMean?: number;
  /** Shuffle distribution over all shuffles of all networks: mean ± sd. */
  readonly dist?: MeanSd;
  readonly distMean?: number;
}

export interface PaperConditionTable {
  /** Where the numbers come from, e.g. "Table 1" or "original-implementation.md §11.1". */
  readonly source: string;
  readonly rows: readonly PaperConditionRow[];
}

export interface PaperTableSource<Row> {
  readonly source: string;
  readonly rows: readonly Row[];
}

/** run, n-cut, p, dist mean, dist sd, p (non-zero), non-zero dist mean, non-zero dist sd, Cohen's d */
export type PaperNetworkRow = readonly [number, number, number, number, number, number, number, number, number];

export interface PaperNetworkTable {
  readonly id: string;
  readonly source: string;
  readonly dataset: string;
  readonly dropout: boolean;
  readonly phase: 'unpruned' | 'pruned';
  readonly rows: readonly PaperNetworkRow[];
}

/** layer, label, acc. diff, p, proportion, type, acc. diff. dist mean, acc. diff. dist sd */
export type PaperSingleLesionRow = readonly [number, number, number, number, number, string, number, number];
/** X, Y ("layer-module"), X|Y important, Y|X important, δ(X,Y), δ(Y,X) */
export type PaperDependencyRow = readonly [string, string, boolean, boolean, number, number];

const MAIN_DATASETS = ['mnist', 'fashion', 'cifar10'] as const;

function conditionRows(cells: readonly (readonly [propSig: number, trainAcc: number, testAcc: number, ncut: MeanSd, dist: MeanSd])[]): PaperConditionRow[] {
  // Rows in the paper's order: MNIST ×, MNIST √, Fashion ×, Fashion √, CIFAR-10 ×, CIFAR-10 √.
  return cells.map(([propSig, trainAcc, testAcc, ncut, dist], i) => ({
    dataset: MAIN_DATASETS[Math.floor(i / 2)],
    dropout: i % 2 === 1,
    propSig,
    trainAcc,
    testAcc,
    ncut,
    dist,
  }));
}

/** Table 1 (k = 4, `layer` shuffles) and Tables A.1–A.3 (k = 7, 10, 2), by k. */
export const PAPER_CLUSTERABILITY: Readonly<Record<number, PaperConditionTable>> = {
  4: {
    source: 'Table 1',
    rows: conditionRows([
      [0.7, 1.0, 0.984, [2.0, 0.035], [2.042, 0.017]],
      [1.0, 0.967, 0.979, [1.84, 0.015], [2.039, 0.019]],
      [1.0, 0.983, 0.893, [1.88, 0.03], [1.992, 0.018]],
      [1.0, 0.863, 0.869, [1.726, 0.022], [2.013, 0.017]],
      [0.1, 0.65, 0.415, [2.06, 0.14], [2.001, 0.017]],
      [0.9, 0.427, 0.422, [1.84, 0.089], [1.997, 0.014]],
    ]),
  },
  7: {
    source: 'Table A.1',
    rows: conditionRows([
      [1.0, 1.0, 0.984, [4.556, 0.052], [4.71, 0.026]],
      [1.0, 0.967, 0.979, [4.222, 0.035], [4.712, 0.023]],
      [1.0, 0.983, 0.893, [4.351, 0.057], [4.613, 0.029]],
      [1.0, 0.863, 0.869, [4.079, 0.046], [4.663, 0.029]],
      [0.1, 0.65, 0.415, [4.707, 0.101], [4.647, 0.024]],
      [0.9, 0.427, 0.422, [4.373, 0.16], [4.618, 0.035]],
    ]),
  },
  10: {
    source: 'Table A.2',
    rows: conditionRows([
      [1.0, 1.0, 0.984, [7.137, 0.042], [7.397, 0.037]],
      [1.0, 0.967, 0.979, [6.688, 0.035], [7.421, 0.031]],
      [0.9, 0.983, 0.893, [6.975, 0.117], [7.257, 0.036]],
      [1.0, 0.863, 0.869, [6.46, 0.041], [7.339, 0.034]],
      [0.2, 0.65, 0.415, [7.331, 0.125], [7.303, 0.031]],
      [1.0, 0.427, 0.422, [6.973, 0.169], [7.298, 0.048]],
    ]),
  },
  2: {
    source: 'Table A.3',
    rows: conditionRows([
      [0, 1.0, 0.984, [0.333, 0.003], [0.33, 0.003]],
      [0, 0.967, 0.979, [0.332, 0.002], [0.323, 0.003]],
      [0, 0.983, 0.893, [0.319, 0.003], [0.313, 0.003]],
      [0, 0.863, 0.869, [0.312, 0.003], [0.312, 0.003]],
      [0.9, 0.65, 0.415, [0.306, 0.01], [0.313, 0.006]],
      [0.9, 0.427, 0.422, [0.29, 0.015], [0.308, 0.008]],
    ]),
  },
};

/**
 * The `layer_nonzero` twins of Table 1 / A.1–A.3: not in the paper; reference values of the
 * original code (original-implementation.md §11.1 for k = 4, §11.2 for k = 2, 7, 10).
 */
export const PAPER_CLUSTERABILITY_NONZERO: Readonly<Record<number, PaperConditionTable>> = {
  4: {
    source: 'original-implementation.md §11.1 (mlp-clustering-stability.ipynb)',
    rows: (
      [
        // dataset, dropout, significant of 10, test acc, n-cut mean ± sd, non-zero shuffle mean
        ['mnist', false, 8, 0.9836, [2.0, 0.035], 2.066],
        ['mnist', true, 9, 0.9794, [1.84, 0.015], 1.905],
        ['fashion', false, 0, 0.8934, [1.88, 0.03], 1.94],
        ['fashion', true, 8, 0.8692, [1.726, 0.022], 1.799],
        ['cifar10', false, 0, 0.4152, [2.06, 0.14], 2.021],
        ['cifar10', true, 3, 0.4219, [1.84, 0.089], 1.873],
      ] as const
    ).map(([dataset, dropout, sig, testAcc, ncut, distMean]) => ({ dataset, dropout, propSig: sig / 10, testAcc, ncut, distMean })),
  },
  ...Object.fromEntries(
    (
      [
        // k: n-cut mean and non-zero shuffle mean per row in the Table 1 order
        [
          2,
          [
            [0.333, 0.332],
            [0.332, 0.331],
            [0.319, 0.318],
            [0.312, 0.312],
            [0.306, 0.297],
            [0.29, 0.257],
          ],
        ],
        [
          7,
          [
            [4.556, 4.653],
            [4.222, 4.344],
            [4.351, 4.457],
            [4.079, 4.239],
            [4.707, 4.633],
            [4.373, 4.465],
          ],
        ],
        [
          10,
          [
            [7.137, 7.293],
            [6.688, 6.881],
            [6.975, 7.051],
            [6.46, 6.732],
            [7.331, 7.312],
            [6.973, 7.153],
          ],
        ],
      ] as const
    ).map(([k, cells]) => [
      k,
      {
        source: 'original-implementation.md §11.2 (mlp-clustering-stability-different-n_clusters notebooks)',
        rows: cells.map(([ncutMean, distMean], i) => ({
          dataset: MAIN_DATASETS[Math.floor(i / 2)],
          dropout: i % 2 === 1,
          ncutMean,
          distMean,
        })),
      },
    ]),
  ),
};

/** A row of Tables 2–4: every column is known. */
export type PaperRandomRow = PaperConditionRow & { propSig: number; trainAcc: number; unprunedNcut: MeanSd; ncut: MeanSd; dist: MeanSd };

function randomRows(cells: readonly (readonly [number, number, MeanSd, MeanSd, MeanSd])[], dataset: string): PaperRandomRow[] {
  return cells.map(([propSig, trainAcc, unprunedNcut, ncut, dist], i) => ({ dataset, dropout: i === 1, propSig, trainAcc, unprunedNcut, ncut, dist }));
}

/**
 * Tables 2–4: random-data experiments. `dataset` here is the experiment's role; the report maps
 * it to a dataset name through `report.datasets` (params), since the kilo-epoch run is a
 * training variant rather than a dataset of its own.
 */
export const PAPER_RANDOM_EXPERIMENTS = {
  random: {
    source: 'Table 2',
    rows: randomRows(
      [
        [0.0, 0.102, [2.338, 0.03], [2.093, 0.023], [2.081, 0.014]],
        [0.0, 0.102, [2.323, 0.02], [2.053, 0.015], [2.061, 0.015]],
      ],
      'random',
    ),
  },
  kilo_epoch: {
    source: 'Table 3',
    rows: randomRows(
      [
        [0.1, 0.102, [2.342, 0.022], [2.082, 0.017], [2.082, 0.014]],
        [0.3, 0.102, [2.329, 0.02], [2.043, 0.028], [2.061, 0.017]],
      ],
      'kilo_epoch',
    ),
  },
  memorization: {
    source: 'Table 4',
    rows: randomRows(
      [
        [1.0, 1.0, [2.464, 0.014], [1.88, 0.017], [2.008, 0.014]],
        [0.3, 0.113, [2.333, 0.018], [2.038, 0.033], [2.055, 0.023]],
      ],
      'memorization',
    ),
  },
} as const satisfies Record<string, PaperTableSource<PaperRandomRow>>;

function mixtureRows(dropout: boolean, cells: readonly (readonly [string, MeanSd, number, number])[]): PaperConditionRow[] {
  return cells.map(([dataset, ncut, trainAcc, testAcc]) => ({ dataset, dropout, ncut, trainAcc, testAcc }));
}

/** Tables A.16 (without dropout) and A.17 (with dropout): LINES and mixture datasets, pruned, k = 4. */
export const PAPER_MIXTURES: Readonly<Record<'without' | 'with', PaperConditionTable>> = {
  without: {
    source: 'Table A.16',
    rows: mixtureRows(false, [
      ['mnist', [2.0, 0.035], 1.0, 0.984],
      ['cifar10', [2.06, 0.14], 0.65, 0.415],
      ['line', [1.599, 0.049], 1.0, 1.0],
      ['line-mnist', [1.76, 0.039], 1.0, 0.991],
      ['line-cifar10', [1.632, 0.032], 0.784, 0.708],
      ['mnist-cifar10', [1.822, 0.025], 0.805, 0.697],
      ['line-mnist-separated', [1.842, 0.046], 1.0, 0.994],
      ['line-cifar10-separated', [1.536, 0.033], 0.941, 0.817],
      ['mnist-cifar10-separated', [1.587, 0.041], 0.964, 0.81],
    ]),
  },
  with: {
    source: 'Table A.17',
    rows: mixtureRows(true, [
      ['mnist', [1.84, 0.015], 0.967, 0.979],
      ['cifar10', [1.84, 0.089], 0.427, 0.422],
      ['line', [1.144, 0.036], 0.913, 0.312],
      ['line-mnist', [1.272, 0.056], 0.875, 0.635],
      ['line-cifar10', [1.418, 0.031], 0.682, 0.459],
      ['mnist-cifar10', [1.784, 0.032], 0.714, 0.694],
      ['line-mnist-separated', [1.517, 0.02], 0.984, 0.885],
      ['line-cifar10-separated', [1.375, 0.038], 0.828, 0.817],
      ['mnist-cifar10-separated', [1.517, 0.029], 0.853, 0.826],
    ]),
  },
};

/** Figure 3 / §3: the n-cuts of 200 randomly initialised networks lie between 2.3 and 2.45 (k = 4). */
export const PAPER_INIT_NCUT_SUPPORT = { source: 'Section 3 (Figure 3)', min: 2.3, max: 2.45, networks: 200 } as const;

/** The paper's lesioned network (Tables A.18–A.19, Figures 5–6): Fashion-MNIST, dropout, k = 10. */
export const PAPER_LESION_NETWORK = { dataset: 'fashion', dropout: true, k: 10 } as const;

/**
 * The original code's learning curves (notebook `mlp-learning-curve`, reference §11.3): one network
 * per dataset, without dropout, the n-cut at k = 4 after every 5th epoch; pruning epochs offset by
 * the 20 training epochs (CIFAR-10: 40 pruning epochs). Not in the paper itself: the paper's code.
 */
export const PAPER_LEARNING_CURVES: {
  readonly source: string;
  readonly k: number;
  readonly curves: Readonly<Record<string, readonly (readonly [epoch: number, ncut: number])[]>>;
} = {
  source: 'the original code (notebook mlp-learning-curve, reference §11.3)',
  k: 4,
  curves: {
    mnist: [
      [5, 2.4757],
      [10, 2.4776],
      [15, 2.4562],
      [20, 2.4573],
      [25, 2.1881],
      [30, 2.04],
      [35, 2.0086],
      [40, 2.0161],
    ],
    fashion: [
      [5, 2.3907],
      [10, 2.2095],
      [15, 2.1963],
      [20, 2.1793],
      [25, 2.062],
      [30, 1.972],
      [35, 1.932],
      [40, 1.9238],
    ],
    cifar10: [
      [5, 2.4785],
      [10, 2.4401],
      [15, 2.4066],
      [20, 2.3902],
      [25, 2.148],
      [30, 2.0537],
      [35, 2.0215],
      [40, 2.5522],
      [45, 2.5564],
      [50, 1.9733],
      [55, 1.9603],
      [60, 1.9852],
    ],
    line: [
      [5, 2.3603],
      [10, 2.3364],
      [15, 2.3117],
      [20, 2.2425],
      [25, 2.0221],
      [30, 1.8525],
      [35, 1.6872],
      [40, 1.6386],
    ],
    random: [
      [5, 2.3068],
      [10, 2.3329],
      [15, 2.3214],
      [20, 2.3214],
      [25, 2.2343],
      [30, 2.1511],
      [35, 2.1035],
      [40, 2.0895],
    ],
  },
};

/** Paper names of this project's dataset axis values, for table rows. */
export const DATASET_LABELS: Readonly<Record<string, string>> = {
  mnist: 'MNIST',
  fashion: 'Fashion',
  cifar10: 'CIFAR-10',
  line: 'LINES',
  random: 'Random',
  memorization: 'Memorization',
  'line-mnist': 'LINES-MNIST',
  'line-cifar10': 'LINES-CIFAR-10',
  'mnist-cifar10': 'MNIST-CIFAR-10',
  'line-mnist-separated': 'LINES-MNIST-SEP',
  'line-cifar10-separated': 'LINES-CIFAR-10-SEP',
  'mnist-cifar10-separated': 'MNIST-CIFAR-10-SEP',
  init: 'random init',
};

/** Human name of a dataset axis value (the paper's name when it has one). */
export function datasetLabel(dataset: string): string {
  return DATASET_LABELS[dataset] ?? dataset;
}

export const PAPER_PER_NETWORK: readonly PaperNetworkTable[] = [
  {
    id: 'table-A4',
    source: 'Table A.4',
    dataset: 'mnist',
    dropout: false,
    phase: 'unpruned',
    rows: [
      // run, n-cut, p, dist mean, dist sd, p (non-zero), non-zero dist mean, non-zero dist sd, Cohen's d
      [0, 2.423, 0.065, 2.456, 0.038, 0.065, 2.459, 0.043, -0.087],
      [1, 2.419, 0.003, 2.474, 0.05, 0.003, 2.456, 0.02, 0.468],
      [2, 2.445, 0.346, 2.465, 0.045, 0.346, 2.479, 0.056, -0.28],
      [3, 2.453, 0.439, 2.474, 0.069, 0.502, 2.481, 0.066, -0.104],
      [4, 2.432, 0.19, 2.467, 0.058, 0.19, 2.452, 0.038, 0.297],
      [5, 2.443, 0.159, 2.483, 0.056, 0.19, 2.477, 0.051, 0.115],
      [6, 2.453, 0.595, 2.465, 0.058, 0.657, 2.469, 0.064, -0.067],
      [7, 2.433, 0.252, 2.459, 0.067, 0.19, 2.465, 0.066, -0.09],
      [8, 2.468, 0.751, 2.479, 0.055, 0.657, 2.483, 0.059, -0.089],
      [9, 2.447, 0.502, 2.45, 0.033, 0.097, 2.461, 0.025, -0.344],
    ],
  },
  {
    id: 'table-A5',
    source: 'Table A.5',
    dataset: 'mnist',
    dropout: true,
    phase: 'unpruned',
    rows: [
      // run, n-cut, p, dist mean, dist sd, p (non-zero), non-zero dist mean, non-zero dist sd, Cohen's d
      [0, 2.219, 0.003, 2.348, 0.019, 0.003, 2.356, 0.032, -0.31],
      [1, 2.247, 0.003, 2.35, 0.02, 0.003, 2.351, 0.022, -0.047],
      [2, 2.221, 0.003, 2.345, 0.016, 0.003, 2.348, 0.02, -0.142],
      [3, 2.232, 0.003, 2.345, 0.017, 0.003, 2.344, 0.002, 0.145],
      [4, 2.214, 0.003, 2.346, 0.018, 0.003, 2.346, 0.016, -0.035],
      [5, 2.224, 0.003, 2.345, 0.014, 0.003, 2.353, 0.029, -0.334],
      [6, 2.216, 0.003, 2.342, 0.003, 0.003, 2.349, 0.024, -0.414],
      [7, 2.233, 0.003, 2.346, 0.013, 0.003, 2.343, 0.005, 0.365],
      [8, 2.217, 0.003, 2.348, 0.021, 0.003, 2.351, 0.026, -0.145],
      [9, 2.319, 0.003, 2.349, 0.019, 0.003, 2.349, 0.018, 0.027],
    ],
  },
  {
    id: 'table-A6',
    source: 'Table A.6',
    dataset: 'mnist',
    dropout: false,
    phase: 'pruned',
    rows: [
      // run, n-cut, p, dist mean, dist sd, p (non-zero), non-zero dist mean, non-zero dist sd, Cohen's d
      [0, 2.073, 0.938, 2.05, 0.012, 0.097, 2.094, 0.02, -2.678],
      [1, 1.969, 0.003, 2.04, 0.018, 0.003, 2.024, 0.012, 1.039],
      [2, 2.001, 0.003, 2.041, 0.017, 0.003, 2.084, 0.031, -1.726],
      [3, 1.96, 0.003, 2.041, 0.021, 0.128, 2.056, 0.087, -0.243],
      [4, 1.977, 0.003, 2.044, 0.016, 0.003, 2.051, 0.017, -0.417],
      [5, 2.016, 0.065, 2.04, 0.016, 0.003, 2.088, 0.018, -2.812],
      [6, 1.983, 0.003, 2.041, 0.016, 0.003, 2.057, 0.019, -0.853],
      [7, 1.982, 0.003, 2.043, 0.021, 0.003, 2.083, 0.032, -1.473],
      [8, 2.037, 0.346, 2.04, 0.016, 0.065, 2.076, 0.026, -1.659],
      [9, 2.005, 0.003, 2.037, 0.017, 0.003, 2.069, 0.023, -1.547],
    ],
  },
  {
    id: 'table-A7',
    source: 'Table A.7',
    dataset: 'mnist',
    dropout: true,
    phase: 'pruned',
    rows: [
      // run, n-cut, p, dist mean, dist sd, p (non-zero), non-zero dist mean, non-zero dist sd, Cohen's d
      [0, 1.845, 0.003, 2.035, 0.013, 0.003, 1.908, 0.004, 13.015],
      [1, 1.846, 0.003, 2.044, 0.013, 0.003, 1.904, 0.009, 12.461],
      [2, 1.822, 0.003, 2.033, 0.012, 0.003, 1.897, 0.009, 12.687],
      [3, 1.845, 0.003, 2.04, 0.014, 0.003, 1.893, 0.008, 13.135],
      [4, 1.818, 0.003, 2.032, 0.012, 0.003, 1.914, 0.008, 11.401],
      [5, 1.827, 0.003, 2.038, 0.023, 0.003, 1.914, 0.023, 5.387],
      [6, 1.843, 0.003, 2.034, 0.012, 0.003, 1.909, 0.05, 3.417],
      [7, 1.864, 0.003, 2.038, 0.02, 0.034, 1.895, 0.081, 2.417],
      [8, 1.839, 0.003, 2.04, 0.018, 0.003, 1.916, 0.011, 8.101],
      [9, 1.856, 0.003, 2.037, 0.012, 0.003, 1.897, 0.01, 12.485],
    ],
  },
  {
    id: 'table-A8',
    source: 'Table A.8',
    dataset: 'fashion',
    dropout: false,
    phase: 'unpruned',
    rows: [
      // run, n-cut, p, dist mean, dist sd, p (non-zero), non-zero dist mean, non-zero dist sd, Cohen's d
      [0, 2.185, 0.003, 2.335, 0.027, 0.003, 2.33, 0.021, 0.242],
      [1, 2.167, 0.003, 2.324, 0.028, 0.003, 2.32, 0.024, 0.163],
      [2, 2.171, 0.003, 2.321, 0.02, 0.003, 2.324, 0.047, -0.094],
      [3, 2.178, 0.003, 2.321, 0.02, 0.003, 2.318, 0.02, 0.171],
      [4, 2.182, 0.003, 2.276, 0.026, 0.003, 2.281, 0.026, -0.199],
      [5, 2.183, 0.003, 2.322, 0.02, 0.003, 2.319, 0.024, 0.13],
      [6, 2.179, 0.003, 2.325, 0.022, 0.003, 2.338, 0.042, -0.379],
      [7, 2.189, 0.003, 2.333, 0.016, 0.003, 2.334, 0.022, -0.012],
      [8, 2.18, 0.003, 2.315, 0.024, 0.003, 2.312, 0.026, 0.134],
      [9, 2.172, 0.003, 2.333, 0.02, 0.003, 2.333, 0.02, -0.027],
    ],
  },
  {
    id: 'table-A9',
    source: 'Table A.9',
    dataset: 'fashion',
    dropout: true,
    phase: 'unpruned',
    rows: [
      // run, n-cut, p, dist mean, dist sd, p (non-zero), non-zero dist mean, non-zero dist sd, Cohen's d
      [0, 2.14, 0.003, 2.313, 0.026, 0.003, 2.304, 0.024, 0.329],
      [1, 2.155, 0.003, 2.356, 0.045, 0.003, 2.357, 0.041, -0.014],
      [2, 2.143, 0.003, 2.308, 0.031, 0.003, 2.316, 0.026, -0.28],
      [3, 2.155, 0.003, 2.35, 0.038, 0.003, 2.359, 0.053, -0.196],
      [4, 2.147, 0.003, 2.335, 0.055, 0.003, 2.325, 0.026, 0.215],
      [5, 2.147, 0.003, 2.329, 0.02, 0.003, 2.326, 0.03, 0.113],
      [6, 2.136, 0.003, 2.292, 0.033, 0.003, 2.291, 0.028, 0.032],
      [7, 2.148, 0.003, 2.322, 0.033, 0.003, 2.323, 0.045, -0.029],
      [8, 2.147, 0.003, 2.303, 0.032, 0.003, 2.309, 0.025, -0.207],
      [9, 2.132, 0.003, 2.318, 0.029, 0.003, 2.312, 0.03, 0.202],
    ],
  },
  {
    id: 'table-A10',
    source: 'Table A.10',
    dataset: 'fashion',
    dropout: false,
    phase: 'pruned',
    rows: [
      // run, n-cut, p, dist mean, dist sd, p (non-zero), non-zero dist mean, non-zero dist sd, Cohen's d
      [0, 1.876, 0.003, 2.005, 0.013, 0.034, 1.994, 0.103, 0.149],
      [1, 1.871, 0.003, 1.992, 0.014, 0.065, 1.942, 0.072, 0.958],
      [2, 1.839, 0.003, 1.986, 0.018, 0.034, 1.87, 0.021, 5.928],
      [3, 1.852, 0.003, 1.992, 0.021, 0.034, 2.011, 0.139, -0.184],
      [4, 1.909, 0.003, 1.987, 0.016, 0.034, 1.963, 0.094, 0.344],
      [5, 1.868, 0.003, 1.989, 0.018, 0.128, 1.892, 0.033, 3.664],
      [6, 1.936, 0.003, 1.986, 0.017, 0.159, 2.016, 0.116, -0.363],
      [7, 1.912, 0.003, 2.003, 0.021, 0.065, 1.931, 0.015, 3.91],
      [8, 1.87, 0.003, 1.99, 0.013, 0.221, 1.877, 0.073, 2.137],
      [9, 1.865, 0.003, 1.997, 0.019, 0.252, 1.93, 0.151, 0.619],
    ],
  },
  {
    id: 'table-A11',
    source: 'Table A.11',
    dataset: 'fashion',
    dropout: true,
    phase: 'pruned',
    rows: [
      // run, n-cut, p, dist mean, dist sd, p (non-zero), non-zero dist mean, non-zero dist sd, Cohen's d
      [0, 1.747, 0.003, 2.018, 0.016, 0.003, 1.822, 0.008, 15.732],
      [1, 1.709, 0.003, 2.015, 0.015, 0.003, 1.779, 0.007, 20.336],
      [2, 1.722, 0.003, 2.017, 0.018, 0.034, 1.808, 0.023, 10.057],
      [3, 1.744, 0.003, 2.014, 0.016, 0.097, 1.806, 0.044, 6.33],
      [4, 1.73, 0.003, 2.015, 0.018, 0.003, 1.783, 0.008, 16.432],
      [5, 1.682, 0.003, 2.023, 0.017, 0.003, 1.762, 0.005, 20.306],
      [6, 1.713, 0.003, 2.014, 0.019, 0.003, 1.791, 0.016, 12.58],
      [7, 1.751, 0.003, 2.016, 0.014, 0.003, 1.803, 0.006, 20.116],
      [8, 1.746, 0.003, 2.008, 0.018, 0.034, 1.8, 0.027, 9.15],
      [9, 1.721, 0.003, 2.01, 0.015, 0.003, 1.784, 0.009, 17.827],
    ],
  },
  {
    id: 'table-A12',
    source: 'Table A.12',
    dataset: 'cifar10',
    dropout: false,
    phase: 'unpruned',
    rows: [
      // run, n-cut, p, dist mean, dist sd, p (non-zero), non-zero dist mean, non-zero dist sd, Cohen's d
      [0, 2.405, 1.0, 2.247, 0.013, 1.0, 2.249, 0.018, -0.118],
      [1, 2.433, 1.0, 2.249, 0.014, 1.0, 2.251, 0.015, -0.077],
      [2, 2.419, 1.0, 2.247, 0.014, 1.0, 2.245, 0.013, 0.122],
      [3, 2.438, 1.0, 2.25, 0.015, 1.0, 2.252, 0.018, -0.097],
      [4, 2.429, 1.0, 2.238, 0.013, 1.0, 2.242, 0.016, -0.244],
      [5, 2.451, 1.0, 2.255, 0.025, 1.0, 2.254, 0.023, 0.054],
      [6, 2.453, 1.0, 2.247, 0.016, 1.0, 2.25, 0.016, -0.224],
      [7, 2.409, 1.0, 2.247, 0.017, 1.0, 2.246, 0.015, 0.072],
      [8, 2.449, 1.0, 2.244, 0.011, 1.0, 2.246, 0.015, -0.171],
      [9, 2.453, 1.0, 2.258, 0.014, 1.0, 2.254, 0.014, 0.289],
    ],
  },
  {
    id: 'table-A13',
    source: 'Table A.13',
    dataset: 'cifar10',
    dropout: true,
    phase: 'unpruned',
    rows: [
      // run, n-cut, p, dist mean, dist sd, p (non-zero), non-zero dist mean, non-zero dist sd, Cohen's d
      [0, 2.149, 0.003, 2.233, 0.002, 0.003, 2.233, 0.002, 0.007],
      [1, 2.132, 0.003, 2.234, 0.002, 0.003, 2.234, 0.001, -0.033],
      [2, 2.137, 0.003, 2.234, 0.003, 0.003, 2.235, 0.002, -0.463],
      [3, 2.198, 0.003, 2.238, 0.002, 0.003, 2.239, 0.002, -0.242],
      [4, 2.138, 0.003, 2.23, 0.002, 0.003, 2.23, 0.004, 0.079],
      [5, 2.145, 0.003, 2.234, 0.002, 0.003, 2.235, 0.002, -0.265],
      [6, 2.158, 0.003, 2.234, 0.005, 0.003, 2.236, 0.002, -0.407],
      [7, 2.137, 0.003, 2.233, 0.002, 0.003, 2.233, 0.002, 0.172],
      [8, 2.148, 0.003, 2.235, 0.002, 0.003, 2.235, 0.002, -0.002],
      [9, 2.151, 0.003, 2.235, 0.003, 0.003, 2.235, 0.003, 0.128],
    ],
  },
  {
    id: 'table-A14',
    source: 'Table A.14',
    dataset: 'cifar10',
    dropout: false,
    phase: 'pruned',
    rows: [
      // run, n-cut, p, dist mean, dist sd, p (non-zero), non-zero dist mean, non-zero dist sd, Cohen's d
      [0, 2.049, 1.0, 2.006, 0.016, 0.751, 2.043, 0.055, -0.901],
      [1, 2.296, 1.0, 1.999, 0.016, 0.688, 2.354, 0.327, -1.533],
      [2, 2.037, 1.0, 2.009, 0.011, 0.907, 2.019, 0.012, -0.828],
      [3, 1.993, 0.377, 1.998, 0.015, 0.688, 1.986, 0.011, 0.945],
      [4, 2.014, 0.844, 1.997, 0.014, 0.907, 1.997, 0.027, 0.039],
      [5, 2.015, 0.657, 2.01, 0.016, 0.252, 2.022, 0.01, -0.893],
      [6, 2.301, 1.0, 1.995, 0.017, 1.0, 1.844, 0.238, 0.891],
      [7, 1.833, 0.003, 1.997, 0.013, 0.502, 1.898, 0.404, 0.347],
      [8, 2.054, 1.0, 2.012, 0.017, 1.0, 2.021, 0.013, -0.585],
      [9, 2.008, 0.439, 2.008, 0.014, 0.439, 2.012, 0.008, -0.371],
    ],
  },
  {
    id: 'table-A15',
    source: 'Table A.15',
    dataset: 'cifar10',
    dropout: true,
    phase: 'pruned',
    rows: [
      // run, n-cut, p, dist mean, dist sd, p (non-zero), non-zero dist mean, non-zero dist sd, Cohen's d
      [0, 2.04, 1.0, 1.99, 0.009, 0.907, 1.873, 0.128, 1.298],
      [1, 1.827, 0.003, 1.985, 0.014, 0.252, 1.849, 0.038, 4.791],
      [2, 1.802, 0.003, 1.99, 0.012, 0.19, 1.833, 0.05, 4.311],
      [3, 1.915, 0.003, 2.021, 0.008, 0.003, 1.939, 0.033, 3.42],
      [4, 1.733, 0.003, 1.991, 0.014, 0.003, 1.767, 0.015, 15.043],
      [5, 1.78, 0.003, 1.996, 0.009, 0.065, 1.862, 0.062, 3.054],
      [6, 1.828, 0.003, 2.003, 0.007, 0.128, 1.936, 0.128, 0.741],
      [7, 1.853, 0.003, 1.989, 0.011, 0.844, 1.841, 0.09, 2.313],
      [8, 1.874, 0.003, 1.998, 0.009, 0.097, 1.985, 0.1, 0.174],
      [9, 1.75, 0.003, 1.993, 0.013, 0.097, 1.823, 0.071, 3.322],
    ],
  },
];

/** Table A.18: single lesions of the Fashion-MNIST + dropout network (k = 10). */
export const PAPER_SINGLE_LESION: PaperTableSource<PaperSingleLesionRow> = {
  source: 'Table A.18',
  rows: [
    // layer, label, acc. diff, p, proportion, type, acc. diff. dist mean, sd
    [1, 0, -0.0552, 0.0099, 0.25, 'important', -0.0034, 0.0026],
    [1, 1, -0.0105, 0.0099, 0.123, 'important', -0.0011, 0.0015],
    [1, 2, 0.0002, 0.64, 0.015, 'small', -7e-5, 0.00057],
    [1, 3, -0.187, 0.0099, 0.245, 'important', -0.0037, 0.0031],
    [1, 4, -0.0005, 0.38, 0.049, 'small', -0.0002, 0.001],
    [1, 5, -0.1024, 0.0099, 0.319, 'important', -0.0052, 0.003],
    [2, 0, 0.0001, 0.52, 0.02, 'small', 1e-5, 0.00051],
    [2, 1, 0.0001, 0.55, 0.012, 'small', 1e-5, 0.00052],
    [2, 2, -0.035, 0.0099, 0.461, 'important', -0.0042, 0.0034],
    [2, 3, 0.0002, 0.71, 0.008, 'small', -3e-6, 0.00031],
    [2, 5, -0.0027, 0.02, 0.109, 'other', -0.0004, 0.001],
    [2, 7, -0.0033, 0.0099, 0.098, 'sig-but-not-diff', -0.0003, 0.00095],
    [2, 8, -0.0063, 0.0099, 0.242, 'sig-but-not-diff', -0.0013, 0.0016],
    [2, 9, -0.0002, 0.39, 0.051, 'other', -6e-5, 0.00074],
    [3, 2, -0.0433, 0.0099, 0.527, 'important', 0.0019, 0.0021],
    [3, 6, 0.0001, 0.55, 0.004, 'small', -7e-5, 0.00027],
    [3, 7, -0.0085, 0.0099, 0.113, 'sig-but-not-diff', 0.0011, 0.001],
    [3, 8, -0.0127, 0.0099, 0.234, 'important', 0.0015, 0.0011],
    [3, 9, -0.0016, 0.0099, 0.121, 'sig-but-not-diff', 0.00096, 0.00089],
    [4, 2, -0.0279, 0.0099, 0.414, 'important', -0.0076, 0.0035],
    [4, 6, -0.0006, 0.69, 0.082, 'other', -0.00104, 0.00072],
    [4, 7, -0.0049, 0.0099, 0.125, 'sig-but-not-diff', -0.0016, 0.00083],
    [4, 8, -0.0054, 0.059, 0.219, 'other', -0.0029, 0.0014],
    [4, 9, -0.0136, 0.0099, 0.16, 'important', -0.0019, 0.001],
  ],
};

/** Table A.19: conditional importance of pairs of important sub-modules (same network). */
export const PAPER_DEPENDENCIES: PaperTableSource<PaperDependencyRow> = {
  source: 'Table A.19',
  rows: [
    // X, Y, X|Y important, Y|X important, δ(X,Y), δ(Y,X)
    ['1-0', '2-2', true, true, 0.166, 0.146],
    ['1-0', '3-2', true, true, 0.099, 0.087],
    ['1-0', '3-8', true, false, 0.033, -0.009],
    ['1-0', '4-2', true, true, 0.072, 0.044],
    ['1-0', '4-9', true, true, 0.069, 0.027],
    ['1-1', '2-2', false, true, 0.007, 0.031],
    ['1-1', '3-2', true, true, 0.053, 0.086],
    ['1-1', '3-8', false, true, 0.01, 0.012],
    ['1-1', '4-2', false, true, 0.01, 0.027],
    ['1-1', '4-9', false, true, 0.012, 0.015],
    ['1-3', '2-2', true, true, 0.211, 0.059],
    ['1-3', '3-2', true, true, 0.178, 0.034],
    ['1-3', '3-8', true, false, 0.165, -0.009],
    ['1-3', '4-2', true, true, 0.191, 0.032],
    ['1-3', '4-9', true, false, 0.17, -0.003],
    ['1-5', '2-2', true, false, 0.07, 0.002],
    ['1-5', '3-2', true, true, 0.168, 0.109],
    ['1-5', '3-8', true, false, 0.103, 0.013],
    ['1-5', '4-2', true, true, 0.117, 0.042],
    ['1-5', '4-9', true, false, 0.091, 0.002],
    ['2-2', '3-2', false, false, 0.045, 0.054],
    ['2-2', '3-8', true, true, 0.145, 0.123],
    ['2-2', '4-2', false, false, 0.035, 0.028],
    ['2-2', '4-9', true, false, 0.032, 0.011],
    ['3-2', '4-2', true, false, 0.214, 0.199],
    ['3-2', '4-9', true, false, 0.071, 0.041],
    ['3-8', '4-2', false, true, 0.05, 0.065],
    ['3-8', '4-9', false, false, -0.003, -0.002],
  ],
};
