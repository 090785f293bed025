/**
 * `timings`: how long each stage took, from the run records of the instances the current params
 * use (the records keep the start, end and duration of the run that computed them; a cache hit
 * does not change them). For sample stages the shards are what ran, so they are what is counted.
 *
 * Two figures per stage, because they answer different questions:
 * - compute: the sum of the runs' durations (what the stage costs, whatever the parallelism);
 * - span: first start to last finish (what the stage added to the wall clock; overlapping
 *   stages share it, and results reused from an earlier run stretch it).
 */
import type { InstanceStatus } from './status.ts';
import type { RunRecord } from './store.ts';

export interface StageTiming {
  stage: string;
  /** Instances the params define, and how many of them are up to date. */
  instances: number;
  upToDate: number;
  /** Runs counted (instances, or shards of sample stages). */
  runs: number;
  computeMs: number;
  medianMs: number;
  maxMs: number;
  /** ISO times of the first start and last finish among the counted runs. */
  firstStart: string | null;
  lastFinish: string | null;
  spanMs: number;
}

export interface TimingSummary {
  stages: StageTiming[];
  computeMs: number;
  firstStart: string | null;
  lastFinish: string | null;
  spanMs: number;
}

/** Per-stage timings of the records behind `status` (stages in the order status lists them). */
export function summarizeTimings(list: readonly InstanceStatus[]): TimingSummary {
  const byStage = new Map<string, { instances: number; upToDate: number; records: RunRecord[] }>();
  for (const s of list) {
    let e = byStage.get(s.stage);
    if (!e) byStage.set(s.stage, (e = { instances: 0, upToDate: 0, records: [] }));
    e.instances++;
    if (s.state === 'up-to-date') e.upToDate++;
    // Shards are what ran for a sample stage (the combine step is bookkeeping, but it ran too).
    if (s.shards) for (const r of s.shards.records) if (r) e.records.push(r);
    if (s.record) e.records.push(s.record);
  }
  const stages = [...byStage].map(([stage, e]) => ({ stage, instances: e.instances, upToDate: e.upToDate, ...runStats(e.records) }));
  const all = runStats([...byStage.values()].flatMap((e) => e.records));
  return { stages, computeMs: all.computeMs, firstStart: all.firstStart, lastFinish: all.lastFinish, spanMs: all.spanMs };
}

function runStats(records: readonly RunRecord[]): Omit<StageTiming, 'stage' | 'instances' | 'upToDate'> {
  const ms = records.map((r) => r.timings.ms).sort((a, b) => a - b);
  const starts = records.map((r) => r.timings.startedAt).sort();
  const ends = records.map((r) => r.timings.finishedAt).sort();
  const firstStart = starts[0] ?? null;
  const lastFinish = ends[ends.length - 1] ?? null;
  const median = ms.length === 0 ? 0 : ms.length % 2 ? ms[(ms.length - 1) / 2] : (ms[ms.length / 2 - 1] + ms[ms.length / 2]) / 2;
  return {
    runs: ms.length,
    computeMs: ms.reduce((a, b) => a + b, 0),
    medianMs: median,
    maxMs: ms[ms.length - 1] ?? 0,
    firstStart,
    lastFinish,
    spanMs: firstStart && lastFinish ? Date.parse(lastFinish) - Date.parse(firstStart) : 0,
  };
}

/** 1234567 ms → "20m 34.6s"; below a minute "12.3s", below a second "456 ms". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s - h * 3600 - m * 60;
  return h ? `${h}h ${String(m).padStart(2, '0')}m ${rest.toFixed(0).padStart(2, '0')}s` : `${m}m ${rest.toFixed(1)}s`;
}

/** A Markdown table (one row per stage, then the total). */
export function timingsMarkdown(t: TimingSummary): string {
  const head = ['Stage', 'Instances (up to date)', 'Runs', 'Compute', 'Median run', 'Longest run', 'Span (first start → last finish)'];
  const row = (s: StageTiming) => [
    s.stage,
    `${s.instances} (${s.upToDate})`,
    String(s.runs),
    formatDuration(s.computeMs),
    formatDuration(s.medianMs),
    formatDuration(s.maxMs),
    spanText(s.spanMs, s.firstStart, s.lastFinish),
  ];
  const rows = [
    ...t.stages.map(row),
    ['**all**', '', String(t.stages.reduce((a, s) => a + s.runs, 0)), formatDuration(t.computeMs), '', '', spanText(t.spanMs, t.firstStart, t.lastFinish)],
  ];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(head), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)].join('\n') + '\n';
}

function spanText(ms: number, from: string | null, to: string | null): string {
  return from && to ? `${formatDuration(ms)} (${from.slice(0, 16).replace('T', ' ')} → ${to.slice(0, 16).replace('T', ' ')} UTC)` : '–';
}
