/** Engine building blocks on their own: canonical JSON and hashing, locks, fingerprints, graph validation, stage output checks. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, utimesSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir, hostname } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';
import { canonicalJson, hashBytes, hashFile, initHashing } from '../engine/hash.ts';
import { tryLock, waitForLock } from '../engine/lock.ts';
import { Fingerprinter, initFingerprinting } from '../engine/fingerprint.ts';
import { StatMemo } from '../engine/statmemo.ts';
import { buildGraph, expandStage, orderStages, paramPaths, withoutPath } from '../engine/graph.ts';
import { formatKeyPath, keyPaths, readOnlyTree, readParams } from '../engine/param-reads.ts';
import { executeJob } from '../engine/runner.ts';
import { Store } from '../engine/store.ts';
import { GraphError, StageOutputError, UserError } from '../engine/errors.ts';
import { defineStage, product, type Axes, type StageDef } from '../engine/types.ts';
import type { Job } from '../engine/job.ts';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'engine-unit-'));
}

test('canonical JSON ignores key order, drops undefined, rejects what JSON cannot hold', async () => {
  await initHashing();
  assert.equal(canonicalJson({ b: 1, a: [1, { d: 2, c: undefined }] }), '{"a":[1,{"d":2}],"b":1}');
  assert.equal(hashBytes(canonicalJson({ x: 1, y: 2 })), hashBytes(canonicalJson({ y: 2, x: 1 })));
  assert.equal(canonicalJson(-0), '0');
  assert.throws(() => canonicalJson({ a: NaN }), /\$\.a is NaN/);
  assert.throws(() => canonicalJson({ d: new Date(0) }), /\$\.d is a Date/);
  assert.notEqual(hashBytes('a'), hashBytes('b'));
  assert.match(hashBytes('a'), /^[0-9a-f]{32}$/);
});

test('hashFile streams a file to the same digest as hashing its bytes', async () => {
  await initHashing();
  const dir = tempDir();
  try {
    const bytes = new Uint8Array(9 << 20).map((_, i) => (i * 7) & 255); // > one 8 MiB chunk
    writeFileSync(join(dir, 'f'), bytes);
    const r = await hashFile(join(dir, 'f'));
    assert.equal(r.size, bytes.length);
    assert.equal(r.digest, hashBytes(bytes));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('locks: exclusive while held, recovered at once from a dead process, after the timeout from a silent one', () => {
  const dir = tempDir();
  const path = join(dir, 'k.lock');
  try {
    const first = tryLock(path);
    assert.ok(first.acquired);
    const second = tryLock(path);
    assert.equal(second.acquired, false, 'held by a live process (us)');
    first.lock.release();
    assert.equal(existsSync(path), false);

    // A lock left by a process that is gone (same host): taken over immediately.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout);
    writeFileSync(path, JSON.stringify({ pid: deadPid, host: hostname(), token: 'old', started: new Date().toISOString() }));
    const recovered = tryLock(path);
    assert.ok(recovered.acquired, 'dead holder recovered');
    assert.notEqual(JSON.parse(readFileSync(path, 'utf8')).token, 'old');
    recovered.lock.release();

    // Another host's lock: its pid can't be checked, so only a stale heartbeat frees it.
    writeFileSync(path, JSON.stringify({ pid: 1, host: 'elsewhere', token: 'remote', started: new Date().toISOString() }));
    assert.equal(tryLock(path).acquired, false, 'fresh heartbeat is respected');
    const old = new Date(Date.now() - 10 * 60_000);
    utimesSync(path, old, old);
    const stolen = tryLock(path);
    assert.ok(stolen.acquired, 'stale heartbeat recovered');
    stolen.lock.release();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('waitForLock waits while the lock is held, takes it once released, and stops waiting when aborted', async () => {
  const dir = tempDir();
  const path = join(dir, 'd.lock');
  try {
    const held = tryLock(path);
    assert.ok(held.acquired);
    let acquired = false;
    const waiting = waitForLock(path).then((release) => {
      acquired = true;
      return release;
    });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(acquired, false, 'still held');
    held.lock.release();
    const release = await waiting;
    assert.equal(JSON.parse(readFileSync(path, 'utf8')).pid, process.pid);
    const controller = new AbortController();
    const blocked = waitForLock(path, controller.signal);
    setTimeout(() => controller.abort(new Error('gave up')), 150);
    await assert.rejects(blocked, /gave up/);
    release();
    assert.equal(existsSync(path), false, 'released');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fingerprints: local import closure only, comment edits ignored, engine and type-only imports excluded', async () => {
  await initHashing();
  await initFingerprinting();
  const dir = tempDir();
  try {
    mkdirSync(join(dir, 'lib'));
    writeFileSync(
      join(dir, 'stage.ts'),
      [
        "import { f } from './lib/a.ts';",
        "import type { T } from './lib/types.ts';",
        "import { defineStage } from '" + new URL('../engine/types.ts', import.meta.url).href + "';",
        "import { tableFromArrays } from 'apache-arrow';",
        'export const x: T = f(defineStage, tableFromArrays);',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'lib/a.ts'), "import { g } from './b.ts';\nexport const f = (..._: unknown[]) => g();\n");
    writeFileSync(join(dir, 'lib/b.ts'), '// helper\nexport const g = () => 1;\n');
    writeFileSync(join(dir, 'lib/types.ts'), 'export type T = number;\n');
    writeFileSync(join(dir, 'lib/other.ts'), 'export const h = 2;\n');
    const url = pathToFileURL(join(dir, 'stage.ts')).href;
    const fp = () => new Fingerprinter(dir, new StatMemo(undefined)).fingerprint(url);

    const first = fp();
    assert.deepEqual(Object.keys(first.files), ['lib/a.ts', 'lib/b.ts', 'stage.ts']);
    assert.match(first.packages['apache-arrow'], /^\d+\.\d+\.\d+/);

    writeFileSync(join(dir, 'lib/b.ts'), '// helper, now with a longer comment\n/* and a block */\nexport const g = () => 1;\n');
    assert.equal(fp().digest, first.digest, 'comment edit');
    writeFileSync(join(dir, 'lib/other.ts'), 'export const h = 3;\n');
    assert.equal(fp().digest, first.digest, 'unrelated file');
    writeFileSync(join(dir, 'lib/types.ts'), 'export type T = number | string;\n');
    assert.equal(fp().digest, first.digest, 'type-only import');
    writeFileSync(join(dir, 'lib/b.ts'), 'export const g = () => 2;\n');
    const changed = fp();
    assert.notEqual(changed.digest, first.digest, 'code edit');
    assert.notEqual(changed.files['lib/b.ts'], first.files['lib/b.ts']);
    assert.equal(changed.files['lib/a.ts'], first.files['lib/a.ts']);

    writeFileSync(join(dir, 'lib/a.ts'), "import { g } from './missing.ts';\nexport const f = () => g();\n");
    assert.throws(fp, (e: Error) => e instanceof UserError && /lib\/a\.ts imports '\.\/missing\.ts', which does not exist/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the stat memo re-reads a file only when its size, mtime or inode changed', () => {
  const dir = tempDir();
  try {
    const f = join(dir, 'f.txt');
    writeFileSync(f, 'one');
    const old = new Date(Date.now() - 60_000); // old enough not to be "racy"
    utimesSync(f, old, old);
    const memo = new StatMemo(join(dir, 'memo.json'));
    let reads = 0;
    const look = (m: StatMemo) => m.lookup(f, 'test', () => (reads++, readFileSync(f, 'utf8')));
    assert.equal(look(memo), 'one');
    assert.equal(look(memo), 'one');
    assert.equal(reads, 1);
    memo.save();
    const reloaded = new StatMemo(join(dir, 'memo.json'));
    assert.equal(look(reloaded), 'one');
    assert.equal(reads, 1, 'persisted');
    writeFileSync(f, 'two!');
    assert.equal(look(reloaded), 'two!');
    assert.equal(reads, 2);
    // A file hashed right after it was written is "racy": not trusted next time.
    assert.equal(look(reloaded), 'two!');
    assert.equal(reads, 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const stub = (over: Partial<StageDef>): StageDef =>
  defineStage({ module: 'file:///stub.ts', name: 'x', description: '', deps: [], outputs: ['out'], run: async () => ({ outputs: {} }), ...over });

test('graph: a stage whose matrix is empty has no instances, and a gathering stage downstream sees none', () => {
  const g = buildGraph([stub({ name: 'a', matrix: () => [] }), stub({ name: 'b', deps: ['a'] })], {});
  assert.equal(g.instances.get('a')!.length, 0);
  assert.equal(g.instances.get('b')!.length, 1);
});

test('graph validation: unknown dep, cycle, duplicate, bad matrix and outputs give clear errors', () => {
  const bad = (stages: StageDef[], params: unknown, re: RegExp) =>
    assert.throws(
      () => buildGraph(stages, params),
      (e: Error) => e instanceof GraphError && re.test(e.message),
      re.source,
    );
  bad([stub({ name: 'a', deps: ['b'] })], {}, /stage 'a' depends on unknown stage 'b'/);
  bad([stub({ name: 'a', deps: ['c'] }), stub({ name: 'b', deps: ['a'] }), stub({ name: 'c', deps: ['b'] })], {}, /cycle: a → c → b → a/);
  bad([stub({ name: 'a' }), stub({ name: 'a' })], {}, /stage 'a' is declared twice/);
  bad([stub({ name: 'a', outputs: [] })], {}, /'outputs' must be a non-empty list/);
  bad([stub({ name: 'a', outputs: ['o', 'o'] })], {}, /output 'o' is listed twice/);
  bad([stub({ name: 'a', publish: { nope: 'reports' } })], {}, /publish names output 'nope'/);
  bad([stub({ name: 'a', params: (p) => ({ y: p.x.y }) })], { x: {} }, /reads params key 'x.y', which the params file does not define/);
  bad([stub({ name: 'a', params: ['x.y'] as any })], { x: { y: 1 } }, /'params' must be a function \(p, axes\)/);
  bad([stub({ name: 'a', params: (p) => ((p.x.y = 2), {}) })], { x: { y: 1 } }, /params\(\) for a failed: params are read-only: .* may not change 'x.y'/);
  bad([stub({ name: 'a', matrix: () => [{ k: 1 }, { k: 1 }] })], {}, /lists a\[k=1\] twice/);
  bad([stub({ name: 'a', matrix: () => [{ k: 1 }, { j: 1 }] as Axes[] })], {}, /same axes/);
  bad([stub({ name: 'a', matrix: () => [{ k: {} as any }] })], {}, /matrix\(\)\[0\]\.k must be a string/);
  bad([stub({ name: 'a', module: '/not/a/url.ts' })], {}, /import\.meta\.url/);
  const sampled = (count: (p: any) => number) => stub({ name: 'a', samples: { count, shardSize: 4, combine: async () => ({ outputs: {} }) } });
  bad([sampled(() => 3)], {}, /samples.count must return one params value, such as \(p\) => p.shuffle.samples; it read none/);
  bad([sampled((p) => p.n + p.m)], { n: 1, m: 2 }, /it read 'm', 'n'/);
  bad([sampled((p) => p.n)], {}, /it read 'n' \(not in the params file\)/);
  bad([sampled((p) => p.n)], { n: -1 }, /sample count 'n' must be a non-negative integer, got -1/);
  bad(
    [stub({ name: 'a', matrix: () => product({ k: [1, 2] }) }), stub({ name: 'b', deps: ['a'], inputs: () => [{ stage: 'a', where: { k: 3 } }] })],
    {},
    /b: no instance of 'a' has k=3/,
  );
  assert.throws(() => orderStages([stub({ name: 'a b' })]), /invalid stage name/);
});

test('params(): the engine records the key paths a stage reads; only its result enters the key', () => {
  const tree = { a: { b: 1, c: [1, 2], d: { e: 'x' } }, f: 2 };
  const r = readParams(tree, (p) => ({ b: p.a.b, c: [...p.a.c], d: p.a.d, same: p.a === p.a }));
  assert.deepEqual(r.value, { b: 1, c: [1, 2], d: { e: 'x' }, same: true });
  assert.deepEqual(keyPaths(r.reads), ['a.b', 'a.c', 'a.d']);
  // Looking into a mapping records what was read there; returning the mapping records it whole.
  assert.deepEqual(keyPaths(readParams(tree, (p) => ({ e: p.a.d.e })).reads), ['a.d.e']);
  assert.deepEqual(keyPaths(readParams(tree, (p) => ({ e: p.a.d.e, all: p.a })).reads), ['a']);
  // A key the tree lacks (a lookup in a mapping of names) is a read too.
  const lookup = readParams({ layers: { 'nets/a.onnx': ['x'] } }, (p) => ({ layers: p.layers['nets/b.onnx'] ?? [] }));
  assert.deepEqual(lookup.value, { layers: [] });
  assert.deepEqual(lookup.missing.map(formatKeyPath), ['layers["nets/b.onnx"]']);
  // Read-only: lists are frozen, mappings refuse writes; the result is a fresh copy the stage may change.
  const ro = readOnlyTree(tree);
  assert.throws(() => readParams(ro, (p) => p.a.c.push(3)), TypeError);
  assert.throws(() => readParams(ro, (p) => delete p.a.b), /params are read-only: a stage's params\(\) may not change 'a.b'/);
  const copy = readParams(ro, (p) => ({ d: p.a.d, c: p.a.c }));
  copy.value.d.e = 'y';
  copy.value.c.push(3);
  assert.deepEqual(ro.a, { b: 1, c: [1, 2], d: { e: 'x' } });
});

test('params(): paths over every instance; the path of the sample count stays out of shard keys', () => {
  const s = stub({
    name: 's',
    matrix: (p) => product({ k: p.sweep }),
    params: (p, axes) => ({ n: { samples: p.n.samples }, v: axes.k === 1 ? p.one : p.other }),
    samples: { count: (p) => p.n.samples, shardSize: 2, combine: async () => ({ outputs: {} }) },
  });
  const tree = { sweep: [1, 2], n: { samples: 5 }, one: 'a', other: 'b' };
  assert.deepEqual(paramPaths(s, tree), ['n.samples', 'one', 'other']);
  const [first] = expandStage(s, tree);
  assert.deepEqual([first.params, first.count, first.countPath], [{ n: { samples: 5 }, v: 'a' }, 5, ['n', 'samples']]);
  assert.deepEqual(withoutPath(first.params, first.countPath!), { n: {}, v: 'a' });
  // The sweep list the matrix reads is no param of the stage: adding a k leaves the others' params alone.
  assert.deepEqual(expandStage(s, { ...tree, sweep: [1, 2, 3] })[0].params, first.params);
});

test('default inputs: match on shared axes, gather over extra upstream axes, deterministic order', () => {
  const a = stub({ name: 'a', matrix: () => product({ d: ['m', 'f'], run: [0, 1] }) });
  const b = stub({ name: 'b', deps: ['a'], matrix: () => product({ d: ['m', 'f'], k: [4, 7] }) });
  const c = stub({ name: 'c', deps: ['b', 'a'] });
  const g = buildGraph([c, b, a], {});
  assert.deepEqual(
    g.stages.map((s) => s.name),
    ['a', 'b', 'c'],
  );
  const b0 = g.instances.get('b')!.find((i) => i.id === 'b[d=f,k=7]')!;
  assert.deepEqual(
    b0.inputs.map((i) => i.instance.id),
    ['a[d=f,run=0]', 'a[d=f,run=1]'],
  );
  const c0 = g.instances.get('c')![0];
  assert.deepEqual(
    c0.inputs.map((i) => i.instance.id),
    ['b[d=m,k=4]', 'b[d=m,k=7]', 'b[d=f,k=4]', 'b[d=f,k=7]', 'a[d=m,run=0]', 'a[d=m,run=1]', 'a[d=f,run=0]', 'a[d=f,run=1]'],
  );
});

test('a stage returning undeclared or missing outputs fails with a message naming them', async () => {
  const dir = tempDir();
  try {
    const store = new Store(join(dir, 'artifacts')).init();
    const def = stub({ name: 'a', outputs: ['out', 'other'], run: async () => ({ outputs: { out: new Uint8Array([1]), extra: new Uint8Array([2]) } }) });
    const job: Job = {
      stage: 'a',
      module: def.module,
      key: 'k0' as any,
      role: 'instance',
      axes: {},
      params: {},
      runtime: {},
      seed: 1,
      inputs: {},
      outputs: ['out', 'other'],
      artifactsDir: store.root,
      durable: false,
    };
    await assert.rejects(
      executeJob(job, { signal: new AbortController().signal, onProgress: () => {}, def }),
      (e: Error) => e instanceof StageOutputError && /missing: other; undeclared: extra/.test(e.message),
    );
    const notAValue = stub({ name: 'a', outputs: ['out'], run: async () => ({ outputs: { out: 42 as any } }) });
    await assert.rejects(
      executeJob({ ...job, outputs: ['out'] }, { signal: new AbortController().signal, onProgress: () => {}, def: notAValue }),
      /neither an Arrow Table, a Uint8Array nor a FileTree/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
