/**
 * Which params a stage reads. A stage declares its params as a function of the params tree
 * (`StageDef.params`, e.g. `(p) => ({ seed: p.cluster.seed })`); the engine calls it on a
 * read-only view of the tree that records the key path of every value read:
 *
 *   - a number, string, boolean, null or list by its own path (`cluster.seed`, `train.overrides`);
 *   - a mapping by its path when the function returns it whole (`(p) => ({ report: p.report })`
 *     reads `report`); a mapping it only looks into records nothing itself.
 *
 * The function's result is what enters the stage's key, so the stage cannot see a param that is
 * not in its key; the recorded paths name those params for people, tests and error messages.
 * Nothing here knows the project's schema: that the paths exist is the params type's business
 * (a misspelt key is a type error in a typed stage file).
 */

/** A key path as its segments: ['cluster', 'seed']. */
export type KeyPath = readonly string[];

export interface ParamReads<R> {
  /** What the function returned, as fresh plain data (views replaced by copies of what they show). */
  value: R;
  /** The key paths read, in reading order, repeats included (`keyPaths` tidies them). */
  reads: KeyPath[];
  /** Paths read that the tree does not have (also in `reads`). */
  missing: KeyPath[];
}

/** Call `select` on a recording view of `tree` (see the module comment). */
export function readParams<R>(tree: unknown, select: (view: any) => R): ParamReads<R> {
  const recorder = new Recorder();
  const result = select(recorder.view(tree, []));
  const value = recorder.plain(result) as R;
  return { value, reads: recorder.reads, missing: recorder.missing };
}

/** Distinct paths as text, without those inside another one that was read whole, sorted. */
export function keyPaths(reads: Iterable<KeyPath>): string[] {
  const byText = new Map<string, KeyPath>();
  for (const p of reads) byText.set(p.join('\0'), p);
  if (byText.has('')) return [formatKeyPath([])];
  const inside = (p: KeyPath) => p.some((_, i) => i < p.length - 1 && byText.has(p.slice(0, i + 1).join('\0')));
  return [...byText.values()]
    .filter((p) => !inside(p))
    .map(formatKeyPath)
    .sort();
}

/** `cluster.seed`; segments that are not plain names in brackets: `external.layers["nets/a.onnx"]`. */
export function formatKeyPath(path: KeyPath): string {
  let out = '';
  for (const segment of path) {
    if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/**
 * A copy of the params tree whose lists (and everything inside them) are frozen: a view hands
 * lists out as they are, so a stage that tried to change one would otherwise change every
 * instance's params. Mappings stay unfrozen (a frozen target would forbid its view from handing
 * out views of its children); the view refuses writes to them. Values the YAML file shares
 * through aliases become separate copies, so each has one key path.
 */
export function readOnlyTree<T>(tree: T): T {
  return copyTree(tree, false) as T;
}

function copyTree(node: unknown, frozen: boolean): unknown {
  if (node === null || typeof node !== 'object') return node;
  if (Array.isArray(node)) return Object.freeze(node.map((v) => copyTree(v, true)));
  if (!isMapping(node)) return structuredClone(node);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = copyTree(v, frozen);
  return frozen ? Object.freeze(out) : out;
}

/** The recording views of one params() call; it is also their proxy handler. */
class Recorder implements ProxyHandler<object> {
  readonly reads: KeyPath[] = [];
  readonly missing: KeyPath[] = [];
  /** Mapping → its key path (readOnlyTree gives every mapping one). */
  private readonly pathOf = new WeakMap<object, KeyPath>();
  /** Mapping → its view, so `p.cluster === p.cluster`; and view → mapping. */
  private readonly viewOf = new WeakMap<object, object>();
  private readonly shown = new WeakMap<object, object>();

  view(node: unknown, path: KeyPath): any {
    if (!isMapping(node)) {
      this.reads.push(path);
      return node;
    }
    let view = this.viewOf.get(node);
    if (!view) {
      view = new Proxy(node, this);
      this.pathOf.set(node, path);
      this.viewOf.set(node, view);
      this.shown.set(view, node);
    }
    return view;
  }

  get(target: object, key: string | symbol): unknown {
    if (typeof key === 'symbol') return Reflect.get(target, key);
    const path = [...this.pathOf.get(target)!, key];
    if (!Object.hasOwn(target, key)) {
      if (key in target) return Reflect.get(target, key); // inherited (toString, hasOwnProperty, ...)
      this.missing.push(path);
      this.reads.push(path);
      return undefined;
    }
    return this.view((target as Record<string, unknown>)[key], path);
  }

  set(target: object, key: string | symbol): boolean {
    return this.refuse(target, key);
  }

  defineProperty(target: object, key: string | symbol): boolean {
    return this.refuse(target, key);
  }

  deleteProperty(target: object, key: string | symbol): boolean {
    return this.refuse(target, key);
  }

  private refuse(target: object, key: string | symbol): never {
    throw new TypeError(`params are read-only: a stage's params() may not change '${formatKeyPath([...this.pathOf.get(target)!, String(key)])}'`);
  }

  /** The result as plain data: a view returned (or nested in the result) is read whole. */
  plain(value: unknown): unknown {
    if (value === null || typeof value !== 'object') return value;
    const shown = this.shown.get(value);
    if (shown) {
      this.reads.push(this.pathOf.get(shown)!);
      return structuredClone(shown);
    }
    if (Array.isArray(value)) return value.map((v) => this.plain(v));
    // Anything else (a Map, a typed array) is left for the key's canonical JSON to reject.
    if (!isMapping(value)) return value;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value)) out[k] = this.plain((value as Record<string, unknown>)[k]);
    return out;
  }
}

function isMapping(node: unknown): node is object {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return false;
  const proto = Object.getPrototypeOf(node);
  return proto === Object.prototype || proto === null;
}
