/**
 * The vector loops of the Lanczos solver (lanczos.ts: `dot`, `projections`, `subtractCombination`)
 * in WebAssembly, bit-identical to the JavaScript:
 *   - dot: the JavaScript keeps four partial sums s0..s3 over t ≡ 0..3 (mod 4); here (s0, s1) and
 *     (s2, s3) are the lanes of two f64x2 accumulators, so every lane adds the same products in the
 *     same order; the tail goes to s0 and the result is (s0 + s1) + (s2 + s3), as there.
 *   - projections: blocks of four basis vectors with one sequential sum each (scalar, as there), the
 *     remaining vectors by `dot`.
 *   - subtract: w[t] −= (ha·a[t] + hb·b[t]) + (hc·c[t] + hd·d[t]) per block of four, then
 *     w[t] += (−h)·x[t] per remaining vector: elementwise in t, so two t per f64x2 lane pair.
 * WebAssembly has no fused multiply-add and its lanes round like scalars. With the CSR products in
 * WebAssembly too (sparse-wasm.ts), these loops were the largest JavaScript part of an eigensolve.
 *
 * Arrays are float64 in the instance's memory; a basis is passed as a table of byte offsets (int32).
 */
import {
  F64,
  I32,
  V128,
  add,
  block,
  br,
  brIf,
  end,
  ifVoid,
  fAdd,
  fMul,
  fSub,
  geU,
  get,
  i32,
  loadF64,
  loadI32,
  loop,
  set,
  shl,
  storeF64At,
  sub,
  v128Load,
  wasmModule,
  zeroF64,
  compileOnce,
  v128Store,
  fNeg,
  fNe,
  andI32,
  f64x2Splat as splat,
  f64x2Extract as extract,
  f64x2Add as vAdd,
  f64x2Sub as vSub,
  f64x2Mul as vMul,
} from '../wasm-asm.ts';

const zeroV = [...zeroF64, ...splat];
/** while (local[i] + extra < local[n]) { body; local[i] += step } — unsigned compare. */
const whileBelow = (i: number, extra: number, n: number, step: number, body: number[]) => [
  ...block,
  ...loop,
  ...get(i),
  ...(extra ? [...i32(extra), ...add] : []),
  ...get(n),
  ...geU,
  ...brIf(1),
  ...body,
  ...get(i),
  ...i32(step),
  ...add,
  ...set(i),
  ...br(0),
  ...end,
  ...end,
];
const addr8 = (base: number, index: number) => [...get(base), ...get(index), ...i32(3), ...shl, ...add];

/** dot(a, b, n, result): result = Σ a[t]·b[t] with lanes (s0, s1), (s2, s3). */
function dotBody(): number[] {
  // params 0 a, 1 b, 2 n, 3 result; locals i32 4 t; f64 5 s0, 6 s1, 7 s2, 8 s3; v128 9 v01, 10 v23
  const quad = [
    ...get(9),
    ...addr8(0, 4),
    ...v128Load(0),
    ...addr8(1, 4),
    ...v128Load(0),
    ...vMul,
    ...vAdd,
    ...set(9),
    ...get(10),
    ...addr8(0, 4),
    ...v128Load(16),
    ...addr8(1, 4),
    ...v128Load(16),
    ...vMul,
    ...vAdd,
    ...set(10),
  ];
  const tail = [...get(5), ...addr8(0, 4), ...loadF64(), ...addr8(1, 4), ...loadF64(), ...fMul, ...fAdd, ...set(5)];
  const body = [
    ...zeroV,
    ...set(9),
    ...zeroV,
    ...set(10),
    ...i32(0),
    ...set(4),
    ...whileBelow(4, 3, 2, 4, quad),
    ...get(9),
    ...extract(0),
    ...set(5),
    ...get(9),
    ...extract(1),
    ...set(6),
    ...get(10),
    ...extract(0),
    ...set(7),
    ...get(10),
    ...extract(1),
    ...set(8),
    ...whileBelow(4, 0, 2, 1, tail),
    ...get(3),
    ...get(5),
    ...get(6),
    ...fAdd,
    ...get(7),
    ...get(8),
    ...fAdd,
    ...fAdd,
    ...storeF64At(),
  ];
  return [3, 1, I32, 4, F64, 2, V128, ...body, 0x0b];
}

/** projections(w, table, count, n, h): h[i] = basis[i]·w. */
function projectionsBody(): number[] {
  // params 0 w, 1 table, 2 count, 3 n, 4 h; locals i32 5 i, 6 t, 7 a, 8 b, 9 c, 10 d, 11 wt (w + 8t); f64 12 sa, 13 sb, 14 sc, 15 sd, 16 x
  const basisPtr = (offset: number, local: number) => [...get(1), ...get(5), ...i32(2), ...shl, ...add, ...loadI32(4 * offset), ...set(local)];
  const term = (s: number, ptr: number) => [
    ...get(s),
    ...get(ptr),
    ...get(6),
    ...i32(3),
    ...shl,
    ...add,
    ...loadF64(),
    ...get(16),
    ...fMul,
    ...fAdd,
    ...set(s),
  ];
  const inner = [...get(0), ...get(6), ...i32(3), ...shl, ...add, ...loadF64(), ...set(16), ...term(12, 7), ...term(13, 8), ...term(14, 9), ...term(15, 10)];
  const blockOf4 = [
    ...basisPtr(0, 7),
    ...basisPtr(1, 8),
    ...basisPtr(2, 9),
    ...basisPtr(3, 10),
    ...zeroF64,
    ...set(12),
    ...zeroF64,
    ...set(13),
    ...zeroF64,
    ...set(14),
    ...zeroF64,
    ...set(15),
    ...i32(0),
    ...set(6),
    ...whileBelow(6, 0, 3, 1, inner),
    ...addr8(4, 5),
    ...get(12),
    ...storeF64At(0),
    ...addr8(4, 5),
    ...get(13),
    ...storeF64At(8),
    ...addr8(4, 5),
    ...get(14),
    ...storeF64At(16),
    ...addr8(4, 5),
    ...get(15),
    ...storeF64At(24),
  ];
  // The remaining vectors: h[i] = dot(basis[i], w) (function 0).
  const rest = [...basisPtr(0, 7), ...get(7), ...get(0), ...get(3), ...addr8(4, 5), 0x10, 0];
  const body = [...i32(0), ...set(5), ...whileBelow(5, 3, 2, 4, blockOf4), ...whileBelow(5, 0, 2, 1, rest)];
  return [2, 7, I32, 5, F64, ...body, 0x0b];
}

/** subtract(w, table, count, n, h): w −= Σ h[i]·basis[i], blocked as subtractCombination. */
function subtractBody(): number[] {
  // params 0 w, 1 table, 2 count, 3 n, 4 h; locals i32 5 i, 6 t, 7 a, 8 b, 9 c, 10 d, 11 n2 (n rounded down to even);
  // f64 12 ha, 13 hb, 14 hc, 15 hd; v128 16 ha, 17 hb, 18 hc, 19 hd
  const basisPtr = (offset: number, local: number) => [...get(1), ...get(5), ...i32(2), ...shl, ...add, ...loadI32(4 * offset), ...set(local)];
  const hAt = (offset: number, local: number) => [...addr8(4, 5), ...loadF64(8 * offset), ...set(local)];
  // (ha·a + hb·b) + (hc·c + hd·d) at t, as a pair of lanes or a scalar
  const vecTerm = (h: number, ptr: number) => [...get(h), ...addr8(ptr, 6), ...v128Load(0), ...vMul];
  const scalarTerm = (h: number, ptr: number) => [...get(h), ...addr8(ptr, 6), ...loadF64(), ...fMul];
  const pair = [
    ...addr8(0, 6),
    ...addr8(0, 6),
    ...v128Load(0),
    ...vecTerm(16, 7),
    ...vecTerm(17, 8),
    ...vAdd,
    ...vecTerm(18, 9),
    ...vecTerm(19, 10),
    ...vAdd,
    ...vAdd,
    ...vSub,
    ...v128Store(0),
  ];
  const single = [
    ...addr8(0, 6),
    ...addr8(0, 6),
    ...loadF64(),
    ...scalarTerm(12, 7),
    ...scalarTerm(13, 8),
    ...fAdd,
    ...scalarTerm(14, 9),
    ...scalarTerm(15, 10),
    ...fAdd,
    ...fAdd,
    ...fSub,
    ...storeF64At(),
  ];
  const blockOf4 = [
    ...basisPtr(0, 7),
    ...basisPtr(1, 8),
    ...basisPtr(2, 9),
    ...basisPtr(3, 10),
    ...hAt(0, 12),
    ...hAt(1, 13),
    ...hAt(2, 14),
    ...hAt(3, 15),
    ...get(12),
    ...splat,
    ...set(16),
    ...get(13),
    ...splat,
    ...set(17),
    ...get(14),
    ...splat,
    ...set(18),
    ...get(15),
    ...splat,
    ...set(19),
    ...i32(0),
    ...set(6),
    ...whileBelow(6, 0, 11, 2, pair),
    ...whileBelow(6, 0, 3, 1, single),
  ];
  // axpy(−h[i], basis[i], w): w[t] = w[t] + (−h)·x[t]
  const axpyPair = [...addr8(0, 6), ...addr8(0, 6), ...v128Load(0), ...get(16), ...addr8(7, 6), ...v128Load(0), ...vMul, ...vAdd, ...v128Store(0)];
  const axpySingle = [...addr8(0, 6), ...addr8(0, 6), ...loadF64(), ...get(12), ...addr8(7, 6), ...loadF64(), ...fMul, ...fAdd, ...storeF64At()];
  const rest = [
    ...basisPtr(0, 7),
    ...addr8(4, 5),
    ...loadF64(),
    ...fNeg,
    ...set(12), // −h[i], a sign flip as in JavaScript
    ...get(12),
    ...splat,
    ...set(16),
    ...i32(0),
    ...set(6),
    ...whileBelow(6, 0, 11, 2, axpyPair),
    ...whileBelow(6, 0, 3, 1, axpySingle),
  ];
  const body = [
    ...get(3),
    ...get(3),
    ...i32(1),
    ...andI32,
    ...sub,
    ...set(11), // n2 = n − (n & 1)
    ...i32(0),
    ...set(5),
    ...whileBelow(5, 3, 2, 4, blockOf4),
    ...whileBelow(5, 0, 2, 1, rest),
  ];
  return [3, 7, I32, 4, F64, 4, V128, ...body, 0x0b];
}

/** combine(out, table, coefficients, count, n): out += Σ_l y_l·basis[l] over l in order, skipping y_l = 0 (ritzVectors). */
function combineBody(): number[] {
  // params 0 out, 1 table, 2 y, 3 count, 4 n; locals i32 5 l, 6 t, 7 x, 8 n2; f64 9 y; v128 10 y
  const pair = [...addr8(0, 6), ...addr8(0, 6), ...v128Load(0), ...get(10), ...addr8(7, 6), ...v128Load(0), ...vMul, ...vAdd, ...v128Store(0)];
  const single = [...addr8(0, 6), ...addr8(0, 6), ...loadF64(), ...get(9), ...addr8(7, 6), ...loadF64(), ...fMul, ...fAdd, ...storeF64At()];
  const vector = [
    ...addr8(2, 5),
    ...loadF64(),
    ...set(9),
    ...get(9),
    ...zeroF64,
    ...fNe,
    ...ifVoid,
    ...get(1),
    ...get(5),
    ...i32(2),
    ...shl,
    ...add,
    ...loadI32(),
    ...set(7),
    ...get(9),
    ...splat,
    ...set(10),
    ...i32(0),
    ...set(6),
    ...whileBelow(6, 0, 8, 2, pair),
    ...whileBelow(6, 0, 4, 1, single),
    ...end,
  ];
  const body = [...get(4), ...get(4), ...i32(1), ...andI32, ...sub, ...set(8), ...i32(0), ...set(5), ...whileBelow(5, 0, 3, 1, vector)];
  return [3, 4, I32, 1, F64, 1, V128, ...body, 0x0b];
}

const module = compileOnce(() =>
  wasmModule([
    { name: 'dot', params: 4, body: dotBody() },
    { name: 'projections', params: 5, body: projectionsBody() },
    { name: 'subtract', params: 5, body: subtractBody() },
    { name: 'combine', params: 5, body: combineBody() },
  ]),
);

export function lanczosModule(): WebAssembly.Module | null {
  return module();
}

export interface LanczosWasmExports {
  dot(a: number, b: number, n: number, result: number): void;
  projections(w: number, table: number, count: number, n: number, h: number): void;
  subtract(w: number, table: number, count: number, n: number, h: number): void;
  combine(out: number, table: number, y: number, count: number, n: number): void;
}
