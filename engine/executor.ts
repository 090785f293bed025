/**
 * Executors: where jobs run.
 *  - LocalExecutor: a piscina pool of worker threads (CPU-heavy stages; the main thread stays
 *    free for scheduling and progress). Each worker loads stage modules itself (worker-boot.mjs
 *    registers tsx), builds the RunContext and writes outputs into the store by digest.
 *    Aborting a running task asks the job to stop (cooperativeAbort), then terminates its worker
 *    thread if it has not; either way in-flight work is dropped.
 *  - InlineExecutor: the main thread (stages declared `inline`, and sample combines).
 * Measured worker start-up (tsx register + first import) is ~0.25 s per thread, paid once per
 * thread per run and only when a non-inline job actually runs.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { executeJob } from './runner.ts';
import { DamagedObjectError } from './errors.ts';
import type { Executor, Job, JobResult, ProgressUpdate } from './job.ts';
import type { StageDef } from './types.ts';
import type { WorkerReply, WorkerTask } from './worker.ts';

/** An input object the job found missing or corrupt as it read it (see DamagedObjectError). */
export interface DamagedObject {
  digest: string;
  problem: 'missing' | 'corrupt';
  detail: string;
}

/**
 * An error raised by stage code; `userFacing` errors print without a stack. `damaged` is set
 * when the job stopped because an object it read was damaged: the producer must be recomputed.
 */
export class JobError extends Error {
  constructor(
    message: string,
    readonly stageStack: string | undefined,
    readonly userFacing: boolean,
    readonly damaged?: DamagedObject,
  ) {
    super(message);
    this.name = 'JobError';
  }
}

/** How long an aborted job may take to stop by itself before its worker thread is terminated. */
export const ABORT_GRACE_MS = 5_000;

/**
 * Abort a worker's job by asking it first (the worker aborts the job's signal, which training,
 * lesions and sample loops check): terminating a thread in the middle of a native call (ONNX
 * Runtime's session.run) makes the addon abort the whole process. Only a job that has not
 * stopped after ABORT_GRACE_MS gets its thread terminated (`terminate` is the pool's signal).
 */
function cooperativeAbort(signal: AbortSignal, port: MessagePort): { terminate: AbortSignal; dispose: () => void } {
  const hard = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    port.postMessage({ abort: true });
    timer = setTimeout(() => hard.abort(signal.reason), ABORT_GRACE_MS);
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  return {
    terminate: hard.signal,
    dispose: () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    },
  };
}

export class LocalExecutor implements Executor {
  private pool: Piscina | undefined;
  constructor(private readonly threads: number) {}

  async run(job: Job, opts: { signal: AbortSignal; onProgress: (u: ProgressUpdate) => void }): Promise<JobResult> {
    // Created on first use, so a no-op run starts no threads and workers see any environment
    // variables set by CLI plugins before the run (a Worker copies process.env when created).
    this.pool ??= new Piscina({
      filename: new URL('./worker-boot.mjs', import.meta.url).href,
      minThreads: 0,
      maxThreads: this.threads,
      idleTimeout: 60_000,
    });
    const { port1, port2 } = new MessageChannel();
    port1.on('message', (u: ProgressUpdate) => opts.onProgress(u));
    const stop = cooperativeAbort(opts.signal, port1);
    try {
      const task: WorkerTask = { job, port: port2 };
      const reply: WorkerReply = await this.pool.run(task, { transferList: [port2] as any, signal: stop.terminate });
      if (!reply.ok) throw new JobError(reply.error.message, reply.error.stack, reply.error.userFacing, reply.error.damaged);
      return reply.result;
    } finally {
      stop.dispose();
      port1.close();
    }
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.destroy();
  }
}

/** Runs jobs in the main thread with the StageDef objects the project already loaded. */
export class InlineExecutor implements Executor {
  constructor(private readonly defs: ReadonlyMap<string, StageDef>) {}

  async run(job: Job, opts: { signal: AbortSignal; onProgress: (u: ProgressUpdate) => void }): Promise<JobResult> {
    try {
      return await executeJob(job, { ...opts, def: this.defs.get(job.stage) });
    } catch (err) {
      if (opts.signal.aborted) throw err;
      const e = err instanceof Error ? err : new Error(String(err));
      const damaged = e instanceof DamagedObjectError ? { digest: e.digest, problem: e.problem, detail: e.detail } : undefined;
      throw new JobError(e.message, e.stack, typeof (e as { exitCode?: unknown }).exitCode === 'number', damaged);
    }
  }

  async close(): Promise<void> {}
}
