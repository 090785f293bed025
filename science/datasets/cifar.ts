/**
 * CIFAR-10, binary version (https://www.cs.toronto.edu/~kriz/cifar.html, "Binary version"):
 * a tar archive (gzipped as served) of cifar-10-batches-bin/{data_batch_1..5,test_batch}.bin,
 * each 10,000 records of 1 label byte + 3072 pixel bytes (1024 R, then 1024 G, then 1024 B,
 * each plane 32×32 row-major).
 *
 * Conversion to the pipeline's 28×28 gray images, exactly as the original code did
 * (`preprocess_batch_cifar10`: `rgb2gray(resize(img, [28, 28], anti_aliasing=True)) * 255`,
 * scikit-image 0.15; see the reference §6):
 * - the uint8 image is scaled to float in [0, 1];
 * - bilinear resize 32→28 with pixel-centre mapping src = (dst + 0.5)·32/28 − 0.5
 *   (skimage `bilinear_interpolation`: interpolate along columns, then rows); the mapped
 *   coordinates stay inside [0, 31], so the boundary mode is never used;
 * - the anti-aliasing Gaussian has σ = (32/28 − 1)/2 ≈ 0.071, whose scipy kernel radius is
 *   int(4σ + 0.5) = 0: a no-op, so it is not applied;
 * - gray = 0.2125 R + 0.7154 G + 0.0721 B (skimage `rgb2gray`), then × 255;
 * - kept unrounded (float64 in the original, float32 here) in [0, 255].
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Parser, type ReadEntry } from 'tar';
import { MalformedFileError } from './errors.ts';
import { IMAGE_SIZE, type Split } from './table.ts';

export const CIFAR_SIDE = 32;
export const CIFAR_PLANE = CIFAR_SIDE * CIFAR_SIDE;
export const CIFAR_RECORD_BYTES = 1 + 3 * CIFAR_PLANE;
export const CIFAR_RECORDS_PER_BATCH = 10000;
const OUT_SIDE = 28;
/** skimage rgb2gray weights (ITU-R BT.709 luma). */
export const GRAY_WEIGHTS = [0.2125, 0.7154, 0.0721] as const;

/**
 * Read the named members of a tar archive (gzipped or not; `tar` detects it) into memory.
 * Members are matched by path with any leading "./" removed; others are skipped.
 */
export async function readTarMembers(source: string | Uint8Array, wanted: readonly string[], label: string): Promise<Map<string, Uint8Array>> {
  const want = new Set(wanted);
  const found = new Map<string, Uint8Array>();
  const pending: Promise<void>[] = [];
  const parser = new Parser({
    strict: true,
    onReadEntry: (entry: ReadEntry) => {
      const path = entry.path.replace(/^\.\//, '');
      if (entry.type !== 'File' || !want.has(path)) {
        entry.resume();
        return;
      }
      const chunks: Buffer[] = [];
      entry.on('data', (c: Buffer) => chunks.push(c));
      pending.push(
        new Promise<void>((resolve) =>
          entry.on('end', () => {
            const all = Buffer.concat(chunks);
            found.set(path, new Uint8Array(all.buffer, all.byteOffset, all.byteLength));
            resolve();
          }),
        ),
      );
    },
  });
  const input = typeof source === 'string' ? createReadStream(source) : Readable.from([Buffer.from(source.buffer, source.byteOffset, source.byteLength)]);
  try {
    await pipeline(input, parser as unknown as NodeJS.WritableStream);
    await Promise.all(pending);
  } catch (e) {
    throw new MalformedFileError(`${label}: not a readable tar archive (${(e as Error).message}); delete the file and fetch it again`);
  }
  return found;
}

/** Source coordinates of the bilinear 32→28 resize: for each output index, the lower source index and the weight of the upper one. */
function resizeTaps(): { lo: Int32Array; frac: Float64Array } {
  const lo = new Int32Array(OUT_SIDE);
  const frac = new Float64Array(OUT_SIDE);
  const scale = CIFAR_SIDE / OUT_SIDE;
  for (let o = 0; o < OUT_SIDE; o++) {
    const src = (o + 0.5) * scale - 0.5;
    lo[o] = Math.floor(src);
    frac[o] = src - lo[o];
  }
  return { lo, frac };
}

const TAPS = resizeTaps();

/**
 * Convert one CIFAR image (3072 planar RGB bytes) into 784 gray values written at `out[at..]`.
 * `scratch` must hold 3 × 784 float64 values (the resized channels).
 */
export function cifarImageToGray(rgb: Uint8Array, out: Float32Array, at: number, scratch = new Float64Array(3 * IMAGE_SIZE)): void {
  const { lo, frac } = TAPS;
  for (let ch = 0; ch < 3; ch++) {
    const plane = ch * CIFAR_PLANE;
    const dst = ch * IMAGE_SIZE;
    for (let r = 0; r < OUT_SIDE; r++) {
      const r0 = lo[r];
      const dr = frac[r];
      const row0 = plane + r0 * CIFAR_SIDE;
      const row1 = row0 + CIFAR_SIDE;
      for (let c = 0; c < OUT_SIDE; c++) {
        const c0 = lo[c];
        const dc = frac[c];
        // skimage interpolation.pxd bilinear_interpolation, on the image scaled to [0, 1]
        const top = (1 - dc) * (rgb[row0 + c0] / 255) + dc * (rgb[row0 + c0 + 1] / 255);
        const bottom = (1 - dc) * (rgb[row1 + c0] / 255) + dc * (rgb[row1 + c0 + 1] / 255);
        scratch[dst + r * OUT_SIDE + c] = (1 - dr) * top + dr * bottom;
      }
    }
  }
  const [wr, wg, wb] = GRAY_WEIGHTS;
  for (let p = 0; p < IMAGE_SIZE; p++) {
    const gray = (scratch[p] * wr + scratch[IMAGE_SIZE + p] * wg + scratch[2 * IMAGE_SIZE + p] * wb) * 255;
    out[at + p] = Math.min(255, Math.max(0, gray));
  }
}

/** Decode CIFAR binary batches (records of 1 label byte + 3072 pixel bytes) into a gray 28×28 split. */
export function cifarBatchesToSplit(batches: readonly { name: string; bytes: Uint8Array }[]): Split {
  let n = 0;
  for (const b of batches) {
    if (b.bytes.length % CIFAR_RECORD_BYTES !== 0)
      throw new MalformedFileError(
        `${b.name}: ${b.bytes.length} bytes is not a whole number of ${CIFAR_RECORD_BYTES}-byte CIFAR records (truncated or not a CIFAR-10 binary batch)`,
      );
    n += b.bytes.length / CIFAR_RECORD_BYTES;
  }
  const images = new Float32Array(n * IMAGE_SIZE);
  const labels = new Uint8Array(n);
  const scratch = new Float64Array(3 * IMAGE_SIZE);
  let i = 0;
  for (const b of batches) {
    for (let off = 0; off < b.bytes.length; off += CIFAR_RECORD_BYTES, i++) {
      const label = b.bytes[off];
      if (label > 9) throw new MalformedFileError(`${b.name}: record ${off / CIFAR_RECORD_BYTES} has label ${label}, outside 0..9`);
      labels[i] = label;
      cifarImageToGray(b.bytes.subarray(off + 1, off + CIFAR_RECORD_BYTES), images, i * IMAGE_SIZE, scratch);
    }
  }
  return { images, labels };
}
