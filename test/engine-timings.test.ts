import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, summarizeTimings, timingsMarkdown } from '../engine/timings.ts';
import type { InstanceStatus } from '../engine/status.ts';
import type { RunRecord } from '../engine/store.ts';

const rec = (start: string, ms: number): RunRecord =>
  ({ timings: { startedAt: start, finishedAt: new Date(Date.parse(start) + ms).toISOString(), ms } }) as unknown as RunRecord;

test('timings: compute sums run durations, span runs from first start to last finish, shards count for sample stages', () => {
  const list = [
    { id: 'a[x=1]', stage: 'a', axes: {}, state: 'up-to-date', reasons: [], record: rec('2026-01-01T00:00:00.000Z', 1000) },
    { id: 'a[x=2]', stage: 'a', axes: {}, state: 'up-to-date', reasons: [], record: rec('2026-01-01T00:00:00.500Z', 3000) },
    { id: 'a[x=3]', stage: 'a', axes: {}, state: 'never-run', reasons: ['never run'] },
    {
      id: 's',
      stage: 's',
      axes: {},
      state: 'stale',
      reasons: [],
      shards: { needed: 3, stored: 2, records: [rec('2026-01-01T00:01:00.000Z', 200), undefined, rec('2026-01-01T00:01:00.100Z', 400)] },
    },
  ] as InstanceStatus[];
  const t = summarizeTimings(list);
  const a = t.stages.find((s) => s.stage === 'a')!;
  assert.deepEqual([a.instances, a.upToDate, a.runs, a.computeMs, a.medianMs, a.maxMs, a.spanMs], [3, 2, 2, 4000, 2000, 3000, 3500]);
  const s = t.stages.find((x) => x.stage === 's')!;
  assert.deepEqual([s.instances, s.upToDate, s.runs, s.computeMs, s.spanMs], [1, 0, 2, 600, 500]);
  assert.equal(t.computeMs, 4600);
  assert.equal(t.spanMs, 60_500);
  const md = timingsMarkdown(t);
  assert.match(md, /\| a +\| 3 \(2\) +\| 2 +\| 4\.0s/);
  assert.match(md, /\*\*all\*\*/);
});

test('formatDuration picks the unit', () => {
  assert.equal(formatDuration(456), '456 ms');
  assert.equal(formatDuration(12_340), '12.3s');
  assert.equal(formatDuration(20 * 60_000 + 34_600), '20m 34.6s');
  assert.equal(formatDuration(3_600_000 + 5 * 60_000 + 7_000), '1h 05m 07s');
});
