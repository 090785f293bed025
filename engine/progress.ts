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
  const stream = opts.stream;
  const tty = opts.tty ?? stream.isTTY === true;
  const now = opts.now ?? (() => performance.now());
  const color = tty && !process.env.NO_COLOR;

  const running = new Map<string, Running>();
  const counts: Record<FinishStatus, number> = { done: 0, cached: 0, failed: 0, skipped: 0 };
  const computed = { sum: 0, count: 0 };
  // The cost model: estimates of units not started yet, and actual vs estimated of finished ones.
  const estimates = opts.estimates ?? new Map<string, number>();
  const pendingEstimated = { count: estimates.size, ms: [...estimates.values()].reduce((a, b) => a + b, 0) };
  // actual / estimated starts from PRIOR_UNITS average units at ratio 1, so that the first unit or
  // two (which also pay for worker start-up) do not swing the whole ETA.
  const priorMs = pendingEstimated.count > 0 ? (PRIOR_UNITS * pendingEstimated.ms) / pendingEstimated.count : 0;
  const model = { actual: priorMs, estimated: priorMs };
  let unestimatedPlanned = opts.planned === undefined ? undefined : Math.max(0, opts.planned - estimates.size);
  const unstarted = new Set(estimates.keys());
  const takeEstimate = (id: string): number | undefined => {
    if (!unstarted.delete(id)) return undefined;
    const ms = estimates.get(id)!;
    pendingEstimated.count--;
    pendingEstimated.ms -= ms;
    return ms;
  };
  let total = 0;
  let parallelism = opts.jobs ?? 0;
  let firstEventAt: number | undefined;
  let closed = false;
  /** Non-TTY: consecutive cache hits not printed yet. */
  let cachedGroup: { count: number; label: string } | undefined;

  const finished = () => counts.done + counts.cached + counts.failed + counts.skipped;
  const shownTotal = () => Math.max(total, finished() + running.size);
  const markEvent = () => {
    firstEventAt ??= now();
  };

  const counter = () => {
    const t = shownTotal();
    const width = String(t).length;
    return `[${String(finished()).padStart(width)}/${t}]`;
  };

  const paint = (code: number, text: string) => (color ? `\u001B[${code}m${text}\u001B[39m` : text);
  const statusWord = (status: FinishStatus | 'running') => {
    switch (status) {
      case 'done':
        return paint(32, status);
      case 'failed':
        return paint(31, status);
      case 'skipped':
        return paint(33, status);
      default:
        return status;
    }
  };

  const eta = (): number | undefined =>
    estimateRemainingMs({
      now: now(),
      total: shownTotal(),
      finished: finished(),
      computedDurations: computed,
      running: [...running.values()],
      parallelism,
      pendingEstimated,
      modelRatio: model.estimated > 0 ? model.actual / model.estimated : 1,
      pendingUnestimated: unestimatedPlanned,
    });

  // ---- TTY live area -------------------------------------------------------------------------

  // log-update draws nothing on a terminal reporting 0 rows (some ptys do, e.g. under `script`):
  // give it sane sizes. The cursor stays visible: hiding it risks leaving it hidden after a crash.
  const screenSize = {
    get columns() {
      return stream.columns || 80;
    },
    get rows() {
      return stream.rows || 24;
    },
  };
  const liveStream = {
    isTTY: true,
    get columns() {
      return screenSize.columns;
    },
    get rows() {
      return screenSize.rows;
    },
    write: (chunk: string) => stream.write(chunk),
  } as unknown as NodeJS.WriteStream;
  const live = tty ? createLogUpdate(liveStream, { showCursor: true }) : undefined;
  let lastRenderAt = -Infinity;
  let renderTimer: NodeJS.Timeout | undefined;
  let ticker: NodeJS.Timeout | undefined;

  const bar = (fraction: number, width: number) => {
    const filled = Math.round(Math.min(Math.max(fraction, 0), 1) * width);
    return '█'.repeat(filled) + '░'.repeat(width - filled);
  };
  const percent = (fraction: number) => `${Math.floor(Math.min(Math.max(fraction, 0), 1) * 100)}%`.padStart(4);
  const fit = (text: string, width: number) => (text.length > width ? `${text.slice(0, Math.max(0, width - 1))}…` : text);

  const overallLine = (final: boolean, columns: number) => {
    const t = shownTotal();
    const progressed = finished() + [...running.values()].reduce((a, r) => a + (r.fraction ?? 0), 0);
    const parts = [`${finished()}/${t}`];
    if (running.size > 0) parts.push(`${running.size} running`);
    if (counts.done > 0) parts.push(`${counts.done} done`);
    if (counts.cached > 0) parts.push(`${counts.cached} cached`);
    if (counts.failed > 0) parts.push(paint(31, `${counts.failed} failed`));
    if (counts.skipped > 0) parts.push(`${counts.skipped} skipped`);
    if (firstEventAt !== undefined) parts.push(`elapsed ${formatDuration(now() - firstEventAt)}`);
    if (!final && finished() < t) {
      const remaining = eta();
      parts.push(`ETA ${remaining === undefined ? '--' : formatDuration(remaining)}`);
    }
    const summary = parts.join(' · ');
    // Shorten, then drop, the bar rather than wrap the line on a narrow terminal.
    const visible = summary.replace(/\u001B\[\d+m/g, '');
    const barWidth = Math.min(24, columns - 2 - visible.length);
    if (barWidth >= 8) return `${bar(t > 0 ? progressed / t : 0, barWidth)} ${summary}`;
    return visible.length <= columns - 1 ? summary : fit(visible, columns - 1);
  };

  const frame = (final: boolean): string => {
    const columns = Math.max(40, screenSize.columns);
    const rows = Math.max(4, screenSize.rows);
    const lines: string[] = [];
    if (!final) {
      const items = [...running.values()];
      const labelWidth = Math.min(Math.max(0, ...items.map((r) => r.label.length)), Math.floor(columns * 0.45));
      const room = rows - 3;
      const shown = items.length > room ? items.slice(0, room - 1) : items;
      for (const r of shown) {
        const progress = r.fraction === undefined ? ' '.repeat(21) : `${bar(r.fraction, 16)} ${percent(r.fraction)}`;
        const line = `  ${fit(r.label, labelWidth).padEnd(labelWidth)}  ${progress}  ${formatDuration(now() - r.startedAt).padStart(6)}  ${r.message ?? ''}`;
        lines.push(fit(line.trimEnd(), columns - 1));
      }
      if (shown.length < items.length) lines.push(`  … and ${items.length - shown.length} more running`);
    }
    lines.push(overallLine(final, columns));
    return lines.join('\n');
  };

  const render = () => {
    if (!live || closed) return;
    if (renderTimer) {
      clearTimeout(renderTimer);
      renderTimer = undefined;
    }
    lastRenderAt = now();
    live(frame(false));
  };

  const scheduleRender = () => {
    if (!live || closed) return;
    if (!ticker && running.size > 0) {
      ticker = setInterval(render, TICK_MS);
      ticker.unref();
    }
    const wait = REDRAW_INTERVAL_MS - (now() - lastRenderAt);
    if (wait <= 0) render();
    else if (!renderTimer) {
      renderTimer = setTimeout(render, Math.min(wait, REDRAW_INTERVAL_MS));
      renderTimer.unref();
    }
  };

  /** Print lines above the live area (TTY) or plainly (not a TTY). */
  const printAbove = (text: string) => {
    if (live && !closed) {
      live.clear();
      stream.write(`${text}\n`);
      render();
    } else {
      stream.write(`${text}\n`);
    }
  };

  // ---- plain mode ----------------------------------------------------------------------------

  const flushCachedGroup = () => {
    if (!cachedGroup) return;
    const group = cachedGroup;
    cachedGroup = undefined;
    const what = group.count === 1 ? group.label : `${group.count} results`;
    stream.write(`${counter()} cached ${what}\n`);
  };

  const plainProgress = (r: Running) => {
    const t = now();
    if (t - r.startedAt < PLAIN_PROGRESS_INTERVAL_MS || t - r.lastPlainAt < PLAIN_PROGRESS_INTERVAL_MS) return;
    r.lastPlainAt = t;
    flushCachedGroup();
    const parts = [r.fraction === undefined ? undefined : `${Math.floor(r.fraction * 100)}%`, r.message].filter(Boolean);
    stream.write(`${counter()} running ${r.label}${parts.length ? `: ${parts.join(' ')}` : ''} (${formatDuration(t - r.startedAt)})\n`);
  };

  const withDetail = (head: string, detail: string | undefined) => {
    if (!detail) return head;
    const [first, ...rest] = detail.trimEnd().split('\n');
    return [`${head}: ${first}`, ...rest.map((line) => `    ${line}`)].join('\n');
  };

  return {
    start(id, label) {
      if (closed) return;
      markEvent();
      const t = now();
      const estimateMs = takeEstimate(id);
      if (estimateMs === undefined && unestimatedPlanned) unestimatedPlanned--;
      running.set(id, { label, startedAt: t, lastPlainAt: -Infinity, estimateMs });
      parallelism = Math.max(parallelism, running.size);
      if (live) scheduleRender();
      else flushCachedGroup();
    },

    update(id, u) {
      if (closed) return;
      const r = running.get(id);
      if (!r) return;
      if (u.fraction !== undefined && Number.isFinite(u.fraction)) r.fraction = Math.min(Math.max(u.fraction, 0), 1);
      if (u.message !== undefined) r.message = u.message.split('\n')[0];
      if (live) scheduleRender();
      else plainProgress(r);
    },

    finish(id, status, detail) {
      if (closed) return;
      markEvent();
      const r = running.get(id);
      running.delete(id);
      counts[status]++;
      const t = now();
      const elapsed = r ? t - r.startedAt : undefined;
      if (r && (status === 'done' || status === 'failed')) {
        computed.sum += elapsed!;
        computed.count++;
        if (status === 'done' && r.estimateMs !== undefined && r.estimateMs > 0) {
          model.actual += elapsed!;
          model.estimated += r.estimateMs;
        }
      }
      if (!r) takeEstimate(id); // a unit that turned out cached (or skipped) leaves the pending work
      if (running.size === 0 && ticker) {
        clearInterval(ticker);
        ticker = undefined;
      }
      const label = r?.label ?? id;
      if (status === 'cached') {
        if (live) scheduleRender();
        else cachedGroup = { count: (cachedGroup?.count ?? 0) + 1, label };
        return;
      }
      const head = `${counter()} ${statusWord(status)} ${label}${elapsed === undefined ? '' : ` (${formatDuration(elapsed)})`}`;
      if (live) printAbove(withDetail(head, detail));
      else {
        flushCachedGroup();
        stream.write(`${withDetail(head, detail)}\n`);
      }
    },

    log(line) {
      if (!live) flushCachedGroup();
      printAbove(line);
    },

    setTotal(n) {
      if (closed) return;
      total = Math.max(0, Math.floor(n));
      if (live) scheduleRender();
    },

    close() {
      if (closed) return;
      if (renderTimer) clearTimeout(renderTimer);
      if (ticker) clearInterval(ticker);
      renderTimer = undefined;
      ticker = undefined;
      if (live) {
        if (firstEventAt !== undefined || total > 0) live(frame(true));
        else live.clear();
        live.done();
      } else {
        flushCachedGroup();
      }
      closed = true;
    },
  };
}
