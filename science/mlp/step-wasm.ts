/**
 * The non-matMul work of a training step on the tfjs wasm backend, as a WebAssembly SIMD module
 * (science/kernels/step.wat) instantiated on the backend's own memory, so it reads and writes
 * tensors in place (tfjs' own Transpose, Relu, Step and Mul kernels are scalar loops plus one
 * dispatch each; the JavaScript loops they replaced in dropout.ts and trainer.ts are slower still).
 * Every function gives the bits of what it replaces (trainer.ts keeps those as its reference path,
 * and a test compares): transpose4 (tf.transpose in 4 × 4 blocks), relu and reluMask (tfjs Relu,
 * then Mul by the dropout mask), reluGrad (Mul by tfjs Step and the dropout scale), columnSums
 * (trainer.ts columnSums, float64 sums in row order), dropoutBits (dropout.ts dropoutMasks, the
 * xoshiro128** stream), maskKernels (pruning.ts applyMask).
 *
 * Pointers are byte offsets into the backend's memory; `bytes` counts a multiple of 16 (the
 * JavaScript wrappers below do the last n mod 4 elements themselves, the same way).
 */
import * as tf from '@tensorflow/tfjs-core';
import { compileOnce, instantiateOn, kernelMemory } from '../kernels/runtime.ts';
import { stepWasm } from '../kernels/generated/step.ts';

const compiled = compileOnce(stepWasm);

interface Exports {
  transpose4(input: number, out: number, rows: number, cols: number): void;
  relu(h: number, bytes: number): void;
  reluMask(h: number, mask: number, bytes: number): void;
  reluGrad(d: number, h: number, bytes: number, scaleBits: number): void;
  columnSums(m: number, rows: number, cols: number, out: number): void;
  dropoutBits(out: number, n: number, s0: number, s1: number, s2: number, s3: number, threshold: number, scaleBits: number): void;
  maskKernels(w: number, mask: number, bytes: number): void;
}

/** The wasm backend's internals these kernels use (tfjs-backend-wasm 4.x). */
interface WasmBackendInternals {
  wasm: { HEAPU8: Uint8Array; asm?: { memory?: WebAssembly.Memory } };
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
}

const float32Bits = (v: number) => new Int32Array(Float32Array.of(v).buffer)[0];

/** Tensor operations of the training step that run in place on the wasm backend's memory. */
export class WasmStepKernels {
  private constructor(
    private readonly backend: WasmBackendInternals,
    private readonly k: Exports,
  ) {}

  /** The kernels for the active backend: null unless it is wasm with an importable memory and WebAssembly SIMD validates. */
  static forActiveBackend(): WasmStepKernels | null {
    if (tf.getBackend() !== 'wasm') return null;
    const backend = tf.backend() as unknown as WasmBackendInternals;
    let kernels = bound.get(backend);
    if (kernels === undefined) {
      kernels = null;
      const memory = backend.wasm?.asm?.memory;
      const module = compiled();
      if (module && memory instanceof WebAssembly.Memory && typeof backend.makeOutput === 'function') {
        try {
          kernels = new WasmStepKernels(backend, instantiateOn<Exports>(module, memory));
        } catch {
          kernels = null; // e.g. a shared (threaded) memory the module's import does not match
        }
      }
      bound.set(backend, kernels);
    }
    return kernels;
  }

  private offset(t: tf.Tensor): number {
    return this.backend.dataIdMap.get(t.dataId).memoryOffset;
  }

  /** A float32 view of `t`'s memory: valid only until the next tfjs op (which may grow the heap). */
  private view(t: tf.Tensor): Float32Array {
    return new Float32Array(this.backend.wasm.HEAPU8.buffer, this.offset(t), t.size);
  }

  /** An uninitialised float32 tensor in the backend's memory (tracked by the enclosing tidy). */
  private empty<R extends tf.Rank>(shape: number[]): tf.Tensor<R> {
    return tf.engine().makeTensorFromTensorInfo(this.backend.makeOutput(shape, 'float32'), tf.backend()) as tf.Tensor<R>;
  }

  /** tᵀ; tf.transpose for shapes that are not multiples of 4. */
  transpose(t: tf.Tensor2D): tf.Tensor2D {
    const [rows, cols] = t.shape;
    if (rows % 4 !== 0 || cols % 4 !== 0 || t.dtype !== 'float32') return tf.transpose(t);
    const out = this.empty<tf.Rank.R2>([cols, rows]);
    this.k.transpose4(this.offset(t), this.offset(out), rows, cols);
    return out;
  }

  /** h ← relu(h) ⊙ mask (mask: `h.size` values of `masks` from element `maskStart`), or relu(h), in place. */
  reluMaskInPlace(h: tf.Tensor, masks: tf.Tensor | null, maskStart: number): void {
    const n = h.size;
    const simd = n - (n % 4);
    const hp = this.offset(h);
    if (masks) this.k.reluMask(hp, this.offset(masks) + maskStart * 4, simd * 4);
    else this.k.relu(hp, simd * 4);
    if (simd === n) return;
    const hv = this.view(h);
    const mv = masks ? this.view(masks) : null;
    for (let i = simd; i < n; i++) {
      const v = hv[i];
      const r = v > 0 || v !== v ? v : 0;
      hv[i] = mv ? r * mv[maskStart + i] : r;
    }
  }

  /** d ← d ⊙ step(h) · scale in place (scale 1: no dropout). */
  reluGradInPlace(d: tf.Tensor, h: tf.Tensor, scale: number): void {
    const n = d.size;
    const simd = n - (n % 4);
    this.k.reluGrad(this.offset(d), this.offset(h), simd * 4, float32Bits(scale));
    if (simd === n) return;
    const dv = this.view(d);
    const hv = this.view(h);
    for (let i = simd; i < n; i++) {
      const x = hv[i];
      const step = x > 0 ? 1 : x !== x ? x : 0;
      dv[i] = Math.fround(dv[i] * step) * scale;
    }
  }

  /** Column sums of a rows × cols tensor as a float32 tensor (float64 sums in row order); null for odd cols. */
  columnSums(m: tf.Tensor2D): tf.Tensor1D | null {
    const [rows, cols] = m.shape;
    if (cols % 2 !== 0) return null;
    const out = this.empty<tf.Rank.R1>([cols]);
    this.k.columnSums(this.offset(m), rows, cols, this.offset(out));
    return out;
  }

  /**
   * `n` float32 dropout mask values (0 or the float32 bits `scaleBits`) from a xoshiro128** state,
   * keeping a unit when the draw's top 31 bits are ≥ `threshold` (dropout.ts dropoutMasks).
   */
  dropoutMask(n: number, state: readonly [number, number, number, number], threshold: number, scaleBits: number): tf.Tensor1D {
    const out = this.empty<tf.Rank.R1>([n]);
    this.k.dropoutBits(this.offset(out), n, state[0], state[1], state[2], state[3], threshold, scaleBits);
    return out;
  }
}

const bound = new WeakMap<object, WasmStepKernels | null>();

/**
 * The dropout masks of a step drawn by the `dropoutBits` kernel into a memory of its own (for
 * the onnx backend, whose tensors can be views of it): bit for bit dropout.ts dropoutMasks,
 * every hidden layer's rows × width mask one after the other in one buffer. Null where
 * WebAssembly SIMD is unavailable.
 */
export class WasmDropoutMasks {
  private constructor(
    private readonly k: Exports,
    /** Room for `capacity` mask values, from byte 0 of the memory. */
    readonly buffer: Float32Array,
  ) {}

  static create(capacity: number): WasmDropoutMasks | null {
    const module = compiled();
    if (!module) return null;
    const memory = kernelMemory(capacity * 4 + 16);
    const k = instantiateOn<Exports>(module, memory);
    return new WasmDropoutMasks(k, new Float32Array(memory.buffer, 0, capacity));
  }

  /** Draw step `draw`'s first n mask values into buffer[0..n). */
  fill(n: number, draw: { state: readonly [number, number, number, number]; threshold: number; scaleBits: number }): void {
    if (n > this.buffer.length) throw new RangeError(`WasmDropoutMasks: ${n} values, room for ${this.buffer.length}`);
    this.k.dropoutBits(0, n, draw.state[0], draw.state[1], draw.state[2], draw.state[3], draw.threshold, draw.scaleBits);
  }
}

/**
 * pruning.ts applyMask for weights and masks that live in one WebAssembly memory (the onnx
 * backend keeps both in Adam's memory): w ← w where mask ≠ 0 (either sign), +0 elsewhere, bit
 * for bit, 16 bytes at a time (≈ 10× the JavaScript loop). Null without WebAssembly SIMD.
 */
export class WasmKernelMasks {
  private constructor(
    private readonly k: Exports,
    private readonly memory: WebAssembly.Memory,
  ) {}

  static create(memory: WebAssembly.Memory): WasmKernelMasks | null {
    const module = compiled();
    if (!module) return null;
    return new WasmKernelMasks(instantiateOn<Exports>(module, memory), memory);
  }

  /** Mask the n float32 weights at byte offset `weights` by the n values at byte offset `masks`. */
  apply(weights: number, masks: number, n: number): void {
    const whole = n & ~3;
    this.k.maskKernels(weights, masks, whole * 4);
    if (whole < n) {
      const w = new Int32Array(this.memory.buffer, weights + whole * 4, n - whole);
      const m = new Int32Array(this.memory.buffer, masks + whole * 4, n - whole);
      for (let i = 0; i < w.length; i++) {
        const b = m[i] & 0x7fffffff;
        w[i] &= (b | -b) >> 31;
      }
    }
  }
}
