/** Generated datasets (LINES, RANDOM, MEMORIZATION) and mixtures: sizes, labels, rules, determinism. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { tableFromIPC, tableToIPC } from 'apache-arrow';
import { generateLines, generateRandom, memorizationFrom } from '../science/datasets/generate.ts';
import { mixDatasets } from '../science/datasets/mix.ts';
import { buildDataset } from '../science/datasets/load.ts';
import { waitForLock } from '../engine/lock.ts';
import { DATASETS, type DatasetInfo } from '../science/datasets/registry.ts';
import { datasetFromTable, datasetToTable, type ImageDataset, type Split } from '../science/datasets/table.ts';

const digest = (ds: ImageDataset) =>
  createHash('sha256')
    .update(tableToIPC(datasetToTable(ds), 'file'))
    .digest('hex');
const image = (s: Split, i: number) => s.images.subarray(i * 784, (i + 1) * 784);

test('LINES: 1–10 distinct full-height vertical lines, label = count − 1, all ten labels occur', () => {
  const ds = generateLines(42, 2000, 300);
  assert.equal(ds.train.labels.length, 2000);
  assert.equal(ds.test.labels.length, 300);
  assert.ok(ds.train.images instanceof Uint8Array);
  for (const split of [ds.train, ds.test]) {
    for (let i = 0; i < split.labels.length; i++) {
      const img = image(split, i);
      let lines = 0;
      for (let col = 0; col < 28; col++) {
        const column = Array.from({ length: 28 }, (_, r) => img[r * 28 + col]);
        assert.ok(column.every((v) => v === column[0]) && (column[0] === 0 || column[0] === 255), `image ${i} column ${col} is all 0 or all 255`);
        if (column[0] === 255) lines++;
      }
      assert.ok(lines >= 1 && lines <= 10);
      assert.equal(split.labels[i], lines - 1);
    }
  }
  assert.equal(new Set(ds.train.labels).size, 10);
});

test('RANDOM: uniform pixels over 0..255 and labels over 0..9, independent of each other; MEMORIZATION = first 3000 train + full test', () => {
  const ds = generateRandom(42, 4000, 500);
  assert.equal(ds.train.images.length, 4000 * 784);
  const pixelCounts = new Array(256).fill(0);
  for (const v of ds.train.images) pixelCounts[v]++;
  const expected = ds.train.images.length / 256;
  assert.ok(
    pixelCounts.every((c) => Math.abs(c - expected) < 0.1 * expected),
    'every byte value about equally common',
  );
  const labelCounts = new Array(10).fill(0);
  for (const l of ds.train.labels) labelCounts[l]++;
  assert.ok(labelCounts.every((c) => c > 300 && c < 500));
  // labels unrelated to pixels: mean pixel per label all close to 127.5
  for (let l = 0; l < 10; l++) {
    let sum = 0;
    let n = 0;
    for (let i = 0; i < 4000; i++) if (ds.train.labels[i] === l) for (const v of image(ds.train, i)) (sum += v), n++;
    assert.ok(Math.abs(sum / n - 127.5) < 2, `label ${l} mean pixel ${sum / n}`);
  }
  const mem = memorizationFrom(ds, 3000);
  assert.equal(mem.train.labels.length, 3000);
  assert.deepEqual(mem.train.images, ds.train.images.subarray(0, 3000 * 784));
  assert.deepEqual(mem.train.labels, ds.train.labels.subarray(0, 3000));
  assert.equal(mem.test, ds.test);
});

test('determinism: same seed → identical table bytes; another seed → different data', () => {
  assert.equal(digest(generateLines(42, 500, 100)), digest(generateLines(42, 500, 100)));
  assert.notEqual(digest(generateLines(42, 500, 100)), digest(generateLines(43, 500, 100)));
  assert.equal(digest(generateRandom(7, 300, 50)), digest(generateRandom(7, 300, 50)));
  assert.notEqual(digest(generateRandom(7, 300, 50)), digest(generateRandom(8, 300, 50)));
  // LINES and RANDOM draw from different streams of the same seed
  assert.notDeepEqual(generateLines(1, 10, 1).train.labels, generateRandom(1, 10, 1).train.labels);
});

/** A stand-in "digits" dataset whose pixels encode (label, index), so rows can be traced. */
function traced(name: string, n: number, nTest: number, float = false): ImageDataset {
  const make = (count: number, offset: number): Split => {
    const images = float ? new Float32Array(count * 784) : new Uint8Array(count * 784);
    const labels = new Uint8Array(count);
    for (let i = 0; i < count; i++) {
      labels[i] = (i * 3 + offset) % 10;
      images[i * 784] = labels[i];
      images[i * 784 + 1] = (i + offset) % 256;
      images[i * 784 + 2] = float ? 0.5 : name.length;
    }
    return { images, labels };
  };
  return { name, train: make(n, 0), test: make(nTest, 1) };
}

test('mixtures: overlapping keeps all of both; separated keeps labels 0–4 of the first and 5–9 of the second; shuffled; source column', () => {
  const a = traced('aaaa', 200, 50);
  const b = traced('bb', 300, 60, true);
  const over = mixDatasets('a-b', a, b, false, 42);
  assert.deepEqual(over.sources, ['aaaa', 'bb']);
  assert.equal(over.train.labels.length, 500);
  assert.equal(over.test.labels.length, 110);
  assert.ok(over.train.images instanceof Float32Array, 'a float source makes the mixture float');
  const count = (s: Split, src: number) => s.source!.filter((x) => x === src).length;
  assert.equal(count(over.train, 0), 200);
  assert.equal(count(over.train, 1), 300);
  // each row carries its source's own pixels and label; the marker pixel says which source
  for (const s of [over.train, over.test]) {
    for (let i = 0; i < s.labels.length; i++) {
      const img = image(s, i);
      assert.equal(img[0], s.labels[i]);
      assert.equal(img[2], s.source![i] === 0 ? 4 : 0.5);
    }
  }
  // shuffled: the sources are interleaved, not two blocks
  const firstHalfSources = new Set(over.train.source!.subarray(0, 100));
  assert.equal(firstHalfSources.size, 2);

  const sep = mixDatasets('a-b-separated', a, b, true, 42);
  for (const s of [sep.train, sep.test]) {
    for (let i = 0; i < s.labels.length; i++) assert.equal(s.source![i], s.labels[i] < 5 ? 0 : 1, 'labels 0–4 from the first, 5–9 from the second');
  }
  const expectedTrain = a.train.labels.filter((l) => l < 5).length + b.train.labels.filter((l) => l >= 5).length;
  assert.equal(sep.train.labels.length, expectedTrain);
  assert.equal(new Set(sep.train.labels).size, 10);
  // same seed, same mixture; another seed shuffles differently
  assert.equal(digest(mixDatasets('m', a, b, true, 42)), digest(mixDatasets('m', a, b, true, 42)));
  assert.notEqual(digest(mixDatasets('m', a, b, true, 42)), digest(mixDatasets('m', a, b, true, 43)));
  // round trip through the table keeps the source column and the sources metadata
  const back = datasetFromTable(tableFromIPC(tableToIPC(datasetToTable(sep), 'file')));
  assert.deepEqual(back.sources, ['aaaa', 'bb']);
  assert.deepEqual(back.train.source, sep.train.source);
  assert.deepEqual(back.test.labels, sep.test.labels);
});

test('buildDataset: generated names and mixtures from a small registry; memorization is the start of random; unknown names fail clearly', async () => {
  const small = (n: string): DatasetInfo =>
    ({
      ...(DATASETS.get(n) as DatasetInfo),
      ...(n === 'line' || n === 'random' ? { nTrain: 400, nTest: 100 } : {}),
      ...(n === 'memorization' ? { nTrain: 30, nTest: 100 } : {}),
    }) as DatasetInfo;
  const registry = new Map<string, DatasetInfo>(['line', 'random', 'memorization'].map((n) => [n, small(n)]));
  registry.set('line-random-separated', { kind: 'mixture', name: 'line-random-separated', title: 'fixture', sources: ['line', 'random'], separated: true });
  const env = { seed: 42, downloadsDir: '/nonexistent', registry, lock: waitForLock };
  const random = (await buildDataset('random', env)).dataset;
  const mem = (await buildDataset('memorization', env)).dataset;
  assert.equal(mem.name, 'memorization');
  assert.deepEqual(mem.train.labels, random.train.labels.subarray(0, 30));
  assert.deepEqual(mem.test.images, random.test.images);
  const mix = await buildDataset('line-random-separated', env);
  assert.equal(mix.dataset.name, 'line-random-separated');
  assert.deepEqual(mix.digests, {}, 'no files behind generated sources');
  const line = (await buildDataset('line', env)).dataset;
  const expected = line.train.labels.filter((l) => l < 5).length + random.train.labels.filter((l) => l >= 5).length;
  assert.equal(mix.dataset.train.labels.length, expected);
  assert.equal(digest(mix.dataset), digest((await buildDataset('line-random-separated', env)).dataset));
  await assert.rejects(buildDataset('mnsit', env), /unknown dataset 'mnsit'; known datasets: line, random/);
});

test('the registry names every dataset of the contract', () => {
  const names = [...DATASETS.keys()].sort();
  const mixtures = ['line-mnist', 'line-cifar10', 'mnist-cifar10'].flatMap((m) => [m, `${m}-separated`]);
  assert.deepEqual(names, ['mnist', 'fashion', 'cifar10', 'line', 'random', 'memorization', ...mixtures].sort());
  assert.equal(DATASETS.get('memorization')!.kind === 'generated' && (DATASETS.get('memorization') as { nTrain: number }).nTrain, 3000);
});
