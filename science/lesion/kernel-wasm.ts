/**
 * The inner loops of evaluate.ts (the forward pass of a layer and the rank-|G| update of the
 * level above a lesion) in WebAssembly SIMD (science/kernels/lesion.wat: `gatherT`, `gatherSubT`,
 * `gatherSubReluT`), equal to the same loops in JavaScript: the same float64 products and sums in
 * the same order (at most the sign of a zero differs, since inactive inputs add ±0 there and are
 * skipped in JavaScript).
 *
 * Data layout ("chunked"): evaluate.ts stores every level in chunks of CHUNK_ROWS = 8 rows,
 * neuron-major within a chunk — value (row t, neuron k) at k · 8 + t — so the eight rows of
 * one neuron are 64 contiguous bytes, loaded as four f64x2 vectors by every edge out of it.
 * Each level is kept twice: its pre-activations and their ReLU, both written by the pass that
 * computes the level, so no pass transposes or ReLUs its input (the earlier design transposed
 * the input of every pass and spent more time there than in the products). All pointers are
 * byte offsets into the kernel's memory.
 */
import { compileOnce, instantiateOn, kernelMemory } from '../kernels/runtime.ts';
import { lesionWasm } from '../kernels/generated/lesion.ts';

/**
 * Rows per chunk: four f64x2 accumulators per output column (lesion.wat is written for 8).
 * Measured on the lesion benchmark: 16 rows (eight accumulators) and pairs of interleaved columns
 * were both slower (the input chunk of a 256-wide level then fills the 32 KiB L1 / the registers spill).
 */
export const CHUNK_ROWS = 8;

export interface WasmKernel {
  memory: WebAssembly.Memory;
  /** `chunks` chunks of CHUNK_ROWS rows, chunked layout: outPre = bias + Σ h·w, outRelu = max(outPre, 0). */
  gatherT(
    h: number,
    colStart: number,
    ri: number,
    w: number,
    bias: number,
    outPre: number,
    outRelu: number,
    fanOut: number,
    fanIn: number,
    chunks: number,
    cols: number,
    nCols: number,
  ): void;
  /** The same from the parent's pre-activations: outPre = parent − Σ h·w (the rank-|G| update). */
  gatherSubT(
    h: number,
    colStart: number,
    ri: number,
    w: number,
    parent: number,
    outPre: number,
    outRelu: number,
    fanOut: number,
    fanIn: number,
    chunks: number,
    cols: number,
    nCols: number,
  ): void;
  /** gatherSubT storing only the ReLU (outPre unused): below the logits nothing reads a lesioned level's pre-activations. */
  gatherSubReluT(
    h: number,
    colStart: number,
    ri: number,
    w: number,
    parent: number,
    outPre: number,
    outRelu: number,
    fanOut: number,
    fanIn: number,
    chunks: number,
    cols: number,
    nCols: number,
  ): void;
}

const compiled = compileOnce(lesionWasm);

/** A kernel instance over a fresh memory of `bytes` bytes, or null where WebAssembly SIMD is unavailable. */
export function createWasmKernel(bytes: number): WasmKernel | null {
  const module = compiled();
  if (!module) return null;
  const memory = kernelMemory(bytes);
  const exports = instantiateOn<Omit<WasmKernel, 'memory'>>(module, memory);
  const { gatherT, gatherSubT, gatherSubReluT } = exports;
  return { memory, gatherT, gatherSubT, gatherSubReluT };
}
