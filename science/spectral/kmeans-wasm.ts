/**
 * Hamerly's bounded Lloyd pass (`hamerlyPass` of kmeans-kernels.ts) as WebAssembly generated per
 * dimension d, bit-identical to the JavaScript: the same bound arithmetic, squared distances summed
 * left to right from the first coordinate, the same strict comparisons (lowest centre index wins
 * ties), counts and sums updated the same way. Scalar f64 operations round as JavaScript numbers do
 * and WebAssembly has no fused multiply-add. It is most of k-means' time (the pass runs ≈ 15× per
 * restart at k = 4, ≈ 25× at k = 10), and V8's typed-array code for it is bound-check heavy.
 *
 * Text form of the generated function (d unrolled; pointers are byte offsets, arrays float64 except
 * labels, int32):
 *
 *   (func (export "hamerly") (param $X $n $C $k $labels $upper $lower $half $moved $argMax $counts $sums $scalars i32)
 *     ;; max1, max2 = scalars[0], scalars[1]
 *     ;; for i < n: a = labels[i]; up = upper[i] + moved[a]; l = max(lower[i] − (a = argMax ? max2 : max1), 0 if < 0)
 *     ;;   upper[i] = up; lower[i] = l; bound = half[a] > l ? half[a] : l; if up ≤ bound: next
 *     ;;   s = ‖x_i − C_a‖²; upper[i] = √s; if √s ≤ bound: next
 *     ;;   nearest two over c < k (c = a reuses s); if best ≠ a: move x_i's counts and sums, labels[i] = best
 *     ;;   upper[i] = √bestD; lower[i] = √nextD
 */
import {
  F64, I32, add, block, br, brIf, elseOp, end, eqI32, f64Const, fAdd, fGt, fLe, fLt, fSqrt, fSub, fMul, geU, get, i32, ifVoid, loadF64, loadI32, loop, mul, neI32, select, set, shl, storeF64At,
  storeI32, tee, wasmModule, compileOnce,
} from '../wasm-asm.ts';

const P = { X: 0, n: 1, C: 2, k: 3, labels: 4, upper: 5, lower: 6, half: 7, moved: 8, argMax: 9, counts: 10, sums: 11, scalars: 12 };
// i32 locals
const I = 13, XP = 14, A = 15, C = 16, CP = 17, BEST = 18, I8 = 19, CA = 20, SA = 21, SB = 22;
const I32_LOCALS = 10;
// f64 locals
const UP = 23, L = 24, BOUND = 25, S = 26, BEST_D = 27, NEXT_D = 28, Q = 29, T = 30, H = 31, MAX1 = 32, MAX2 = 33;
const XF = (f: number) => 34 + f;
const F64_FIXED = 11;

const ifF64 = [0x04, F64];

function hamerlyBody(d: number): number[] {
  const stride = 8 * d;
  /** Squared distance between x_0..x_{d-1} and the d float64s at the address in local `ptr`, summed left to right. */
  const dist = (ptr: number) => {
    const out: number[] = [];
    for (let f = 0; f < d; f++) {
      out.push(...get(XF(f)), ...get(ptr), ...loadF64(8 * f), ...fSub, ...tee(T), ...get(T), ...fMul);
      if (f > 0) out.push(...fAdd);
    }
    return out;
  };
  const addr = (base: number, index: number, log2: number) => [...get(base), ...get(index), ...i32(log2), ...shl, ...add];

  const centers = [
    ...i32(0), ...set(C), ...get(P.C), ...set(CP),
    ...block, ...loop,
    ...get(C), ...get(P.k), ...geU, ...brIf(1),
    // q = c = a ? s : ‖x − C_c‖²
    ...get(C), ...get(A), ...eqI32, ...ifF64, ...get(S), ...elseOp, ...dist(CP), ...end, ...set(Q),
    ...get(Q), ...get(BEST_D), ...fLt, ...ifVoid,
    ...get(BEST_D), ...set(NEXT_D), ...get(Q), ...set(BEST_D), ...get(C), ...set(BEST),
    ...elseOp,
    ...get(Q), ...get(NEXT_D), ...fLt, ...ifVoid, ...get(Q), ...set(NEXT_D), ...end,
    ...end,
    ...get(C), ...i32(1), ...add, ...set(C),
    ...get(CP), ...i32(stride), ...add, ...set(CP),
    ...br(0),
    ...end, ...end,
  ];

  const move: number[] = [
    ...get(BEST), ...get(A), ...neI32, ...ifVoid,
    // counts[a] −= 1; counts[best] += 1
    ...addr(P.counts, A, 3), ...addr(P.counts, A, 3), ...loadF64(), ...f64Const(1), ...fSub, ...storeF64At(),
    ...addr(P.counts, BEST, 3), ...addr(P.counts, BEST, 3), ...loadF64(), ...f64Const(1), ...fAdd, ...storeF64At(),
    ...get(P.sums), ...get(A), ...i32(stride), ...mul, ...add, ...set(SA),
    ...get(P.sums), ...get(BEST), ...i32(stride), ...mul, ...add, ...set(SB),
  ];
  for (let f = 0; f < d; f++)
    move.push(
      ...get(SA), ...get(SA), ...loadF64(8 * f), ...get(XF(f)), ...fSub, ...storeF64At(8 * f),
      ...get(SB), ...get(SB), ...loadF64(8 * f), ...get(XF(f)), ...fAdd, ...storeF64At(8 * f),
    );
  move.push(...addr(P.labels, I, 2), ...get(BEST), ...storeI32(), ...end);

  const point: number[] = [
    ...block,
    ...get(I), ...i32(3), ...shl, ...set(I8),
    ...addr(P.labels, I, 2), ...loadI32(), ...set(A),
    // up = upper[i] + moved[a]
    ...get(P.upper), ...get(I8), ...add, ...loadF64(), ...addr(P.moved, A, 3), ...loadF64(), ...fAdd, ...set(UP),
    // l = lower[i] − (a = argMax ? max2 : max1); l = l < 0 ? 0 : l
    ...get(P.lower), ...get(I8), ...add, ...loadF64(),
    ...get(MAX2), ...get(MAX1), ...get(A), ...get(P.argMax), ...eqI32, ...select, ...fSub, ...set(L),
    ...f64Const(0), ...get(L), ...get(L), ...f64Const(0), ...fLt, ...select, ...set(L),
    ...get(P.upper), ...get(I8), ...add, ...get(UP), ...storeF64At(),
    ...get(P.lower), ...get(I8), ...add, ...get(L), ...storeF64At(),
    // bound = h > l ? h : l
    ...addr(P.half, A, 3), ...loadF64(), ...set(H),
    ...get(H), ...get(L), ...get(H), ...get(L), ...fGt, ...select, ...set(BOUND),
    ...get(UP), ...get(BOUND), ...fLe, ...brIf(0),
  ];
  for (let f = 0; f < d; f++) point.push(...get(XP), ...loadF64(8 * f), ...set(XF(f)));
  point.push(
    ...get(P.C), ...get(A), ...i32(stride), ...mul, ...add, ...set(CA),
    ...dist(CA), ...set(S),
    ...get(P.upper), ...get(I8), ...add, ...get(S), ...fSqrt, ...tee(Q), ...storeF64At(),
    ...get(Q), ...get(BOUND), ...fLe, ...brIf(0),
    ...i32(0), ...set(BEST), ...f64Const(Infinity), ...set(BEST_D), ...f64Const(Infinity), ...set(NEXT_D),
    ...centers,
    ...move,
    ...get(P.upper), ...get(I8), ...add, ...get(BEST_D), ...fSqrt, ...storeF64At(),
    ...get(P.lower), ...get(I8), ...add, ...get(NEXT_D), ...fSqrt, ...storeF64At(),
    ...end,
  );

  const body = [
    ...get(P.scalars), ...loadF64(0), ...set(MAX1), ...get(P.scalars), ...loadF64(8), ...set(MAX2),
    ...i32(0), ...set(I), ...get(P.X), ...set(XP),
    ...block, ...loop,
    ...get(I), ...get(P.n), ...geU, ...brIf(1),
    ...point,
    ...get(I), ...i32(1), ...add, ...set(I),
    ...get(XP), ...i32(stride), ...add, ...set(XP),
    ...br(0),
    ...end, ...end,
  ];
  return [2, I32_LOCALS, I32, F64_FIXED + d, F64, ...body, 0x0b];
}

const modules = new Map<number, () => WebAssembly.Module | null>();

/** The compiled module for dimension d (null without WebAssembly). */
export function hamerlyModule(d: number): WebAssembly.Module | null {
  let get = modules.get(d);
  if (!get) modules.set(d, (get = compileOnce(() => wasmModule([{ name: 'hamerly', params: 13, body: hamerlyBody(d) }]))));
  return get();
}

/** The exported function; every array argument is a byte offset into the instance's memory. */
export type HamerlyExport = (
  X: number, n: number, C: number, k: number, labels: number, upper: number, lower: number, half: number, moved: number, argMax: number, counts: number,
  sums: number, scalars: number,
) => void;
