/**
 * `repro`: run every selected instance whose key has no run record, in dependency order,
 * concurrently up to --jobs.
 *
 * Keys are computed as late as possible: an instance's key needs its upstream outputs'
 * digests, so it is computed when its upstreams have finished (early cutoff: an upstream rerun
 * that reproduces the same bytes leaves the key, and therefore the cache hit, unchanged).
 *
 * For each unit of work (an instance, or a shard/combine of a sample stage):
 *   key → record present? cache hit : take the key's lock → re-check the record (another
 *   process may just have finished it) → run the job on an executor → store outputs (the
 *   executor does, by digest) → write the run record (atomic; its presence means done) →
 *   drop the checkpoint → release the lock.
 * A unit whose lock is held by a live process waits for it, without occupying a job slot,
 * and is then normally a cache hit: two concurrent `repro`s compute each key once.
 */
import pLimit from 'p-limit';
import { HOST } from './runner.ts';
import { explainChange } from './explain.ts';
import { tryLock } from './lock.ts';
import { sleep } from './fsutil.ts';
import { publishOutputs } from './publish.ts';
import { runSeed } from './keys.ts';
import { JobError, InlineExecutor, LocalExecutor, type DamagedObject } from './executor.ts';
import { DamagedObjectError } from './errors.ts';
import { isPidAlive } from './lock.ts';
import { describeDamage } from './store.ts';
import type { Instance } from './graph.ts';
import type { Session } from './session.ts';
import type { RunRecord, RunRole } from './store.ts';
import type { Executor, Job, JobInput, ProgressUpdate } from './job.ts';
import type { KeyParts } from './keys.ts';
import type { ProgressReporter } from './progress.ts';
import type { StageKey } from './types.ts';
import { join } from 'node:path';

export interface ReproOptions {
  /** Recompute even when cached: `true` for every selected stage, or a list of stage names. */
  force?: boolean | string[];
  dryRun?: boolean;
  /** With dryRun: still publish the outputs of cache hits (the planning pass of a real run, which may be all it needs). */
  publishCached?: boolean;
  jobs: number;
  keepGoing?: boolean;
  signal?: AbortSignal;
  progress: ProgressReporter;
  /** Runs non-inline jobs; default a LocalExecutor with `jobs` threads. */
  executor?: Executor;
}

export interface Failure {
  id: string;
  message: string;
  /** Where the full stack was written, for unexpected errors. */
  log?: string;
}

export interface ReproSummary {
  /** Instances in the selection. */
  instances: number;
  /** Units (instances, shards, combines) computed in this run. */
  ran: number;
  /** Instances that were already up to date. */
  upToDate: number;
  /** Units served from the cache (including shards). */
  cached: number;
  failed: Failure[];
  /** Units not run because an upstream failed, the run stopped, or it was interrupted. */
  skipped: number;
  /** --dry-run: instances (or shards) that would run, with why; units below them appear once, by instance. */
  planned: { id: string; reasons: string[] }[];
  /** --dry-run: every unit that would run (shards and combines included), for summaries and the estimate. */
  plan: PlannedUnit[];
  /** Instances computed per stage (for messages and tests). */
  ranByStage: Record<string, number>;
  /** One-line notices printed during the run: damaged objects found and what was done. */
  notices: string[];
  /** Units computed and served from the cache, per stage (shards counted apart from instances). */
  unitsByStage: Record<string, StageUnits>;
  interrupted: boolean;
  ms: number;
}

/** One unit --dry-run would compute. */
export interface PlannedUnit {
  id: string;
  inst: Instance;
  role: RunRole;
  shard?: { index: number; start: number; end: number };
  reasons: string[];
}

/** Per stage: instances (plain or combined) and shards, computed or cached. */
export interface StageUnits {
  ran: number;
  ranShards: number;
  cached: number;
  cachedShards: number;
}

type Outcome =
  | { ok: true; record: RunRecord; ran: boolean }
  | { ok: false; why: 'failed' | 'skipped' | 'planned' }
  /** A unit stopped because an object it read was damaged (already quarantined): recompute its producer. */
  | { ok: false; why: 'damaged'; unitId: string; damaged: DamagedObject };

/** Recomputations of damaged inputs one instance may trigger before it counts as failed. */
const MAX_REPAIRS = 3;

interface Unit {
  inst: Instance;
  role: RunRole;
  parts: KeyParts;
  /** Progress id and label. */
  id: string;
  shard?: { index: number; start: number; end: number; baseKey: string };
  combine?: Job['combine'];
  /** Records of the upstream instances (for job inputs). */
  upstream: Map<Instance, RunRecord>;
}

export async function repro(session: Session, opts: ReproOptions): Promise<ReproSummary> {
  const t0 = performance.now();
  const { store, graph } = session;
  const progress = opts.progress;
  const signal = opts.signal ?? new AbortController().signal;
  const limit = pLimit(Math.max(1, opts.jobs));
  const pool = opts.executor ?? new LocalExecutor(Math.max(1, opts.jobs));
  const inline = new InlineExecutor(graph.byName);
  const forced = (stage: string) => opts.force === true || (Array.isArray(opts.force) && opts.force.includes(stage));
  let stopping = false;

  const summary: ReproSummary = {
    instances: graph.all.length,
    ran: 0,
    upToDate: 0,
    cached: 0,
    failed: [],
    skipped: 0,
    planned: [],
    plan: [],
    ranByStage: {},
    unitsByStage: {},
    notices: [],
    interrupted: false,
    ms: 0,
  };
  /** Damaged objects already told about (their producer's hit check need not say it again). */
  const reported = new Set<string>();
  const notice = (line: string) => {
    summary.notices.push(line);
    progress.log(line);
  };
  if (!opts.dryRun) {
    const removed = store.cleanTmp(isPidAlive);
    if (removed) notice(`removed ${removed} temp file(s) of dead writers from ${store.tmpDir}`);
  }

  // One progress entry per unit: instances, plus each shard of sample stages.
  let total = 0;
  for (const inst of graph.all) total += inst.def.samples ? session.shardCount(inst) + 1 : 1;
  progress.setTotal(total);

  const outcomes = new Map<Instance, Promise<Outcome>>();
  const settle = (inst: Instance): Promise<Outcome> => {
    let p = outcomes.get(inst);
    if (!p) outcomes.set(inst, (p = settleInstance(inst)));
    return p;
  };

  const skipAll = (inst: Instance, why: 'skipped' | 'planned', detail: string): Outcome => {
    const n = inst.def.samples ? session.shardCount(inst) + 1 : 1;
    if (why === 'planned') {
      summary.planned.push({ id: inst.id, reasons: [detail] });
      for (let i = 0; i < n - 1; i++)
        summary.plan.push({ id: `${inst.id}#${i}`, inst, role: 'shard', shard: { index: i, ...session.shardRange(inst, i) }, reasons: [detail] });
      summary.plan.push({ id: inst.id, inst, role: inst.def.samples ? 'combine' : 'instance', reasons: [detail] });
    } else summary.skipped += n;
    for (let i = 0; i < n; i++) progress.finish(i === n - 1 ? inst.id : `${inst.id}#${i}`, 'skipped', detail);
    return { ok: false, why };
  };

  /**
   * Settle an instance; when one of its units read a damaged object (quarantined by then), drop
   * the cached outcome of the upstream that produced it, so that upstream is recomputed, and try
   * again (its own shards or outputs need nothing: their records are no longer cache hits).
   */
  async function settleInstance(inst: Instance): Promise<Outcome> {
    for (let repairs = 0; ; repairs++) {
      const ups = [...new Set(inst.inputs.map((b) => b.instance))];
      const pending = ups.map(settle);
      const results = await Promise.all(pending);
      const r = await settleWith(inst, ups, results);
      if (r.ok || r.why !== 'damaged') return r;
      const what = `${r.damaged.problem} object ${r.damaged.digest}${r.damaged.detail ? ` (${r.damaged.detail})` : ''}`;
      if (repairs === MAX_REPAIRS) {
        return fail(
          r.unitId,
          new DamagedObjectError(
            r.damaged.digest,
            r.damaged.problem,
            `${r.damaged.detail}; still damaged after ${MAX_REPAIRS} recomputations of its producer: check the disk`,
          ),
        );
      }
      const producers: string[] = [];
      ups.forEach((u, i) => {
        const o = results[i];
        const output = o.ok ? outputHolding(o.record, r.damaged.digest) : undefined;
        if (output === undefined) return;
        producers.push(`${u.id} output '${output}'`);
        if (outcomes.get(u) === pending[i]) {
          outcomes.delete(u);
          // It will be settled again: do not count its first (cached) settlement as well.
          if (o.ok && !o.ran) {
            summary.upToDate--;
            summary.cached--;
          }
          progress.setTotal((total += u.def.samples ? session.shardCount(u) + 1 : 1));
        }
      });
      reported.add(r.damaged.digest);
      notice(
        `${r.unitId}: read ${what}${producers.length ? ` from ${producers.join(', ')}` : ''}; it was not used; recomputing ${producers.length ? 'its producer' : 'it'}`,
      );
    }
  }

  /** The output (`name` or `name/path`) of a record that is the object `digest`. */
  function outputHolding(rec: RunRecord, digest: string): string | undefined {
    for (const [name, o] of Object.entries(rec.outputs)) {
      if (o.digest === digest) return name;
      if (o.kind === 'files' && store.referencedObjects({ ...rec, outputs: { [name]: o } }).includes(digest as never)) return `${name} (a file)`;
    }
    return undefined;
  }

  async function settleWith(inst: Instance, ups: Instance[], results: Outcome[]): Promise<Outcome> {
    const upstream = new Map<Instance, RunRecord>();
    for (const [i, r] of results.entries()) {
      if (!r.ok) {
        if (r.why === 'planned') return skipAll(inst, 'planned', `upstream ${ups[i].id} would run`);
        return skipAll(inst, 'skipped', `upstream ${ups[i].id} ${r.why === 'failed' ? 'failed' : 'did not run'}`);
      }
      upstream.set(ups[i], r.record);
    }
    let base: KeyParts;
    try {
      base = await session.baseParts(inst, (u) => upstream.get(u)!);
    } catch (err) {
      return fail(inst.id, err);
    }
    if (!inst.def.samples) {
      const r = await runUnit({ inst, role: 'instance', parts: base, id: inst.id, upstream });
      if (r.ok) countInstance(inst, r);
      return r;
    }
    // Sample stage: every shard (cached on its own), then the combine over the first `count`.
    const size = inst.def.samples.shardSize;
    const baseKey = session.baseKeyOf(base);
    const n = session.shardCount(inst);
    const shardResults = await Promise.all(
      Array.from({ length: n }, (_, i) => {
        const range = session.shardRange(inst, i);
        return runUnit({
          inst,
          role: 'shard',
          parts: session.shardParts(base, i, size),
          id: `${inst.id}#${i}`,
          shard: { index: i, ...range, baseKey },
          upstream,
        });
      }),
    );
    const bad = shardResults.find((r) => !r.ok);
    if (bad && !bad.ok && bad.why === 'damaged') return bad;
    if (bad && !bad.ok) {
      if (bad.why === 'planned') {
        summary.planned.push({ id: inst.id, reasons: ['combine of new shards'] });
        summary.plan.push({ id: inst.id, inst, role: 'combine', reasons: ['combine of new shards'] });
        progress.finish(inst.id, 'skipped', 'would run');
        return { ok: false, why: 'planned' };
      }
      summary.skipped++;
      progress.finish(inst.id, 'skipped', 'a shard did not complete');
      return { ok: false, why: 'skipped' };
    }
    const shardRecs = shardResults.map((r) => (r as { record: RunRecord }).record);
    const combine: Job['combine'] = {
      count: inst.count!,
      shards: shardRecs.map((r) => ({ start: r.shard!.start, end: r.shard!.end, outputs: r.outputs, metrics: r.metrics })),
    };
    const r = await runUnit({ inst, role: 'combine', parts: session.combineParts(inst, base, shardRecs), id: inst.id, combine, upstream });
    if (r.ok) countInstance(inst, r);
    return r;
  }

  function countInstance(inst: Instance, r: Outcome & { ok: true }) {
    if (r.ran) summary.ranByStage[inst.def.name] = (summary.ranByStage[inst.def.name] ?? 0) + 1;
    else summary.upToDate++;
  }

  function fail(id: string, err: unknown, key?: StageKey): Outcome {
    const e = err instanceof Error ? err : new Error(String(err));
    const userFacing = e instanceof JobError ? e.userFacing : typeof (e as { exitCode?: unknown }).exitCode === 'number';
    const stack = e instanceof JobError ? e.stageStack : e.stack;
    const log = !userFacing && key && stack ? store.writeFailureLog(key, `${id}\n${stack}\n`) : undefined;
    summary.failed.push({ id, message: e.message, log });
    progress.finish(id, 'failed', e.message.split('\n')[0]);
    if (!opts.keepGoing) stopping = true;
    return { ok: false, why: 'failed' };
  }

  async function afterSuccess(unit: Unit, rec: RunRecord, ran: boolean): Promise<Outcome> {
    if (unit.role !== 'shard' && unit.inst.def.publish && (!opts.dryRun || opts.publishCached)) {
      try {
        await publishOutputs(session, unit.inst.def, rec, unit.inst.params);
      } catch (err) {
        if (err instanceof DamagedObjectError) return damagedOutcome(unit, err);
        return fail(unit.id, err, rec.key);
      }
    }
    if (ran) summary.ran++;
    else summary.cached++;
    const units = (summary.unitsByStage[unit.inst.def.name] ??= { ran: 0, ranShards: 0, cached: 0, cachedShards: 0 });
    if (unit.role === 'shard') units[ran ? 'ranShards' : 'cachedShards']++;
    else units[ran ? 'ran' : 'cached']++;
    progress.finish(unit.id, ran ? 'done' : 'cached');
    return { ok: true, record: rec, ran };
  }

  function damagedOutcome(unit: Unit, err: DamagedObjectError | DamagedObject): Outcome {
    return { ok: false, why: 'damaged', unitId: unit.id, damaged: { digest: err.digest, problem: err.problem, detail: err.detail } };
  }

  async function runUnit(unit: Unit): Promise<Outcome> {
    const def = unit.inst.def;
    const key = session.key(unit.parts);
    const force = forced(def.name);
    // The cache-hit check (outputs present with their recorded sizes); a damaged hit is a miss.
    let told = false;
    const cached = (): RunRecord | undefined => {
      const { record, damage } = store.checkRun(key);
      if (damage && !told && !opts.dryRun && !reported.has(damage.digest)) {
        told = true;
        reported.add(damage.digest);
        let moved = '';
        if (damage.problem === 'corrupt' && !damage.output.includes('/')) {
          try {
            moved = `; moved it to ${store.quarantine(damage.digest)}`;
          } catch {}
        }
        notice(`${unit.id}: its cached result has a ${describeDamage(damage)}${moved}; recomputing it`);
      }
      return record;
    };
    if (!force) {
      const rec = cached();
      if (rec) return afterSuccess(unit, rec, false);
    }
    if (opts.dryRun) {
      const prev = store.latestRun(def.name, unit.inst.axes, unit.role, unit.shard?.index);
      const damage = store.checkRun(key).damage;
      const reasons = force ? ['forced'] : damage ? [describeDamage(damage)] : prev ? explainChange(unit.parts, session.code(def), prev) : ['never run'];
      summary.planned.push({ id: unit.id, reasons });
      summary.plan.push({
        id: unit.id,
        inst: unit.inst,
        role: unit.role,
        ...(unit.shard ? { shard: { index: unit.shard.index, start: unit.shard.start, end: unit.shard.end } } : {}),
        reasons,
      });
      progress.finish(unit.id, 'skipped', 'would run');
      return { ok: false, why: 'planned' };
    }
    let waitingLogged = false;
    for (;;) {
      if (signal.aborted || stopping) {
        summary.skipped++;
        progress.finish(unit.id, 'skipped', signal.aborted ? 'interrupted' : 'stopped after a failure');
        return { ok: false, why: 'skipped' };
      }
      const attempt = await limit(async (): Promise<Outcome | 'busy'> => {
        if (signal.aborted || stopping) return 'busy';
        if (!force) {
          const rec = cached();
          if (rec) return afterSuccess(unit, rec, false);
        }
        const lock = tryLock(join(store.locksDir, `${key}.lock`));
        if (!lock.acquired) {
          if (!waitingLogged) {
            waitingLogged = true;
            const h = lock.holder;
            progress.log(`${unit.id}: another process${h ? ` (pid ${h.pid} on ${h.host})` : ''} is computing it; waiting for its result`);
          }
          return 'busy';
        }
        try {
          // Another process may have finished this key between our check and the lock.
          if (!force) {
            const rec = cached();
            if (rec) return afterSuccess(unit, rec, false);
          }
          return await execute(unit, key);
        } finally {
          lock.lock.release();
        }
      });
      if (attempt !== 'busy') return attempt;
      if (!signal.aborted && !stopping) await sleep(150, signal);
    }
  }

  async function execute(unit: Unit, key: StageKey): Promise<Outcome> {
    const def = unit.inst.def;
    const job = buildJob(unit, key);
    const executor = def.inline || unit.role === 'combine' ? inline : pool;
    progress.start(unit.id, unit.id);
    let result;
    const onProgress = (u: ProgressUpdate) => {
      if (u.notice) notice(`${unit.id}: ${u.notice}`);
      progress.update(unit.id, u);
    };
    try {
      result = await executor.run(job, { signal, onProgress });
    } catch (err) {
      if (signal.aborted) {
        summary.skipped++;
        progress.finish(unit.id, 'skipped', 'interrupted');
        return { ok: false, why: 'skipped' };
      }
      if (err instanceof DamagedObjectError) return damagedOutcome(unit, err);
      if (err instanceof JobError && err.damaged) return damagedOutcome(unit, err.damaged);
      return fail(unit.id, err, key);
    }
    // An interrupted run is dropped even if its job managed to finish: nothing is recorded.
    if (signal.aborted) {
      summary.skipped++;
      progress.finish(unit.id, 'skipped', 'interrupted');
      return { ok: false, why: 'skipped' };
    }
    const code = session.code(def);
    const rec: RunRecord = {
      format: 1,
      key,
      stage: def.name,
      axes: unit.inst.axes,
      role: unit.role,
      ...(unit.shard ? { shard: { index: unit.shard.index, start: unit.shard.start, end: unit.shard.end } } : {}),
      keyParts: unit.parts,
      code: { files: code.files, packages: code.packages },
      outputs: result.outputs,
      metrics: result.metrics,
      timings: { startedAt: result.startedAt, finishedAt: result.finishedAt, ms: result.ms },
      host: HOST,
      pid: process.pid,
    };
    try {
      await store.putRun(rec);
      await store.clearCheckpoint(key);
    } catch (err) {
      return fail(unit.id, err, key);
    }
    return afterSuccess(unit, rec, true);
  }

  function buildJob(unit: Unit, key: StageKey): Job {
    const inputs: Record<string, JobInput[]> = {};
    for (const b of unit.inst.inputs) {
      const rec = unit.upstream.get(b.instance)!;
      (inputs[b.stage] ??= []).push({
        stage: b.stage,
        axes: b.instance.axes,
        key: rec.key,
        outputs: Object.fromEntries(b.outputs.map((o) => [o, rec.outputs[o]])),
        metrics: rec.metrics,
      });
    }
    return {
      stage: unit.inst.def.name,
      module: unit.inst.def.module,
      key,
      role: unit.role,
      axes: unit.inst.axes,
      params: unit.inst.params,
      runtime: unit.parts.runtime,
      seed: runSeed(unit.parts),
      inputs,
      outputs: unit.role === 'shard' ? null : [...unit.inst.def.outputs],
      shard: unit.shard,
      combine: unit.combine,
      artifactsDir: store.root,
      durable: store.durable,
    };
  }

  try {
    await Promise.all(graph.all.map(settle));
  } finally {
    await pool.close();
    session.close();
  }
  summary.interrupted = signal.aborted;
  summary.ms = Math.round(performance.now() - t0);
  return summary;
}
