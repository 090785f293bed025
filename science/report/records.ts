/**
 * The plain records the report is built from. gather.ts makes them from the upstream stages'
 * runs (export, cluster, shuffle-sample, lesion); tests build them by hand. Nothing here knows
 * about the cache; the lesion rows are typed by their tables' declarations.
 */
import type { RowOf } from '../table-schema.ts';
import type { dependencyEdgesTable, doubleJointTable, singleLesionTable } from '../lesion/tables.ts';

export type Phase = 'init' | 'unpruned' | 'pruned';
export type ShuffleMethod = 'layer' | 'layer_nonzero';
export const SHUFFLE_METHODS: readonly ShuffleMethod[] = ['layer', 'layer_nonzero'];

/** A shuffle null distribution of one network at one k (stage `shuffle-sample`; sd with ddof 0). */
export interface ShuffleSummary {
  readonly n: number;
  readonly mean: number;
  readonly sd: number;
  readonly z: number;
  readonly p: number;
  /** p = 1/(n+1): the network's n-cut is below every shuffle. */
  readonly significant: boolean;
  readonly min: number;
  readonly max: number;
  /** The shuffled n-cuts themselves, when read (figures, Cohen's d). */
  readonly samples?: Float64Array;
}

/** One network state clustered at one k. */
export interface NetworkRecord {
  readonly dataset: string;
  readonly dropout: boolean;
  readonly run: number;
  readonly phase: Phase;
  readonly k: number;
  /** Last-epoch accuracies of that phase (stage `export`); null for init states or when unknown. */
  readonly trainAcc: number | null;
  readonly testAcc: number | null;
  /** N-cut of the network's own clustering (stage `cluster`); null when not clustered yet. */
  readonly ncut: number | null;
  readonly shuffles: Readonly<Partial<Record<ShuffleMethod, ShuffleSummary>>>;
}

/**
 * The lesion rows are the rows of the lesion stage's tables (science/lesion/tables.ts): a
 * sub-module (layer, cluster) single lesion (`single`: diff = lesioned − intact accuracy,
 * negative = damage; mean and sd of the random controls), a double lesion of X = (layerX,
 * clusterX) and Y (`double_joint`; `double_conditional` rows add delta, and there diff is
 * δ(X, Y) as an accuracy difference and `important` means X is important conditioned on Y),
 * and an edge of the dependency graph.
 */
export type SingleLesionRow = Readonly<RowOf<typeof singleLesionTable>>;
export type PairLesionRow = Readonly<RowOf<typeof doubleJointTable>>;
export type DependencyEdge = Readonly<RowOf<typeof dependencyEdgesTable>>;

/** The lesion results of one network. */
export interface LesionRecord {
  readonly dataset: string;
  readonly dropout: boolean;
  readonly run: number;
  readonly intactAccuracy: number | null;
  readonly single: readonly SingleLesionRow[] | null;
  readonly joint: readonly PairLesionRow[] | null;
  readonly conditional: readonly PairLesionRow[] | null;
  readonly edges: readonly DependencyEdge[] | null;
}

/** Where the report's inputs came from (reports/README.md). */
export interface Provenance {
  /** Commit of the newest change outside reports/, or "unknown". */
  readonly commit: string;
  readonly commitDate: string;
  /** Digest of the report's own params. */
  readonly paramsDigest: string;
  /** Per upstream stage: instance count and a digest over its instances' output digests. */
  readonly inputs: readonly { readonly stage: string; readonly instances: number; readonly digest: string }[];
  /** Training backends reported by the export stage (empty when not reported). */
  readonly backends: readonly string[];
}

/** One network's learning curve (stage `learning-curve`): n-cut after every N-th epoch. */
export interface LearningCurveRecord {
  readonly dataset: string;
  readonly dropout: boolean;
  readonly run: number;
  readonly k: number;
  readonly points: readonly {
    readonly phase: 'unpruned' | 'pruned';
    readonly epoch: number;
    readonly epochTotal: number;
    readonly ncut: number;
    readonly testAccuracy: number;
  }[];
}

/** The network drawn in Figure 1: its dense kernels and its clustering at the main k. */
export interface DrawnNetworkRecord {
  readonly dataset: string;
  readonly dropout: boolean;
  readonly run: number;
  readonly k: number;
  readonly ncut: number | null;
  readonly layers: readonly { readonly fanIn: number; readonly fanOut: number; readonly kernel: Float32Array }[];
  readonly labels: Int32Array;
}

/** A network file of params `external.models` clustered at one k (stages external-model, cluster, shuffle-sample). */
export interface ExternalModelRecord {
  readonly model: string;
  readonly k: number;
  readonly ncut: number | null;
  readonly modularity: number | null;
  readonly shuffles: Partial<Record<ShuffleMethod, ShuffleSummary>>;
}

export interface ReportInput {
  readonly networks: readonly NetworkRecord[];
  /** External network files (absent or empty: no "External models" table). */
  readonly externalModels?: readonly ExternalModelRecord[];
  readonly lesions: readonly LesionRecord[];
  /** Learning curves, when the pipeline has the learning-curve stage. */
  readonly curves?: readonly LearningCurveRecord[];
  /** The network of Figure 1, when it has been pruned and clustered. */
  readonly drawn?: DrawnNetworkRecord | null;
  readonly provenance: Provenance;
  /** The run's own notes (report.notes), embedded in README.md. */
  readonly notes?: { readonly path: string; readonly markdown: string };
}
