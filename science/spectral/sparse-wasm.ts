/**
 * `csrGather` of kernels.ts as a WebAssembly function, bit-identical to it: per row the same four
 * partial sums s0..s3 over the same entries in the same order, combined as (s0 + s1) + (s2 + s3),
 * then added to y[r] or stored. Scalar f64 arithmetic rounds exactly as JavaScript numbers do and
 * WebAssembly has no fused multiply-add, so only the speed differs: V8's typed-array loads (bounds
 * checks, the dependent x[indices[p]] load) made the JavaScript loop ≈ 2.2 ns per entry even on
 * L1-resident data, which made it the largest part of a pruned network's eigensolve.
 * Assembled from opcodes like dense-wasm.ts; its text form:
 *
 *   (func (export "gather") (param $indptr $indices $values $rows $x $y $accumulate i32)
 *     ;; pi, pv = byte pointers to entry indptr[0] of indices and values
 *     ;; for r < rows: end = &indices[indptr[r + 1]]; s0..s3 = 0
 *     ;;   while pi + 12 < end: s0 += v[0]·x[i[0]]; s1 += v[1]·x[i[1]]; s2 += …; s3 += …; pi += 16; pv += 32
 *     ;;   while pi < end: s0 += v[0]·x[i[0]]; pi += 4; pv += 8
 *     ;;   y[r] = accumulate ? y[r] + ((s0 + s1) + (s2 + s3)) : (s0 + s1) + (s2 + s3)
 *
 * Pointers are byte offsets into the memory the module imports; indptr and indices are int32,
 * values, x and y float64.
 */
import {
  F64,
  I32,
  type WasmArena,
  add,
  fAdd,
  fMul,
  geU,
  get,
  i32,
  loadF64,
  loadI32,
  set,
  shl,
  storeF64,
  wasmModule,
  zeroF64,
  compileOnce,
} from '../wasm-asm.ts';

/** `block loop br_if(exit) body br 0 end end`: repeat `body` until `exit` (an i32 condition) holds. */
const until = (exit: number[], body: number[]) => [0x02, 0x40, 0x03, 0x40, ...exit, 0x0d, 1, ...body, 0x0c, 0, 0x0b, 0x0b];

// Parameters 0–6 (indptr, indices, values, rows, x, y, accumulate); i32 locals 7 r, 8 pi, 9 pv, 10 end; f64 locals 11–14 s0..s3.
const [INDPTR, INDICES, VALUES, ROWS, X, Y, ACCUMULATE, R, PI, PV, END] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
const S = (t: number) => 11 + t;

/** s_t ← s_t + values[pv + t]·x[indices[pi + t]] */
const term = (t: number, s: number) => [
  ...get(S(s)),
  ...get(PV),
  ...loadF64(8 * t),
  ...get(X),
  ...get(PI),
  ...loadI32(4 * t),
  ...i32(3),
  ...shl,
  ...add,
  ...loadF64(),
  ...fMul,
  ...fAdd,
  ...set(S(s)),
];
const advance = (entries: number) => [...get(PI), ...i32(4 * entries), ...add, ...set(PI), ...get(PV), ...i32(8 * entries), ...add, ...set(PV)];

function body(): number[] {
  const row = [
    ...get(INDICES),
    ...get(INDPTR),
    ...get(R),
    ...i32(2),
    ...shl,
    ...add,
    ...loadI32(4),
    ...i32(2),
    ...shl,
    ...add,
    ...set(END),
    ...zeroF64,
    ...set(S(0)),
    ...zeroF64,
    ...set(S(1)),
    ...zeroF64,
    ...set(S(2)),
    ...zeroF64,
    ...set(S(3)),
    ...until([...get(PI), ...i32(12), ...add, ...get(END), ...geU], [...term(0, 0), ...term(1, 1), ...term(2, 2), ...term(3, 3), ...advance(4)]),
    ...until([...get(PI), ...get(END), ...geU], [...term(0, 0), ...advance(1)]),
    // s = (s0 + s1) + (s2 + s3), kept in s0
    ...get(S(0)),
    ...get(S(1)),
    ...fAdd,
    ...get(S(2)),
    ...get(S(3)),
    ...fAdd,
    ...fAdd,
    ...set(S(0)),
    ...get(Y),
    ...get(R),
    ...i32(3),
    ...shl,
    ...add,
    // accumulate ? y[r] + s : s
    ...get(ACCUMULATE),
    0x04,
    F64,
    ...get(Y),
    ...get(R),
    ...i32(3),
    ...shl,
    ...add,
    ...loadF64(),
    ...get(S(0)),
    ...fAdd,
    0x05,
    ...get(S(0)),
    0x0b,
    ...storeF64,
    ...get(R),
    ...i32(1),
    ...add,
    ...set(R),
  ];
  const start = [
    // pi = indices + (indptr[0] << 2); pv = values + (indptr[0] << 3)
    ...get(INDICES),
    ...get(INDPTR),
    ...loadI32(),
    ...i32(2),
    ...shl,
    ...add,
    ...set(PI),
    ...get(VALUES),
    ...get(INDPTR),
    ...loadI32(),
    ...i32(3),
    ...shl,
    ...add,
    ...set(PV),
  ];
  return [2, 4, I32, 4, F64, ...start, ...until([...get(R), ...get(ROWS), ...geU], row), 0x0b];
}

const module = compileOnce(() => wasmModule([{ name: 'gather', params: 7, body: body() }]));

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
