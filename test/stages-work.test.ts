/** stages/work.ts: each stage's unit of work for the time estimate, attached outside the stage modules. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stages } from '../stages/index.ts';
import { trainStage } from '../stages/train.ts';
import { mlpWeights, trainExamples } from '../stages/work.ts';

const byName = new Map(stages.map((s) => [s.name, s]));

test('work: epochs × examples × weights for train and prune; k (×2 dense) per clustering and shuffle sample', () => {
  const train = byName.get('train')!;
  const mnist = { source: 'mnist', hidden: [256, 256, 256, 256], epochs: 20, trainExamples: null };
  assert.equal(mlpWeights('mnist', [256, 256, 256, 256]), 784 * 256 + 3 * 256 * 256 + 256 * 10);
  assert.equal(train.work!({}, mnist), 20 * 60000 * mlpWeights('mnist', [256, 256, 256, 256]));
  // CIFAR-10: 3,072 inputs and 50,000 examples; a memorization run: its own example count.
  assert.ok(train.work!({}, { ...mnist, source: 'cifar10' }) > 2 * train.work!({}, mnist));
  assert.equal(train.work!({}, { ...mnist, trainExamples: 3000 }), 20 * 3000 * mlpWeights('mnist', [256, 256, 256, 256]));
  assert.equal(trainExamples('line-mnist-separated'), 60000); // half of each source
  assert.equal(trainExamples('line-mnist'), 120000);
  assert.equal(trainExamples('no-such-dataset'), 60000, 'an unknown name never breaks the estimate');
  // prune counts its own schedule's epochs.
  const prune = byName.get('prune')!;
  assert.equal(prune.work!({}, { source: 'mnist', trainExamples: null, schedule: { epochs: 40 } }), 2 * train.work!({}, mnist));
  const shuffle = byName.get('shuffle-sample')!;
  assert.equal(shuffle.work!({ k: 10, phase: 'pruned' }, {}), 10);
  assert.equal(shuffle.work!({ k: 4, phase: 'unpruned' }, {}), 8);
  assert.equal(byName.get('cluster')!.work!({ k: 4, phase: 'init' }, {}), 8);
  assert.equal(byName.get('report')!.work, undefined, 'stages without a work function count 1 per instance');
});

test('work functions are attached in stages/index.ts, not in the stage modules (the cost model never changes a key)', () => {
  assert.equal(trainStage.work, undefined);
  assert.equal(byName.get('train')!.module, trainStage.module);
  assert.equal(byName.get('train')!.run, trainStage.run);
});

test('calibration: training and pruning time one epoch of random examples with the real trainer', async () => {
  const calibrate = byName.get('train')!.calibrate!;
  assert.equal(byName.get('prune')!.calibrate, calibrate);
  const c = await calibrate({ backend: 'auto', source: 'mnist', hidden: [256, 256, 256, 256], epochs: 20, batchSize: 128, trainExamples: null });
  assert.ok(c.ms > 0 && Number.isFinite(c.ms), String(c.ms));
  assert.equal(c.work, 4096 * mlpWeights('mnist', [256, 256, 256, 256]));
  assert.match(c.what, /^one epoch of 4,096 random examples on the \w+ backend: \d+\.\d s$/);
});
