/**
 * engine/progress.ts: plain CI lines, the TTY live area (read back through a tiny terminal
 * emulator that applies the cursor and erase sequences log-update writes), redraw throttling,
 * and the ETA arithmetic with an injected clock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProgress, estimateRemainingMs, formatDuration } from '../engine/progress.ts';

class FakeStream {
  chunks: string[] = [];
  constructor(
    readonly isTTY: boolean,
    readonly columns = 120,
    readonly rows = 30,
  ) {}
  write(chunk: string | Uint8Array): boolean {
    this.chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  }
  get text(): string {
    return this.chunks.join('');
  }
  asStream(): NodeJS.WriteStream {
    return this as unknown as NodeJS.WriteStream;
  }
}

/** A clock the test moves by hand. */
function fakeClock(start = 0) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms), set: (ms: number) => void (t = ms) };
}

/**
 * The visible screen after replaying `output`: text, newlines, cursor up/down/column-1, erase
 * line and erase to end of line; other sequences (colour, synchronized output) are ignored.
 */
function screen(output: string): string[] {
  const lines: string[] = [''];
  let row = 0;
  let col = 0;
  const token = /\u001B\[(\??)(\d*)([A-Za-z])|\n|[^\u001B\n]+/g;
  for (const match of output.matchAll(token)) {
    const [whole, question, count, command] = match;
    if (whole === '\n') {
      row++;
      col = 0;
      while (lines.length <= row) lines.push('');
    } else if (command !== undefined) {
      if (question) continue;
      const n = count === '' ? 1 : Number(count);
      if (command === 'A') row = Math.max(0, row - n);
      else if (command === 'B') {
        row += n;
        while (lines.length <= row) lines.push('');
      } else if (command === 'G') col = count === '' ? 0 : n - 1;
      else if (command === 'K' && count === '2') lines[row] = '';
      else if (command === 'K') lines[row] = lines[row].slice(0, col);
      // 'm' (colour) and others: no effect on the text
    } else {
      const line = lines[row].padEnd(col);
      lines[row] = line.slice(0, col) + whole + line.slice(col + whole.length);
      col += whole.length;
    }
  }
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

// ---- ETA arithmetic ----------------------------------------------------------------------------

test('ETA: unknown before anything finished or reported a fraction', () => {
  assert.equal(
    estimateRemainingMs({ now: 5000, total: 10, finished: 0, computedDurations: { sum: 0, count: 0 }, running: [{ startedAt: 0 }], parallelism: 1 }),
    undefined,
  );
});

test('ETA: mean of computed durations for pending instances, fractions for running ones, over the parallelism', () => {
  // One instance took 10 s; one is half way after 10 s (10 s left); two have not started (10 s
  // each). 30 s of work on 2 slots: 15 s.
  const eta = estimateRemainingMs({
    now: 10_000,
    total: 4,
    finished: 1,
    computedDurations: { sum: 10_000, count: 1 },
    running: [{ startedAt: 0, fraction: 0.5 }],
    parallelism: 2,
  });
  assert.equal(eta, 15_000);
});

test('ETA: from running fractions alone when nothing has finished', () => {
  // 20 s in at 25 %: 80 s per instance, 60 s left for it; 1 pending × 80 s; 140 s over 1 slot.
  const eta = estimateRemainingMs({
    now: 20_000,
    total: 2,
    finished: 0,
    computedDurations: { sum: 0, count: 0 },
    running: [{ startedAt: 0, fraction: 0.25 }],
    parallelism: 1,
  });
  assert.equal(eta, 140_000);
});

test('ETA: never shorter than the slowest running instance', () => {
  // Mean 1 s, but the running instance is at 10 % after 100 s: 900 s left, whatever the parallelism.
  const eta = estimateRemainingMs({
    now: 100_000,
    total: 3,
    finished: 2,
    computedDurations: { sum: 2000, count: 2 },
    running: [{ startedAt: 0, fraction: 0.1 }],
    parallelism: 8,
  });
  assert.equal(eta, 900_000);
});

test('ETA: a running instance without a fraction is expected to take the mean', () => {
  const eta = estimateRemainingMs({
    now: 4000,
    total: 2,
    finished: 1,
    computedDurations: { sum: 10_000, count: 1 },
    running: [{ startedAt: 0 }],
    parallelism: 1,
  });
  assert.equal(eta, 6000);
});

test('formatDuration: short, seconds, minutes, hours', () => {
  assert.equal(formatDuration(400), '0.4s');
  assert.equal(formatDuration(12_300), '12s');
  assert.equal(formatDuration(192_000), '3m12s');
  assert.equal(formatDuration(3_600_000 + 2 * 60_000 + 5000), '1h02m');
});

// ---- plain (non-TTY) mode ----------------------------------------------------------------------

test('plain: one line per finished instance with counter, status, label and duration; no escape codes', () => {
  const out = new FakeStream(false);
  const clock = fakeClock();
  const p = createProgress({ stream: out.asStream(), now: clock.now });
  p.setTotal(340);
  p.start('a', 'train dataset=mnist dropout=true run=0');
  p.start('b', 'train dataset=mnist dropout=true run=1');
  clock.advance(192_000);
  p.finish('a', 'done');
  clock.advance(8000);
  p.finish('b', 'failed', 'out of memory\nat epoch 3');
  p.close();
  assert.deepEqual(out.text.split('\n'), [
    '[  1/340] done train dataset=mnist dropout=true run=0 (3m12s)',
    '[  2/340] failed train dataset=mnist dropout=true run=1 (3m20s): out of memory',
    '    at epoch 3',
    '',
  ]);
  assert.doesNotMatch(out.text, /\u001B/);
});

test('plain: progress lines at most once per instance per 10 s, none for short instances', () => {
  const out = new FakeStream(false);
  const clock = fakeClock();
  const p = createProgress({ stream: out.asStream(), now: clock.now });
  p.setTotal(2);
  p.start('quick', 'quick');
  p.update('quick', { fraction: 0.5, message: 'halfway' });
  clock.advance(2000);
  p.finish('quick', 'done');
  p.start('slow', 'cluster k=4');
  for (let second = 1; second <= 35; second++) {
    clock.advance(1000);
    p.update('slow', { fraction: second / 40, message: `iteration ${second}` });
  }
  p.close();
  const progressLines = out.text.split('\n').filter((l) => l.includes(' running '));
  assert.deepEqual(progressLines, [
    '[1/2] running cluster k=4: 25% iteration 10 (10s)',
    '[1/2] running cluster k=4: 50% iteration 20 (20s)',
    '[1/2] running cluster k=4: 75% iteration 30 (30s)',
  ]);
  assert.doesNotMatch(out.text, /quick.*halfway/);
});

test('plain: consecutive cache hits are grouped into one line', () => {
  const out = new FakeStream(false);
  const clock = fakeClock();
  const p = createProgress({ stream: out.asStream(), now: clock.now });
  p.setTotal(7);
  for (let i = 0; i < 5; i++) p.finish(`c${i}`, 'cached');
  p.start('x', 'report');
  clock.advance(1500);
  p.finish('x', 'done');
  p.finish('c5', 'cached');
  p.close();
  assert.deepEqual(out.text.split('\n'), ['[5/7] cached 5 results', '[6/7] done report (1.5s)', '[7/7] cached c5', '']);
});

test('plain: log lines print as they are, after pending cache hits', () => {
  const out = new FakeStream(false);
  const p = createProgress({ stream: out.asStream(), now: fakeClock().now });
  p.setTotal(2);
  p.finish('c', 'cached');
  p.log('note: using 2 workers');
  p.close();
  assert.deepEqual(out.text.split('\n'), ['[1/2] cached c', 'note: using 2 workers', '']);
});

// ---- TTY mode ----------------------------------------------------------------------------------

test('tty: one line per running instance and an overall line with counts and ETA', () => {
  const out = new FakeStream(true);
  const clock = fakeClock();
  const p = createProgress({ stream: out.asStream(), now: clock.now });
  p.setTotal(4);
  p.start('a', 'train run=0');
  p.start('b', 'train run=1');
  clock.advance(10_000);
  p.finish('a', 'done');
  clock.advance(200);
  p.update('b', { fraction: 0.5, message: 'epoch 10/20' });
  const shown = screen(out.text);
  assert.equal(shown[0], '[1/4] done train run=0 (10s)', 'finished instances stay above the live area');
  const running = shown.filter((l) => l.includes('train run=1'));
  assert.equal(running.length, 1);
  assert.match(running[0], /50%/);
  assert.match(running[0], /epoch 10\/20/);
  assert.match(running[0], /10s/);
  const overall = shown[shown.length - 1];
  assert.match(overall, /1\/4/);
  assert.match(overall, /1 running/);
  assert.match(overall, /1 done/);
  // Mean 10 s; b: 10.2 s at 50 % → 10.2 s left; 2 pending × 10 s; 30.2 s over 2 slots = 15.1 s.
  assert.match(overall, /ETA 15s/);
  p.close();
});

test('tty: log lines go above the live area, which is redrawn below them; close leaves the final line', () => {
  const out = new FakeStream(true);
  const clock = fakeClock();
  const p = createProgress({ stream: out.asStream(), now: clock.now });
  p.setTotal(2);
  p.start('a', 'lesion k=4');
  clock.advance(500);
  p.log('warning: slow disk');
  clock.advance(500);
  p.log('second note');
  let shown = screen(out.text);
  assert.deepEqual(shown.slice(0, 2), ['warning: slow disk', 'second note']);
  assert.equal(shown.filter((l) => l.includes('lesion k=4')).length, 1, 'exactly one live line for the instance');
  clock.advance(500);
  p.finish('a', 'done');
  p.finish('b', 'cached');
  p.close();
  shown = screen(out.text);
  assert.equal(shown.length, 4, `screen: ${JSON.stringify(shown)}`);
  assert.equal(shown[2], '[1/2] done lesion k=4 (1.5s)');
  assert.doesNotMatch(shown.join('\n'), /ETA/);
  assert.match(shown[3], /2\/2 · 1 done · 1 cached/);
  assert.ok(!shown.some((l) => l.startsWith('  lesion')), 'the running line is gone');
});

test('tty: redraws are throttled to about 10 per second of the clock', () => {
  const out = new FakeStream(true);
  const clock = fakeClock();
  const p = createProgress({ stream: out.asStream(), now: clock.now });
  const frames = () => out.chunks.filter((c) => c.includes('\u001B[?2026h')).length;
  p.setTotal(1);
  p.start('a', 'train');
  const afterStart = frames();
  assert.equal(afterStart, 1);
  for (let i = 0; i < 100; i++) p.update('a', { fraction: i / 100 });
  assert.equal(frames(), afterStart, 'updates within 100 ms wait for the next redraw');
  clock.advance(100);
  p.update('a', { fraction: 0.5 });
  assert.equal(frames(), afterStart + 1);
  assert.match(screen(out.text).join('\n'), /50%/);
  p.close();
});

test('tty: many running instances are cut to the terminal height', () => {
  const out2 = new FakeStream(true, 80, 8);
  const clock = fakeClock();
  const q = createProgress({ stream: out2.asStream(), now: clock.now });
  q.setTotal(20);
  for (let i = 0; i < 20; i++) q.start(`i${i}`, `shard index=${i}`);
  clock.advance(1000);
  q.update('i0', { fraction: 0.1 });
  const shown = screen(out2.text);
  assert.ok(shown.length <= 8, `screen has ${shown.length} lines`);
  assert.ok(
    shown.every((l) => l.length < 80),
    'no line wraps',
  );
  assert.ok(shown.some((l) => /and \d+ more running/.test(l)));
  q.close();
});

test('tty: a terminal that reports 0 rows and columns (some ptys) still gets a live area', () => {
  const out = new FakeStream(true, 0, 0);
  const clock = fakeClock();
  const p = createProgress({ stream: out.asStream(), now: clock.now });
  p.setTotal(1);
  clock.advance(100);
  p.start('a', 'dataset name=mnist');
  assert.ok(screen(out.text).some((l) => l.includes('dataset name=mnist')));
  p.close();
});

test('tty: cache hits only count; unknown ids are tolerated', () => {
  const out = new FakeStream(true);
  const p = createProgress({ stream: out.asStream(), now: fakeClock().now });
  p.setTotal(3);
  p.update('never-started', { fraction: 0.5 });
  p.finish('c1', 'cached');
  p.finish('c2', 'cached');
  p.finish('s1', 'skipped', 'upstream failed');
  p.close();
  const shown = screen(out.text);
  assert.deepEqual(shown.slice(0, -1), ['[3/3] skipped s1: upstream failed']);
  assert.match(shown[shown.length - 1], /3\/3 · 2 cached · 1 skipped/);
});
