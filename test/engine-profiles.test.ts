/**
 * Params files as profiles (issue 18): each publishes to its own folder and never touches
 * another's; the inspecting verbs describe the last repro's params file and say so on their
 * first line; gc keeps what every remembered params file uses unless --all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { Toy } from './fixtures/toy/harness.ts';

/** A second profile of the toy: one name, its own output folder. */
function addProfile(toy: Toy, file: string, out: string, names = '[a]'): void {
  toy.write(
    file,
    toy
      .read('params.yaml')
      .replace(/names: \[a, b\]/, `names: ${names}`)
      .replace(/out: out/, `out: ${out}`),
  );
}

const ledger = (toy: Toy, dir: string) => JSON.parse(readFileSync(toy.path(`${dir}/.published.json`), 'utf8'));

test('two params files published one after the other leave both folders intact, neither with stale files', () => {
  const toy = new Toy();
  try {
    addProfile(toy, 'params.small.yaml', 'out/small');
    assert.equal(toy.cli(['repro']).code, 0);
    assert.equal(toy.cli(['repro', '--params', 'params.small.yaml']).code, 0);
    // Each folder has its own report; the small one (nested in out/) is not the big one's stale file.
    assert.ok(existsSync(toy.path('out/after/b.txt')), 'the params.yaml report keeps its files');
    assert.ok(existsSync(toy.path('out/small/after/a.txt')));
    assert.ok(!existsSync(toy.path('out/small/after/b.txt')), 'names [a]: no b in its own folder');
    assert.equal(ledger(toy, 'out').params, 'params.yaml');
    assert.equal(ledger(toy, 'out/small').params, 'params.small.yaml');
    assert.ok(!ledger(toy, 'out').files.some((f: string) => f.startsWith('small/')));

    // Publishing params.yaml again removes nothing of the other folder...
    assert.equal(toy.cli(['repro']).code, 0);
    assert.ok(existsSync(toy.path('out/small/report.txt')));
    // ...and a profile whose report drops a file removes it from its own folder only.
    toy.write('params.yaml', toy.read('params.yaml').replace(/names: \[a, b\]/, 'names: [a]'));
    assert.equal(toy.cli(['repro']).code, 0);
    assert.ok(!existsSync(toy.path('out/after/b.txt')), 'stale file of its own folder removed');
    assert.ok(existsSync(toy.path('out/small/after/a.txt')));
    assert.deepEqual(ledger(toy, 'out/small').files, ['after/a.txt', 'nested/count.txt', 'report.txt']);
  } finally {
    toy.cleanup();
  }
});

test('after repro --params X, status, timings, dag and gc describe X and name it on their first line', () => {
  const toy = new Toy();
  try {
    addProfile(toy, 'params.small.yaml', 'out-small');
    const before = toy.cli(['status']);
    assert.match(before.stdout.split('\n')[0], /^params: params\.yaml \(the default; no repro has run here yet\)$/);
    assert.equal(toy.cli(['repro', '--params', 'params.small.yaml']).code, 0);

    const status = toy.cli(['status']);
    assert.equal(status.code, 0, status.stderr);
    const lines = status.stdout.trimEnd().split('\n');
    assert.equal(lines[0], "params: params.small.yaml (the last repro's; --params FILE for another)");
    assert.match(lines[lines.length - 1], /^\d+ up to date, 0 stale, 0 never run, 0 waiting on upstream \(--verbose: one line per instance\)$/);
    assert.match(status.stdout, /^source +1 +0 +0 +0$/m, 'one source instance: names [a]');
    assert.ok(lines.length < 15, 'a summary per stage, not a line per instance');
    const verbose = toy.cli(['status', '--verbose']);
    assert.match(verbose.stdout, /^up to date +source\[name=a\]$/m);

    const json = toy.cli(['status', '--json']);
    assert.equal(JSON.parse(json.stdout).filter((r: { stage: string }) => r.stage === 'source').length, 1, 'stdout stays JSON');
    assert.match(json.stderr, /^params: params\.small\.yaml/);
    for (const verb of [['timings'], ['dag'], ['gc', '-n']])
      assert.match(toy.cli(verb).stdout.split('\n')[0], /^params: params\.small\.yaml \(the last repro's/, verb.join(' '));
    // An explicit --params wins, and -S overrides are shown.
    assert.match(toy.cli(['status', '--params', 'params.yaml', '-S', 'toy.scale=3']).stdout.split('\n')[0], /^params: params\.yaml, with -S toy\.scale=3$/);
  } finally {
    toy.cleanup();
  }
});

test('gc keeps what every params file a repro used here needs, unless --all', () => {
  const toy = new Toy();
  try {
    addProfile(toy, 'params.small.yaml', 'out-small', '[c]');
    assert.equal(toy.cli(['repro']).code, 0);
    assert.equal(toy.cli(['repro', '--params', 'params.small.yaml']).code, 0);
    const keep = toy.cli(['gc', '-n']);
    assert.equal(keep.code, 0, keep.stderr);
    assert.match(keep.stdout, /gc: also keeping what params\.yaml uses \(remembered from earlier repro runs; --all to drop them\)/);
    assert.match(keep.stdout, /gc: would remove 0 run records/);
    const all = toy.cli(['gc', '-n', '--all']);
    assert.match(all.stdout, /gc: would remove [1-9]\d* run records/, '--all drops what only params.yaml uses');
    // Nothing was deleted by the dry runs: params.yaml is still up to date.
    assert.match(toy.cli(['status', '--params', 'params.yaml']).stdout, /\d+ up to date, 0 stale, 0 never run/);
    assert.equal(toy.cli(['gc']).code, 0);
    assert.match(toy.cli(['status', '--params', 'params.yaml']).stdout, / 0 stale, 0 never run, 0 waiting/);
  } finally {
    toy.cleanup();
  }
});
