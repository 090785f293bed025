/**
 * The networks of the study, from params: which conditions are trained and which network
 * states the analysis sees. Other areas (cluster, lesion, report) fan out over these.
 *
 *   trainConditions(params): {dataset, dropout, run} for every trained network
 *   networkStates(params):   {dataset, dropout, run, phase} for every trained network before
 *                            ('unpruned') and after ('pruned') pruning, then the untrained
 *                            networks {dataset: 'init', dropout: false, run: i, phase: 'init'}
 *
 * It also resolves the settings of one condition (overrides applied), for the train and prune
 * stages.
 */
import type { Axes, InputInstance, InputSpec } from '../engine/types.ts';
import type { AdamConfig } from '../science/mlp/adam.ts';
import type { BackendChoice } from '../science/mlp/backend.ts';
import type { InitParams, PruneOverride, PruneParams, TrainOverride, TrainParams } from './params/train.ts';
import type { LearningCurveOverride, LearningCurveParams } from './params/learning-curve.ts';

/** The `dataset` axis value of untrained networks. */
export const INIT_DATASET = 'init';

export type Phase = 'init' | 'unpruned' | 'pruned';

interface StudyParams {
  train: TrainParams;
  init?: InitParams;
}

function section<T>(params: any, name: string): T {
  const s = params?.[name];
  if (!s || typeof s !== 'object') throw new Error(`params: section '${name}:' is missing (see params.yaml)`);
  return s as T;
}

function matches(o: { dataset: string | string[]; dropout?: boolean }, dataset: string, dropout: boolean): boolean {
  const names = Array.isArray(o.dataset) ? o.dataset : [o.dataset];
  return names.includes(dataset) && (o.dropout === undefined || o.dropout === dropout);
}

/** The overrides that apply to a condition, merged in order (later wins), without their selectors. */
function mergedOverrides<O extends { dataset: string | string[]; dropout?: boolean }>(overrides: readonly O[], dataset: string, dropout: boolean) {
  const merged: Partial<O> = {};
  for (const o of overrides) {
    if (!matches(o, dataset, dropout)) continue;
    for (const [k, v] of Object.entries(o)) if (k !== 'dataset' && k !== 'dropout' && v !== undefined) (merged as any)[k] = v;
  }
  return merged;
}

/** Every trained network: train.datasets × train.dropout × runs (runs may be overridden per condition). */
export function trainConditions(params: any): Axes[] {
  const train = section<TrainParams>(params, 'train');
  const out: Axes[] = [];
  for (const dataset of train.datasets) {
    if (dataset === INIT_DATASET) throw new Error(`params: train.datasets must not contain '${INIT_DATASET}' (reserved for untrained networks)`);
    for (const dropout of train.dropout) {
      const runs = mergedOverrides(train.overrides, dataset, dropout).runs ?? train.runs;
      for (let run = 0; run < runs; run++) out.push({ dataset, dropout, run });
    }
  }
  return out;
}

/** Every network state the analysis sees (see the module comment). */
export function networkStates(params: any): Axes[] {
  const states: Axes[] = [];
  for (const c of trainConditions(params)) for (const phase of ['unpruned', 'pruned'] as const) states.push({ ...c, phase });
  const networks = (params as StudyParams).init?.networks ?? 0;
  for (let run = 0; run < networks; run++) states.push({ dataset: INIT_DATASET, dropout: false, run, phase: 'init' });
  return states;
}

/** Settings of one condition's training, as they enter the train stage's key. */
export interface TrainConfig {
  backend: BackendChoice;
  /** The `datasets` instance to train on. */
  source: string;
  hidden: number[];
  epochs: number;
  batchSize: number;
  adam: AdamConfig;
  /** 0 when the condition has no dropout. */
  dropoutRate: number;
  shuffle: boolean;
  /** Use only the first N training examples (null = all). */
  trainExamples: number | null;
}

export function resolveTrainConfig(train: TrainParams, axes: Axes): TrainConfig {
  const dataset = String(axes.dataset);
  const dropout = axes.dropout === true;
  const o: Partial<TrainOverride> = mergedOverrides(train.overrides, dataset, dropout);
  return {
    backend: train.backend,
    source: trainingSource(train.overrides, axes),
    hidden: [...train.hidden],
    epochs: o.epochs ?? train.epochs,
    batchSize: o.batch_size ?? train.batch_size,
    adam: { learningRate: o.learning_rate ?? train.learning_rate, beta1: train.beta_1, beta2: train.beta_2, epsilon: train.epsilon },
    dropoutRate: dropoutRate(train, axes),
    shuffle: o.shuffle ?? train.shuffle,
    trainExamples: o.train_examples !== undefined ? o.train_examples : train.train_examples,
  };
}

/** The dropout rate of a condition: 0 without dropout, else its override's or train.dropout_rate. */
export function dropoutRate(train: Pick<TrainParams, 'overrides' | 'dropout_rate'>, axes: Axes): number {
  if (axes.dropout !== true) return 0;
  return mergedOverrides(train.overrides, String(axes.dataset), true).dropout_rate ?? train.dropout_rate;
}

/**
 * The `datasets` instance a condition trains on: its name, unless a `train.overrides` entry gives
 * it a `source` (e.g. random-kiloepoch trains on random); later entries win.
 */
export function trainingSource(overrides: readonly TrainOverride[], axes: Axes): string {
  return mergedOverrides(overrides, String(axes.dataset), axes.dropout === true).source ?? String(axes.dataset);
}

/** Settings of one condition's pruning phase (its end step may still depend on the data size). */
export interface PruneConfig {
  epochs: number;
  initialSparsity: number;
  finalSparsity: number;
  beginStep: number;
  /** null = ceil(training examples / batch size) × epochs. */
  endStep: number | null;
  frequency: number;
  power: number;
}

export function resolvePruneConfig(prune: PruneParams, axes: Axes): PruneConfig {
  const o: Partial<PruneOverride> = mergedOverrides(prune.overrides, String(axes.dataset), axes.dropout === true);
  return {
    epochs: o.epochs ?? prune.epochs,
    initialSparsity: o.initial_sparsity ?? prune.initial_sparsity,
    finalSparsity: o.final_sparsity ?? prune.final_sparsity,
    beginStep: o.begin_step ?? prune.begin_step,
    endStep: o.end_step !== undefined ? o.end_step : prune.end_step,
    frequency: o.frequency ?? prune.frequency,
    power: o.power ?? prune.power,
  };
}

/** Snapshot period of one condition's phase: 0 unless its run keeps a learning curve. */
export function snapshotEvery(curve: LearningCurveParams, axes: Axes, phase: 'unpruned' | 'pruned'): number {
  if (!curve.runs.includes(Number(axes.run))) return 0;
  const o: Partial<LearningCurveOverride> = mergedOverrides(curve.overrides, String(axes.dataset), axes.dropout === true);
  return phase === 'unpruned' ? (o.every ?? curve.every) : (o.prune_every ?? curve.prune_every);
}

/** The trained networks that keep learning curves (a subset of trainConditions). */
export function learningCurveConditions(params: any): Axes[] {
  const curve = section<LearningCurveParams>(params, 'learning_curve');
  return trainConditions(params).filter((c) => snapshotEvery(curve, c, 'unpruned') > 0 || snapshotEvery(curve, c, 'pruned') > 0);
}

/** The `phase` axis value of external network files (params `external.models`). */
export const EXTERNAL_PHASE = 'external';
const EXTERNAL_PREFIX = 'external:';

/** The `model` name of an external file: its base name ("runs/net.onnx" → "net.onnx"). */
export const externalModelName = (path: string): string => path.split(/[\\/]/).pop()!;

/** One {model} per external file (params `external.models`); names must be distinct. */
export function externalModels(params: any): { model: string; path: string }[] {
  const paths: string[] = params?.external?.models ?? [];
  const seen = new Map<string, string>();
  return paths.map((path) => {
    const model = externalModelName(path);
    if (seen.has(model)) throw new Error(`params: external.models lists two files named '${model}' ('${seen.get(model)}' and '${path}'); rename one`);
    seen.set(model, path);
    return { model, path };
  });
}

/**
 * External files as network states with the study's axes: {dataset: "external:<model>",
 * dropout: false, run: 0, phase: 'external'}.
 */
export function externalStates(params: any): Axes[] {
  return externalModels(params).map(({ model }) => ({ ...externalNetworkAxes(model), phase: EXTERNAL_PHASE }));
}

/** The network axes of an external file: its own `dataset` value, so it can never collide with a study network. */
export const externalNetworkAxes = (model: string): Axes => ({ dataset: `${EXTERNAL_PREFIX}${model}`, dropout: false, run: 0 });

/** Whether network axes name an external file. */
export const isExternalNetwork = (axes: Axes): boolean => String(axes.dataset).startsWith(EXTERNAL_PREFIX);

/** The model name of an external state's axes. */
export const externalModelOf = (axes: Axes): string => String(axes.dataset).slice(EXTERNAL_PREFIX.length);

/** Where a network state's weights come from: `export` for the study's networks, `external-model` for files. */
export function weightsInput(axes: Axes): InputSpec {
  if (axes.phase === EXTERNAL_PHASE) return { stage: 'external-model', where: { model: externalModelOf(axes) }, outputs: ['weights'] };
  return { stage: 'export', where: { dataset: axes.dataset, dropout: axes.dropout, run: axes.run, phase: axes.phase }, outputs: ['weights'] };
}

/** The weights input of an instance whose inputs came from `weightsInput`. */
export function weightsOf(inputs: Readonly<Record<string, readonly InputInstance[]>>): InputInstance {
  const inst = inputs['export']?.[0] ?? inputs['external-model']?.[0];
  if (!inst) throw new Error('no export or external-model input for this network state');
  return inst;
}
