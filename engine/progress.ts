/**
 * Progress of a run, for people watching a terminal and for CI logs.
 *
 * TTY: a live area (redrawn through log-update at most ~10 times a second) with one line per
 * running instance (label, bar, percent, elapsed, message) and an overall line (bar,
 * finished/total, counts, ETA). Finished and failed instances and log() lines print above it
 * and stay in the scrollback. Cache hits only count: with thousands of them, a line each would
 * bury the work that ran.
 *
 * Not a TTY (CI, pipes): plain lines only, no escape codes, and few of them:
 *     [ 12/340] done train dataset=mnist dropout=true run=0 (3m12s)
 *     [ 12/340] running cluster k=4: 45% iteration 9/20 (1m03s)     (at most once per instance per 10 s)
 *     [ 40/340] cached 28 instances                                 (consecutive cache hits, grouped)
 *
 * The ETA covers every remaining unit: those the run's cost model estimated (engine/estimate.ts,
 * the same numbers `repro --dry-run` prints) at their estimate, corrected by how far the model
 * has been off for the units computed so far; planned units without an estimate at the mean
 * duration of the computed units; units the plan did not have (cache hits) at nothing; running
 * units by their own fractions (see estimateRemainingMs).
 */
import { createLogUpdate } from 'log-update';

export type FinishStatus = 'done' | 'cached' | 'failed' | 'skipped';

export interface ProgressReporter {
  /** An instance starts running (`id` is unique per instance; `label` is what people read). */
  start(id: string, label: string): void;
  /** A running instance reports progress; omitted fields keep their previous value. */
  update(id: string, u: { fraction?: number; message?: string }): void;
  /** An instance ended (it need not have been started: cache hits usually are not). */
  finish(id: string, status: FinishStatus, detail?: string): void;
  /** A line for the log, printed above the live area. */
  log(line: string): void;
  /** How many instances this run covers in all (finished ones included). */
  setTotal(total: number): void;
  /** Stop redrawing and leave the final overall line; idempotent. */
  close(): void;
}

export interface ProgressOptions {
  stream: NodeJS.WriteStream;
  /** Draw a live area (default: `stream.isTTY`). */
  tty?: boolean;
  /** Clock in milliseconds (default: performance.now); tests inject their own. */
  now?: () => number;
  /** Estimated ms of units (by id) from the run's cost model; the ETA uses them. */
  estimates?: ReadonlyMap<string, number>;
  /** Slots of the run (--jobs): the ETA's parallelism before any is observed. */
  jobs?: number;
  /** How many units the plan has (with or without an estimate); the others are expected to be cache hits. */
  planned?: number;
}

/** The live area is redrawn at most this often. */
const REDRAW_INTERVAL_MS = 100;
/** Without a TTY, an instance prints a progress line at most this often (and not before it has run this long). */
const PLAIN_PROGRESS_INTERVAL_MS = 10_000;
/** Redraw this often even without events, so that elapsed times and the ETA move. */
const TICK_MS = 1000;

interface Running {
  label: string;
  startedAt: number;
  /** The cost model's estimate of this unit, if any. */
  estimateMs?: number;
  fraction?: number;
  message?: string;
  /** Non-TTY: when the last progress line for this instance was printed. */
  lastPlainAt: number;
}

/** What the ETA estimate needs (kept separate so that it can be tested on its own). */
export interface EtaInput {
  now: number;
  total: number;
  finished: number;
  /** Durations of the instances that were computed (done or failed), in ms. */
  computedDurations: { sum: number; count: number };
  running: readonly { startedAt: number; fraction?: number; estimateMs?: number }[];
  /** How many instances have run at the same time, at most, so far (the effective parallelism). */
  parallelism: number;
  /** Units not started yet that the cost model estimated: how many, and their estimated ms. */
  pendingEstimated?: { count: number; ms: number };
  /**
   * With a plan: how many units not started yet are planned but have no estimate (they count at
   * the mean). The other pending units were not planned (cache hits at planning time): no time.
   */
  pendingUnestimated?: number;
  /** Σ actual / Σ estimated over the computed units that had an estimate (1 when none has finished). */
  modelRatio?: number;
}

/** Weight, in average units, of the prior "the model is right" in the actual / estimated correction. */
const PRIOR_UNITS = 3;
/** Below this fraction a running unit's own projection is too noisy; its estimate is used instead. */
const TRUST_FRACTION = 0.2;

/**
 * Remaining wall time in ms, or undefined when there is nothing to go on yet.
 *
 * A running instance that reports a fraction f after e ms needs e·(1−f)/f more; one without a
 * fraction needs the mean computed duration minus its elapsed time. Each instance not started
 * yet needs the mean. The work is spread over the observed parallelism, but the run cannot end
 * before its slowest running instance does.
 */
export function estimateRemainingMs(input: EtaInput): number | undefined {
  const { now, running } = input;
  const ratio = input.modelRatio ?? 1;
  const pendingEstimated = input.pendingEstimated ?? { count: 0, ms: 0 };
  let mean: number | undefined;
  if (input.computedDurations.count > 0) {
    mean = input.computedDurations.sum / input.computedDurations.count;
  } else {
    const projected = running.filter((r) => r.fraction !== undefined && r.fraction > 0).map((r) => (now - r.startedAt) / r.fraction!);
    if (projected.length > 0) mean = projected.reduce((a, b) => a + b, 0) / projected.length;
    else if (pendingEstimated.count > 0) mean = (pendingEstimated.ms / pendingEstimated.count) * ratio;
  }
  let work = 0;
  let longest = 0;
  for (const r of running) {
    const elapsed = now - r.startedAt;
    const f = r.fraction !== undefined ? Math.min(r.fraction, 1) : undefined;
    let left: number;
    if (f !== undefined && f > 0 && (f >= TRUST_FRACTION || r.estimateMs === undefined)) left = (elapsed * (1 - f)) / f;
    else if (r.estimateMs !== undefined) left = f === undefined ? Math.max(r.estimateMs * ratio - elapsed, 0) : r.estimateMs * ratio * (1 - f);
    else if (mean !== undefined) left = Math.max(mean - elapsed, 0);
    else return undefined;
    work += left;
    longest = Math.max(longest, left);
  }
  const pending = Math.max(0, input.total - input.finished - running.length);
  const estimated = Math.min(pending, pendingEstimated.count);
  if (estimated > 0) work += pendingEstimated.ms * ratio * (estimated / pendingEstimated.count);
  const unestimated = input.pendingUnestimated === undefined ? pending - estimated : Math.min(pending - estimated, input.pendingUnestimated);
  if (unestimated > 0) {
    if (mean === undefined) return undefined;
    work += unestimated * mean;
  }
  return Math.max(longest, work / Math.max(1, input.parallelism));
}

/** 0.4s, 12s, 3m12s, 1h02m. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) ms = 0;
  const seconds = ms / 1000;
  if (seconds < 10) return `${seconds.toFixed(1)}s`;
  if (seconds < 60) return `${Math.floor(seconds)}s`;
  const totalSeconds = Math.floor(seconds);
  if (totalSeconds < 3600) return `${Math.floor(totalSeconds / 60)}m${String(totalSeconds % 60).padStart(2, '0')}s`;
  const minutes = Math.floor(totalSeconds / 60);
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

export function createProgress(opts: ProgressOptions): ProgressReporter {
  return new Progress(opts);
}

/**
 * The cost model as the run goes: the estimates of units not started yet, and actual vs
 * estimated of the units computed so far (the ETA's correction).
 */
class CostModel {
  private readonly estimates: ReadonlyMap<string, number>;
  private readonly unstarted: Set<string>;
  /** Units not started yet that have an estimate: how many, and their estimated ms. */
  readonly pendingEstimated: { count: number; ms: number };
  /** Σ actual and Σ estimated ms, including the prior. */
  private readonly model: { actual: number; estimated: number };
  /** Planned units without an estimate not started yet (undefined without a plan). */
  unestimatedPlanned: number | undefined;
  /** Durations of the units computed (done or failed), in ms. */
  readonly computed = { sum: 0, count: 0 };

  constructor(estimates: ReadonlyMap<string, number> | undefined, planned: number | undefined) {
    this.estimates = estimates ?? new Map<string, number>();
    this.unstarted = new Set(this.estimates.keys());
    this.pendingEstimated = { count: this.estimates.size, ms: [...this.estimates.values()].reduce((a, b) => a + b, 0) };
    // actual / estimated starts from PRIOR_UNITS average units at ratio 1, so that the first unit or
    // two (which also pay for worker start-up) do not swing the whole ETA.
    const priorMs = this.pendingEstimated.count > 0 ? (PRIOR_UNITS * this.pendingEstimated.ms) / this.pendingEstimated.count : 0;
    this.model = { actual: priorMs, estimated: priorMs };
    this.unestimatedPlanned = planned === undefined ? undefined : Math.max(0, planned - this.estimates.size);
  }

  /** A unit starts: its estimate, if it has one, leaves the pending work. */
  start(id: string): number | undefined {
    const estimateMs = this.takeEstimate(id);
    if (estimateMs === undefined && this.unestimatedPlanned) this.unestimatedPlanned--;
    return estimateMs;
  }

  /** A unit ended; `r` is its running entry if it was started. */
  finish(id: string, status: FinishStatus, r: Running | undefined, elapsed: number | undefined): void {
    if (r && (status === 'done' || status === 'failed')) {
      this.computed.sum += elapsed!;
      this.computed.count++;
      if (status === 'done' && r.estimateMs !== undefined && r.estimateMs > 0) {
        this.model.actual += elapsed!;
        this.model.estimated += r.estimateMs;
      }
    }
    if (!r) this.takeEstimate(id); // a unit that turned out cached (or skipped) leaves the pending work
  }

  /** Σ actual / Σ estimated so far. */
  ratio(): number {
    return this.model.estimated > 0 ? this.model.actual / this.model.estimated : 1;
  }

  private takeEstimate(id: string): number | undefined {
    if (!this.unstarted.delete(id)) return undefined;
    const ms = this.estimates.get(id)!;
    this.pendingEstimated.count--;
    this.pendingEstimated.ms -= ms;
    return ms;
  }
}

/** What both views (live area, plain lines) read: units running and finished, the total, the clock, the ETA. */
class Tally {
  readonly running = new Map<string, Running>();
  readonly counts: Record<FinishStatus, number> = { done: 0, cached: 0, failed: 0, skipped: 0 };
  readonly cost: CostModel;
  total = 0;
  /** How many units have run at the same time, at most (starts at --jobs). */
  parallelism: number;
  firstEventAt: number | undefined;

  constructor(
    readonly now: () => number,
    opts: ProgressOptions,
  ) {
    this.cost = new CostModel(opts.estimates, opts.planned);
    this.parallelism = opts.jobs ?? 0;
  }

  /** Units ended in any way. */
  finished(): number {
    return this.counts.done + this.counts.cached + this.counts.failed + this.counts.skipped;
  }

  /** The total, never below what has been seen (a unit may appear before setTotal counts it). */
  shownTotal(): number {
    return Math.max(this.total, this.finished() + this.running.size);
  }

  /** The elapsed time counts from the first start or finish. */
  markEvent(): void {
    this.firstEventAt ??= this.now();
  }

  /** `[ 12/340]`, padded to the total's width. */
  counter(): string {
    const t = this.shownTotal();
    const width = String(t).length;
    return `[${String(this.finished()).padStart(width)}/${t}]`;
  }

  /** Remaining wall time from the current tally (see estimateRemainingMs). */
  eta(): number | undefined {
    return estimateRemainingMs({
      now: this.now(),
      total: this.shownTotal(),
      finished: this.finished(),
      computedDurations: this.cost.computed,
      running: [...this.running.values()],
      parallelism: this.parallelism,
      pendingEstimated: this.cost.pendingEstimated,
      modelRatio: this.cost.ratio(),
      pendingUnestimated: this.cost.unestimatedPlanned,
    });
  }
}

/** Wrap text in an SGR colour code when colour is on. */
const paint = (color: boolean, code: number, text: string) => (color ? `\u001B[${code}m${text}\u001B[39m` : text);

/** A status, coloured: done green, failed red, skipped yellow. */
function statusWord(color: boolean, status: FinishStatus | 'running'): string {
  switch (status) {
    case 'done':
      return paint(color, 32, status);
    case 'failed':
      return paint(color, 31, status);
    case 'skipped':
      return paint(color, 33, status);
    default:
      return status;
  }
}

/** Line pieces of the live area: a bar of `width` cells, a padded percentage, text cut to `width` with an ellipsis. */
const bar = (fraction: number, width: number) => {
  const filled = Math.round(Math.min(Math.max(fraction, 0), 1) * width);
  return '█'.repeat(filled) + '░'.repeat(width - filled);
};
const percent = (fraction: number) => `${Math.floor(Math.min(Math.max(fraction, 0), 1) * 100)}%`.padStart(4);
const fit = (text: string, width: number) => (text.length > width ? `${text.slice(0, Math.max(0, width - 1))}…` : text);

/** A finished unit's line, with a multi-line detail indented under it. */
function withDetail(head: string, detail: string | undefined): string {
  if (!detail) return head;
  const [first, ...rest] = detail.trimEnd().split('\n');
  return [`${head}: ${first}`, ...rest.map((line) => `    ${line}`)].join('\n');
}

/** The overall line: bar, finished/total, counts, elapsed and ETA, fitted to `columns`. */
function overallLine(tally: Tally, color: boolean, final: boolean, columns: number): string {
  const { counts, running } = tally;
  const t = tally.shownTotal();
  const finished = tally.finished();
  const progressed = finished + [...running.values()].reduce((a, r) => a + (r.fraction ?? 0), 0);
  const parts = [`${finished}/${t}`];
  if (running.size > 0) parts.push(`${running.size} running`);
  if (counts.done > 0) parts.push(`${counts.done} done`);
  if (counts.cached > 0) parts.push(`${counts.cached} cached`);
  if (counts.failed > 0) parts.push(paint(color, 31, `${counts.failed} failed`));
  if (counts.skipped > 0) parts.push(`${counts.skipped} skipped`);
  if (tally.firstEventAt !== undefined) parts.push(`elapsed ${formatDuration(tally.now() - tally.firstEventAt)}`);
  if (!final && finished < t) {
    const remaining = tally.eta();
    parts.push(`ETA ${remaining === undefined ? '--' : formatDuration(remaining)}`);
  }
  const summary = parts.join(' · ');
  // Shorten, then drop, the bar rather than wrap the line on a narrow terminal.
  const visible = summary.replace(/\u001B\[\d+m/g, '');
  const barWidth = Math.min(24, columns - 2 - visible.length);
  if (barWidth >= 8) return `${bar(t > 0 ? progressed / t : 0, barWidth)} ${summary}`;
  return visible.length <= columns - 1 ? summary : fit(visible, columns - 1);
}

/** The live area's text: one line per running unit (as many as fit), then the overall line. */
function frame(tally: Tally, color: boolean, final: boolean, screen: { columns: number; rows: number }): string {
  const columns = Math.max(40, screen.columns);
  const rows = Math.max(4, screen.rows);
  const lines: string[] = [];
  if (!final) {
    const items = [...tally.running.values()];
    const labelWidth = Math.min(Math.max(0, ...items.map((r) => r.label.length)), Math.floor(columns * 0.45));
    const room = rows - 3;
    const shown = items.length > room ? items.slice(0, room - 1) : items;
    for (const r of shown) {
      const progress = r.fraction === undefined ? ' '.repeat(21) : `${bar(r.fraction, 16)} ${percent(r.fraction)}`;
      const line = `  ${fit(r.label, labelWidth).padEnd(labelWidth)}  ${progress}  ${formatDuration(tally.now() - r.startedAt).padStart(6)}  ${r.message ?? ''}`;
      lines.push(fit(line.trimEnd(), columns - 1));
    }
    if (shown.length < items.length) lines.push(`  … and ${items.length - shown.length} more running`);
  }
  lines.push(overallLine(tally, color, final, columns));
  return lines.join('\n');
}

/**
 * TTY: the live area, drawn through log-update at most every REDRAW_INTERVAL_MS, and every
 * TICK_MS while units run so that elapsed times and the ETA move.
 */
class LiveArea {
  /** log-update draws nothing on a terminal reporting 0 rows (some ptys do, e.g. under `script`): sane sizes. */
  private readonly screen: { readonly columns: number; readonly rows: number };
  private readonly draw: ReturnType<typeof createLogUpdate>;
  private lastRenderAt = -Infinity;
  private renderTimer: NodeJS.Timeout | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly tally: Tally,
    private readonly color: boolean,
  ) {
    this.screen = {
      get columns() {
        return stream.columns || 80;
      },
      get rows() {
        return stream.rows || 24;
      },
    };
    const screen = this.screen;
    const liveStream = {
      isTTY: true,
      get columns() {
        return screen.columns;
      },
      get rows() {
        return screen.rows;
      },
      write: (chunk: string) => stream.write(chunk),
    } as unknown as NodeJS.WriteStream;
    // The cursor stays visible: hiding it risks leaving it hidden after a crash.
    this.draw = createLogUpdate(liveStream, { showCursor: true });
  }

  /** Redraw now (an arrow: it is also the timers' callback). */
  readonly render = (): void => {
    if (this.closed) return;
    if (this.renderTimer) {
      clearTimeout(this.renderTimer);
      this.renderTimer = undefined;
    }
    this.lastRenderAt = this.tally.now();
    this.draw(frame(this.tally, this.color, false, this.screen));
  };

  /** Redraw soon: now if the last redraw is old enough, else once the interval has passed. */
  scheduleRender(): void {
    if (this.closed) return;
    if (!this.ticker && this.tally.running.size > 0) {
      this.ticker = setInterval(this.render, TICK_MS);
      this.ticker.unref();
    }
    const wait = REDRAW_INTERVAL_MS - (this.tally.now() - this.lastRenderAt);
    if (wait <= 0) this.render();
    else if (!this.renderTimer) {
      this.renderTimer = setTimeout(this.render, Math.min(wait, REDRAW_INTERVAL_MS));
      this.renderTimer.unref();
    }
  }

  /** Nothing runs: stop the once-a-second redraw. */
  stopTicker(): void {
    if (!this.ticker) return;
    clearInterval(this.ticker);
    this.ticker = undefined;
  }

  /** Print lines above the live area (plainly once it is closed). */
  printAbove(text: string): void {
    if (!this.closed) {
      this.draw.clear();
      this.stream.write(`${text}\n`);
      this.render();
    } else {
      this.stream.write(`${text}\n`);
    }
  }

  /** Leave the final overall line (if anything happened) and stop drawing. */
  close(): void {
    if (this.renderTimer) clearTimeout(this.renderTimer);
    if (this.ticker) clearInterval(this.ticker);
    this.renderTimer = undefined;
    this.ticker = undefined;
    if (this.tally.firstEventAt !== undefined || this.tally.total > 0) this.draw(frame(this.tally, this.color, true, this.screen));
    else this.draw.clear();
    this.draw.done();
    this.closed = true;
  }
}

/** Not a TTY: plain lines, consecutive cache hits grouped into one, progress lines rate-limited. */
class PlainLines {
  /** Consecutive cache hits not printed yet. */
  private cachedGroup: { count: number; label: string } | undefined;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly tally: Tally,
  ) {}

  /** Print a line, after the cache hits before it. */
  write(text: string): void {
    this.flushCachedGroup();
    this.stream.write(`${text}\n`);
  }

  /** A cache hit: held back, to print with the hits next to it as one line. */
  cached(label: string): void {
    this.cachedGroup = { count: (this.cachedGroup?.count ?? 0) + 1, label };
  }

  /** Print the held-back cache hits (before any other line, so the counts stay in order). */
  flushCachedGroup(): void {
    if (!this.cachedGroup) return;
    const group = this.cachedGroup;
    this.cachedGroup = undefined;
    const what = group.count === 1 ? group.label : `${group.count} results`;
    this.stream.write(`${this.tally.counter()} cached ${what}\n`);
  }

  /** A running unit's progress line, at most every PLAIN_PROGRESS_INTERVAL_MS (and not before it has run that long). */
  progress(r: Running): void {
    const t = this.tally.now();
    if (t - r.startedAt < PLAIN_PROGRESS_INTERVAL_MS || t - r.lastPlainAt < PLAIN_PROGRESS_INTERVAL_MS) return;
    r.lastPlainAt = t;
    this.flushCachedGroup();
    const parts = [r.fraction === undefined ? undefined : `${Math.floor(r.fraction * 100)}%`, r.message].filter(Boolean);
    this.stream.write(`${this.tally.counter()} running ${r.label}${parts.length ? `: ${parts.join(' ')}` : ''} (${formatDuration(t - r.startedAt)})\n`);
  }
}

/** The ProgressReporter: keeps the tally and hands each event to the live area or the plain lines. */
class Progress implements ProgressReporter {
  private readonly tally: Tally;
  private readonly color: boolean;
  private readonly live: LiveArea | undefined;
  private readonly plain: PlainLines;
  private closed = false;

  constructor(opts: ProgressOptions) {
    const tty = opts.tty ?? opts.stream.isTTY === true;
    this.color = tty && !process.env.NO_COLOR;
    this.tally = new Tally(opts.now ?? (() => performance.now()), opts);
    this.live = tty ? new LiveArea(opts.stream, this.tally, this.color) : undefined;
    this.plain = new PlainLines(opts.stream, this.tally);
  }

  start(id: string, label: string): void {
    if (this.closed) return;
    const { tally } = this;
    tally.markEvent();
    const t = tally.now();
    const estimateMs = tally.cost.start(id);
    tally.running.set(id, { label, startedAt: t, lastPlainAt: -Infinity, estimateMs });
    tally.parallelism = Math.max(tally.parallelism, tally.running.size);
    if (this.live) this.live.scheduleRender();
    else this.plain.flushCachedGroup();
  }

  update(id: string, u: { fraction?: number; message?: string }): void {
    if (this.closed) return;
    const r = this.tally.running.get(id);
    if (!r) return;
    if (u.fraction !== undefined && Number.isFinite(u.fraction)) r.fraction = Math.min(Math.max(u.fraction, 0), 1);
    if (u.message !== undefined) r.message = u.message.split('\n')[0];
    if (this.live) this.live.scheduleRender();
    else this.plain.progress(r);
  }

  finish(id: string, status: FinishStatus, detail?: string): void {
    if (this.closed) return;
    const { tally } = this;
    tally.markEvent();
    const r = tally.running.get(id);
    tally.running.delete(id);
    tally.counts[status]++;
    const elapsed = r ? tally.now() - r.startedAt : undefined;
    tally.cost.finish(id, status, r, elapsed);
    if (tally.running.size === 0) this.live?.stopTicker();
    const label = r?.label ?? id;
    if (status === 'cached') {
      if (this.live) this.live.scheduleRender();
      else this.plain.cached(label);
      return;
    }
    const head = `${tally.counter()} ${statusWord(this.color, status)} ${label}${elapsed === undefined ? '' : ` (${formatDuration(elapsed)})`}`;
    if (this.live) this.live.printAbove(withDetail(head, detail));
    else this.plain.write(withDetail(head, detail));
  }

  log(line: string): void {
    if (this.live) this.live.printAbove(line);
    else this.plain.write(line);
  }

  setTotal(n: number): void {
    if (this.closed) return;
    this.tally.total = Math.max(0, Math.floor(n));
    if (this.live) this.live.scheduleRender();
  }

  close(): void {
    if (this.closed) return;
    if (this.live) this.live.close();
    else this.plain.flushCachedGroup();
    this.closed = true;
  }
}
