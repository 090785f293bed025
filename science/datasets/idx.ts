/**
 * IDX files (the MNIST / Fashion-MNIST format, http://yann.lecun.com/exdb/mnist/ "FILE FORMATS"):
 *   bytes 0–1  zero
 *   byte  2    element type (0x08 = unsigned byte; the only one these datasets use)
 *   byte  3    number of dimensions d
 *   then d big-endian uint32 sizes, then the elements in row-major order.
 * Files may be gzipped (as the hosts serve them) or raw; both parse the same.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { MalformedFileError } from './errors.ts';

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

const IDX_TYPE_NAMES: Record<number, string> = { 0x08: 'ubyte', 0x09: 'sbyte', 0x0b: 'short', 0x0c: 'int', 0x0d: 'float', 0x0e: 'double' };

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** The decompressed bytes of a gzip stream, or the bytes unchanged when they are not gzipped. */
export function gunzipIfNeeded(bytes: Uint8Array, label: string): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  try {
    const out = gunzipSync(bytes);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (e) {
    throw new MalformedFileError(`${label}: the gzip stream is truncated or corrupt (${(e as Error).message}); delete the file and fetch it again`);
  }
}

/** Parse an IDX file (gzipped or raw). Only unsigned-byte elements are supported. */
export function parseIdx(file: Uint8Array, label: string): IdxArray {
  const bytes = gunzipIfNeeded(file, label);
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0 || !(bytes[2] in IDX_TYPE_NAMES) || bytes[3] === 0) {
    const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new MalformedFileError(`${label}: not an IDX file (magic bytes ${head || '(empty file)'}, expected 00 00 08 <dimensions>)`);
  }
  if (bytes[2] !== 0x08)
    throw new MalformedFileError(`${label}: IDX element type ${IDX_TYPE_NAMES[bytes[2]]} is not supported (image datasets use unsigned bytes, type 0x08)`);
  const nDims = bytes[3];
  const headerBytes = 4 + 4 * nDims;
  if (bytes.length < headerBytes)
    throw new MalformedFileError(`${label}: truncated IDX file: the header declares ${nDims} dimensions but the file ends after ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < nDims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const available = bytes.length - headerBytes;
  if (available < count)
    throw new MalformedFileError(
      `${label}: truncated IDX file: the header declares ${dims.join(' × ')} = ${count} values but only ${available} bytes follow; delete the file and fetch it again`,
    );
  if (available > count)
    throw new MalformedFileError(
      `${label}: malformed IDX file: ${available - count} unexpected bytes after the ${dims.join(' × ')} values the header declares`,
    );
  return { dims, data: bytes.subarray(headerBytes) };
}

/** Encode an unsigned-byte IDX file (gzipped when asked): used to build fixtures and mirrors. */
export function encodeIdx(dims: readonly number[], data: Uint8Array, opts: { gzip?: boolean } = {}): Uint8Array {
  const count = dims.reduce((a, b) => a * b, 1);
  if (data.length !== count) throw new RangeError(`encodeIdx: ${data.length} values for dimensions ${dims.join(' × ')}`);
  const out = new Uint8Array(4 + 4 * dims.length + count);
  out[2] = 0x08;
  out[3] = dims.length;
  const view = new DataView(out.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  if (!opts.gzip) return out;
  const gz = gzipSync(out);
  return new Uint8Array(gz.buffer, gz.byteOffset, gz.byteLength);
}

/** Images of an IDX file: n × rows × cols unsigned bytes. */
export function idxImages(arr: IdxArray, label: string, size: { rows: number; cols: number } = { rows: 28, cols: 28 }): { n: number; images: Uint8Array } {
  const [n, rows, cols] = arr.dims;
  if (arr.dims.length !== 3 || rows !== size.rows || cols !== size.cols)
    throw new MalformedFileError(`${label}: expected images of ${size.rows} × ${size.cols} (3 dimensions), found dimensions ${arr.dims.join(' × ')}`);
  return { n, images: arr.data };
}

/** Labels of an IDX file: n unsigned bytes, each in [0, classes). */
export function idxLabels(arr: IdxArray, label: string, classes = 10): Uint8Array {
  if (arr.dims.length !== 1) throw new MalformedFileError(`${label}: expected a 1-dimensional label file, found dimensions ${arr.dims.join(' × ')}`);
  for (let i = 0; i < arr.data.length; i++)
    if (arr.data[i] >= classes) throw new MalformedFileError(`${label}: label ${arr.data[i]} at index ${i} is outside 0..${classes - 1}`);
  return arr.data;
}

/**
 * A test set from a pair of IDX files (an external network's, for lesions): images of any
 * n × rows × cols (flattened row-major to rows·cols inputs) and n labels 0..9.
 */
export function idxTestSet(
  imagesFile: Uint8Array,
  labelsFile: Uint8Array,
  imagesLabel: string,
  labelsLabel: string,
): { images: Uint8Array; labels: Uint8Array } {
  const images = parseIdx(imagesFile, imagesLabel);
  if (images.dims.length < 2) throw new MalformedFileError(`${imagesLabel}: expected images (n × rows × cols), found dimensions ${images.dims.join(' × ')}`);
  const labels = idxLabels(parseIdx(labelsFile, labelsLabel), labelsLabel);
  if (labels.length !== images.dims[0])
    throw new MalformedFileError(`${labelsLabel}: ${labels.length} labels for the ${images.dims[0]} images of ${imagesLabel}`);
  if (labels.length === 0) throw new MalformedFileError(`${labelsLabel}: the test set is empty`);
  return { images: images.data, labels };
}
