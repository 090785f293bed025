/**
 * The dense-block products of kernels.ts (`denseMul`, `denseMulT`) as a tiny WebAssembly SIMD
 * module (f64x2 lanes), bit-identical to them: every lane does the same float32→float64
 * conversions, products and sums in the same order as the JavaScript (WebAssembly has no fused
 * multiply-add, and SIMD lanes round like scalars). There is no compiler in this project, so the
 * module is assembled here from its opcodes (as science/lesion/kernel-wasm.ts does); its text form:
 *
 *   (func (export "mulRows") (param $A $rows $cols $cols4 $x $y i32)
 *     ;; for r < rows: (s0,s1),(s2,s3) = 0; for c < cols4 step 4: (s0,s1) += A[r,c..c+1]·x[c..c+1],
 *     ;; (s2,s3) += A[r,c+2..c+3]·x[c+2..c+3]; for c < cols: s0 += A[r,c]·x[c];
 *     ;; y[r] += (s0 + s1) + (s2 + s3)                    — denseMul's per-row arithmetic
 *   (func (export "mulCols") (param $A $groups $cols $cols2 $x $y i32)
 *     ;; for g < groups (8 rows each): a_t = x[8g + t]; for c < cols2 step 2 (two lanes):
 *     ;; y[c] += ((P0 + P1) + (P2 + P3)) + ((P4 + P5) + (P6 + P7)), P_t = A[8g + t, c]·a_t
 *                                                         — denseMulT's per-column arithmetic
 *
 * Pointers are byte offsets into the imported memory; A is float32 row-major, x and y float64.
 * The rows and columns these loops leave out (denseMul's odd last row, which it sums in one
 * chain; denseMulT's rows after the last group of 8) are done by the JavaScript kernels.
 */
import {
  F64,
  I32,
  V128,
  add,
  get,
  i32,
  mul,
  set,
  shl,
  storeF64,
  v128Load,
  wasmModule,
  zeroF64,
  compileOnce,
  loadF32,
  loadF64,
  promote,
  fAdd,
  fMul,
  v128Store,
  load64Zero,
  promoteLow,
  forLoop,
  f64x2Splat as splat,
  f64x2Extract as extract,
  f64x2Add as vAdd,
  f64x2Mul as vMul,
} from '../wasm-asm.ts';
import { denseMul, denseMulT } from './kernels.ts';

const v128StoreAt0 = v128Store();

function mulRows(): number[] {
  // params 0 A, 1 rows, 2 cols, 3 cols4, 4 x, 5 y; locals i32 6 r, 7 c, 8 rowPtr; f64 9–12 s0..s3; v128 13, 14 accumulators
  const aAt = (off: number) => [...get(8), ...get(7), ...i32(2), ...shl, ...add, ...load64Zero(off), ...promoteLow];
  const xAt = (off: number) => [...get(4), ...get(7), ...i32(3), ...shl, ...add, ...v128Load(off)];
  const quad = [...get(13), ...aAt(0), ...xAt(0), ...vMul, ...vAdd, ...set(13), ...get(14), ...aAt(8), ...xAt(16), ...vMul, ...vAdd, ...set(14)];
  const tail = [
    ...get(9),
    ...get(8),
    ...get(7),
    ...i32(2),
    ...shl,
    ...add,
    ...loadF32,
    ...promote,
    ...get(4),
    ...get(7),
    ...i32(3),
    ...shl,
    ...add,
    ...loadF64(),
    ...fMul,
    ...fAdd,
    ...set(9),
  ];
  const row = [
    ...get(0),
    ...get(6),
    ...get(2),
    ...mul,
    ...i32(2),
    ...shl,
    ...add,
    ...set(8),
    ...zeroF64,
    ...splat,
    ...set(13),
    ...zeroF64,
    ...splat,
    ...set(14),
    ...i32(0),
    ...set(7),
    ...forLoop(7, 3, 4, quad),
    ...get(13),
    ...extract(0),
    ...set(9),
    ...get(13),
    ...extract(1),
    ...set(10),
    ...get(14),
    ...extract(0),
    ...set(11),
    ...get(14),
    ...extract(1),
    ...set(12),
    ...forLoop(7, 2, 1, tail),
    // y[r] = y[r] + ((s0 + s1) + (s2 + s3))
    ...get(5),
    ...get(6),
    ...i32(3),
    ...shl,
    ...add,
    ...get(5),
    ...get(6),
    ...i32(3),
    ...shl,
    ...add,
    ...loadF64(),
    ...get(9),
    ...get(10),
    ...fAdd,
    ...get(11),
    ...get(12),
    ...fAdd,
    ...fAdd,
    ...fAdd,
    ...storeF64,
  ];
  const body = [...i32(0), ...set(6), ...forLoop(6, 1, 1, row)];
  return [3, 3, I32, 4, F64, 2, V128, ...body, 0x0b];
}

function mulCols(): number[] {
  // params 0 A, 1 groups, 2 cols, 3 cols2, 4 x, 5 y; locals i32 6 g, 7 c, 8 rowPtr, 9 p, 10–16 t·cols·4 (t = 1..7); v128 17–24 a_0..a_7
  const P = (t: number) => [...get(9), ...(t > 0 ? [...get(9 + t), ...add] : []), ...load64Zero(0), ...promoteLow, ...get(17 + t), ...vMul];
  const column = [
    ...get(8),
    ...get(7),
    ...i32(2),
    ...shl,
    ...add,
    ...set(9),
    // address of y[c], then y[c..c+1] + tree
    ...get(5),
    ...get(7),
    ...i32(3),
    ...shl,
    ...add,
    ...get(5),
    ...get(7),
    ...i32(3),
    ...shl,
    ...add,
    ...v128Load(0),
    ...P(0),
    ...P(1),
    ...vAdd,
    ...P(2),
    ...P(3),
    ...vAdd,
    ...vAdd,
    ...P(4),
    ...P(5),
    ...vAdd,
    ...P(6),
    ...P(7),
    ...vAdd,
    ...vAdd,
    ...vAdd,
    ...vAdd,
    ...v128StoreAt0,
  ];
  const group: number[] = [
    // rowPtr = A + g·8·cols·4
    ...get(0),
    ...get(6),
    ...i32(3),
    ...shl,
    ...get(2),
    ...mul,
    ...i32(2),
    ...shl,
    ...add,
    ...set(8),
  ];
  for (let t = 0; t < 8; t++) group.push(...get(4), ...get(6), ...i32(6), ...shl, ...add, ...loadF64(t * 8), ...splat, ...set(17 + t));
  group.push(...i32(0), ...set(7), ...forLoop(7, 3, 2, column));
  const setup: number[] = [];
  for (let t = 1; t < 8; t++) setup.push(...get(2), ...i32(2), ...shl, ...i32(t), ...mul, ...set(9 + t));
  const body = [...setup, ...i32(0), ...set(6), ...forLoop(6, 1, 1, group)];
  return [2, 11, I32, 8, V128, ...body, 0x0b];
}

function moduleBytes(): Uint8Array<ArrayBuffer> {
  return wasmModule([
    { name: 'mulRows', params: 6, body: mulRows() },
    { name: 'mulCols', params: 6, body: mulCols() },
  ]);
}

const module = compileOnce(moduleBytes);

/** One dense block: y[yOff..] += W·x[xOff..] (or Wᵀ·x), as kernels.ts computes it. */
export type DenseProduct = (x: Float64Array, y: Float64Array) => void;

export interface DenseBlockSpec {
  values: Float32Array;
  rows: number;
  cols: number;
}

/**
 * Products of a set of dense blocks, run in WebAssembly: the blocks' values are copied once into
 * the module's memory, and each product copies its input and output vector parts in and out.
 * Returns null where WebAssembly SIMD is unavailable (the caller then uses kernels.ts).
 */
export function wasmDenseProducts(blocks: readonly DenseBlockSpec[]): {
  forward(block: number, xOff: number, yOff: number): DenseProduct;
  backward(block: number, xOff: number, yOff: number): DenseProduct;
} | null {
  const mod = module();
  if (!mod) return null;
  let bytes = 0;
  const offsets: number[] = [];
  let maxDim = 0;
  for (const b of blocks) {
    offsets.push(bytes);
    bytes += b.values.length * 4;
    bytes = (bytes + 15) & ~15;
    maxDim = Math.max(maxDim, b.rows, b.cols);
  }
  const xPtr = bytes;
  const yPtr = xPtr + maxDim * 8;
  const total = yPtr + maxDim * 8;
  const memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(total / 65536)) });
  const { mulRows, mulCols } = new WebAssembly.Instance(mod, { env: { memory } }).exports as unknown as {
    mulRows(A: number, rows: number, cols: number, cols4: number, x: number, y: number): void;
    mulCols(A: number, groups: number, cols: number, cols2: number, x: number, y: number): void;
  };
  const views = blocks.map((b, i) => {
    const v = new Float32Array(memory.buffer, offsets[i], b.values.length);
    v.set(b.values);
    return v;
  });
  const xs = new Float64Array(memory.buffer, xPtr, maxDim);
  const ys = new Float64Array(memory.buffer, yPtr, maxDim);
  return {
    forward(i, xOff, yOff) {
      const { rows, cols } = blocks[i];
      const A = views[i];
      const even = rows - (rows % 2);
      return (x, y) => {
        xs.set(x.subarray(xOff, xOff + cols));
        ys.set(y.subarray(yOff, yOff + rows));
        mulRows(offsets[i], even, cols, cols - (cols % 4), xPtr, yPtr);
        // denseMul sums an odd last row in one chain: the JavaScript kernel does it.
        if (even < rows) denseMul(A.subarray(even * cols), 1, cols, xs, 0, ys, even);
        y.set(ys.subarray(0, rows), yOff);
      };
    },
    backward(i, xOff, yOff) {
      const { rows, cols } = blocks[i];
      const A = views[i];
      const groups = (rows / 8) | 0;
      if (cols % 2 !== 0) return (x, y) => denseMulT(blocks[i].values, rows, cols, x, xOff, y, yOff);
      return (x, y) => {
        xs.set(x.subarray(xOff, xOff + rows));
        ys.set(y.subarray(yOff, yOff + cols));
        mulCols(offsets[i], groups, cols, cols, xPtr, yPtr);
        // The rows after the last group of 8, one at a time as denseMulT does them.
        if (groups * 8 < rows) denseMulT(A.subarray(groups * 8 * cols), rows - groups * 8, cols, xs, groups * 8, ys, 0);
        y.set(ys.subarray(0, cols), yOff);
      };
    },
  };
}
