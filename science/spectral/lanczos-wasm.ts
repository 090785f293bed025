/**
 * The vector loops of the Lanczos solver (lanczos.ts: `dot`, `projections`, `subtractCombination`,
 * ritzVectors' combination) in WebAssembly (science/kernels/lanczos.wat), bit-identical to the
 * JavaScript:
 *   - dot: the JavaScript keeps four partial sums s0..s3 over t ≡ 0..3 (mod 4); the kernel holds
 *     (s0, s1) and (s2, s3) as the lanes of two f64x2 accumulators, so every lane adds the same
 *     products in the same order; the tail goes to s0 and the result is (s0 + s1) + (s2 + s3).
 *   - projections: blocks of four basis vectors with one sequential sum each, the rest by `dot`.
 *   - subtract: w[t] −= (ha·a[t] + hb·b[t]) + (hc·c[t] + hd·d[t]) per block of four, then
 *     w[t] += (−h)·x[t] per remaining vector: elementwise in t, so two t per f64x2 lane pair.
 * With the CSR products in WebAssembly too (sparse-wasm.ts), these loops were the largest
 * JavaScript part of an eigensolve.
 *
 * Arrays are float64 in the instance's memory; a basis is passed as a table of byte offsets (int32).
 */
import { compileOnce } from '../kernels/runtime.ts';
import { lanczosWasm } from '../kernels/generated/lanczos.ts';

const module = compileOnce(lanczosWasm);

export function lanczosModule(): WebAssembly.Module | null {
  return module();
}

export interface LanczosWasmExports {
  dot(a: number, b: number, n: number, result: number): void;
  projections(w: number, table: number, count: number, n: number, h: number): void;
  subtract(w: number, table: number, count: number, n: number, h: number): void;
  combine(out: number, table: number, y: number, count: number, n: number): void;
}
