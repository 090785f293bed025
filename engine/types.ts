/**
 * The contract between the engine and the stage files in `stages/`.
 *
 * A stage is a declaration: what it consumes, which params it reads, what it fans out over,
 * what it produces, and a `run(ctx)` that turns inputs into outputs. The engine turns every
 * declaration into stage *instances* (one per matrix point, or per shard for sample stages),
 * computes a key for each, and runs only the instances whose key has no run record.
 *
 * Stage code never builds cache paths and never touches the store: it receives input
 * artifacts as handles and returns output values; the engine stores them.
 *
 * This file must stay free of heavy imports: stage modules and worker threads load it.
 */
import type { Table } from 'apache-arrow';

/** Content digest of a stored object (hex, see engine/hash.ts for the algorithm). */
export type Digest = string & { readonly __brand: 'Digest' };
/** Key of one stage instance (or shard): a digest of its key parts (see engine/keys.ts). */
export type StageKey = string & { readonly __brand: 'StageKey' };

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A value on one matrix axis, for example dataset = 'mnist', dropout = true, k = 4. */
export type AxisValue = string | number | boolean;
/** The coordinates of one instance on the stage's matrix axes. */
export type Axes = Readonly<Record<string, AxisValue>>;

/** A seed a stage hands to science functions (an integer in [0, 2^53)). */
export type Seed = number & { readonly __brand?: 'Seed' };

/** What a stage may return for one named output. */
export type OutputValue =
  /** A table, stored as an Arrow IPC file (openable by pyarrow, polars, DuckDB). */
  | Table
  /** Opaque bytes (a TF.js weights blob, a JSON document, ...). */
  | Uint8Array
  /** A small tree of files (relative path → content); used for `publish`ed outputs such as reports. */
  | FileTree;

export interface FileTree {
  readonly kind: 'files';
  readonly files: Readonly<Record<string, Uint8Array | string>>;
}

export type OutputKind = 'arrow' | 'bytes' | 'files';

/** Summary numbers a stage reports; they land in the run record and in `status --json`. */
export type Metrics = Record<string, number | string | boolean | null>;

export interface StageResult {
  outputs: Record<string, OutputValue>;
  metrics?: Metrics;
}

/** A read-only handle to one stored artifact. */
export interface InputArtifact {
  readonly kind: OutputKind;
  readonly digest: Digest;
  /** Read an `arrow` artifact. */
  table(): Promise<Table>;
  /** Read any artifact's raw bytes (for `files`, the manifest JSON). */
  bytes(): Promise<Uint8Array>;
  /** Read a `files` artifact. */
  files(): Promise<Record<string, Uint8Array>>;
}

/** One upstream instance whose outputs this instance consumes. */
export interface InputInstance {
  readonly stage: string;
  readonly axes: Axes;
  /** The upstream run's key (set by the engine; optional so hand-built test contexts may omit it). */
  readonly key?: StageKey;
  readonly outputs: Readonly<Record<string, InputArtifact>>;
  /** The upstream run's summary metrics. */
  readonly metrics: Metrics;
}

export interface Progress {
  /** Report progress of this instance: fraction in [0, 1] and an optional short status line. */
  (update: { fraction?: number; message?: string }): void;
}

/**
 * Durable per-instance scratch state that survives a crash (for example per-epoch training
 * checkpoints). It is keyed by the instance key, never served as an output, and deleted once
 * the instance succeeds.
 */
export interface CheckpointStore {
  load(): Promise<Uint8Array | undefined>;
  save(bytes: Uint8Array): Promise<void>;
}

export interface RunContext<P = any> {
  readonly stage: string;
  readonly key: StageKey;
  /** This instance's coordinates on the stage's matrix. */
  readonly axes: Axes;
  /** This instance's params: what the stage's `params(p, axes)` returned for it (and what entered its key). */
  readonly params: P;
  /** Upstream instances, by upstream stage name, in a deterministic order. */
  readonly inputs: Readonly<Record<string, readonly InputInstance[]>>;
  /** Runtime facts the stage declared (StageDef.runtime), as they entered the key. */
  readonly runtime: Readonly<Record<string, string>>;
  /** A seed derived from the instance key: the same key always gets the same seed. */
  readonly seed: Seed;
  readonly progress: Progress;
  readonly checkpoint: CheckpointStore;
  /** A persistent directory for this stage's own reusable downloads (not content-addressed). */
  readonly downloadsDir: string;
  /** Aborted when the run is interrupted (SIGINT/SIGTERM); long loops should check it. */
  readonly signal: AbortSignal;
  /** Set for sample stages only: the samples this shard computes. */
  readonly shard?: ShardInfo;
}

export interface ShardInfo {
  /** Shard number, from 0. */
  readonly index: number;
  /** First sample (inclusive) and last (exclusive) this shard computes. */
  readonly start: number;
  readonly end: number;
  /**
   * The seed of sample i. It derives from the instance key *without* the sample count and
   * from i, so raising the count reuses every earlier sample.
   */
  sampleSeed(i: number): Seed;
}

export interface CombineContext<P = any> extends Omit<RunContext<P>, 'shard' | 'checkpoint'> {
  /** How many samples the params ask for (the shards may hold more: they are whole). */
  readonly count: number;
  /** Every shard's outputs, in shard order, covering at least `count` samples. */
  readonly shards: readonly { start: number; end: number; outputs: Readonly<Record<string, InputArtifact>>; metrics: Metrics }[];
}

/** Which upstream instances (and which of their outputs) one instance consumes. */
export interface InputSpec {
  stage: string;
  /** Axis values the upstream instance must have. Default: this instance's values on the axes both stages share. */
  where?: Axes;
  /** The outputs used; only their digests enter this instance's key. Default: all. */
  outputs?: string[];
}

export interface StageDef<P = any, T = any> {
  /** Absolute URL of the stage module (`import.meta.url`): used to load it in workers and to fingerprint its import closure. */
  readonly module: string;
  readonly name: string;
  readonly description: string;
  /** Upstream stages whose outputs this stage consumes. */
  readonly deps: readonly string[];
  /**
   * The params one instance reads, from the whole params tree `p` and the instance's axes, for
   * example `(p: Params, axes) => ({ k: Number(axes.k), seed: p.cluster.seed })`. Its result is
   * what enters the instance's key and what `ctx.params` holds, so the stage sees no param outside
   * its key and editing any other param never reruns it. Type `p` with the project's params type:
   * a misspelt key is then a type error. The engine calls it on a read-only view of the tree that
   * records the key paths it reads (engine/param-reads.ts; `paramPaths` in engine/graph.ts).
   * Leave out the sweep lists the matrix fans out over: their values enter through the axes, so
   * adding a value to a sweep never reruns the others. Default: no params (`{}`).
   */
  params?(p: T, axes: Axes): P;
  /**
   * The matrix: one Axes per instance, computed from the whole params tree. Default: a single
   * instance with no axes. Axis values enter the key.
   */
  matrix?(params: T): Axes[];
  /** Which upstream instances an instance consumes. Default: for each dep, the instances matching on shared axes. */
  inputs?(axes: Axes, params: P): InputSpec[];
  /** Names of the outputs `run` returns (checked by the engine). */
  readonly outputs: readonly string[];
  /**
   * Runtime facts that change this stage's numbers (for example the training backend and
   * its version); they enter the key. Evaluated once per process, in the main process.
   */
  runtime?(params: P): Promise<Record<string, string>> | Record<string, string>;
  /** For sample stages: N independent samples computed in cached shards, then combined. */
  readonly samples?: SampleSpec<P, T>;
  /**
   * Copy these outputs (of kind `files`) into the project tree after a run or a cache hit,
   * relative to the project root: a folder (for example `{ files: 'reports' }`) or a function
   * of the instance's params giving it, so each params file can publish to its own.
   */
  readonly publish?: Readonly<Record<string, string | ((params: P) => string)>>;
  /**
   * How much work one instance is (for a sample stage: one sample), in the stage's own unit
   * (for example epochs × examples): the time estimate scales recorded durations by it. Default 1.
   */
  work?(axes: Axes, params: P): number;
  /**
   * A short measurement of this machine's speed for the time estimate when the store has no run
   * records of the stage yet: a few seconds of the stage's real arithmetic, as ms for `work` units
   * (in the unit `work` uses) and what was run, for the message.
   */
  calibrate?(params: P): Promise<Calibration>;
  /** Run in the main thread instead of a worker (only for trivial, I/O-bound stages). */
  readonly inline?: boolean;
  run(ctx: RunContext<P>): Promise<StageResult>;
}

export interface Calibration {
  ms: number;
  work: number;
  /** What ran, e.g. "one epoch of 2,048 random examples". */
  what: string;
}

export interface SampleSpec<P = any, T = any> {
  /**
   * The sample count, one value of the params tree: `(p: Params) => p.shuffle.samples`. Its key
   * path is left out of shard keys (and removed from a shard's params where `params()` put it),
   * so raising the count reuses every shard; the combine key includes the count.
   */
  count(p: T): number;
  /** Samples per shard; shards are always whole, so the combine step may ignore the tail. */
  readonly shardSize: number;
  /** Turn the shards' outputs into the instance's outputs (cheap; runs inline). */
  combine(ctx: CombineContext<P>): Promise<StageResult>;
}

/** Declare a stage (identity function that keeps the type parameters: P from `params`, T from its `p`). */
export function defineStage<P = any, T = any>(def: StageDef<P, T>): StageDef<P, T> {
  return def;
}

/** Cartesian product of axis value lists: product({a: [1, 2], b: ['x']}) → [{a:1,b:'x'}, {a:2,b:'x'}]. */
export function product(axes: Record<string, readonly AxisValue[]>): Axes[] {
  let out: Record<string, AxisValue>[] = [{}];
  for (const [name, values] of Object.entries(axes)) {
    out = out.flatMap((partial) => values.map((v) => ({ ...partial, [name]: v })));
  }
  return out;
}
