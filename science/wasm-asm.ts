/**
 * A small vocabulary for hand-assembling WebAssembly modules (no compiler is available to the
 * project): opcodes and encodings from the WebAssembly Core Specification 2.0, binary format
 * (§5; SIMD opcodes 0xfd-prefixed). Used by the lesion and the spectral kernels, which keep
 * their JavaScript twins as references and fallbacks.
 */

export const I32 = 0x7f;
export const F64 = 0x7c;
export const V128 = 0x7b;

/** Unsigned LEB128 (sizes, indices, memory offsets). */
export function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (i32.const immediates). */
export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    const done = (n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0);
    out.push(done ? b : b | 0x80);
    if (done) return out;
  }
}

export const get = (i: number) => [0x20, i];
export const set = (i: number) => [0x21, i];
export const tee = (i: number) => [0x22, i];
export const i32 = (v: number) => [0x41, ...sleb(v)];
export const add = [0x6a];
export const mul = [0x6c];
export const shl = [0x74];
export const geU = [0x4f];
export const storeF64 = [0x39, 3, 0];
export const zeroF64 = [0x44, 0, 0, 0, 0, 0, 0, 0, 0];
export const simd = (code: number, ...imm: number[]) => [0xfd, ...leb(code), ...imm];
export const v128Load = (offset = 0) => simd(0x00, 4, ...leb(offset));

export interface WasmFunction {
  name: string;
  /** Number of i32 parameters (the kernels take pointers and sizes only and return nothing). */
  params: number;
  /** Locals declarations and body, ending with `end` (0x0b). */
  body: number[];
}

/** A module that imports its memory as env.memory and exports the given functions. */
export function wasmModule(funcs: readonly WasmFunction[]): Uint8Array<ArrayBuffer> {
  const section = (id: number, bytes: number[]) => [id, ...leb(bytes.length), ...bytes];
  const name = (s: string) => [...leb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
  const arities = [...new Set(funcs.map((f) => f.params))];
  const types = arities.flatMap((n) => [0x60, ...leb(n), ...new Array(n).fill(I32), 0]);
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    1,
    0,
    0,
    0,
    ...section(1, [...leb(arities.length), ...types]),
    ...section(2, [1, ...name('env'), ...name('memory'), 0x02, 0x00, 1]),
    ...section(3, [...leb(funcs.length), ...funcs.map((f) => arities.indexOf(f.params))]),
    ...section(7, [...leb(funcs.length), ...funcs.flatMap((f, i) => [...name(f.name), 0x00, ...leb(i)])]),
    ...section(10, [...leb(funcs.length), ...funcs.flatMap((f) => [...leb(f.body.length), ...f.body])]),
  ]);
}

/**
 * Compile a module once per thread, on first use; null where WebAssembly (or SIMD) is
 * unavailable or the bytes do not validate, so callers fall back to their JavaScript twins.
 */
export function compileOnce(build: () => Uint8Array<ArrayBuffer>): () => WebAssembly.Module | null {
  let compiled: WebAssembly.Module | null | undefined;
  return () => {
    if (compiled === undefined) {
      try {
        const bytes = build();
        compiled = typeof WebAssembly === 'object' && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
      } catch {
        compiled = null;
      }
    }
    return compiled;
  };
}

// More opcodes (Core Specification 2.0, §5.4): loads/stores take (alignment log2, offset).
export const loadI32 = (offset = 0) => [0x28, 2, ...leb(offset)];
export const storeI32 = (offset = 0) => [0x36, 2, ...leb(offset)];
export const loadF64 = (offset = 0) => [0x2b, 3, ...leb(offset)];
export const storeF64At = (offset = 0) => [0x39, 3, ...leb(offset)];
export const f64Const = (v: number) => [0x44, ...new Uint8Array(Float64Array.of(v).buffer)];
export const fAdd = [0xa0];
export const fSub = [0xa1];
export const fMul = [0xa2];
export const fSqrt = [0x9f];
export const fLt = [0x63];
export const fGt = [0x64];
export const fLe = [0x65];
export const fGe = [0x66];
export const eqI32 = [0x46];
export const neI32 = [0x47];
export const ltU = [0x49];
export const sub = [0x6b];
export const select = [0x1b];
export const block = [0x02, 0x40];
export const loop = [0x03, 0x40];
export const ifVoid = [0x04, 0x40];
export const elseOp = [0x05];
export const end = [0x0b];
export const br = (depth: number) => [0x0c, depth];
export const brIf = (depth: number) => [0x0d, depth];
export const fNeg = [0x9a];
export const fNe = [0x62];
export const maxF64 = [0xa5];
export const andI32 = [0x71];
export const shrU = [0x76];
export const loadF32 = [0x2a, 2, 0];
export const promote = [0xbb];

// SIMD: v128 memory lanes and f64x2 arithmetic (0xfd-prefixed, §5.4.8).
export const v128Store = (offset = 0) => simd(0x0b, 4, ...leb(offset));
export const load64Zero = (offset = 0) => simd(0x5d, 3, ...leb(offset));
export const store64Lane0 = (offset = 0) => simd(0x5b, 3, ...leb(offset), 0);
export const promoteLow = simd(0x5f);
export const demoteZero = simd(0x5e);
export const f64x2Splat = simd(0x14);
export const f64x2Extract = (lane: number) => simd(0x21, lane);
export const f64x2Replace = (lane: number) => simd(0x22, lane);
export const f64x2Add = simd(0xf0);
export const f64x2Sub = simd(0xf1);
export const f64x2Mul = simd(0xf2);
export const f64x2Div = simd(0xf3);
export const f64x2Sqrt = simd(0xef);

/** `while (local[i] < local[n]) { body; local[i] += step }` (unsigned compare). */
export const forLoop = (i: number, n: number, step: number, body: number[]) => [
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
  ...i32(step),
  ...add,
  ...set(i),
  0x0c,
  0,
  0x0b,
  0x0b,
];

/**
 * A fixed-size WebAssembly memory with a bump allocator: typed-array views for the data a kernel
 * works on, and instances of kernel modules bound to it. The memory never grows, so views stay valid.
 */
export class WasmArena {
  static readonly ALIGN = 16;
  readonly memory: WebAssembly.Memory;
  private used = 0;

  constructor(bytes: number) {
    this.memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(bytes / 65536)) });
  }

  /** Bytes an array of `length` elements of `elementBytes` bytes takes (aligned). */
  static bytesFor(length: number, elementBytes: number): number {
    return Math.ceil((length * elementBytes) / WasmArena.ALIGN) * WasmArena.ALIGN;
  }

  private take(bytes: number): number {
    const at = this.used;
    this.used += WasmArena.bytesFor(bytes, 1);
    if (this.used > this.memory.buffer.byteLength) throw new RangeError(`WasmArena: out of space (${this.used} > ${this.memory.buffer.byteLength} bytes)`);
    return at;
  }

  int32(length: number): Int32Array {
    return new Int32Array(this.memory.buffer, this.take(length * 4), length);
  }

  float64(length: number): Float64Array {
    return new Float64Array(this.memory.buffer, this.take(length * 8), length);
  }

  /** The exports of `mod` instantiated on this memory. */
  instantiate<T>(mod: WebAssembly.Module): T {
    return new WebAssembly.Instance(mod, { env: { memory: this.memory } }).exports as T;
  }
}
