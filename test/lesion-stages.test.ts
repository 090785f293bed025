/** The lesion stages (issue 6) run with hand-built contexts on a tiny network: wiring, sharding, determinism. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { parse } from 'yaml';
import { tableToIPC, type Table } from 'apache-arrow';
import {
  defineStage,
  type Axes,
  type CombineContext,
  type Digest,
  type InputArtifact,
  type InputInstance,
  type RunContext,
  type Seed,
  type StageDef,
  type StageKey,
} from '../engine/types.ts';
import { Rng, deriveSeed } from '../science/random.ts';
import { weightsToTable, type DenseLayer } from '../science/weights.ts';
import { datasetToTable } from '../science/datasets/table.ts';
import { lesionWeights, predictClasses, submodulesFromTable, CATEGORIES } from '../science/lesion/index.ts';
import { externalModelStage } from '../stages/external-model.ts';
import { lesionModulesStage } from '../stages/lesion-modules.ts';
import { lesionSingleStage } from '../stages/lesion-single.ts';
import { lesionDoubleStage } from '../stages/lesion-double.ts';
import { lesionStage } from '../stages/lesion.ts';
import { lesionMatrix } from '../stages/lesion-inputs.ts';
import { trainingSource } from '../stages/conditions.ts';
import { lesionParams } from '../stages/params/lesion.ts';
import { reproInline } from './helpers/repro.ts';

const AXES: Axes = { dataset: 'fashion', dropout: true, run: 0 };

function artifact(t: Table): InputArtifact {
  return { kind: 'arrow', digest: 'test' as Digest, table: async () => t, bytes: async () => tableToIPC(t, 'file'), files: async () => ({}) };
}
function instance(stage: string, axes: Axes, outputs: Record<string, Table>): InputInstance {
  return { stage, axes, metrics: {}, outputs: Object.fromEntries(Object.entries(outputs).map(([k, t]) => [k, artifact(t)])) };
}
function context(stage: StageDef, params: unknown, inputs: Record<string, InputInstance[]>, shard?: { start: number; end: number }): RunContext {
  return {
    stage: stage.name,
    key: 'k' as StageKey,
    axes: AXES,
    params,
    inputs,
    runtime: {},
    seed: 12345 as Seed,
    progress: () => {},
    checkpoint: { load: async () => undefined, save: async () => {} },
    downloadsDir: '/nonexistent',
    signal: new AbortController().signal,
    ...(shard ? { shard: { index: 0, ...shard, sampleSeed: (i: number) => deriveSeed(777, i) as Seed } } : {}),
  };
}
function combineContext(
  stage: StageDef,
  params: unknown,
  inputs: Record<string, InputInstance[]>,
  count: number,
  shards: { start: number; end: number; trials: Table }[],
): CombineContext {
  const { shard: _s, checkpoint: _c, ...base } = context(stage, params, inputs);
  return { ...base, count, shards: shards.map((s) => ({ start: s.start, end: s.end, metrics: {}, outputs: { trials: artifact(s.trials) } })) };
}

/** A tiny 784-16-16-10 network and a test set it classifies perfectly (labels = its predictions). */
function fixture() {
  const rng = new Rng(21);
  const widths = [784, 16, 16, 10];
  const layers: DenseLayer[] = widths.slice(1).map((fanOut, l) => {
    const fanIn = widths[l];
    const kernel = new Float32Array(fanIn * fanOut);
    for (let i = 0; i < kernel.length; i++) if (rng.float() < (l === 0 ? 0.05 : 0.4)) kernel[i] = rng.normal() * (l === 0 ? 0.3 : 0.8);
    return { fanIn, fanOut, kernel, bias: Float32Array.from({ length: fanOut }, () => rng.normal() * 0.05) };
  });
  const n = 60;
  const images = new Uint8Array(n * 784);
  for (let i = 0; i < images.length; i++) if (rng.float() < 0.3) images[i] = rng.int(256);
  const labels = Uint8Array.from(predictClasses(layers, images, n));
  const weights = weightsToTable({ layers, meta: { dataset: 'fashion', dropout: true, run: 0, phase: 'pruned' } });
  const dataset = datasetToTable({ name: 'fashion', train: { images: images.slice(0, 784), labels: labels.slice(0, 1) }, test: { images, labels } });
  const inputs = {
    export: [instance('export', { ...AXES, phase: 'pruned' }, { weights })],
    datasets: [instance('datasets', { dataset: 'fashion' }, { table: dataset })],
  };
  return { layers, images, labels, inputs };
}

test('lesion stages end to end: modules, sharded trials, combine, statistics and dependency graph', async () => {
  const f = fixture();
  const modules = await lesionModulesStage.run(context(lesionModulesStage, { k: 3, source: 'fashion' }, f.inputs));
  const set = submodulesFromTable(modules.outputs.submodules as Table);
  const n = set.submodules.length;
  assert.ok(n >= 3, `expected several sub-modules, got ${n}`);
  assert.equal(modules.metrics!.intact_accuracy, 1);
  assert.equal(modules.metrics!.n_submodules, n);
  // Same inputs and seed → identical bytes.
  const again = await lesionModulesStage.run(context(lesionModulesStage, { k: 3, source: 'fashion' }, f.inputs));
  for (const name of ['submodules', 'true_lesions'])
    assert.deepEqual(tableToIPC(again.outputs[name] as Table), tableToIPC(modules.outputs[name] as Table), name);

  const modulesInst = instance('lesion-modules', AXES, {
    submodules: modules.outputs.submodules as Table,
    true_lesions: modules.outputs.true_lesions as Table,
  });
  const trialInputs = { ...f.inputs, 'lesion-modules': [modulesInst] };
  const sp = { source: 'fashion' };

  // Trials depend only on their sample seed: shards [0,3) + [3,5) equal one shard [0,5).
  const s03 = (await lesionSingleStage.run(context(lesionSingleStage, sp, trialInputs, { start: 0, end: 3 }))).outputs.trials as Table;
  const s35 = (await lesionSingleStage.run(context(lesionSingleStage, sp, trialInputs, { start: 3, end: 5 }))).outputs.trials as Table;
  const s05 = (await lesionSingleStage.run(context(lesionSingleStage, sp, trialInputs, { start: 0, end: 5 }))).outputs.trials as Table;
  assert.equal(s05.numRows, 5 * n);
  const combined = await lesionSingleStage.samples!.combine(
    combineContext(lesionSingleStage, sp, trialInputs, 4, [
      { start: 0, end: 3, trials: s03 },
      { start: 3, end: 5, trials: s35 },
    ]),
  );
  const singleTrials = combined.outputs.trials as Table;
  assert.equal(singleTrials.numRows, 4 * n); // the count may end inside a shard
  assert.deepEqual(
    singleTrials.getChild('accuracy')!.toArray(),
    s05
      .getChild('accuracy')!
      .toArray()
      .slice(0, 4 * n),
  );

  const dp = { source: 'fashion' };
  const d0 = (await lesionDoubleStage.run(context(lesionDoubleStage, dp, trialInputs, { start: 0, end: 1 }))).outputs.trials as Table;
  const d1 = (await lesionDoubleStage.run(context(lesionDoubleStage, dp, trialInputs, { start: 1, end: 2 }))).outputs.trials as Table;
  assert.equal(d0.numRows, (n * (n + 1)) / 2 + n * (n - 1));
  const doubleTrials = (
    await lesionDoubleStage.samples!.combine(
      combineContext(lesionDoubleStage, dp, trialInputs, 2, [
        { start: 0, end: 1, trials: d0 },
        { start: 1, end: 2, trials: d1 },
      ]),
    )
  ).outputs.trials as Table;

  const result = await lesionStage.run(
    context(
      lesionStage,
      { small_size: 2, diff_threshold: -0.01 },
      {
        'lesion-modules': [modulesInst],
        'lesion-single': [instance('lesion-single', AXES, { trials: singleTrials })],
        'lesion-double': [instance('lesion-double', AXES, { trials: doubleTrials })],
      },
    ),
  );
  const single = result.outputs.single as Table;
  assert.equal(single.numRows, n);
  assert.deepEqual(
    single.schema.fields.map((x) => x.name),
    ['layer', 'cluster', 'size', 'proportion', 'true_acc', 'diff', 'mean', 'sd', 'z', 'p', 'category'],
  );
  assert.equal(single.schema.metadata.get('trials'), '4');
  // The true accuracy of each sub-module is that of its lesioned weights.
  set.submodules.forEach((s, i) => {
    const preds = predictClasses(lesionWeights(f.layers, [{ level: s.layer, neurons: s.neurons }]), f.images, f.labels.length);
    const acc = preds.filter((p, r) => p === f.labels[r]).length / f.labels.length;
    assert.equal(single.getChild('true_acc')!.get(i), acc);
    assert.ok(CATEGORIES.includes(single.getChild('category')!.get(i)));
    const p = single.getChild('p')!.get(i);
    assert.ok(
      [1, 2, 3, 4, 5].some((k) => Math.abs(p - k / 5) < 1e-12),
      `p ${p} is not a multiple of 1/(4 + 1)`,
    );
  });
  assert.equal((result.outputs.single_per_class as Table).numRows, n * 10);
  const joint = result.outputs.double_joint as Table;
  const cond = result.outputs.double_conditional as Table;
  assert.equal(joint.numRows, (n * (n + 1)) / 2);
  assert.equal(cond.numRows, n * (n - 1));
  assert.ok(cond.schema.fields.some((x) => x.name === 'delta'));
  assert.deepEqual(
    (result.outputs.dependency_edges as Table).schema.fields.map((x) => x.name),
    ['from_layer', 'from_cluster', 'to_layer', 'to_cluster', 'kind'],
  );
  assert.equal(result.metrics!.n_submodules, n);
  assert.equal(result.metrics!.intact_accuracy, 1);
  assert.equal(result.metrics!.n_important, Array.from({ length: n }, (_, i) => single.getChild('category')!.get(i)).filter((c) => c === 'important').length);

  // A missing trial is reported, not silently averaged over.
  await assert.rejects(
    lesionStage.run(
      context(
        lesionStage,
        { small_size: 2, diff_threshold: -0.01 },
        {
          'lesion-modules': [modulesInst],
          'lesion-single': [instance('lesion-single', AXES, { trials: s35 })],
          'lesion-double': [instance('lesion-double', AXES, { trials: doubleTrials })],
        },
      ),
    ),
    /trials are not 0\.\.1/,
  );
});

test('lesion params: the defaults in params.yaml validate; bad values are rejected', () => {
  const yaml = parse(readFileSync(new URL('../params.yaml', import.meta.url), 'utf8'));
  const p = lesionParams.parse(yaml.lesion);
  assert.deepEqual(p.networks, [{ dataset: 'fashion', dropout: true, run: 0 }]);
  assert.equal(p.k, 10);
  assert.equal(p.single_trials, 100);
  assert.equal(p.double_trials, 50);
  assert.equal(p.small_size, 12);
  assert.equal(p.diff_threshold, -0.01);
  assert.equal(lesionParams.safeParse({ ...p, k: 1 }).success, false);
  // An empty list is how a params file switches the lesion experiments off (no instances).
  assert.equal(lesionParams.safeParse({ ...p, networks: [] }).success, true);
  assert.equal(lesionParams.safeParse({ ...p, networks: [{ dataset: 'fashion', dropout: 'yes', run: 0 }] }).success, false);
  assert.equal(lesionParams.safeParse({ ...p, diff_threshold: 0.01 }).success, false);
  assert.equal(lesionParams.safeParse({ ...p, trials: 3 }).success, false);
});

test('lesion matrix: one instance per listed network, checked against the trained ones; dataset sources', () => {
  const train = {
    datasets: ['fashion', 'random-kiloepoch'],
    dropout: [false, true],
    runs: 2,
    overrides: [{ dataset: 'random-kiloepoch', source: 'random', epochs: 1000 }],
  };
  const lesion = {
    networks: [
      { dataset: 'fashion', dropout: true, run: 1 },
      { dataset: 'random-kiloepoch', dropout: false, run: 0 },
    ],
  } as any;
  assert.deepEqual(lesionMatrix({ lesion, train }), [
    { dataset: 'fashion', dropout: true, run: 1 },
    { dataset: 'random-kiloepoch', dropout: false, run: 0 },
  ]);
  assert.throws(
    () => lesionMatrix({ lesion: { networks: [{ dataset: 'fashion', dropout: true, run: 2 }] } as any, train }),
    /lesion\.networks\[0\].*not a trained network/,
  );
  assert.throws(() => lesionMatrix({ lesion: { networks: [lesion.networks[0], lesion.networks[0]] } as any, train }), /lesion\.networks\[1\] repeats/);
  assert.equal(trainingSource(train.overrides, { dataset: 'random-kiloepoch', dropout: false, run: 0 }), 'random');
  assert.equal(trainingSource(train.overrides, { dataset: 'fashion', dropout: true, run: 0 }), 'fashion');
});

test('through the engine: raising lesion.single_trials 10 → 20 computes only the 10 new trials', async () => {
  const root = mkdtempSync(join(tmpdir(), 'lesion-e2e-'));
  try {
    writeFileSync(
      join(root, 'params.yaml'),
      'train: { datasets: [toy], dropout: [false], runs: 1, overrides: [] }\n' +
        'lesion: { networks: [{ dataset: toy, dropout: false, run: 0 }], k: 3, single_trials: 10, double_trials: 1, small_size: 2, diff_threshold: -0.01 }\n',
    );
    const f = fixture();
    const tables = { weights: await f.inputs.export[0].outputs.weights.table(), dataset: await f.inputs.datasets[0].outputs.table.table() };
    const fakeExport = defineStage({
      module: import.meta.url,
      name: 'export',
      description: 'a test network',
      deps: [],
      matrix: () => [{ dataset: 'toy', dropout: false, run: 0, phase: 'pruned' }],
      outputs: ['weights'],
      inline: true,
      run: async () => ({ outputs: { weights: tables.weights } }),
    });
    const fakeDatasets = defineStage({
      module: import.meta.url,
      name: 'datasets',
      description: 'a test dataset',
      deps: [],
      matrix: () => [{ dataset: 'toy' }],
      outputs: ['table'],
      inline: true,
      run: async () => ({ outputs: { table: tables.dataset } }),
    });
    let trials = 0;
    const single: StageDef = {
      ...lesionSingleStage,
      async run(ctx) {
        trials += ctx.shard!.end - ctx.shard!.start;
        return lesionSingleStage.run(ctx);
      },
    };
    const project = {
      name: 'lesion-e2e',
      root,
      paramsFile: 'params.yaml',
      paramsSchema: z.any(),
      stages: [fakeExport, externalModelStage, fakeDatasets, lesionModulesStage, single, lesionDoubleStage, lesionStage],
    };
    const run = (overrides: string[] = []) => reproInline(project, overrides);
    const first = await run([]);
    assert.deepEqual(first.failed, []);
    assert.equal(trials, 10);
    trials = 0;
    const second = await run(['lesion.single_trials=20']);
    assert.deepEqual(second.failed, []);
    assert.equal(trials, 10, 'only the 10 new trials');
    assert.equal(second.ranByStage['lesion-modules'] ?? 0, 0);
    assert.equal(second.ranByStage['lesion-double'] ?? 0, 0);
    assert.equal(second.ranByStage['lesion'], 1);
    trials = 0;
    const third = await run(['lesion.single_trials=15']);
    assert.deepEqual(third.failed, []);
    assert.equal(trials, 0, 'lowering the count computes no trial');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
