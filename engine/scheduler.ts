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
import type { Executor, Job, JobInput, JobResult, ProgressUpdate } from './job.ts';
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
  return new Scheduler(session, opts).run();
}

/** One unit being brought up to date: what the pieces of Scheduler.runUnit share. */
interface UnitRun {
  unit: Unit;
  key: StageKey;
  force: boolean;
  /** The cache-hit check (see Scheduler.hitCheck). */
  cached: () => RunRecord | undefined;
  /** "Another process is computing it" was said already (once per unit). */
  waitingLogged: boolean;
}

/**
 * The state of one `repro` run: the summary it fills in, the outcome of every instance settled
 * so far, the job slots and executors. Each method is one step of the walk the module comment
 * describes.
 */
class Scheduler {
  private readonly t0 = performance.now();
  private readonly store: Session['store'];
  private readonly progress: ProgressReporter;
  private readonly signal: AbortSignal;
  private readonly limit: ReturnType<typeof pLimit>;
  private readonly pool: Executor;
  private readonly inline: InlineExecutor;
  /** Set after a failure without --keep-going: no new unit starts. */
  private stopping = false;
  /** Progress entries in all (grows when a damaged upstream is recomputed). */
  private total = 0;
  private readonly summary: ReproSummary;
  /** Damaged objects already told about (their producer's hit check need not say it again). */
  private readonly reported = new Set<string>();
  /** The outcome of each instance, settled once (unless a repair drops it). */
  private readonly outcomes = new Map<Instance, Promise<Outcome>>();

  constructor(
    private readonly session: Session,
    private readonly opts: ReproOptions,
  ) {
    this.store = session.store;
    this.progress = opts.progress;
    this.signal = opts.signal ?? new AbortController().signal;
    this.limit = pLimit(Math.max(1, opts.jobs));
    this.pool = opts.executor ?? new LocalExecutor(Math.max(1, opts.jobs));
    this.inline = new InlineExecutor(session.graph.byName);
    this.summary = {
      instances: session.graph.all.length,
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
  }

  /** Settle every instance of the graph, then close the executors and the session. */
  async run(): Promise<ReproSummary> {
    const { store, graph } = this.session;
    if (!this.opts.dryRun) {
      const removed = store.cleanTmp(isPidAlive);
      if (removed) this.notice(`removed ${removed} temp file(s) of dead writers from ${store.tmpDir}`);
    }
    // One progress entry per unit: instances, plus each shard of sample stages.
    for (const inst of graph.all) this.total += this.unitCount(inst);
    this.progress.setTotal(this.total);
    try {
      await Promise.all(graph.all.map((inst) => this.settle(inst)));
    } finally {
      await this.pool.close();
      this.session.close();
    }
    this.summary.interrupted = this.signal.aborted;
    this.summary.ms = Math.round(performance.now() - this.t0);
    return this.summary;
  }

  /** Progress entries of an instance: 1, or its shards and their combine. */
  private unitCount(inst: Instance): number {
    return inst.def.samples ? this.session.shardCount(inst) + 1 : 1;
  }

  /** --force covers this stage (all of them, or it is named). */
  private forced(stage: string): boolean {
    const force = this.opts.force;
    return force === true || (Array.isArray(force) && force.includes(stage));
  }

  /** A line for the summary's notices and the log. */
  private notice(line: string): void {
    this.summary.notices.push(line);
    this.progress.log(line);
  }

  /** The outcome of an instance, settled once however many downstream instances wait for it. */
  private settle(inst: Instance): Promise<Outcome> {
    let p = this.outcomes.get(inst);
    if (!p) this.outcomes.set(inst, (p = this.settleInstance(inst)));
    return p;
  }

  /** Count every unit of an instance as planned (--dry-run) or skipped, because of its upstream. */
  private skipAll(inst: Instance, why: 'skipped' | 'planned', detail: string): Outcome {
    const { session, summary } = this;
    const n = this.unitCount(inst);
    if (why === 'planned') {
      summary.planned.push({ id: inst.id, reasons: [detail] });
      for (let i = 0; i < n - 1; i++)
        summary.plan.push({ id: `${inst.id}#${i}`, inst, role: 'shard', shard: { index: i, ...session.shardRange(inst, i) }, reasons: [detail] });
      summary.plan.push({ id: inst.id, inst, role: inst.def.samples ? 'combine' : 'instance', reasons: [detail] });
    } else summary.skipped += n;
    for (let i = 0; i < n; i++) this.progress.finish(i === n - 1 ? inst.id : `${inst.id}#${i}`, 'skipped', detail);
    return { ok: false, why };
  }

  /** A unit that did not run (interrupted, or stopped after a failure). */
  private skip(id: string, detail: string): Outcome {
    this.summary.skipped++;
    this.progress.finish(id, 'skipped', detail);
    return { ok: false, why: 'skipped' };
  }

  /**
   * Settle an instance; when one of its units read a damaged object (quarantined by then), drop
   * the cached outcome of the upstream that produced it, so that upstream is recomputed, and try
   * again (its own shards or outputs need nothing: their records are no longer cache hits).
   */
  private async settleInstance(inst: Instance): Promise<Outcome> {
    for (let repairs = 0; ; repairs++) {
      const ups = [...new Set(inst.inputs.map((b) => b.instance))];
      const pending = ups.map((u) => this.settle(u));
      const results = await Promise.all(pending);
      const r = await this.settleWith(inst, ups, results);
      if (r.ok || r.why !== 'damaged') return r;
      const what = `${r.damaged.problem} object ${r.damaged.digest}${r.damaged.detail ? ` (${r.damaged.detail})` : ''}`;
      if (repairs === MAX_REPAIRS) {
        return this.fail(
          r.unitId,
          new DamagedObjectError(
            r.damaged.digest,
            r.damaged.problem,
            `${r.damaged.detail}; still damaged after ${MAX_REPAIRS} recomputations of its producer: check the disk`,
          ),
        );
      }
      const producers = this.forgetProducers(r.damaged.digest, ups, pending, results);
      this.reported.add(r.damaged.digest);
      this.notice(
        `${r.unitId}: read ${what}${producers.length ? ` from ${producers.join(', ')}` : ''}; it was not used; recomputing ${producers.length ? 'its producer' : 'it'}`,
      );
    }
  }

  /**
   * Drop the settled outcome of each upstream whose record holds the damaged object, so that
   * the next settle recomputes it; returns them for the notice ("<id> output '<name>'").
   */
  private forgetProducers(digest: string, ups: Instance[], pending: Promise<Outcome>[], results: Outcome[]): string[] {
    const producers: string[] = [];
    ups.forEach((u, i) => {
      const o = results[i];
      const output = o.ok ? this.outputHolding(o.record, digest) : undefined;
      if (output === undefined) return;
      producers.push(`${u.id} output '${output}'`);
      if (this.outcomes.get(u) === pending[i]) {
        this.outcomes.delete(u);
        // It will be settled again: do not count its first (cached) settlement as well.
        if (o.ok && !o.ran) {
          this.summary.upToDate--;
          this.summary.cached--;
        }
        this.progress.setTotal((this.total += this.unitCount(u)));
      }
    });
    return producers;
  }

  /** The output (`name` or `name/path`) of a record that is the object `digest`. */
  private outputHolding(rec: RunRecord, digest: string): string | undefined {
    for (const [name, o] of Object.entries(rec.outputs)) {
      if (o.digest === digest) return name;
      if (o.kind === 'files' && this.store.referencedObjects({ ...rec, outputs: { [name]: o } }).includes(digest as never)) return `${name} (a file)`;
    }
    return undefined;
  }

  /** Settle an instance whose upstream outcomes are known: its key parts, then its unit(s). */
  private async settleWith(inst: Instance, ups: Instance[], results: Outcome[]): Promise<Outcome> {
    const upstream = new Map<Instance, RunRecord>();
    for (const [i, r] of results.entries()) {
      if (!r.ok) {
        if (r.why === 'planned') return this.skipAll(inst, 'planned', `upstream ${ups[i].id} would run`);
        return this.skipAll(inst, 'skipped', `upstream ${ups[i].id} ${r.why === 'failed' ? 'failed' : 'did not run'}`);
      }
      upstream.set(ups[i], r.record);
    }
    let base: KeyParts;
    try {
      base = await this.session.baseParts(inst, (u) => upstream.get(u)!);
    } catch (err) {
      return this.fail(inst.id, err);
    }
    const r = inst.def.samples
      ? await this.settleSamples(inst, base, upstream)
      : await this.runUnit({ inst, role: 'instance', parts: base, id: inst.id, upstream });
    if (r.ok) this.countInstance(inst, r);
    return r;
  }

  /** Sample stage: every shard (cached on its own), then the combine over the first `count`. */
  private async settleSamples(inst: Instance, base: KeyParts, upstream: Map<Instance, RunRecord>): Promise<Outcome> {
    const { session, summary } = this;
    const size = inst.def.samples!.shardSize;
    const baseKey = session.baseKeyOf(base);
    const n = session.shardCount(inst);
    const shardResults = await Promise.all(
      Array.from({ length: n }, (_, i) => {
        const range = session.shardRange(inst, i);
        return this.runUnit({
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
        this.progress.finish(inst.id, 'skipped', 'would run');
        return { ok: false, why: 'planned' };
      }
      return this.skip(inst.id, 'a shard did not complete');
    }
    const shardRecs = shardResults.map((r) => (r as { record: RunRecord }).record);
    const combine: Job['combine'] = {
      count: inst.count!,
      shards: shardRecs.map((r) => ({ start: r.shard!.start, end: r.shard!.end, outputs: r.outputs, metrics: r.metrics })),
    };
    return this.runUnit({ inst, role: 'combine', parts: session.combineParts(inst, base, shardRecs), id: inst.id, combine, upstream });
  }

  /** Count a settled instance (not a shard) as computed for its stage, or as up to date. */
  private countInstance(inst: Instance, r: Outcome & { ok: true }): void {
    if (r.ran) this.summary.ranByStage[inst.def.name] = (this.summary.ranByStage[inst.def.name] ?? 0) + 1;
    else this.summary.upToDate++;
  }

  /** Record a failure (with a stack log for unexpected errors); without --keep-going, stop starting units. */
  private fail(id: string, err: unknown, key?: StageKey): Outcome {
    const e = err instanceof Error ? err : new Error(String(err));
    const userFacing = e instanceof JobError ? e.userFacing : typeof (e as { exitCode?: unknown }).exitCode === 'number';
    const stack = e instanceof JobError ? e.stageStack : e.stack;
    const log = !userFacing && key && stack ? this.store.writeFailureLog(key, `${id}\n${stack}\n`) : undefined;
    this.summary.failed.push({ id, message: e.message, log });
    this.progress.finish(id, 'failed', e.message.split('\n')[0]);
    if (!this.opts.keepGoing) this.stopping = true;
    return { ok: false, why: 'failed' };
  }

  /** A unit has its record (computed or cached): publish its outputs if its stage says so, and count it. */
  private async afterSuccess(unit: Unit, rec: RunRecord, ran: boolean): Promise<Outcome> {
    const { opts, summary } = this;
    if (unit.role !== 'shard' && unit.inst.def.publish && (!opts.dryRun || opts.publishCached)) {
      try {
        await publishOutputs(this.session, unit.inst.def, rec, unit.inst.params);
      } catch (err) {
        if (err instanceof DamagedObjectError) return damagedOutcome(unit, err);
        return this.fail(unit.id, err, rec.key);
      }
    }
    if (ran) summary.ran++;
    else summary.cached++;
    const units = (summary.unitsByStage[unit.inst.def.name] ??= { ran: 0, ranShards: 0, cached: 0, cachedShards: 0 });
    if (unit.role === 'shard') units[ran ? 'ranShards' : 'cachedShards']++;
    else units[ran ? 'ran' : 'cached']++;
    this.progress.finish(unit.id, ran ? 'done' : 'cached');
    return { ok: true, record: rec, ran };
  }

  /** Bring one unit up to date: a cache hit, a planned run (--dry-run), or a run under the key's lock. */
  private async runUnit(unit: Unit): Promise<Outcome> {
    const key = this.session.key(unit.parts);
    const run: UnitRun = { unit, key, force: this.forced(unit.inst.def.name), cached: this.hitCheck(unit, key), waitingLogged: false };
    if (!run.force) {
      const rec = run.cached();
      if (rec) return this.afterSuccess(unit, rec, false);
    }
    if (this.opts.dryRun) return this.planUnit(run);
    for (;;) {
      if (this.signal.aborted || this.stopping) return this.skip(unit.id, this.signal.aborted ? 'interrupted' : 'stopped after a failure');
      const attempt = await this.limit(() => this.tryRun(run));
      if (attempt !== 'busy') return attempt;
      if (!this.signal.aborted && !this.stopping) await sleep(150, this.signal);
    }
  }

  /**
   * The cache-hit check of a unit (outputs present with their recorded sizes); a damaged hit is
   * a miss, told about once (and a corrupt object of a plain output is quarantined).
   */
  private hitCheck(unit: Unit, key: StageKey): () => RunRecord | undefined {
    let told = false;
    return () => {
      const { record, damage } = this.store.checkRun(key);
      if (damage && !told && !this.opts.dryRun && !this.reported.has(damage.digest)) {
        told = true;
        this.reported.add(damage.digest);
        let moved = '';
        if (damage.problem === 'corrupt' && !damage.output.includes('/')) {
          try {
            moved = `; moved it to ${this.store.quarantine(damage.digest)}`;
          } catch {}
        }
        this.notice(`${unit.id}: its cached result has a ${describeDamage(damage)}${moved}; recomputing it`);
      }
      return record;
    };
  }

  /** --dry-run: note that the unit would run, and why. */
  private planUnit({ unit, key, force }: UnitRun): Outcome {
    const def = unit.inst.def;
    const prev = this.store.latestRun(def.name, unit.inst.axes, unit.role, unit.shard?.index);
    const damage = this.store.checkRun(key).damage;
    const reasons = force ? ['forced'] : damage ? [describeDamage(damage)] : prev ? explainChange(unit.parts, this.session.code(def), prev) : ['never run'];
    this.summary.planned.push({ id: unit.id, reasons });
    this.summary.plan.push({
      id: unit.id,
      inst: unit.inst,
      role: unit.role,
      ...(unit.shard ? { shard: { index: unit.shard.index, start: unit.shard.start, end: unit.shard.end } } : {}),
      reasons,
    });
    this.progress.finish(unit.id, 'skipped', 'would run');
    return { ok: false, why: 'planned' };
  }

  /**
   * In a job slot: the unit's outcome, or 'busy' when another process holds its key's lock (the
   * caller waits outside the slot and tries again; it is then normally a cache hit).
   */
  private async tryRun(run: UnitRun): Promise<Outcome | 'busy'> {
    const { unit, key, force, cached } = run;
    if (this.signal.aborted || this.stopping) return 'busy';
    if (!force) {
      const rec = cached();
      if (rec) return this.afterSuccess(unit, rec, false);
    }
    const lock = tryLock(join(this.store.locksDir, `${key}.lock`));
    if (!lock.acquired) {
      if (!run.waitingLogged) {
        run.waitingLogged = true;
        const h = lock.holder;
        this.progress.log(`${unit.id}: another process${h ? ` (pid ${h.pid} on ${h.host})` : ''} is computing it; waiting for its result`);
      }
      return 'busy';
    }
    try {
      // Another process may have finished this key between our check and the lock.
      if (!force) {
        const rec = cached();
        if (rec) return this.afterSuccess(unit, rec, false);
      }
      return await this.execute(unit, key);
    } finally {
      lock.lock.release();
    }
  }

  /** Run the unit's job on its executor (inline stages and combines in this thread), then record it. */
  private async execute(unit: Unit, key: StageKey): Promise<Outcome> {
    const def = unit.inst.def;
    const job = this.buildJob(unit, key);
    const executor = def.inline || unit.role === 'combine' ? this.inline : this.pool;
    this.progress.start(unit.id, unit.id);
    let result: JobResult;
    const onProgress = (u: ProgressUpdate) => {
      if (u.notice) this.notice(`${unit.id}: ${u.notice}`);
      this.progress.update(unit.id, u);
    };
    try {
      result = await executor.run(job, { signal: this.signal, onProgress });
    } catch (err) {
      if (this.signal.aborted) return this.skip(unit.id, 'interrupted');
      if (err instanceof DamagedObjectError) return damagedOutcome(unit, err);
      if (err instanceof JobError && err.damaged) return damagedOutcome(unit, err.damaged);
      return this.fail(unit.id, err, key);
    }
    // An interrupted run is dropped even if its job managed to finish: nothing is recorded.
    if (this.signal.aborted) return this.skip(unit.id, 'interrupted');
    return this.record(unit, key, result);
  }

  /** Write the run record of a computed unit (atomic; its presence means done) and drop its checkpoint. */
  private async record(unit: Unit, key: StageKey, result: JobResult): Promise<Outcome> {
    const def = unit.inst.def;
    const code = this.session.code(def);
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
      await this.store.putRun(rec);
      await this.store.clearCheckpoint(key);
    } catch (err) {
      return this.fail(unit.id, err, key);
    }
    return this.afterSuccess(unit, rec, true);
  }

  /** The self-contained job of a unit: its inputs (by digest) from the upstream records. */
  private buildJob(unit: Unit, key: StageKey): Job {
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
      artifactsDir: this.store.root,
      durable: this.store.durable,
    };
  }
}

/** A unit stopped by a damaged input object: its settleInstance recomputes the producer. */
function damagedOutcome(unit: Unit, err: DamagedObjectError | DamagedObject): Outcome {
  return { ok: false, why: 'damaged', unitId: unit.id, damaged: { digest: err.digest, problem: err.problem, detail: err.detail } };
}
