/**
 * Params loading: read the params file (YAML), apply `-S key.path=value` overrides, validate
 * against the project's zod schema, and turn every failure into one user-facing message that
 * names the file, line:column, the key path, what was found and what is expected:
 *
 *     params.yaml:12:5: cluster.k: expected a non-empty list of integers ≥ 2, got []
 *
 * The mapping from a zod issue to a place in the file is general: the issue's path is looked up
 * in the parsed YAML document (falling back to the nearest existing parent), and the expected
 * form is described from the schema itself, so sections added by other areas need nothing here.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type Document, LineCounter, YAMLMap, isAlias, isMap, isScalar, isSeq, parseDocument, type Node as YamlNode, type Pair, type YAMLError } from 'yaml';
import type { ZodType } from 'zod';

/** A params problem the user must fix; the CLI prints the message (no stack) and exits with 2. */
export class ParamsError extends Error {
  readonly exitCode = 2;
  /** The individual problems, in the order they appear in the message (at least one). */
  readonly problems: readonly ParamsProblem[];
  constructor(message: string, problems: readonly ParamsProblem[] = []) {
    super(message);
    this.name = 'ParamsError';
    this.problems = problems;
  }
}

export interface ParamsProblem {
  /** Dotted key path with list indices in brackets (`cluster.k[1]`); '' for the whole file. */
  keyPath: string;
  /** Where the bad value came from: `params.yaml:12:5`, or `-S #2 'cluster.k=[]'`. */
  where: string;
  /** 1-based position in the params file; absent when the value came from -S. */
  line?: number;
  column?: number;
  /** 1-based index of the -S argument the value came from. */
  override?: number;
  /** The full line as printed. */
  message: string;
}

export interface LoadedParams {
  /** The validated params tree (the schema's output: defaults and transforms applied). */
  values: any;
  /** Absolute path of the params file. */
  file: string;
  /** The file's text exactly as read (before overrides). */
  text: string;
}

type Segment = string | number;

interface Override {
  /** 1-based position among the -S arguments. */
  index: number;
  text: string;
  path: string[];
  value: unknown;
}

/**
 * Load and validate the params file. `file` is relative to `root` or absolute; `overrides` are
 * the `-S key.path=value` arguments in command-line order (later ones win).
 */
export function loadParams(opts: { root: string; file: string; overrides: string[]; schema: ZodType }): LoadedParams {
  const absolute = path.resolve(opts.root, opts.file);
  const shown = displayPath(absolute);
  const text = readParamsText(absolute, shown);

  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) throw yamlSyntaxError(doc, doc.errors[0], lineCounter, shown);
  // An empty file (or one holding only comments) is an empty mapping: the schema then reports
  // each required section as missing, which is more helpful than "expected a mapping, got null".
  if (doc.contents === null) doc.contents = new YAMLMap() as any;

  const overrides = opts.overrides.map((arg, i) => parseOverride(arg, i + 1));
  for (const override of overrides) {
    checkOverridePath(opts.schema, override);
    applyOverride(doc, override, lineCounter, shown);
  }

  let input: unknown;
  try {
    input = doc.toJS();
  } catch (error) {
    // yaml refuses documents with too many aliases (a "billion laughs" guard).
    throw new ParamsError(`${shown}: cannot read the params file: ${(error as Error).message}`);
  }

  const result = opts.schema.safeParse(input);
  if (!result.success) {
    throw validationError(result.error.issues as unknown as ZodIssueLike[], {
      schema: opts.schema,
      input,
      doc,
      lineCounter,
      shown,
      overrides,
    });
  }
  return { values: result.data, file: absolute, text };
}

/** Look up a dotted key path ('a.b.c'; numeric parts index lists) in a plain tree; undefined when missing. */
export function getPath(tree: any, keyPath: string): unknown {
  if (keyPath === '') return tree;
  let node = tree;
  for (const part of keyPath.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    if (!Object.hasOwn(node, part)) return undefined;
    node = node[part];
  }
  return node;
}

// ---------------------------------------------------------------------------------------------
// Reading and YAML syntax

function displayPath(absolute: string): string {
  const relative = path.relative(process.cwd(), absolute);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : absolute;
}

function readParamsText(absolute: string, shown: string): string {
  try {
    return readFileSync(absolute, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new ParamsError(
        `${shown}: params file not found (looked for ${absolute}). ` + `Run from the project root, or pass another file with --params FILE.`,
      );
    }
    if (code === 'EISDIR') {
      throw new ParamsError(`${shown}: is a directory, not a params file; pass a YAML file with --params FILE.`);
    }
    throw new ParamsError(`${shown}: cannot read the params file: ${(error as Error).message}`);
  }
}

function yamlSyntaxError(doc: Document, error: YAMLError, lineCounter: LineCounter, shown: string): ParamsError {
  const offset = error.pos[0];
  const { line, col } = lineCounter.linePos(offset);
  const where = `${shown}:${line}:${col}`;
  let keyPath = '';
  let text: string;
  if (error.code === 'DUPLICATE_KEY') {
    const found = findDuplicateKey(doc, offset, lineCounter);
    keyPath = found ? formatPath(found.path) : '';
    const first = found?.firstAt ? ` (first defined at line ${found.firstAt})` : '';
    text = `${keyPath || 'key'}: duplicate key${first}; keep only one of them`;
  } else if (error.code === 'MULTIPLE_DOCS') {
    text = `the file holds more than one YAML document (a '---' line); a params file is one mapping`;
  } else {
    // Name the mapping entry, not a list position inside a broken flow list.
    const at = pathAtOffset(doc.contents as YamlNode | null, offset);
    while (typeof at[at.length - 1] === 'number') at.pop();
    keyPath = formatPath(at);
    const message = error.message.split('\n')[0].replace(/\s+at line \d+, column \d+.*$/, '');
    text = `YAML syntax error${keyPath ? ` (in ${keyPath})` : ''}: ${message}`;
  }
  const full = `${where}: ${text}`;
  return new ParamsError(full, [{ keyPath, where, line, column: col, message: full }]);
}

/** The key path of the innermost mapping entry or list item whose source range contains `offset`. */
function pathAtOffset(node: YamlNode | null, offset: number): Segment[] {
  const out: Segment[] = [];
  let current: unknown = node;
  for (;;) {
    if (isMap(current)) {
      const pair = current.items.find((p) => {
        const start = rangeOf(p.key)?.[0];
        const end = rangeOf(p.value)?.[2] ?? rangeOf(p.key)?.[2];
        return start !== undefined && end !== undefined && start <= offset && offset <= end;
      });
      if (!pair) return out;
      out.push(keyText(pair.key));
      current = pair.value;
    } else if (isSeq(current)) {
      const index = current.items.findIndex((item) => {
        const r = rangeOf(item);
        return r !== undefined && r[0] <= offset && offset <= r[2];
      });
      if (index < 0) return out;
      out.push(index);
      current = current.items[index];
    } else {
      return out; // a scalar, or an alias (whose target lies elsewhere in the file)
    }
  }
}

function findDuplicateKey(doc: Document, offset: number, lineCounter: LineCounter): { path: Segment[]; firstAt?: string } | undefined {
  const visit = (node: unknown, prefix: Segment[]): { path: Segment[]; firstAt?: string } | undefined => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const keyRange = rangeOf(pair.key);
        if (keyRange && keyRange[0] === offset) {
          const name = keyText(pair.key);
          const first = node.items.find((p) => p !== pair && keyText(p.key) === name);
          const firstRange = first ? rangeOf(first.key) : undefined;
          const pos = firstRange ? lineCounter.linePos(firstRange[0]) : undefined;
          return { path: [...prefix, name], firstAt: pos ? `${pos.line}:${pos.col}` : undefined };
        }
        const found = visit(pair.value, [...prefix, keyText(pair.key)]);
        if (found) return found;
      }
    } else if (isSeq(node)) {
      for (let i = 0; i < node.items.length; i++) {
        const found = visit(node.items[i], [...prefix, i]);
        if (found) return found;
      }
    }
    return undefined;
  };
  return visit(doc.contents, []);
}

function rangeOf(node: unknown): [number, number, number] | undefined {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return Array.isArray(range) ? range : undefined;
}

function keyText(key: unknown): string {
  if (isScalar(key)) return String(key.value);
  return String(key);
}

// ---------------------------------------------------------------------------------------------
// -S overrides

const KEY_SEGMENT = /^[A-Za-z0-9_-]+$/;

function overrideLabel(index: number, text: string): string {
  return `-S #${index} '${text}'`;
}

function parseOverride(text: string, index: number): Override {
  const eq = text.indexOf('=');
  const keyPart = eq < 0 ? '' : text.slice(0, eq).trim();
  if (eq <= 0 || keyPart === '') {
    throw overrideError(index, text, '', `expected KEY.PATH=VALUE, for example -S cluster.k=[2,4]`);
  }
  const segments = keyPart.split('.');
  const bad = segments.find((s) => !KEY_SEGMENT.test(s));
  if (bad !== undefined) {
    throw overrideError(index, text, keyPart, `'${keyPart}' is not a key path (dot-separated names of letters, digits, '_' and '-')`);
  }
  const valueDoc = parseDocument(text.slice(eq + 1), { prettyErrors: false });
  if (valueDoc.errors.length > 0) {
    throw overrideError(index, text, keyPart, `the value is not valid YAML: ${valueDoc.errors[0].message.split('\n')[0]}`);
  }
  return { index, text, path: segments, value: valueDoc.toJS() ?? null };
}

function overrideError(index: number, text: string, keyPath: string, problem: string): ParamsError {
  const where = overrideLabel(index, text);
  const message = `${where}: ${problem}`;
  return new ParamsError(message, [{ keyPath, where, override: index, message }]);
}

/** Reject an override whose key path the schema does not know (where the schema can tell). */
function checkOverridePath(schema: ZodType, override: Override): void {
  let current: any = schema;
  for (let i = 0; i < override.path.length; i++) {
    const segment = override.path[i];
    const parent = override.path.slice(0, i);
    const s = unwrap(current);
    const def = defOf(s);
    if (!def) return;
    if (def.type === 'object') {
      const shape = def.shape as Record<string, ZodType>;
      if (Object.hasOwn(shape, segment)) {
        current = shape[segment];
        continue;
      }
      const catchall = defOf(def.catchall);
      if (catchall && catchall.type !== 'never') {
        current = def.catchall;
        continue;
      }
      const known = Object.keys(shape);
      const where = parent.length === 0 ? 'known sections' : `known keys in ${formatPath(parent)}`;
      const hint = didYouMean(segment, known);
      throw overrideError(
        override.index,
        override.text,
        formatPath(override.path),
        `unknown key '${segment}'${parent.length ? ` in ${formatPath(parent)}` : ''}` +
          `${hint ? `; did you mean '${hint}'?` : ''} (${where}: ${known.join(', ') || 'none'})`,
      );
    } else if (def.type === 'array') {
      if (!/^\d+$/.test(segment)) {
        throw overrideError(
          override.index,
          override.text,
          formatPath(override.path),
          `${formatPath(parent)} is a list; '${segment}' is not a list index (set the whole list, e.g. ${formatPath(parent)}=[...])`,
        );
      }
      current = def.element;
    } else if (def.type === 'record') {
      current = def.valueType;
    } else if (def.type === 'tuple') {
      current = /^\d+$/.test(segment) ? (def.items[Number(segment)] ?? def.rest) : undefined;
      if (!current) return;
    } else if (SCALAR_TYPES.has(def.type)) {
      throw overrideError(
        override.index,
        override.text,
        formatPath(override.path),
        `${formatPath(parent)} is ${describeSchema(s)}; it has no key '${segment}'`,
      );
    } else {
      return; // unions, any, lazy recursion...: let validation decide
    }
  }
}

const SCALAR_TYPES = new Set(['string', 'number', 'boolean', 'bigint', 'enum', 'literal', 'null', 'date']);

function applyOverride(doc: Document, override: Override, lineCounter: LineCounter, shown: string): void {
  if (!isMap(doc.contents)) {
    throw overrideError(override.index, override.text, formatPath(override.path), `cannot apply: ${shown} does not hold a mapping at the top level`);
  }
  // Walk the existing document so that a scalar in the way gets a clear message instead of
  // yaml's "Expected YAML collection"; list items may be replaced by index.
  const docPath: Segment[] = [];
  let node: unknown = doc.contents;
  for (let i = 0; i < override.path.length; i++) {
    const segment = override.path[i];
    if (isSeq(node) && /^\d+$/.test(segment)) {
      const index = Number(segment);
      if (index >= node.items.length) {
        throw overrideError(
          override.index,
          override.text,
          formatPath(override.path),
          `${formatPath(docPath)} has ${node.items.length} items in ${shown}; index ${index} does not exist`,
        );
      }
      docPath.push(index);
      node = node.items[index];
      continue;
    }
    if (isMap(node)) {
      docPath.push(segment);
      node = node.get(segment, true);
      if (node === undefined) break; // setIn creates the missing mappings
      continue;
    }
    const range = rangeOf(node);
    const pos = range ? lineCounter.linePos(range[0]) : undefined;
    throw overrideError(
      override.index,
      override.text,
      formatPath(override.path),
      `cannot set ${formatPath(override.path)}: ${formatPath(docPath)} is ${formatFound(toJs(node))}` +
        `${pos ? ` at ${shown}:${pos.line}:${pos.col}` : ''}, not a mapping`,
    );
  }
  const fullPath: Segment[] = override.path.map((s, i) => (typeof docPath[i] === 'number' ? Number(s) : s));
  doc.setIn(fullPath, doc.createNode(override.value));
}

function toJs(node: unknown): unknown {
  if (node && typeof node === 'object' && 'toJSON' in node && typeof (node as any).toJSON === 'function') {
    return (node as any).toJSON();
  }
  return node;
}

// ---------------------------------------------------------------------------------------------
// zod issues → messages

/** The fields of a zod 4 issue this module reads. */
interface ZodIssueLike {
  code: string;
  path: PropertyKey[];
  message: string;
  keys?: string[];
  values?: unknown[];
}

interface ErrorContext {
  schema: ZodType;
  input: unknown;
  doc: Document;
  lineCounter: LineCounter;
  shown: string;
  overrides: Override[];
}

const MAX_PROBLEMS_SHOWN = 10;

function validationError(issues: ZodIssueLike[], ctx: ErrorContext): ParamsError {
  const located: { problem: ParamsProblem; order: number }[] = [];
  for (const issue of issues) {
    const path = issue.path.filter((p): p is Segment => typeof p !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      const parentSchema = schemaAt(ctx.schema, path);
      const known = objectKeys(parentSchema);
      for (const key of issue.keys ?? []) {
        const hint = didYouMean(key, known);
        const where = path.length === 0 ? 'known sections' : 'known keys';
        const text = `unknown key '${key}'${hint ? `; did you mean '${hint}'?` : ''}` + (known.length ? ` (${where}: ${known.join(', ')})` : '');
        located.push(locate([...path, key], text, true, ctx));
      }
      continue;
    }
    located.push(locate(path, describeIssue(issue, path, ctx), false, ctx));
  }
  // File problems in file order, then -S problems in argument order.
  located.sort((a, b) => a.order - b.order);
  const problems = located.map((l) => l.problem);
  const lines = problems.slice(0, MAX_PROBLEMS_SHOWN).map((p) => p.message);
  if (problems.length > MAX_PROBLEMS_SHOWN) lines.push(`... and ${problems.length - MAX_PROBLEMS_SHOWN} more problems`);
  return new ParamsError(lines.join('\n'), problems);
}

function describeIssue(issue: ZodIssueLike, path: Segment[], ctx: ErrorContext): string {
  const sub = schemaAt(ctx.schema, path);
  const found = valueAt(ctx.input, path);
  const parentExists = path.length === 0 || isPlainObject(valueAt(ctx.input, path.slice(0, -1)));
  const customMessage = issue.code === 'custom' || hasCustomError(sub);
  if (found.missing && parentExists && !customMessage) {
    const meaning = descriptionOf(sub);
    return `missing required key${sub ? `; expected ${describeSchema(sub)}` : ''}${meaning ? ` (${meaning})` : ''}`;
  }
  const got = found.missing ? 'nothing' : formatFound(found.value);
  if (customMessage || !sub) return `${issue.message}, got ${got}`;
  return `expected ${describeSchema(sub)}, got ${got}`;
}

/** Place one problem: in the -S argument that set the value, else at the value's (or nearest parent's) node. */
function locate(path: Segment[], text: string, isKey: boolean, ctx: ErrorContext): { problem: ParamsProblem; order: number } {
  const keyPath = formatPath(path);
  const subject = keyPath || '(top level)';
  // The last override whose path is a prefix of the problem's path set this value.
  for (let i = ctx.overrides.length - 1; i >= 0; i--) {
    const o = ctx.overrides[i];
    if (o.path.length <= path.length && o.path.every((s, j) => s === String(path[j]))) {
      const where = overrideLabel(o.index, o.text);
      const message = `${where}: ${subject}: ${text}`;
      return { problem: { keyPath, where, override: o.index, message }, order: Number.MAX_SAFE_INTEGER / 2 + o.index };
    }
  }
  const offset = nodeOffset(ctx.doc, path, isKey);
  const { line, col } = ctx.lineCounter.linePos(offset);
  const where = `${ctx.shown}:${line}:${col}`;
  const message = `${where}: ${subject}: ${text}`;
  return { problem: { keyPath, where, line, column: col, message }, order: offset };
}

/**
 * Source offset for a key path: the value node (or the key node for key problems); when the
 * path does not exist (a missing key), the key of the nearest existing parent.
 */
function nodeOffset(doc: Document, path: Segment[], isKey: boolean): number {
  let node: unknown = doc.contents;
  let lastKeyOffset: number | undefined;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i];
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p: Pair) => keyText(p.key) === String(segment));
      if (!pair) break;
      const keyOffset = rangeOf(pair.key)?.[0];
      const last = i === path.length - 1;
      if (last && isKey && keyOffset !== undefined) return keyOffset;
      const valueRange = rangeOf(pair.value);
      // `key:` with nothing after it has a null value whose range sits past the colon; the key reads better.
      if (last && (!valueRange || (isScalar(pair.value) && pair.value.value === null && keyOffset !== undefined))) {
        return keyOffset ?? 0;
      }
      lastKeyOffset = keyOffset ?? lastKeyOffset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number' && segment < node.items.length) {
      node = node.items[segment];
      lastKeyOffset = rangeOf(node)?.[0] ?? lastKeyOffset;
    } else {
      break;
    }
    if (i === path.length - 1) return rangeOf(node)?.[0] ?? lastKeyOffset ?? 0;
  }
  if (path.length === 0) return rangeOf(doc.contents)?.[0] ?? 0;
  return lastKeyOffset ?? rangeOf(doc.contents)?.[0] ?? 0;
}

function valueAt(tree: unknown, path: Segment[]): { missing: boolean; value?: unknown } {
  let node: any = tree;
  for (const segment of path) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, segment)) {
      return { missing: true };
    }
    node = node[segment];
  }
  return node === undefined ? { missing: true } : { missing: false, value: node };
}

function isPlainObject(value: { missing: boolean; value?: unknown }): boolean {
  return !value.missing && value.value !== null && typeof value.value === 'object' && !Array.isArray(value.value);
}

function formatPath(path: readonly Segment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? segment : `.${segment}`;
  }
  return out;
}

/** A short rendering of a found value: `[]`, `-3`, `'abc'`, `{a: 1}`, `null`. */
function formatFound(value: unknown, budget = 60): string {
  const text = formatInline(value);
  return text.length > budget ? `${text.slice(0, budget - 3)}...` : text;
}

function formatInline(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return `'${value.replace(/'/g, "''")}'`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return `[${value.map(formatInline).join(', ')}]`;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') {
    return `{${Object.entries(value as object)
      .map(([k, v]) => `${k}: ${formatInline(v)}`)
      .join(', ')}}`;
  }
  return String(value);
}

/** Closest known name within a small edit distance, for "did you mean". */
export function didYouMean(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const limit = Math.max(1, Math.floor(name.length / 3));
  for (const candidate of known) {
    const d = candidate.toLowerCase() === name.toLowerCase() ? 0 : editDistance(name, candidate);
    if (d <= limit && d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[rows - 1][cols - 1];
}

// ---------------------------------------------------------------------------------------------
// Reading zod 4 schemas (through `_zod.def`, the structural description zod exposes for tools)

function defOf(schema: unknown): any {
  return (schema as any)?._zod?.def;
}

const WRAPPERS = new Set(['optional', 'default', 'prefault', 'readonly', 'catch', 'nonoptional']);

/** Strip wrappers that do not change the accepted form (optional, default, readonly, pipes...). */
function unwrap(schema: unknown): any {
  let s: any = schema;
  for (let guard = 0; guard < 32; guard++) {
    const def = defOf(s);
    if (!def) return s;
    if (WRAPPERS.has(def.type)) s = def.innerType;
    else if (def.type === 'pipe') s = defOf(def.in)?.type === 'transform' ? def.out : def.in;
    else if (def.type === 'lazy') s = def.getter();
    else return s;
  }
  return s;
}

/** The sub-schema that validates the value at `path`, or undefined when it cannot be told. */
function schemaAt(schema: unknown, path: readonly Segment[]): any {
  let s: any = schema;
  for (const segment of path) {
    const u = unwrap(s);
    const def = defOf(u);
    if (!def) return undefined;
    if (def.type === 'nullable') {
      s = schemaAt(def.innerType, [segment]);
    } else if (def.type === 'object') {
      s = def.shape[segment] ?? (defOf(def.catchall)?.type !== 'never' ? def.catchall : undefined);
    } else if (def.type === 'array') {
      s = def.element;
    } else if (def.type === 'record') {
      s = def.valueType;
    } else if (def.type === 'tuple') {
      s = typeof segment === 'number' ? (def.items[segment] ?? def.rest) : undefined;
    } else if (def.type === 'union') {
      const candidates = (def.options as unknown[]).map((o) => schemaAt(o, [segment])).filter(Boolean);
      s = candidates.length === 1 ? candidates[0] : undefined;
    } else {
      return undefined;
    }
    if (!s) return undefined;
  }
  return s;
}

function objectKeys(schema: unknown): string[] {
  let def = defOf(unwrap(schema));
  if (def?.type === 'nullable') def = defOf(unwrap(def.innerType));
  return def?.type === 'object' ? Object.keys(def.shape) : [];
}

/** The `.describe()` text of a schema or of the schema it wraps. */
function descriptionOf(schema: unknown): string | undefined {
  let s: any = schema;
  for (let guard = 0; guard < 32 && s; guard++) {
    if (typeof s.description === 'string' && s.description !== '') return s.description;
    const def = defOf(s);
    if (!def || !(WRAPPERS.has(def.type) || def.type === 'nullable')) return undefined;
    s = def.innerType;
  }
  return undefined;
}

/** True when the schema (or a wrapper around it) carries its own error message. */
function hasCustomError(schema: unknown): boolean {
  let s: any = schema;
  for (let guard = 0; guard < 32 && s; guard++) {
    const def = defOf(s);
    if (!def) return false;
    if (def.error) return true;
    if (WRAPPERS.has(def.type) || def.type === 'nullable') s = def.innerType;
    else return false;
  }
  return false;
}

/** An English description of the values a schema accepts: "a non-empty list of integers ≥ 2". */
export function describeSchema(schema: unknown, plural = false): string {
  const s = unwrap(schema);
  const def = defOf(s);
  if (!def) return plural ? 'values' : 'a value';
  const checks = [def, ...((def.checks ?? []) as any[]).map((c) => defOf(c) ?? c)].filter((c) => c && c.check);
  switch (def.type) {
    case 'nullable':
      return `${describeSchema(def.innerType, plural)} or null`;
    case 'number': {
      const integer = checks.some((c) => c.check === 'number_format' && /int/.test(c.format));
      const noun = integer ? (plural ? 'integers' : 'an integer') : plural ? 'numbers' : 'a number';
      const parts: string[] = [];
      for (const c of checks) {
        if (c.check === 'greater_than') parts.push(`${c.inclusive ? '≥' : '>'} ${c.value}`);
        else if (c.check === 'less_than') parts.push(`${c.inclusive ? '≤' : '<'} ${c.value}`);
        else if (c.check === 'multiple_of') parts.push(`a multiple of ${c.value}`);
      }
      return [noun, parts.join(' and ')].filter(Boolean).join(' ');
    }
    case 'string': {
      let noun = plural ? 'strings' : 'a string';
      const parts: string[] = [];
      for (const c of checks) {
        if (c.check === 'min_length' && c.minimum === 1) noun = plural ? 'non-empty strings' : 'a non-empty string';
        else if (c.check === 'min_length') parts.push(`of at least ${c.minimum} characters`);
        else if (c.check === 'max_length') parts.push(`of at most ${c.maximum} characters`);
        else if (c.check === 'length_equals') parts.push(`of exactly ${c.length} characters`);
        else if (c.check === 'string_format' && c.format === 'regex') parts.push(`matching ${String(c.pattern)}`);
        else if (c.check === 'string_format') parts.push(`in ${c.format} format`);
      }
      return [noun, parts.join(' and ')].filter(Boolean).join(' ');
    }
    case 'boolean':
      return plural ? 'true/false values' : 'true or false';
    case 'bigint':
      return plural ? 'integers' : 'an integer';
    case 'null':
      return 'null';
    case 'date':
      return plural ? 'dates' : 'a date';
    case 'enum':
      return oneOf(Object.values(def.entries), plural);
    case 'literal':
      return oneOf(def.values, plural);
    case 'array': {
      const element = describeSchema(def.element, true);
      let list = plural ? 'lists' : 'a list';
      for (const c of checks) {
        if (c.check === 'min_length' && c.minimum === 1) list = plural ? 'non-empty lists' : 'a non-empty list';
        else if (c.check === 'min_length') list += ` of at least ${c.minimum}`;
        else if (c.check === 'max_length') list += ` of at most ${c.maximum}`;
        else if (c.check === 'length_equals') list += ` of exactly ${c.length}`;
      }
      return `${list} of ${element}`;
    }
    case 'tuple':
      return `${plural ? 'lists' : 'a list'} [${(def.items as unknown[]).map((i) => describeSchema(i)).join(', ')}]`;
    case 'object': {
      const keys = Object.keys(def.shape);
      const noun = plural ? 'mappings' : 'a mapping';
      if (keys.length === 0) return noun;
      const shown = keys.slice(0, 6).join(', ') + (keys.length > 6 ? ', ...' : '');
      return `${noun} with keys ${shown}`;
    }
    case 'record':
      return `${plural ? 'mappings' : 'a mapping'} of names to ${describeSchema(def.valueType, true)}`;
    case 'union':
      return (def.options as unknown[]).map((o) => describeSchema(o, plural)).join(' or ');
    case 'any':
    case 'unknown':
      return plural ? 'values' : 'any value';
    default:
      return plural ? 'values' : 'a value';
  }
}

function oneOf(values: unknown[], plural: boolean): string {
  const shown = values.map((v) => formatInline(v));
  if (shown.length === 1) return plural ? `values ${shown[0]}` : shown[0];
  return `${plural ? 'values among' : 'one of'} ${shown.join(', ')}`;
}
