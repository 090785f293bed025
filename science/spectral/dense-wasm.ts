/**
 * The dense-block products of kernels.ts (`denseMul`, `denseMulT`) in WebAssembly SIMD (f64x2
 * lanes), bit-identical to them: science/kernels/dense.wat (`mulRows`, `mulCols`) does every lane's
 * float32→float64 conversions, products and sums in the same order as the JavaScript. The rows and
 * columns those loops leave out (denseMul's odd last row, which it sums in one chain; denseMulT's
 * rows after the last group of 8) are done here by the JavaScript kernels.
 */
import { compileOnce, instantiateOn, kernelMemory } from '../kernels/runtime.ts';
import { denseWasm } from '../kernels/generated/dense.ts';
import { denseMul, denseMulT } from './kernels.ts';

const module = compileOnce(denseWasm);

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
  const memory = kernelMemory(total);
  const { mulRows, mulCols } = instantiateOn<{
    mulRows(A: number, rows: number, cols: number, cols4: number, x: number, y: number): void;
    mulCols(A: number, groups: number, cols: number, cols2: number, x: number, y: number): void;
  }>(mod, memory);
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
