/**
 * engine/params.ts: loading params files, -S overrides, and the user-facing messages for
 * malformed files. Positions are computed here from the fixture text (see `at`), not copied
 * from the implementation's output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { ParamsError, getPath, loadParams } from '../engine/params.ts';

/** A small schema shaped like a project's: strict sections, sweep lists, counts, enums. */
const schema = z
  .object({
    datasets: z
      .object({
        names: z
          .array(z.enum(['mnist', 'fashion']))
          .min(1)
          .describe('datasets to train on'),
        runs: z.number().int().nonnegative().describe('networks per configuration'),
      })
      .strict(),
    cluster: z
      .object({
        k: z.array(z.number().int().min(2)).min(1).describe('numbers of clusters (a sweep axis)'),
        method: z.enum(['spectral', 'kmeans']),
        seed: z.number().int().min(0).describe('seed of the k-means start'),
        note: z.string().optional(),
        eps: z
          .number()
          .refine((x) => x > 0 && x < 1, 'must lie strictly between 0 and 1')
          .default(0.5),
      })
      .strict(),
  })
  .strict();

const GOOD = `datasets:
  names: [mnist, fashion]
  runs: 2
cluster:
  k: [2, 4]
  method: spectral
  seed: 0
`;

const dir = mkdtempSync(path.join(tmpdir(), 'engine-params-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function writeParams(text: string): string {
  const file = path.join(dir, `params-${++counter}.yaml`);
  writeFileSync(file, text);
  return file;
}

function load(text: string, overrides: string[] = []) {
  const file = writeParams(text);
  return { file, result: loadParams({ root: dir, file: path.basename(file), overrides, schema }) };
}

/** Expect a ParamsError; return it. */
function fails(text: string, overrides: string[] = []): { error: ParamsError; file: string } {
  const file = writeParams(text);
  try {
    loadParams({ root: dir, file: path.basename(file), overrides, schema });
  } catch (error) {
    assert.ok(error instanceof ParamsError, `expected a ParamsError, got ${String(error)}`);
    assert.equal(error.exitCode, 2);
    assert.ok(error.problems.length >= 1);
    return { error, file };
  }
  assert.fail('loadParams accepted a malformed params file');
}

/** 1-based line:column of the `nth` occurrence of `needle` in `text` (for expected positions). */
function at(text: string, needle: string, nth = 1): string {
  let index = -1;
  for (let i = 0; i < nth; i++) {
    index = text.indexOf(needle, index + 1);
    assert.ok(index >= 0, `fixture lacks ${JSON.stringify(needle)}`);
  }
  const before = text.slice(0, index).split('\n');
  return `${before.length}:${before[before.length - 1].length + 1}`;
}

/** The message starts with `<file>:<line>:<col>: <keyPath>` (file as shown: absolute outside the cwd). */
function assertLocated(error: ParamsError, file: string, position: string, keyPath: string): void {
  const first = error.message.split('\n')[0];
  assert.ok(
    first.startsWith(`${file}:${position}: `) || first.startsWith(`${path.relative(process.cwd(), file)}:${position}: `),
    `expected the message to start with ${file}:${position}, got: ${first}`,
  );
  assert.ok(first.includes(keyPath), `expected key path ${keyPath} in: ${first}`);
  const [line, column] = position.split(':').map(Number);
  assert.equal(error.problems[0].line, line);
  assert.equal(error.problems[0].column, column);
  assert.equal(error.problems[0].keyPath, keyPath);
}

test('a valid file loads: values validated, schema defaults applied, text kept verbatim', () => {
  const { file, result } = load(GOOD);
  assert.equal(result.file, file);
  assert.equal(result.text, GOOD);
  assert.deepEqual(result.values.cluster.k, [2, 4]);
  assert.equal(result.values.cluster.eps, 0.5, 'default from the schema');
  assert.equal(getPath(result.values, 'datasets.runs'), 2);
  assert.deepEqual(getPath(result.values, 'datasets.names'), ['mnist', 'fashion']);
});

test('getPath: nested lookup, list indices, undefined when missing', () => {
  const tree = { a: { b: { c: 3 }, list: [10, 20] }, z: null };
  assert.equal(getPath(tree, 'a.b.c'), 3);
  assert.equal(getPath(tree, 'a.list.1'), 20);
  assert.deepEqual(getPath(tree, 'a.b'), { c: 3 });
  assert.equal(getPath(tree, 'a.b.c.d'), undefined);
  assert.equal(getPath(tree, 'a.nope'), undefined);
  assert.equal(getPath(tree, 'z.x'), undefined);
  assert.equal(getPath(tree, 'toString'), undefined, 'inherited properties are not keys');
  assert.equal(getPath(tree, ''), tree);
});

test('broken YAML syntax: the YAML parser position and the enclosing key', () => {
  const text = GOOD.replace('k: [2, 4]', 'k: [2, 4');
  const { error, file } = fails(text);
  // The unterminated flow list swallows the next line; yaml reports where it noticed.
  assertLocated(error, file, at(text, 'method'), 'cluster.k');
  assert.match(error.message, /YAML syntax error/);
  assert.match(error.message, /\]/, 'yaml explains what is missing');
});

test('unknown key: points at the key, suggests the close name, lists the known keys', () => {
  const text = GOOD + '  methd: kmeans\n';
  const { error, file } = fails(text);
  assertLocated(error, file, at(text, 'methd'), 'cluster.methd');
  assert.match(error.message, /unknown key 'methd'; did you mean 'method'\?/);
  assert.match(error.message, /known keys: k, method, seed, note, eps/);
});

test('unknown section far from every known name: no suggestion', () => {
  const text = GOOD + 'training:\n  epochs: 3\n';
  const { error, file } = fails(text);
  assertLocated(error, file, at(text, 'training'), 'training');
  assert.doesNotMatch(error.message, /did you mean/);
  assert.match(error.message, /known sections: datasets, cluster/);
});

test('wrong type: found value and the expected form', () => {
  const text = GOOD.replace('runs: 2', 'runs: two');
  const { error, file } = fails(text);
  assertLocated(error, file, at(text, 'two'), 'datasets.runs');
  assert.match(error.message, /expected an integer ≥ 0, got 'two'/);
});

test('number out of range: a negative count', () => {
  const text = GOOD.replace('runs: 2', 'runs: -3');
  const { error, file } = fails(text);
  assertLocated(error, file, at(text, '-3'), 'datasets.runs');
  assert.match(error.message, /got -3/);
});

test('empty sweep list', () => {
  const text = GOOD.replace('k: [2, 4]', 'k: []');
  const { error, file } = fails(text);
  assertLocated(error, file, at(text, '[]'), 'cluster.k');
  assert.match(error.message, /expected a non-empty list of integers ≥ 2, got \[\]/);
});

test('a bad item inside a list names its index and position', () => {
  const text = GOOD.replace('k: [2, 4]', 'k: [2, 1, 4]');
  const { error, file } = fails(text);
  assertLocated(error, file, at(text, '1, 4'), 'cluster.k[1]');
  assert.match(error.message, /expected an integer ≥ 2, got 1/);
});

test('duplicate key: the second occurrence, and where the first one is', () => {
  const text = GOOD + '  seed: 7\n';
  const { error, file } = fails(text);
  assertLocated(error, file, at(text, 'seed', 2), 'cluster.seed');
  assert.match(error.message, /duplicate key/);
  assert.ok(error.message.includes(`line ${at(text, 'seed', 1)}`), error.message);
});

test('missing required key: points at the parent section and says what belongs there', () => {
  const text = GOOD.replace('  seed: 0\n', '');
  const { error, file } = fails(text);
  assertLocated(error, file, at(text, 'cluster'), 'cluster.seed');
  assert.match(error.message, /missing required key; expected an integer ≥ 0 \(seed of the k-means start\)/);
});

test('non-integer where an integer is required', () => {
  const text = GOOD.replace('seed: 0', 'seed: 1.5');
  const { error, file } = fails(text);
  assertLocated(error, file, at(text, '1.5'), 'cluster.seed');
  assert.match(error.message, /expected an integer.*got 1\.5/);
});

test('a value outside an enum lists the allowed values', () => {
  const text = GOOD.replace('method: spectral', 'method: spectal');
  const { error, file } = fails(text);
  assertLocated(error, file, at(text, 'spectal'), 'cluster.method');
  assert.match(error.message, /expected one of 'spectral', 'kmeans', got 'spectal'/);
});

test("a schema's own refinement message is kept", () => {
  const text = GOOD + '  eps: 3.25\n';
  const { error, file } = fails(text);
  assertLocated(error, file, at(text, '3.25'), 'cluster.eps');
  assert.match(error.message, /must lie strictly between 0 and 1, got 3\.25/);
});

test('several problems: one message, one line each, in file order', () => {
  const text = GOOD.replace('seed: 0', 'seed: x').replace('runs: 2', 'runs: -1');
  const { error, file } = fails(text);
  const lines = error.message.split('\n');
  assert.equal(lines.length, 2);
  assert.equal(error.problems.length, 2);
  assertLocated(error, file, at(text, '-1'), 'datasets.runs');
  assert.ok(lines[1].includes(`:${at(text, 'x\n')}: cluster.seed:`), lines[1]);
});

test('an empty file reports each missing section', () => {
  const { error } = fails('# nothing yet\n');
  assert.deepEqual(
    error.problems.map((p) => p.keyPath),
    ['datasets', 'cluster'],
  );
  assert.match(error.message, /datasets: missing required key/);
});

test('a missing params file names the path and suggests --params', () => {
  try {
    loadParams({ root: dir, file: 'does-not-exist.yaml', overrides: [], schema });
    assert.fail('no error');
  } catch (error) {
    assert.ok(error instanceof ParamsError);
    assert.equal(error.exitCode, 2);
    assert.ok(error.message.includes(path.join(dir, 'does-not-exist.yaml')), error.message);
    assert.match(error.message, /--params FILE/);
  }
});

test('--params: an absolute file path is used as is, whatever the root', () => {
  const file = writeParams(GOOD);
  const result = loadParams({ root: '/nonexistent-root', file, overrides: [], schema });
  assert.equal(result.file, file);
  assert.equal(result.values.datasets.runs, 2);
});

test('-S overrides: YAML values, later ones win, new optional keys, the file itself untouched', () => {
  const { result } = load(GOOD, ['cluster.k=[3,5,7]', 'datasets.runs=4', 'cluster.note=hello world', 'datasets.runs=5']);
  assert.deepEqual(result.values.cluster.k, [3, 5, 7]);
  assert.equal(result.values.datasets.runs, 5);
  assert.equal(result.values.cluster.note, 'hello world');
  assert.equal(result.text, GOOD);
});

test('-S can replace one list item by index, or a whole section', () => {
  assert.deepEqual(load(GOOD, ['cluster.k.1=9']).result.values.cluster.k, [2, 9]);
  const section = load(GOOD, ['cluster={k: [6], method: kmeans, seed: 3}']).result.values.cluster;
  assert.deepEqual(section, { k: [6], method: 'kmeans', seed: 3, eps: 0.5 });
});

test('-S with an unknown section names the argument, its position and the known sections', () => {
  const { error } = fails(GOOD, ['cluster.k=[2]', 'nosuch.x=1']);
  assert.ok(error.message.startsWith(`-S #2 'nosuch.x=1': unknown key 'nosuch'`), error.message);
  assert.match(error.message, /known sections: datasets, cluster/);
  assert.equal(error.problems[0].override, 2);
});

test('-S with an unknown nested key suggests the close name', () => {
  const { error } = fails(GOOD, ['cluster.seeds=3']);
  assert.ok(error.message.startsWith(`-S #1 'cluster.seeds=3': unknown key 'seeds' in cluster`), error.message);
  assert.match(error.message, /did you mean 'seed'\?/);
  assert.equal(error.problems[0].keyPath, 'cluster.seeds');
});

test('-S with a bad value reports the argument, not a file line', () => {
  const { error } = fails(GOOD, ['cluster.k=[]']);
  assert.equal(error.message, `-S #1 'cluster.k=[]': cluster.k: expected a non-empty list of integers ≥ 2, got []`);
  assert.equal(error.problems[0].line, undefined);
  assert.equal(error.problems[0].override, 1);
});

test('-S problems inside a replaced section are blamed on that argument', () => {
  const { error } = fails(GOOD, ['cluster.seed=4', 'cluster={k: [1], method: kmeans, seed: 0}']);
  assert.ok(error.message.startsWith(`-S #2 'cluster={k: [1], method: kmeans, seed: 0}': cluster.k[0]:`), error.message);
});

test('malformed -S arguments: no "=", bad key path, invalid YAML value, a key under a scalar', () => {
  assert.match(fails(GOOD, ['cluster.k']).error.message, /^-S #1 'cluster\.k': expected KEY\.PATH=VALUE/);
  assert.match(fails(GOOD, ['cluster..k=3']).error.message, /^-S #1 'cluster\.\.k=3': 'cluster\.\.k' is not a key path/);
  assert.match(fails(GOOD, ['cluster.k=[2,']).error.message, /^-S #1 'cluster\.k=\[2,': the value is not valid YAML/);
  assert.match(fails(GOOD, ['cluster.seed.x=1']).error.message, /^-S #1 'cluster\.seed\.x=1': cluster\.seed is an integer ≥ 0; it has no key 'x'/);
  assert.match(fails(GOOD, ['cluster.k.5=3']).error.message, /index 5 does not exist/);
});
