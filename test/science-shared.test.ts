/** The shared science pieces: seeded RNG, the public weights file, the dataset table. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tableFromIPC, tableToIPC } from 'apache-arrow';
import { Rng, deriveSeed } from '../science/random.ts';
import { weightsFromIPC, weightsToIPC, weightsToTable, type Weights } from '../science/weights.ts';
import { datasetFromTable, datasetToTable, type ImageDataset } from '../science/datasets/table.ts';

test('Rng: same seed gives the same stream, different seeds differ', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const c = new Rng(43);
  const sa = Array.from({ length: 100 }, () => a.nextUint32());
  const sb = Array.from({ length: 100 }, () => b.nextUint32());
  const sc = Array.from({ length: 100 }, () => c.nextUint32());
  assert.deepEqual(sa, sb);
  assert.notDeepEqual(sa, sc);
  // high seed bits matter too (seeds are 53-bit)
  assert.notEqual(new Rng(2 ** 40).nextUint32(), new Rng(2 ** 41).nextUint32());
});

test('Rng: float in [0,1) with a uniform mean, int(n) covers [0,n) evenly', () => {
  const r = new Rng(7);
  let sum = 0;
  const counts = new Array(10).fill(0);
  const n = 100_000;
  for (let i = 0; i < n; i++) {
    const x = r.float();
    assert.ok(x >= 0 && x < 1);
    sum += x;
    counts[r.int(10)]++;
  }
  assert.ok(Math.abs(sum / n - 0.5) < 0.01, `mean ${sum / n}`);
  // chi-square with 9 degrees of freedom: 99.9th percentile ≈ 27.9
  const chi2 = counts.reduce((s, c) => s + (c - n / 10) ** 2 / (n / 10), 0);
  assert.ok(chi2 < 27.9, `chi2 ${chi2}`);
});

test('Rng: permutation is a permutation and shuffles', () => {
  const p = new Rng(1).permutation(1000);
  assert.deepEqual(
    [...p].sort((x, y) => x - y),
    Array.from({ length: 1000 }, (_, i) => i),
  );
  assert.ok(p.some((v, i) => v !== i));
  assert.throws(() => new Rng(-1), /seed/);
  assert.throws(() => new Rng(0.5), /seed/);
});

test('deriveSeed: deterministic, path-sensitive, within [0, 2^53)', () => {
  assert.equal(deriveSeed(5, 1, 2), deriveSeed(5, 1, 2));
  assert.notEqual(deriveSeed(5, 1, 2), deriveSeed(5, 2, 1));
  assert.notEqual(deriveSeed(5, 1), deriveSeed(6, 1));
  const seen = new Set<number>();
  for (let i = 0; i < 10_000; i++) {
    const s = deriveSeed(123, i);
    assert.ok(Number.isSafeInteger(s) && s >= 0);
    seen.add(s);
  }
  assert.equal(seen.size, 10_000);
});

const sampleWeights = (): Weights => ({
  layers: [
    { fanIn: 2, fanOut: 3, kernel: Float32Array.from([1, -2, 3, 0, 0.5, -6]), bias: Float32Array.from([0.25, 0, -1]) },
    { fanIn: 3, fanOut: 1, kernel: Float32Array.from([7, 0, -9]), bias: Float32Array.from([0.125]) },
  ],
  meta: { dataset: 'fashion', dropout: true, run: 3, phase: 'pruned', testAccuracy: 0.875 },
});

test('weights file: round-trips through Arrow IPC with the documented schema', () => {
  const w = sampleWeights();
  const table = tableFromIPC(weightsToIPC(w));
  assert.deepEqual(
    table.schema.fields.map((f) => f.name),
    ['layer', 'fan_in', 'fan_out', 'kernel', 'bias'],
  );
  assert.equal(String(table.schema.fields[3].type), 'List<Float32>');
  assert.equal(table.schema.metadata.get('phase'), 'pruned');
  assert.equal(table.schema.metadata.get('dropout'), 'true');
  const back = weightsFromIPC(weightsToIPC(w));
  assert.deepEqual(back.meta, w.meta);
  assert.equal(back.layers.length, 2);
  back.layers.forEach((l, i) => {
    assert.equal(l.fanIn, w.layers[i].fanIn);
    assert.equal(l.fanOut, w.layers[i].fanOut);
    assert.deepEqual(l.kernel, w.layers[i].kernel);
    assert.deepEqual(l.bias, w.layers[i].bias);
  });
});

test('weights file: shape errors name the layer and the expected size', () => {
  const w = sampleWeights();
  w.layers[1] = { ...w.layers[1], fanIn: 4, kernel: new Float32Array(4) };
  assert.throws(() => weightsToTable(w), /layer 1 fan_in 4 does not match layer 0 fan_out 3/);
  const bad = sampleWeights();
  bad.layers[0].bias = new Float32Array(2);
  assert.throws(() => weightsToTable(bad), /layer 0 bias has 2 values, expected fan_out = 3/);
});

test('dataset table: round-trips uint8 and float32 pixels, labels, splits and sources', () => {
  const img = (n: number, f: (i: number) => number) => Uint8Array.from({ length: n * 784 }, (_, i) => f(i));
  const ds: ImageDataset = {
    name: 'mix',
    sources: ['line', 'mnist'],
    train: { images: img(3, (i) => i % 251), labels: Uint8Array.from([0, 9, 4]), source: Uint8Array.from([0, 1, 1]) },
    test: { images: img(2, (i) => (i * 7) % 256), labels: Uint8Array.from([5, 6]), source: Uint8Array.from([1, 0]) },
  };
  const back = datasetFromTable(tableFromIPC(tableToIPC(datasetToTable(ds), 'file')));
  assert.equal(back.name, 'mix');
  assert.deepEqual(back.sources, ['line', 'mnist']);
  assert.deepEqual(back.train.labels, ds.train.labels);
  assert.deepEqual(back.test.labels, ds.test.labels);
  assert.deepEqual(back.train.images, ds.train.images);
  assert.deepEqual(back.test.images, ds.test.images);
  assert.deepEqual(back.test.source, ds.test.source);

  const gray: ImageDataset = {
    name: 'cifar10',
    train: { images: Float32Array.from({ length: 784 }, (_, i) => i / 3.5), labels: Uint8Array.from([2]) },
    test: { images: new Float32Array(784).fill(254.75), labels: Uint8Array.from([8]) },
  };
  const g = datasetFromTable(tableFromIPC(tableToIPC(datasetToTable(gray), 'file')));
  assert.ok(g.train.images instanceof Float32Array);
  assert.deepEqual(g.train.images, gray.train.images);
  assert.equal(g.test.images[100], 254.75);
  assert.equal(g.train.source, undefined);
});

test('dataset table: wrong image size is a clear error', () => {
  const ds: ImageDataset = {
    name: 'broken',
    train: { images: new Uint8Array(100), labels: Uint8Array.from([1]) },
    test: { images: new Uint8Array(784), labels: Uint8Array.from([1]) },
  };
  assert.throws(() => datasetToTable(ds), /dataset broken: train images hold 100 values, expected 1 × 784/);
});
