/**
 * The inner loops of evaluate.ts (the forward pass of a layer and the rank-|G| update of the
 * level above a lesion) as a tiny WebAssembly SIMD module (f64x2 lanes), equal to the same
 * loops in JavaScript: the same float64 products and sums in the same order (WebAssembly has
 * no fused multiply-add, and SIMD lanes round like scalars; at most the sign of a zero
 * differs, since inactive inputs add ±0 here and are skipped there). No compiler is available
 * in this project, so the module is assembled here from its opcodes.
 *
 * Data layout ("chunked"): evaluate.ts stores every level in chunks of CHUNK_ROWS = 8 rows,
 * neuron-major within a chunk — value (row t, neuron k) at k · 8 + t — so the eight rows of
 * one neuron are 64 contiguous bytes, loaded as four f64x2 vectors by every edge out of it.
 * Each level is kept twice: its pre-activations and their ReLU, both written by the pass that
 * computes the level, so no pass transposes or ReLUs its input (the earlier design transposed
 * the input of every pass and spent more time there than in the products). All pointers are
 * byte offsets into the imported memory.
 */
import {
  I32,
  V128,
  add,
  geU,
  get,
  i32,
  leb,
  set,
  shl,
  tee,
  v128Load,
  wasmModule,
  zeroF64,
  compileOnce,
  f64x2Splat,
  f64x2Add,
  f64x2Mul,
  f64x2Sub,
  v128Store,
  simd,
} from '../wasm-asm.ts';

/** Lane-wise f64.max (§5.4.8; NaN-propagating, max(−0, +0) = +0), the SIMD twin of maxF64. */
const f64x2Max = simd(0xf5);
const load32 = (offset = 0) => [0x28, 2, ...leb(offset)];
const loadF64 = [0x2b, 3, 0];
/** `while (local[i] < local[n]) { body; local[i]++ }` (unsigned compare). */
const forLoop = (i: number, n: number, body: number[]) => [
  0x02,
  0x40,
  0x03,
  0x40,
  ...get(i),
  ...get(n),
  ...geU,
  0x0d,
  1,
  ...body,
  ...get(i),
  ...i32(1),
  ...add,
  ...set(i),
  0x0c,
  0,
  0x0b,
  0x0b,
];

/**
 * Rows per chunk: four f64x2 accumulators per output column. Measured on the lesion benchmark:
 * 16 rows (eight accumulators) and pairs of interleaved columns were both slower (the input
 * chunk of a 256-wide level then fills the 32 KiB L1 / the registers spill).
 */
export const CHUNK_ROWS = 8;

/**
 * Text form (one call does `chunks` consecutive chunks; ri[e] is the byte offset of column
 * entry e's input neuron within a chunk, k · 64):
 *
 *   (func (export "gatherT") (param $h $colStart $ri $w $bias $outPre $outRelu $fanOut $fanIn $chunks $cols $nCols i32)
 *     ;; per chunk, for j in cols[0 .. nCols) (the output columns anything reads, ascending): acc[0..7] = bias[j]; acc[t] += h[ri[e] + t] · w[e] over j's
 *     ;; edges in order; outPre[j·8 + t] = acc[t]; outRelu[j·8 + t] = max(acc[t], 0)
 *     ;; then h += fanIn·64, outPre/outRelu += fanOut·64
 *   (func (export "gatherSubT") (param $h $colStart $ri $w $parent $outPre $outRelu $fanOut $fanIn $chunks $cols $nCols i32)
 *     ;; the rank-|G| update: the same from acc[t] = parent[j·8 + t], subtracting; the column
 *     ;; entries are the lesioned neurons' outgoing edges, neurons ascending within a column
 *   (func (export "gatherSubReluT") ...) ;; gatherSubT without the outPre stores
 *
 * max(x, 0) is f64x2.max, the lane-wise twin of the scalar f64.max (same bits as the
 * JavaScript `v > 0 ? v : 0` up to the sign of a zero).
 */
function gatherChunk(sub: boolean, storePre = true): number[] {
  const R = CHUNK_ROWS;
  const nAcc = R / 2;
  const colShift = Math.log2(R * 8);
  // params: h, colStart, ri, w, bias | parent, outPre, outRelu, fanOut, fanIn, chunks, cols, nCols
  const [H, COLSTART, RI, WS, BIAS, OUTPRE, OUTRELU, FANOUT, FANIN, CHUNKS, COLS, NCOLS] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  // locals i32: j, e, end, hp, p (= j · R · 8), c, i (index into cols); v128: accumulators, then the splatted weight
  const [J, E, END, HP, P, C, I] = [12, 13, 14, 15, 16, 17, 18];
  const A = 19;
  const W = A + nAcc;
  const accs = Array.from({ length: nAcc }, (_, q) => q);
  const acc = (q: number) => [...get(A + q), ...get(HP), ...v128Load(16 * q), ...get(W), ...f64x2Mul, ...(sub ? f64x2Sub : f64x2Add), ...set(A + q)];
  const edge = [
    ...get(H),
    ...get(RI),
    ...get(E),
    ...i32(2),
    ...shl,
    ...add,
    ...load32(),
    ...add,
    ...set(HP),
    ...get(WS),
    ...get(E),
    ...i32(3),
    ...shl,
    ...add,
    ...loadF64,
    ...f64x2Splat,
    ...set(W),
    ...accs.flatMap(acc),
  ];
  const init = sub
    ? accs.flatMap((q) => [...get(BIAS), ...get(P), ...add, ...v128Load(16 * q), ...set(A + q)])
    : [...get(BIAS), ...get(J), ...i32(3), ...shl, ...add, ...loadF64, ...f64x2Splat, ...accs.flatMap((q) => (q < nAcc - 1 ? tee(A + q) : set(A + q)))];
  const stores = accs.flatMap((q) => [
    ...(storePre ? [...get(OUTPRE), ...get(P), ...add, ...get(A + q), ...v128Store(16 * q)] : []),
    ...get(OUTRELU),
    ...get(P),
    ...add,
    ...get(A + q),
    ...zeroF64,
    ...f64x2Splat,
    ...f64x2Max,
    ...v128Store(16 * q),
  ]);
  const column = [
    ...get(COLS),
    ...get(I),
    ...i32(2),
    ...shl,
    ...add,
    ...load32(0),
    ...set(J),
    ...get(J),
    ...i32(colShift),
    ...shl,
    ...set(P),
    ...init,
    ...get(COLSTART),
    ...get(J),
    ...i32(2),
    ...shl,
    ...add,
    ...tee(HP),
    ...load32(0),
    ...set(E),
    ...get(HP),
    ...load32(4),
    ...set(END),
    ...forLoop(E, END, edge),
    ...stores,
  ];
  const advance = (param: number, width: number) => [...get(param), ...get(width), ...i32(colShift), ...shl, ...add, ...set(param)];
  const chunk = [
    ...i32(0),
    ...set(I),
    ...forLoop(I, NCOLS, column),
    ...advance(H, FANIN),
    ...advance(OUTPRE, FANOUT),
    ...advance(OUTRELU, FANOUT),
    ...(sub ? advance(BIAS, FANOUT) : []),
  ];
  const body = [...i32(0), ...set(C), ...forLoop(C, CHUNKS, chunk)];
  return [2, 7, I32, nAcc + 1, V128, ...body, 0x0b];
}

function moduleBytes(): Uint8Array<ArrayBuffer> {
  return wasmModule([
    { name: 'gatherT', params: 12, body: gatherChunk(false) },
    { name: 'gatherSubT', params: 12, body: gatherChunk(true) },
    { name: 'gatherSubReluT', params: 12, body: gatherChunk(true, false) },
  ]);
}

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

const compiled = compileOnce(moduleBytes);

/** A kernel instance over a fresh memory of `bytes` bytes, or null where WebAssembly SIMD is unavailable. */
export function createWasmKernel(bytes: number): WasmKernel | null {
  const module = compiled();
  if (!module) return null;
  const memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(bytes / 65536)) });
  const exports = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as Omit<WasmKernel, 'memory'>;
  const { gatherT, gatherSubT, gatherSubReluT } = exports;
  return { memory, gatherT, gatherSubT, gatherSubReluT };
}
