/**
 * The stage graph: validate the declarations, order them, and expand them into instances (one
 * per matrix point) with their upstream instances resolved.
 *
 * Default input rule (StageDef.inputs absent): for each dep, the upstream instances whose axis
 * values agree with this instance's on the axis names both stages share. An upstream with axes
 * this stage lacks yields several instances (a gather); one with no shared axes yields all of
 * them. The order is the upstream's matrix order, so it is deterministic.
 */
import { canonicalJson } from './hash.ts';
import { formatKeyPath, keyPaths, readOnlyTree, readParams, type KeyPath } from './param-reads.ts';
import { GraphError, UserError } from './errors.ts';
import type { AxisValue, Axes, InputSpec, StageDef } from './types.ts';

const NAME_RE = /^[A-Za-z][A-Za-z0-9_-]*$/;

export interface InputBinding {
  stage: string;
  instance: Instance;
  /** Output names consumed (their digests enter the key). */
  outputs: string[];
}

export interface Instance {
  /** `stage` or `stage[axis=value,...]`, unique. */
  id: string;
  def: StageDef;
  axes: Axes;
  /** What the stage's params(p, axes) gave this instance (ctx.params; enters the key). */
  params: unknown;
  inputs: InputBinding[];
  /** Sample stages: how many samples the params ask for. */
  count?: number;
  /** Sample stages: the count's key path, left out of shard keys. */
  countPath?: KeyPath;
}

export interface Graph {
  /** Stages in dependency order (deps first; declaration order among independents). */
  stages: StageDef[];
  byName: Map<string, StageDef>;
  /** Instances per stage, in matrix order. */
  instances: Map<string, Instance[]>;
  /** All instances, in dependency order. */
  all: Instance[];
}

/** Check the declarations alone (no params needed) and return them in dependency order. */
export function orderStages(stages: readonly StageDef[]): StageDef[] {
  const byName = new Map<string, StageDef>();
  for (const [i, s] of stages.entries()) {
    if (!s || typeof s !== 'object') throw new GraphError(`stages[${i}] is not a stage declaration (did you forget defineStage?)`);
    const where = `stage '${s.name}'`;
    if (typeof s.name !== 'string' || !NAME_RE.test(s.name)) {
      throw new GraphError(`stages[${i}]: invalid stage name ${JSON.stringify(s.name)} (letters, digits, '-' and '_', starting with a letter)`);
    }
    if (byName.has(s.name)) throw new GraphError(`${where} is declared twice (stage names must be unique)`);
    byName.set(s.name, s);
    if (typeof s.module !== 'string' || !s.module.startsWith('file:')) {
      throw new GraphError(`${where}: 'module' must be the stage file's import.meta.url (a file: URL), got ${JSON.stringify(s.module)}`);
    }
    if (typeof s.run !== 'function') throw new GraphError(`${where} has no run(ctx) function`);
    if (!Array.isArray(s.deps)) throw new GraphError(`${where}: 'deps' must be a list of stage names`);
    if (s.params !== undefined && typeof s.params !== 'function') {
      throw new GraphError(`${where}: 'params' must be a function (p, axes) => the instance's params, such as (p) => ({ epochs: p.train.epochs })`);
    }
    if (!Array.isArray(s.outputs) || s.outputs.length === 0) throw new GraphError(`${where}: 'outputs' must be a non-empty list of output names`);
    const seen = new Set<string>();
    for (const o of s.outputs) {
      if (typeof o !== 'string' || !NAME_RE.test(o)) throw new GraphError(`${where}: invalid output name ${JSON.stringify(o)}`);
      if (seen.has(o)) throw new GraphError(`${where}: output '${o}' is listed twice`);
      seen.add(o);
    }
    for (const [out, dir] of Object.entries(s.publish ?? {})) {
      if (!seen.has(out)) throw new GraphError(`${where}: publish names output '${out}', which is not in its outputs (${s.outputs.join(', ')})`);
      if (typeof dir === 'function') continue; // checked when it is resolved (publish.ts)
      if (typeof dir !== 'string' || dir.startsWith('/') || dir.split('/').includes('..')) {
        throw new GraphError(`${where}: publish directory for '${out}' must be relative to the project root, without '..'`);
      }
    }
    if (s.samples) {
      const sp = s.samples;
      if (typeof sp.count !== 'function')
        throw new GraphError(`${where}: samples.count must be a function (p) => the sample count, such as (p) => p.shuffle.samples`);
      if (!Number.isInteger(sp.shardSize) || sp.shardSize < 1)
        throw new GraphError(`${where}: samples.shardSize must be a positive integer, got ${sp.shardSize}`);
      if (typeof sp.combine !== 'function') throw new GraphError(`${where}: samples.combine must be a function`);
    }
  }
  for (const s of stages) {
    for (const d of s.deps) {
      if (d === s.name) throw new GraphError(`stage '${s.name}' depends on itself`);
      if (!byName.has(d)) throw new GraphError(`stage '${s.name}' depends on unknown stage '${d}'${suggest(d, [...byName.keys()])}`);
    }
  }
  // Depth-first topological sort; a back edge is a cycle, reported as a path.
  const state = new Map<string, 'visiting' | 'done'>();
  const order: StageDef[] = [];
  const visit = (s: StageDef, path: string[]) => {
    const st = state.get(s.name);
    if (st === 'done') return;
    if (st === 'visiting') {
      const cycle = [...path.slice(path.indexOf(s.name)), s.name];
      throw new GraphError(`stages form a cycle: ${cycle.join(' → ')}`);
    }
    state.set(s.name, 'visiting');
    for (const d of s.deps) visit(byName.get(d)!, [...path, s.name]);
    state.set(s.name, 'done');
    order.push(s);
  };
  for (const s of stages) visit(s, []);
  return order;
}

/** The named stages and everything upstream of them (all stages when `targets` is empty). */
export function selectStages(ordered: StageDef[], targets: readonly string[]): Set<string> {
  const byName = new Map(ordered.map((s) => [s.name, s]));
  if (targets.length === 0) return new Set(byName.keys());
  const out = new Set<string>();
  const add = (name: string) => {
    if (out.has(name)) return;
    out.add(name);
    for (const d of byName.get(name)!.deps) add(d);
  };
  for (const t of targets) {
    if (!byName.has(t)) throw new UserError(`unknown stage '${t}'${suggest(t, [...byName.keys()])}; stages: ${[...byName.keys()].join(', ')}`);
    add(t);
  }
  return out;
}

export function instanceId(stage: string, axes: Axes): string {
  const entries = Object.entries(axes);
  return entries.length ? `${stage}[${entries.map(([k, v]) => `${k}=${v}`).join(',')}]` : stage;
}

/** Expand the stages (restricted to `only`, if given) into instances for a params tree. */
export function buildGraph(stages: readonly StageDef[], params: unknown, only?: Set<string>): Graph {
  const ordered = orderStages(stages);
  const byName = new Map(ordered.map((s) => [s.name, s]));
  const selected = ordered.filter((s) => !only || only.has(s.name));
  const instances = new Map<string, Instance[]>();
  const all: Instance[] = [];
  for (const def of selected) {
    const list = expandStage(def, params);
    const index = new ProjectionIndex();
    for (const inst of list) {
      inst.inputs = resolveInputs(def, inst, instances, index);
    }
    instances.set(def.name, list);
    all.push(...list);
  }
  return { stages: selected, byName, instances, all };
}

/** The instances of one stage under a params tree (without their inputs). */
export function expandStage(def: StageDef, params: unknown): Instance[] {
  return expand(def, params, () => {});
}

/**
 * The params key paths a stage reads under a params tree, over all its instances (and its sample
 * count), e.g. ['cluster.n_init', 'cluster.seed'] for `cluster`: what its `params()` looked at.
 */
export function paramPaths(def: StageDef, params: unknown): string[] {
  const reads: KeyPath[] = [];
  expand(def, params, (read) => reads.push(...read));
  return keyPaths(reads);
}

function expand(def: StageDef, params: unknown, onRead: (paths: readonly KeyPath[]) => void): Instance[] {
  const where = `stage '${def.name}'`;
  let matrix: Axes[];
  try {
    matrix = def.matrix ? def.matrix(params) : [{}];
  } catch (err) {
    throw new GraphError(`${where}: matrix() failed: ${(err as Error).message}`);
  }
  if (!Array.isArray(matrix)) throw new GraphError(`${where}: matrix() must return a list of axes objects`);
  // Zero instances is legal: it is how params switch an experiment off (e.g. `lesion.networks: []`).
  // Empty *sweep lists* are rejected earlier, by the params schema, where the message can name the key.
  if (matrix.length === 0) return [];
  const tree = readOnlyTree(params);
  const samples = def.samples ? sampleCount(def, tree, onRead) : undefined;
  const seen = new Set<string>();
  let axisNames: string | undefined;
  const out: Instance[] = [];
  for (const [i, axes] of matrix.entries()) {
    checkAxes(def, axes, i);
    const names = Object.keys(axes).sort().join(',');
    if (axisNames === undefined) axisNames = names;
    else if (names !== axisNames) throw new GraphError(`${where}: every matrix point must have the same axes; got {${axisNames}} and {${names}}`);
    const canon = canonicalJson(axes);
    if (seen.has(canon)) throw new GraphError(`${where}: matrix() lists ${instanceId(def.name, axes)} twice`);
    seen.add(canon);
    const id = instanceId(def.name, axes);
    const inst: Instance = { id, def, axes: Object.freeze({ ...axes }), params: instanceParams(def, tree, axes, id, onRead), inputs: [] };
    if (samples) Object.assign(inst, samples);
    out.push(inst);
  }
  return out;
}

function checkAxes(def: StageDef, axes: Axes, i: number): void {
  const where = `stage '${def.name}'`;
  if (!axes || typeof axes !== 'object' || Array.isArray(axes)) throw new GraphError(`${where}: matrix()[${i}] is not an axes object`);
  for (const [k, v] of Object.entries(axes)) {
    if (!NAME_RE.test(k)) throw new GraphError(`${where}: matrix()[${i}] has an invalid axis name ${JSON.stringify(k)}`);
    if (!isAxisValue(v)) throw new GraphError(`${where}: matrix()[${i}].${k} must be a string, finite number or boolean, got ${JSON.stringify(v)}`);
  }
}

function isAxisValue(v: unknown): v is AxisValue {
  return typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

/** What the stage's params(p, axes) gives one instance, as plain data that canonical JSON accepts. */
function instanceParams(def: StageDef, tree: unknown, axes: Axes, id: string, onRead: (paths: readonly KeyPath[]) => void): unknown {
  if (!def.params) return {};
  let read;
  try {
    read = readParams(tree, (view) => def.params!(view, axes));
    canonicalJson(read.value);
  } catch (err) {
    throw new GraphError(`stage '${def.name}': params() for ${id} failed: ${(err as Error).message}`);
  }
  // A key the file lacks shows up as a value the stage never got (a misspelt key in untyped code).
  if (read.missing.length > 0 && hasUndefined(read.value)) {
    throw new GraphError(`stage '${def.name}' reads params key '${formatKeyPath(read.missing[0])}', which the params file does not define`);
  }
  onRead(read.reads);
  return read.value;
}

function hasUndefined(value: unknown): boolean {
  if (value === undefined) return true;
  if (value === null || typeof value !== 'object') return false;
  return Object.values(value).some(hasUndefined);
}

/** The sample count (the same for every instance) and its key path. */
function sampleCount(def: StageDef, tree: unknown, onRead: (paths: readonly KeyPath[]) => void): { count: number; countPath: KeyPath } {
  const where = `stage '${def.name}'`;
  let read;
  try {
    read = readParams(tree, (view) => def.samples!.count(view));
  } catch (err) {
    throw new GraphError(`${where}: samples.count() failed: ${(err as Error).message}`);
  }
  const paths = keyPaths(read.reads);
  if (paths.length !== 1 || read.missing.length > 0) {
    const missing = new Set(read.missing.map(formatKeyPath));
    const got = paths.map((p) => `'${p}'${missing.has(p) ? ' (not in the params file)' : ''}`).join(', ');
    throw new GraphError(`${where}: samples.count must return one params value, such as (p) => p.shuffle.samples; it read ${got || 'none'}`);
  }
  const countPath = read.reads[0];
  const v = read.value;
  if (!Number.isInteger(v) || (v as number) < 0) {
    throw new GraphError(`${where}: sample count '${formatKeyPath(countPath)}' must be a non-negative integer, got ${JSON.stringify(v)}`);
  }
  onRead([countPath]);
  return { count: v as number, countPath };
}

/** A copy of a params object without one key path (a sample count must not enter shard keys). */
export function withoutPath(tree: unknown, path: KeyPath): unknown {
  const copy = structuredClone(tree) as Record<string, unknown>;
  let node: any = copy;
  for (const p of path.slice(0, -1)) {
    if (node === null || typeof node !== 'object') return copy;
    node = node[p];
  }
  if (node && typeof node === 'object') delete node[path[path.length - 1]];
  return copy;
}

/** Upstream instances indexed by their values on a set of axis names. */
class ProjectionIndex {
  private readonly maps = new Map<string, Map<string, Instance[]>>();
  lookup(upstream: Instance[], stage: string, names: string[], values: Axes): Instance[] {
    const id = stage + '|' + names.join(',');
    let map = this.maps.get(id);
    if (!map) {
      map = new Map();
      for (const u of upstream) {
        const k = project(u.axes, names);
        if (k === undefined) continue;
        let l = map.get(k);
        if (!l) map.set(k, (l = []));
        l.push(u);
      }
      this.maps.set(id, map);
    }
    return map.get(project(values, names) ?? '') ?? [];
  }
}

function project(axes: Axes, names: string[]): string | undefined {
  const out: AxisValue[] = [];
  for (const n of names) {
    if (!(n in axes)) return undefined;
    out.push(axes[n]);
  }
  return JSON.stringify(out);
}

function resolveInputs(def: StageDef, inst: Instance, instances: Map<string, Instance[]>, index: ProjectionIndex): InputBinding[] {
  let specs: InputSpec[];
  if (def.inputs) {
    try {
      specs = def.inputs(inst.axes, inst.params);
    } catch (err) {
      throw new GraphError(`${inst.id}: inputs() failed: ${(err as Error).message}`);
    }
    if (!Array.isArray(specs)) throw new GraphError(`${inst.id}: inputs() must return a list of { stage, where?, outputs? }`);
  } else {
    specs = def.deps.map((stage) => ({ stage }));
  }
  const out: InputBinding[] = [];
  for (const spec of specs) {
    if (!def.deps.includes(spec.stage))
      throw new GraphError(`${inst.id}: inputs() names stage '${spec.stage}', which is not in its deps (${def.deps.join(', ') || 'none'})`);
    const upstream = instances.get(spec.stage);
    if (!upstream) throw new GraphError(`${inst.id}: upstream stage '${spec.stage}' was not expanded (internal error)`);
    if (upstream.length === 0) {
      // The upstream stage is switched off (empty matrix): a gathering instance sees no inputs from it.
      if (spec.where && Object.keys(spec.where).length > 0)
        throw new GraphError(
          `${inst.id}: stage '${spec.stage}' has no instances, so none has ${Object.entries(spec.where)
            .map(([k, v]) => `${k}=${v}`)
            .join(', ')}`,
        );
      continue;
    }
    const upDef = upstream[0].def;
    const outputs = spec.outputs ?? [...upDef.outputs];
    for (const o of outputs) {
      if (!upDef.outputs.includes(o)) throw new GraphError(`${inst.id}: consumes output '${o}' of '${spec.stage}', which only has ${upDef.outputs.join(', ')}`);
    }
    let where: Axes;
    if (spec.where) {
      where = spec.where;
    } else {
      const upNames = new Set(Object.keys(upstream[0].axes));
      where = Object.fromEntries(Object.entries(inst.axes).filter(([k]) => upNames.has(k)));
    }
    const names = Object.keys(where).sort();
    const matched = index.lookup(upstream, spec.stage, names, where);
    if (matched.length === 0) {
      throw new GraphError(
        `${inst.id}: no instance of '${spec.stage}' has ${names.map((n) => `${n}=${where[n]}`).join(', ') || 'any axes'} (check the matrix and inputs() of both stages)`,
      );
    }
    for (const u of matched) out.push({ stage: spec.stage, instance: u, outputs });
  }
  return out;
}

function suggest(name: string, known: string[]): string {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(name, k);
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best !== undefined && bestD <= Math.max(2, name.length / 3) ? ` (did you mean '${best}'?)` : '';
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0];
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j];
      dp[j] = Math.min(dp[j] + 1, dp[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length];
}
