/**
 * Jobs: the self-contained unit an Executor runs. A job names its stage module, key, axes,
 * resolved params, runtime facts, seed and input artifacts (by digest), and where the store
 * is; whoever runs it (a worker thread here, a BullMQ worker on another host later) loads the
 * stage module, runs it, writes its outputs into the store by digest and returns the digests.
 * Nothing in a job refers to main-process state, so it can be serialised as JSON.
 */
import type { Axes, Metrics, StageKey } from './types.ts';
import type { OutputRecord, RunRole } from './store.ts';

export interface JobInput {
  stage: string;
  axes: Axes;
  key: StageKey;
  /** Only the outputs the consumer declared; each stored by digest. */
  outputs: Record<string, OutputRecord>;
  metrics: Metrics;
}

export interface JobShard {
  index: number;
  start: number;
  end: number;
  /** The count-free base key that sample seeds derive from (keys.ts sampleSeed). */
  baseKey: string;
}

export interface JobCombine {
  count: number;
  shards: { start: number; end: number; outputs: Record<string, OutputRecord>; metrics: Metrics }[];
}

export interface Job {
  stage: string;
  /** file: URL of the stage module (StageDef.module). */
  module: string;
  key: StageKey;
  role: RunRole;
  axes: Axes;
  params: unknown;
  runtime: Record<string, string>;
  seed: number;
  inputs: Record<string, JobInput[]>;
  /** Output names the result must have exactly (combine and plain runs); shards may return any. */
  outputs: string[] | null;
  shard?: JobShard;
  combine?: JobCombine;
  /** The artifacts directory (store root) to write outputs into. */
  artifactsDir: string;
  /** fsync writes (false only in benchmark set-up). */
  durable: boolean;
}

export interface JobResult {
  outputs: Record<string, OutputRecord>;
  metrics: Metrics;
  startedAt: string;
  finishedAt: string;
  ms: number;
}

export interface ProgressUpdate {
  fraction?: number;
  message?: string;
  /** A one-line notice the driver prints as it is (for example a discarded checkpoint). */
  notice?: string;
}

/**
 * Runs jobs. LocalExecutor (worker threads) and InlineExecutor (main thread) implement it; a
 * distributed executor can too. `run` rejects with the stage's error, or with an AbortError if
 * `signal` fires (the job's outputs must then be ignored).
 */
export interface Executor {
  run(job: Job, opts: { signal: AbortSignal; onProgress: (u: ProgressUpdate) => void }): Promise<JobResult>;
  close(): Promise<void>;
}
