/**
 * `csrGather` of kernels.ts in WebAssembly (science/kernels/sparse.wat `gather`), bit-identical to
 * it: per row the same four partial sums s0..s3 over the same entries in the same order, combined
 * as (s0 + s1) + (s2 + s3). Only the speed differs: V8's typed-array loads (bounds checks, the
 * dependent x[indices[p]] load) made the JavaScript loop ≈ 2.2 ns per entry even on L1-resident
 * data, which made it the largest part of a pruned network's eigensolve.
 */
import { compileOnce, type WasmArena } from '../kernels/runtime.ts';
import { sparseWasm } from '../kernels/generated/sparse.ts';

const module = compileOnce(sparseWasm);

/** The gather kernel bound to an arena's memory; every array passed must be one the arena allocated. */
export type WasmGather = (
  indptr: Int32Array,
  indices: Int32Array,
  values: Float64Array,
  rows: number,
  x: Float64Array,
  y: Float64Array,
  accumulate: boolean,
) => void;

/** `csrGather` running on `arena`'s memory, or null where WebAssembly is unavailable. */
export function wasmCsrGather(arena: WasmArena): WasmGather | null {
  const mod = module();
  if (!mod) return null;
  const { gather } = arena.instantiate<{
    gather(indptr: number, indices: number, values: number, rows: number, x: number, y: number, accumulate: number): void;
  }>(mod);
  return (indptr, indices, values, rows, x, y, accumulate) =>
    gather(indptr.byteOffset, indices.byteOffset, values.byteOffset, rows, x.byteOffset, y.byteOffset, accumulate ? 1 : 0);
}

/** Whether the gather kernel compiles here (so an arena is worth allocating). */
export function wasmCsrGatherAvailable(): boolean {
  return module() !== null;
}
