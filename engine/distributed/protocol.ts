/**
 * What travels through the queue: one BullMQ job per stage key (job id = key, so a duplicate
 * submission collapses into one job).
 *
 * A job is self-contained: the engine's Job (stage, key, role, axes, resolved params, runtime
 * facts, seed, input output-records by digest, shard or combine description) minus what only
 * makes sense on the driver's host (the module's file URL, the store directory), plus the
 * driver's code fingerprint of the stage module. A worker resolves the stage in its own copy
 * of the project and refuses the job if its own fingerprint differs.
 */
import type { Job } from '../job.ts';
import type { CodeFingerprint } from '../fingerprint.ts';
import type { OutputRecord } from '../store.ts';
import type { Json } from '../types.ts';
import { UserError } from '../errors.ts';

export const PROTOCOL_VERSION = 1;

export interface RemoteJobData {
  protocol: typeof PROTOCOL_VERSION;
  job: Omit<Job, 'module' | 'artifactsDir' | 'durable'>;
  /** The driver's fingerprint of the stage module: digest, files and package versions. */
  code: CodeFingerprint;
  /** `host:pid` of the driver that submitted it. */
  driver: string;
  /**
   * The driver's whole (validated) params tree: the worker checks it against the project's
   * schema, and the job's axes and params against the stage's matrix under it.
   */
  params: Json;
  /** HMAC-SHA256 of the rest (signing.ts, purpose 'job'); absent with --insecure-shared-cache. */
  signature?: string;
}

/** Progress a worker publishes with job.updateProgress (BullMQ relays it to the driver). */
export interface RemoteProgress {
  worker: string;
  fraction?: number;
  message?: string;
}

/** Stack marker of a job a worker failed because an input in the shared cache was missing or corrupt. */
export const INPUT_OBJECT_ERROR = 'InputObjectError';

/** A worker refuses a job it must not compute (other code, unknown stage, other protocol). */
export class JobRefusedError extends UserError {}

/** Every output record a job reads: its inputs' outputs and, for a combine, its shards' outputs. */
export function jobInputOutputs(job: Pick<Job, 'inputs' | 'combine'>): OutputRecord[] {
  const out: OutputRecord[] = [];
  for (const list of Object.values(job.inputs)) for (const input of list) out.push(...Object.values(input.outputs));
  for (const shard of job.combine?.shards ?? []) out.push(...Object.values(shard.outputs));
  return out;
}

/** Human-readable difference between two code fingerprints (which files and packages differ). */
export function describeCodeDifference(mine: CodeFingerprint, theirs: CodeFingerprint): string {
  const diffs: string[] = [];
  const compare = (kind: string, a: Record<string, string>, b: Record<string, string>) => {
    for (const name of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (a[name] === b[name]) continue;
      if (a[name] === undefined) diffs.push(`${kind} ${name} is only in the driver's code`);
      else if (b[name] === undefined) diffs.push(`${kind} ${name} is only in this worker's code`);
      else diffs.push(kind === 'package' ? `package ${name}: driver ${b[name]}, worker ${a[name]}` : `file ${name} differs`);
    }
  };
  compare('file', mine.files, theirs.files);
  compare('package', mine.packages, theirs.packages);
  const shown = diffs.slice(0, 5).join('; ');
  return diffs.length > 5 ? `${shown}; and ${diffs.length - 5} more` : shown || 'the fingerprints differ';
}
