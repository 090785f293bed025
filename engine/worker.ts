/** One task in a worker thread: run a job and report progress through the task's MessagePort. */
import type { MessagePort } from 'node:worker_threads';
import { executeJob } from './runner.ts';
import { DamagedObjectError, isUserFacing } from './errors.ts';
import type { DamagedObject } from './executor.ts';
import type { Job, JobResult } from './job.ts';

export interface WorkerTask {
  job: Job;
  port: MessagePort;
}

/** Errors cross the thread boundary as plain data so their user-facing nature survives. */
export type WorkerReply =
  | { ok: true; result: JobResult }
  | { ok: false; error: { name: string; message: string; stack?: string; userFacing: boolean; damaged?: DamagedObject } };

export default async function runTask({ job, port }: WorkerTask): Promise<WorkerReply> {
  const controller = new AbortController();
  // The executor asks a job to stop here before it would terminate the thread (executor.ts cooperativeAbort).
  port.on('message', (m: { abort?: boolean }) => {
    if (m?.abort) controller.abort(new Error('interrupted'));
  });
  let last = 0;
  try {
    const result = await executeJob(job, {
      signal: controller.signal,
      onProgress: (u) => {
        // Throttle: a tight loop reporting every step must not flood the main thread.
        const now = performance.now();
        if (now - last < 100 && u.fraction !== 1 && !u.notice) return;
        last = now;
        port.postMessage(u);
      },
    });
    return { ok: true, result };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    const damaged = e instanceof DamagedObjectError ? { digest: e.digest, problem: e.problem, detail: e.detail } : undefined;
    return { ok: false, error: { name: e.name, message: e.message, stack: e.stack, userFacing: isUserFacing(e), damaged } };
  } finally {
    port.close();
  }
}
