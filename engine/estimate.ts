/**
 * The time estimate of a run: how much compute each unit that would run needs, and how long
 * the run takes on the wall clock with `--jobs` slots.
 *
 * Cost model: a unit's duration is proportional to its work, `StageDef.work(axes, params)`
 * (the stage's own unit, e.g. epochs × examples; a shard does that per sample, times its
 * samples; default 1 per instance). The rate (ms per unit of work) of each stage comes from the
 * run records in the store: Σ recorded ms / Σ recorded work over its most recent runs, so the
 * estimate reflects this machine and the current code. Combine steps have their own rate. A
 * stage with no records has no estimate: it is named, never guessed at. When more jobs than
 * cores are asked for, each unit is slowed by jobs / cores (the records were measured with a
 * core each).
 *
 * Wall time: the units are list-scheduled in plan order onto `jobs` slots, each starting when
 * a slot is free and its upstream units have finished (what the scheduler does); units without
 * an estimate take no time there, so the wall time is then a lower bound.
 */
import { availableParallelism } from 'node:os';
import { GraphError } from './errors.ts';
import type { Instance } from './graph.ts';
import type { PlannedUnit } from './scheduler.ts';
import type { RunRecord, RunRole, Store } from './store.ts';
import type { StageDef } from './types.ts';

/** Records per stage (and role class) the rates are computed from: the most recent ones. */
export const RECENT_RECORDS = 200;

type RateClass = 'run' | 'combine';

export interface Rate {
  /** ms per unit of work. */
  msPerWork: number;
  /** How many records it came from (0 for a calibration). */
  records: number;
  /** Set when the rate comes from a calibration run instead of records: what ran. */
  calibrated?: string;
}

/**
 * Rates for the stages of a plan that have no recorded rate but a `calibrate` function: run each
 * (once per stage, with the params of its first planned unit) and add its rate to `rates`.
 */
export async function calibrateMissing(plan: readonly PlannedUnit[], rates: Map<string, Rate>): Promise<void> {
  const first = new Map<string, PlannedUnit>();
  for (const u of plan) if (u.role !== 'combine' && !first.has(u.inst.def.name)) first.set(u.inst.def.name, u);
  for (const [name, u] of first) {
    const def = u.inst.def;
    if (rates.has(`${name}\0run`) || !def.calibrate) continue;
    const c = await def.calibrate(u.inst.params);
    if (c.work > 0 && c.ms >= 0) rates.set(`${name}\0run`, { msPerWork: c.ms / c.work, records: 0, calibrated: c.what });
  }
}

/** Work of one unit: an instance's work, a shard's samples × work per sample, a combine's 1. */
export function unitWork(def: StageDef, axes: Instance['axes'], params: unknown, role: RunRole, shard?: { start: number; end: number }): number {
  if (role === 'combine') return 1;
  let w: number;
  try {
    w = def.work ? def.work(axes, params) : 1;
  } catch (err) {
    throw new GraphError(`stage '${def.name}': work() failed for ${JSON.stringify(axes)}: ${(err as Error).message}`);
  }
  const perUnit = Number.isFinite(w) && w > 0 ? w : 1;
  return role === 'shard' && shard ? perUnit * (shard.end - shard.start) : perUnit;
}

const rateClass = (role: RunRole): RateClass => (role === 'combine' ? 'combine' : 'run');

/**
 * Rates from run records: per stage and class, Σ ms / Σ work over the RECENT_RECORDS newest
 * records (by finish time). Records of stages not in `defs` are ignored.
 */
export function ratesFromRecords(records: Iterable<RunRecord>, defs: ReadonlyMap<string, StageDef>): Map<string, Rate> {
  const byClass = new Map<string, RunRecord[]>();
  for (const r of records) {
    if (!defs.has(r.stage) || !(r.timings?.ms >= 0)) continue;
    const id = `${r.stage}\0${rateClass(r.role)}`;
    let list = byClass.get(id);
    if (!list) byClass.set(id, (list = []));
    list.push(r);
  }
  const rates = new Map<string, Rate>();
  for (const [id, list] of byClass) {
    const recent = list.sort((a, b) => (a.timings.finishedAt < b.timings.finishedAt ? 1 : -1)).slice(0, RECENT_RECORDS);
    let ms = 0;
    let work = 0;
    for (const r of recent) {
      ms += r.timings.ms;
      work += unitWork(defs.get(r.stage)!, r.axes, r.keyParts.params, r.role, r.shard);
    }
    if (work > 0) rates.set(id, { msPerWork: ms / work, records: recent.length });
  }
  return rates;
}

/** Every run record in the store (what the rates are computed from). */
export function* storeRecords(store: Store): Generator<RunRecord> {
  for (const key of store.listRunKeys()) {
    const r = store.getRun(key);
    if (r) yield r;
  }
}

export interface StageEstimate {
  stage: string;
  /** Instances (plain instances and combines) and shards that would run. */
  instances: number;
  shards: number;
  /** Estimated compute in ms (sum over its units), undefined when the stage has no rate. */
  computeMs?: number;
  /** First start → last finish of its units in the simulated schedule. */
  wallMs?: number;
  /** Records behind the rate (0: no estimate, or a calibration). */
  records: number;
  /** What a calibration ran, when the rate comes from one. */
  calibrated?: string;
}

export interface RunEstimate {
  stages: StageEstimate[];
  /** Total estimated compute (stages with an estimate only) and simulated wall time. */
  computeMs: number;
  wallMs: number;
  /** Stages with units to run but no run records to estimate them from. */
  unknown: string[];
  jobs: number;
  /** Slow-down applied because jobs > cores (1 otherwise). */
  contention: number;
  /** Estimated ms of every planned unit that has an estimate, by unit id (the progress ETA uses it). */
  unitMs: Map<string, number>;
}

/** Estimate a plan (the units a dry run would compute, in plan order) with these rates. */
export function estimatePlan(plan: readonly PlannedUnit[], rates: ReadonlyMap<string, Rate>, jobs: number, cores = availableParallelism()): RunEstimate {
  const contention = Math.max(1, jobs / Math.max(1, cores));
  const unitMs = new Map<string, number>();
  const stages = new Map<string, StageEstimate>();
  const unknown = new Set<string>();
  for (const u of plan) {
    const name = u.inst.def.name;
    let s = stages.get(name);
    if (!s) stages.set(name, (s = { stage: name, instances: 0, shards: 0, records: 0 }));
    if (u.role === 'shard') s.shards++;
    else s.instances++;
    const rate = rates.get(`${name}\0${rateClass(u.role)}`);
    if (!rate) {
      // A combine without records is bookkeeping: it does not make the stage unknown.
      if (u.role !== 'combine') unknown.add(name);
      continue;
    }
    s.records = Math.max(s.records, rate.records);
    if (rate.calibrated) s.calibrated = rate.calibrated;
    const ms = rate.msPerWork * unitWork(u.inst.def, u.inst.axes, u.inst.params, u.role, u.shard) * contention;
    unitMs.set(u.id, ms);
    s.computeMs = (s.computeMs ?? 0) + ms;
  }
  for (const name of unknown) {
    const s = stages.get(name)!;
    s.computeMs = undefined;
    s.records = 0;
  }
  const spans = simulate(plan, unitMs, jobs);
  for (const s of stages.values()) if (!unknown.has(s.stage)) s.wallMs = spans.byStage.get(s.stage);
  const list = [...stages.values()];
  return {
    stages: list,
    computeMs: list.reduce((a, s) => a + (s.computeMs ?? 0), 0),
    wallMs: spans.total,
    unknown: [...unknown],
    jobs,
    contention,
    unitMs,
  };
}

/**
 * List scheduling, as the scheduler runs them: whenever a slot is free, the earliest unit (in
 * plan order) whose upstream units (the upstream instances' final units, a combine's shards)
 * have all finished starts on it.
 */
export function simulate(plan: readonly PlannedUnit[], unitMs: ReadonlyMap<string, number>, jobs: number): { total: number; byStage: Map<string, number> } {
  const index = new Map(plan.map((u, i) => [u.id, i]));
  const waitingOn = new Array<number>(plan.length).fill(0);
  const dependents: number[][] = plan.map(() => []);
  const shardsOf = new Map<Instance, number[]>();
  plan.forEach((u, i) => u.role === 'shard' && (shardsOf.get(u.inst) ?? shardsOf.set(u.inst, []).get(u.inst)!).push(i));
  plan.forEach((u, i) => {
    const deps = new Set<number>();
    for (const b of u.inst.inputs) {
      const j = index.get(b.instance.id);
      if (j !== undefined) deps.add(j);
    }
    if (u.role === 'combine') for (const j of shardsOf.get(u.inst) ?? []) deps.add(j);
    waitingOn[i] = deps.size;
    for (const j of deps) dependents[j].push(i);
  });
  const ready = new MinHeap();
  plan.forEach((_, i) => waitingOn[i] === 0 && ready.push(i));
  const running: { end: number; i: number }[] = [];
  const span = new Map<string, { from: number; to: number }>();
  let now = 0;
  const slots = Math.max(1, jobs);
  for (let done = 0; done < plan.length; ) {
    while (running.length < slots && ready.size > 0) {
      const i = ready.pop();
      running.push({ end: now + (unitMs.get(plan[i].id) ?? 0), i });
      const name = plan[i].inst.def.name;
      const s = span.get(name);
      if (!s) span.set(name, { from: now, to: now });
      else s.from = Math.min(s.from, now);
    }
    if (running.length === 0) break; // a cycle cannot happen (the graph is a DAG); guard anyway
    let first = 0;
    for (let k = 1; k < running.length; k++) if (running[k].end < running[first].end) first = k;
    const { end, i } = running.splice(first, 1)[0];
    now = end;
    done++;
    const s = span.get(plan[i].inst.def.name)!;
    s.to = Math.max(s.to, end);
    for (const d of dependents[i]) if (--waitingOn[d] === 0) ready.push(d);
  }
  return { total: now, byStage: new Map([...span].map(([k, v]) => [k, v.to - v.from])) };
}

/** A binary min-heap of plan indices. */
class MinHeap {
  private readonly a: number[] = [];
  get size(): number {
    return this.a.length;
  }
  push(x: number): void {
    const a = this.a;
    a.push(x);
    for (let i = a.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (a[p] <= a[i]) break;
      [a[p], a[i]] = [a[i], a[p]];
      i = p;
    }
  }
  pop(): number {
    const a = this.a;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l] < a[m]) m = l;
        if (r < a.length && a[r] < a[m]) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i], a[m]];
        i = m;
      }
    }
    return top;
  }
}
