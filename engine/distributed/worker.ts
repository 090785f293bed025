/**
 * The worker loop behind `pipeline.ts worker --queue redis://HOST:PORT --cache DIR|s3://…`.
 *
 * For each job it takes from the queue, a worker:
 *  1. resolves the stage in its OWN copy of the project and refuses the job (it goes back to
 *     the queue for another worker) unless its code fingerprint equals the driver's, so a host
 *     running other code can never put results into the shared cache;
 *  2. skips the work if the shared cache already holds a record for the key;
 *  3. fetches the inputs by digest from the shared cache into its local store (verified);
 *  4. runs the stage through the engine's own executors (worker threads, or inline for inline
 *     stages and sample combines): the very code path of a local `repro`;
 *  5. uploads the outputs (write-once, verified) and writes the run record last.
 *
 * A worker killed mid-job stops renewing its BullMQ lock; another worker's stalled-job check
 * puts the job back in the queue and it is computed again from scratch (stage runs are
 * deterministic, so the digests are identical).
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { UnrecoverableError, WaitingError, Worker, type Job as BullJob } from 'bullmq';
import { Store } from '../store.ts';
import { StatMemo } from '../statmemo.ts';
import { Fingerprinter, initFingerprinting, type CodeFingerprint } from '../fingerprint.ts';
import { canonicalJson, initHashing } from '../hash.ts';
import { expandStage, type Instance } from '../graph.ts';
import { cacheTrust, SECRET_ENV, type CacheTrust } from './signing.ts';
import { InlineExecutor, JobError, LocalExecutor } from '../executor.ts';
import type { Job, JobResult } from '../job.ts';
import type { PipelineProject } from '../project.ts';
import type { StageDef } from '../types.ts';
import { CorruptObjectError, MissingObjectError, type ObjectBackend, type S3Options } from './backend.ts';
import { openBackend } from './open-backend.ts';
import { DEFAULT_QUEUE_NAME, checkQueueExposure, redactUrl, redisConnection } from './connection.ts';
import {
  INPUT_OBJECT_ERROR,
  JobRefusedError,
  PROTOCOL_VERSION,
  describeCodeDifference,
  jobInputOutputs,
  type RemoteJobData,
  type RemoteProgress,
} from './protocol.ts';
import { fetchOutputs, pushOutputs, readRemoteRecord, writeRemoteRecord } from './transfer.ts';

export interface WorkerOptions {
  /** redis://HOST:PORT of the queue. */
  queue: string;
  queueName?: string;
  /** Shared cache: a directory or s3://bucket/prefix. */
  cache: string;
  s3?: S3Options;
  /** Jobs run at once (each in its own worker thread). Default 1. */
  concurrency?: number;
  /** This worker's local store (inputs and outputs pass through it). Default: <project>/artifacts. */
  storeDir?: string;
  /** BullMQ lock duration (ms): how long a silent worker keeps a job before it counts as stalled. */
  lockDurationMs?: number;
  /** How often (ms) this worker looks for stalled jobs of dead workers. */
  stalledIntervalMs?: number;
  /** Name shown on the driver's progress lines. Default host:pid. */
  name?: string;
  log?: (line: string) => void;
  /** Trust unsigned jobs and run records (`--insecure-shared-cache`); default: require $NNMOD_CACHE_SECRET. */
  insecureSharedCache?: boolean;
}

export interface RunningWorker {
  readonly name: string;
  /** Stop taking jobs; wait for running ones, or with `force` hand them back to the queue at once. */
  close(force?: boolean): Promise<void>;
}

/** Start a worker: open the local store and the shared cache, then take jobs from the queue until closed. */
export async function startWorker(project: PipelineProject, options: WorkerOptions): Promise<RunningWorker> {
  await Promise.all([initHashing(), initFingerprinting()]);
  const trust = cacheTrust(options.insecureSharedCache, 'worker');
  const log = options.log ?? ((line: string) => process.stdout.write(line + '\n'));
  const name = options.name ?? `${hostname()}:${process.pid}`;
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const store = new Store(options.storeDir ?? join(project.root, 'artifacts')).init();
  const backend: ObjectBackend = await openBackend(options.cache, { s3: options.s3 });
  const runner = new JobRunner(project, store, backend, { name, log, concurrency, trust });
  const worker = await connectQueue(options, name, concurrency, log, (bullJob, token) => runner.process(bullJob, token));
  if ('insecure' in trust) log('warning: --insecure-shared-cache: jobs and run records are not signed or checked');
  const exposed = await checkQueueExposure(options.queue);
  if (exposed) log(exposed);
  log(`worker ${name}: queue ${redactUrl(options.queue)} (${options.queueName ?? DEFAULT_QUEUE_NAME}), cache ${backend.location}, concurrency ${concurrency}`);

  return {
    name,
    async close(force = false) {
      if (force) await runner.abortAll();
      await worker.close(force);
      await runner.close();
    },
  };
}

/**
 * The BullMQ worker on the queue, running `processJob` for each job; started once Redis
 * answers (a worker may well start before Redis does: it says so and keeps waiting).
 */
async function connectQueue(
  options: WorkerOptions,
  name: string,
  concurrency: number,
  log: (line: string) => void,
  processJob: (bullJob: BullJob, token?: string) => Promise<JobDone>,
): Promise<Worker> {
  const worker = new Worker(options.queueName ?? DEFAULT_QUEUE_NAME, processJob, {
    connection: redisConnection(options.queue),
    concurrency,
    name,
    lockDuration: options.lockDurationMs ?? 30_000,
    stalledInterval: options.stalledIntervalMs ?? options.lockDurationMs ?? 30_000,
    // A job may be orphaned a few times (killed hosts) before we give up on it.
    maxStalledCount: 3,
    autorun: false,
  });
  let connected = true;
  worker.on('error', (error) => {
    // Connection trouble repeats every retry; say it once per outage.
    if (connected) log(`! queue ${redactUrl(options.queue)}: ${error.message} (reconnecting)`);
    connected = false;
  });
  worker.on('ready', () => {
    if (!connected) log(`queue ${redactUrl(options.queue)}: reconnected`);
    connected = true;
  });
  const slow = setTimeout(() => log(`waiting for the queue ${redactUrl(options.queue)} (is Redis running there?)`), 3000);
  await worker.waitUntilReady();
  clearTimeout(slow);
  void worker.run().catch((error) => log(`! worker loop stopped: ${(error as Error).message}`));
  return worker;
}

/** What a job's processing returns to BullMQ (the driver reads it). */
interface JobDone {
  key: string;
  worker: string;
  reused: boolean;
}

/** Rate-limited progress of one job, sent to the queue. */
type SendProgress = (update: Omit<RemoteProgress, 'worker'>, force?: boolean) => void;

/** A job admitted to run here: the stage's definition and this worker's fingerprint of its code. */
interface Admitted {
  data: RemoteJobData;
  label: string;
  def: StageDef;
  mine: CodeFingerprint;
}

/**
 * What a worker needs to run jobs: its own copy of the project (stages and their code
 * fingerprints), its local store, the shared cache and the executors. One per worker process;
 * each method is one step of the list in the module comment.
 */
class JobRunner {
  private readonly name: string;
  private readonly log: (line: string) => void;
  private readonly trust: CacheTrust;
  private readonly memo: StatMemo;
  private readonly fingerprinter: Fingerprinter;
  private readonly defs: Map<string, StageDef>;
  private readonly threads: LocalExecutor;
  private readonly inline: InlineExecutor;
  /** One per running job: aborted when the worker closes with `force`. */
  private readonly aborts = new Set<AbortController>();
  private readonly active = new Set<Promise<unknown>>();

  constructor(
    private readonly project: PipelineProject,
    /** This worker's local store: inputs and outputs pass through it. */
    private readonly store: Store,
    /** The shared cache. */
    private readonly backend: ObjectBackend,
    o: { name: string; log: (line: string) => void; concurrency: number; trust: CacheTrust },
  ) {
    this.name = o.name;
    this.log = o.log;
    this.trust = o.trust;
    this.memo = new StatMemo(join(this.store.stateDir, 'stat-memo.json'));
    this.fingerprinter = new Fingerprinter(project.root, this.memo);
    this.defs = new Map<string, StageDef>(project.stages.map((s) => [s.name, s]));
    this.threads = new LocalExecutor(o.concurrency);
    this.inline = new InlineExecutor(this.defs);
  }

  /** BullMQ's processor: one job, tracked so that a forced close can wait for it. */
  process(bullJob: BullJob, token?: string): Promise<JobDone> {
    const running = this.processOne(bullJob, token);
    this.active.add(running);
    void running.catch(() => {}).finally(() => this.active.delete(running));
    return running;
  }

  /** Hand every running job back to the queue (waiting at most 5 s for them to stop). */
  async abortAll(): Promise<void> {
    for (const abort of this.aborts) abort.abort();
    await Promise.race([Promise.allSettled([...this.active]), new Promise((r) => setTimeout(r, 5000))]);
  }

  /** After the queue worker closed: stop the threads, the shared cache's connections, save the stat memo. */
  async close(): Promise<void> {
    await this.threads.close();
    await this.backend.close();
    this.memo.save();
  }

  /** The steps of the module comment, in order: admit, skip if done, fetch inputs, run, upload, record. */
  private async processOne(bullJob: BullJob, token?: string): Promise<JobDone> {
    const admitted = this.admit(bullJob);
    const { data, label, def, mine } = admitted;
    const key = data.job.key;
    const name = this.name;
    const progress = throttle((update: Omit<RemoteProgress, 'worker'>) => bullJob.updateProgress({ worker: name, ...update } satisfies RemoteProgress));
    if (await isDone(this.backend, key, this.trust, this.log)) {
      progress({ fraction: 1, message: 'already in the shared cache' }, true);
      return { key, worker: name, reused: true };
    }
    this.log(`▶ ${label} (${data.job.role}${Object.keys(data.job.axes).length ? ' ' + JSON.stringify(data.job.axes) : ''})`);
    progress({ fraction: 0, message: 'started' }, true);
    await this.fetchInputs(admitted);
    const job: Job = { ...data.job, module: def.module, artifactsDir: this.store.root, durable: this.store.durable };
    const result = await this.runJob(bullJob, token, job, admitted, progress);
    await pushOutputs(this.store, this.backend, Object.values(result.outputs));
    // The record goes last: once it exists, the key is done for every driver and worker.
    await writeRemoteRecord(
      this.backend,
      { format: 1, kind: 'remote-run', key, stage: job.stage, role: job.role, axes: job.axes, code: mine.digest, result, worker: name },
      this.trust,
    );
    this.log(`✓ ${label} ${result.ms} ms`);
    return { key, worker: name, reused: false };
  }

  /**
   * The job, if this worker may run it: same protocol, signed when this worker holds the
   * secret, a stage of this project whose code fingerprint equals the driver's, valid params
   * and axes. Otherwise throws a JobRefusedError (the job goes back for another worker).
   */
  private admit(bullJob: BullJob): Admitted {
    const { name, trust } = this;
    const data = bullJob.data as RemoteJobData;
    const label = `${data?.job?.stage ?? '?'} ${String(bullJob.id).slice(0, 12)}`;
    if (data?.protocol !== PROTOCOL_VERSION) {
      throw this.refuse(
        `worker ${name} refused job ${bullJob.id}: it speaks job protocol ${PROTOCOL_VERSION}, the job has ${data?.protocol}; run the same code on every host`,
      );
    }
    if ('signer' in trust) {
      const problem = trust.signer.problem('job', data);
      if (problem) {
        throw this.refuse(
          `worker ${name} refused job ${label} from ${String(data.driver)}: ` +
            (problem === 'it has no signature'
              ? 'the job is not signed, but this worker has the shared-cache secret (the driver runs without it, with --insecure-shared-cache)'
              : `${problem}: the driver and this worker were given different secrets ($${SECRET_ENV}), or the job was not submitted by a driver that holds it`),
        );
      }
    }
    const def = this.defs.get(data.job.stage);
    if (!def) {
      throw this.refuse(`worker ${name} refused job ${label}: this worker's project has no stage '${data.job.stage}'; run the same code on every host`);
    }
    const mine = this.fingerprinter.fingerprint(def.module);
    if (mine.digest !== data.code.digest) {
      throw this.refuse(
        `worker ${name} refused job ${label} from ${data.driver}: its code differs from the driver's ` +
          `(${describeCodeDifference(mine, data.code)}); run the same code on every host`,
      );
    }
    const invalid = validateJob(def, this.project, data);
    if (invalid) throw this.refuse(`worker ${name} refused job ${label} from ${String(data.driver)}: ${invalid}`);
    return { data, label, def, mine };
  }

  /** Log a refusal and make the error that hands the job back to the queue. */
  private refuse(message: string): JobRefusedError {
    this.log(`✗ ${message}`);
    return new JobRefusedError(message);
  }

  /** Fetch the job's inputs into the local store; a missing or corrupt one fails the job for good here. */
  private async fetchInputs({ data, label }: Admitted): Promise<void> {
    try {
      await fetchOutputs(this.store, this.backend, jobInputOutputs(data.job));
    } catch (error) {
      if (!(error instanceof MissingObjectError || error instanceof CorruptObjectError)) throw error;
      // Not retried here: the driver uploads its own (verified) copy of the input and resubmits.
      const failure = new UnrecoverableError(`worker ${this.name} cannot run job ${label}: an input is unusable: ${error.message}`);
      failure.stack = `${INPUT_OBJECT_ERROR}: ${failure.message}`;
      this.log(`✗ ${failure.message}`);
      throw failure;
    }
  }

  /**
   * Run the job on the engine's executors (inline stages and combines in this thread). A stage
   * failure is final (stage code is deterministic); a job interrupted by a forced close goes
   * back to the queue.
   */
  private async runJob(bullJob: BullJob, token: string | undefined, job: Job, { data, label, def }: Admitted, progress: SendProgress): Promise<JobResult> {
    const executor = def.inline || job.role === 'combine' ? this.inline : this.threads;
    const abort = new AbortController();
    this.aborts.add(abort);
    try {
      return await executor.run(job, { signal: abort.signal, onProgress: (u) => progress(u, u.fraction === 1) });
    } catch (error) {
      if (abort.signal.aborted) {
        // This worker is shutting down: hand the job straight back to the queue for another.
        this.log(`↩ ${label}: handed back to the queue`);
        await bullJob.moveToWait(token);
        throw new WaitingError();
      }
      // Stage code is deterministic: retrying the same inputs elsewhere would fail the same way.
      const e = error as Error;
      const failure = new UnrecoverableError(`${data.job.stage} failed on worker ${this.name}: ${e.message}`);
      failure.stack = (error instanceof JobError ? error.stageStack : e.stack) ?? failure.stack;
      this.log(`✗ ${label}: ${e.message}`);
      throw failure;
    } finally {
      this.aborts.delete(abort);
    }
  }
}

/** A usable record exists: written, signed, and every output object still there (a corrupt one was set aside). */
async function isDone(backend: ObjectBackend, key: Job['key'], trust: CacheTrust, log: (line: string) => void): Promise<boolean> {
  const record = await readRemoteRecord(backend, key, trust, log);
  if (!record) return false;
  for (const output of Object.values(record.result.outputs)) if (!(await backend.has(output.digest))) return false;
  return true;
}

/**
 * Why a job must not run here, or undefined: its params tree must parse against this project's
 * schema, its axes must be a point of the stage's matrix under those params, and its resolved
 * params (and sample count) must be what the stage declares for that point.
 */
export function validateJob(def: StageDef, project: PipelineProject, data: RemoteJobData): string | undefined {
  const parsed = project.paramsSchema.safeParse(data.params);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return `its params do not parse against this project's schema: ${issue.path.join('.') || '(root)'}: ${issue.message}`;
  }
  let instances: Instance[];
  try {
    instances = expandStage(def, parsed.data);
  } catch (error) {
    return `its params do not give stage '${def.name}' a matrix: ${(error as Error).message}`;
  }
  const axes = canonicalJsonOrUndefined(data.job.axes);
  const inst = instances.find((i) => canonicalJson(i.axes) === axes);
  if (!inst) return `its axes ${JSON.stringify(data.job.axes)} are not a point of the matrix of stage '${def.name}' under its params`;
  if (canonicalJsonOrUndefined(data.job.params) !== canonicalJson(inst.params)) {
    return `its resolved params are not what stage '${def.name}' declares for ${inst.id} under its params`;
  }
  if (data.job.combine && data.job.combine.count !== inst.count)
    return `its sample count ${data.job.combine.count} is not the ${inst.count} its params ask for`;
  return undefined;
}

function canonicalJsonOrUndefined(value: unknown): string | undefined {
  try {
    return canonicalJson(value);
  } catch {
    return undefined;
  }
}

/** Rate-limit progress messages to the queue (each is a Redis round trip); `force` always sends. */
function throttle(send: (update: Omit<RemoteProgress, 'worker'>) => Promise<unknown>) {
  let last = 0;
  return (update: Omit<RemoteProgress, 'worker'>, force = false) => {
    const now = performance.now();
    if (!force && now - last < 250) return;
    last = now;
    send(update).catch(() => {}); // progress is best effort; the job itself is what counts
  };
}
