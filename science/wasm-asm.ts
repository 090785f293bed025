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
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
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
