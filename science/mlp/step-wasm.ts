/**
 * The non-matMul work of a training step on the tfjs wasm backend, as a WebAssembly SIMD module
 * instantiated on the backend's own memory, so it reads and writes tensors in place (tfjs' own
 * Transpose, Relu, Step and Mul kernels are scalar loops plus one dispatch each; the JavaScript
 * loops they replaced in dropout.ts and trainer.ts are slower still). Every function gives the
 * bits of what it replaces (trainer.ts keeps those as its reference path, and a test compares):
 *
 *   (func (export "transpose4") (param $in $out $rows $cols i32)
 *     ;; out (cols × rows) = inᵀ, in 4 × 4 blocks (two rounds of i8x16.shuffle); rows, cols multiples of 4
 *   (func (export "relu") (param $h $bytes i32)
 *     ;; h ← h & ([h > 0] | [h ≠ h])      — tfjs Relu: v for v > 0 or NaN, +0 otherwise (also for −0)
 *   (func (export "reluMask") (param $h $mask $bytes i32)
 *     ;; h ← relu(h) · mask                — Relu then Mul (float32 products, no fused multiply-add)
 *   (func (export "reluGrad") (param $d $h $bytes $scaleBits i32)
 *     ;; d ← (d · step(h)) · scale          — tfjs Step (1 for h > 0, NaN for NaN, else 0), Mul, Mul by
 *     ;;                                      the scalar dropout scale (1 without dropout: exact)
 *   (func (export "columnSums") (param $m $rows $cols $out i32)
 *     ;; out[c] = float32(Σ_r m[r, c]), float64 sums from +0 in row order, two columns per lane pair
 *     ;;                                    — trainer.ts columnSums (bias gradients); cols even
 *   (func (export "dropoutBits") (param $out $n $s0 $s1 $s2 $s3 $threshold $scaleBits i32)
 *     ;; n draws of xoshiro128** from state (s0..s3), out[i] = scaleBits & ~(((draw >>> 1) − threshold) >> 31),
 *     ;; the draws' output function four lanes at a time
 *     ;;                                    — dropout.ts dropoutMasks, every layer's mask in one stream
 *
 * Pointers are byte offsets into the backend's memory; `bytes` counts a multiple of 16 (the
 * JavaScript wrappers below do the last n mod 4 elements themselves, the same way).
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  I32,
  V128,
  add,
  geU,
  get,
  i32,
  mul,
  set,
  shl,
  simd,
  tee,
  v128Load,
  compileOnce,
  wasmModule,
  v128Store,
  load64Zero,
  store64Lane0,
  promoteLow,
  demoteZero,
  f64x2Add,
  forLoop,
} from '../wasm-asm.ts';

const shuffle32 = (lanes: number[]) => simd(0x0d, ...lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]));
const v128Zero = simd(0x0c, ...new Array(16).fill(0));
const f32Const = (v: number) => [0x43, ...new Uint8Array(Float32Array.of(v).buffer)];
const f32x4Splat = simd(0x13);
const f32x4Ne = simd(0x42);
const f32x4Gt = simd(0x44);
const f32x4Mul = simd(0xe6);
const vAnd = simd(0x4e);
const vOr = simd(0x50);
const vAndNot = simd(0x4f);
const i32x4Splat = simd(0x11);
const i32x4ReplaceLane = (lane: number) => simd(0x1c, lane);
const i32x4Mul = simd(0xb5);
const i32x4Shl = simd(0xab);
const i32x4ShrS = simd(0xac);
const i32x4ShrU = simd(0xad);
const i32x4Sub = simd(0xb1);
const i32x4Ne = simd(0x38);
const f32Reinterpret = [0xbe];
const storeI32 = [0x36, 2, 0];
const [xor, and, shrS, shrU, rotl, sub] = [[0x73], [0x71], [0x75], [0x76], [0x77], [0x6b]];

function transpose4(): number[] {
  // params 0 in, 1 out, 2 rows, 3 cols; locals i32 4 r, 5 c, 6 p, 7 rowBytes, 8 outRowBytes; v128 9–12 rows a..d, 13–16 t0..t3
  const [A, B, C, D, T0, T1, T2, T3] = [9, 10, 11, 12, 13, 14, 15, 16];
  const block = [
    // p = in + r·rowBytes + c·4; a, b, c, d = four rows of four
    ...get(0),
    ...get(4),
    ...get(7),
    ...mul,
    ...add,
    ...get(5),
    ...i32(2),
    ...shl,
    ...add,
    ...tee(6),
    ...v128Load(),
    ...set(A),
    ...get(6),
    ...get(7),
    ...add,
    ...tee(6),
    ...v128Load(),
    ...set(B),
    ...get(6),
    ...get(7),
    ...add,
    ...tee(6),
    ...v128Load(),
    ...set(C),
    ...get(6),
    ...get(7),
    ...add,
    ...v128Load(),
    ...set(D),
    ...get(A),
    ...get(B),
    ...shuffle32([0, 4, 1, 5]),
    ...set(T0),
    ...get(A),
    ...get(B),
    ...shuffle32([2, 6, 3, 7]),
    ...set(T1),
    ...get(C),
    ...get(D),
    ...shuffle32([0, 4, 1, 5]),
    ...set(T2),
    ...get(C),
    ...get(D),
    ...shuffle32([2, 6, 3, 7]),
    ...set(T3),
    // p = out + c·outRowBytes + r·4; columns c..c+3 become rows
    ...get(1),
    ...get(5),
    ...get(8),
    ...mul,
    ...add,
    ...get(4),
    ...i32(2),
    ...shl,
    ...add,
    ...tee(6),
    ...get(T0),
    ...get(T2),
    ...shuffle32([0, 1, 4, 5]),
    ...v128Store(),
    ...get(6),
    ...get(8),
    ...add,
    ...tee(6),
    ...get(T0),
    ...get(T2),
    ...shuffle32([2, 3, 6, 7]),
    ...v128Store(),
    ...get(6),
    ...get(8),
    ...add,
    ...tee(6),
    ...get(T1),
    ...get(T3),
    ...shuffle32([0, 1, 4, 5]),
    ...v128Store(),
    ...get(6),
    ...get(8),
    ...add,
    ...get(T1),
    ...get(T3),
    ...shuffle32([2, 3, 6, 7]),
    ...v128Store(),
  ];
  const body = [
    ...get(3),
    ...i32(2),
    ...shl,
    ...set(7),
    ...get(2),
    ...i32(2),
    ...shl,
    ...set(8),
    ...i32(0),
    ...set(4),
    ...forLoop(4, 2, 4, [...i32(0), ...set(5), ...forLoop(5, 3, 4, block)]),
  ];
  return [2, 5, I32, 8, V128, ...body, 0x0b];
}

/** relu of the v128 in local `v`, on the stack. */
const reluOf = (v: number) => [...get(v), ...get(v), ...v128Zero, ...f32x4Gt, ...get(v), ...get(v), ...f32x4Ne, ...vOr, ...vAnd];

function relu(): number[] {
  // params 0 h, 1 bytes; locals i32 2 p, 3 q; v128 4 v
  const step = [...get(0), ...get(2), ...add, ...tee(3), ...get(3), ...v128Load(), ...set(4), ...reluOf(4), ...v128Store()];
  return [2, 2, I32, 1, V128, ...i32(0), ...set(2), ...forLoop(2, 1, 16, step), 0x0b];
}

function reluMask(): number[] {
  // params 0 h, 1 mask, 2 bytes; locals i32 3 p, 4 q; v128 5 v
  const step = [
    ...get(0),
    ...get(3),
    ...add,
    ...tee(4),
    ...get(4),
    ...v128Load(),
    ...set(5),
    ...reluOf(5),
    ...get(1),
    ...get(3),
    ...add,
    ...v128Load(),
    ...f32x4Mul,
    ...v128Store(),
  ];
  return [2, 2, I32, 1, V128, ...i32(0), ...set(3), ...forLoop(3, 2, 16, step), 0x0b];
}

function reluGrad(): number[] {
  // params 0 d, 1 h, 2 bytes, 3 scaleBits; locals i32 4 p, 5 q; v128 6 h, 7 one, 8 scale
  const step = [
    ...get(1),
    ...get(4),
    ...add,
    ...v128Load(),
    ...set(6),
    ...get(0),
    ...get(4),
    ...add,
    ...tee(5),
    ...get(5),
    ...v128Load(),
    // step(h) = ([h > 0] & 1) | ([h ≠ h] & h)
    ...get(6),
    ...v128Zero,
    ...f32x4Gt,
    ...get(7),
    ...vAnd,
    ...get(6),
    ...get(6),
    ...f32x4Ne,
    ...get(6),
    ...vAnd,
    ...vOr,
    ...f32x4Mul,
    ...get(8),
    ...f32x4Mul,
    ...v128Store(),
  ];
  const body = [
    ...f32Const(1),
    ...f32x4Splat,
    ...set(7),
    ...get(3),
    ...f32Reinterpret,
    ...f32x4Splat,
    ...set(8),
    ...i32(0),
    ...set(4),
    ...forLoop(4, 2, 16, step),
  ];
  return [2, 2, I32, 3, V128, ...body, 0x0b];
}

function columnSums(): number[] {
  // params 0 m, 1 rows, 2 cols, 3 out; locals i32 4 c (bytes), 5 p, 6 end, 7 rowBytes, 8 colBytes; v128 9 acc
  const row = [...get(9), ...get(5), ...load64Zero(), ...promoteLow, ...f64x2Add, ...set(9), ...get(5), ...get(7), ...add, ...set(5)];
  const rowLoop = [0x02, 0x40, 0x03, 0x40, ...get(5), ...get(6), ...geU, 0x0d, 1, ...row, 0x0c, 0, 0x0b, 0x0b];
  const column = [
    ...v128Zero,
    ...set(9),
    ...get(0),
    ...get(4),
    ...add,
    ...tee(5),
    ...get(1),
    ...get(7),
    ...mul,
    ...add,
    ...set(6),
    ...rowLoop,
    ...get(3),
    ...get(4),
    ...add,
    ...get(9),
    ...demoteZero,
    ...store64Lane0(),
  ];
  const body = [...get(2), ...i32(2), ...shl, ...tee(7), ...set(8), ...i32(0), ...set(4), ...forLoop(4, 8, 8, column)];
  return [2, 5, I32, 1, V128, ...body, 0x0b];
}

function dropoutBits(): number[] {
  // params 0 out, 1 n, 2–5 s0..s3, 6 threshold, 7 scaleBits; locals i32 8 i (bytes), 9 end, 10 result, 11 t, 12 end4;
  // v128 13 four consecutive s1, 14 scale, 15 threshold
  const advance = [
    ...get(3),
    ...i32(9),
    ...shl,
    ...set(11),
    ...get(4),
    ...get(2),
    ...xor,
    ...set(4),
    ...get(5),
    ...get(3),
    ...xor,
    ...set(5),
    ...get(3),
    ...get(4),
    ...xor,
    ...set(3),
    ...get(2),
    ...get(5),
    ...xor,
    ...set(2),
    ...get(4),
    ...get(11),
    ...xor,
    ...set(4),
    ...get(5),
    ...i32(11),
    ...rotl,
    ...set(5),
  ];
  const one = [
    ...get(3),
    ...i32(5),
    ...mul,
    ...i32(7),
    ...rotl,
    ...i32(9),
    ...mul,
    ...set(10),
    ...advance,
    ...get(0),
    ...get(8),
    ...add,
    ...get(7),
    ...get(10),
    ...i32(1),
    ...shrU,
    ...get(6),
    ...sub,
    ...i32(31),
    ...shrS,
    ...i32(-1),
    ...xor,
    ...and,
    ...storeI32,
  ];
  // Four draws at a time: the state advances in scalar code (it is one serial stream), the
  // outputs of the four s1 values are computed in i32x4 lanes.
  const four: number[] = [];
  for (let j = 0; j < 4; j++) four.push(...get(13), ...get(3), ...i32x4ReplaceLane(j), ...set(13), ...advance);
  four.push(
    ...get(0),
    ...get(8),
    ...add,
    ...get(14),
    ...get(13),
    ...i32(5),
    ...i32x4Splat,
    ...i32x4Mul,
    ...set(13),
    ...get(13),
    ...i32(7),
    ...i32x4Shl,
    ...get(13),
    ...i32(25),
    ...i32x4ShrU,
    ...vOr,
    ...i32(9),
    ...i32x4Splat,
    ...i32x4Mul,
    ...i32(1),
    ...i32x4ShrU,
    ...get(15),
    ...i32x4Sub,
    ...i32(31),
    ...i32x4ShrS,
    ...vAndNot,
    ...v128Store(),
  );
  const body = [
    ...get(1),
    ...i32(2),
    ...shl,
    ...set(9),
    ...get(1),
    ...i32(-4),
    ...and,
    ...i32(2),
    ...shl,
    ...set(12),
    ...get(7),
    ...i32x4Splat,
    ...set(14),
    ...get(6),
    ...i32x4Splat,
    ...set(15),
    ...i32(0),
    ...set(8),
    ...forLoop(8, 12, 16, four),
    ...forLoop(8, 9, 4, one),
  ];
  return [2, 5, I32, 3, V128, ...body, 0x0b];
}

function maskKernels(): number[] {
  // params 0 w, 1 mask, 2 bytes; locals i32 3 p, 4 q
  // w ← w & ([|mask| ≠ 0] as all-ones lanes): pruning.ts applyMask, four weights at a time
  const step = [
    ...get(0),
    ...get(3),
    ...add,
    ...tee(4),
    ...get(1),
    ...get(3),
    ...add,
    ...v128Load(),
    ...i32(0x7fffffff),
    ...i32x4Splat,
    ...vAnd,
    ...v128Zero,
    ...i32x4Ne,
    ...get(4),
    ...v128Load(),
    ...vAnd,
    ...v128Store(),
  ];
  return [1, 2, I32, ...i32(0), ...set(3), ...forLoop(3, 2, 16, step), 0x0b];
}

const compiled = compileOnce(() =>
  wasmModule([
    { name: 'transpose4', params: 4, body: transpose4() },
    { name: 'relu', params: 2, body: relu() },
    { name: 'reluMask', params: 3, body: reluMask() },
    { name: 'reluGrad', params: 4, body: reluGrad() },
    { name: 'columnSums', params: 4, body: columnSums() },
    { name: 'dropoutBits', params: 8, body: dropoutBits() },
    { name: 'maskKernels', params: 3, body: maskKernels() },
  ]),
);

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
          kernels = new WasmStepKernels(backend, new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as Exports);
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
    const memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil((capacity * 4 + 16) / 65536)) });
    const k = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as Exports;
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
    return new WasmKernelMasks(new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as Exports, memory);
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
