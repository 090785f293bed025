/** `diff`: Welch's t-test, Benjamini–Hochberg, param/metric diffs, and the verb on a temporary git repository. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { benjaminiHochberg, welchTTest } from '../science/report/stats.ts';
import { diffParams, diffReports, formatDiff, type DiffResult } from '../science/report/diff.ts';
import { diffCommand, runDiff } from '../cli/diff.ts';
import type { PipelineProject } from '../engine/project.ts';

/** Two-sided p of Student's t with `df` degrees of freedom, by Simpson integration of the density (independent of stdlib). */
function tTwoSidedP(t: number, df: number): number {
  const lgamma = (x: number): number => {
    // Lanczos approximation (g = 7), enough for a 1e-9 check.
    const c = [
      0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
      9.9843695780195716e-6, 1.5056327351493116e-7,
    ];
    if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lgamma(1 - x);
    x -= 1;
    let a = c[0];
    const tt = x + 7.5;
    for (let i = 1; i < 9; i++) a += c[i] / (x + i);
    return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(tt) - tt + Math.log(a);
  };
  const logNorm = lgamma((df + 1) / 2) - lgamma(df / 2) - 0.5 * Math.log(df * Math.PI);
  const density = (x: number) => Math.exp(logNorm - ((df + 1) / 2) * Math.log(1 + (x * x) / df));
  // P(|T| < |t|) = 2 ∫_0^|t| f; Simpson with many panels.
  const n = 20000;
  const h = Math.abs(t) / n;
  let s = density(0) + density(Math.abs(t));
  for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * density(i * h);
  return 1 - 2 * ((s * h) / 3);
}

test('Welch t-test matches the hand-computed statistic, df and p (and scipy)', () => {
  const x = [1, 2, 3, 4, 5];
  const y = [2, 4, 6, 8, 10];
  // Hand: means 3 and 6, variances (ddof 1) 2.5 and 10; se² = 2.5/5 + 10/5 = 2.5.
  const t = -3 / Math.sqrt(2.5);
  const df = 2.5 ** 2 / (0.5 ** 2 / 4 + 2 ** 2 / 4);
  const r = welchTTest(x, y)!;
  assert.ok(Math.abs(r.t - t) < 1e-12);
  assert.ok(Math.abs(r.df - df) < 1e-12);
  assert.ok(Math.abs(r.p - tTwoSidedP(t, df)) < 1e-7, `${r.p} vs ${tTwoSidedP(t, df)}`);
  // scipy.stats.ttest_ind(x, y, equal_var=False).pvalue
  assert.ok(Math.abs(r.p - 0.10753119493062728) < 1e-9);
});

test('Welch t-test edge cases: too few runs, zero spread', () => {
  assert.equal(welchTTest([1], [1, 2]), null);
  assert.equal(welchTTest([1, 1], [1, 1])!.p, 1);
  assert.equal(welchTTest([1, 1], [2, 2])!.p, 0);
});

test('Benjamini–Hochberg adjusted p-values (scipy false_discovery_control)', () => {
  const q = benjaminiHochberg([0.01, 0.04, 0.03, 0.2]);
  const expected = [0.04, 0.04 * (4 / 3), 0.04 * (4 / 3), 0.2];
  q.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-12, `${i}: ${v}`));
  assert.deepEqual(benjaminiHochberg([]), []);
  assert.deepEqual(benjaminiHochberg([0.9, 0.95]), [0.95, 0.95]);
});

test('params diff: nested paths, old → new, added and removed keys', () => {
  const changes = diffParams({ a: { b: 1, c: [1, 2] }, d: 'x' }, { a: { b: 2, c: [1, 2] }, e: true });
  assert.deepEqual(changes, [
    { path: 'a.b', old: 1, new: 2 },
    { path: 'd', old: 'x', new: undefined },
    { path: 'e', old: undefined, new: true },
  ]);
});

test('metrics diff: deltas, Welch p only with replicates, BH per table, within-noise marks', () => {
  const a = {
    label: 'A',
    params: {},
    metrics: {
      't1/x/ncut': { table: 't1', value: 2.0, runs: [1.9, 2.0, 2.1] },
      't1/y/ncut': { table: 't1', value: 1.0, runs: [1.0, 1.0, 1.0] },
      't1/x/sd': { table: 't1', value: 0.1 },
      't2/gone': { table: 't2', value: 5 },
      't2/same': { table: 't2', value: 7, runs: [6, 8] },
    },
  };
  const b = {
    label: 'B',
    params: {},
    metrics: {
      't1/x/ncut': { table: 't1', value: 2.2, runs: [2.0, 2.2, 2.4] },
      't1/y/ncut': { table: 't1', value: 3.0, runs: [3.0, 3.0, 3.0] },
      't1/x/sd': { table: 't1', value: 0.2 },
      't2/new': { table: 't2', value: 1 },
      't2/same': { table: 't2', value: 7, runs: [6, 8] },
    },
  };
  const r = diffReports(a, b, { alpha: 0.05 });
  const by = Object.fromEntries(r.metrics.map((m) => [m.name, m]));
  assert.equal(r.unchanged, 1);
  assert.equal(Object.keys(by).length, 5);
  assert.ok(Math.abs(by['t1/x/ncut'].delta! - 0.2) < 1e-12);
  // scipy.stats.ttest_ind([1.9,2.0,2.1],[2.0,2.2,2.4], equal_var=False).pvalue
  assert.ok(Math.abs(by['t1/x/ncut'].p! - 0.2208808404940963) < 1e-9);
  assert.equal(by['t1/y/ncut'].p, 0);
  // Family t1 has two tested metrics: q = p·2/rank.
  assert.ok(Math.abs(by['t1/x/ncut'].q! - Math.min(1, 0.2208808404940963)) < 1e-9);
  assert.equal(by['t1/x/ncut'].withinNoise, true);
  assert.equal(by['t1/y/ncut'].withinNoise, false);
  assert.equal(by['t1/x/sd'].p, null);
  assert.equal(by['t1/x/sd'].withinNoise, null);
  assert.equal(by['t2/gone'].status, 'removed');
  assert.equal(by['t2/new'].status, 'added');
  assert.equal(by['t2/new'].delta, null);
  const text = formatDiff(r, 'text');
  assert.match(text, /t1\/x\/ncut\s+2\.0000\s+2\.2000\s+\+0\.2000\s+0\.2209\s+within noise/);
  assert.match(formatDiff(r, 'md'), /\| t1\/y\/ncut +\| 1\.0000 +\| 3\.0000 +\| \+2\.0000 +\| 0 +\| significant/);
  assert.deepEqual((JSON.parse(formatDiff(r, 'json')) as DiffResult).metrics.length, 5);
});

// ------------------------------------------------------------ the verb, on a temporary git repo

function makeRepo(): { dir: string; git: (...args: string[]) => string } {
  const dir = mkdtempSync(join(tmpdir(), 'report-diff-'));
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: 't',
    GIT_AUTHOR_EMAIL: 't@example.com',
    GIT_COMMITTER_NAME: 't',
    GIT_COMMITTER_EMAIL: 't@example.com',
    GIT_CONFIG_NOSYSTEM: '1',
    HOME: dir,
  };
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, env, encoding: 'utf8' });
  git('init', '-q', '-b', 'main');
  return { dir, git };
}

function writeReport(dir: string, params: string, metrics: Record<string, unknown> | null) {
  writeFileSync(join(dir, 'params.yaml'), params);
  if (metrics) {
    mkdirSync(join(dir, 'reports'), { recursive: true });
    writeFileSync(join(dir, 'reports', 'metrics.json'), JSON.stringify(metrics));
  }
}

test('diff verb in a git repo: params and metrics between two commits, working tree, missing reports', async (t) => {
  const { dir, git } = makeRepo();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeReport(dir, 'train:\n  epochs: 20\n', null);
  git('add', '-A');
  git('commit', '-q', '-m', 'no reports yet');
  writeReport(dir, 'train:\n  epochs: 20\nreport:\n  alpha: 0.05\n', {
    'table-1/mnist/ncut': { table: 'table-1', value: 3, runs: [1, 2, 3, 4, 5] },
    'table-1/mnist/ncut_sd': { table: 'table-1', value: 1.58 },
  });
  git('add', '-A');
  git('commit', '-q', '-m', 'first report');
  writeReport(dir, 'train:\n  epochs: 30\nreport:\n  alpha: 0.05\n', {
    'table-1/mnist/ncut': { table: 'table-1', value: 6, runs: [2, 4, 6, 8, 10] },
    'table-1/mnist/ncut_sd': { table: 'table-1', value: 3.16 },
  });
  git('add', '-A');
  git('commit', '-q', '-m', 'second report');

  const json = JSON.parse(await runDiff({ root: dir, paramsFile: 'params.yaml', revA: 'HEAD~1', revB: 'HEAD', format: 'json' })) as DiffResult;
  assert.deepEqual(json.params, [{ path: 'train.epochs', old: 20, new: 30 }]);
  const ncut = json.metrics.find((m) => m.name === 'table-1/mnist/ncut')!;
  assert.equal(ncut.old, 3);
  assert.equal(ncut.new, 6);
  assert.equal(ncut.delta, 3);
  assert.ok(Math.abs(ncut.p! - 0.10753119493062728) < 1e-9);
  assert.equal(ncut.withinNoise, true);
  const sd = json.metrics.find((m) => m.name === 'table-1/mnist/ncut_sd')!;
  assert.ok(Math.abs(sd.delta! - 1.58) < 1e-12);

  // Default: HEAD vs the working tree (clean → nothing changed).
  const clean = await runDiff({ root: dir, paramsFile: 'params.yaml', format: 'text' });
  assert.match(clean, /no params changed/);
  assert.match(clean, /no metrics changed/);
  writeReport(dir, 'train:\n  epochs: 40\nreport:\n  alpha: 0.05\n', {
    'table-1/mnist/ncut': { table: 'table-1', value: 6.5, runs: [2, 4, 6, 8, 12] },
    'table-1/mnist/ncut_sd': { table: 'table-1', value: 3.16 },
  });
  const dirty = await runDiff({ root: dir, paramsFile: 'params.yaml', format: 'md' });
  assert.match(
    dirty,
    /`HEAD: reports\/ from params\.yaml, assumed: reports\/\.published\.json records none` → `working tree: reports\/ from params\.yaml, assumed/,
  );
  assert.match(dirty, /\| `train\.epochs` \| `30` +\| `40` +\|/);
  assert.match(dirty, /table-1\/mnist\/ncut +\| 6\.0000 \| 6\.5000 \| \+0\.5000/);

  // An older revision without reports: every metric of the newer one is listed as added.
  const added = JSON.parse(await runDiff({ root: dir, paramsFile: 'params.yaml', revA: 'HEAD~2', revB: 'HEAD', format: 'json' }));
  assert.match(added.a, /HEAD~2 \(no reports in reports\/\)/);
  assert.ok(added.metrics.length > 0, 'every metric of HEAD is new');
  assert.ok(
    added.metrics.every((m: { old?: unknown }) => m.old === null || m.old === undefined),
    'added metrics have no old value',
  );
  // A newer revision without reports is an error (nothing to compare), and so is a revision that does not exist.
  await assert.rejects(runDiff({ root: dir, paramsFile: 'params.yaml', revA: 'HEAD', revB: 'HEAD~2', format: 'text' }), (e: Error & { exitCode?: number }) => {
    assert.match(e.message, /revision HEAD~2 has no reports\/metrics\.json/);
    assert.match(e.message, /repro report/);
    assert.equal(e.exitCode, 1);
    return true;
  });
  await assert.rejects(runDiff({ root: dir, paramsFile: 'params.yaml', revA: 'nope', format: 'text' }), /'nope' is not a commit/);

  // Through the CommandPlugin, as `pipeline.ts diff HEAD~1 HEAD --json` runs it.
  const program = new Command().exitOverride();
  diffCommand(program, { name: 'pipeline.ts', root: dir, paramsFile: 'params.yaml', stages: [] } as unknown as PipelineProject);
  let out = '';
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string) => ((out += chunk), true)) as typeof process.stdout.write;
  try {
    await program.parseAsync(['diff', 'HEAD~1', 'HEAD', '--json'], { from: 'user' });
  } finally {
    process.stdout.write = write;
  }
  assert.equal((JSON.parse(out) as DiffResult).metrics.length, 2);
});

test('diff compares each report with the params file recorded in its folder: a quick report against the full one names both', async (t) => {
  const { dir, git } = makeRepo();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const publish = (folder: string, params: string, metrics: Record<string, unknown>) => {
    mkdirSync(join(dir, folder), { recursive: true });
    writeFileSync(join(dir, folder, 'metrics.json'), JSON.stringify(metrics));
    writeFileSync(join(dir, folder, '.published.json'), JSON.stringify({ params, overrides: [], stage: 'report', output: 'files', files: ['metrics.json'] }));
  };
  writeFileSync(join(dir, 'params.yaml'), 'train:\n  runs: 10\n');
  writeFileSync(join(dir, 'params.full.yaml'), 'train:\n  runs: 5\n  datasets: [mnist, fashion]\n');
  writeFileSync(join(dir, 'params.quick.yaml'), 'train:\n  runs: 1\n  datasets: [mnist]\n');
  publish('reports', 'params.full.yaml', { 'table-1/mnist/ncut': { table: 'table-1', value: 2.0 } });
  publish('reports/quick', 'params.quick.yaml', { 'table-1/mnist/ncut': { table: 'table-1', value: 1.9 } });
  git('add', '-A');
  git('commit', '-q', '-m', 'two reports');

  // Each folder against itself: its own params file, unchanged.
  const same = await runDiff({ root: dir, paramsFile: 'params.yaml', reportDir: 'reports/quick', format: 'text' });
  assert.match(same, /HEAD: reports\/quick\/ from params\.quick\.yaml/);
  assert.match(same, /no params changed/);
  assert.match(same, /no metrics changed/);

  // The quick report against the full one: both params files named, their differences listed.
  const r = JSON.parse(
    await runDiff({ root: dir, paramsFile: 'params.yaml', reportDir: 'reports/quick', againstDir: 'reports', format: 'json' }),
  ) as DiffResult;
  assert.equal(r.a, 'HEAD: reports/ from params.full.yaml');
  assert.equal(r.b, 'working tree: reports/quick/ from params.quick.yaml');
  assert.deepEqual(r.params, [
    { path: 'train.datasets', old: ['mnist', 'fashion'], new: ['mnist'] },
    { path: 'train.runs', old: 5, new: 1 },
  ]);
  assert.equal(r.metrics.find((m) => m.name === 'table-1/mnist/ncut')!.delta!.toFixed(2), '-0.10');
  // A folder with no report yet (params.yaml's, before it ran): the message offers the folders that have one.
  await assert.rejects(
    runDiff({ root: dir, paramsFile: 'params.yaml', reportDir: 'reports/paper', format: 'text' }),
    /no reports\/paper\/metrics\.json.*Report folders here: reports \(params\.full\.yaml\), reports\/quick \(params\.quick\.yaml\); choose one with --report DIR/,
  );
});
