/**
 * Engine acceptance checks that need real processes: SIGKILL mid-stage, two concurrent repros
 * on one cache, SIGINT, the CLI's exit codes and messages, --help on every verb, plugins.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { Toy, waitFor, exitOf } from './fixtures/toy/harness.ts';
import { buildProgram } from '../engine/cli.ts';

const started = (toy: Toy, stage: string) => () => {
  // Read without consuming: the log is only appended to while the child runs.
  return toy
    .read('../../../toy-log.jsonl')
    .split('\n')
    .some((l) => l.includes(`"stage":"${stage}"`) && l.includes('"event":"start"'));
};

test('a repro killed with SIGKILL mid-stage is completed by the next repro; verify is clean', async () => {
  const toy = new Toy();
  try {
    // A long stale timeout proves the dead holder's lock is recovered by its pid, not by age.
    const env = { NNMOD_LOCK_STALE_MS: '600000' };
    const child = toy.spawn(['repro', 'slow', '-S', 'toy.sleepMs=1500'], env);
    await waitFor(started(toy, 'slow'), 30_000, 'the slow stage to start');
    await new Promise((r) => setTimeout(r, 400)); // let it save a few checkpoints
    child.kill('SIGKILL');
    const ended = await exitOf(child);
    assert.equal(ended.signal, 'SIGKILL');
    assert.equal(readdirSync(toy.path('artifacts/runs')).length, 0, 'no run record from the killed run');
    assert.equal(readdirSync(toy.path('artifacts/locks')).filter((n) => n.endsWith('.lock')).length, 1, 'the dead process left its lock');
    toy.takeLog();

    const t0 = Date.now();
    const again = toy.cli(['repro', 'slow', '-S', 'toy.sleepMs=1500'], env);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.ok(Date.now() - t0 < 60_000);
    const log = toy.takeLog();
    const start = log.find((l) => l.event === 'start')!;
    assert.ok((start as any).from > 0, 'resumed from the checkpoint the killed run saved');
    assert.ok(log.some((l) => l.event === 'end'));
    assert.equal(readdirSync(toy.path('artifacts/checkpoints')).length, 0, 'checkpoint dropped after success');
    assert.equal(readdirSync(toy.path('artifacts/locks')).filter((n) => n.endsWith('.lock')).length, 0);

    const v = toy.cli(['verify']);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /verify: \d+ objects .* OK/);
    const st = await toy.status({ set: ['toy.sleepMs=1500'] });
    assert.equal(st.find((s) => s.id === 'slow')!.state, 'up-to-date');
  } finally {
    toy.cleanup();
  }
});

test('two concurrent repro processes on one cache compute each key once and both exit 0', async () => {
  const toy = new Toy();
  try {
    const args = ['repro', '--jobs', '2', '-S', 'toy.sleepMs=300'];
    const a = toy.spawn(args);
    const b = toy.spawn(args);
    const [ea, eb] = await Promise.all([exitOf(a), exitOf(b)]);
    assert.equal(ea.code, 0, a.out());
    assert.equal(eb.code, 0, b.out());
    const ran = toy.ranIds();
    const counts = new Map<string, number>();
    for (const id of ran) counts.set(id, (counts.get(id) ?? 0) + 1);
    const twice = [...counts].filter(([, n]) => n > 1);
    assert.deepEqual(twice, [], 'computed more than once');
    // 12 plain instances and 4 shards log a computation (combines don't log).
    assert.equal(counts.size, 16, `every unit computed once: ${[...counts.keys()].join(' ')}`);
    const v = toy.cli(['verify']);
    assert.equal(v.code, 0, v.stdout);
    const again = toy.cli(['repro', '-S', 'toy.sleepMs=300']);
    assert.match(again.stdout, /nothing to do, 14 instances up to date/);
  } finally {
    toy.cleanup();
  }
});

test('SIGINT stops the run cleanly: non-zero exit, nothing partial recorded, locks released', async () => {
  const toy = new Toy();
  try {
    const child = toy.spawn(['repro', 'slow', '-S', 'toy.sleepMs=30000']);
    await waitFor(started(toy, 'slow'), 30_000, 'the slow stage to start');
    child.kill('SIGINT');
    const ended = await Promise.race([exitOf(child), new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15_000))]);
    assert.notEqual(ended, 'timeout', 'exits promptly');
    assert.equal((ended as { code: number }).code, 130, child.out());
    assert.match(child.out(), /interrupted by SIGINT/);
    assert.doesNotMatch(child.out(), /\n\s+at /, 'no stack trace');
    assert.equal(readdirSync(toy.path('artifacts/runs')).length, 0);
    assert.equal(readdirSync(toy.path('artifacts/locks')).length, 0);
    const st = await toy.status({ set: ['toy.sleepMs=30000'] });
    assert.equal(st.find((s) => s.id === 'slow')!.state, 'never-run');
  } finally {
    toy.cleanup();
  }
});

test('CLI: --help on every verb, clean one-line errors, exit 2 for params problems with nothing run', async () => {
  const toy = new Toy();
  try {
    // --help in-process (spawning a CLI per verb is slow on a loaded machine).
    const program = buildProgram(await toy.project());
    for (const verb of ['repro', 'status', 'dag', 'gc', 'verify', 'hello']) {
      let out = '';
      for (const c of [program, ...program.commands]) c.configureOutput({ writeOut: (t) => (out += t), writeErr: (t) => (out += t) });
      await assert.rejects(program.parseAsync([verb, '--help'], { from: 'user' }), { code: 'commander.helpDisplayed' });
      assert.match(out, new RegExp(`Usage: toy-pipeline.ts ${verb}`), verb);
      assert.match(out, /--help/);
    }
    const bad = toy.cli(['repro', '-S', 'toy.scale=oops']);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /toy\.scale/);
    assert.doesNotMatch(bad.stderr, /\n\s+at /);
    assert.equal(existsSync(toy.path('artifacts/runs')) ? readdirSync(toy.path('artifacts/runs')).length : 0, 0, 'nothing ran');
    assert.deepEqual(toy.ranIds(), []);

    const unknown = toy.cli(['repro', 'sqare']);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr.trim().split('\n').length, 1, unknown.stderr);
    assert.match(unknown.stderr, /unknown stage 'sqare' \(did you mean 'square'\?\)/);

    const jobs = toy.cli(['repro', '--jobs', '0']);
    assert.equal(jobs.code, 1);
    assert.match(jobs.stderr, /--jobs must be a positive integer/);

    const dag = toy.cli(['dag', '--mermaid']);
    assert.equal(dag.code, 0, dag.stderr);
    assert.match(dag.stdout, /^flowchart TD/);
    assert.match(dag.stdout, /source --> square/);
    assert.match(dag.stdout, /square\["square ×2"\]/);
    // --params picks another file (names a, b, c) and -S applies on top (k = 1, 2, 3): 9 squares.
    toy.write('alt.yaml', toy.read('params.yaml').replace('names: [a, b]', 'names: [a, b, c]'));
    const dot = toy.cli(['dag', '--dot', '--params', 'alt.yaml', '-S', 'toy.k=[1,2,3]']);
    assert.equal(dot.code, 0, dot.stderr);
    assert.match(dot.stdout, /"parity" -> "after";/);
    assert.match(dot.stdout, /square\\n×9/);
  } finally {
    toy.cleanup();
  }
});

test('plugins add verbs and repro options; worker threads see the environment an option sets', async () => {
  const toy = new Toy();
  try {
    const hello = toy.cli(['hello']);
    assert.equal(hello.code, 0, hello.stderr);
    assert.match(hello.stdout, /hello from toy-pipeline.ts, 8 stages/);
    const r = toy.cli(['repro', 'source', '--marker', 'seen-in-worker']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const log = toy.takeLog();
    assert.equal(log.length, 2);
    assert.ok(
      log.every((l) => (l as any).marker === 'seen-in-worker'),
      JSON.stringify(log),
    );
  } finally {
    toy.cleanup();
  }
});
