/**
 * External network files through the pipeline: params `external.models` makes each file a
 * network state of `cluster` and `shuffle-sample` (content digest in the key), and the report
 * gathers them into the "External models" table.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { z } from 'zod';
import { runNcut } from '../cli/ncut.ts';
import { defineStage, type InputInstance, type Metrics, type StageDef } from '../engine/types.ts';
import { externalModelsTable } from '../science/report/external.ts';
import { MetricsCollector } from '../science/report/metrics.ts';
import { clusterStage } from '../stages/cluster.ts';
import { externalModelStage } from '../stages/external-model.ts';
import { paramsSchema } from '../stages/params/index.ts';
import { gatherRecords } from '../stages/report.ts';
import { shuffleSampleStage } from '../stages/shuffle-sample.ts';
import { DEFAULT_REPORT_OPTIONS } from '../science/report/options.ts';
import { reproInline } from './helpers/repro.ts';

const FIXTURES = new URL('./fixtures/models/', import.meta.url).pathname;

test('params without an external section parse to no external models', () => {
  const shape = paramsSchema.shape.external;
  assert.deepEqual(shape.parse(undefined), { models: [], layers: {}, conv_norm: 'l1' });
});

test('external.models: each file is clustered and shuffled like a study network; editing one file reruns only its instances', async () => {
  const root = mkdtempSync(join(tmpdir(), 'models-e2e-'));
  try {
    copyFileSync(join(FIXTURES, 'mlp.onnx'), join(root, 'mlp.onnx'));
    copyFileSync(join(FIXTURES, 'cnn.pt'), join(root, 'cnn.pt'));
    const models = [join(root, 'mlp.onnx'), join(root, 'cnn.pt')];
    writeFileSync(
      join(root, 'params.yaml'),
      'train: { datasets: [], dropout: [false], runs: 1, overrides: [] }\ninit: { networks: 0 }\n' +
        'cluster: { k: [3], seed: 42, n_init: 2 }\nshuffle: { samples: 4, methods: [layer] }\n' +
        `external: { models: [${models.map((m) => JSON.stringify(m)).join(', ')}], layers: {}, conv_norm: l1 }\n`,
    );
    const noExport = defineStage({
      module: import.meta.url,
      name: 'export',
      description: 'none',
      deps: [],
      matrix: () => [],
      outputs: ['weights'],
      async run() {
        return { outputs: {} };
      },
    });
    const clusterMetrics = new Map<string, Metrics>();
    const shuffleMetrics = new Map<string, Metrics>();
    let clusterRuns = 0;
    const cluster: StageDef = {
      ...clusterStage,
      inline: true,
      async run(ctx) {
        clusterRuns++;
        const r = await clusterStage.run(ctx);
        clusterMetrics.set(String(ctx.axes.dataset), r.metrics!);
        return r;
      },
    };
    const shuffles: StageDef = {
      ...shuffleSampleStage,
      inline: true,
      samples: {
        ...shuffleSampleStage.samples!,
        async combine(ctx) {
          const r = await shuffleSampleStage.samples!.combine(ctx);
          shuffleMetrics.set(String(ctx.axes.dataset), r.metrics!);
          return r;
        },
      },
    };
    const project = {
      name: 'models-e2e',
      root,
      paramsFile: 'params.yaml',
      paramsSchema: z.any(),
      stages: [noExport, { ...externalModelStage, inline: true }, cluster, shuffles],
    };
    const run = () => reproInline(project);
    assert.deepEqual((await run()).failed, []);
    assert.deepEqual([...clusterMetrics.keys()].sort(), ['external:cnn.pt', 'external:mlp.onnx']);
    // The pipeline's n-cut is the ncut verb's on the same file.
    const direct = await runNcut(models[0], { k: 3, seed: 42, shuffles: 0, method: 'layer', nInit: 2, threads: 1 });
    assert.equal(clusterMetrics.get('external:mlp.onnx')!.ncut, direct.ncut);
    assert.equal(clusterMetrics.get('external:mlp.onnx')!.modularity, direct.modularity);
    for (const m of shuffleMetrics.values()) assert.equal(m.n, 4);
    // Same bytes: nothing reruns. New bytes in one file: only its instances.
    clusterRuns = 0;
    assert.deepEqual((await run()).failed, []);
    assert.equal(clusterRuns, 0);
    copyFileSync(join(FIXTURES, 'mlp.pt'), join(root, 'cnn.pt'));
    assert.deepEqual((await run()).failed, []);
    assert.equal(clusterRuns, 1);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the report gathers external states into the External models table, apart from the study networks', async () => {
  const inst = (stage: string, axes: Record<string, string | number | boolean>, metrics: Metrics): InputInstance => ({ stage, axes, metrics, outputs: {} });
  const ext = { dataset: 'external:net.onnx', dropout: false, run: 0, phase: 'external', k: 4 };
  const inputs = {
    cluster: [
      inst('cluster', ext, { ncut: 1.5, modularity: 0.2 }),
      inst('cluster', { dataset: 'mnist', dropout: false, run: 0, phase: 'pruned', k: 4 }, { ncut: 1.1 }),
    ],
    'shuffle-sample': [inst('shuffle-sample', { ...ext, method: 'layer' }, { n: 9, mean: 2, sd: 0.1, z: -5, p: 0.1, significant: true, min: 1.8, max: 2.2 })],
  };
  const { networks, externalModels } = await gatherRecords(inputs, { ...DEFAULT_REPORT_OPTIONS, main_k: 3 });
  assert.deepEqual(
    networks.map((n) => n.dataset),
    ['mnist'],
  );
  assert.equal(externalModels.length, 1);
  const table = externalModelsTable(externalModels, new MetricsCollector());
  assert.deepEqual(table.rows, [['net.onnx', '4', '1.500', '0.200', 'layer', '2.000 ± 0.100 (n = 9)', '0.1000', '-5.00', '✓']]);
});
