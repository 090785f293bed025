/**
 * The custom training loop of one phase (unpruned training, or the pruning phase), replacing
 * Keras `model.fit` (reference §5) so that every random choice derives from the phase seed:
 *   - data order of epoch e: Rng(deriveSeed(seed, ORDER, e)).permutation(n) (or file order when
 *     shuffling is off, as the memorization experiment does);
 *   - dropout masks of step s: dropoutMasks(seed, s, ...) (dropout.ts).
 * Batches of `batchSize` in data order, the last one partial (Keras); inputs scaled to [0, 1];
 * mean categorical cross-entropy; Adam (adam.ts); optional tfmot pruning (pruning.ts).
 *
 * Forward and backward run in tfjs on whatever backend is active (see backend.ts initBackend):
 * a fused matMul + bias per layer forward, a hand-written backward pass (batchGradients;
 * a test checks it against tf.grads); weights and optimiser state live in Float32Arrays, so a
 * checkpoint is a plain copy of them.
 * On wasm everything but the matMuls runs in WebAssembly kernels (step-wasm.ts on the tensors'
 * memory, adam-wasm.ts for Adam): the paper's MLP step measured ≈ 14 ms instead of ≈ 16 ms on
 * a busy 2-core host, matMuls ≈ 11.5 ms of it. The kernels reproduce the tfjs ops and the
 * JavaScript Adam bit for bit; setStepKernels('reference') runs those for comparison.
 * Same inputs + same backend → bit-identical weights, with or without a crash and resume.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng, deriveSeed } from '../random.ts';
import type { DenseLayer } from '../weights.ts';
import { Adam, type AdamConfig } from './adam.ts';
import { WasmAdam } from './adam-wasm.ts';
import { dropoutDraw, dropoutMasks } from './dropout.ts';
import { WasmStepKernels } from './step-wasm.ts';
import { applyMask, isMaskUpdateStep, magnitudeMask, scheduledSparsity, validateSchedule, type PruningSchedule } from './pruning.ts';
import { cloneLayers, kernelSparsity, INPUT_SIZE, NUM_CLASSES } from './model.ts';
import { CheckpointFormatError, decodeCheckpoint, encodeCheckpoint, type TrainerState } from './checkpoint.ts';
import type { EpochMetrics } from './history.ts';
import { isSnapshotEpoch, type WeightSnapshot } from './snapshots.ts';
import { nativeTrainingActive } from './onnx-runtime.ts';
import { OnnxStep, onnxLogits } from './onnx-trainer.ts';

/** Images (n × 784, values in [0, 255]) and their labels 0..9. */
export interface LabelledImages {
  images: Uint8Array | Float32Array;
  labels: Uint8Array;
}

export interface PhaseCheckpointStore {
  load(): Promise<Uint8Array | undefined>;
  save(bytes: Uint8Array): Promise<void>;
}

export interface EpochReport {
  metrics: EpochMetrics;
  epochs: number;
  /** Seconds per epoch measured in this session (for an ETA). */
  secondsPerEpoch: number;
}

export interface PhaseOptions {
  phase: 'unpruned' | 'pruned';
  train: LabelledImages;
  test: LabelledImages;
  /** Starting weights (not modified). */
  initial: readonly DenseLayer[];
  /** All randomness of the phase derives from this seed. */
  seed: number;
  epochs: number;
  batchSize: number;
  adam: AdamConfig;
  /** 0 = no dropout layers; else the rate of the dropout after each hidden layer. */
  dropoutRate: number;
  /** Reshuffle the training data every epoch (Keras shuffle=True). */
  shuffle: boolean;
  /** Present for the pruning phase. */
  pruning?: PruningSchedule;
  checkpoint?: PhaseCheckpointStore;
  onEpoch?: (report: EpochReport) => void;
  /** Called when a checkpoint is resumed or discarded (message for the log). */
  onResume?: (message: string) => void;
  signal?: AbortSignal;
  /** Test examples per forward pass during evaluation. */
  evalBatchSize?: number;
  /** Keep a copy of the weights after every this many epochs (learning curves); 0 or absent = none. */
  snapshotEvery?: number;
}

export interface PhaseResult {
  layers: DenseLayer[];
  history: EpochMetrics[];
  /** Epochs restored from a checkpoint (0 for a fresh run). */
  resumedEpochs: number;
  /** The weights after every `snapshotEvery`-th epoch, in epoch order (empty when none were asked for). */
  snapshots: WeightSnapshot[];
}

/** Stream tag that separates data order draws from dropout draws of the same seed. */
const ORDER_STREAM = 0x6f726472; // "ordr"
/** Let the worker's event loop run (abort messages, progress) every this many steps. */
const YIELD_EVERY = 16;

export class TrainingDataError extends Error {
  override name = 'TrainingDataError';
}

/** Check shapes and the [0, 255] range the original code required (`load_data`). */
export function validateImages(d: LabelledImages, what: string): number {
  const n = d.labels.length;
  if (d.images.length !== n * INPUT_SIZE)
    throw new TrainingDataError(`${what}: ${d.images.length} pixel values for ${n} labels; expected ${n} × ${INPUT_SIZE}`);
  if (n === 0) throw new TrainingDataError(`${what}: no examples`);
  for (let i = 0; i < n; i++)
    if (d.labels[i] >= NUM_CLASSES) throw new TrainingDataError(`${what}: label ${d.labels[i]} at example ${i} is not a class 0..${NUM_CLASSES - 1}`);
  if (d.images instanceof Float32Array)
    for (let i = 0; i < d.images.length; i++) {
      const v = d.images[i];
      if (!(v >= 0 && v <= 255)) throw new TrainingDataError(`${what}: pixel value ${v} at index ${i} is outside [0, 255]`);
    }
  return n;
}

/** Pixel → model input: v / 255 as float32, precomputed for uint8 images. */
const UINT8_SCALE = Float32Array.from({ length: 256 }, (_, v) => v / 255);

/** Copy examples order[from..to) (file order when `order` is null) into `x` (rows × 784, scaled to [0, 1]) and their labels into `y`. */
function fillBatch(d: LabelledImages, order: ArrayLike<number> | null, from: number, to: number, x: Float32Array, y: Uint8Array): void {
  const img = d.images;
  for (let r = 0; r < to - from; r++) {
    const idx = order ? order[from + r] : from + r;
    const src = idx * INPUT_SIZE;
    const dst = r * INPUT_SIZE;
    if (img instanceof Uint8Array) for (let j = 0; j < INPUT_SIZE; j++) x[dst + j] = UINT8_SCALE[img[src + j]];
    else for (let j = 0; j < INPUT_SIZE; j++) x[dst + j] = img[src + j] / 255;
    y[r] = d.labels[idx];
  }
}

/** fillBatch without the scaling: raw uint8 pixel rows (for a graph that scales them itself). */
function copyPixels(images: Uint8Array, labels: Uint8Array, order: ArrayLike<number> | null, from: number, to: number, x: Uint8Array, y: Uint8Array): void {
  for (let r = 0; r < to - from; r++) {
    const idx = order ? order[from + r] : from + r;
    x.set(images.subarray(idx * INPUT_SIZE, (idx + 1) * INPUT_SIZE), r * INPUT_SIZE);
    y[r] = labels[idx];
  }
}

/**
 * Which implementation of the step's non-matMul work and of Adam the trainer uses. `fast` (the
 * default): on wasm, transposes, ReLU ⊙ dropout mask (masks drawn in WebAssembly), the backward
 * ReLU/dropout factor and the bias gradients run as WebAssembly kernels on the tensors' memory
 * (step-wasm.ts), and Adam runs in WebAssembly (adam-wasm.ts) wherever WebAssembly SIMD exists.
 * `reference`: the tfjs ops, JavaScript masks and the JavaScript Adam of the original trainer.
 * Both give the same bits (tests and the benchmark compare them); the switch exists for those
 * comparisons.
 */
export type StepKernels = 'fast' | 'reference';
let stepKernels: StepKernels = 'fast';

/** Select the step implementation for this thread; returns the previous choice. */
export function setStepKernels(kernels: StepKernels): StepKernels {
  const previous = stepKernels;
  stepKernels = kernels;
  return previous;
}

/** The in-place kernels when the fast path applies to the active backend. */
const wasmKernels = (): WasmStepKernels | null => (stepKernels === 'fast' ? WasmStepKernels.forActiveBackend() : null);

/** A hidden layer's activation: from its pre-activation Z (fresh, so it may be overwritten) to relu(Z) ⊙ mask. */
type Activation = (z: tf.Tensor2D, layer: number) => tf.Tensor2D;

/** ReLU, without dropout. */
function reluActivation(k: WasmStepKernels | null): Activation {
  if (k) return (z) => (k.reluMaskInPlace(z, null, 0), z);
  return (z) => tf.relu(z);
}

/**
 * Forward pass: per dense layer one fused matMul + bias kernel (XNNPACK on wasm adds the bias in
 * the product's accumulator), then the activation on hidden layers (measured: fusing the ReLU
 * into the matMul selects a slower clamping XNNPACK kernel).
 * Returns the input of every layer (x first) and the logits.
 */
function forward(x: tf.Tensor2D, kernels: tf.Tensor2D[], biases: tf.Tensor1D[], activation: Activation): { inputs: tf.Tensor2D[]; logits: tf.Tensor2D } {
  const inputs: tf.Tensor2D[] = [];
  let h = x;
  for (let i = 0; i < kernels.length; i++) {
    inputs.push(h);
    h = tf.fused.matMul({ a: h, b: kernels[i], bias: biases[i] }) as tf.Tensor2D;
    if (i < kernels.length - 1) h = activation(h, i);
  }
  return { inputs, logits: h };
}

/** Logits of a batch (no dropout). */
function logitsOf(x: tf.Tensor2D, kernels: tf.Tensor2D[], biases: tf.Tensor1D[]): tf.Tensor2D {
  return forward(x, kernels, biases, reluActivation(wasmKernels())).logits;
}

/**
 * Backward pass by hand from d(loss)/d(logits), in place of tf.grads: no gradient tape, no
 * identity/cast bookkeeping ops, and every product uses the plain (non-transposed) matMul kernel
 * with an explicit transpose, which is what the wasm backend runs fastest (see matmul-grad.ts).
 * For layer i with input H and output gradient G: dW = Hᵀ·G, and the gradient
 * of the layer below is (G·Wᵀ) ⊙ [H > 0] ⊙ mask; since H = relu(Z) ⊙ mask with mask ∈ {0, s},
 * [H > 0] · s equals mask · [Z > 0], the stock ReLU-and-dropout gradient, bit for bit.
 * With the wasm kernels the transposes and the factor step(H) · s run in WebAssembly, in place.
 * Returns the kernel gradients and each layer's G (db = Σ_rows G is summed by the caller:
 * cheaper than a reduction kernel, which transposes first on wasm).
 */
function backward(
  gradLogits: tf.Tensor2D,
  inputs: tf.Tensor2D[],
  kernels: tf.Tensor2D[],
  dropoutScale: number | null,
  k: WasmStepKernels | null,
): { dW: tf.Tensor[]; dZ: tf.Tensor2D[] } {
  const L = kernels.length;
  const dW: tf.Tensor[] = new Array(L);
  const dZ: tf.Tensor2D[] = new Array(L);
  let g = gradLogits;
  for (let i = L - 1; i >= 0; i--) {
    const h = inputs[i];
    if (k) {
      const hT = k.transpose(h);
      dW[i] = tf.matMul(hT, g);
      dZ[i] = g;
      if (i > 0 && g.shape[0] % 4 === 0 && g.shape[1] % 4 === 0) {
        // (G·Wᵀ)ᵀ = W·Gᵀ: the operand XNNPACK packs afresh is Gᵀ (rows × fanOut values) instead
        // of Wᵀ (fanIn × fanOut), W needs no transpose, and the factor applies against Hᵀ.
        // XNNPACK sums each output over k in order from +0 in either orientation, so the bits are
        // the same (test/train-kernels.test.ts compares with the reference path). Not for the
        // 10 logits: a product with k = 10 runs faster the other way round.
        const belowT: tf.Tensor2D = tf.matMul(kernels[i], k.transpose(g));
        k.reluGradInPlace(belowT, hT, dropoutScale ?? 1);
        g = k.transpose(belowT);
      } else if (i > 0) {
        const below: tf.Tensor2D = tf.matMul(g, k.transpose(kernels[i]));
        k.reluGradInPlace(below, h, dropoutScale ?? 1);
        g = below;
      }
    } else {
      dW[i] = tf.matMul(tf.transpose(h), g);
      dZ[i] = g;
      if (i > 0) {
        let below: tf.Tensor2D = tf.matMul(g, tf.transpose(kernels[i]));
        below = tf.mul(below, tf.step(h)) as tf.Tensor2D;
        if (dropoutScale !== null) below = tf.mul(below, dropoutScale) as tf.Tensor2D;
        g = below;
      }
    }
  }
  return { dW, dZ };
}

/** Column sums of a rows × cols matrix into `out` (float64 accumulation in row order). */
function columnSums(m: Float32Array, rows: number, cols: number, out: Float32Array): void {
  for (let c = 0; c < cols; c++) {
    let sum = 0;
    for (let r = 0; r < rows; r++) sum += m[r * cols + c];
    out[c] = sum;
  }
}

/**
 * Categorical cross-entropy of softmax(logits) against labels, from the logits by log-sum-exp
 * (stable; float64), summed over `rows`; also counts correct argmax predictions (first maximum
 * on ties) and, if `grad` is given, writes d(mean loss)/d(logits) = (softmax − onehot)/rows.
 */
function crossEntropyRows(z: Float32Array, labels: ArrayLike<number>, rows: number, grad?: Float32Array): { lossSum: number; correct: number } {
  let lossSum = 0;
  let correct = 0;
  for (let r = 0; r < rows; r++) {
    const at = r * NUM_CLASSES;
    const label = labels[r];
    let max = z[at];
    let best = 0;
    for (let c = 1; c < NUM_CLASSES; c++)
      if (z[at + c] > max) {
        max = z[at + c];
        best = c;
      }
    let sum = 0;
    for (let c = 0; c < NUM_CLASSES; c++) sum += Math.exp(z[at + c] - max);
    lossSum += Math.log(sum) + max - z[at + label];
    if (best === label) correct++;
    if (grad) for (let c = 0; c < NUM_CLASSES; c++) grad[at + c] = (Math.exp(z[at + c] - max) / sum - (c === label ? 1 : 0)) / rows;
  }
  return { lossSum, correct };
}

/**
 * Mean cross-entropy of a batch as a tfjs op (Keras `categorical_crossentropy` on the softmax
 * output, computed from logits). Computed in JS from the logits: one small read instead of a
 * dozen tiny kernels per step, and it yields the batch's correct count for the running accuracy.
 */
export function meanCrossEntropyOp(labels: Uint8Array, stats: { lossSum: number; correct: number }) {
  return tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const logits = inputs[0] as tf.Tensor;
    const rows = logits.shape[0];
    const grad = new Float32Array(rows * NUM_CLASSES);
    const r = crossEntropyRows(logits.dataSync() as Float32Array, labels, rows, grad);
    stats.lossSum = r.lossSum;
    stats.correct = r.correct;
    const value: tf.Tensor = tf.scalar(r.lossSum / rows);
    return { value, gradFunc: (dy: tf.Tensor) => tf.mul(tf.tensor2d(grad, [rows, NUM_CLASSES]), dy) };
  });
}

/** Mean cross-entropy and accuracy of the network on a split (no dropout). */
export function evaluate(layers: readonly DenseLayer[], d: LabelledImages, batchSize = 1000): { loss: number; accuracy: number } {
  const n = d.labels.length;
  let lossSum = 0;
  let correct = 0;
  const x = new Float32Array(Math.min(batchSize, n) * INPUT_SIZE);
  const y = new Uint8Array(Math.min(batchSize, n));
  tf.tidy(() => {
    const kernels = layers.map((l) => tf.tensor2d(l.kernel, [l.fanIn, l.fanOut]));
    const biases = layers.map((l) => tf.tensor1d(l.bias));
    for (let from = 0; from < n; from += batchSize) {
      const to = Math.min(n, from + batchSize);
      const rows = to - from;
      fillBatch(d, null, from, to, x, y);
      const logits = tf.tidy(() => logitsOf(tf.tensor2d(x.subarray(0, rows * INPUT_SIZE), [rows, INPUT_SIZE]), kernels, biases));
      const r = crossEntropyRows(logits.dataSync() as Float32Array, y, rows);
      logits.dispose();
      lossSum += r.lossSum;
      correct += r.correct;
    }
  });
  return { loss: lossSum / n, accuracy: correct / n };
}

/** evaluate() on ONNX Runtime's forward graph (the `onnx` backend). */
export async function evaluateOnnx(layers: readonly DenseLayer[], d: LabelledImages, batchSize = 1000): Promise<{ loss: number; accuracy: number }> {
  const n = d.labels.length;
  let lossSum = 0;
  let correct = 0;
  const x = new Float32Array(Math.min(batchSize, n) * INPUT_SIZE);
  const y = new Uint8Array(Math.min(batchSize, n));
  const logits = new Float32Array(Math.min(batchSize, n) * NUM_CLASSES);
  for (let from = 0; from < n; from += batchSize) {
    const to = Math.min(n, from + batchSize);
    fillBatch(d, null, from, to, x, y);
    await onnxLogits(layers, x, to - from, logits);
    const r = crossEntropyRows(logits, y, to - from);
    lossSum += r.lossSum;
    correct += r.correct;
  }
  return { loss: lossSum / n, accuracy: correct / n };
}

export interface BatchLoss {
  /** Summed cross-entropy of the batch's rows. */
  lossSum: number;
  /** Rows whose argmax prediction is the label. */
  correct: number;
}

/** The wasm backend's internals used to read a result in place (tfjs-backend-wasm 4.x). */
interface WasmBackendInternals {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
}

/**
 * The float32 values of `t` without a copy where the backend allows it: on wasm a view of the
 * backend's heap (valid until the tensor is disposed or the wasm memory grows, so only inside
 * the tidy that owns `t` and before any further tfjs op), elsewhere dataSync().
 */
function viewOf(t: tf.Tensor): Float32Array {
  if (tf.getBackend() === 'wasm') {
    const backend = tf.backend() as unknown as WasmBackendInternals;
    const offset = backend.dataIdMap.get(t.dataId).memoryOffset;
    return new Float32Array(backend.wasm.HEAPU8.buffer, offset, t.size);
  }
  return t.dataSync() as Float32Array;
}

/**
 * Loss and gradients of one batch (the first `rows` rows of `x`, scaled inputs, and of `labels`)
 * with the given dropout masks (one rows × width array per hidden layer, entries 0 or
 * `dropoutScale`) or none. The gradients d(mean loss)/d(parameter) — kernels in layer order,
 * then biases — are handed to `use` and are valid only during that call (on wasm they are views
 * of tensor memory, which saves copying ≈ 2 MB per step of the paper's MLP).
 */
export function batchGradients(
  layers: readonly DenseLayer[],
  x: Float32Array,
  labels: Uint8Array,
  rows: number,
  masks: StepMasks | null,
  dropoutScale: number,
  use: (grads: Float32Array[]) => void,
): BatchLoss {
  const out: BatchLoss = { lossSum: 0, correct: 0 };
  const k = wasmKernels();
  const hiddenWidths = layers.slice(0, -1).map((l) => l.fanOut);
  tf.tidy(() => {
    const xs = tf.tensor2d(x.subarray(0, rows * INPUT_SIZE), [rows, INPUT_SIZE]);
    const kernels = layers.map((l) => tf.tensor2d(l.kernel, [l.fanIn, l.fanOut]));
    const biases = layers.map((l) => tf.tensor1d(l.bias));
    let activation = reluActivation(k);
    if (masks && k) {
      // Every layer's mask in one tensor, layer after layer (the order of the draws).
      const starts = hiddenWidths.map((_, i) => rows * hiddenWidths.slice(0, i).reduce((a, b) => a + b, 0));
      const total = rows * hiddenWidths.reduce((a, b) => a + b, 0);
      let all: tf.Tensor1D;
      if (isDrawnMasks(masks)) {
        const draw = dropoutDraw(masks.seed, masks.step, masks.rate);
        all = k.dropoutMask(total, draw.state, draw.threshold, draw.scaleBits);
      } else {
        const joined = new Float32Array(total);
        masks.forEach((m, i) => joined.set(m, starts[i]));
        all = tf.tensor1d(joined);
      }
      activation = (z, i) => (k.reluMaskInPlace(z, all, starts[i]), z);
    } else if (masks) {
      const arrays = isDrawnMasks(masks) ? dropoutMasks(masks.seed, masks.step, rows, hiddenWidths, masks.rate) : masks;
      const tensors = arrays.map((m, i) => tf.tensor2d(m, [rows, hiddenWidths[i]]));
      activation = (z, i) => tf.mul(tf.relu(z), tensors[i]) as tf.Tensor2D;
    }
    const { inputs, logits } = forward(xs, kernels, biases, activation);
    const gradLogits = new Float32Array(rows * NUM_CLASSES);
    const r = crossEntropyRows(logits.dataSync() as Float32Array, labels, rows, gradLogits);
    out.lossSum = r.lossSum;
    out.correct = r.correct;
    const { dW, dZ } = backward(tf.tensor2d(gradLogits, [rows, NUM_CLASSES]), inputs, kernels, masks ? dropoutScale : null, k);
    const biasTensors = dZ.map((g) => k?.columnSums(g) ?? null);
    // Views only now: an op may grow the wasm heap, which invalidates earlier views.
    const biasGrads = layers.map((l, i) => {
      const t = biasTensors[i];
      if (t) return viewOf(t);
      const db = new Float32Array(l.fanOut);
      columnSums(viewOf(dZ[i]), rows, l.fanOut, db);
      return db;
    });
    use([...dW.map(viewOf), ...biasGrads]);
  });
  return out;
}

/**
 * The dropout masks of a step: arrays (one rows × width per hidden layer, entries 0 or the
 * dropout scale), or the step's draws, { seed, step, rate }, as dropout.ts dropoutMasks makes them.
 */
export type StepMasks = readonly Float32Array[] | { seed: number; step: number; rate: number };

function isDrawnMasks(m: StepMasks): m is { seed: number; step: number; rate: number } {
  return !Array.isArray(m);
}

/** A string that changes whenever a checkpoint of another configuration must not be resumed. */
function fingerprintOf(o: PhaseOptions, nTrain: number): string {
  return JSON.stringify({
    phase: o.phase,
    seed: o.seed,
    epochs: o.epochs,
    batchSize: o.batchSize,
    adam: o.adam,
    dropoutRate: o.dropoutRate,
    shuffle: o.shuffle,
    pruning: o.pruning ?? null,
    shapes: o.initial.map((l) => [l.fanIn, l.fanOut]),
    nTrain,
    nTest: o.test.labels.length,
    snapshotEvery: o.snapshotEvery ?? 0,
  });
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('training aborted');
}

/** Train one phase. The caller must have initialised a backend (backend.ts initBackend): tfjs, or onnx (onnx-trainer.ts). */
export async function trainPhase(o: PhaseOptions): Promise<PhaseResult> {
  const nTrain = validatePhaseOptions(o);
  const fingerprint = fingerprintOf(o, nTrain);
  const start = await startingPoint(o, fingerprint);
  const progress = start.progress;
  const resumedEpochs = progress.epochsDone;
  const snapshotEvery = o.snapshotEvery ?? 0;
  const run = await startRun(o, start);
  const sessionStart = performance.now();

  for (let epoch = progress.epochsDone; epoch < o.epochs; epoch++) {
    const train = await trainEpoch(o, run, progress, epoch, nTrain);
    const metrics = await epochMetrics(o, run, epoch, train, nTrain);
    progress.history.push(metrics);
    progress.epochsDone = epoch + 1;
    if (isSnapshotEpoch(progress.epochsDone, snapshotEvery)) progress.snapshots.push({ epoch: progress.epochsDone, layers: cloneLayers(run.layers) });
    if (o.checkpoint) await o.checkpoint.save(encodeCheckpoint(checkpointState(fingerprint, progress, run)));
    const sessionEpochs = progress.epochsDone - resumedEpochs;
    o.onEpoch?.({ metrics, epochs: o.epochs, secondsPerEpoch: (performance.now() - sessionStart) / 1000 / sessionEpochs });
  }
  // Copies: the optimiser's arrays may be views of its WebAssembly memory.
  return { layers: cloneLayers(run.layers), history: progress.history, resumedEpochs, snapshots: progress.snapshots };
}

/** Reject options no phase can run with before any work is done; returns the number of training examples. */
function validatePhaseOptions(o: PhaseOptions): number {
  const nTrain = validateImages(o.train, `${o.phase} training data`);
  validateImages(o.test, `${o.phase} test data`);
  if (!Number.isInteger(o.epochs) || o.epochs < 0) throw new RangeError(`epochs must be an integer ≥ 0, got ${o.epochs}`);
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) throw new RangeError(`batch size must be an integer ≥ 1, got ${o.batchSize}`);
  if (!(o.dropoutRate >= 0 && o.dropoutRate < 1)) throw new RangeError(`dropout rate must be in [0, 1), got ${o.dropoutRate}`);
  if (o.pruning) validateSchedule(o.pruning);
  return nTrain;
}

/** Adam's moments and step count, as a checkpoint stores them. */
type AdamMoments = { m: Float32Array[]; v: Float32Array[]; iterations: number };

/** How far a phase has come: what it carries from one epoch end to the next. */
interface PhaseProgress {
  history: EpochMetrics[];
  snapshots: WeightSnapshot[];
  epochsDone: number;
  /** Batches done in this phase (the pruning and dropout step counter). */
  step: number;
}

/** Where a phase starts: the weights, Adam state and masks to build the optimiser from, and the progress so far. */
interface PhaseStart {
  layers: DenseLayer[];
  adamState: AdamMoments | null;
  masks: Float32Array[] | null;
  progress: PhaseProgress;
}

/**
 * The phase's checkpoint when there is one of this configuration (so that a crash and resume
 * gives the same bits), else epoch 0 from `o.initial`. A checkpoint that does not fit is
 * reported through onResume and ignored.
 */
async function startingPoint(o: PhaseOptions, fingerprint: string): Promise<PhaseStart> {
  const layers = cloneLayers(o.initial);
  const fresh: PhaseStart = {
    layers,
    adamState: null,
    masks: o.pruning ? layers.map((l) => new Float32Array(l.kernel.length).fill(1)) : null,
    progress: { history: [], snapshots: [], epochsDone: 0, step: 0 },
  };
  const saved = await o.checkpoint?.load();
  if (!saved) return fresh;
  try {
    const state = decodeCheckpoint(saved);
    if (state.fingerprint !== fingerprint) throw new CheckpointFormatError('it was written by another configuration');
    const sizes = [...state.layers.map((l) => l.kernel.length), ...state.layers.map((l) => l.bias.length)];
    if (state.adamM.length !== sizes.length || sizes.some((n, i) => state.adamM[i].length !== n || state.adamV[i]?.length !== n))
      throw new CheckpointFormatError('its Adam moments do not match its layers');
    o.onResume?.(`resuming ${o.phase} phase after epoch ${state.epochsDone}/${o.epochs}`);
    return {
      layers: state.layers,
      adamState: { m: state.adamM, v: state.adamV, iterations: state.adamIterations },
      masks: state.masks,
      progress: { history: state.history, snapshots: state.snapshots, epochsDone: state.epochsDone, step: state.step },
    };
  } catch (e) {
    if (!(e instanceof CheckpointFormatError)) throw e;
    o.onResume?.(`ignoring the ${o.phase} checkpoint (${e.message}); starting from epoch 0`);
    return fresh;
  }
}

/** What trains the batches: the optimiser with the layers and masks it owns, the batch buffers, the dropout scale. */
interface PhaseRun {
  optimiser: OnnxStep | LayerOptimiser;
  /** The optimiser's layers (their arrays may be views of its WebAssembly memory). */
  layers: DenseLayer[];
  masks: Float32Array[] | null;
  /** Zero the pruned kernel entries (where the masks live: beside the kernels on onnx). */
  applyMasks: () => void;
  /** Onnx (native) training rather than tfjs. */
  native: boolean;
  x: Float32Array;
  y: Uint8Array;
  /** Raw uint8 batch pixels on onnx (its graph scales them, to the same bits), else null. */
  pixels: Uint8Array | null;
  useDropout: boolean;
  dropoutScale: number;
}

/** Build the optimiser of the active backend from the starting point, and the buffers one batch reuses. */
async function startRun(o: PhaseOptions, start: PhaseStart): Promise<PhaseRun> {
  const useDropout = o.dropoutRate > 0;
  const dropoutScale = Math.fround(1 / (1 - o.dropoutRate));
  const x = new Float32Array(o.batchSize * INPUT_SIZE);
  const y = new Uint8Array(o.batchSize);
  const native = nativeTrainingActive();
  // On onnx, uint8 images go into the graph as they are (it scales them, to the same bits).
  const pixels = native && o.train.images instanceof Uint8Array ? new Uint8Array(o.batchSize * INPUT_SIZE) : null;
  const optimiser = native
    ? await OnnxStep.create(start.layers, o.adam, start.adamState, useDropout ? dropoutScale : null, pixels ?? x, start.masks)
    : createOptimiser(o.adam, start.layers, start.adamState);
  const layers = optimiser.layers;
  // On onnx the masks live beside the kernels in WebAssembly memory, where they are applied.
  const masks = optimiser instanceof OnnxStep && optimiser.kernelMasks ? optimiser.kernelMasks : start.masks;
  const applyMasks = optimiser instanceof OnnxStep ? () => optimiser.applyKernelMasks() : () => layers.forEach((l, i) => applyMask(l.kernel, masks![i]));
  return { optimiser, layers, masks, applyMasks, native, x, y, pixels, useDropout, dropoutScale };
}

/**
 * One pass over the training data in this epoch's order, one optimiser step per batch (the
 * pruning masks updated and applied before it, and once more at the end: pruning.ts): the summed
 * loss and correct count of the batches, Keras's running training metrics. Advances
 * progress.step by the batches done.
 */
async function trainEpoch(o: PhaseOptions, run: PhaseRun, progress: PhaseProgress, epoch: number, nTrain: number): Promise<BatchLoss> {
  const order = o.shuffle ? new Rng(deriveSeed(o.seed, ORDER_STREAM, epoch)).permutation(nTrain) : null;
  const batches = Math.ceil(nTrain / o.batchSize);
  let lossSum = 0;
  let correct = 0;
  for (let b = 0; b < batches; b++, progress.step++) {
    if (o.signal?.aborted) throw abortError(o.signal);
    if (b % YIELD_EVERY === YIELD_EVERY - 1) await new Promise((resolve) => setImmediate(resolve));
    const from = b * o.batchSize;
    const to = Math.min(nTrain, from + o.batchSize);
    if (run.pixels) copyPixels(o.train.images as Uint8Array, o.train.labels, order, from, to, run.pixels, run.y);
    else fillBatch(o.train, order, from, to, run.x, run.y);
    if (run.masks && o.pruning) pruneBeforeStep(o.pruning, progress.step, run);
    const batch = await optimiserStep(o, run, progress.step, to - from);
    lossSum += batch.lossSum;
    correct += batch.correct;
  }
  if (run.masks) run.applyMasks();
  return { lossSum, correct };
}

/**
 * The pruning before a step (tfmot `pruning_impl.Pruning`, see pruning.ts): on a mask update
 * step, new magnitude masks at the scheduled sparsity; then the masks applied.
 */
function pruneBeforeStep(schedule: PruningSchedule, step: number, run: PhaseRun): void {
  if (isMaskUpdateStep(schedule, step)) {
    const s = scheduledSparsity(schedule, step);
    run.layers.forEach((l, i) => magnitudeMask(l.kernel, s, run.masks![i]));
  }
  run.applyMasks();
}

/** One Adam step on the batch in run.x / run.pixels and run.y, with this step's dropout draws; its loss and correct count. */
async function optimiserStep(o: PhaseOptions, run: PhaseRun, step: number, rows: number): Promise<BatchLoss> {
  const { optimiser, y } = run;
  const dropout = run.useDropout ? { seed: o.seed, step, rate: o.dropoutRate } : null;
  if (optimiser instanceof OnnxStep) return crossEntropyRows(await optimiser.step(y, rows, dropout), y, rows);
  return batchGradients(run.layers, run.x, y, rows, dropout, run.dropoutScale, (grads) => optimiser.step(grads));
}

/** The metrics of the epoch just trained: the training means over the epoch, then a pass over the test set. */
async function epochMetrics(o: PhaseOptions, run: PhaseRun, epoch: number, train: BatchLoss, nTrain: number): Promise<EpochMetrics> {
  const test = run.native ? await evaluateOnnx(run.layers, o.test, o.evalBatchSize) : evaluate(run.layers, o.test, o.evalBatchSize);
  return {
    epoch: epoch + 1,
    trainLoss: train.lossSum / nTrain,
    trainAccuracy: train.correct / nTrain,
    testLoss: test.loss,
    testAccuracy: test.accuracy,
    sparsity: kernelSparsity(run.layers),
  };
}

/** The checkpoint of an epoch end: everything startingPoint needs to continue bit-identically. */
function checkpointState(fingerprint: string, progress: PhaseProgress, run: PhaseRun): TrainerState {
  const { optimiser } = run;
  return {
    fingerprint,
    epochsDone: progress.epochsDone,
    step: progress.step,
    adamIterations: optimiser.iterations,
    history: progress.history,
    layers: run.layers,
    adamM: optimiser.m,
    adamV: optimiser.v,
    masks: run.masks,
    snapshots: progress.snapshots,
  };
}

/** Adam over the layers' kernels then biases, whichever implementation runs it. */
interface LayerOptimiser {
  /** The layers the optimiser updates in place (their arrays may be views of its memory). */
  layers: DenseLayer[];
  readonly m: Float32Array[];
  readonly v: Float32Array[];
  readonly iterations: number;
  step(grads: Float32Array[]): void;
}

/**
 * Adam for `layers` (copied), starting from a checkpoint's moments when given: the WebAssembly
 * kernel (adam-wasm.ts) where available and the step kernels are `fast`, else adam.ts.
 */
function createOptimiser(config: AdamConfig, layers: DenseLayer[], resumed: AdamMoments | null): LayerOptimiser {
  const arrays = (ls: readonly DenseLayer[]) => [...ls.map((l) => l.kernel), ...ls.map((l) => l.bias)];
  const sizes = arrays(layers).map((a) => a.length);
  const wasm = stepKernels === 'fast' ? WasmAdam.create(config, sizes) : null;
  if (wasm) {
    arrays(layers).forEach((a, i) => wasm.params[i].set(a));
    if (resumed) {
      resumed.m.forEach((m, i) => wasm.m[i].set(m));
      resumed.v.forEach((v, i) => wasm.v[i].set(v));
      wasm.iterations = resumed.iterations;
    }
    const L = layers.length;
    const views = layers.map((l, i) => ({ ...l, kernel: wasm.params[i], bias: wasm.params[L + i] }));
    return {
      layers: views,
      m: wasm.m,
      v: wasm.v,
      get iterations() {
        return wasm.iterations;
      },
      step: (grads) => wasm.step(grads),
    };
  }
  const adam = new Adam(config, resumed ? [] : sizes);
  if (resumed) {
    adam.m.push(...resumed.m);
    adam.v.push(...resumed.v);
    adam.iterations = resumed.iterations;
  }
  const params = arrays(layers);
  return {
    layers,
    m: adam.m,
    v: adam.v,
    get iterations() {
      return adam.iterations;
    },
    step: (grads) => adam.step(params, grads),
  };
}

/** The train and test splits of a dataset table's contents, keeping only the first `trainExamples` training examples when set. */
export function trainingSplits(
  ds: { name: string; train: LabelledImages; test: LabelledImages },
  trainExamples: number | null,
): { train: LabelledImages; test: LabelledImages } {
  const n = ds.train.labels.length;
  if (trainExamples !== null && trainExamples > n)
    throw new TrainingDataError(
      `dataset ${ds.name}: train_examples is ${trainExamples} but the dataset has only ${n} training examples; lower train_examples in params.yaml`,
    );
  const keep = trainExamples ?? n;
  return {
    train: { images: ds.train.images.subarray(0, keep * INPUT_SIZE), labels: ds.train.labels.subarray(0, keep) },
    test: { images: ds.test.images, labels: ds.test.labels },
  };
}

function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** One progress line per epoch: 'epoch 3/20 loss 0.12 acc 0.97 test 0.97 eta 1m05s'. */
export function epochMessage(r: EpochReport): string {
  const m = r.metrics;
  const eta = formatDuration((r.epochs - m.epoch) * r.secondsPerEpoch);
  return `epoch ${m.epoch}/${r.epochs} loss ${m.trainLoss.toFixed(3)} acc ${m.trainAccuracy.toFixed(3)} test ${m.testAccuracy.toFixed(3)} eta ${eta}`;
}
