/**
 * safetensors (huggingface/safetensors, "Format"): an 8-byte little-endian header length N, N
 * bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {…}}, then the
 * raw little-endian data; offsets count from the end of the header.
 * The format does not keep insertion order (writers sort the header), so tensors are returned in
 * name order with numbers compared as numbers ("layers.2" before "layers.10").
 */
import { DTYPE_BYTES, ModelFormatError, checkShape, decodeLittleEndian, numel, describeShape, type DType, type NamedTensor } from './tensor.ts';

const SAFETENSORS_DTYPES: Record<string, DType> = {
  F16: 'float16',
  BF16: 'bfloat16',
  F32: 'float32',
  F64: 'float64',
  I8: 'int8',
  U8: 'uint8',
  I16: 'int16',
  I32: 'int32',
  I64: 'int64',
  BOOL: 'bool',
};

export const naturalCompare = (a: string, b: string): number => a.localeCompare(b, 'en', { numeric: true });

/** The header length if `bytes` starts like a safetensors file, else null. */
export function safetensorsHeaderLength(bytes: Uint8Array): number | null {
  if (bytes.length < 10) return null;
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  return n > 1 && n < 1e8 && bytes[8] === 0x7b ? n : null;
}

export function readSafetensors(bytes: Uint8Array, source: string): NamedTensor[] {
  const n = safetensorsHeaderLength(bytes);
  if (n === null || 8 + n > bytes.length) throw new ModelFormatError(`${source}: safetensors header is missing or longer than the file (truncated?)`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new ModelFormatError(`${source}: safetensors header is not valid JSON (${(e as Error).message})`);
  }
  const base = 8 + n;
  const names = Object.keys(header)
    .filter((k) => k !== '__metadata__')
    .sort(naturalCompare);
  return names.map((name) => {
    const h = header[name];
    const what = `${source}: tensor '${name}'`;
    const dtype = SAFETENSORS_DTYPES[h?.dtype];
    if (!dtype) throw new ModelFormatError(`${what}: unsupported dtype '${h?.dtype}'`);
    const shape = checkShape(h.shape ?? [], what);
    const [begin, end] = h.data_offsets ?? [];
    if (end - begin !== numel(shape) * DTYPE_BYTES[dtype])
      throw new ModelFormatError(
        `${what}: data_offsets [${begin}, ${end}] hold ${end - begin} bytes, shape ${describeShape(shape)} of ${dtype} needs ${numel(shape) * DTYPE_BYTES[dtype]}`,
      );
    return { name, shape, dtype, data: decodeLittleEndian(bytes, base + begin, numel(shape), dtype, what) };
  });
}
