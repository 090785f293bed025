/** Dataset file formats: IDX (gzipped and raw) and the CIFAR-10 binary archive, on fixtures built here. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create as createTar } from 'tar';
import { encodeIdx, parseIdx, idxImages, idxLabels } from '../science/datasets/idx.ts';
import { cifarBatchesToSplit, readTarMembers, CIFAR_RECORD_BYTES } from '../science/datasets/cifar.ts';
import { MalformedFileError, ChecksumError } from '../science/datasets/errors.ts';
import { loadDownloaded } from '../science/datasets/load.ts';
import { waitForLock } from '../engine/lock.ts';
import type { DownloadedDataset } from '../science/datasets/registry.ts';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

test('IDX: gzipped and raw files round-trip to the same dims and values', () => {
  const data = Uint8Array.from({ length: 3 * 28 * 28 }, (_, i) => (i * 7) % 256);
  for (const gzip of [false, true]) {
    const file = encodeIdx([3, 28, 28], data, { gzip });
    assert.equal(file[0] === 0x1f, gzip, 'gzip magic only when asked');
    const parsed = parseIdx(file, 'fixture');
    assert.deepEqual(parsed.dims, [3, 28, 28]);
    assert.deepEqual(Array.from(parsed.data), Array.from(data));
    const { n, images } = idxImages(parsed, 'fixture');
    assert.equal(n, 3);
    assert.equal(images.length, 3 * 784);
  }
  const labels = parseIdx(encodeIdx([4], Uint8Array.from([0, 9, 3, 3]), { gzip: true }), 'labels');
  assert.deepEqual(Array.from(idxLabels(labels, 'labels')), [0, 9, 3, 3]);
  // header layout: magic 00 00 08 <ndims>, big-endian sizes
  const raw = encodeIdx([2, 3], new Uint8Array(6));
  assert.deepEqual(Array.from(raw.subarray(0, 12)), [0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3]);
});

test('IDX: truncated, wrong-magic, oversized and corrupt-gzip files fail with a clear message naming the file', () => {
  const good = encodeIdx([2, 28, 28], new Uint8Array(2 * 784));
  assert.throws(
    () => parseIdx(good.subarray(0, good.length - 100), 'mnist/train-images'),
    (e: Error) =>
      e instanceof MalformedFileError &&
      /mnist\/train-images: truncated IDX file/.test(e.message) &&
      /2 × 28 × 28 = 1568 values but only 1468 bytes/.test(e.message),
  );
  assert.throws(() => parseIdx(good.subarray(0, 10), 'short'), /short: truncated IDX file: the header declares 3 dimensions/);
  const wrongMagic = good.slice();
  wrongMagic[0] = 0x50;
  wrongMagic[1] = 0x4b;
  assert.throws(
    () => parseIdx(wrongMagic, 'zipfile'),
    (e: Error) => e instanceof MalformedFileError && /zipfile: not an IDX file \(magic bytes 50 4b 08 03/.test(e.message),
  );
  assert.throws(() => parseIdx(new Uint8Array(0), 'empty'), /empty: not an IDX file \(magic bytes \(empty file\)/);
  const extra = new Uint8Array(good.length + 5);
  extra.set(good);
  assert.throws(() => parseIdx(extra, 'padded'), /padded: malformed IDX file: 5 unexpected bytes/);
  const gz = encodeIdx([2, 28, 28], new Uint8Array(2 * 784), { gzip: true });
  assert.throws(
    () => parseIdx(gz.subarray(0, gz.length - 8), 'cut.gz'),
    (e: Error) => e instanceof MalformedFileError && /cut\.gz: the gzip stream is truncated or corrupt/.test(e.message),
  );
  // wrong shapes and labels out of range
  assert.throws(() => idxImages(parseIdx(encodeIdx([2, 32, 32], new Uint8Array(2048)), 'x'), 'x'), /expected images of 28 × 28/);
  assert.throws(() => idxLabels(parseIdx(encodeIdx([2], Uint8Array.from([1, 10])), 'y'), 'y'), /label 10 at index 1 is outside 0\.\.9/);
});

/** A CIFAR record: label then R, G, B planes of 32×32. */
function cifarRecord(label: number, pixel: (ch: number, r: number, c: number) => number): Uint8Array {
  const rec = new Uint8Array(CIFAR_RECORD_BYTES);
  rec[0] = label;
  for (let ch = 0; ch < 3; ch++) for (let r = 0; r < 32; r++) for (let c = 0; c < 32; c++) rec[1 + ch * 1024 + r * 32 + c] = pixel(ch, r, c);
  return rec;
}

const concat = (parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

/**
 * The expected gray value at output (row, col), computed the other way round from the
 * implementation: gray of each source pixel first, then one 2-D bilinear weighting (resize
 * and the gray weighting are both linear, so the order does not matter beyond rounding).
 */
function expectedGray(pixel: (ch: number, r: number, c: number) => number, row: number, col: number): number {
  const gray = (r: number, c: number) => 0.2125 * pixel(0, r, c) + 0.7154 * pixel(1, r, c) + 0.0721 * pixel(2, r, c);
  const y = ((row + 0.5) * 32) / 28 - 0.5;
  const x = ((col + 0.5) * 32) / 28 - 0.5;
  const y0 = Math.floor(y);
  const x0 = Math.floor(x);
  const wy = y - y0;
  const wx = x - x0;
  return (1 - wy) * (1 - wx) * gray(y0, x0) + (1 - wy) * wx * gray(y0, x0 + 1) + wy * (1 - wx) * gray(y0 + 1, x0) + wy * wx * gray(y0 + 1, x0 + 1);
}

const patterns: ((ch: number, r: number, c: number) => number)[] = [
  (ch, r, c) => (ch * 80 + r * 7 + c * 3) % 256,
  (ch, r, c) => ((r * 32 + c) * (ch + 1) * 37) % 256, // high-frequency
  () => 255,
  (ch) => [10, 200, 90][ch],
];

test('CIFAR: 32×32 RGB records convert to 28×28 gray (bilinear, half-pixel centres, 0.2125/0.7154/0.0721), unrounded float32', () => {
  const records = patterns.map((p, i) => cifarRecord(i, p));
  const split = cifarBatchesToSplit([{ name: 'batch', bytes: concat(records) }]);
  assert.ok(split.images instanceof Float32Array);
  assert.deepEqual(Array.from(split.labels), [0, 1, 2, 3]);
  for (let i = 0; i < patterns.length; i++) {
    for (const [r, c] of [
      [0, 0],
      [0, 27],
      [27, 0],
      [27, 27],
      [13, 14],
      [5, 20],
    ]) {
      const got: number = split.images[i * 784 + r * 28 + c];
      const want = expectedGray(patterns[i], r, c);
      assert.ok(Math.abs(got - want) < 1e-3, `image ${i} pixel (${r},${c}): ${got} vs ${want}`);
    }
  }
  // white stays exactly 255 and a flat colour is its luma everywhere
  assert.ok(split.images.subarray(2 * 784, 3 * 784).every((v) => v === 255));
  const flat = 0.2125 * 10 + 0.7154 * 200 + 0.0721 * 90;
  assert.ok(split.images.subarray(3 * 784, 4 * 784).every((v) => Math.abs(v - flat) < 1e-4));
  // values are not rounded to integers
  assert.ok(Array.from(split.images.subarray(0, 784)).some((v) => !Number.isInteger(v)));
  assert.throws(
    () => cifarBatchesToSplit([{ name: 'cut.bin', bytes: concat(records).subarray(0, 5000) }]),
    /cut\.bin: 5000 bytes is not a whole number of 3073-byte CIFAR records/,
  );
});

/** Build a tiny CIFAR-10 binary archive (same member names and layout as the official one). */
async function tinyCifarArchive(
  dir: string,
  gzip: boolean,
): Promise<{ path: string; members: Record<string, string>; trainLabels: number[]; testLabels: number[] }> {
  const src = join(dir, 'src');
  mkdirSync(join(src, 'cifar-10-batches-bin'), { recursive: true });
  const members: Record<string, string> = {};
  const trainLabels: number[] = [];
  const testLabels: number[] = [];
  const batches = ['data_batch_1.bin', 'data_batch_2.bin', 'test_batch.bin'];
  batches.forEach((b, bi) => {
    const recs = [0, 1].map((k) => {
      const label = (bi * 2 + k) % 10;
      (b.startsWith('test') ? testLabels : trainLabels).push(label);
      return cifarRecord(label, patterns[(bi + k) % patterns.length]);
    });
    const bytes = concat(recs);
    writeFileSync(join(src, 'cifar-10-batches-bin', b), bytes);
    members[`cifar-10-batches-bin/${b}`] = sha256(bytes);
  });
  writeFileSync(join(src, 'cifar-10-batches-bin', 'batches.meta.txt'), 'airplane\n');
  const path = join(dir, gzip ? 'cifar-10-binary.tar.gz' : 'cifar-10-binary.tar');
  await createTar({ gzip, file: path, cwd: src, portable: true }, ['cifar-10-batches-bin']);
  return { path, members, trainLabels, testLabels };
}

test('CIFAR: a tiny tar.gz (and a raw .tar) built here loads through the mirror with member digests verified', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nnmod-cifar-'));
  try {
    for (const gzip of [true, false]) {
      const arch = await tinyCifarArchive(join(dir, gzip ? 'gz' : 'raw'), gzip);
      const members = await readTarMembers(arch.path, Object.keys(arch.members), 'fixture');
      assert.equal(members.size, 3);
      const info: DownloadedDataset = {
        kind: 'download',
        name: 'tinycifar',
        title: 'fixture',
        mirrorFolder: 'cifar-10',
        files: [{ kind: 'tar', name: 'cifar-10-binary.tar.gz', members: arch.members }],
        expected: {
          nTrain: 4,
          nTest: 2,
          trainHistogram: Array.from({ length: 10 }, (_, l) => arch.trainLabels.filter((x) => x === l).length),
          testHistogram: Array.from({ length: 10 }, (_, l) => arch.testLabels.filter((x) => x === l).length),
        },
      };
      const mirror = join(dir, gzip ? 'mirror-gz' : 'mirror-raw');
      mkdirSync(join(mirror, 'cifar-10'), { recursive: true });
      writeFileSync(join(mirror, 'cifar-10', gzip ? 'cifar-10-binary.tar.gz' : 'cifar-10-binary.tar'), readFileSync(arch.path));
      const built = await loadDownloaded(info, { seed: 0, downloadsDir: join(dir, 'dl'), mirror, urls: () => [], lock: waitForLock });
      assert.deepEqual(Array.from(built.dataset.train.labels), arch.trainLabels);
      assert.deepEqual(Array.from(built.dataset.test.labels), arch.testLabels);
      assert.equal(built.dataset.train.images.length, 4 * 784);
      // first train image is pattern 0: spot-check against the independent formula
      assert.ok(Math.abs(built.dataset.train.images[13 * 28 + 14] - expectedGray(patterns[0], 13, 14)) < 1e-3);
      assert.equal(built.digests['tinycifar/cifar-10-batches-bin/test_batch.bin'], arch.members['cifar-10-batches-bin/test_batch.bin']);
      assert.match(built.origins['tinycifar/cifar-10-binary.tar.gz'], /^mirror /);

      // a wrong member digest is reported with expected and actual digests
      const bad = {
        ...info,
        files: [{ kind: 'tar' as const, name: 'cifar-10-binary.tar.gz', members: { ...arch.members, 'cifar-10-batches-bin/test_batch.bin': '0'.repeat(64) } }],
      };
      await assert.rejects(
        loadDownloaded(bad, { seed: 0, downloadsDir: join(dir, 'dl'), mirror, urls: () => [], lock: waitForLock }),
        (e: Error) => /test_batch\.bin: expected 0{64}, got [0-9a-f]{64}/.test(e.message) && /mirror file/.test(e.message),
      );
    }
    // a truncated archive is reported as such
    const arch = await tinyCifarArchive(join(dir, 'cut'), true);
    const bytes = readFileSync(arch.path);
    writeFileSync(arch.path, bytes.subarray(0, bytes.length >> 1));
    await assert.rejects(
      readTarMembers(arch.path, Object.keys(arch.members), 'cut.tar.gz'),
      (e: Error) => e instanceof MalformedFileError && /cut\.tar\.gz: not a readable tar archive/.test(e.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ChecksumError keeps expected and actual digests', () => {
  const e = new ChecksumError('x', 'a', 'b');
  assert.equal(e.expected, 'a');
  assert.equal(e.actual, 'b');
  assert.equal(e.exitCode, 1);
  assert.equal(e.name, 'ChecksumError');
});
