/**
 * Largest-algebraic eigenpairs of a symmetric operator: thick-restart Lanczos with full
 * reorthogonalisation, in Stewart's Krylov–Schur form (G. W. Stewart, "A Krylov–Schur algorithm
 * for large eigenproblems", SIAM J. Matrix Anal. Appl. 23, 2001; Wu & Simon, "Thick-restart
 * Lanczos method for large symmetric eigenvalue problems", 2000).
 *
 * Each step orthogonalises the new vector against the whole basis (classical Gram–Schmidt with
 * DGKS reorthogonalisation, "twice is enough"), so no spurious copies appear. Ritz pairs are
 * taken from the symmetric projected matrix; the basis is restarted by keeping the best Ritz
 * vectors. A Ritz pair (θ, x) is accepted when ‖Op·x − θ·x‖ ≤ tol.
 *
 * The vector loops (dot products, projections, basis subtraction, Ritz combinations) run in
 * WebAssembly where it is available (lanczos-wasm.ts), bit-identical to the JavaScript below.
 */
import { Rng } from '../random.ts';
import { symmetricEigen, tridiagonalEigenLastRow } from './dense.ts';
import { lanczosModule, type LanczosWasmExports } from './lanczos-wasm.ts';
import { WasmArena } from '../kernels/runtime.ts';

export interface SymmetricOperator {
  /** Dimension. */
  readonly n: number;
  /** y ← Op·x (y is overwritten). */
  apply(x: Float64Array, y: Float64Array): void;
}

export interface LanczosOptions {
  /** Seed of the random start vector (and of replacement vectors after an exact breakdown). */
  seed: number;
  /** Residual tolerance ‖Op·x − θ·x‖ (absolute). Default 1e-9. */
  tol?: number;
  /** Krylov basis size before a restart. Default max(2·nev + 20, 50), capped by the dimension. */
  basisSize?: number;
  /** Give up after this many operator applications. Default 20·n + 1000. */
  maxApplications?: number;
  /** Orthonormal vectors already known to be eigenvectors: the search runs in their complement. */
  deflate?: readonly Float64Array[];
  /** Start vector (need not be normalised); random when absent. */
  start?: Float64Array;
}

export interface LanczosResult {
  /** The nev largest eigenvalues, descending. */
  values: Float64Array;
  /** Their unit eigenvectors. */
  vectors: Float64Array[];
  /** Residual norms ‖Op·x − θ·x‖ of the returned pairs, as estimated by the recurrence. */
  residuals: Float64Array;
  /** Operator applications used. */
  applications: number;
  restarts: number;
}

/** Convergence checks (a dense eigendecomposition of the projected matrix) happen every
 * max(CHECK_EVERY, size/5) Lanczos steps, so their O(size³) cost stays small next to Op. */
const CHECK_EVERY = 4;

export class EigensolverError extends Error {
  override name = 'EigensolverError';
}

function dot(a: Float64Array, b: Float64Array, n: number): number {
  // Four independent chains: one `s += a·b` chain is bound by the add latency.
  let s0 = 0,
    s1 = 0,
    s2 = 0,
    s3 = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < n; i++) s0 += a[i] * b[i];
  return s0 + s1 + (s2 + s3);
}

function axpy(alpha: number, x: Float64Array, y: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) y[i] += alpha * x[i];
}

/** h[0..count) ← basis[i]·w, four basis vectors per sweep over w. */
function projections(w: Float64Array, basis: readonly Float64Array[], count: number, n: number, h: Float64Array): void {
  let i = 0;
  for (; i + 3 < count; i += 4) {
    const a = basis[i],
      b = basis[i + 1],
      c = basis[i + 2],
      d = basis[i + 3];
    let sa = 0,
      sb = 0,
      sc = 0,
      sd = 0;
    for (let t = 0; t < n; t++) {
      const x = w[t];
      sa += a[t] * x;
      sb += b[t] * x;
      sc += c[t] * x;
      sd += d[t] * x;
    }
    h[i] = sa;
    h[i + 1] = sb;
    h[i + 2] = sc;
    h[i + 3] = sd;
  }
  for (; i < count; i++) h[i] = dot(basis[i], w, n);
}

/** w ← w − Σ h[i]·basis[i], four basis vectors per sweep over w. */
function subtractCombination(w: Float64Array, basis: readonly Float64Array[], count: number, n: number, h: Float64Array): void {
  let i = 0;
  for (; i + 3 < count; i += 4) {
    const a = basis[i],
      b = basis[i + 1],
      c = basis[i + 2],
      d = basis[i + 3];
    const ha = h[i],
      hb = h[i + 1],
      hc = h[i + 2],
      hd = h[i + 3];
    for (let t = 0; t < n; t++) w[t] -= ha * a[t] + hb * b[t] + (hc * c[t] + hd * d[t]);
  }
  for (; i < count; i++) axpy(-h[i], basis[i], w, n);
}

/** The vector loops of one solve: JavaScript, or WebAssembly on vectors allocated in its memory. */
interface VectorOps {
  /** A zeroed array of `length` float64s (in WebAssembly memory when the ops run there). */
  array(length: number): Float64Array;
  dot(a: Float64Array, b: Float64Array, n: number): number;
  projections(w: Float64Array, basis: readonly Float64Array[], count: number, n: number, h: Float64Array): void;
  subtractCombination(w: Float64Array, basis: readonly Float64Array[], count: number, n: number, h: Float64Array): void;
  /** Ritz vectors V[0..size)·Y[:, t] for t in `which` (Y is size × size), as new arrays. */
  ritzVectors(V: readonly Float64Array[], Y: Float64Array, size: number, which: readonly number[], n: number): Float64Array[];
}

/** The JavaScript loops (the reference the WebAssembly ones are tested against). */
export const lanczosJsKernels = { dot, projections, subtractCombination, ritzVectors };

const jsOps = (): VectorOps => ({ array: (length) => new Float64Array(length), dot, projections, subtractCombination, ritzVectors });

/**
 * The loops in WebAssembly (lanczos-wasm.ts, bit-identical), for a solve needing at most `vectors`
 * vectors of n plus `extra` float64s; calls on arrays outside its memory run the JavaScript.
 */
function wasmOps(n: number, vectors: number, extra: number, tableSize: number): VectorOps | null {
  const mod = lanczosModule();
  if (!mod) return null;
  const B = WasmArena.bytesFor;
  const arena = new WasmArena((vectors + 1) * B(n, 8) + B(extra, 8) + B(tableSize, 4) + B(tableSize, 8) + B(1, 8));
  const k = arena.instantiate<LanczosWasmExports>(mod);
  const table = arena.int32(tableSize);
  const coefficients = arena.float64(tableSize);
  const combined = arena.float64(n);
  const result = arena.float64(1);
  const memory = arena.memory.buffer;
  const inside = (a: Float64Array) => a.buffer === memory;
  const tabulate = (basis: readonly Float64Array[], count: number) => {
    if (count > tableSize) return false;
    for (let i = 0; i < count; i++) {
      if (!inside(basis[i])) return false;
      table[i] = basis[i].byteOffset;
    }
    return true;
  };
  return {
    array: (length) => arena.float64(length),
    dot(a, b, len) {
      if (!inside(a) || !inside(b)) return dot(a, b, len);
      k.dot(a.byteOffset, b.byteOffset, len, result.byteOffset);
      return result[0];
    },
    projections(w, basis, count, len, h) {
      if (inside(w) && inside(h) && tabulate(basis, count)) k.projections(w.byteOffset, table.byteOffset, count, len, h.byteOffset);
      else projections(w, basis, count, len, h);
    },
    subtractCombination(w, basis, count, len, h) {
      if (inside(w) && inside(h) && tabulate(basis, count)) k.subtract(w.byteOffset, table.byteOffset, count, len, h.byteOffset);
      else subtractCombination(w, basis, count, len, h);
    },
    ritzVectors(V, Y, size, which, len) {
      if (len !== n || !tabulate(V, size)) return ritzVectors(V, Y, size, which, len);
      return which.map((t) => {
        for (let l = 0; l < size; l++) coefficients[l] = Y[l * size + t];
        combined.fill(0);
        k.combine(combined.byteOffset, table.byteOffset, coefficients.byteOffset, size, len);
        return combined.slice();
      });
    },
  };
}

/**
 * Orthogonalise w against `basis[0..count)` by classical Gram–Schmidt (all projections from the
 * same w, so the sweeps over the basis are blocked), repeated once when the first pass cancelled
 * most of w (the DGKS criterion ‖w′‖ < ‖w‖/√2; "twice is enough"); coefficients accumulated into
 * `coef` (when given). `h` is scratch of length ≥ count.
 */
function orthogonalize(ops: VectorOps, w: Float64Array, basis: readonly Float64Array[], count: number, n: number, h: Float64Array, coef?: Float64Array): void {
  if (count === 0) return;
  const before = ops.dot(w, w, n);
  for (let pass = 0; pass < 2; pass++) {
    ops.projections(w, basis, count, n, h);
    ops.subtractCombination(w, basis, count, n, h);
    if (coef) for (let i = 0; i < count; i++) coef[i] += h[i];
    if (pass === 0 && ops.dot(w, w, n) > 0.5 * before) break;
  }
}

function randomUnitOrthogonal(ops: VectorOps, rng: Rng, n: number, others: readonly Float64Array[][], counts: number[]): Float64Array {
  for (let attempt = 0; attempt < 10; attempt++) {
    const v = new Float64Array(n);
    for (let i = 0; i < n; i++) v[i] = rng.float() - 0.5;
    others.forEach((basis, t) => orthogonalize(ops, v, basis, counts[t], n, new Float64Array(counts[t])));
    const norm = Math.sqrt(ops.dot(v, v, n));
    if (norm > 1e-8) {
      for (let i = 0; i < n; i++) v[i] /= norm;
      return v;
    }
  }
  throw new EigensolverError('Lanczos: could not find a vector orthogonal to the basis (dimension exhausted)');
}

/** The `nev` largest (algebraic) eigenpairs of the symmetric operator `op`. */
export function largestEigenpairs(op: SymmetricOperator, nev: number, options: LanczosOptions): LanczosResult {
  const n = op.n;
  const locked = options.deflate ?? [];
  const free = n - locked.length;
  if (nev < 1) return { values: new Float64Array(0), vectors: [], residuals: new Float64Array(0), applications: 0, restarts: 0 };
  if (nev > free) throw new EigensolverError(`Lanczos: asked for ${nev} eigenpairs of an operator with only ${free} free dimensions`);
  const tol = options.tol ?? 1e-9;
  const m = Math.min(free, Math.max(options.basisSize ?? Math.max(2 * nev + 20, 50), nev + 1));
  const maxApplications = options.maxApplications ?? 20 * n + 1000;
  const s = lanczosState(op, nev, tol, m, locked, new Rng(options.seed));
  startVector(s, options.start);
  for (;;) {
    const early = extendBasis(s);
    if (early) return early;
    const r = ritzPairs(s, m);
    const done = r.converged >= nev || m === free; // m === free: the basis spans the whole space
    if (done) return ritzResult(s, m, r);
    if (s.applications >= maxApplications)
      throw new EigensolverError(
        `Lanczos: ${r.converged} of ${nev} eigenpairs converged to ${tol} after ${s.applications} operator applications; raise maxApplications or loosen tol`,
      );
    thickRestart(s, r);
  }
}

/** One solve's problem, workspace and counters, shared by the steps of largestEigenpairs. */
interface LanczosState {
  op: SymmetricOperator;
  n: number;
  nev: number;
  tol: number;
  /** Basis size before a restart. */
  m: number;
  rng: Rng;
  ops: VectorOps;
  /** Basis V[0..m] (V[m] is the residual direction). */
  V: Float64Array[];
  /** Copies of the deflation vectors (where the vector loops run). */
  deflate: Float64Array[];
  /** The m × m projected matrix (row-major). */
  H: Float64Array;
  /** Gram–Schmidt coefficients of the current step: column j of H. */
  coef: Float64Array;
  /** Op·V[j], orthogonalised into the next basis vector. */
  w: Float64Array;
  scratch: Float64Array;
  /** The tridiagonal part of H, for the cheap convergence estimates before the first restart. */
  diag: Float64Array;
  off: Float64Array;
  /** Basis vectors carried over from the last restart. */
  kept: number;
  /** Norm of the residual after the last step. */
  beta: number;
  applications: number;
  restarts: number;
  /** Basis size at the last convergence check. */
  lastCheck: number;
}

/**
 * The workspace of a solve. The vectors the loops touch (basis, deflation vectors, w, scratch)
 * live in WebAssembly memory when the kernels compile there; the basis vectors stay put
 * (restarts copy into them).
 */
function lanczosState(op: SymmetricOperator, nev: number, tol: number, m: number, locked: readonly Float64Array[], rng: Rng): LanczosState {
  const n = op.n;
  const scratchLength = Math.max(m + 1, locked.length);
  const ops = wasmOps(n, m + 2 + locked.length, scratchLength, Math.max(m + 1, locked.length)) ?? jsOps();
  const V: Float64Array[] = Array.from({ length: m + 1 }, () => ops.array(n));
  const deflate = locked.map((x) => {
    const copy = ops.array(n);
    copy.set(x);
    return copy;
  });
  const H = new Float64Array(m * m);
  const coef = new Float64Array(m + 1);
  const w = ops.array(n);
  const scratch = ops.array(scratchLength);
  const diag = new Float64Array(m);
  const off = new Float64Array(m);
  return { op, n, nev, tol, m, rng, ops, V, deflate, H, coef, w, scratch, diag, off, kept: 0, beta: 0, applications: 0, restarts: 0, lastCheck: 0 };
}

/** V[0]: the given start vector orthogonalised against the deflation vectors and normalised, else (or when that leaves ~nothing) a random one. */
function startVector(s: LanczosState, start: Float64Array | undefined): void {
  const { ops, V, deflate, n } = s;
  if (start) {
    V[0].set(start);
    orthogonalize(ops, V[0], deflate, deflate.length, n, new Float64Array(deflate.length));
    const norm = Math.sqrt(ops.dot(V[0], V[0], n));
    if (norm > 1e-8) for (let i = 0; i < n; i++) V[0][i] /= norm;
    else V[0].set(randomUnitOrthogonal(ops, s.rng, n, [deflate], [deflate.length]));
  } else {
    V[0].set(randomUnitOrthogonal(ops, s.rng, n, [deflate], [deflate.length]));
  }
}

/** Ritz pairs of the leading size × size projected matrix, best (largest) first, with how many lead the order converged. */
function ritzPairs(s: LanczosState, size: number) {
  const { H, m, beta, nev, tol } = s;
  const leading = new Float64Array(size * size);
  for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) leading[i * size + j] = H[i * m + j];
  const { values: theta, vectors: Y } = symmetricEigen(leading, size);
  const order = Array.from({ length: size }, (_, t) => size - 1 - t);
  const residual = (t: number) => Math.abs(beta * Y[(size - 1) * size + t]);
  let converged = 0;
  while (converged < nev && residual(order[converged]) <= tol) converged++;
  return { theta, Y, order, residual, converged };
}

type RitzPairs = ReturnType<typeof ritzPairs>;

/** The answer from the nev best Ritz pairs of a basis of `size` vectors. */
function ritzResult(s: LanczosState, size: number, r: RitzPairs): LanczosResult {
  const keep = r.order.slice(0, s.nev);
  return {
    values: Float64Array.from(keep.map((t) => r.theta[t])),
    vectors: s.ops.ritzVectors(s.V, r.Y, size, keep, s.n),
    residuals: Float64Array.from(keep.map(r.residual)),
    applications: s.applications,
    restarts: s.restarts,
  };
}

/**
 * Extend the Krylov–Schur decomposition from `kept` to m vectors, checking convergence every
 * few steps (a dense eigendecomposition of the small projected matrix is cheap next to Op);
 * the result when it converged before the basis is full.
 */
function extendBasis(s: LanczosState): LanczosResult | null {
  for (let j = s.kept; j < s.m; j++) {
    lanczosStep(s, j);
    if (j + 1 < s.m) {
      const { H, m, beta } = s;
      H[(j + 1) * m + j] = beta;
      H[j * m + (j + 1)] = beta;
      const result = earlyResult(s, j + 1);
      if (result) return result;
    }
  }
  return null;
}

/**
 * One Lanczos step of the Krylov–Schur expansion (Stewart 2001): w = Op·V[j] orthogonalised
 * against the deflation vectors and V[0..j], its coefficients as column j of H, V[j + 1] = w/β.
 * On an exact breakdown (β ≈ 0) the next vector is a fresh random direction with coupling 0.
 */
function lanczosStep(s: LanczosState, j: number): void {
  const { op, ops, V, deflate, H, coef, w, scratch, n, m } = s;
  op.apply(V[j], w);
  s.applications++;
  orthogonalize(ops, w, deflate, deflate.length, n, scratch);
  coef.fill(0, 0, j + 1);
  orthogonalize(ops, w, V, j + 1, n, scratch, coef);
  // Column j of H: entries from the Gram–Schmidt coefficients; mirrored to keep H symmetric.
  for (let i = 0; i <= j; i++) {
    H[i * m + j] = coef[i];
    H[j * m + i] = coef[i];
  }
  s.beta = Math.sqrt(ops.dot(w, w, n));
  const next = V[j + 1];
  if (s.beta > 1e-12) {
    const beta = s.beta;
    for (let i = 0; i < n; i++) next[i] = w[i] / beta;
  } else {
    // Exact invariant subspace: continue with a fresh direction, coupling 0.
    s.beta = 0;
    if (j + 1 < m) V[j + 1].set(randomUnitOrthogonal(ops, s.rng, n, [deflate, V], [deflate.length, j + 1]));
  }
}

/**
 * The convergence check of a basis of `size` vectors, when one is due. Before the first restart
 * H is tridiagonal (up to reorthogonalisation noise), so the residual estimates cost O(size²):
 * check every step, and confirm with the full projected matrix only when they say converged.
 * After a restart H is not tridiagonal: check every few steps with the full decomposition.
 */
function earlyResult(s: LanczosState, size: number): LanczosResult | null {
  const { nev } = s;
  if (s.kept === 0 && size > nev) {
    if (tridiagonalConverged(s.H, s.m, size, s.beta, nev, s.tol, s.diag, s.off)) {
      s.lastCheck = size;
      const r = ritzPairs(s, size);
      if (r.converged >= nev) return ritzResult(s, size, r);
    }
  } else if (size > nev && size - s.lastCheck >= Math.max(CHECK_EVERY, Math.floor(size / 5))) {
    s.lastCheck = size;
    const r = ritzPairs(s, size);
    if (r.converged >= nev) return ritzResult(s, size, r);
  }
  return null;
}

/**
 * Thick restart (Wu & Simon 2000; Stewart 2001's Krylov–Schur restart): keep the best p Ritz
 * vectors and the residual direction, so H becomes diagonal (the Ritz values) plus the coupling
 * row and column p.
 */
function thickRestart(s: LanczosState, r: RitzPairs): void {
  const { V, H, m, nev, beta } = s;
  const p = Math.min(m - 1, nev + Math.max(1, Math.floor((m - nev) / 2)));
  const keep = r.order.slice(0, p);
  const newBasis = s.ops.ritzVectors(V, r.Y, m, keep, s.n);
  const residualDirection = V[m];
  H.fill(0);
  for (let i = 0; i < p; i++) {
    H[i * m + i] = r.theta[keep[i]];
    const b = beta * r.Y[(m - 1) * m + keep[i]];
    H[p * m + i] = b;
    H[i * m + p] = b;
  }
  for (let i = 0; i < p; i++) V[i].set(newBasis[i]);
  V[p].set(residualDirection);
  for (let i = p + 1; i <= m; i++) V[i].fill(0);
  s.kept = p;
  s.lastCheck = p;
  s.restarts++;
}

/** Ritz vectors V[0..size)·Y[:, t] for t in `which` (Y is size × size). */
function ritzVectors(V: readonly Float64Array[], Y: Float64Array, size: number, which: readonly number[], n: number): Float64Array[] {
  return which.map((t) => {
    const x = new Float64Array(n);
    for (let l = 0; l < size; l++) {
      const y = Y[l * size + t];
      if (y !== 0) axpy(y, V[l], x, n);
    }
    return x;
  });
}

/** Whether the nev largest Ritz values of the tridiagonal part of H[0..size) have residual estimates |β·y_last| ≤ tol. */
function tridiagonalConverged(
  H: Float64Array,
  m: number,
  size: number,
  beta: number,
  nev: number,
  tol: number,
  diag: Float64Array,
  off: Float64Array,
): boolean {
  for (let i = 0; i < size; i++) {
    diag[i] = H[i * m + i];
    if (i + 1 < size) off[i] = H[(i + 1) * m + i];
  }
  const { last } = tridiagonalEigenLastRow(diag, off, size);
  for (let t = 0; t < nev; t++) if (Math.abs(beta * last[size - 1 - t]) > tol) return false;
  return true;
}
