/**
 * Engine acceptance checks (issue 2) on the toy project, driven in-process: caching, params,
 * code edits, sweeps, sharded samples, early cutoff, status explanations, force, dry-run,
 * keep-going, publish, gc and verify.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Toy } from './fixtures/toy/harness.ts';
import { gc, verify } from '../engine/maintenance.ts';
import { Store } from '../engine/store.ts';
import { tableFromIPC } from 'apache-arrow';

const ALL_INSTANCES = 14; // source×2, square×2, parity×2, after×2, flaky×2, sample×2, slow, summary

async function freshToy(): Promise<Toy> {
  const toy = new Toy();
  const first = await toy.repro();
  assert.equal(first.failed.length, 0, JSON.stringify(first.failed));
  toy.takeLog();
  return toy;
}

test('a second repro with nothing changed computes nothing and says so', async () => {
  const toy = await freshToy();
  try {
    const again = await toy.repro();
    assert.equal(again.ran, 0);
    assert.equal(again.upToDate, ALL_INSTANCES);
    assert.deepEqual(toy.ranIds(), []);
    const cli = toy.cli(['repro']);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, new RegExp(`nothing to do, ${ALL_INSTANCES} instances up to date`));
    assert.deepEqual(toy.ranIds(), []);
  } finally {
    toy.cleanup();
  }
});

test('changing a param reruns exactly the instances whose key includes it, and their downstream', async () => {
  const toy = await freshToy();
  try {
    // toy.scale is read by `source` only; everything downstream of source reruns, except
    // where an output comes out byte-identical: the parity of Σx·2 + 1 changes for name=a
    // (Σx = 495) but not for name=b (Σx = 500), so only after[name=a] reruns.
    const r = await toy.repro({ set: ['toy.scale=2'] });
    assert.equal(r.failed.length, 0);
    assert.deepEqual(toy.ranIds(), [
      'after[name=a]',
      'flaky[name=a]',
      'flaky[name=b]',
      'parity[name=a]',
      'parity[name=b]',
      'sample[name=a]#0',
      'sample[name=a]#1',
      'sample[name=b]#0',
      'sample[name=b]#1',
      'source[name=a]',
      'source[name=b]',
      'square[name=a,k=4]',
      'square[name=b,k=4]',
      'summary',
    ]);
    // toy.fail is read by flaky only.
    await toy.repro({ set: ['toy.scale=2', 'toy.fail=[zzz]'] });
    assert.deepEqual(toy.ranIds(), ['flaky[name=a]', 'flaky[name=b]']);
  } finally {
    toy.cleanup();
  }
});

test('an upstream rerun with byte-identical output stops the rerun there (early cutoff)', async () => {
  const toy = await freshToy();
  try {
    // offset 1 → 3 changes parity's key but not its output bytes: `after` and `summary` stay cached.
    await toy.repro({ set: ['toy.offset=3'] });
    assert.deepEqual(toy.ranIds(), ['parity[name=a]', 'parity[name=b]']);
    // offset 1 → 2 flips the parity: after and summary rerun.
    await toy.repro({ set: ['toy.offset=2'] });
    assert.deepEqual(toy.ranIds(), ['after[name=a]', 'after[name=b]', 'parity[name=a]', 'parity[name=b]', 'summary']);
  } finally {
    toy.cleanup();
  }
});

test('seeds ignore the code fingerprint: a code change that keeps the arithmetic reproduces the same samples', async () => {
  const toy = await freshToy();
  try {
    const before = (await toy.status()).find((s) => s.id === 'sample[name=a]')!.record!;
    // Changes the sample stage's compiled code (so its keys), not what it computes.
    toy.edit('stages/sample.ts', (t) => t.replace("description: 'toy sharded sample stage'", "description: 'toy sharded sample stage (edited)'"));
    await toy.repro({ workers: true });
    assert.ok(
      toy.ranIds().some((id) => id.startsWith('sample[name=a]')),
      `sample reruns after a code edit: ${toy.ranIds().join(', ')}`,
    );
    const after = (await toy.status()).find((s) => s.id === 'sample[name=a]')!.record!;
    assert.notEqual(after.key, before.key, 'the key follows the code');
    assert.equal(after.outputs.values.digest, before.outputs.values.digest, 'same seeds, so the same samples');
  } finally {
    toy.cleanup();
  }
});

test('editing a source file imported by one stage invalidates that stage and its downstream only', async () => {
  const toy = await freshToy();
  try {
    // A comment-only edit changes no compiled code: nothing reruns.
    toy.edit('lib/math.ts', (t) => t.replace('/** Imported', '// a new comment\n/** Imported'));
    await toy.repro();
    assert.deepEqual(toy.ranIds(), []);
    // A file no stage imports: nothing reruns.
    toy.edit('lib/unrelated.ts', (t) => t.replace('= 1', '= 2'));
    await toy.repro();
    assert.deepEqual(toy.ranIds(), []);
    // A real code change in lib/math.ts (imported by `square` only).
    toy.edit('lib/math.ts', (t) => t.replace('return x * x;', 'return x * x + 0;'));
    const status = await toy.status();
    const sq = status.find((s) => s.id === 'square[name=a,k=4]')!;
    assert.equal(sq.state, 'stale');
    assert.ok(
      sq.reasons.some((r) => r === 'code lib/math.ts changed'),
      sq.reasons.join('; '),
    );
    assert.equal(status.find((s) => s.id === 'summary')!.state, 'upstream-stale');
    assert.equal(status.find((s) => s.id === 'source[name=a]')!.state, 'up-to-date');
    // Worker threads load the edited module afresh (this process has the old one cached).
    await toy.repro({ workers: true });
    // square reruns; its output is unchanged (x*x+0), so summary is cut off.
    assert.deepEqual(toy.ranIds(), ['square[name=a,k=4]', 'square[name=b,k=4]']);
    // A change that alters square's output reruns summary too.
    toy.edit('lib/math.ts', (t) => t.replace('return x * x + 0;', 'return x * x + 1;'));
    await toy.repro({ workers: true });
    assert.deepEqual(toy.ranIds(), ['square[name=a,k=4]', 'square[name=b,k=4]', 'summary']);
  } finally {
    toy.cleanup();
  }
});

test('adding a value to a sweep list computes only the new instances', async () => {
  const toy = await freshToy();
  try {
    const r = await toy.repro({ set: ['toy.k=[4,7]'] });
    assert.deepEqual(toy.ranIds(), ['square[name=a,k=7]', 'square[name=b,k=7]', 'summary']);
    assert.equal(r.upToDate, ALL_INSTANCES - 1);
  } finally {
    toy.cleanup();
  }
});

test('raising a sharded stage N from 8 to 16 computes only the 8 new samples; lowering computes none', async () => {
  const toy = await freshToy();
  try {
    const before = await toy.status();
    const rec8 = before.find((s) => s.id === 'sample[name=a]')!.record!;
    await toy.repro({ set: ['toy.samples=16'], targets: ['sample'] });
    const log = toy.takeLog();
    const shards = log.filter((l) => l.stage === 'sample');
    assert.deepEqual(shards.map((l) => `${(l.axes as any).name}#${l.shard}`).sort(), ['a#2', 'a#3', 'b#2', 'b#3']);
    assert.equal(
      shards.filter((l) => (l.axes as any).name === 'a').reduce((n, l) => n + l.samples!, 0),
      8,
    );
    assert.deepEqual(toy.ranIds(log.filter((l) => l.stage !== 'sample')), []);

    // The first 8 samples of the 16-sample result are exactly the 8-sample result (same seeds).
    const after = await toy.status({ set: ['toy.samples=16'] });
    const rec16 = after.find((s) => s.id === 'sample[name=a]')!.record!;
    const store = new Store(toy.path('artifacts'));
    const read = (digest: string) => tableFromIPC(readFileSync(store.objectPath(digest)));
    const v8 = [...(read(rec8.outputs.values.digest).getChild('value')!.toArray() as Float64Array)];
    const v16 = [...(read(rec16.outputs.values.digest).getChild('value')!.toArray() as Float64Array)];
    assert.equal(v8.length, 8);
    assert.equal(v16.length, 16);
    assert.deepEqual(v16.slice(0, 8), v8);
    assert.equal(new Set(v16).size, 16, 'samples are independent');

    // Lowering to 6 computes no shard (shards 0 and 1 exist), only a new combine.
    await toy.repro({ set: ['toy.samples=6'], targets: ['sample'] });
    assert.deepEqual(toy.ranIds(), []);
    const six = (await toy.status({ set: ['toy.samples=6'] })).find((s) => s.id === 'sample[name=a]')!;
    assert.equal(six.state, 'up-to-date');
    assert.equal(six.record!.metrics.n, 6);
  } finally {
    toy.cleanup();
  }
});

test('status says why each instance is stale: param from → to, never run, waiting on upstream', async () => {
  const toy = new Toy();
  try {
    const never = await toy.status();
    assert.ok(never.every((s) => s.state === 'never-run' || s.state === 'upstream-stale'));
    assert.deepEqual(never.find((s) => s.id === 'source[name=a]')!.reasons, ['never run']);
    await toy.repro();
    toy.takeLog();
    const st = await toy.status({ set: ['toy.offset=5', 'toy.samples=12'] });
    const parity = st.find((s) => s.id === 'parity[name=b]')!;
    assert.equal(parity.state, 'stale');
    assert.deepEqual(parity.reasons, ['param toy.offset: 1 → 5']);
    assert.equal(st.find((s) => s.id === 'after[name=b]')!.state, 'upstream-stale');
    const sample = st.find((s) => s.id === 'sample[name=a]')!;
    assert.ok(sample.reasons.includes('param toy.samples: 8 → 12'), sample.reasons.join('; '));
    assert.ok(
      sample.reasons.some((r) => r.startsWith('1 of 3 shards to compute')),
      sample.reasons.join('; '),
    );
    assert.equal(st.find((s) => s.id === 'source[name=a]')!.state, 'up-to-date');
    const json = toy.cli(['status', '--json', '-S', 'toy.offset=5']);
    assert.equal(json.code, 0, json.stderr);
    const rows = JSON.parse(json.stdout) as { id: string; state: string; reasons: string[] }[];
    assert.deepEqual(rows.find((r) => r.id === 'parity[name=a]')!.reasons, ['param toy.offset: 1 → 5']);
    assert.equal(rows.length, ALL_INSTANCES);
    assert.deepEqual(toy.ranIds(), [], 'status computes nothing');
  } finally {
    toy.cleanup();
  }
});

test('--dry-run reports what would run and runs nothing; --force recomputes cached instances', async () => {
  const toy = await freshToy();
  try {
    const dry = await toy.repro({ set: ['toy.offset=2'], dryRun: true });
    assert.deepEqual(toy.ranIds(), []);
    assert.deepEqual(dry.planned.find((p) => p.id === 'parity[name=a]')!.reasons, ['param toy.offset: 1 → 2']);
    assert.ok(dry.planned.some((p) => p.id === 'summary'));
    assert.equal((await toy.status()).filter((s) => s.state !== 'up-to-date').length, 0);

    await toy.repro({ force: ['parity'] });
    // Forced parity reproduces identical bytes, so downstream stays cached.
    assert.deepEqual(toy.ranIds(), ['parity[name=a]', 'parity[name=b]']);
    await toy.repro({ force: true, targets: ['after'] });
    assert.deepEqual(toy.ranIds(), ['after[name=a]', 'after[name=b]', 'parity[name=a]', 'parity[name=b]', 'source[name=a]', 'source[name=b]']);
  } finally {
    toy.cleanup();
  }
});

test('a failing instance stops the run; --keep-going continues with independent instances', async () => {
  const toy = new Toy();
  try {
    const kg = await toy.repro({ set: ['toy.fail=[a]'], keepGoing: true, jobs: 1 });
    assert.deepEqual(
      kg.failed.map((f) => f.id),
      ['flaky[name=a]'],
    );
    assert.match(kg.failed[0].message, /told to fail for a/);
    const ran = toy.ranIds();
    assert.ok(ran.includes('flaky[name=b]'));
    assert.ok(ran.includes('summary'), 'summary does not depend on flaky');
    // The failed instance has no record: the next run retries it (and only it).
    await toy.repro({ set: ['toy.fail=[]'] });
    assert.deepEqual(toy.ranIds(), ['flaky[name=a]', 'flaky[name=b]']);

    const cli = toy.cli(['repro', '-S', 'toy.fail=[b]', '--jobs', '1']);
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /failed flaky\[name=b\]: flaky: told to fail for b/);
    assert.doesNotMatch(cli.stderr, /\n\s+at /, 'no stack trace on the terminal');
  } finally {
    toy.cleanup();
  }
});

test('files outputs are published into the project tree, rewriting only files that differ', async () => {
  const toy = await freshToy();
  try {
    const report = toy.read('out/report.txt');
    assert.match(report, /parity of a is \d/);
    assert.equal(toy.read('out/nested/count.txt'), '4');
    // A hand edit is repaired on the next run even though summary is a cache hit.
    toy.write('out/report.txt', 'tampered');
    await toy.repro();
    assert.deepEqual(toy.ranIds(), []);
    assert.equal(toy.read('out/report.txt'), report);

    // A file the newer output no longer lists is removed; a file the engine never wrote stays.
    assert.ok(existsSync(toy.path('out/after/b.txt')));
    toy.write('out/mine.txt', 'a user note');
    await toy.repro({ set: ['toy.names=[a]'] });
    assert.ok(existsSync(toy.path('out/after/a.txt')));
    assert.ok(!existsSync(toy.path('out/after/b.txt')), 'stale published file removed');
    assert.equal(toy.read('out/mine.txt'), 'a user note');
    assert.equal(toy.read('out/nested/count.txt'), '2');
  } finally {
    toy.cleanup();
  }
});

test('verify quarantines a corrupted object and the next repro recomputes it', async () => {
  const toy = await freshToy();
  try {
    const st = await toy.status();
    const square = st.find((s) => s.id === 'square[name=a,k=4]')!.record!;
    const store = new Store(toy.path('artifacts'));
    const path = store.objectPath(square.outputs.data.digest);
    const bytes = readFileSync(path);
    bytes[bytes.length >> 1] ^= 0xff;
    writeFileSync(path, bytes);

    const v = toy.cli(['verify']);
    assert.equal(v.code, 1, v.stdout + v.stderr);
    assert.match(v.stdout, new RegExp(`corrupt: ${square.outputs.data.digest}`));
    assert.equal(readdirSync(toy.path('artifacts/quarantine')).length, 1);
    const after = await toy.status();
    const sq = after.find((s) => s.id === 'square[name=a,k=4]')!;
    assert.equal(sq.state, 'stale');
    assert.match(sq.reasons.join(), /record was removed/);

    await toy.repro();
    // Same bytes recomputed, so downstream is cut off.
    assert.deepEqual(toy.ranIds(), ['square[name=a,k=4]']);
    const clean = toy.cli(['verify']);
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    assert.match(clean.stdout, /OK/);
  } finally {
    toy.cleanup();
  }
});

test('recomputing a result repairs a corrupted stored copy of it', async () => {
  const toy = await freshToy();
  try {
    const rec = (await toy.status()).find((s) => s.id === 'square[name=b,k=4]')!.record!;
    const store = new Store(toy.path('artifacts'));
    const path = store.objectPath(rec.outputs.data.digest);
    const bytes = readFileSync(path);
    bytes[10] ^= 1;
    writeFileSync(path, bytes);
    await toy.repro({ force: ['square'] });
    const v = await verify(store);
    assert.deepEqual(v.corrupt, []);
  } finally {
    toy.cleanup();
  }
});

test('gc keeps what the current params use (or every run with --all-runs) and deletes the rest', async () => {
  const toy = await freshToy();
  try {
    await toy.repro({ set: ['toy.scale=3'] });
    toy.takeLog();
    const store = new Store(toy.path('artifacts'));
    const objectsBefore = store.listObjects().length;

    const keepAll = await gc(await toy.session({ set: ['toy.scale=3'] }), { allRuns: true });
    assert.equal(keepAll.removedRuns, 0);
    assert.equal(keepAll.removedObjects, 0);

    const r = await gc(await toy.session({ set: ['toy.scale=3'] }));
    assert.ok(r.removedRuns > 0 && r.removedObjects > 0, JSON.stringify(r));
    assert.equal(store.listObjects().length, objectsBefore - r.removedObjects);
    // Everything for scale=3 is still cached and intact...
    await toy.repro({ set: ['toy.scale=3'] });
    assert.deepEqual(toy.ranIds(), []);
    assert.equal((await verify(store)).corrupt.length, 0);
    // ...and scale=1 (the default) has to be recomputed except what doesn't depend on scale.
    await toy.repro();
    assert.ok(toy.ranIds().includes('source[name=a]'));

    // gc refuses to run beside a live pipeline process (it writes objects before their record).
    const lockFile = join(store.locksDir, 'f'.repeat(32) + '.lock');
    writeFileSync(lockFile, JSON.stringify({ pid: process.ppid, host: hostname(), token: 't', started: new Date().toISOString() }));
    await assert.rejects(gc(await toy.session()), /another pipeline process is running \(pid \d+/);
    rmSync(lockFile);
  } finally {
    toy.cleanup();
  }
});

test('stages run in worker threads with inputs from the store and identical bytes to inline runs', async () => {
  const inline = await freshToy();
  const workers = new Toy();
  try {
    const r = await workers.repro({ workers: true });
    assert.equal(r.failed.length, 0, JSON.stringify(r.failed));
    const pids = new Set(workers.takeLog().map((l) => l.pid));
    assert.deepEqual([...pids], [process.pid], 'worker threads share the pid');
    const a = await inline.status();
    const b = await workers.status();
    for (const s of a) {
      const other = b.find((x) => x.id === s.id)!;
      assert.equal(other.key, s.key, `${s.id}: same key`);
      assert.deepEqual(other.record!.outputs, s.record!.outputs, `${s.id}: same output digests`);
    }
  } finally {
    inline.cleanup();
    workers.cleanup();
  }
});

test('run records hold the key parts, output digests, metrics and timings; artifacts are Arrow IPC files', async () => {
  const toy = await freshToy();
  try {
    const st = await toy.status();
    const src = st.find((s) => s.id === 'source[name=b]')!.record!;
    const onDisk = JSON.parse(readFileSync(join(toy.path('artifacts/runs'), `${src.key}.json`), 'utf8'));
    assert.equal(onDisk.stage, 'source');
    assert.deepEqual(onDisk.axes, { name: 'b' });
    assert.deepEqual(onDisk.keyParts.params, { toy: { scale: 1 } });
    assert.equal(onDisk.outputs.data.kind, 'arrow');
    assert.equal(onDisk.metrics.n, 5);
    assert.ok(onDisk.timings.ms >= 0 && onDisk.timings.startedAt <= onDisk.timings.finishedAt);
    assert.ok(Object.keys(onDisk.code.files).includes('stages/source.ts'));
    assert.ok(Object.keys(onDisk.code.files).includes('lib/log.ts'));
    assert.ok(!Object.keys(onDisk.code.files).some((f: string) => f.includes('engine')), 'engine files are not fingerprinted');
    assert.ok(onDisk.code.packages['apache-arrow']);
    // The object is an Arrow IPC file: magic "ARROW1" at both ends.
    const bytes = readFileSync(new Store(toy.path('artifacts')).objectPath(src.outputs.data.digest));
    assert.equal(bytes.subarray(0, 6).toString(), 'ARROW1');
    assert.equal(bytes.subarray(bytes.length - 6).toString(), 'ARROW1');
    const x = tableFromIPC(bytes).getChild('x')!.toArray();
    assert.deepEqual([...x], [98, 99, 100, 101, 102]);
  } finally {
    toy.cleanup();
  }
});
