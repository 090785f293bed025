/**
 * The k-means distance kernels in WebAssembly, one module per dimension d (generated from
 * science/kernels/kmeans-wat.ts for d in KMEANS_MIN_D..KMEANS_MAX_D): hamerly (one pass of
 * Hamerly's bounded Lloyd assignment, most of k-means' time: ≈ 15 passes per restart at k = 4,
 * ≈ 25 at k = 10), nearestTwo, assignAll and candidatePotential, bit-identical to their JavaScript
 * oracles in kmeans-kernels.ts (V8's typed-array code for them is bound-check heavy).
 */
import { compileOnce } from '../kernels/runtime.ts';
import { KMEANS_MAX_D, KMEANS_MIN_D, kmeansWasm } from '../kernels/generated/kmeans.ts';

const modules = kmeansWasm.map((base64) => compileOnce(base64));

/** The compiled module of the k-means kernels for dimension d; null without WebAssembly or for a d without a module. */
export function kmeansModule(d: number): WebAssembly.Module | null {
  return Number.isInteger(d) && d >= KMEANS_MIN_D && d <= KMEANS_MAX_D ? modules[d - KMEANS_MIN_D]() : null;
}

/**
 * The module's exports; every array argument is a byte offset into the instance's memory, and a
 * result JavaScript returns is stored as a float64 at `result`.
 */
export interface KMeansWasmExports {
  hamerly(
    X: number,
    n: number,
    C: number,
    k: number,
    labels: number,
    upper: number,
    lower: number,
    half: number,
    moved: number,
    argMax: number,
    counts: number,
    sums: number,
    scalars: number,
    scratch: number,
  ): void;
  nearestTwo(X: number, n: number, C: number, k: number, labels: number, upper: number, lower: number): void;
  assignAll(X: number, n: number, C: number, k: number, labels: number, result: number): void;
  candidatePotential(
    X: number,
    n: number,
    candidate: number,
    closest: number,
    nearest: number,
    toCandidate: number,
    out: number,
    factor: number,
    result: number,
  ): void;
}
