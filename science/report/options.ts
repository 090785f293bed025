/** Settings of the report (params.yaml `report:`; see stages/params/report.ts for their descriptions). */

export const TABLE_GROUPS = [
  'clusterability',
  'clusterability_nonzero',
  'random_data',
  'per_network',
  'mixtures',
  'lesion_single',
  'lesion_dependencies',
  'learning_curves',
] as const;
export type TableGroup = (typeof TABLE_GROUPS)[number];

export const FIGURES = ['fig-1', 'fig-2', 'fig-3', 'fig-4', 'fig-A1', 'fig-A2-A5', 'fig-5', 'fig-6a', 'fig-6b', 'fig-learning-curves'] as const;
export type FigureId = (typeof FIGURES)[number];

export const TAXONOMY = ['important', 'sig-but-not-diff', 'diff-but-not-sig', 'small', 'complete', 'prunable', 'least_important', 'other'] as const;

export interface ReportOptions {
  /** k of Table 1, Tables 2–4, A.4–A.17 and Figures 2–4, A.1–A.5 (the paper: 4). */
  readonly main_k: number;
  /** False-discovery rate for `diff`'s "within noise" mark (Benjamini–Hochberg over each table's metrics). */
  readonly alpha: number;
  readonly tables: readonly TableGroup[];
  readonly figures: readonly FigureId[];
  /** Dataset names of the random-data experiments (Tables 2–4). */
  readonly datasets: { readonly random: string; readonly kilo_epoch: string; readonly memorization: string };
  /** Markdown file (from the project root) embedded in README.md as "About this run"; null for none. */
  readonly notes: string | null;
  /** Run shown in Figure 4. */
  readonly representative_run: number;
  /** Dataset of the violin plots (Figures A.2–A.5; the paper: MNIST). */
  readonly violin_dataset: string;
  /** The lesioned network of Tables A.18–A.19 and Figures 5–6. */
  readonly lesion_network: { readonly dataset: string; readonly dropout: boolean; readonly run: number };
  /** The pruned network drawn in Figure 1 (clustered at main_k) and the share of each layer's heaviest edges drawn. */
  readonly figure_1: { readonly dataset: string; readonly dropout: boolean; readonly run: number; readonly edge_share: number };
  readonly colors: {
    readonly unpruned: string;
    readonly unpruned_dropout: string;
    readonly pruned: string;
    readonly pruned_dropout: string;
    readonly layer: string;
    readonly layer_nonzero: string;
    readonly actual: string;
    readonly taxonomy: Readonly<Record<string, string>>;
  };
  /** Size of one plot panel in pixels. */
  readonly panel: { readonly width: number; readonly height: number };
}

/** The defaults params.yaml ships with (tests start from these). */
export const DEFAULT_REPORT_OPTIONS: ReportOptions = {
  main_k: 4,
  alpha: 0.05,
  tables: TABLE_GROUPS,
  figures: FIGURES,
  datasets: { random: 'random', kilo_epoch: 'random-kiloepoch', memorization: 'memorization' },
  notes: null,
  representative_run: 0,
  violin_dataset: 'mnist',
  lesion_network: { dataset: 'fashion', dropout: true, run: 0 },
  figure_1: { dataset: 'fashion', dropout: true, run: 0, edge_share: 0.02 },
  colors: {
    unpruned: '#08306b',
    unpruned_dropout: '#1b7837',
    pruned: '#6baed6',
    pruned_dropout: '#f768a1',
    layer: '#1f77b4',
    layer_nonzero: '#ff7f0e',
    actual: '#000000',
    taxonomy: {
      important: '#d62728',
      'sig-but-not-diff': '#ff7f0e',
      'diff-but-not-sig': '#9467bd',
      small: '#7f7f7f',
      complete: '#8c564b',
      prunable: '#17becf',
      least_important: '#bcbd22',
      other: '#1f77b4',
    },
  },
  panel: { width: 220, height: 180 },
};
