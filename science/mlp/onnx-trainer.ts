/**
 * The trainer's step and evaluation on ONNX Runtime (the `onnx` backend): forward + hand-written
 * backward as one graph (onnx-step.ts) whose gradient outputs ORT writes straight into Adam's
 * gradient buffer (adam-wasm.ts `WasmAdam`, float64 arithmetic, the same Adam as on tfjs); the
 * weights ORT reads are views of Adam's parameter memory, so a step copies nothing but the
 * batch. trainer.ts keeps the epoch loop, data order, dropout draws, pruning masks, metrics and
 * checkpoints, so everything but the arithmetic of the graph is shared with the tfjs backends.
 */
import type * as Ort from 'onnxruntime-node';
import type { DenseLayer } from '../weights.ts';
import type { AdamConfig } from './adam.ts';
import { WasmAdam } from './adam-wasm.ts';
import { dropoutDraw, dropoutMasks } from './dropout.ts';
import { applyMask } from './pruning.ts';
import { WasmDropoutMasks, WasmKernelMasks } from './step-wasm.ts';
import { forwardGraph, gradientNames, stepGraph } from './onnx-step.ts';
import { loadOnnxRuntime, SESSION_OPTIONS, type OrtModule } from './onnx-runtime.ts';

function ortModule(): OrtModule {
  const loaded = loadOnnxRuntime();
  if (!loaded.ok) throw new Error(`ONNX Runtime is unavailable: ${loaded.reason}`);
  return loaded.ort;
}

/** Sessions are built once per thread for each graph (creation optimises the graph: ≈ 10–50 ms). */
const sessions = new Map<string, Promise<Ort.InferenceSession>>();

function session(key: string, build: () => Uint8Array): Promise<Ort.InferenceSession> {
  let s = sessions.get(key);
  if (!s) {
    s = ortModule().InferenceSession.create(build(), { ...SESSION_OPTIONS, extra: { session: { ...SESSION_OPTIONS.extra.session } } });
    sessions.set(key, s);
    s.catch(() => sessions.delete(key));
  }
  return s;
}

export function stepSession(sizes: readonly number[], dropoutScale: number | null, pixels: 'float32' | 'uint8' = 'float32'): Promise<Ort.InferenceSession> {
  return session(`step ${sizes.join('-')} ${dropoutScale} ${pixels}`, () => stepGraph({ sizes, dropoutScale, biasGradient: 'gemm', pixels }));
}

export function forwardSession(sizes: readonly number[]): Promise<Ort.InferenceSession> {
  return session(`forward ${sizes.join('-')}`, () => forwardGraph(sizes));
}

const sizesOf = (layers: readonly DenseLayer[]) => [layers[0].fanIn, ...layers.map((l) => l.fanOut)];

/** Feeds and fetches of the step for one batch size (the last batch of an epoch may be smaller). */
interface StepBuffers {
  feeds: Record<string, Ort.Tensor>;
  fetches: Record<string, Ort.Tensor>;
  oneHot: Float32Array;
  logits: Float32Array;
}

/** One network's weights, Adam state and step on ONNX Runtime. */
export class OnnxStep {
  readonly layers: DenseLayer[];
  private readonly buffers = new Map<number, StepBuffers>();

  /** Where the step's dropout masks are drawn (WebAssembly, null without dropout); tensors are views of it. */
  private readonly masks: WasmDropoutMasks | null;
  /** The pruning masks, one per kernel, in Adam's memory beside the kernels (null outside the pruning phase). */
  readonly kernelMasks: Float32Array[] | null = null;
  private readonly masker: WasmKernelMasks | null = null;

  private constructor(
    private readonly ort: OrtModule,
    private readonly session: Ort.InferenceSession,
    private readonly adam: WasmAdam,
    private readonly sizes: number[],
    private readonly x: Float32Array | Uint8Array,
    dropout: boolean,
    pruning: boolean,
  ) {
    const L = sizes.length - 1;
    if (pruning) {
      let at = adam.scratchOffset;
      this.kernelMasks = adam.params.slice(0, L).map((k) => {
        const view = new Float32Array(adam.memory.buffer, at, k.length);
        at += k.byteLength;
        return view;
      });
      this.masker = WasmKernelMasks.create(adam.memory);
    }
    const batchSize = x.length / sizes[0];
    this.masks = dropout ? WasmDropoutMasks.create(batchSize * sizes.slice(1, -1).reduce((a, b) => a + b, 0)) : null;
    this.layers = sizes.slice(1).map((fanOut, i) => ({ fanIn: sizes[i], fanOut, kernel: adam.params[i], bias: adam.params[L + i] }));
  }

  /**
   * A step for `initial` (copied) with Adam resumed from `resumed` when given; `x` is the batch
   * buffer (batchSize × 784: scaled inputs, or raw uint8 pixels) the trainer fills before each step. With pruning
   * masks (copied into `kernelMasks`, which the trainer then updates in place) applyKernelMasks
   * masks the kernels in WebAssembly.
   */
  static async create(
    initial: readonly DenseLayer[],
    adamConfig: AdamConfig,
    resumed: { m: Float32Array[]; v: Float32Array[]; iterations: number } | null,
    dropoutScale: number | null,
    x: Float32Array | Uint8Array,
    pruningMasks: readonly Float32Array[] | null = null,
  ): Promise<OnnxStep> {
    const sizes = sizesOf(initial);
    const arrays = [...initial.map((l) => l.kernel), ...initial.map((l) => l.bias)];
    const kernelValues = initial.reduce((n, l) => n + l.kernel.length, 0);
    const adam = WasmAdam.create(
      adamConfig,
      arrays.map((a) => a.length),
      pruningMasks ? kernelValues : 0,
    );
    if (!adam) throw new Error('the onnx backend needs WebAssembly SIMD for Adam');
    arrays.forEach((a, i) => adam.params[i].set(a));
    if (resumed) {
      resumed.m.forEach((m, i) => adam.m[i].set(m));
      resumed.v.forEach((v, i) => adam.v[i].set(v));
      adam.iterations = resumed.iterations;
    }
    const step = new OnnxStep(
      ortModule(),
      await stepSession(sizes, dropoutScale, x instanceof Uint8Array ? 'uint8' : 'float32'),
      adam,
      sizes,
      x,
      dropoutScale !== null,
      pruningMasks !== null,
    );
    pruningMasks?.forEach((m, i) => step.kernelMasks![i].set(m));
    return step;
  }

  get m(): Float32Array[] {
    return this.adam.m;
  }
  get v(): Float32Array[] {
    return this.adam.v;
  }
  get iterations(): number {
    return this.adam.iterations;
  }

  /** pruning.ts applyMask of every kernel by its mask in kernelMasks, bit for bit. */
  applyKernelMasks(): void {
    const masks = this.kernelMasks!;
    const n = masks.reduce((sum, m) => sum + m.length, 0);
    if (this.masker) this.masker.apply(this.adam.paramOffset(0), masks[0].byteOffset, n);
    else this.layers.forEach((l, i) => applyMask(l.kernel, masks[i]));
  }

  private buffersFor(rows: number): StepBuffers {
    let b = this.buffers.get(rows);
    if (b) return b;
    const { ort, sizes, adam } = this;
    const L = sizes.length - 1;
    const T = (data: Float32Array, dims: number[]) => new ort.Tensor('float32', data, dims);
    const oneHot = new Float32Array(rows * sizes[L]);
    const logits = new Float32Array(rows * sizes[L]);
    const feeds: Record<string, Ort.Tensor> = {
      x:
        this.x instanceof Uint8Array
          ? new ort.Tensor('uint8', this.x.subarray(0, rows * sizes[0]), [rows, sizes[0]])
          : T(this.x.subarray(0, rows * sizes[0]), [rows, sizes[0]]),
      y: T(oneHot, [rows, sizes[L]]),
      inv_rows: T(Float32Array.of(1 / rows), []),
      ones: T(new Float32Array(rows).fill(1), [1, rows]),
    };
    const fetches: Record<string, Ort.Tensor> = { logits: T(logits, [rows, sizes[L]]) };
    let at = 0;
    if (this.masks)
      for (let i = 1; i < L; i++) {
        feeds[`drop${i - 1}`] = T(this.masks.buffer.subarray(at, at + rows * sizes[i]), [rows, sizes[i]]);
        at += rows * sizes[i];
      }
    gradientNames(L).forEach((name, k) => {
      const kernel = k < L;
      const i = kernel ? k : k - L;
      feeds[kernel ? `W${i}` : `b${i}`] = T(adam.params[k], kernel ? [sizes[i], sizes[i + 1]] : [sizes[i + 1]]);
      fetches[name] = T(adam.grads[k], kernel ? [sizes[i], sizes[i + 1]] : [1, sizes[i + 1]]);
    });
    b = { feeds, fetches, oneHot, logits };
    this.buffers.set(rows, b);
    return b;
  }

  /**
   * One training step on the first `rows` rows of the batch buffer with these labels and the
   * dropout masks of `dropout` (dropout.ts dropoutMasks, drawn here; null without dropout):
   * gradients, then Adam in place. Returns the batch's logits (valid until the next step).
   */
  async step(labels: ArrayLike<number>, rows: number, dropout: { seed: number; step: number; rate: number } | null): Promise<Float32Array> {
    const b = this.buffersFor(rows);
    const classes = this.sizes[this.sizes.length - 1];
    b.oneHot.fill(0);
    for (let r = 0; r < rows; r++) b.oneHot[r * classes + labels[r]] = 1;
    if (dropout) this.drawMasks(rows, dropout, b.feeds);
    await this.session.run(b.feeds, b.fetches);
    this.adam.stepOnGradients();
    return b.logits;
  }

  /** The step's masks into the feeds: drawn in WebAssembly into the tensors' memory, or by dropout.ts. */
  private drawMasks(rows: number, d: { seed: number; step: number; rate: number }, feeds: Record<string, Ort.Tensor>): void {
    const widths = this.sizes.slice(1, -1);
    if (this.masks) this.masks.fill(rows * widths.reduce((a, b) => a + b, 0), dropoutDraw(d.seed, d.step, d.rate));
    else dropoutMasks(d.seed, d.step, rows, widths, d.rate).forEach((m, i) => (feeds[`drop${i}`] = new this.ort.Tensor('float32', m, [rows, widths[i]])));
  }
}

/**
 * Logits of `rows` scaled inputs in `x` for the network `layers`, computed by ONNX Runtime's
 * forward graph, into `out` (rows × classes).
 */
export async function onnxLogits(layers: readonly DenseLayer[], x: Float32Array, rows: number, out: Float32Array): Promise<void> {
  const ort = ortModule();
  const sizes = sizesOf(layers);
  const s = await forwardSession(sizes);
  const T = (data: Float32Array, dims: number[]) => new ort.Tensor('float32', data, dims);
  const feeds: Record<string, Ort.Tensor> = { x: T(x.subarray(0, rows * sizes[0]), [rows, sizes[0]]) };
  layers.forEach((l, i) => {
    feeds[`W${i}`] = T(l.kernel, [l.fanIn, l.fanOut]);
    feeds[`b${i}`] = T(l.bias, [l.fanOut]);
  });
  await s.run(feeds, { logits: T(out.subarray(0, rows * sizes[sizes.length - 1]), [rows, sizes[sizes.length - 1]]) });
}

/**
 * Loss inputs and gradients of one batch from the step graph, without Adam (for tests and the
 * benchmark): the logits and the gradients in checkpoint order (kernels, then biases).
 */
export async function onnxBatchGradients(
  layers: readonly DenseLayer[],
  x: Float32Array,
  labels: ArrayLike<number>,
  rows: number,
  masks: readonly Float32Array[] | null,
  dropoutScale: number,
): Promise<{ logits: Float32Array; grads: Float32Array[] }> {
  const ort = ortModule();
  const sizes = sizesOf(layers);
  const L = layers.length;
  const classes = sizes[L];
  const s = await stepSession(sizes, masks ? dropoutScale : null);
  const T = (data: Float32Array, dims: number[]) => new ort.Tensor('float32', data, dims);
  const oneHot = new Float32Array(rows * classes);
  for (let r = 0; r < rows; r++) oneHot[r * classes + labels[r]] = 1;
  const feeds: Record<string, Ort.Tensor> = {
    x: T(x.subarray(0, rows * sizes[0]), [rows, sizes[0]]),
    y: T(oneHot, [rows, classes]),
    inv_rows: T(Float32Array.of(1 / rows), []),
    ones: T(new Float32Array(rows).fill(1), [1, rows]),
  };
  layers.forEach((l, i) => {
    feeds[`W${i}`] = T(l.kernel, [l.fanIn, l.fanOut]);
    feeds[`b${i}`] = T(l.bias, [l.fanOut]);
  });
  masks?.forEach((m, i) => (feeds[`drop${i}`] = T(m, [rows, sizes[i + 1]])));
  const out = await s.run(feeds);
  return { logits: out.logits.data as Float32Array, grads: gradientNames(L).map((n) => out[n].data as Float32Array) };
}
