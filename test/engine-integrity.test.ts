/**
 * Issue 15: nothing corrupt is ever consumed. Each test damages the store the way a disk, a
 * crash or a careless hand would (flipped byte, truncation, deletion, a SIGKILLed writer, a full
 * disk) and checks that the damage is found where it is read, never reaches a consumer, and that
 * the final digests equal those of a clean run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Toy, waitFor, exitOf } from './fixtures/toy/harness.ts';
import { Store } from '../engine/store.ts';
import { describeWriteError } from '../engine/fsutil.ts';
import { initHashing } from '../engine/hash.ts';
import type { InstanceStatus } from '../engine/status.ts';

const REPO = join(fileURLToPath(import.meta.url), '..', '..');

async function freshToy(): Promise<Toy> {
  const toy = new Toy();
  const first = await toy.repro();
  assert.equal(first.failed.length, 0, JSON.stringify(first.failed));
  toy.takeLog();
  return toy;
}

/** Output digests of every up-to-date instance, by instance id. */
function digests(status: InstanceStatus[]): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const s of status) {
    assert.equal(s.state, 'up-to-date', `${s.id}: ${s.reasons.join('; ')}`);
    out[s.id] = Object.fromEntries(Object.entries(s.record!.outputs).map(([n, o]) => [n, o.digest]));
  }
  return out;
}

let cleanDigests: Promise<Record<string, Record<string, string>>> | undefined;
/** The digests of a clean run of the toy project (computed once). */
function clean(): Promise<Record<string, Record<string, string>>> {
  cleanDigests ??= (async () => {
    const toy = await freshToy();
    try {
      return digests(await toy.status());
    } finally {
      toy.cleanup();
    }
  })();
  return cleanDigests;
}

function objectOf(toy: Toy, status: InstanceStatus[], id: string, output: string): { digest: string; path: string } {
  const rec = status.find((s) => s.id === id)!.record!;
  const digest = rec.outputs[output].digest;
  return { digest, path: new Store(toy.path('artifacts')).objectPath(digest) };
}

function flipByte(path: string, at?: number): void {
  const bytes = readFileSync(path);
  bytes[at ?? bytes.length >> 1] ^= 0x40;
  writeFileSync(path, bytes);
}

for (const workers of [false, true]) {
  test(`a flipped byte in an input is found as it is read: quarantined, its producer recomputed, final digests equal a clean run's${workers ? ' (worker threads)' : ''}`, async () => {
    const toy = await freshToy();
    try {
      const input = objectOf(toy, await toy.status(), 'source[name=a]', 'data');
      flipByte(input.path);
      const r = await toy.repro({ force: ['square'], workers });
      assert.equal(r.failed.length, 0, JSON.stringify(r.failed));
      const notices = r.notices.filter((n) => n.includes(input.digest));
      assert.equal(notices.length, 1, `one notice about the damaged object:\n${toy.output}`);
      assert.match(
        notices[0],
        /^square\[name=a,k=4\]: read corrupt object [0-9a-f]+ \(its bytes hash to [0-9a-f]+; moved to .*quarantine.*\) from source\[name=a\] output 'data'; it was not used; recomputing its producer$/,
      );
      assert.ok(toy.output.includes(notices[0]), 'the notice is printed');
      const ran = toy.ranIds();
      assert.ok(ran.includes('source[name=a]'), `the producer was recomputed: ${ran}`);
      assert.equal(readdirSync(toy.path('artifacts/quarantine')).length, 1);
      assert.deepEqual(digests(await toy.status()), await clean());
    } finally {
      toy.cleanup();
    }
  });
}

test('a flipped byte in a cached shard is found by the combine that reads it: the shard is recomputed, digests equal a clean run', async () => {
  const more = ['toy.samples=12']; // a new shard, so the combine reruns and reads the cached shards
  const reference = new Toy();
  let expected: Record<string, Record<string, string>>;
  try {
    await reference.repro({ set: more });
    expected = digests(await reference.status({ set: more }));
  } finally {
    reference.cleanup();
  }
  const toy = await freshToy();
  try {
    const shard = (await toy.status()).find((s) => s.id === 'sample[name=b]')!.shards!.records[1]!;
    flipByte(new Store(toy.path('artifacts')).objectPath(shard.outputs.values.digest));
    const r = await toy.repro({ set: more });
    assert.equal(r.failed.length, 0, JSON.stringify(r.failed));
    const notice = r.notices.find((n) => n.includes(shard.outputs.values.digest));
    assert.match(notice ?? r.notices.join('\n'), /^sample\[name=b\]: read corrupt object [0-9a-f]+ \(its bytes hash to .*\); it was not used; recomputing it$/);
    assert.ok(toy.ranIds().includes('sample[name=b]#1'), 'the damaged shard was recomputed');
    assert.deepEqual(digests(await toy.status({ set: more })), expected);
  } finally {
    toy.cleanup();
  }
});

test('a truncated object is a cache miss with a one-line notice (no library error), and is recomputed', async () => {
  const toy = await freshToy();
  try {
    const st = await toy.status();
    const out = objectOf(toy, st, 'source[name=b]', 'data');
    const size = readFileSync(out.path).length;
    truncateSync(out.path, 40);
    const r = toy.cli(['repro']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      new RegExp(
        `source\\[name=b\\]: its cached result has a corrupt object ${out.digest} \\(output 'data': 40 bytes, recorded ${size}\\); moved it to .*quarantine.*; recomputing it`,
      ),
    );
    assert.doesNotMatch(r.stdout + r.stderr, /fieldsLength|TypeError|at .*\.ts:\d+/);
    assert.deepEqual(toy.ranIds(), ['source[name=b]'], 'same bytes recomputed, so downstream is cut off');
    assert.deepEqual(digests(await toy.status()), await clean());

    // Read by a consumer (whose hit check does not look at its inputs): refused as it is read, with a clear message.
    const rec = (await toy.status()).find((s) => s.id === 'source[name=b]')!.record!;
    truncateSync(out.path, 40);
    await assert.rejects(new Store(toy.path('artifacts')).artifact(rec.outputs.data).table(), {
      name: 'DamagedObjectError',
      message: new RegExp(`^corrupt object ${out.digest} \\(40 bytes, its run record says ${size}; moved to .*quarantine`),
    });
    assert.ok(!existsSync(out.path), 'quarantined');
    const forced = await toy.repro({ force: ['square'] });
    assert.equal(forced.failed.length, 0, JSON.stringify(forced.failed));
    assert.deepEqual(digests(await toy.status()), await clean());
  } finally {
    toy.cleanup();
  }
});

test("status names a missing or corrupt object as the reason: `missing object <digest> (output 'data')`", async () => {
  const toy = await freshToy();
  try {
    const st = await toy.status();
    const sq = objectOf(toy, st, 'square[name=a,k=4]', 'data');
    unlinkSync(sq.path);
    const src = objectOf(toy, st, 'source[name=b]', 'data');
    truncateSync(src.path, 3);
    const shard = st.find((s) => s.id === 'sample[name=a]')!.shards!.records[0]!;
    unlinkSync(new Store(toy.path('artifacts')).objectPath(shard.outputs.values.digest));

    const after = await toy.status();
    const reasons = (id: string) => after.find((s) => s.id === id)!.reasons;
    assert.deepEqual(reasons('square[name=a,k=4]'), [`missing object ${sq.digest} (output 'data')`]);
    assert.match(reasons('source[name=b]').join(), new RegExp(`^corrupt object ${src.digest} \\(output 'data': 3 bytes, recorded \\d+\\)$`));
    assert.deepEqual(reasons('sample[name=a]'), [`shard 0: missing object ${shard.outputs.values.digest} (output 'values')`]);
    assert.equal(after.find((s) => s.id === 'square[name=a,k=4]')!.state, 'stale');

    const r = await toy.repro();
    assert.equal(r.failed.length, 0, JSON.stringify(r.failed));
    assert.deepEqual(digests(await toy.status()), await clean());
  } finally {
    toy.cleanup();
  }
});

test('a damaged file of a published files output is a miss: the report is rebuilt and republished', async () => {
  const toy = await freshToy();
  try {
    const st = await toy.status();
    const rec = st.find((s) => s.id === 'summary')!.record!;
    const store = new Store(toy.path('artifacts'));
    const manifest = JSON.parse(readFileSync(store.objectPath(rec.outputs.files.digest), 'utf8'));
    const report = manifest.files['report.txt'];
    flipByte(store.objectPath(report.digest), 0);
    rmSync(toy.path('out/report.txt'));
    const r = await toy.repro();
    assert.equal(r.failed.length, 0, JSON.stringify(r.failed));
    assert.ok(
      r.notices.some((n) => n.startsWith(`summary: read corrupt object ${report.digest}`)),
      r.notices.join('\n'),
    );
    assert.match(toy.read('out/report.txt'), /^square /, 'republished from good bytes');
    assert.deepEqual(digests(await toy.status()), await clean());
  } finally {
    toy.cleanup();
  }
});

test('a flipped byte in a checkpoint is discarded with a notice; the run resumes from the last good one and matches a clean run', async () => {
  const args = ['repro', 'slow', '-S', 'toy.sleepMs=1500'];
  const reference = new Toy();
  let expected: string;
  try {
    await reference.repro({ targets: ['slow'], set: ['toy.sleepMs=1500'] });
    expected = (await reference.status({ set: ['toy.sleepMs=1500'] })).find((s) => s.id === 'slow')!.record!.outputs.done.digest;
  } finally {
    reference.cleanup();
  }
  const toy = new Toy();
  try {
    const child = toy.spawn(args);
    const saved = () => {
      try {
        return readdirSync(toy.path('artifacts/checkpoints')).some((k) => existsSync(toy.path(`artifacts/checkpoints/${k}/checkpoint.prev.bin`)));
      } catch {
        return false;
      }
    };
    await waitFor(saved, 30_000, 'two checkpoints');
    await new Promise((r) => setTimeout(r, 200));
    child.kill('SIGKILL');
    await exitOf(child);
    const [key] = readdirSync(toy.path('artifacts/checkpoints'));
    const newest = ['checkpoint.next.bin', 'checkpoint.bin'].map((n) => toy.path(`artifacts/checkpoints/${key}/${n}`)).find((p) => existsSync(p))!;
    const file = newest; // killed mid-save, the newest save may still be the complete `next` file
    const bytes = readFileSync(file);
    flipByte(file, bytes.length - 1); // the running sum: resuming from it would change the output
    toy.takeLog();

    const again = toy.cli(args);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /slow: discarded checkpoint .*checkpoint(\.next)?\.bin: its content hashes to [0-9a-f]+, its header says [0-9a-f]+/);
    const start = toy.takeLog().find((l) => l.event === 'start')! as unknown as { from: number };
    assert.ok(start.from > 0, 'resumed from the previous (good) checkpoint, not from the start');
    const got = (await toy.status({ set: ['toy.sleepMs=1500'] })).find((s) => s.id === 'slow')!.record!.outputs.done.digest;
    assert.equal(got, expected);
  } finally {
    toy.cleanup();
  }
});

test('a checkpoint of another instance key, or in an older format, is never resumed', async () => {
  await initHashing();
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-'));
  try {
    const store = new Store(dir).init();
    const notices: string[] = [];
    await store.checkpoint('aaaa', (n) => notices.push(n)).save(new Uint8Array([1, 2, 3]));
    const other = join(store.checkpointsDir, 'bbbb');
    const { mkdirSync, copyFileSync } = await import('node:fs');
    mkdirSync(other, { recursive: true });
    copyFileSync(join(store.checkpointsDir, 'aaaa', 'checkpoint.bin'), join(other, 'checkpoint.bin'));
    assert.equal(await store.checkpoint('bbbb', (n) => notices.push(n)).load(), undefined);
    assert.match(notices[0], /belongs to instance key aaaa/);
    writeFileSync(join(other, 'checkpoint.bin'), new Uint8Array([9, 9, 9]));
    assert.equal(await store.checkpoint('bbbb', (n) => notices.push(n)).load(), undefined);
    assert.match(notices[1], /bad magic/);
    assert.deepEqual(await store.checkpoint('aaaa').load(), new Uint8Array([1, 2, 3]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("repro removes a SIGKILLed writer's temp file at start and keeps a live writer's", async () => {
  const toy = await freshToy();
  try {
    const tmp = toy.path('artifacts/tmp');
    // A writer that dies mid-write: it creates its temp file the way the store does, writes part of it, and is killed.
    const script = `import { tempName } from ${JSON.stringify(join(REPO, 'engine/fsutil.ts'))};
import { openSync, writeSync } from 'node:fs';
const fd = openSync(tempName(${JSON.stringify(tmp)}, 'object'), 'w');
writeSync(fd, Buffer.alloc(4096, 1));
console.log('written');
setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    await waitFor(() => out.includes('written'), 30_000, 'the writer to write');
    child.kill('SIGKILL');
    await exitOf(child);
    const dead = readdirSync(tmp).filter((n) => n.includes(`.${child.pid}.`));
    assert.equal(dead.length, 1, 'the killed writer left its temp file');
    const live = join(tmp, `.object.${process.pid}.abcdef.tmp`);
    writeFileSync(live, 'being written by a live process');

    const r = await toy.repro();
    assert.ok(!existsSync(join(tmp, dead[0])), 'dead writer temp file removed');
    assert.ok(existsSync(live), "a live writer's temp file is left alone");
    assert.ok(
      r.notices.some((n) => /removed 1 temp file\(s\) of dead writers/.test(n)),
      r.notices.join('\n'),
    );
  } finally {
    toy.cleanup();
  }
});

test('a full disk: the write error names the file and the free space', async (t) => {
  // A real ENOSPC, from /dev/full.
  let enospc: unknown;
  const fd = openSync('/dev/full', 'w');
  try {
    writeSync(fd, Buffer.alloc(16));
  } catch (err) {
    enospc = err;
  } finally {
    closeSync(fd);
  }
  const message = (describeWriteError(enospc, '/some/dir/objects/abc', tmpdir()) as Error).message;
  assert.match(message, /^cannot write \/some\/dir\/objects\/abc: no space left on the device \(ENOSPC\); [\d.]+ (KiB|MiB|GiB) free in /);

  // End to end on a tiny filesystem, when this machine lets an unprivileged user mount one.
  const probe = spawnSync('unshare', ['-rm', 'true']);
  if (probe.status !== 0) {
    t.skip('unshare -rm is not available here: the end-to-end full-disk check needs a user mount namespace');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'full-'));
  try {
    const script = `import { Store } from ${JSON.stringify(join(REPO, 'engine/store.ts'))};
import { initHashing } from ${JSON.stringify(join(REPO, 'engine/hash.ts'))};
await initHashing();
const store = new Store(${JSON.stringify(join(dir, 'artifacts'))}).init();
try { await store.putBytes(new Uint8Array(1 << 20).fill(3)); } catch (e) { console.log(e.name + ': ' + e.message); }`;
    const r = spawnSync(
      'unshare',
      ['-rm', 'sh', '-c', `mount -t tmpfs -o size=256k tmpfs "$0" && exec "$1" --import tsx --input-type=module -e "$2"`, dir, process.execPath, script],
      {
        cwd: REPO,
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    assert.match(
      r.stdout,
      new RegExp(
        `^WriteError: cannot write ${dir}/artifacts/objects/[0-9a-f]+: no space left on the device \\(ENOSPC\\); \\d+ KiB free in ${dir}/artifacts/tmp`,
      ),
      r.stdout + r.stderr,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
