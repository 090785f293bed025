/**
 * Execute one job in this thread: load the stage module, build its RunContext (or
 * CombineContext), run it, check and store its outputs. Used by worker threads (worker.ts) and
 * by the inline executor; it never writes run records (the scheduler does, after the job).
 */
import { hostname } from 'node:os';
import { initHashing } from './hash.ts';
import { Store, type OutputRecord } from './store.ts';
import { sampleSeed } from './keys.ts';
import { StageOutputError } from './errors.ts';
import type { Job, JobResult, ProgressUpdate } from './job.ts';
import type { CombineContext, InputInstance, Metrics, RunContext, Seed, StageDef, StageResult } from './types.ts';

const moduleCache = new Map<string, Promise<Record<string, unknown>>>();

/** Find the StageDef named `stage` among a module's exports. */
export async function loadStageDef(moduleUrl: string, stage: string): Promise<StageDef> {
  let mod = moduleCache.get(moduleUrl);
  if (!mod) moduleCache.set(moduleUrl, (mod = import(moduleUrl)));
  const exports = await mod;
  for (const v of Object.values(exports)) {
    if (v && typeof v === 'object' && (v as StageDef).name === stage && typeof (v as StageDef).run === 'function') return v as StageDef;
  }
  throw new Error(`module ${moduleUrl} exports no stage named '${stage}' (export the defineStage(...) value)`);
}

export async function executeJob(job: Job, opts: { signal: AbortSignal; onProgress: (u: ProgressUpdate) => void; def?: StageDef }): Promise<JobResult> {
  await initHashing();
  const store = new Store(job.artifactsDir, job.durable);
  const def = opts.def ?? (await loadStageDef(job.module, job.stage));
  const startedAt = new Date();
  const t0 = performance.now();

  const inputs: Record<string, InputInstance[]> = {};
  for (const [stage, list] of Object.entries(job.inputs)) {
    inputs[stage] = list.map((i) => ({
      stage: i.stage,
      axes: i.axes,
      key: i.key,
      metrics: i.metrics,
      outputs: Object.fromEntries(Object.entries(i.outputs).map(([n, rec]) => [n, store.artifact(rec)])),
    }));
  }
  const progress = (u: ProgressUpdate) => opts.onProgress(u);
  const base = {
    stage: job.stage,
    key: job.key,
    axes: job.axes,
    params: job.params,
    inputs,
    runtime: job.runtime,
    seed: job.seed as Seed,
    progress,
    downloadsDir: store.downloadsDir(job.stage),
    signal: opts.signal,
  };

  let result: StageResult;
  if (job.role === 'combine') {
    const c = job.combine!;
    const ctx: CombineContext = {
      ...base,
      count: c.count,
      shards: c.shards.map((s) => ({
        start: s.start,
        end: s.end,
        metrics: s.metrics,
        outputs: Object.fromEntries(Object.entries(s.outputs).map(([n, rec]) => [n, store.artifact(rec)])),
      })),
    };
    result = await def.samples!.combine(ctx);
  } else {
    const ctx: RunContext = {
      ...base,
      checkpoint: store.checkpoint(job.key, (notice) => opts.onProgress({ notice })),
      shard: job.shard && {
        index: job.shard.index,
        start: job.shard.start,
        end: job.shard.end,
        sampleSeed: (
          (baseKey: string) => (i: number) =>
            sampleSeed(baseKey, i) as Seed
        )(job.shard.baseKey),
      },
    };
    result = await def.run(ctx);
  }
  if (opts.signal.aborted) throw opts.signal.reason ?? new Error('aborted');

  const where = `${job.stage}${job.role === 'shard' ? ` shard ${job.shard!.index}` : job.role === 'combine' ? ' combine' : ''}`;
  if (!result || typeof result !== 'object' || !result.outputs || typeof result.outputs !== 'object') {
    throw new StageOutputError(`stage '${where}' returned ${JSON.stringify(result)?.slice(0, 80)}; expected { outputs: { name: value }, metrics? }`);
  }
  const names = Object.keys(result.outputs);
  if (job.outputs) {
    const missing = job.outputs.filter((n) => !names.includes(n));
    const extra = names.filter((n) => !job.outputs!.includes(n));
    if (missing.length || extra.length) {
      throw new StageOutputError(
        `stage '${where}' returned outputs {${names.join(', ')}} but declares {${job.outputs.join(', ')}}` +
          (missing.length ? `; missing: ${missing.join(', ')}` : '') +
          (extra.length ? `; undeclared: ${extra.join(', ')}` : ''),
      );
    }
  }
  const outputs: Record<string, OutputRecord> = {};
  for (const n of names.sort()) outputs[n] = await store.putOutput(result.outputs[n], `stage '${where}' output '${n}'`);
  const metrics = checkMetrics(result.metrics ?? {}, where);
  const finishedAt = new Date();
  return { outputs, metrics, startedAt: startedAt.toISOString(), finishedAt: finishedAt.toISOString(), ms: Math.round(performance.now() - t0) };
}

function checkMetrics(m: Metrics, where: string): Metrics {
  if (typeof m !== 'object' || m === null || Array.isArray(m))
    throw new StageOutputError(`stage '${where}': metrics must be an object of numbers, strings, booleans or null`);
  const out: Metrics = {};
  for (const [k, v] of Object.entries(m)) {
    if (v === null || typeof v === 'string' || typeof v === 'boolean') out[k] = v;
    else if (typeof v === 'number')
      out[k] = Number.isFinite(v) ? v : null; // JSON has no NaN/Infinity
    else if (v !== undefined)
      throw new StageOutputError(`stage '${where}': metric '${k}' is a ${typeof v}; metrics must be numbers, strings, booleans or null`);
  }
  return out;
}

export const HOST = hostname();
