/**
 * Tensors as the model readers hand them over: a name, a shape and the values as Float64 (every
 * supported dtype converts exactly: float16/bfloat16/float32 widen, int64 beyond 2^53 is refused),
 * in row-major (C) order, in the order the file keeps them.
 */

export interface NamedTensor {
  name: string;
  shape: number[];
  data: Float64Array;
  /** The file's dtype name, for messages ("float32", "int64", …). */
  dtype: string;
}

/** A model file that cannot be read or turned into a graph; the message says what and what to do. */
export class ModelFormatError extends Error {
  override name = 'ModelFormatError';
}

export const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export const describeShape = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

/** Element dtypes the readers decode: bytes per element and a decoder of little-endian bytes. */
export type DType = 'float16' | 'bfloat16' | 'float32' | 'float64' | 'int8' | 'uint8' | 'int16' | 'int32' | 'int64' | 'bool';

export const DTYPE_BYTES: Record<DType, number> = {
  float16: 2,
  bfloat16: 2,
  float32: 4,
  float64: 8,
  int8: 1,
  uint8: 1,
  int16: 2,
  int32: 4,
  int64: 8,
  bool: 1,
};

/** IEEE 754 half precision → number (exact). */
function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/**
 * Decode `count` little-endian elements of `dtype` starting at byte `offset` of `bytes`. Throws a
 * ModelFormatError (with `what` in the message) when the bytes are too few.
 */
export function decodeLittleEndian(bytes: Uint8Array, offset: number, count: number, dtype: DType, what: string): Float64Array {
  const size = DTYPE_BYTES[dtype];
  if (offset < 0 || offset + count * size > bytes.length)
    throw new ModelFormatError(
      `${what}: needs ${count * size} bytes of ${dtype} at offset ${offset}, only ${Math.max(0, bytes.length - offset)} present (file truncated?)`,
    );
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, count * size);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const p = i * size;
    switch (dtype) {
      case 'float16':
        out[i] = halfToNumber(view.getUint16(p, true));
        break;
      case 'bfloat16': {
        const f = new DataView(new ArrayBuffer(4));
        f.setUint32(0, view.getUint16(p, true) << 16);
        out[i] = f.getFloat32(0);
        break;
      }
      case 'float32':
        out[i] = view.getFloat32(p, true);
        break;
      case 'float64':
        out[i] = view.getFloat64(p, true);
        break;
      case 'int8':
        out[i] = view.getInt8(p);
        break;
      case 'uint8':
      case 'bool':
        out[i] = view.getUint8(p);
        break;
      case 'int16':
        out[i] = view.getInt16(p, true);
        break;
      case 'int32':
        out[i] = view.getInt32(p, true);
        break;
      case 'int64': {
        const v = view.getBigInt64(p, true);
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) throw new ModelFormatError(`${what}: int64 value ${v} is too large`);
        out[i] = Number(v);
        break;
      }
    }
  }
  return out;
}

/** True for floating-point dtypes (the weights; integer tensors are counters such as num_batches_tracked). */
export const isFloatDType = (dtype: string): boolean => /float|half|double/.test(dtype);

/** Check a shape: non-negative safe integers. */
export function checkShape(shape: readonly number[], what: string): number[] {
  for (const d of shape) if (!Number.isSafeInteger(d) || d < 0) throw new ModelFormatError(`${what}: invalid shape ${describeShape(shape)}`);
  return [...shape];
}
