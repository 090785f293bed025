/**
 * How much work one instance of each stage is, for the time estimate (`repro --dry-run`, the
 * progress ETA): the engine scales recorded durations by these numbers (engine/estimate.ts).
 * They are attached to the stage definitions in stages/index.ts rather than written in the
 * stage files, so that refining the cost model never changes a stage's code fingerprint (and
 * never reruns a result).
 *
 * Units: multiply-adds of the MLP per example × examples × epochs for training and pruning;
 * per clustering (a network's, or one shuffle sample's), k × 2 for dense graphs (k-means and the
 * eigenvectors grow about linearly in k: `bench:cluster` measured k = 10 at 2.4–3.2× k = 4);
 * 1 per lesion trial. Only ratios within a stage matter.
 */
import type { Calibration, StageDef } from '../engine/types.ts';
import { DATASETS, datasetInfo } from '../science/datasets/registry.ts';
import { initBackend, type BackendChoice } from '../science/mlp/backend.ts';
import { glorotUniformInit, INPUT_SIZE, layerSizes } from '../science/mlp/model.ts';
import { trainPhase } from '../science/mlp/trainer.ts';
import { Rng } from '../science/random.ts';

const MNIST_INPUTS = 28 * 28;
const CIFAR_INPUTS = 32 * 32 * 3;
const CLASSES = 10;

/** Examples assumed for a dataset name the registry does not know (the params check reports it elsewhere). */
const DEFAULT_EXAMPLES = 60000;

/** Training examples of a dataset (a mixture: both sources, halved when separated). */
export function trainExamples(name: string): number {
  if (!DATASETS.has(name)) return DEFAULT_EXAMPLES;
  const info = datasetInfo(name);
  if (info.kind === 'download') return info.expected.nTrain;
  if (info.kind === 'generated') return info.nTrain;
  const both = info.sources.reduce((a, s) => a + trainExamples(s), 0);
  return info.separated ? both / 2 : both;
}

/** Whether a dataset (or a mixture's source) is CIFAR-10, i.e. 3,072 inputs instead of 784. */
function usesCifar(name: string): boolean {
  if (!DATASETS.has(name)) return false;
  const info = datasetInfo(name);
  return info.kind === 'mixture' ? info.sources.some(usesCifar) : name === 'cifar10';
}

/** Multiply-adds of one forward pass of the MLP (the backward pass is a constant multiple). */
export function mlpWeights(source: string, hidden: readonly number[]): number {
  const sizes = [usesCifar(source) ? CIFAR_INPUTS : MNIST_INPUTS, ...hidden, CLASSES];
  let n = 0;
  for (let i = 1; i < sizes.length; i++) n += sizes[i - 1] * sizes[i];
  return n;
}

interface TrainLike {
  source: string;
  hidden?: number[];
  epochs?: number;
  trainExamples: number | null;
  schedule?: { epochs: number };
}

const HIDDEN = [256, 256, 256, 256];

/** epochs × examples × weights, for train (epochs) and prune (schedule.epochs). */
function trainingWork(_axes: unknown, p: TrainLike): number {
  const epochs = p.schedule?.epochs ?? p.epochs ?? 1;
  return epochs * (p.trainExamples ?? trainExamples(p.source)) * mlpWeights(p.source, p.hidden ?? HIDDEN);
}

/**
 * Per clustering (and per shuffle sample, which is one clustering): k, doubled for a dense network
 * (unpruned or init), whose graph has ~10× the edges (`bench:cluster`: 21–26 ms dense, 12–15 ms pruned).
 */
function clusteringWork(axes: Record<string, unknown>): number {
  return Number(axes.k) * (axes.phase === 'pruned' ? 1 : 2);
}

/** Examples of the calibration run: enough batches for a steady per-batch time, a few seconds in all. */
const CALIBRATION_EXAMPLES = 4096;

/**
 * This machine's training speed without any run record: two epochs of random images with the
 * real trainer, backend and MLP; the second epoch is timed (the first pays for start-up and
 * compilation). Used for train and prune alike (pruning adds only the masks' cost).
 */
async function calibrateTraining(
  p: TrainLike & { backend?: BackendChoice; batchSize?: number; adam?: { learningRate: number; beta1: number; beta2: number; epsilon: number } },
): Promise<Calibration> {
  const backend = await initBackend(p.backend ?? 'auto');
  const rng = new Rng(1);
  const images = (n: number) => Float32Array.from({ length: n * INPUT_SIZE }, () => rng.float());
  const labels = (n: number) => Uint8Array.from({ length: n }, (_, i) => i % 10);
  const hidden = p.hidden ?? HIDDEN;
  const ends: number[] = [];
  await trainPhase({
    phase: 'unpruned',
    train: { images: images(CALIBRATION_EXAMPLES), labels: labels(CALIBRATION_EXAMPLES) },
    test: { images: images(256), labels: labels(256) },
    initial: glorotUniformInit(layerSizes(hidden), 1),
    seed: 1,
    epochs: 2,
    batchSize: p.batchSize ?? 128,
    adam: p.adam ?? { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
    dropoutRate: 0,
    shuffle: true,
    onEpoch: () => ends.push(performance.now()),
  });
  return {
    ms: ends[1] - ends[0],
    work: CALIBRATION_EXAMPLES * mlpWeights('mnist', hidden),
    what: `one epoch of ${CALIBRATION_EXAMPLES.toLocaleString('en')} random examples on the ${backend.name} backend: ${((ends[1] - ends[0]) / 1000).toFixed(1)} s`,
  };
}

/** Work functions by stage name; stages not listed count 1 per instance. */
export const WORK: Readonly<Record<string, StageDef['work']>> = {
  train: trainingWork as StageDef['work'],
  prune: trainingWork as StageDef['work'],
  cluster: clusteringWork as StageDef['work'],
  'shuffle-sample': clusteringWork as StageDef['work'],
};

/** Calibrations by stage name (see StageDef.calibrate). */
export const CALIBRATE: Readonly<Record<string, StageDef['calibrate']>> = {
  train: calibrateTraining as StageDef['calibrate'],
  prune: calibrateTraining as StageDef['calibrate'],
};

/** The stages with their work functions (and calibrations) attached. */
export function withWork(stages: readonly StageDef[]): StageDef[] {
  return stages.map((s) => (WORK[s.name] ? { ...s, work: WORK[s.name], ...(CALIBRATE[s.name] ? { calibrate: CALIBRATE[s.name] } : {}) } : s));
}
