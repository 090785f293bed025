/**
 * A session: one project, one params tree, one store — what every verb starts from. It owns
 * the stat memo and the code fingerprints (computed once per stage module per process) and
 * builds the key parts of instances, shards and combines.
 */
import { join } from 'node:path';
import { loadParams, type LoadedParams } from './params.ts';
import { buildGraph, selectStages, orderStages, withoutPath, type Graph, type Instance } from './graph.ts';
import { Store, type RunRecord } from './store.ts';
import { StatMemo } from './statmemo.ts';
import { Fingerprinter, initFingerprinting, type CodeFingerprint } from './fingerprint.ts';
import { initHashing, canonicalJson } from './hash.ts';
import { KEY_FORMAT, computeKey, sampleBaseKey, type InputKeyPart, type KeyParts } from './keys.ts';
import { GraphError } from './errors.ts';
import { profileName } from './profiles.ts';
import type { PipelineProject } from './project.ts';
import type { Json, StageDef, StageKey } from './types.ts';

export interface SessionOptions {
  /** Params file (relative to the project root or absolute); default project.paramsFile. */
  paramsFile?: string;
  /** `-S key.path=value` overrides, in order. */
  overrides?: string[];
  /** Restrict to these stages and their upstream (default: all). */
  targets?: string[];
  /** fsync writes (default true; benchmarks may turn it off for set-up). */
  durable?: boolean;
}

export class Session {
  readonly store: Store;
  readonly memo: StatMemo;
  readonly fingerprinter: Fingerprinter;
  private readonly runtimeCache = new Map<string, Promise<Record<string, string>>>();
  /** The params file as people spell it (project-relative when inside the project). */
  readonly paramsName: string;

  private constructor(
    readonly project: PipelineProject,
    readonly params: LoadedParams,
    readonly graph: Graph,
    durable: boolean,
    /** The `-S` overrides applied on top of the file. */
    readonly overrides: readonly string[] = [],
  ) {
    this.paramsName = profileName(project.root, params.file);
    this.store = new Store(join(project.root, 'artifacts'), durable).init();
    this.memo = new StatMemo(join(this.store.stateDir, 'stat-memo.json'));
    this.fingerprinter = new Fingerprinter(project.root, this.memo);
  }

  /** Load params (throws ParamsError), validate and expand the stage graph (throws GraphError). */
  static async open(project: PipelineProject, opts: SessionOptions = {}): Promise<Session> {
    await Promise.all([initHashing(), initFingerprinting()]);
    const ordered = orderStages(project.stages);
    const only = selectStages(ordered, opts.targets ?? []);
    const params = loadParams({
      root: project.root,
      file: opts.paramsFile ?? project.paramsFile,
      overrides: opts.overrides ?? [],
      schema: project.paramsSchema,
    });
    const graph = buildGraph(project.stages, params.values, only);
    return new Session(project, params, graph, opts.durable ?? true, opts.overrides ?? []);
  }

  code(def: StageDef): CodeFingerprint {
    return this.fingerprinter.fingerprint(def.module);
  }

  /** Runtime facts of a stage for resolved params, evaluated once per distinct params. */
  runtime(def: StageDef, params: unknown): Promise<Record<string, string>> {
    if (!def.runtime) return Promise.resolve({});
    const id = def.name + '\0' + canonicalJson(params);
    let hit = this.runtimeCache.get(id);
    if (!hit) {
      hit = (async () => {
        const facts = await def.runtime!(params);
        for (const [k, v] of Object.entries(facts ?? {})) {
          if (typeof v !== 'string') throw new GraphError(`stage '${def.name}': runtime() fact '${k}' must be a string, got ${typeof v}`);
        }
        return { ...facts };
      })();
      this.runtimeCache.set(id, hit);
    }
    return hit;
  }

  /**
   * The key parts of a plain instance, or the count-free base parts of a sample instance.
   * `upstream` gives the record of each upstream instance (they must all be known).
   */
  async baseParts(inst: Instance, upstream: (u: Instance) => RunRecord): Promise<KeyParts> {
    const def = inst.def;
    const inputs: InputKeyPart[] = inst.inputs.map((b) => {
      const rec = upstream(b.instance);
      const outputs: Record<string, string> = {};
      for (const o of b.outputs) {
        const out = rec.outputs[o];
        if (!out) throw new GraphError(`${inst.id}: upstream ${b.instance.id} recorded no output '${o}'`);
        outputs[o] = out.digest;
      }
      return { stage: b.stage, axes: b.instance.axes, outputs };
    });
    const params = (inst.countPath ? withoutPath(inst.params, inst.countPath) : inst.params) as Json;
    return {
      format: KEY_FORMAT,
      stage: def.name,
      code: this.code(def).digest,
      params,
      axes: inst.axes,
      inputs,
      runtime: await this.runtime(def, inst.params),
    };
  }

  shardParts(base: KeyParts, index: number, size: number): KeyParts {
    return { ...base, samples: { shard: { index, size } } };
  }

  combineParts(inst: Instance, base: KeyParts, shards: RunRecord[]): KeyParts {
    return {
      ...base,
      params: inst.params as Json,
      samples: { count: inst.count!, shards: shards.map((r) => Object.fromEntries(Object.entries(r.outputs).map(([n, o]) => [n, o.digest]))) },
    };
  }

  shardCount(inst: Instance): number {
    return Math.ceil(inst.count! / inst.def.samples!.shardSize);
  }

  /** The sample range of shard `index`: whole shards, so the last may extend past the count. */
  shardRange(inst: Instance, index: number): { start: number; end: number } {
    const size = inst.def.samples!.shardSize;
    return { start: index * size, end: (index + 1) * size };
  }

  baseKeyOf(base: KeyParts): string {
    return sampleBaseKey(base);
  }

  key(parts: KeyParts): StageKey {
    return computeKey(parts);
  }

  close(): void {
    this.memo.save();
  }
}
