/**
 * What `repro`, `repro --dry-run` and `status` print: one row per stage (counts, the estimate,
 * the most common reasons) rather than one line per instance, which for the paper's params is
 * thousands of lines; `--verbose` adds (dry run) or switches to (status) the per-instance lines.
 */
import { formatDuration } from './timings.ts';
import type { RunEstimate } from './estimate.ts';
import type { ReproSummary } from './scheduler.ts';
import type { InstanceStatus } from './status.ts';

/** Reasons that name one instance, generalised to its stage so that they can be counted. */
export function generalReason(reason: string): string {
  return reason
    .replace(/^upstream (\S+?)(\[[^\]]*\])?(#\d+)? would run$/, 'upstream $1 would run')
    .replace(/^upstream ([^\s[]+)\[[^\]]*\].* not up to date$/, 'waiting on upstream $1')
    .replace(/^(\d+) of (\d+) shards to compute.*$/, 'shards to compute');
}

/** The `n` most common (generalised) reasons, "reason ×count; ...". */
export function commonReasons(reasons: Iterable<string>, n = 2): string {
  const counts = new Map<string, number>();
  for (const r of reasons) {
    const g = generalReason(r);
    counts.set(g, (counts.get(g) ?? 0) + 1);
  }
  const top = [...counts].sort((a, b) => b[1] - a[1]).slice(0, n);
  const rest = counts.size - top.length;
  return top.map(([r, c]) => `${r} ×${c}`).join('; ') + (rest > 0 ? `; ${rest} other reason${rest === 1 ? '' : 's'}` : '');
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)].join('\n') + '\n';
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const withShards = (instances: number, shards: number) => (shards ? `${instances} (+${shards} shards)` : String(instances));
const ms = (v: number | undefined) => (v === undefined ? '?' : formatDuration(v));

/** Where the estimate came from, and what it could not cover (one or two lines). */
export function estimateBasis(e: RunEstimate): string {
  const known = e.stages.filter((s) => s.records > 0);
  const calibrated = e.stages.filter((s) => s.calibrated);
  const lines: string[] = [];
  if (known.length) {
    lines.push(
      `estimated from this machine's run records (per stage: recorded time per unit of work over its ${known.map((s) => `${s.stage} ${s.records}`).join(', ')} most recent runs)` +
        (e.contention > 1 ? `, each unit slowed ${e.contention.toFixed(1)}× because --jobs ${e.jobs} exceeds the cores` : ''),
    );
  }
  if (calibrated.length) {
    lines.push(
      `no run records of ${calibrated.map((s) => s.stage).join(', ')} yet: calibrated by a short run here (${calibrated.map((s) => `${s.stage}: ${s.calibrated}`).join('; ')})`,
    );
  }
  if (e.unknown.length) {
    lines.push(
      `cannot estimate ${e.unknown.join(', ')}: no run records of ${e.unknown.length === 1 ? 'it' : 'them'} here yet (run a smaller params file first to give this machine's rates); the totals leave ${e.unknown.length === 1 ? 'it' : 'them'} out`,
    );
  }
  return lines.join('\n');
}

/** The one line `repro` prints before it starts. */
export function formatEstimate(e: RunEstimate, params: string, units: number): string {
  if (e.unknown.length && !e.stages.some((s) => s.records > 0 || s.calibrated))
    return `${params}: ${plural(units, 'job')} to run, no time estimate\n${estimateBasis(e)}`;
  const total = e.unknown.length ? `at least ${ms(e.computeMs)} of compute, at least ${ms(e.wallMs)}` : `about ${ms(e.computeMs)} of compute, ${ms(e.wallMs)}`;
  return `${params}: ${plural(units, 'job')} to run, ${total} wall time with --jobs ${e.jobs}\n${estimateBasis(e)}`;
}

/** `repro --dry-run`: per stage, what would run and what is cached, the estimate, and why. */
export function formatPlanSummary(s: ReproSummary, e: RunEstimate, o: { params: string; stages: readonly string[]; verbose: boolean }): string {
  if (s.plan.length === 0) return `nothing to do, ${plural(s.instances, 'instance')} up to date (${o.params})\n`;
  const byStage = new Map(e.stages.map((x) => [x.stage, x]));
  const rows: string[][] = [];
  for (const stage of o.stages) {
    const est = byStage.get(stage);
    const cached = s.unitsByStage[stage];
    if (!est && !cached) continue;
    const reasons = s.plan.filter((u) => u.inst.def.name === stage && u.role !== 'combine').flatMap((u) => u.reasons);
    rows.push([
      stage,
      est ? withShards(est.instances, est.shards) : '0',
      cached ? withShards(cached.cached, cached.cachedShards) : '0',
      est ? ms(est.computeMs) : '',
      est ? ms(est.wallMs) : '',
      est ? commonReasons(reasons.length ? reasons : ['combine of new shards']) : '',
    ]);
  }
  const toRun = e.stages.reduce((a, x) => a + x.instances, 0);
  const shards = e.stages.reduce((a, x) => a + x.shards, 0);
  const none = e.unknown.length > 0 && !e.stages.some((x) => x.records > 0 || x.calibrated);
  const atLeast = (v: number) => (none ? '?' : (e.unknown.length ? '≥ ' : '') + ms(v));
  rows.push(['total', withShards(toRun, shards), String(s.upToDate), atLeast(e.computeMs), atLeast(e.wallMs), '']);
  const head = `dry run of ${o.params} with --jobs ${e.jobs}: ${plural(toRun, 'instance')}${shards ? ` and ${plural(shards, 'shard')}` : ''} to run, ${s.upToDate} up to date\n`;
  const body = table(['stage', 'to run', 'up to date', 'est. compute', 'est. wall', 'why (most common)'], rows);
  const detail = o.verbose ? s.planned.map((p) => `would run ${p.id}: ${p.reasons.join('; ')}`).join('\n') + '\n' : '(--verbose: one line per instance)\n';
  return head + body + estimateBasis(e) + '\n' + detail;
}

/** `status` without --verbose: one row per stage. */
export function formatStatusSummary(list: readonly InstanceStatus[]): string {
  const stages = new Map<string, InstanceStatus[]>();
  for (const s of list) (stages.get(s.stage) ?? stages.set(s.stage, []).get(s.stage)!).push(s);
  const n = (xs: readonly InstanceStatus[], st: InstanceStatus['state']) => xs.filter((x) => x.state === st).length;
  const rows = [...stages].map(([stage, xs]) => [
    stage,
    String(n(xs, 'up-to-date')),
    String(n(xs, 'stale')),
    String(n(xs, 'never-run')),
    String(n(xs, 'upstream-stale')),
    commonReasons(xs.filter((x) => x.state !== 'up-to-date').flatMap((x) => x.reasons)),
  ]);
  const body = table(['stage', 'up to date', 'stale', 'never run', 'waiting', 'why (most common)'], rows);
  return (
    body +
    `${n(list, 'up-to-date')} up to date, ${n(list, 'stale')} stale, ${n(list, 'never-run')} never run, ${n(list, 'upstream-stale')} waiting on upstream (--verbose: one line per instance)\n`
  );
}

/** The last line of a real `repro`. */
export function formatRanSummary(s: ReproSummary): string {
  const units = Object.values(s.unitsByStage);
  const cachedUnits = units.reduce((a, u) => a + u.cached + u.cachedShards, 0);
  if (s.ran === 0 && s.failed.length === 0 && s.skipped === 0) {
    const extra = cachedUnits > s.upToDate ? ` (${cachedUnits} cached results, counting each shard)` : '';
    return `nothing to do, ${plural(s.instances, 'instance')} up to date${extra}`;
  }
  const ran = Object.entries(s.unitsByStage)
    .filter(([, u]) => u.ran + u.ranShards > 0)
    .map(([stage, u]) => `${stage} ${u.ran}${u.ranShards ? ` (+${u.ranShards} shards)` : ''}`)
    .join(', ');
  return (
    `ran ${plural(s.ran, 'job')}${ran ? ` (${ran})` : ''}, ${s.upToDate} instance${s.upToDate === 1 ? ' was' : 's were'} already up to date` +
    (s.failed.length ? `, ${s.failed.length} failed` : '') +
    (s.skipped ? `, ${s.skipped} not run (after a failure or interruption)` : '') +
    ` in ${formatDuration(s.ms)}`
  );
}
