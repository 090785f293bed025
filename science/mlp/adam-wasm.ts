/**
 * Adam (adam.ts) as a WebAssembly SIMD kernel (science/kernels/adam.wat), bit-identical to the
 * JavaScript `Adam.step`: every operation is elementwise, so each f64x2 lane promotes float32 →
 * float64 and does the same float64 operations in the same order as adam.ts, then rounds to
 * float32 on store:
 *   m' = β1·m + c1·g;  v' = β2·v + (c2·g)·g;  w' = w − (lr_t·m')/(√v' + ε)   (m', v' unrounded in w')
 * ≈ 0.8 ms per step of the paper's MLP against ≈ 2.4 ms for the JavaScript loop, bound by the
 * float64 divisions and square roots (two lanes each).
 *
 * The kernel owns its memory, which holds the parameters, both moments and a gradient buffer
 * (each array padded to a multiple of 4 values; padding stays zero, so its update is zero);
 * the trainer's layers are views of the parameter part, so only the gradients are copied in
 * (≈ 1.6 MB per step of the paper's MLP, a memcpy).
 */
import { compileOnce, instantiateOn, kernelMemory } from '../kernels/runtime.ts';
import { adamWasm } from '../kernels/generated/adam.ts';
import { adamConstants, type AdamConfig } from './adam.ts';

/** Byte layout of the constants block the kernel reads (float64 each). */
const CONSTANTS = ['beta1', 'c1', 'beta2', 'c2', 'lrT', 'epsilon'] as const;
const CONSTANTS_BYTES = 64;

const compiled = compileOnce(adamWasm);

/**
 * Adam whose parameters and moments live in a WebAssembly memory: `params`, `m` and `v` are
 * float32 views (one per parameter array, in the order of `sizes`) that stay valid for the
 * object's life (the memory never grows). Same contract as adam.ts `Adam` otherwise.
 */
export class WasmAdam {
  /** Steps taken (Keras `optimizer.iterations`). */
  iterations = 0;
  readonly params: Float32Array[];
  readonly m: Float32Array[];
  readonly v: Float32Array[];
  /** The gradient buffer (views like `params`): a producer may write gradients here and call stepOnGradients, saving the copy. */
  readonly grads: Float32Array[];
  private readonly constants: Float64Array;
  private readonly regionBytes: number;

  /** Byte offset of the scratch region (`scratchFloats` float32 values after the four regions), for other kernels on `memory`. */
  readonly scratchOffset: number;

  private constructor(
    readonly config: AdamConfig,
    sizes: readonly number[],
    private readonly kernel: (w: number, m: number, v: number, g: number, bytes: number, consts: number) => void,
    readonly memory: WebAssembly.Memory,
  ) {
    const total = sizes.reduce((a, b) => a + b, 0);
    this.regionBytes = Math.ceil(total / 4) * 16;
    const region = (k: number) => {
      const views: Float32Array[] = [];
      let at = CONSTANTS_BYTES + k * this.regionBytes;
      for (const n of sizes) {
        views.push(new Float32Array(memory.buffer, at, n));
        at += n * 4;
      }
      return views;
    };
    [this.params, this.m, this.v, this.grads] = [region(0), region(1), region(2), region(3)];
    this.constants = new Float64Array(memory.buffer, 0, CONSTANTS.length);
    this.scratchOffset = CONSTANTS_BYTES + 4 * this.regionBytes;
  }

  /** Byte offset of params[i] in `memory`. */
  paramOffset(i: number): number {
    return this.params[i].byteOffset;
  }

  /**
   * Zero-initialised parameters and moments for arrays of these sizes, plus a scratch region of
   * `scratchFloats` values, or null where WebAssembly SIMD is unavailable.
   */
  static create(config: AdamConfig, sizes: readonly number[], scratchFloats = 0): WasmAdam | null {
    const module = compiled();
    if (!module) return null;
    const total = sizes.reduce((a, b) => a + b, 0);
    const bytes = CONSTANTS_BYTES + 4 * Math.ceil(total / 4) * 16 + 4 * scratchFloats;
    const memory = kernelMemory(bytes);
    const { adam } = instantiateOn<{ adam(w: number, m: number, v: number, g: number, bytes: number, consts: number): void }>(module, memory);
    return new WasmAdam(config, sizes, adam, memory);
  }

  /** One update of `params` in place; grads[i] matches params[i] (copied in, so any array works). */
  step(grads: readonly ArrayLike<number>[]): void {
    if (grads.length !== this.params.length) throw new Error(`Adam: ${grads.length} gradients for ${this.params.length} parameter arrays`);
    for (let p = 0; p < grads.length; p++) {
      if (grads[p].length !== this.params[p].length)
        throw new Error(`Adam: gradient ${p} has ${grads[p].length} values, parameter has ${this.params[p].length}`);
      this.grads[p].set(grads[p]);
    }
    this.stepOnGradients();
  }

  /** One update of `params` in place from the values already in `grads`. */
  stepOnGradients(): void {
    this.iterations++;
    const c = adamConstants(this.config, this.iterations);
    CONSTANTS.forEach((name, k) => (this.constants[k] = c[name]));
    const base = CONSTANTS_BYTES;
    const r = this.regionBytes;
    this.kernel(base, base + r, base + 2 * r, base + 3 * r, r, 0);
  }
}
