/**
 * The `datasets` stage (matrix, key-relevant params, run with a hand-built context) and the real
 * MNIST / Fashion-MNIST files from the offline mirror ../shared/datasets (skipped when absent).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tableFromIPC, tableToIPC, type Table } from 'apache-arrow';
import { datasetsStage } from '../stages/datasets.ts';
import { datasetsParams } from '../stages/params/datasets.ts';
import type { Params } from '../stages/params/index.ts';
import { paramPaths } from '../engine/graph.ts';
import { buildDataset, labelHistogram } from '../science/datasets/load.ts';
import { waitForLock } from '../engine/lock.ts';
import { FASHION, MNIST } from '../science/datasets/registry.ts';
import { datasetFromTable } from '../science/datasets/table.ts';
import type { RunContext, StageKey } from '../engine/types.ts';

const MIRROR = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../shared/datasets');
const haveMirror = existsSync(join(MIRROR, 'mnist')) && existsSync(join(MIRROR, 'fashion-mnist'));
const skipMirror = haveMirror ? false : `offline dataset mirror not found at ${MIRROR}`;

function ctxFor(dataset: string, params: { seed?: number }, downloadsDir: string): RunContext {
  return {
    stage: 'datasets',
    key: 'test' as StageKey,
    axes: { dataset },
    params,
    inputs: {},
    runtime: {},
    seed: 1,
    progress: () => {},
    checkpoint: { load: async () => undefined, save: async () => {} },
    downloadsDir,
    signal: new AbortController().signal,
  };
}

test('stage declaration: one instance per listed name; only generated datasets and mixtures carry the seed', () => {
  assert.equal(datasetsStage.name, 'datasets');
  assert.deepEqual(datasetsStage.outputs, ['table']);
  const params = { datasets: { names: ['mnist', 'line', 'line-cifar10-separated'], seed: 42 } } as Params;
  assert.deepEqual(datasetsStage.matrix!(params), [{ dataset: 'mnist' }, { dataset: 'line' }, { dataset: 'line-cifar10-separated' }]);
  assert.deepEqual(paramPaths(datasetsStage, params), ['datasets.seed']);
  // Downloaded datasets never read the seed, so changing it never rebuilds MNIST.
  assert.deepEqual(paramPaths(datasetsStage, { datasets: { names: ['mnist', 'cifar10'], seed: 42 } }), []);
  assert.deepEqual(datasetsStage.params!(params, { dataset: 'mnist' }), {});
  assert.deepEqual(datasetsStage.params!(params, { dataset: 'cifar10' }), {});
  assert.deepEqual(datasetsStage.params!(params, { dataset: 'line' }), { seed: 42 });
  assert.deepEqual(datasetsStage.params!(params, { dataset: 'mnist-cifar10' }), { seed: 42 });
});

test('params section: names must be known and distinct; seed a non-negative integer', () => {
  assert.ok(datasetsParams.safeParse({ names: ['mnist', 'fashion'], seed: 42 }).success);
  assert.ok(!datasetsParams.safeParse({ names: ['mnsit'], seed: 42 }).success);
  assert.ok(!datasetsParams.safeParse({ names: ['mnist', 'mnist'], seed: 42 }).success);
  assert.ok(!datasetsParams.safeParse({ names: [], seed: 42 }).success);
  assert.ok(!datasetsParams.safeParse({ names: ['line'], seed: -1 }).success);
  assert.ok(!datasetsParams.safeParse({ names: ['line'], seed: 42, extra: 1 }).success);
});

test('stage run: generated dataset → Arrow table with the documented schema, deterministic bytes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nnmod-stage-'));
  try {
    const run = async () =>
      (await datasetsStage.run(ctxFor('memorization', { seed: 42 }, dir))) as { outputs: { table: Table }; metrics: Record<string, unknown> };
    const a = await run();
    const b = await run();
    assert.deepEqual(a.metrics, { n_train: 3000, n_test: 10000 });
    const t = a.outputs.table;
    assert.deepEqual(
      t.schema.fields.map((f) => `${f.name}:${f.type}`),
      ['split:Utf8', 'label:Uint8', 'pixels:FixedSizeList[784]<Uint8>'],
    );
    assert.equal(t.schema.metadata.get('name'), 'memorization');
    assert.deepEqual(tableToIPC(a.outputs.table, 'file'), tableToIPC(b.outputs.table, 'file'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('mirror: MNIST and Fashion-MNIST load with the right counts and label histograms', { skip: skipMirror }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nnmod-mirror-'));
  try {
    for (const info of [MNIST, FASHION]) {
      const built = await buildDataset(info.name, { seed: 42, downloadsDir: dir, mirror: MIRROR, urls: () => [], lock: waitForLock });
      const ds = built.dataset;
      assert.equal(ds.train.labels.length, 60000);
      assert.equal(ds.test.labels.length, 10000);
      assert.deepEqual(labelHistogram(ds.train.labels), info.expected.trainHistogram);
      assert.deepEqual(labelHistogram(ds.test.labels), info.expected.testHistogram);
      assert.ok(ds.train.images instanceof Uint8Array);
      for (const f of info.files) if (f.kind === 'idx') assert.equal(built.digests[`${info.name}/${f.name.replace(/\.gz$/, '')}`], f.contentSha256);
    }
    assert.equal(
      labelHistogram((await buildDataset('mnist', { seed: 0, downloadsDir: dir, mirror: MIRROR, lock: waitForLock })).dataset.train.labels)[0],
      5923,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('mirror: stage run for line-mnist-separated reads NNMOD_MIRROR; metrics list the verified digests', { skip: skipMirror }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nnmod-mirror-'));
  const saved = process.env.NNMOD_MIRROR;
  process.env.NNMOD_MIRROR = MIRROR;
  try {
    const result = await datasetsStage.run(ctxFor('line-mnist-separated', { seed: 42 }, dir));
    const metrics = result.metrics!;
    assert.equal(metrics['sha256:mnist/train-images-idx3-ubyte'], MNIST.files[0].kind === 'idx' ? MNIST.files[0].contentSha256 : '');
    const ds = datasetFromTable(tableFromIPC(tableToIPC(result.outputs.table as Table, 'file')));
    assert.deepEqual(ds.sources, ['line', 'mnist']);
    assert.equal(metrics.n_train, ds.train.labels.length);
    // LINE labels 0–4 (about half of 60k) + MNIST labels 5–9 (29,404)
    const mnistHigh = MNIST.expected.trainHistogram.slice(5).reduce((a, b) => a + b, 0);
    assert.equal(ds.train.source!.filter((s) => s === 1).length, mnistHigh);
    assert.ok(ds.train.labels.every((l, i) => l < 5 === (ds.train.source![i] === 0)));
  } finally {
    if (saved === undefined) delete process.env.NNMOD_MIRROR;
    else process.env.NNMOD_MIRROR = saved;
    rmSync(dir, { recursive: true, force: true });
  }
});
