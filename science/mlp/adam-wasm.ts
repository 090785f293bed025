/**
 * Adam (adam.ts) as a WebAssembly SIMD kernel, bit-identical to the JavaScript `Adam.step`:
 * every operation is elementwise, so each f64x2 lane promotes float32 → float64 and does the
 * same float64 operations in the same order as adam.ts (WebAssembly has no fused multiply-add,
 * SIMD lanes round like scalars, sqrt and division are correctly rounded in both), then rounds
 * to float32 on store:
 *   m' = β1·m + c1·g;  v' = β2·v + (c2·g)·g;  w' = w − (lr_t·m')/(√v' + ε)   (m', v' unrounded in w')
 * ≈ 0.8 ms per step of the paper's MLP against ≈ 2.4 ms for the JavaScript loop, bound by the
 * float64 divisions and square roots (two lanes each). There is no compiler in this
 * project, so the module is assembled from its opcodes (as science/lesion/kernel-wasm.ts does);
 * its text form:
 *
 *   (func (export "adam") (param $w $m $v $g $bytes $consts i32)
 *     ;; constants β1, c1, β2, c2, lr_t, ε: six float64 at $consts, each splatted to both lanes
 *     ;; for p < bytes step 16: two pairs of float32 at p and p + 8 of each array, as above
 *     ...)
 *
 * The kernel owns its memory, which holds the parameters, both moments and a gradient buffer
 * (each array padded to a multiple of 4 values; padding stays zero, so its update is zero);
 * the trainer's layers are views of the parameter part, so only the gradients are copied in
 * (≈ 1.6 MB per step of the paper's MLP, a memcpy).
 */
import {
  I32,
  V128,
  add,
  get,
  i32,
  set,
  compileOnce,
  wasmModule,
  loadF64,
  load64Zero,
  store64Lane0,
  promoteLow,
  demoteZero,
  forLoop,
  f64x2Splat as splat,
  f64x2Add as vAdd,
  f64x2Sub as vSub,
  f64x2Mul as vMul,
  f64x2Div as vDiv,
  f64x2Sqrt as vSqrt,
} from '../wasm-asm.ts';
import { adamConstants, type AdamConfig } from './adam.ts';

/** Byte layout of the constants block the kernel reads (float64 each). */
const CONSTANTS = ['beta1', 'c1', 'beta2', 'c2', 'lrT', 'epsilon'] as const;
const CONSTANTS_BYTES = 64;

function adamBody(): number[] {
  // params 0 w, 1 m, 2 v, 3 g, 4 bytes, 5 consts; locals i32 6 p; v128 7–12 constants, 13 G, 14 M, 15 V
  const [B1, C1, B2, C2, LR, EPS, G, M, V] = [7, 8, 9, 10, 11, 12, 13, 14, 15];
  const at = (base: number) => [...get(base), ...get(6), ...add];
  const pair = (off: number) => [
    ...at(3),
    ...load64Zero(off),
    ...promoteLow,
    ...set(G),
    // M = β1·m + c1·g
    ...get(B1),
    ...at(1),
    ...load64Zero(off),
    ...promoteLow,
    ...vMul,
    ...get(C1),
    ...get(G),
    ...vMul,
    ...vAdd,
    ...set(M),
    ...at(1),
    ...get(M),
    ...demoteZero,
    ...store64Lane0(off),
    // V = β2·v + (c2·g)·g
    ...get(B2),
    ...at(2),
    ...load64Zero(off),
    ...promoteLow,
    ...vMul,
    ...get(C2),
    ...get(G),
    ...vMul,
    ...get(G),
    ...vMul,
    ...vAdd,
    ...set(V),
    ...at(2),
    ...get(V),
    ...demoteZero,
    ...store64Lane0(off),
    // w = w − (lr_t·M)/(√V + ε)
    ...at(0),
    ...at(0),
    ...load64Zero(off),
    ...promoteLow,
    ...get(LR),
    ...get(M),
    ...vMul,
    ...get(V),
    ...vSqrt,
    ...get(EPS),
    ...vAdd,
    ...vDiv,
    ...vSub,
    ...demoteZero,
    ...store64Lane0(off),
  ];
  const setup = CONSTANTS.flatMap((_, k) => [...get(5), ...loadF64(k * 8), ...splat, ...set(B1 + k)]);
  const body = [...setup, ...i32(0), ...set(6), ...forLoop(6, 4, 16, [...pair(0), ...pair(8)])];
  return [2, 1, I32, 9, V128, ...body, 0x0b];
}

const compiled = compileOnce(() => wasmModule([{ name: 'adam', params: 6, body: adamBody() }]));

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
    const memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(bytes / 65536)) });
    const { adam } = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as {
      adam(w: number, m: number, v: number, g: number, bytes: number, consts: number): void;
    };
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
