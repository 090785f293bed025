/**
 * The `bullmq` executor: the driver side of distributed runs (`repro --executor bullmq`).
 *
 * The scheduler stays what it is: it computes keys, finds local cache hits and hands the
 * misses to an Executor. This one, for each job:
 *  1. looks for the key's record in the shared cache (another driver or an earlier run may
 *     have computed it) and, if found, copies the objects into the local store: done;
 *  2. otherwise uploads the job's inputs to the shared cache (write-once: usually already
 *     there, since workers put them there) and submits the job, with job id = stage key so
 *     that duplicate submissions collapse into one BullMQ job;
 *  3. waits for the key's completion (BullMQ events, with a periodic check as a safety net:
 *     events can be missed while Redis restarts, and a restarted Redis without persistence
 *     has lost the queue, in which case the job is submitted again);
 *  4. copies the outputs from the shared cache into the local store, so that after the run the
 *     local store is exactly as after a local run.
 * Progress lines name the worker running each job.
 */
import { hostname } from 'node:os';
import { Queue, QueueEvents } from 'bullmq';
import { Store } from '../store.ts';
import { JobError } from '../executor.ts';
import type { CodeFingerprint } from '../fingerprint.ts';
import type { Executor, Job, JobResult, ProgressUpdate } from '../job.ts';
import type { ObjectBackend } from './backend.ts';
import type { CacheTrust } from './signing.ts';
import type { Json } from '../types.ts';
import { DEFAULT_QUEUE_NAME, probeRedis, redactUrl, redisConnection } from './connection.ts';
import { DamagedObjectError } from '../errors.ts';
import { INPUT_OBJECT_ERROR, PROTOCOL_VERSION, jobInputOutputs, type RemoteJobData, type RemoteProgress } from './protocol.ts';
import { pullRun, pushOutputs } from './transfer.ts';

export interface BullmqExecutorOptions {
  /** redis://HOST:PORT */
  queue: string;
  queueName?: string;
  /** The shared cache (opened by the caller, closed by close()). */
  cache: ObjectBackend;
  /** The driver's code fingerprint of a stage module (the scheduler's Fingerprinter). */
  fingerprint: (moduleUrl: string) => CodeFingerprint;
  /** How often (ms) to check outstanding jobs against the queue and the cache. Default 1000. */
  checkIntervalMs?: number;
  /** Tries for a job that workers refuse or that fails outside stage code. Default 5. */
  attempts?: number;
  /** Signs jobs and checks run records (signing.ts), or explicitly trusts everything. */
  trust: CacheTrust;
  /** The session's whole params tree (sent with every job for the worker to validate). */
  params: Json;
}

/** Submissions of one key within one run before giving up (each Redis restart costs one). */
const MAX_SUBMISSIONS = 10;

interface Waiter {
  job: Job;
  store: Store;
  signal: AbortSignal;
  onProgress: (u: ProgressUpdate) => void;
  resolve: (r: JobResult) => void;
  reject: (e: Error) => void;
  /** A completion check is under way (events and the periodic check may race). */
  checking: boolean;
  submitted: number;
}

export class BullmqExecutor implements Executor {
  private readonly queue: Queue;
  private readonly events: QueueEvents;
  private readonly waiters = new Map<string, Waiter[]>();
  private readonly watched = new WeakSet<AbortSignal>();
  private readonly timer: NodeJS.Timeout;
  private readonly driver = `${hostname()}:${process.pid}`;
  private closed = false;
  private lastError: Error | undefined;
  /** Notices already shown: a key's unusable shared record is read again while its job runs, and said once. */
  private readonly noticed = new Set<string>();

  private constructor(private readonly options: BullmqExecutorOptions) {
    const connection = redisConnection(options.queue);
    const name = options.queueName ?? DEFAULT_QUEUE_NAME;
    this.queue = new Queue(name, { connection });
    this.events = new QueueEvents(name, { connection });
    // Reconnects by itself; mid-run outages show as stalled progress.
    this.queue.on('error', (error) => (this.lastError = error));
    this.events.on('error', () => {});
    this.events.on('active', ({ jobId }) => this.forEach(jobId, (w) => w.onProgress({ message: 'running remotely' })));
    this.events.on('progress', ({ jobId, data }) => {
      const p = data as RemoteProgress;
      if (!p || typeof p !== 'object' || typeof p.worker !== 'string') return;
      this.forEach(jobId, (w) => w.onProgress({ fraction: p.fraction, message: `on ${p.worker}${p.message ? ': ' + p.message : ''}` }));
    });
    this.events.on('completed', ({ jobId }) => void this.check(jobId));
    this.events.on('failed', ({ jobId }) => void this.check(jobId));
    this.timer = setInterval(() => {
      for (const key of this.waiters.keys()) void this.check(key);
    }, options.checkIntervalMs ?? 1000);
    this.timer.unref();
  }

  /** Connect; fails at once if Redis refuses, after `connectTimeoutMs` (default 15 s) if it does not answer. */
  static async create(options: BullmqExecutorOptions & { connectTimeoutMs?: number }): Promise<BullmqExecutor> {
    await probeRedis(options.queue, options.connectTimeoutMs ?? 15_000).catch(async (error) => {
      await options.cache.close();
      throw error;
    });
    const executor = new BullmqExecutor(options);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        Promise.all([executor.queue.waitUntilReady(), executor.events.waitUntilReady()]),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(executor.lastError ?? new Error('no answer')), options.connectTimeoutMs ?? 15_000);
        }),
      ]);
    } catch (error) {
      // close() would wait for a connection that never comes: cut the connections instead.
      executor.closed = true;
      clearInterval(executor.timer);
      await Promise.allSettled([executor.queue.disconnect(), executor.events.disconnect(), options.cache.close()]);
      throw new JobError(`cannot reach the queue ${redactUrl(options.queue)}: ${(error as Error).message}; is Redis running there?`, undefined, true);
    } finally {
      clearTimeout(timer);
    }
    return executor;
  }

  async run(job: Job, opts: { signal: AbortSignal; onProgress: (u: ProgressUpdate) => void }): Promise<JobResult> {
    const store = new Store(job.artifactsDir, job.durable);
    const hit = await pullRun(this.options.cache, store, job.key, this.options.trust, this.noticeOnce(opts.onProgress));
    if (hit) {
      opts.onProgress({ fraction: 1, message: `from the shared cache (computed on ${hit.worker})` });
      return hit.result;
    }
    await pushOutputs(store, this.options.cache, jobInputOutputs(job));
    opts.signal.throwIfAborted();
    this.watch(opts.signal);
    return new Promise<JobResult>((resolve, reject) => {
      const waiter: Waiter = { job, store, signal: opts.signal, onProgress: opts.onProgress, resolve, reject, checking: false, submitted: 0 };
      const list = this.waiters.get(job.key) ?? [];
      list.push(waiter);
      this.waiters.set(job.key, list);
      if (list.length === 1) {
        this.submit(waiter).catch((error) => this.finish(job.key, (w) => w.reject(error as Error)));
      }
    });
  }

  /**
   * On abort, stop waiting for the jobs of that signal (one listener per signal, not per job).
   * Jobs already queued stay queued: their results land in the shared cache, and a restarted
   * driver picks them up instead of computing them again.
   */
  private noticeOnce(onProgress: (u: ProgressUpdate) => void): (notice: string) => void {
    return (notice) => {
      if (this.noticed.has(notice)) return;
      this.noticed.add(notice);
      onProgress({ notice });
    };
  }

  private watch(signal: AbortSignal): void {
    if (this.watched.has(signal)) return;
    this.watched.add(signal);
    signal.addEventListener(
      'abort',
      () => {
        for (const [key, list] of this.waiters) {
          const [aborted, rest] = [list.filter((w) => w.signal === signal), list.filter((w) => w.signal !== signal)];
          if (rest.length) this.waiters.set(key, rest);
          else this.waiters.delete(key);
          for (const w of aborted) w.reject(signal.reason ?? new Error('aborted'));
        }
      },
      { once: true },
    );
  }

  /** Add the job (a no-op if a job with this key is already queued or running). */
  private async submit(waiter: Waiter): Promise<void> {
    const { job } = waiter;
    const key = job.key;
    // A failed job of an earlier run would swallow the new submission (same id): clear it.
    if ((await this.queue.getJobState(key)) === 'failed') await this.queue.remove(key).catch(() => {});
    const { module, artifactsDir: _dir, durable: _durable, ...portable } = job;
    const unsigned: RemoteJobData = {
      protocol: PROTOCOL_VERSION,
      job: portable,
      code: this.options.fingerprint(module),
      driver: this.driver,
      params: this.options.params,
    };
    const trust = this.options.trust;
    const data = 'signer' in trust ? trust.signer.signed('job', unsigned) : unsigned;
    waiter.submitted++;
    await this.queue.add(job.stage, data, {
      jobId: key,
      attempts: this.options.attempts ?? 5,
      backoff: { type: 'fixed', delay: 500 },
      removeOnComplete: true,
      removeOnFail: { age: 24 * 3600 },
    });
    waiter.onProgress({ fraction: 0, message: 'queued' });
  }

  /** Is the key done (record in the shared cache), failed for good, or lost from the queue? */
  private async check(key: string): Promise<void> {
    const list = this.waiters.get(key);
    if (!list || list[0].checking || this.closed) return;
    const waiter = list[0];
    waiter.checking = true;
    try {
      const state = await this.queue.getJobState(key);
      if (state === 'failed') {
        const failed = await this.queue.getJob(key);
        const reason = failed?.failedReason ?? 'unknown reason';
        const stack = failed?.stacktrace?.at(-1) ?? undefined;
        if (stack?.startsWith(INPUT_OBJECT_ERROR) && waiter.submitted < MAX_SUBMISSIONS) {
          // The worker found an input missing or corrupt in the shared cache (and set it aside):
          // upload our verified copy again and resubmit. A damaged local copy rejects the job with
          // DamagedObjectError, and the scheduler recomputes its producer.
          try {
            await pushOutputs(waiter.store, this.options.cache, jobInputOutputs(waiter.job));
          } catch (error) {
            if (error instanceof DamagedObjectError) return this.finish(key, (w) => w.reject(error));
            throw error;
          }
          await this.submit(waiter);
          return;
        }
        // Refusals are the user's to fix (same code everywhere); stage failures keep their stack.
        const refused = !stack || stack.startsWith('JobRefusedError');
        this.finish(key, (w) => w.reject(new JobError(reason, refused ? undefined : stack, refused)));
        return;
      }
      if (state !== 'completed' && state !== 'unknown') return; // waiting, delayed, active
      const record = await pullRun(this.options.cache, waiter.store, key as Job['key'], this.options.trust, this.noticeOnce(waiter.onProgress));
      if (record) {
        waiter.onProgress({ fraction: 1, message: `done on ${record.worker}` });
        this.finish(key, (w) => w.resolve(record.result));
      } else if (waiter.submitted >= MAX_SUBMISSIONS) {
        this.finish(key, (w) =>
          w.reject(
            new JobError(
              `job ${waiter.job.stage} ${key} was submitted ${waiter.submitted} times without a readable result in ${this.options.cache.location}; check that the workers use the same --cache`,
              undefined,
              true,
            ),
          ),
        );
      } else {
        // Lost (a restarted Redis without persistence has forgotten it), or completed while the
        // shared cache lacks a usable result (deleted, or corrupt and set aside): submit again.
        if (state === 'completed') await this.queue.remove(key).catch(() => {});
        await this.submit(waiter);
      }
    } catch {
      // Redis or the cache is unreachable right now; the next check tries again.
    } finally {
      waiter.checking = false;
    }
  }

  private forEach(key: string, f: (w: Waiter) => void): void {
    for (const w of this.waiters.get(key) ?? []) f(w);
  }

  private finish(key: string, f: (w: Waiter) => void): void {
    const list = this.waiters.get(key) ?? [];
    this.waiters.delete(key);
    for (const w of list) f(w);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await Promise.allSettled([this.events.close(), this.queue.close()]);
    await this.options.cache.close();
  }
}
