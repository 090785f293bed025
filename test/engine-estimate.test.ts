/**
 * The time estimate (engine/estimate.ts): rates from fake run records scaled by each unit's
 * work, the simulated wall time for --jobs, stages without records named, the dry run's
 * summary on the toy project with and without records, and the progress ETA driven by the
 * same estimates under a fake clock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { estimatePlan, ratesFromRecords, simulate } from '../engine/estimate.ts';
import { createProgress } from '../engine/progress.ts';
import type { Instance } from '../engine/graph.ts';
import type { PlannedUnit } from '../engine/scheduler.ts';
import type { RunRecord } from '../engine/store.ts';
import type { StageDef } from '../engine/types.ts';
import { Toy } from './fixtures/toy/harness.ts';

const noop = async () => ({ outputs: {} });
const trainDef = {
  name: 'train',
  module: '',
  description: '',
  deps: [],
  params: [],
  outputs: ['w'],
  run: noop,
  work: (_a: unknown, p: { epochs: number; n: number }) => p.epochs * p.n,
} as unknown as StageDef;
const shuffleDef = {
  name: 'shuffle',
  module: '',
  description: '',
  deps: ['train'],
  params: [],
  outputs: ['s'],
  run: noop,
  samples: { countParam: 'x', shardSize: 32, combine: noop },
} as unknown as StageDef;
const lesionDef = { name: 'lesion', module: '', description: '', deps: ['train'], params: [], outputs: ['l'], run: noop } as unknown as StageDef;
const defs = new Map([trainDef, shuffleDef, lesionDef].map((d) => [d.name, d]));

function record(
  stage: string,
  ms: number,
  params: unknown,
  o: { role?: RunRecord['role']; shard?: { index: number; start: number; end: number }; finishedAt?: string } = {},
): RunRecord {
  return {
    format: 1,
    key: `k-${stage}-${ms}-${Math.random()}`,
    stage,
    axes: {},
    role: o.role ?? 'instance',
    ...(o.shard ? { shard: o.shard } : {}),
    keyParts: { params } as RunRecord['keyParts'],
    code: { files: {}, packages: {} } as RunRecord['code'],
    outputs: {},
    metrics: {},
    timings: { startedAt: '2026-01-01T00:00:00.000Z', finishedAt: o.finishedAt ?? '2026-01-01T00:10:00.000Z', ms },
    host: 'h',
    pid: 1,
  } as RunRecord;
}

function inst(def: StageDef, id: string, params: unknown, upstream: Instance[] = []): Instance {
  return { id, def, axes: {}, params, inputs: upstream.map((u) => ({ stage: u.def.name, instance: u, outputs: [] })) } as unknown as Instance;
}

const unit = (i: Instance, role: PlannedUnit['role'] = 'instance', shard?: PlannedUnit['shard']): PlannedUnit => ({
  id: shard ? `${i.id}#${shard.index}` : i.id,
  inst: i,
  role,
  shard,
  reasons: ['never run'],
});

test('estimate: recorded ms per unit of work × each unit’s work, shards by their samples, over --jobs slots', () => {
  // train: 2000 ms for 10 epochs × 100 examples and 5000 ms for 20 × 100 → 7000 / 3000 ms per unit.
  // shuffle: 320 ms for a shard of 32 samples → 10 ms per sample; its combines: 50 ms each.
  const rates = ratesFromRecords(
    [
      record('train', 2000, { epochs: 10, n: 100 }),
      record('train', 5000, { epochs: 20, n: 100 }),
      record('shuffle', 320, {}, { role: 'shard', shard: { index: 0, start: 0, end: 32 } }),
      record('shuffle', 50, {}, { role: 'combine' }),
      record('gone', 1, {}), // a stage the project no longer has: ignored
    ],
    defs,
  );
  assert.equal(rates.get('train\0run')!.msPerWork, 7000 / 3000);
  assert.equal(rates.get('shuffle\0run')!.msPerWork, 10);
  assert.equal(rates.get('shuffle\0combine')!.msPerWork, 50);

  const t = inst(trainDef, 'train[run=0]', { epochs: 30, n: 100 });
  const s = inst(shuffleDef, 'shuffle[run=0]', {}, [t]);
  const plan = [unit(t), ...[0, 1, 2].map((i) => unit(s, 'shard', { index: i, start: 32 * i, end: 32 * (i + 1) })), unit(s, 'combine')];
  const e = estimatePlan(plan, rates, 2, 2);
  assert.equal(e.unitMs.get('train[run=0]'), 7000); // 3000 units × 7/3 ms
  assert.equal(e.unitMs.get('shuffle[run=0]#1'), 320);
  const [train, shuffle] = e.stages;
  assert.deepEqual([train.stage, train.instances, train.shards, train.computeMs], ['train', 1, 0, 7000]);
  assert.deepEqual([shuffle.stage, shuffle.instances, shuffle.shards, shuffle.computeMs], ['shuffle', 1, 3, 3 * 320 + 50]);
  assert.equal(e.computeMs, 7000 + 1010);
  // Wall: the shards wait for train (7000), then 3 shards on 2 slots (640), then the combine (50).
  assert.equal(e.wallMs, 7000 + 640 + 50);
  assert.equal(shuffle.wallMs, 690);
  assert.deepEqual(e.unknown, []);

  // More jobs than cores: each unit is slowed by jobs / cores.
  const crowded = estimatePlan(plan, rates, 4, 2);
  assert.equal(crowded.contention, 2);
  assert.equal(crowded.computeMs, 2 * 8010);
});

test('estimate: a stage without run records is named and left out of the totals, never guessed', () => {
  const rates = ratesFromRecords([record('train', 1000, { epochs: 1, n: 1000 })], defs);
  const t = inst(trainDef, 'train', { epochs: 2, n: 1000 });
  const l = inst(lesionDef, 'lesion', {}, [t]);
  const e = estimatePlan([unit(t), unit(l)], rates, 1, 2);
  assert.deepEqual(e.unknown, ['lesion']);
  assert.equal(e.computeMs, 2000);
  assert.equal(e.stages.find((s) => s.stage === 'lesion')!.computeMs, undefined);
});

test('estimate: the most recent records decide the rate (the code may have become faster)', () => {
  const old = Array.from({ length: 300 }, () => record('train', 9000, { epochs: 1, n: 1 }, { finishedAt: '2025-01-01T00:00:00.000Z' }));
  const recent = Array.from({ length: 200 }, () => record('train', 1000, { epochs: 1, n: 1 }, { finishedAt: '2026-06-01T00:00:00.000Z' }));
  const rates = ratesFromRecords([...old, ...recent], defs);
  assert.equal(rates.get('train\0run')!.msPerWork, 1000);
  assert.equal(rates.get('train\0run')!.records, 200);
});

test('simulate: a free slot takes the earliest ready unit, even when an earlier unit still waits', () => {
  const a = inst(lesionDef, 'a', {});
  const b = inst(lesionDef, 'b', {}, [a]); // waits for a
  const c = inst(lesionDef, 'c', {}); // independent
  const ms = new Map([
    ['a', 100],
    ['b', 100],
    ['c', 100],
  ]);
  // Two slots: a and c start at 0, b at 100 → 200 in all (in plan order a, b, c).
  assert.equal(simulate([unit(a), unit(b), unit(c)], ms, 2).total, 200);
  assert.equal(simulate([unit(a), unit(b), unit(c)], ms, 1).total, 300);
});

test('dry run: with no run records it says it cannot estimate; after a run it estimates from the records', async () => {
  const toy = new Toy();
  try {
    const none = toy.cli(['repro', '--dry-run']);
    assert.equal(none.code, 0, none.stderr);
    assert.match(none.stdout, /^dry run of params\.yaml with --jobs \d+: \d+ instances and 4 shards to run, 0 up to date/);
    assert.match(none.stdout, /cannot estimate (\w+, )+\w+: no run records of them here yet/);
    assert.match(none.stdout, /^sample +2 \(\+4 shards\) +0 +\? +\? +upstream source would run ×4$/m);
    assert.match(none.stdout, /^total +14 \(\+4 shards\) +0 +\? +\?$/m);
    assert.match(none.stdout, /\(--verbose: one line per instance\)/);
    assert.doesNotMatch(none.stdout, /^would run /m, 'no per-instance lines without --verbose');

    const run = toy.cli(['repro']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^params\.yaml: 18 jobs to run, no time estimate$/m, 'repro prints the estimate when it starts');

    const dry = toy.cli(['repro', '--dry-run', '-S', 'toy.offset=2', '--verbose']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /estimated from this machine's run records \(per stage: recorded time per unit of work over its .*parity 2.* most recent runs\)/);
    assert.doesNotMatch(dry.stdout, /cannot estimate/);
    assert.match(dry.stdout, /^parity +2 +0 +[\d.]+ ?[a-z]+ +[\d.]+ ?[a-z]+ +param toy\.offset: 1 → 2 ×2$/m);
    assert.match(dry.stdout, /^would run parity\[name=a\]: param toy\.offset: 1 → 2$/m, '--verbose lists every instance');
  } finally {
    toy.cleanup();
  }
});

test('ETA: from the cost model, it covers the units after the long ones and does not wander', () => {
  let t = 0;
  const chunks: string[] = [];
  const stream = { isTTY: true, columns: 160, rows: 30, write: (c: string) => (chunks.push(c), true) } as unknown as NodeJS.WriteStream;
  // Two 240 s trainings, then ten 2 s shards and a 3 s report: what a quick run looks like.
  const estimates = new Map<string, number>([
    ['train-a', 240_000],
    ['train-b', 240_000],
    ['report', 3000],
  ]);
  for (let i = 0; i < 10; i++) estimates.set(`shard-${i}`, 2000);
  // 20 cached units the plan did not have: they cost nothing even before they are reported.
  const p = createProgress({ stream, now: () => t, estimates, jobs: 2, planned: 13 });
  const eta = () => {
    const text = chunks.join('');
    const all = [...text.matchAll(/ETA ([0-9hms.]+)/g)];
    return all[all.length - 1]?.[1];
  };
  p.setTotal(33);
  p.start('train-a', 'train a');
  p.start('train-b', 'train b');
  for (let i = 0; i < 19; i++) p.finish(`cached-${i}`, 'cached');
  // One cache hit still to come; 240 + 240 running, 23 s pending, over 2 slots: 251.5 s.
  assert.equal(eta(), '4m11s');
  t = 120_000;
  p.update('train-a', { fraction: 0.5 });
  p.update('train-b', { fraction: 0.5 });
  t = 120_150; // past the redraw throttle
  p.update('train-a', {});
  // Half done after 120 s: 120 s each left, 23 s pending: 131.6 s (each unit's own fraction now).
  assert.equal(eta(), '2m11s');
  t = 240_000;
  p.finish('train-a', 'done');
  p.finish('train-b', 'done');
  p.start('shard-0', 'shard 0');
  t = 240_100;
  p.update('shard-0', {});
  // The model was right so far (ratio 1): 2 s running + 21 s pending over 2 slots ≈ 11.5 s, not 12 × 240 s / 2.
  assert.equal(eta(), '11s');
  // Units that take twice their estimate double the rest.
  t = 244_000;
  p.finish('shard-0', 'done');
  p.start('shard-1', 'shard 1');
  t = 244_100;
  p.update('shard-1', {});
  // The correction starts from 3 average units at ratio 1 (503 s / 13 units each), so one slow unit does not swing it.
  const prior = (3 * 503_000) / 13;
  const ratio = (prior + 480_000 + 4000) / (prior + 480_000 + 2000);
  assert.equal(eta(), `${Math.floor((2000 * ratio - 100 + 19_000 * ratio) / 2 / 1000)}s`);
  p.close();
});

test('estimate: a stage with no records but a calibration is estimated from it, and the message says a calibration ran', async () => {
  const { calibrateMissing } = await import('../engine/estimate.ts');
  const { formatEstimate } = await import('../engine/summaries.ts');
  let calls = 0;
  const calibrated = { ...trainDef, calibrate: async () => (calls++, { ms: 500, work: 1000, what: 'one tiny epoch: 0.5 s' }) } as unknown as StageDef;
  const t = inst(calibrated, 'train', { epochs: 4, n: 1000 });
  const rates = ratesFromRecords([], defs);
  await calibrateMissing([unit(t), unit(inst(calibrated, 'train2', { epochs: 1, n: 10 }))], rates);
  assert.equal(calls, 1, 'one calibration per stage');
  const e = estimatePlan([unit(t)], rates, 1, 2);
  assert.equal(e.computeMs, 2000); // 4000 units × 0.5 ms
  assert.deepEqual(e.unknown, []);
  const line = formatEstimate(e, 'params.yaml', 1);
  assert.match(line, /^params\.yaml: 1 job to run, about 2\.0s of compute, 2\.0s wall time with --jobs 1$/m);
  assert.match(line, /no run records of train yet: calibrated by a short run here \(train: one tiny epoch: 0\.5 s\)/);
  // With records, no calibration runs.
  const recorded = ratesFromRecords([record('train', 1000, { epochs: 1, n: 1000 })], new Map([['train', calibrated]]));
  await calibrateMissing([unit(t)], recorded);
  assert.equal(calls, 1);
});
