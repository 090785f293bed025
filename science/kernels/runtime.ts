/**
 * The thin registration layer of the WebAssembly kernels (after tfjs-backend-wasm): the kernels'
 * bytes come from science/kernels/generated/ (assembled from the .wat sources by
 * `npm run build:kernels`, docs/kernels.md), the wrappers next to the JavaScript they replace
 * compile them here and instantiate them on a memory. Every kernel has a JavaScript twin that gives
 * the same bits, used where WebAssembly (or SIMD) is unavailable.
 */

/** The bytes of a generated kernel module (base64, as science/kernels/generated/ holds them). */
export function kernelBytes(base64: string): Uint8Array<ArrayBuffer> {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * Compile a generated module (base64) once per thread, on first use; null where WebAssembly (or
 * SIMD) is unavailable or the bytes do not validate, so callers fall back to their JavaScript twins.
 */
export function compileOnce(base64: string): () => WebAssembly.Module | null {
  let compiled: WebAssembly.Module | null | undefined;
  return () => {
    if (compiled === undefined) {
      try {
        const bytes = kernelBytes(base64);
        compiled = typeof WebAssembly === 'object' && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
      } catch {
        compiled = null;
      }
    }
    return compiled;
  };
}

/** A fresh memory of at least `bytes` bytes (whole 64 KiB pages, at least one). */
export function kernelMemory(bytes: number): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(bytes / 65536)) });
}

/** The exports of `mod` instantiated on `memory` (every kernel module imports its memory as env.memory). */
export function instantiateOn<T>(mod: WebAssembly.Module, memory: WebAssembly.Memory): T {
  return new WebAssembly.Instance(mod, { env: { memory } }).exports as T;
}

/**
 * A fixed-size WebAssembly memory with a bump allocator: typed-array views for the data a kernel
 * works on, and instances of kernel modules bound to it. The memory never grows, so views stay valid.
 */
export class WasmArena {
  static readonly ALIGN = 16;
  readonly memory: WebAssembly.Memory;
  private used = 0;

  constructor(bytes: number) {
    this.memory = kernelMemory(bytes);
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
    return instantiateOn<T>(mod, this.memory);
  }
}
