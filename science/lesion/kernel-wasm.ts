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
import { I32, V128, add, geU, get, i32, leb, set, shl, tee, v128Load, wasmModule, zeroF64, compileOnce, f64x2Splat, f64x2Add, f64x2Mul, f64x2Sub, v128Store, simd } from '../wasm-asm.ts';

/** Lane-wise f64.max (§5.4.8; NaN-propagating, max(−0, +0) = +0), the SIMD twin of maxF64. */
const f64x2Max = simd(0xf5);
const load32 = (offset = 0) => [0x28, 2, ...leb(offset)];
const loadF64 = [0x2b, 3, 0];
/** `while (local[i] < local[n]) { body; local[i]++ }` (unsigned compare). */
const forLoop = (i: number, n: number, body: number[]) => [0x02, 0x40, 0x03, 0x40, ...get(i), ...get(n), ...geU, 0x0d, 1, ...body, ...get(i), ...i32(1), ...add, ...set(i), 0x0c, 0, 0x0b, 0x0b];

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
 *   (func (export "gatherT") (param $h $colStart $ri $w $bias $outPre $outRelu $fanOut $fanIn $chunks i32)
 *     ;; per chunk, for j < fanOut: acc[0..7] = bias[j]; acc[t] += h[ri[e] + t] · w[e] over j's
 *     ;; edges in order; outPre[j·8 + t] = acc[t]; outRelu[j·8 + t] = max(acc[t], 0)
 *     ;; then h += fanIn·64, outPre/outRelu += fanOut·64
 *   (func (export "gatherSubT") (param $h $colStart $ri $w $parent $outPre $outRelu $fanOut $fanIn $chunks i32)
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
  // params 0 h, 1 colStart, 2 ri, 3 w, 4 bias | parent, 5 outPre, 6 outRelu, 7 fanOut, 8 fanIn, 9 chunks
  // locals i32: 10 j, 11 e, 12 end, 13 hp, 14 p (= j · R · 8), 15 c; v128: 16.. accumulators, then the splatted weight
  const A = 16;
  const W = A + nAcc;
  const accs = Array.from({ length: nAcc }, (_, q) => q);
  const acc = (q: number) => [...get(A + q), ...get(13), ...v128Load(16 * q), ...get(W), ...f64x2Mul, ...(sub ? f64x2Sub : f64x2Add), ...set(A + q)];
  const edge = [
    ...get(0), ...get(2), ...get(11), ...i32(2), ...shl, ...add, ...load32(), ...add, ...set(13),
    ...get(3), ...get(11), ...i32(3), ...shl, ...add, ...loadF64, ...f64x2Splat, ...set(W),
    ...accs.flatMap(acc),
  ];
  const init = sub
    ? accs.flatMap((q) => [...get(4), ...get(14), ...add, ...v128Load(16 * q), ...set(A + q)])
    : [...get(4), ...get(10), ...i32(3), ...shl, ...add, ...loadF64, ...f64x2Splat, ...accs.flatMap((q) => (q < nAcc - 1 ? tee(A + q) : set(A + q)))];
  const stores = accs.flatMap((q) => [
    ...(storePre ? [...get(5), ...get(14), ...add, ...get(A + q), ...v128Store(16 * q)] : []),
    ...get(6), ...get(14), ...add, ...get(A + q), ...zeroF64, ...f64x2Splat, ...f64x2Max, ...v128Store(16 * q),
  ]);
  const column = [
    ...get(10), ...i32(colShift), ...shl, ...set(14),
    ...init,
    ...get(1), ...get(10), ...i32(2), ...shl, ...add, ...tee(13), ...load32(0), ...set(11),
    ...get(13), ...load32(4), ...set(12),
    ...forLoop(11, 12, edge),
    ...stores,
  ];
  const advance = (param: number, width: number) => [...get(param), ...get(width), ...i32(colShift), ...shl, ...add, ...set(param)];
  const chunk = [
    ...i32(0), ...set(10), ...forLoop(10, 7, column),
    ...advance(0, 8), ...advance(5, 7), ...advance(6, 7), ...(sub ? advance(4, 7) : []),
  ];
  const body = [...i32(0), ...set(15), ...forLoop(15, 9, chunk)];
  return [2, 6, I32, nAcc + 1, V128, ...body, 0x0b];
}

function moduleBytes(): Uint8Array<ArrayBuffer> {
  return wasmModule([
    { name: 'gatherT', params: 10, body: gatherChunk(false) },
    { name: 'gatherSubT', params: 10, body: gatherChunk(true) },
    { name: 'gatherSubReluT', params: 10, body: gatherChunk(true, false) },
  ]);
}

export interface WasmKernel {
  memory: WebAssembly.Memory;
  /** `chunks` chunks of CHUNK_ROWS rows, chunked layout: outPre = bias + Σ h·w, outRelu = max(outPre, 0). */
  gatherT(h: number, colStart: number, ri: number, w: number, bias: number, outPre: number, outRelu: number, fanOut: number, fanIn: number, chunks: number): void;
  /** The same from the parent's pre-activations: outPre = parent − Σ h·w (the rank-|G| update). */
  gatherSubT(h: number, colStart: number, ri: number, w: number, parent: number, outPre: number, outRelu: number, fanOut: number, fanIn: number, chunks: number): void;
  /** gatherSubT storing only the ReLU (outPre unused): below the logits nothing reads a lesioned level's pre-activations. */
  gatherSubReluT(h: number, colStart: number, ri: number, w: number, parent: number, outPre: number, outRelu: number, fanOut: number, fanIn: number, chunks: number): void;
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
