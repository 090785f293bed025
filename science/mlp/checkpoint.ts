/**
 * Checkpoint of a training phase at an epoch end: everything needed to continue bit-identically
 * (weights, Adam moments and step count, pruning masks, epochs done, metrics so far). Data order
 * and dropout masks are pure functions of (seed, epoch) and (seed, step), so no RNG state is stored.
 *
 * Binary layout: the 8 ASCII bytes "MLPCKPT1", a uint32 (little-endian) header length, the header
 * as UTF-8 JSON, zero padding to a multiple of 4, then every float32 array named in
 * `header.arrays` back to back (little-endian).
 */
import type { DenseLayer } from '../weights.ts';
import type { EpochMetrics } from './history.ts';
import type { WeightSnapshot } from './snapshots.ts';

const MAGIC = 'MLPCKPT1';

export interface TrainerState {
  /** Identifies the run configuration; a checkpoint with another fingerprint is not resumed. */
  fingerprint: string;
  epochsDone: number;
  /** Batches done in this phase (the pruning step counter). */
  step: number;
  adamIterations: number;
  history: EpochMetrics[];
  layers: DenseLayer[];
  adamM: Float32Array[];
  adamV: Float32Array[];
  /** Pruning masks, one per kernel (pruning phase only). */
  masks: Float32Array[] | null;
  /** Weight snapshots taken so far (learning curves; empty when the phase keeps none). */
  snapshots: WeightSnapshot[];
}

interface Header {
  fingerprint: string;
  epochsDone: number;
  step: number;
  adamIterations: number;
  history: EpochMetrics[];
  shapes: { fanIn: number; fanOut: number }[];
  hasMasks: boolean;
  /** Epochs of the snapshots whose kernels and biases follow the masks (absent in older checkpoints). */
  snapshotEpochs?: number[];
  arrays: number[];
}

export class CheckpointFormatError extends Error {
  override name = 'CheckpointFormatError';
}

export function encodeCheckpoint(s: TrainerState): Uint8Array {
  const arrays: Float32Array[] = [
    ...s.layers.flatMap((l) => [l.kernel, l.bias]),
    ...s.adamM,
    ...s.adamV,
    ...(s.masks ?? []),
    ...s.snapshots.flatMap((snap) => snap.layers.flatMap((l) => [l.kernel, l.bias])),
  ];
  const header: Header = {
    fingerprint: s.fingerprint,
    epochsDone: s.epochsDone,
    step: s.step,
    adamIterations: s.adamIterations,
    history: s.history,
    shapes: s.layers.map((l) => ({ fanIn: l.fanIn, fanOut: l.fanOut })),
    hasMasks: s.masks !== null,
    snapshotEpochs: s.snapshots.map((snap) => snap.epoch),
    arrays: arrays.map((a) => a.length),
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerEnd = 12 + json.length;
  const dataStart = Math.ceil(headerEnd / 4) * 4;
  const total = dataStart + 4 * arrays.reduce((n, a) => n + a.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode(MAGIC), 0);
  view.setUint32(8, json.length, true);
  out.set(json, 12);
  let at = dataStart;
  for (const a of arrays) {
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at); // platform is little-endian (x86/ARM)
    at += a.byteLength;
  }
  return out;
}

export function decodeCheckpoint(bytes: Uint8Array): TrainerState {
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) throw new CheckpointFormatError('not a training checkpoint (bad magic)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(8, true);
  if (12 + headerLength > bytes.length) throw new CheckpointFormatError('truncated checkpoint header');
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLength))) as Header;
  } catch {
    throw new CheckpointFormatError('unreadable checkpoint header');
  }
  let at = Math.ceil((12 + headerLength) / 4) * 4;
  const expected = at + 4 * header.arrays.reduce((n, len) => n + len, 0);
  if (expected !== bytes.length) throw new CheckpointFormatError(`checkpoint holds ${bytes.length} bytes, header describes ${expected}`);
  const arrays = header.arrays.map((len) => {
    const a = new Float32Array(len);
    new Uint8Array(a.buffer).set(bytes.subarray(at, at + 4 * len));
    at += 4 * len;
    return a;
  });
  const n = header.shapes.length;
  const layers: DenseLayer[] = header.shapes.map((s, i) => ({ fanIn: s.fanIn, fanOut: s.fanOut, kernel: arrays[2 * i], bias: arrays[2 * i + 1] }));
  const params = 2 * n;
  const maskCount = header.hasMasks ? n : 0;
  const snapshotEpochs = header.snapshotEpochs ?? [];
  if (arrays.length !== params * 3 + maskCount + params * snapshotEpochs.length)
    throw new CheckpointFormatError('checkpoint array count does not match its layers');
  const snapshotsStart = 3 * params + maskCount;
  const snapshots = snapshotEpochs.map((epoch, s) => ({
    epoch,
    layers: header.shapes.map((shape, i) => ({
      ...shape,
      kernel: arrays[snapshotsStart + s * params + 2 * i],
      bias: arrays[snapshotsStart + s * params + 2 * i + 1],
    })),
  }));
  return {
    fingerprint: header.fingerprint,
    epochsDone: header.epochsDone,
    step: header.step,
    adamIterations: header.adamIterations,
    history: header.history,
    layers,
    adamM: arrays.slice(params, 2 * params),
    adamV: arrays.slice(2 * params, 3 * params),
    masks: header.hasMasks ? arrays.slice(3 * params, 3 * params + n) : null,
    snapshots,
  };
}
