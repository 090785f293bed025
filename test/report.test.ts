/** The report: tables with the paper column, missing parts, figures as valid SVG with specs, metrics.json, determinism, the stage. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tableFromArrays } from 'apache-arrow';
import {
  buildReport,
  DEFAULT_REPORT_OPTIONS,
  type MetricsMap,
  type NetworkRecord,
  type ReportInput,
  type ReportOptions,
  type ShuffleSummary,
} from '../science/report/index.ts';
import { renderSvg, stableSvgIds } from '../science/report/figures.ts';
import { histogram, gaussianKde, pooledMoments } from '../science/report/stats.ts';
import { gatherRecords, reportStage, reportStageFor } from '../stages/report.ts';
import { curveTable } from '../science/cluster/learning-curve.ts';
import type { InputArtifact, InputInstance, RunContext, StageDef } from '../engine/types.ts';
import { paramPaths } from '../engine/graph.ts';
import { syntheticInput, syntheticLesion, syntheticNetworks } from './report-synthetic.ts';
import type { LesionRecord } from '../science/report/records.ts';

const O = DEFAULT_REPORT_OPTIONS;
const provenance = { commit: 'c0ffee', commitDate: '2024-01-01T00:00:00Z', paramsDigest: 'p', inputs: [], backends: [] };

function summary(mean: number, sd: number, significant: boolean, samples?: number[]): ShuffleSummary {
  return {
    n: 10,
    mean,
    sd,
    z: 0,
    p: significant ? 1 / 11 : 0.5,
    significant,
    min: mean - 1,
    max: mean + 1,
    ...(samples ? { samples: Float64Array.from(samples) } : {}),
  };
}

function net(run: number, ncut: number, extra: Partial<NetworkRecord> = {}): NetworkRecord {
  return { dataset: 'mnist', dropout: false, run, phase: 'pruned', k: 4, trainAcc: null, testAcc: null, ncut, shuffles: {}, ...extra };
}

/** Rows of a Markdown table by the text of their first cells. */
function rowsOf(md: string): string[][] {
  return md
    .split('\n')
    .filter((l) => l.startsWith('| ') && !/^\| -/.test(l))
    .map((l) =>
      l
        .slice(2, -2)
        .split(' | ')
        .map((c) => c.trim()),
    );
}

test('Table 1 from synthetic runs: our numbers, the paper column, missing conditions marked', async () => {
  const networks = [
    net(0, 1.9, { trainAcc: 0.99, testAcc: 0.98, shuffles: { layer: summary(2.0, 0.01, true) } }),
    net(1, 2.0, { trainAcc: 0.98, testAcc: 0.97, shuffles: { layer: summary(2.1, 0.01, false) } }),
    net(2, 2.1, { trainAcc: 0.97, testAcc: 0.96, shuffles: { layer: summary(2.2, 0.01, true) } }),
  ];
  const r = await buildReport({ networks, lesions: [], provenance }, { ...O, figures: [] });
  const rows = rowsOf(r.files['tables/table-1.md']);
  assert.deepEqual(rows[0], [
    'Dataset',
    'Dropout',
    'Runs',
    'Prop. sig.',
    'paper',
    'Train acc.',
    'paper',
    'Test acc.',
    'paper',
    'N-cuts',
    'paper',
    'Dist. n-cuts',
    'paper',
  ]);
  // Pooled shuffle sd by hand: within-network variance 1e-4, between-network (ddof 0) variance 0.02/3.
  const pooledSd = Math.sqrt(1e-4 + 0.02 / 3).toFixed(3);
  assert.deepEqual(rows[1], [
    'MNIST',
    '×',
    '3',
    '0.67',
    '0.7',
    '0.980',
    '1.000',
    '0.970',
    '0.984',
    '2.000 ± 0.100',
    '2.000 ± 0.035',
    `2.100 ± ${pooledSd}`,
    '2.042 ± 0.017',
  ]);
  // The other five conditions have no runs: ours "missing", the paper's values still printed.
  assert.deepEqual(rows[2].slice(0, 5), ['MNIST', '✓', '0', 'missing', '1.0']);
  assert.equal(rows.length, 7);
  assert.match(r.files['tables/table-1.md'], /\*\*Missing:\*\* MNIST \+ dropout: no pruned networks clustered at k = 4/);
  assert.match(r.files['README.md'], /- table-1: Fashion: no pruned networks clustered at k = 4/);
  const metrics = JSON.parse(r.files['metrics.json']) as MetricsMap;
  assert.deepEqual(metrics['table-1/mnist/ncut'], { table: 'table-1', value: 2.0, runs: [1.9, 2.0, 2.1], paper: 2.0 });
  assert.deepEqual(metrics['table-1/mnist/prop_sig'].runs, [1, 0, 1]);
  assert.equal(metrics['table-1/mnist+dropout/ncut'].value, null);
  // The layer_nonzero twin exists and says its paper values come from the reference notes.
  assert.match(r.files['tables/table-1-nonzero.md'], /original-implementation\.md §11\.1/);
});

test("per-network table: Cohen's d from the two shuffle samples, p-values and the paper row beside ours", async () => {
  const networks = [net(0, 2.05, { shuffles: { layer: summary(2.0, 0.8165, false, [1, 2, 3]), layer_nonzero: summary(3.0, 0.8165, false, [2, 3, 4]) } })];
  const r = await buildReport({ networks, lesions: [], provenance }, { ...O, figures: [], tables: ['per_network'] });
  const rows = rowsOf(r.files['tables/table-A6.md']);
  // Hand: means 2 and 3, both variances (ddof 1) 1 → pooled sd 1 → d = −1. The paper's run 0 of Table A.6: 2.073, 0.938, …, −2.678.
  assert.deepEqual(rows[1], [
    '0',
    '2.050',
    '2.073',
    '0.500',
    '0.938',
    '2.000 ± 0.817',
    '2.050 ± 0.012',
    '0.500',
    '0.097',
    '3.000 ± 0.817',
    '2.094 ± 0.020',
    '-1.000',
    '-2.678',
  ]);
  assert.equal(rows[2][1], 'missing');
  assert.equal(rows.at(-1)![0], 'mean');
  assert.ok(!r.files['tables/table-1.md'], 'only the requested table group is rendered');
  assert.ok(r.missing.some((m) => m.startsWith('table-A4: MNIST, unpruned')));
});

test('lesion tables: categories and conditional dependencies against the paper; δ as accuracy lost', async () => {
  const r = await buildReport(
    { networks: [], lesions: [syntheticLesion()], provenance },
    { ...O, figures: [], tables: ['lesion_single', 'lesion_dependencies'] },
  );
  const single = rowsOf(r.files['tables/table-A18.md']);
  assert.deepEqual(single[1], ['1', '0', '60', '-0.0500', '0.0099', '0.250', 'important', '-0.0020 ± 0.0010']);
  const counts = Object.fromEntries(
    rowsOf(r.files['tables/table-A18.md'])
      .filter((x) => x.length === 3)
      .map((x) => [x[0], x.slice(1)]),
  );
  assert.deepEqual(counts['important'], ['3', '9']);
  assert.deepEqual(counts['small'], ['1', '6']);
  const deps = rowsOf(r.files['tables/table-A19.md']);
  // Important: 1-0, 2-2, 4-9; the synthetic rule makes X|Y important iff X is earlier, δ = 0.03 then.
  assert.deepEqual(deps[1], ['1-0', '2-2', '✓', '×', '+0.030', '+0.002']);
  assert.equal(deps.filter((d) => d.length === 6 && /^\d-\d$/.test(d[0])).length, 3 + 28);
  const metrics = JSON.parse(r.files['metrics.json']) as MetricsMap;
  assert.deepEqual(metrics['table-A19/pattern/YN'], { table: 'table-A19', value: 3, paper: 9 });
  assert.deepEqual(
    ['YY', 'NY', 'NN'].map((p) => metrics[`table-A19/pattern/${p}`].paper),
    [11, 5, 3],
  );
  assert.deepEqual(metrics['table-A18/category/important'], { table: 'table-A18', value: 3, paper: 9 });
});

test('missing inputs: every table still renders with the paper column and README lists what is missing', async () => {
  const r = await buildReport({ networks: [], lesions: [], provenance }, O);
  for (const id of [
    'table-1',
    'table-2',
    'table-3',
    'table-4',
    'table-A1',
    'table-A2',
    'table-A3',
    'table-A4',
    'table-A15',
    'table-A16',
    'table-A17',
    'table-A18',
    'table-A19',
  ]) {
    assert.ok(r.files[`tables/${id}.md`], id);
    assert.match(r.files[`tables/${id}.md`], /missing/, id);
  }
  assert.match(r.files['tables/table-A16.md'], /\| LINES-MNIST-SEP +\| 0 +\| missing +\| 1\.842 ± 0\.046/);
  const readme = r.files['README.md'];
  for (const f of ['fig-2', 'fig-3', 'fig-4', 'fig-A1', 'fig-A2', 'fig-5', 'fig-6a', 'fig-6b']) assert.match(readme, new RegExp(`- ${f}: `), f);
  assert.ok(!Object.keys(r.files).some((f) => f.endsWith('.svg')), 'no figure without data');
});

/** Minimal XML well-formedness check: balanced tags, quoted attributes, one root element. */
function parseXml(xml: string): { root: string; elements: Map<string, number> } {
  const stack: string[] = [];
  const elements = new Map<string, number>();
  let root = '';
  const re = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"]*")*)\s*(\/?)>|<!--[\s\S]*?-->|<\?[\s\S]*?\?>/g;
  let last = 0;
  for (let m; (m = re.exec(xml)); ) {
    const between = xml.slice(last, m.index);
    assert.ok(!/[<>]/.test(between), `stray markup near ${JSON.stringify(between.slice(0, 60))}`);
    last = re.lastIndex;
    if (!m[2]) continue;
    const [, close, name, , selfClose] = m;
    if (close) {
      assert.equal(stack.pop(), name, `unbalanced </${name}>`);
    } else {
      if (!stack.length) {
        assert.equal(root, '', 'more than one root element');
        root = name;
      }
      elements.set(name, (elements.get(name) ?? 0) + 1);
      if (!selfClose) stack.push(name);
    }
  }
  assert.ok(!/[<>]/.test(xml.slice(last)), 'trailing markup');
  assert.equal(stack.length, 0, `unclosed: ${stack.join(', ')}`);
  return { root, elements };
}

test('every figure renders to valid SVG from synthetic inputs, with its Vega-Lite spec saved', async () => {
  const input = syntheticInput({ runs: 3, samples: 24, initNetworks: 20 });
  const r = await buildReport(input, O);
  const ids = ['fig-2', 'fig-3', 'fig-4', 'fig-A1', 'fig-A2', 'fig-A3', 'fig-A4', 'fig-A5', 'fig-5', 'fig-6a', 'fig-6b'];
  for (const id of ids) {
    const svg = r.files[`figures/${id}.svg`];
    assert.ok(svg, `${id}.svg`);
    const { root, elements } = parseXml(svg);
    assert.equal(root, 'svg', id);
    assert.ok((elements.get('path') ?? 0) + (elements.get('line') ?? 0) > 5, `${id} draws marks`);
    const spec = JSON.parse(r.files[`figures/${id}.vl.json`]);
    assert.match(spec.$schema, /vega-lite\/v6/);
    assert.ok(Array.isArray(spec.data.values) && spec.data.values.length > 0, `${id} data inline`);
    // The saved spec re-renders to the same SVG.
    assert.equal(await renderSvg(spec), svg, `${id} spec reproduces the SVG`);
  }
  assert.match(r.files['README.md'], /\[svg\]\(figures\/fig-6b\.svg\)/);
  const metrics = JSON.parse(r.files['metrics.json']) as MetricsMap;
  assert.equal(metrics['fig-3/init/ncut'].runs!.length, 20);
  assert.equal(metrics['fig-A1/mnist/pruned_cohen_d'].runs!.length, 3);
});

test('determinism: same input → same bytes; a colour change touches only figures', async () => {
  const input = syntheticInput({ runs: 2, samples: 16, initNetworks: 5 });
  const a = await buildReport(input, O);
  const b = await buildReport(input, O);
  assert.deepEqual(a.files, b.files);
  const recoloured: ReportOptions = { ...O, colors: { ...O.colors, layer: '#123456' } };
  const c = await buildReport(input, recoloured);
  const changed = Object.keys(a.files).filter((f) => a.files[f] !== c.files[f]);
  assert.ok(changed.length > 0);
  assert.ok(
    changed.every((f) => f.startsWith('figures/')),
    changed.join(', '),
  );
  assert.ok(c.files['figures/fig-4.vl.json'].includes('#123456'));
});

test('vega gradient/clip ids are renumbered per document', () => {
  const svg = '<svg><defs><linearGradient id="gradient_7"/></defs><path fill="url(#gradient_7)"/><g clip-path="url(#clip12)"><clipPath id="clip12"/></g></svg>';
  assert.equal(
    stableSvgIds(svg),
    '<svg><defs><linearGradient id="gradient_0"/></defs><path fill="url(#gradient_0)"/><g clip-path="url(#clip0)"><clipPath id="clip0"/></g></svg>',
  );
});

test('helpers: pooled moments equal those of the concatenated samples; histogram and KDE integrate to 1', () => {
  const xs = [1, 2, 3, 4];
  const ys = [10, 12];
  const m = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
  const sd0 = (a: number[]) => Math.sqrt(m(a.map((x) => (x - m(a)) ** 2)));
  const p = pooledMoments([
    { n: 4, mean: m(xs), sd: sd0(xs) },
    { n: 2, mean: m(ys), sd: sd0(ys) },
  ]);
  assert.ok(Math.abs(p.mean - m([...xs, ...ys])) < 1e-12);
  assert.ok(Math.abs(p.sd - sd0([...xs, ...ys])) < 1e-12);
  const samples = syntheticNetworks({ runs: 1, datasets: ['mnist'], dropouts: [false], phases: ['pruned'], samples: 300 })[0].shuffles.layer!.samples!;
  const h = histogram(samples);
  assert.equal(
    h.reduce((s, b) => s + b.count, 0),
    300,
  );
  assert.ok(Math.abs(h.reduce((s, b) => s + b.density * (b.end - b.start), 0) - 1) < 1e-9);
  const k = gaussianKde(samples, 400);
  const step = k[1].x - k[0].x;
  assert.ok(Math.abs(k.reduce((s, q) => s + q.density * step, 0) - 1) < 0.01);
});

// ------------------------------------------------------------ the stage

function artifact(table: ReturnType<typeof tableFromArrays>, digest: string): InputArtifact {
  return { kind: 'arrow', digest: digest as InputArtifact['digest'], table: async () => table, bytes: async () => new Uint8Array(), files: async () => ({}) };
}

test('stage: gathers export/cluster/shuffle-sample/lesion instances and publishes the report files', async () => {
  const inputs: Record<string, InputInstance[]> = { export: [], cluster: [], 'shuffle-sample': [], lesion: [] };
  for (const run of [0, 1]) {
    const axes = { dataset: 'mnist', dropout: false, run, phase: 'pruned' };
    inputs.export.push({ stage: 'export', axes, outputs: {}, metrics: { train_accuracy: 0.99, test_accuracy: 0.98 - run / 100, backend: 'wasm' } });
    inputs.cluster.push({ stage: 'cluster', axes: { ...axes, k: 4 }, outputs: {}, metrics: { ncut: 1.9 + run / 10, k: 4 } });
    for (const method of ['layer', 'layer_nonzero']) {
      const samples = tableFromArrays({
        sample: Int32Array.from([0, 1, 2]),
        ncut: Float64Array.from([2, 2.1, 2.2].map((x) => x + (method === 'layer' ? 0 : 0.5))),
      });
      inputs['shuffle-sample'].push({
        stage: 'shuffle-sample',
        axes: { ...axes, k: 4, method },
        outputs: { samples: artifact(samples, `d${run}${method}`) },
        metrics: { ncut: 1.9, mean: 2.1, sd: 0.08, z: -2, p: 0.25, n: 3, significant: run === 0, min: 2, max: 2.2 },
      });
    }
  }
  const single = tableFromArrays({
    layer: Int32Array.from([1, 2]),
    cluster: Int32Array.from([0, 3]),
    size: Int32Array.from([50, 60]),
    proportion: Float64Array.from([0.2, 0.25]),
    true_acc: Float64Array.from([0.8, 0.84]),
    diff: Float64Array.from([-0.05, -0.01]),
    mean: Float64Array.from([0.849, 0.849]),
    sd: Float64Array.from([0.001, 0.001]),
    z: Float64Array.from([-49, -9]),
    p: Float64Array.from([1 / 101, 1 / 101]),
    category: ['important', 'important'],
  });
  inputs.lesion.push({
    stage: 'lesion',
    axes: { dataset: 'fashion', dropout: true, run: 0 },
    outputs: { single: artifact(single, 's') },
    metrics: { intact_accuracy: 0.85 },
  });
  const curve = curveTable.toTable([
    { phase: 'unpruned', epoch: 5, epochTotal: 5, ncut: 2.47, testAccuracy: 0.97, sparsity: 0 },
    { phase: 'pruned', epoch: 5, epochTotal: 25, ncut: 2.2, testAccuracy: 0.98, sparsity: 0.6 },
  ]);
  inputs['learning-curve'] = [
    { stage: 'learning-curve', axes: { dataset: 'mnist', dropout: false, run: 0 }, outputs: { curve: artifact(curve, 'c') }, metrics: { k: 4 } },
  ];

  const g = await gatherRecords(inputs, O);
  assert.deepEqual(
    g.curves.map((c) => [c.dataset, c.k, c.points.map((p) => p.epochTotal)]),
    [['mnist', 4, [5, 25]]],
  );
  assert.equal(g.drawn, null, 'no pruned fashion + dropout network: Figure 1 is missing');
  assert.equal(g.networks.length, 2);
  const n1 = g.networks.find((n) => n.run === 1)!;
  assert.equal(n1.testAcc, 0.97);
  assert.equal(n1.shuffles.layer_nonzero!.samples!.length, 3);
  assert.equal(n1.shuffles.layer!.significant, false);
  assert.deepEqual(g.backends, ['wasm']);
  assert.equal(g.lesions[0].intactAccuracy, 0.85);
  assert.equal(g.lesions[0].single![1].cluster, 3);

  const ctx = {
    stage: 'report',
    key: 'k',
    axes: {},
    params: { report: O },
    inputs,
    runtime: { commit: 'abc123', commit_date: '2024-05-06T07:08:09Z' },
    seed: 1,
    progress: () => {},
  } as unknown as RunContext<{ report: ReportOptions }>;
  const res = await reportStage.run(ctx);
  const files = res.outputs.files as { kind: 'files'; files: Record<string, string> };
  assert.equal(files.kind, 'files');
  // Each params file publishes to its own report.dir.
  const publishTo = reportStage.publish!.files as (p: unknown) => string;
  assert.equal(publishTo({ report: { ...O, dir: 'reports/quick' } }), 'reports/quick');
  assert.match(files.files['README.md'], /\| Commit \(newest change outside reports\/\) \| abc123 +\|/);
  assert.match(files.files['README.md'], /\| shuffle-sample \| 4 +\| [0-9a-f]{16} \|/);
  assert.match(files.files['tables/table-1.md'], /\| MNIST +\| × +\| 2 +\| 0\.50 +\| 0\.7 /);
  assert.match(files.files['tables/table-A18.md'], /\| 1 +\| 0 +\| 50 +\| -0\.0500 +\|/);
  const again = await reportStage.run(ctx);
  assert.deepEqual((again.outputs.files as typeof files).files, files.files, 'same inputs → same bytes');
  assert.equal(res.metrics!.tables, 8 + 3 + 12 + 2 + 2 + 1);
  // The learning curve with the original code's values beside ours (MNIST, epochs 5 and 25: 2.4757, 2.1881).
  assert.match(files.files['tables/table-learning-curves.md'], /\| MNIST +\| 0 +\| training +\| 5 +\| 0\.970 +\| 2\.470 +\| 2\.476 +\|/);
  assert.match(files.files['tables/table-learning-curves.md'], /\| MNIST +\| 0 +\| pruning +\| 25 +\| 0\.980 +\| 2\.200 +\| 2\.188 +\|/);
  assert.ok(files.files['figures/fig-learning-curves.svg'].startsWith('<svg'));
  assert.match(files.files['README.md'], /fig-1: pruned Fashion \+ dropout, run 0 clustered at k = 4/);
});

test('reportStageFor: deps are the report sources and lesion stages that exist', () => {
  const stub = (name: string, outputs: string[]) => ({ name, outputs }) as unknown as StageDef;
  const s = reportStageFor([
    stub('datasets', ['table']),
    stub('export', ['weights']),
    stub('cluster', ['labels']),
    stub('lesion-double', ['double_joint', 'double_conditional']),
  ]);
  assert.deepEqual(s.deps, ['export', 'cluster', 'lesion-double']);
  assert.deepEqual(paramPaths(s, { report: { main_k: 4 } }), ['report']);
});

void ({} as ReportInput);

test('paper data: the per-network tables (A.6–A.15, pruned) agree with Table 1 — a transcription check', async () => {
  const { PAPER_CLUSTERABILITY, PAPER_PER_NETWORK } = await import('../science/report/paper.ts');
  for (const t of PAPER_PER_NETWORK.filter((p) => p.phase === 'pruned')) {
    const row = PAPER_CLUSTERABILITY[4].rows.find((r) => r.dataset === t.dataset && r.dropout === t.dropout)!;
    const ncuts = t.rows.map((r) => r[1]);
    const m = ncuts.reduce((a, b) => a + b, 0) / ncuts.length;
    const sd1 = Math.sqrt(ncuts.reduce((a, b) => a + (b - m) ** 2, 0) / (ncuts.length - 1));
    assert.ok(Math.abs(m - row.ncut![0]) < 0.0015, `${t.source} mean ${m} vs ${row.ncut![0]}`);
    assert.ok(Math.abs(sd1 - row.ncut![1]) < 0.006, `${t.source} sd ${sd1} vs ${row.ncut![1]}`);
    assert.equal(t.rows.filter((r) => r[2] < 1 / 320).length / 10, row.propSig, `${t.source} significant`);
    assert.deepEqual(
      t.rows.map((r) => r[0]),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
  }
});

test('params.yaml `report:` validates against the schema and equals the science defaults', async () => {
  const { readFileSync } = await import('node:fs');
  const { parse } = await import('yaml');
  const { reportParams } = await import('../stages/params/report.ts');
  const section = (parse(readFileSync(new URL('../params.yaml', import.meta.url), 'utf8')) as { report: unknown }).report;
  // `dir` is where the engine publishes the report; the science never sees it.
  const { dir, ...science } = reportParams.parse(section) as { dir: string };
  assert.equal(dir, 'reports/paper');
  assert.deepEqual(JSON.parse(JSON.stringify(science)), JSON.parse(JSON.stringify(O)));
  assert.throws(() => reportParams.parse({ ...(section as object), alpha: 2 }));
  assert.throws(() => reportParams.parse({ ...(section as object), dir: '../elsewhere' }), /"dir"/);
});

test('provenance commit: the newest commit outside reports/, "unknown" outside git', async (t) => {
  const { execFileSync } = await import('node:child_process');
  const { mkdtempSync, mkdirSync, rmSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { gitCommit } = await import('../engine/provenance.ts');
  const gitProvenance = (root: string) => gitCommit(root, ['reports']);
  const dir = mkdtempSync(join(tmpdir(), 'report-prov-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.deepEqual(await gitProvenance(dir), { commit: 'unknown', commit_date: 'unknown' });
  const env = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e', HOME: dir };
  const git = (...a: string[]) => execFileSync('git', a, { cwd: dir, env, encoding: 'utf8' }).trim();
  git('init', '-q');
  writeFileSync(join(dir, 'params.yaml'), 'a: 1\n');
  git('add', '-A');
  git('commit', '-q', '-m', 'code');
  const code = git('rev-parse', 'HEAD');
  mkdirSync(join(dir, 'reports'));
  writeFileSync(join(dir, 'reports', 'README.md'), 'x\n');
  git('add', '-A');
  git('commit', '-q', '-m', 'reports');
  const p = await gitProvenance(dir);
  assert.equal(p.commit, code);
  assert.match(p.commit_date, /^\d{4}-\d\d-\d\dT/);
});

test('figure 6b: an arrowhead at the later end of every edge, turned along it; full legend labels; nodes inside the frame', async () => {
  const { figure6b } = await import('../science/report/figures.ts');
  const single = [
    [1, 0],
    [1, 1],
    [2, 3],
    [3, 2],
  ].map(([layer, cluster]) => ({ layer, cluster, category: 'important' }));
  const edges = [
    { fromLayer: 1, fromCluster: 0, toLayer: 2, toCluster: 3, kind: 'from-unimportant-given-to' },
    { fromLayer: 2, fromCluster: 3, toLayer: 3, toCluster: 2, kind: 'both' },
  ];
  const fig = figure6b(
    { dataset: 'fashion', dropout: true, run: 0, intactAccuracy: 0.9, single, joint: null, conditional: null, edges } as unknown as LesionRecord,
    DEFAULT_REPORT_OPTIONS,
  );
  const spec = fig.spec as {
    data: { values: Record<string, number | string>[] };
    layer: { mark: { shape?: string }; encoding: { color?: { legend?: { labelLimit?: number } | null }; y?: { scale?: { domain?: number[] } } } }[];
  };
  const rows = spec.data.values;
  const arrows = rows.filter((r) => r.kind === 'arrow');
  assert.equal(arrows.length, edges.length);
  // 2-3 → 3-2: both in slot 0, so the arrow points right (90°) and stops short of 3-2's centre.
  const flat = arrows.find((a) => a.edge_kind === 'each unimportant given the other')!;
  assert.equal(flat.angle, 90);
  assert.ok((flat.layer as number) < 3 && (flat.layer as number) > 2.8, String(flat.layer));
  // 1-0 (slot 0) → 2-3 (slot 0 of layer 2): also to the right; a downward edge would turn > 90°.
  assert.ok(spec.layer.some((l) => l.mark.shape === 'triangle-up'));
  assert.equal(spec.layer[0].encoding.color!.legend!.labelLimit, 0, 'legend labels are never cut');
  assert.match(String(rows.find((r) => r.kind === 'edge')!.edge_kind), /earlier unimportant given later/);
  // The y domain has half a slot of margin beyond the first and last node.
  assert.deepEqual(spec.layer[0].encoding.y!.scale!.domain, [-0.5, 1.5]);
});
