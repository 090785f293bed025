/**
 * NumPy .npy (numpy/lib/format.py, "The .npy format"): magic "\x93NUMPY", version, a header
 * length (2 bytes in v1, 4 in v2/v3), a Python dict literal {'descr', 'fortran_order', 'shape'},
 * then the raw data. .npz is a zip of .npy files, named as the arrays, in the order written.
 * Object arrays ('|O') are pickles and are refused.
 */
import { ModelFormatError, checkShape, decodeLittleEndian, numel, type DType, type NamedTensor } from './tensor.ts';
import { readZip } from './zip.ts';

const NPY_DTYPES: Record<string, DType> = {
  f2: 'float16',
  f4: 'float32',
  f8: 'float64',
  i1: 'int8',
  u1: 'uint8',
  i2: 'int16',
  i4: 'int32',
  i8: 'int64',
  b1: 'bool',
};

export const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

export function readNpy(bytes: Uint8Array, name: string, source: string): NamedTensor {
  const what = `${source}: array '${name}'`;
  if (bytes.length < 10 || NPY_MAGIC.some((b, i) => bytes[i] !== b)) throw new ModelFormatError(`${what}: not a .npy array (bad magic)`);
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  if (start + headerLen > bytes.length) throw new ModelFormatError(`${what}: header runs past the end of the file (truncated)`);
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*True/.test(header);
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || shapeText === undefined) throw new ModelFormatError(`${what}: unreadable .npy header`);
  if (descr.includes('O'))
    throw new ModelFormatError(`${what}: an object array (a pickle), which is refused; save each weight matrix as its own numeric array`);
  if (descr.startsWith('>') && !descr.endsWith('1')) throw new ModelFormatError(`${what}: big-endian arrays are not supported`);
  const dtype = NPY_DTYPES[descr.replace(/^[<|=]/, '')];
  if (!dtype) throw new ModelFormatError(`${what}: unsupported dtype '${descr}'`);
  const shape = checkShape(
    shapeText
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map(Number),
    what,
  );
  const count = numel(shape);
  const data = decodeLittleEndian(bytes, start + headerLen, count, dtype, what);
  return { name, shape, dtype, data: fortran ? fromFortran(data, shape) : data };
}

/** Column-major → row-major. */
function fromFortran(data: Float64Array, shape: number[]): Float64Array {
  const out = new Float64Array(data.length);
  const idx = new Array(shape.length).fill(0);
  for (let n = 0; n < data.length; n++) {
    // n walks row-major; the Fortran offset has the first index fastest.
    let f = 0;
    for (let d = shape.length - 1; d >= 0; d--) f = f * shape[d] + idx[d];
    out[n] = data[f];
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

export function readNpz(bytes: Uint8Array, source: string): NamedTensor[] {
  const out: NamedTensor[] = [];
  for (const [entry, data] of readZip(bytes, source)) {
    if (!entry.endsWith('.npy')) throw new ModelFormatError(`${source}: zip entry '${entry}' is not a .npy array`);
    out.push(readNpy(data, entry.slice(0, -4), source));
  }
  return out;
}
