/**
 * Hamerly's bounded Lloyd pass (`hamerlyPass` of kmeans-kernels.ts) as WebAssembly generated per
 * dimension d, bit-identical to the JavaScript: the same bound arithmetic, squared distances summed
 * left to right from the first coordinate, the same strict comparisons (lowest centre index wins
 * ties), counts and sums updated the same way. Scalar f64 operations round as JavaScript numbers do
 * and WebAssembly has no fused multiply-add. It is most of k-means' time (the pass runs ≈ 15× per
 * restart at k = 4, ≈ 25× at k = 10), and V8's typed-array code for it is bound-check heavy.
 *
 * Text form of the generated function (d unrolled; pointers are byte offsets, arrays float64 except
 * labels, int32; `scratch` holds (k + 1)·(d + 1) float64s):
 *
 *   (func (export "hamerly") (param $X $n $C $k $labels $upper $lower $half $moved $argMax $counts $sums $scalars $scratch i32)
 *     ;; max1, max2 = scalars[0], scalars[1]
 *     ;; for i < n: a = labels[i]; up = upper[i] + moved[a]; l = max(lower[i] − (a = argMax ? max2 : max1), 0 if < 0)
 *     ;;   upper[i] = up; lower[i] = l; bound = half[a] > l ? half[a] : l; if up ≤ bound: next
 *     ;;   s = ‖x_i − C_a‖²; upper[i] = √s; if √s ≤ bound: next
 *     ;;   distances to all centres, two per f64x2 (centres copied pair-major to scratch first);
 *     ;;   nearest two over c < k (c = a reuses s); if best ≠ a: move x_i's counts and sums, labels[i] = best
 *     ;;   upper[i] = √bestD; lower[i] = √nextD
 */
import {
  F64,
  I32,
  add,
  block,
  br,
  brIf,
  elseOp,
  end,
  eqI32,
  f64Const,
  fAdd,
  fGe,
  fGt,
  fLe,
  fLt,
  fSqrt,
  fSub,
  fMul,
  geU,
  get,
  i32,
  ifVoid,
  loadF64,
  loadI32,
  loop,
  mul,
  neI32,
  select,
  set,
  shl,
  storeF64At,
  storeI32,
  tee,
  wasmModule,
  compileOnce,
  V128,
  v128Load,
  ltU,
  v128Store,
  andI32,
  shrU,
  f64x2Splat as splat,
  f64x2Add as vAdd,
  f64x2Sub as vSub,
  f64x2Mul as vMul,
} from '../wasm-asm.ts';

const range = (d: number) => Array.from({ length: d }, (_, f) => f);

const P = { X: 0, n: 1, C: 2, k: 3, labels: 4, upper: 5, lower: 6, half: 7, moved: 8, argMax: 9, counts: 10, sums: 11, scalars: 12, scratch: 13 };
// i32 locals
const I = 14,
  XP = 15,
  A = 16,
  C = 17,
  CP = 18,
  BEST = 19,
  I8 = 20,
  CA = 21,
  SA = 22,
  SB = 23,
  DB = 24,
  KP = 25;
const I32_LOCALS = 12;
// f64 locals
const UP = 26,
  L = 27,
  BOUND = 28,
  S = 29,
  BEST_D = 30,
  NEXT_D = 31,
  Q = 32,
  T = 33,
  H = 34,
  MAX1 = 35,
  MAX2 = 36;
const XF = (f: number) => 37 + f;
const F64_FIXED = 11;
// v128 locals (after the d coordinates): an accumulator, a temporary, and x_f splatted
const VACC = (d: number) => 37 + d;
const VT = (d: number) => 38 + d;
const XV = (d: number, f: number) => 39 + d + f;

/**
 * ‖x − p‖² for x in the f64 locals xf(0..d−1) and p the d float64s at the address in local `ptr`,
 * summed left to right from the first coordinate (as kmeans-kernels.ts); `t` is a scratch f64 local.
 */
function squaredDistance(d: number, xf: (f: number) => number, ptr: number, t: number): number[] {
  const out: number[] = [];
  for (let f = 0; f < d; f++) {
    out.push(...get(xf(f)), ...get(ptr), ...loadF64(8 * f), ...fSub, ...tee(t), ...get(t), ...fMul);
    if (f > 0) out.push(...fAdd);
  }
  return out;
}

function hamerlyBody(d: number): number[] {
  const stride = 8 * d;
  const dist = (ptr: number) => squaredDistance(d, XF, ptr, T);
  const addr = (base: number, index: number, log2: number) => [...get(base), ...get(index), ...i32(log2), ...shl, ...add];

  // Distances to all centres two at a time: lane pairs of centres (2q, 2q + 1) from the
  // pair-major copy of the centres the prologue writes to scratch; each lane sums its squares left
  // to right exactly as `dist`. Then the nearest two, in centre order, as the JavaScript does.
  const pairTerm = (f: number) => [...get(XV(d, f)), ...get(CP), ...v128Load(16 * f), ...vSub];
  const pairs: number[] = [...pairTerm(0), ...tee(VACC(d)), ...get(VACC(d)), ...vMul, ...set(VACC(d))];
  for (let f = 1; f < d; f++) pairs.push(...get(VACC(d)), ...pairTerm(f), ...tee(VT(d)), ...get(VT(d)), ...vMul, ...vAdd, ...set(VACC(d)));
  pairs.push(...get(DB), ...get(C), ...i32(3), ...shl, ...add, ...get(VACC(d)), ...v128Store(0));
  const centers = [
    ...range(d).flatMap((f) => [...get(XF(f)), ...splat, ...set(XV(d, f))]),
    ...i32(0),
    ...set(C),
    ...get(P.scratch),
    ...set(CP),
    ...block,
    ...loop,
    ...get(C),
    ...get(P.k),
    ...geU,
    ...brIf(1),
    ...pairs,
    ...get(C),
    ...i32(2),
    ...add,
    ...set(C),
    ...get(CP),
    ...i32(16 * d),
    ...add,
    ...set(CP),
    ...br(0),
    ...end,
    ...end,
    ...i32(0),
    ...set(C),
    ...block,
    ...loop,
    ...get(C),
    ...get(P.k),
    ...geU,
    ...brIf(1),
    // q = c = a ? s : distance c
    ...get(S),
    ...get(DB),
    ...get(C),
    ...i32(3),
    ...shl,
    ...add,
    ...loadF64(),
    ...get(C),
    ...get(A),
    ...eqI32,
    ...select,
    ...set(Q),
    ...get(Q),
    ...get(BEST_D),
    ...fLt,
    ...ifVoid,
    ...get(BEST_D),
    ...set(NEXT_D),
    ...get(Q),
    ...set(BEST_D),
    ...get(C),
    ...set(BEST),
    ...elseOp,
    ...get(Q),
    ...get(NEXT_D),
    ...fLt,
    ...ifVoid,
    ...get(Q),
    ...set(NEXT_D),
    ...end,
    ...end,
    ...get(C),
    ...i32(1),
    ...add,
    ...set(C),
    ...br(0),
    ...end,
    ...end,
  ];

  const move: number[] = [
    ...get(BEST),
    ...get(A),
    ...neI32,
    ...ifVoid,
    // counts[a] −= 1; counts[best] += 1
    ...addr(P.counts, A, 3),
    ...addr(P.counts, A, 3),
    ...loadF64(),
    ...f64Const(1),
    ...fSub,
    ...storeF64At(),
    ...addr(P.counts, BEST, 3),
    ...addr(P.counts, BEST, 3),
    ...loadF64(),
    ...f64Const(1),
    ...fAdd,
    ...storeF64At(),
    ...get(P.sums),
    ...get(A),
    ...i32(stride),
    ...mul,
    ...add,
    ...set(SA),
    ...get(P.sums),
    ...get(BEST),
    ...i32(stride),
    ...mul,
    ...add,
    ...set(SB),
  ];
  for (let f = 0; f < d; f++)
    move.push(
      ...get(SA),
      ...get(SA),
      ...loadF64(8 * f),
      ...get(XF(f)),
      ...fSub,
      ...storeF64At(8 * f),
      ...get(SB),
      ...get(SB),
      ...loadF64(8 * f),
      ...get(XF(f)),
      ...fAdd,
      ...storeF64At(8 * f),
    );
  move.push(...addr(P.labels, I, 2), ...get(BEST), ...storeI32(), ...end);

  const point: number[] = [
    ...block,
    ...get(I),
    ...i32(3),
    ...shl,
    ...set(I8),
    ...addr(P.labels, I, 2),
    ...loadI32(),
    ...set(A),
    // up = upper[i] + moved[a]
    ...get(P.upper),
    ...get(I8),
    ...add,
    ...loadF64(),
    ...addr(P.moved, A, 3),
    ...loadF64(),
    ...fAdd,
    ...set(UP),
    // l = lower[i] − (a = argMax ? max2 : max1); l = l < 0 ? 0 : l
    ...get(P.lower),
    ...get(I8),
    ...add,
    ...loadF64(),
    ...get(MAX2),
    ...get(MAX1),
    ...get(A),
    ...get(P.argMax),
    ...eqI32,
    ...select,
    ...fSub,
    ...set(L),
    ...f64Const(0),
    ...get(L),
    ...get(L),
    ...f64Const(0),
    ...fLt,
    ...select,
    ...set(L),
    ...get(P.upper),
    ...get(I8),
    ...add,
    ...get(UP),
    ...storeF64At(),
    ...get(P.lower),
    ...get(I8),
    ...add,
    ...get(L),
    ...storeF64At(),
    // bound = h > l ? h : l
    ...addr(P.half, A, 3),
    ...loadF64(),
    ...set(H),
    ...get(H),
    ...get(L),
    ...get(H),
    ...get(L),
    ...fGt,
    ...select,
    ...set(BOUND),
    ...get(UP),
    ...get(BOUND),
    ...fLe,
    ...brIf(0),
  ];
  for (let f = 0; f < d; f++) point.push(...get(XP), ...loadF64(8 * f), ...set(XF(f)));
  point.push(
    ...get(P.C),
    ...get(A),
    ...i32(stride),
    ...mul,
    ...add,
    ...set(CA),
    ...dist(CA),
    ...set(S),
    ...get(P.upper),
    ...get(I8),
    ...add,
    ...get(S),
    ...fSqrt,
    ...tee(Q),
    ...storeF64At(),
    ...get(Q),
    ...get(BOUND),
    ...fLe,
    ...brIf(0),
    ...i32(0),
    ...set(BEST),
    ...f64Const(Infinity),
    ...set(BEST_D),
    ...f64Const(Infinity),
    ...set(NEXT_D),
    ...centers,
    ...move,
    ...get(P.upper),
    ...get(I8),
    ...add,
    ...get(BEST_D),
    ...fSqrt,
    ...storeF64At(),
    ...get(P.lower),
    ...get(I8),
    ...add,
    ...get(NEXT_D),
    ...fSqrt,
    ...storeF64At(),
    ...end,
  );

  // Prologue: the centres pair-major into scratch (centre c's coordinate f at pair c/2, slot f,
  // lane c mod 2; a zero lane pads an odd k), the distance buffer after them.
  const copyCentre = range(d).flatMap((f) => [...get(CP), ...get(CA), ...loadF64(8 * f), ...storeF64At(16 * f)]);
  const padCentre = range(d).flatMap((f) => [...get(CP), ...f64Const(0), ...storeF64At(16 * f)]);
  const prologue = [
    ...get(P.k),
    ...get(P.k),
    ...i32(1),
    ...andI32,
    ...add,
    ...set(KP),
    ...get(P.scratch),
    ...get(KP),
    ...i32(stride),
    ...mul,
    ...add,
    ...set(DB),
    ...i32(0),
    ...set(C),
    ...block,
    ...loop,
    ...get(C),
    ...get(KP),
    ...geU,
    ...brIf(1),
    ...get(P.scratch),
    ...get(C),
    ...i32(1),
    ...shrU,
    ...i32(16 * d),
    ...mul,
    ...add,
    ...get(C),
    ...i32(1),
    ...andI32,
    ...i32(3),
    ...shl,
    ...add,
    ...set(CP),
    ...get(C),
    ...get(P.k),
    ...ltU,
    ...ifVoid,
    ...get(P.C),
    ...get(C),
    ...i32(stride),
    ...mul,
    ...add,
    ...set(CA),
    ...copyCentre,
    ...elseOp,
    ...padCentre,
    ...end,
    ...get(C),
    ...i32(1),
    ...add,
    ...set(C),
    ...br(0),
    ...end,
    ...end,
  ];
  const body = [
    ...prologue,
    ...get(P.scalars),
    ...loadF64(0),
    ...set(MAX1),
    ...get(P.scalars),
    ...loadF64(8),
    ...set(MAX2),
    ...i32(0),
    ...set(I),
    ...get(P.X),
    ...set(XP),
    ...block,
    ...loop,
    ...get(I),
    ...get(P.n),
    ...geU,
    ...brIf(1),
    ...point,
    ...get(I),
    ...i32(1),
    ...add,
    ...set(I),
    ...get(XP),
    ...i32(stride),
    ...add,
    ...set(XP),
    ...br(0),
    ...end,
    ...end,
  ];
  return [3, I32_LOCALS, I32, F64_FIXED + d, F64, 2 + d, V128, ...body, 0x0b];
}

/**
 * The other distance loops of kmeans-kernels.ts, same arithmetic. Parameters are byte offsets;
 * results that JavaScript returns are stored in `result` (a float64).
 *   nearestTwo(X, n, C, k, labels, upper, lower)
 *   assignAll(X, n, C, k, labels, result)                      — result = inertia
 *   candidatePotential(X, n, candidate, closest, nearest, toCandidate, out, factor, result)
 *                                                               — factor = the pruning factor (a float64 in memory)
 */
function nearestTwoBody(d: number, withBounds: boolean): number[] {
  // params: 0 X, 1 n, 2 C, 3 k, 4 labels, 5 upper / result, 6 lower
  const params = withBounds ? 7 : 6;
  const [i, xp, c, cp, best] = [params, params + 1, params + 2, params + 3, params + 4];
  const [s, bestD, nextD, t, inertia] = [params + 5, params + 6, params + 7, params + 8, params + 9];
  const xf = (f: number) => params + 10 + f;
  const dist = (ptr: number) => squaredDistance(d, xf, ptr, t);
  const update = withBounds
    ? [
        ...get(s),
        ...get(bestD),
        ...fLt,
        ...ifVoid,
        ...get(bestD),
        ...set(nextD),
        ...get(s),
        ...set(bestD),
        ...get(c),
        ...set(best),
        ...elseOp,
        ...get(s),
        ...get(nextD),
        ...fLt,
        ...ifVoid,
        ...get(s),
        ...set(nextD),
        ...end,
        ...end,
      ]
    : [...get(s), ...get(bestD), ...fLt, ...ifVoid, ...get(s), ...set(bestD), ...get(c), ...set(best), ...end];
  const point: number[] = [];
  for (let f = 0; f < d; f++) point.push(...get(xp), ...loadF64(8 * f), ...set(xf(f)));
  point.push(
    ...i32(0),
    ...set(best),
    ...f64Const(Infinity),
    ...set(bestD),
    ...f64Const(Infinity),
    ...set(nextD),
    ...i32(0),
    ...set(c),
    ...get(2),
    ...set(cp),
    ...block,
    ...loop,
    ...get(c),
    ...get(3),
    ...geU,
    ...brIf(1),
    ...dist(cp),
    ...set(s),
    ...update,
    ...get(c),
    ...i32(1),
    ...add,
    ...set(c),
    ...get(cp),
    ...i32(8 * d),
    ...add,
    ...set(cp),
    ...br(0),
    ...end,
    ...end,
    ...get(4),
    ...get(i),
    ...i32(2),
    ...shl,
    ...add,
    ...get(best),
    ...storeI32(),
  );
  if (withBounds)
    point.push(
      ...get(5),
      ...get(i),
      ...i32(3),
      ...shl,
      ...add,
      ...get(bestD),
      ...fSqrt,
      ...storeF64At(),
      ...get(6),
      ...get(i),
      ...i32(3),
      ...shl,
      ...add,
      ...get(nextD),
      ...fSqrt,
      ...storeF64At(),
    );
  else point.push(...get(inertia), ...get(bestD), ...fAdd, ...set(inertia));
  const body = [
    ...f64Const(0),
    ...set(inertia),
    ...i32(0),
    ...set(i),
    ...get(0),
    ...set(xp),
    ...block,
    ...loop,
    ...get(i),
    ...get(1),
    ...geU,
    ...brIf(1),
    ...point,
    ...get(i),
    ...i32(1),
    ...add,
    ...set(i),
    ...get(xp),
    ...i32(8 * d),
    ...add,
    ...set(xp),
    ...br(0),
    ...end,
    ...end,
    ...(withBounds ? [] : [...get(5), ...get(inertia), ...storeF64At()]),
  ];
  return [2, 5, I32, 5 + d, F64, ...body, 0x0b];
}

function candidatePotentialBody(d: number): number[] {
  // params: 0 X, 1 n, 2 candidate, 3 closest, 4 nearest, 5 toCandidate, 6 out, 7 factor, 8 result
  const [i, xp, i8] = [9, 10, 11];
  const [pot, c, s, t, dd, factor] = [12, 13, 14, 15, 16, 17];
  const xf = (f: number) => 18 + f;
  const point: number[] = [
    ...block,
    ...get(i),
    ...i32(3),
    ...shl,
    ...set(i8),
    ...get(3),
    ...get(i8),
    ...add,
    ...loadF64(),
    ...set(c),
    // toCandidate[nearest[i]] ≥ factor·c: keep closest[i]
    ...get(5),
    ...get(4),
    ...get(i),
    ...i32(2),
    ...shl,
    ...add,
    ...loadI32(),
    ...i32(3),
    ...shl,
    ...add,
    ...loadF64(),
    ...get(factor),
    ...get(c),
    ...fMul,
    ...fGe,
    ...ifVoid,
    ...get(6),
    ...get(i8),
    ...add,
    ...get(c),
    ...storeF64At(),
    ...get(pot),
    ...get(c),
    ...fAdd,
    ...set(pot),
    ...br(1),
    ...end,
  ];
  // s = Σ (X[xo + f] − x_f)², left to right
  for (let f = 0; f < d; f++) {
    point.push(...get(xp), ...loadF64(8 * f), ...get(xf(f)), ...fSub, ...tee(t), ...get(t), ...fMul);
    if (f > 0) point.push(...fAdd);
  }
  point.push(
    ...set(s),
    ...get(s),
    ...get(c),
    ...get(s),
    ...get(c),
    ...fLt,
    ...select,
    ...set(dd),
    ...get(6),
    ...get(i8),
    ...add,
    ...get(dd),
    ...storeF64At(),
    ...get(pot),
    ...get(dd),
    ...fAdd,
    ...set(pot),
    ...end,
  );
  const start: number[] = [...get(7), ...loadF64(), ...set(factor)];
  for (let f = 0; f < d; f++) start.push(...get(2), ...loadF64(8 * f), ...set(xf(f)));
  const body = [
    ...start,
    ...f64Const(0),
    ...set(pot),
    ...i32(0),
    ...set(i),
    ...get(0),
    ...set(xp),
    ...block,
    ...loop,
    ...get(i),
    ...get(1),
    ...geU,
    ...brIf(1),
    ...point,
    ...get(i),
    ...i32(1),
    ...add,
    ...set(i),
    ...get(xp),
    ...i32(8 * d),
    ...add,
    ...set(xp),
    ...br(0),
    ...end,
    ...end,
    ...get(8),
    ...get(pot),
    ...storeF64At(),
  ];
  return [2, 3, I32, 6 + d, F64, ...body, 0x0b];
}

const modules = new Map<number, () => WebAssembly.Module | null>();

/** The compiled module of the k-means kernels for dimension d (null without WebAssembly). */
export function kmeansModule(d: number): WebAssembly.Module | null {
  let get = modules.get(d);
  if (!get)
    modules.set(
      d,
      (get = compileOnce(() =>
        wasmModule([
          { name: 'hamerly', params: 14, body: hamerlyBody(d) },
          { name: 'nearestTwo', params: 7, body: nearestTwoBody(d, true) },
          { name: 'assignAll', params: 6, body: nearestTwoBody(d, false) },
          { name: 'candidatePotential', params: 9, body: candidatePotentialBody(d) },
        ]),
      )),
    );
  return get();
}

/** The module's exports; every array argument is a byte offset into the instance's memory. */
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
