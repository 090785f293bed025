/** Stages `cluster` and `shuffle-sample`: declarations, run() on hand-built contexts, and an end-to-end run through the engine. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import type { Table } from 'apache-arrow';
import { z } from 'zod';
import { defineStage, type InputArtifact, type InputInstance, type RunContext, type CombineContext, type StageDef, type Metrics } from '../engine/types.ts';
import { Session } from '../engine/session.ts';
import { repro } from '../engine/scheduler.ts';
import { InlineExecutor } from '../engine/executor.ts';
import { createProgress } from '../engine/progress.ts';
import { clusterStage } from '../stages/cluster.ts';
import { shuffleSampleStage } from '../stages/shuffle-sample.ts';
import { externalModelStage } from '../stages/external-model.ts';
import type { Params } from '../stages/params/index.ts';
import { paramPaths } from '../engine/graph.ts';
import { clusterWeights, reduceNetwork, shuffleSample } from '../science/cluster/index.ts';
import { Rng, deriveSeed } from '../science/random.ts';
import { summarizeNull } from '../science/stats.ts';
import { weightsToIPC, weightsToTable, type DenseLayer } from '../science/weights.ts';
import { readWeightsFile } from '../cli/ncut.ts';
import { UserError } from '../engine/errors.ts';

const WIDTHS = [24, 16, 16, 6];

/** A small network with 2 planted modules and a few dead neurons, different per run. */
function network(run: number): DenseLayer[] {
  const rng = new Rng(1000 + run);
  return WIDTHS.slice(1).map((fanOut, l) => {
    const fanIn = WIDTHS[l];
    const kernel = new Float32Array(fanIn * fanOut);
    for (let i = 0; i < fanIn; i++)
      for (let j = 0; j < fanOut; j++) {
        if (l === 0 && i < 2) continue; // inputs 0 and 1 have no weights: removed, label −1
        const same = i * 2 < fanIn === j * 2 < fanOut;
        kernel[i * fanOut + j] = (same ? 0.5 + rng.float() : 0.05 * rng.float()) * (rng.float() < 0.5 ? -1 : 1);
      }
    return { fanIn, fanOut, kernel, bias: new Float32Array(fanOut) };
  });
}

function artifact(table: Table): InputArtifact {
  return {
    kind: 'arrow',
    digest: 'test' as InputArtifact['digest'],
    table: async () => table,
    bytes: async () => new Uint8Array(),
    files: async () => ({}),
  };
}

function weightsInput(run: number, phase = 'pruned'): InputInstance {
  const axes = { dataset: 'toy', dropout: false, run, phase };
  return {
    stage: 'export',
    axes,
    metrics: {},
    outputs: { weights: artifact(weightsToTable({ layers: network(run), meta: { dataset: 'toy', dropout: false, run, phase: 'pruned' } })) },
  };
}

function context<P>(
  stage: StageDef<P>,
  axes: Record<string, string | number | boolean>,
  params: P,
  inputs: Record<string, InputInstance[]>,
  extra: Partial<RunContext<P>> = {},
): RunContext<P> {
  return {
    stage: stage.name,
    key: 'k' as RunContext['key'],
    axes,
    params,
    inputs,
    runtime: {},
    seed: 7,
    progress: () => {},
    checkpoint: { load: async () => undefined, save: async () => {} },
    downloadsDir: tmpdir(),
    signal: new AbortController().signal,
    ...extra,
  };
}

const PARAMS = {
  train: { datasets: ['toy'], dropout: [false, true], runs: 2, overrides: [] },
  init: { networks: 3 },
  cluster: { k: [4, 2], seed: 42, n_init: 3 },
  shuffle: { samples: 16, methods: ['layer', 'layer_nonzero'] },
} as unknown as Params;

test('cluster: one instance per network state × k (init included); the k list stays out of the key', () => {
  const axes = clusterStage.matrix!(PARAMS);
  // 2 dropout × 2 runs × 2 phases + 3 init, × 2 k
  assert.equal(axes.length, (2 * 2 * 2 + 3) * 2);
  assert.ok(axes.some((a) => a.phase === 'init' && a.k === 2));
  assert.deepEqual(clusterStage.params!(PARAMS, { k: 2 }), { k: 2, seed: 42, nInit: 3 });
  const moreK = { ...PARAMS, cluster: { ...PARAMS.cluster, k: [4, 2, 10] } };
  assert.deepEqual(clusterStage.params!(moreK, { k: 2 }), clusterStage.params!(PARAMS, { k: 2 }));
  assert.deepEqual(paramPaths(clusterStage, PARAMS), ['cluster.n_init', 'cluster.seed']);
});

test('cluster: labels table (neuron, layer, label int32), −1 for removed neurons, metrics', async () => {
  const params = { k: 2, seed: 42, nInit: 10 };
  const axes = { dataset: 'toy', dropout: false, run: 0, phase: 'pruned', k: 2 };
  const result = await clusterStage.run(context(clusterStage, axes, params, { export: [weightsInput(0)] }));
  const t = result.outputs.labels as Table;
  assert.deepEqual(
    t.schema.fields.map((f) => `${f.name}:${f.type}`),
    ['neuron:Int32', 'layer:Int32', 'label:Int32'],
  );
  const n = WIDTHS.reduce((a, b) => a + b, 0);
  assert.equal(t.numRows, n);
  const labels = Array.from(t.getChild('label')!.toArray() as Int32Array);
  const layer = Array.from(t.getChild('layer')!.toArray() as Int32Array);
  assert.deepEqual(
    Array.from(t.getChild('neuron')!.toArray() as Int32Array),
    Array.from({ length: n }, (_, i) => i),
  );
  assert.deepEqual(layer.slice(23, 26), [0, 1, 1]);
  assert.equal(layer[n - 1], 3);
  assert.deepEqual(labels.slice(0, 2), [-1, -1]);
  assert.ok(labels.slice(2).every((l) => l === 0 || l === 1));
  const direct = clusterWeights(network(0), 2, 42);
  assert.deepEqual(labels, Array.from(direct.labels));
  const m = result.metrics!;
  assert.equal(m.ncut, direct.ncut);
  assert.equal(m.k, 2);
  assert.equal(m.live_nodes, n - 2);
  assert.ok(Math.abs((m.ave_in_out as number) - (1 - direct.ncut / 2) / direct.ncut) < 1e-12);
});

test('shuffle-sample: trained states only × k × method; shards compute independent seeded samples; combine gives the statistics', async () => {
  const axes = shuffleSampleStage.matrix!(PARAMS);
  assert.equal(axes.length, 2 * 2 * 2 * 2 * 2);
  assert.ok(axes.every((a) => a.phase !== 'init'));
  assert.equal(shuffleSampleStage.samples!.count(PARAMS), 16);
  const resolved = shuffleSampleStage.params!(PARAMS, { k: 2, method: 'layer_nonzero' });
  assert.deepEqual(resolved, { shuffle: { samples: 16 }, k: 2, method: 'layer_nonzero', nInit: 3 });
  assert.deepEqual(paramPaths(shuffleSampleStage, PARAMS), ['cluster.n_init', 'shuffle.samples']);

  const params = { shuffle: { samples: 10 }, k: 2, method: 'layer' as const, nInit: 3 };
  const a = { dataset: 'toy', dropout: false, run: 1, phase: 'pruned', k: 2, method: 'layer' };
  const clusterInput: InputInstance = { stage: 'cluster', axes: a, metrics: { ncut: 0.2 }, outputs: {} };
  const inputs = { export: [weightsInput(1)], cluster: [clusterInput] };
  const sampleSeed = (i: number) => deriveSeed(99, i);
  const shardTables: Table[] = [];
  for (const [start, end] of [
    [0, 6],
    [6, 12],
  ]) {
    const ctx = context(shuffleSampleStage, a, params, inputs, { shard: { index: start / 6, start, end, sampleSeed } });
    const r = await shuffleSampleStage.run(ctx);
    shardTables.push(r.outputs.ncuts as Table);
  }
  const reduced = reduceNetwork(network(1));
  const expected = Array.from({ length: 12 }, (_, i) => shuffleSample(reduced, 'layer', 2, sampleSeed(i), { nInit: 3 }));
  assert.deepEqual([...shardTables.flatMap((t) => Array.from(t.getChild('ncut')!.toArray() as Float64Array))], expected);
  assert.ok(new Set(expected).size > 6, 'independent shuffles');

  const shards = shardTables.map((t, s) => ({ start: s * 6, end: s * 6 + 6, outputs: { ncuts: artifact(t) }, metrics: {} as Metrics }));
  const combineCtx = { ...context(shuffleSampleStage, a, params, inputs), count: 10, shards } as unknown as CombineContext;
  const combined = await shuffleSampleStage.samples!.combine(combineCtx);
  const samples = combined.outputs.samples as Table;
  assert.deepEqual(Array.from(samples.getChild('sample')!.toArray() as Int32Array), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(Array.from(samples.getChild('ncut')!.toArray() as Float64Array), expected.slice(0, 10));
  const s = summarizeNull(0.2, expected.slice(0, 10));
  assert.deepEqual(combined.metrics, { ncut: 0.2, ...s });
  assert.equal(combined.metrics!.n, 10);
});

test('end to end through the engine: raising shuffle.samples 16 → 32 computes only the 16 new samples', async () => {
  const root = mkdtempSync(join(tmpdir(), 'cluster-e2e-'));
  try {
    writeFileSync(
      join(root, 'params.yaml'),
      'train: { datasets: [toy], dropout: [false], runs: 1, overrides: [] }\ninit: { networks: 0 }\n' +
        'cluster: { k: [2], seed: 42, n_init: 2 }\nshuffle: { samples: 16, methods: [layer] }\n',
    );
    const fakeExport = defineStage({
      module: import.meta.url,
      name: 'export',
      description: 'test networks',
      deps: [],
      matrix: (p: any) => p.train.datasets.flatMap((dataset: string) => ['unpruned', 'pruned'].map((phase) => ({ dataset, dropout: false, run: 0, phase }))),
      outputs: ['weights'],
      inline: true,
      async run(ctx) {
        return {
          outputs: {
            weights: weightsToTable({
              layers: network(ctx.axes.phase === 'pruned' ? 1 : 2),
              meta: { dataset: 'toy', dropout: false, run: 0, phase: 'pruned' },
            }),
          },
        };
      },
    });
    let computed = 0;
    const combined: Metrics[] = [];
    const shuffles: StageDef = {
      ...shuffleSampleStage,
      samples: {
        ...shuffleSampleStage.samples!,
        // Shards of 16 so that 16 → 32 needs a new shard (with the real 32, shard 0 already holds samples 16..31).
        shardSize: 16,
        async combine(ctx) {
          const r = await shuffleSampleStage.samples!.combine(ctx);
          combined.push(r.metrics!);
          return r;
        },
      },
      async run(ctx) {
        computed += ctx.shard!.end - ctx.shard!.start;
        return shuffleSampleStage.run(ctx);
      },
    };
    const project = {
      name: 'cluster-e2e',
      root,
      paramsFile: 'params.yaml',
      paramsSchema: z.any(),
      stages: [fakeExport, externalModelStage, clusterStage, shuffles],
    };
    const run = async (overrides: string[]) => {
      const session = await Session.open(project, { overrides, durable: false });
      const stream = { isTTY: false, write: () => true } as unknown as NodeJS.WriteStream;
      const progress = createProgress({ stream, tty: false });
      try {
        return await repro(session, { jobs: 1, progress, executor: new InlineExecutor(session.graph.byName) });
      } finally {
        progress.close();
        session.close();
      }
    };
    const first = await run([]);
    assert.deepEqual(first.failed, []);
    assert.equal(computed, 2 * 16);
    computed = 0;
    const second = await run(['shuffle.samples=32']);
    assert.deepEqual(second.failed, []);
    assert.equal(computed, 2 * 16, 'only the 16 new samples of each of the 2 instances');
    assert.equal(second.ranByStage['cluster'] ?? 0, 0);
    const byN = (n: number) => combined.filter((m) => m.n === n);
    assert.equal(byN(16).length, 2);
    assert.equal(byN(32).length, 2);
    for (const m of [...byN(16), ...byN(32)]) assert.ok(typeof m.p === 'number' && (m.p as number) > 0 && (m.p as number) <= 1);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('ncut verb: JSON with ncut, k, labels and shuffle statistics; clean errors naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ncut-cli-'));
  try {
    const file = join(dir, 'net.arrow');
    writeFileSync(file, weightsToIPC({ layers: network(3), meta: { dataset: 'toy', dropout: false, run: 3, phase: 'pruned' } }));
    const cli = (args: string[]) =>
      execFileSync(process.execPath, ['--import', 'tsx', 'pipeline.ts', 'ncut', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const out = JSON.parse(cli([file, '--k', '2', '--shuffles', '4', '--method', 'layer_nonzero', '--threads', '1', '--json']));
    const direct = clusterWeights(network(3), 2, 42);
    assert.equal(out.ncut, direct.ncut);
    assert.equal(out.k, 2);
    assert.deepEqual(out.labels, Array.from(direct.labels));
    assert.equal(out.n, 4);
    for (const key of ['mean', 'sd', 'z', 'p']) assert.equal(typeof out[key], 'number', key);
    assert.ok(out.p >= 1 / 5 && out.p <= 1);

    const missing = join(dir, 'missing.arrow');
    assert.throws(
      () => cli([missing]),
      (e: any) => e.status === 1 && e.stderr.includes(missing) && e.stderr.includes('no such file') && !e.stderr.includes('    at '),
    );
    const junk = join(dir, 'junk.arrow');
    writeFileSync(junk, 'not arrow');
    assert.throws(
      () => readWeightsFile(junk),
      (e: any) => e instanceof UserError && e.message.includes(junk) && e.message.includes('not an Arrow IPC weights file'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
