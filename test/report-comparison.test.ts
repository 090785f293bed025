/** README.md's "Comparison with the paper": rows beside the paper's, claim verdicts from hand-built records, metrics, placement, determinism. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildReport, DEFAULT_REPORT_OPTIONS, type MetricsMap, type NetworkRecord, type Phase, type ShuffleSummary } from '../science/report/index.ts';
import { majorityVerdict } from '../science/report/claims/claim.ts';
import { syntheticInput } from './report-synthetic.ts';

const O = { ...DEFAULT_REPORT_OPTIONS, figures: [], tables: [] };
const provenance = { commit: 'c0ffee', commitDate: '2024-01-01T00:00:00Z', paramsDigest: 'p', inputs: [], backends: [] };

function summary(mean: number, opts: { significant?: boolean; z?: number; samples?: number[] } = {}): ShuffleSummary {
  const { significant = false, z = 0, samples } = opts;
  return {
    n: 10,
    mean,
    sd: 0.01,
    z,
    p: significant ? 1 / 11 : 0.5,
    significant,
    min: mean - 1,
    max: mean + 1,
    ...(samples ? { samples: Float64Array.from(samples) } : {}),
  };
}

function net(dataset: string, dropout: boolean, run: number, phase: Phase, ncut: number, shuffles: NetworkRecord['shuffles'] = {}, k = 4): NetworkRecord {
  return { dataset, dropout, run, phase, k, trainAcc: null, testAcc: null, ncut, shuffles };
}

async function build(networks: NetworkRecord[], o = O) {
  const r = await buildReport({ networks, lesions: [], provenance }, o);
  const readme = r.files['README.md'];
  const start = readme.indexOf('## Comparison with the paper');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  return { readme, section, metrics: JSON.parse(r.files['metrics.json']) as MetricsMap };
}

const value = (m: MetricsMap, key: string) => {
  assert.ok(key in m, `metric ${key} exists`);
  return m[key].value;
};

/** Cells of the Markdown row whose first cell is `first`, within `md`. */
function rowOf(md: string, first: string): string[] {
  const line = md.split('\n').find((l) => l.startsWith('| ') && l.slice(2).split(' | ')[0].trim() === first);
  assert.ok(line, `row "${first}"`);
  return line
    .slice(2, -2)
    .split(' | ')
    .map((c) => c.trim());
}

/** Two-sided p of Student's t with 4 degrees of freedom (closed form of its CDF). */
function tTwoSidedP4(t: number): number {
  const a = Math.abs(t);
  const u = (a * a) / (4 + a * a);
  const cdf = 0.5 + (3 / 8) * (a / Math.sqrt(1 + (a * a) / 4)) * (1 - u / 3);
  return 2 * (1 - cdf);
}

test('claim b: dropout lowers the n-cut — holds, does not hold, mixed; Welch p by hand', async () => {
  const pruned = (dataset: string, dropout: boolean, ncuts: number[]) => ncuts.map((x, run) => net(dataset, dropout, run, 'pruned', x));
  // MNIST: without 2.0, 2.1, 2.2; with 1.7, 1.8, 1.9. Means 2.1 vs 1.8, variances 0.01 each:
  // se² = 0.02/3, t = −0.3/√(0.02/3) ≈ −3.674, Welch df = (0.02/3)² / (2·(0.01/3)²/2) = 4.
  const lower = await build([...pruned('mnist', false, [2.0, 2.1, 2.2]), ...pruned('mnist', true, [1.7, 1.8, 1.9])]);
  assert.equal(value(lower.metrics, 'comparison/b-dropout/verdict_k4'), 1);
  assert.ok(Math.abs(value(lower.metrics, 'comparison/mnist/b_pruned_diff_k4')! - -0.3) < 1e-12);
  const p = value(lower.metrics, 'comparison/mnist/b_pruned_welch_p_k4')!;
  const t = -0.3 / Math.sqrt(0.02 / 3);
  assert.ok(Math.abs(p - tTwoSidedP4(t)) < 1e-9, `Welch p ${p} vs ${tTwoSidedP4(t)}`);
  assert.ok(p < 0.05);
  assert.deepEqual(lower.metrics['comparison/mnist/b_pruned_ncut_with_k4'].runs, [1.7, 1.8, 1.9]);
  assert.equal(lower.metrics['comparison/mnist/b_pruned_ncut_without_k4'].paper, 2.0, "Table 1's MNIST mean beside ours");
  assert.match(rowOf(lower.section, 'b. Dropout lowers the n-cut')[2], /\*\*holds\*\*/);

  const higher = await build([...pruned('mnist', false, [1.7, 1.8, 1.9]), ...pruned('mnist', true, [2.0, 2.1, 2.2])]);
  assert.equal(value(higher.metrics, 'comparison/b-dropout/verdict_k4'), 0);
  assert.match(rowOf(higher.section, 'b. Dropout lowers the n-cut')[2], /\*\*does not hold\*\*/);

  // Lower in MNIST, higher in Fashion → mixed; lower but not significant (large spread) → mixed too.
  const split = await build([
    ...pruned('mnist', false, [2.0, 2.1, 2.2]),
    ...pruned('mnist', true, [1.7, 1.8, 1.9]),
    ...pruned('fashion', false, [1.7, 1.8, 1.9]),
    ...pruned('fashion', true, [2.0, 2.1, 2.2]),
  ]);
  assert.equal(value(split.metrics, 'comparison/b-dropout/verdict_k4'), 0.5);
  assert.equal(value(split.metrics, 'comparison/b-dropout/conditions_k4'), 2);
  assert.equal(value(split.metrics, 'comparison/b-dropout/conditions_holding_k4'), 1);
  const noisy = await build([...pruned('mnist', false, [1.0, 2.1, 3.2]), ...pruned('mnist', true, [0.9, 2.0, 3.1])]);
  assert.equal(value(noisy.metrics, 'comparison/b-dropout/verdict_k4'), 0.5);

  // Only one condition → not testable, said in words, verdict null in metrics.
  const one = await build(pruned('mnist', false, [2.0, 2.1]));
  assert.equal(value(one.metrics, 'comparison/b-dropout/verdict_k4'), null);
  assert.match(one.section, /not testable: no dataset has pruned networks both with and without dropout at k = 4/);
});

test('claim a: proportion significant and mean z per condition; majority in every / no / some condition', async () => {
  const cond = (dataset: string, dropout: boolean, sig: boolean[], zs: number[]) =>
    sig.map((s, run) => net(dataset, dropout, run, 'pruned', 2, { layer: summary(2.1, { significant: s, z: zs[run] }) }));
  const mixed = await build([
    ...cond('mnist', false, [true, true, true, false], [-5, -4, -3, -1]),
    ...cond('fashion', true, [true, false, false, false], [-4, 0, 0, 0]),
  ]);
  assert.equal(value(mixed.metrics, 'comparison/mnist/a_prop_sig_k4'), 0.75);
  assert.equal(value(mixed.metrics, 'comparison/mnist/a_mean_z_k4'), -3.25);
  assert.equal(value(mixed.metrics, 'comparison/fashion+dropout/a_prop_sig_k4'), 0.25);
  assert.equal(mixed.metrics['comparison/mnist/a_prop_sig_k4'].paper, 0.7);
  assert.equal(value(mixed.metrics, 'comparison/a-shuffles/verdict_k4'), 0.5);
  assert.deepEqual(rowOf(mixed.section, 'MNIST').slice(1, 5), ['3/4', '0.75', '0.7', '-3.25']);

  const holds = await build(cond('mnist', false, [true, true, false], [-5, -4, -1]));
  assert.equal(value(holds.metrics, 'comparison/a-shuffles/verdict_k4'), 1);
  // Exactly half is not a majority.
  const none = await build([...cond('mnist', false, [true, false], [-5, 0]), ...cond('fashion', false, [false, false], [0, 0])]);
  assert.equal(value(none.metrics, 'comparison/a-shuffles/verdict_k4'), 0);
  // The paper's own numbers under the same rule, on the same conditions (Table 1: MNIST 0.7, Fashion 1.0 → holds).
  assert.equal(none.metrics['comparison/a-shuffles/verdict_k4'].paper, 1);
});

test("claim c: layer_nonzero mean below the layer mean per network, Cohen's d with the tables' sign", async () => {
  // layer samples 1,2,3 and non-zero 0,1,2: means 2 and 1, variances 1 → pooled sd 1 → d = +1 (layer higher).
  const below = (run: number) =>
    net('mnist', true, run, 'pruned', 0.5, { layer: summary(2, { samples: [1, 2, 3] }), layer_nonzero: summary(1, { samples: [0, 1, 2] }) });
  const above = (run: number) =>
    net('mnist', true, run, 'pruned', 0.5, { layer: summary(1, { samples: [0, 1, 2] }), layer_nonzero: summary(2, { samples: [1, 2, 3] }) });
  const r = await build([below(0), below(1), above(2)]);
  assert.ok(Math.abs(value(r.metrics, 'comparison/mnist+dropout/c_prop_nonzero_below_k4')! - 2 / 3) < 1e-12);
  assert.ok(Math.abs(value(r.metrics, 'comparison/mnist+dropout/c_mean_cohen_d_k4')! - 1 / 3) < 1e-12);
  // Same sign as Figure A.1's metric, which comes from the same function.
  assert.equal(value(r.metrics, 'fig-A1/mnist+dropout/pruned_cohen_d'), value(r.metrics, 'comparison/mnist+dropout/c_mean_cohen_d_k4'));
  assert.equal(value(r.metrics, 'comparison/c-nonzero/verdict_k4'), 1);
  const flipped = await build([above(0), above(1), below(2)]);
  assert.equal(value(flipped.metrics, 'comparison/c-nonzero/verdict_k4'), 0);
});

test('claims d and e: pruned vs unpruned paired by run; pruned vs the random-init minimum; not testable without init', async () => {
  const networks = [
    net('fashion', false, 0, 'unpruned', 2.4),
    net('fashion', false, 0, 'pruned', 2.0),
    net('fashion', false, 1, 'unpruned', 2.3),
    net('fashion', false, 1, 'pruned', 2.35),
    net('fashion', false, 2, 'unpruned', 2.5),
    net('fashion', false, 2, 'pruned', 2.1),
    net('fashion', false, 3, 'pruned', 1.0), // no unpruned partner: not paired
  ];
  const noInit = await build(networks);
  assert.ok(Math.abs(value(noInit.metrics, 'comparison/fashion/d_prop_pruned_lower_k4')! - 2 / 3) < 1e-12);
  assert.deepEqual(noInit.metrics['comparison/fashion/d_prop_pruned_lower_k4'].runs, [1, 0, 1]);
  assert.ok(Math.abs(value(noInit.metrics, 'comparison/fashion/d_unpruned_ncut_k4')! - 2.4) < 1e-12);
  assert.equal(value(noInit.metrics, 'comparison/d-pruning/verdict_k4'), 1);
  assert.equal(value(noInit.metrics, 'comparison/e-init/verdict_k4'), null);
  assert.match(noInit.section, /e\. Trained pruned networks[^\n]*\*\*not testable: no clustered random-init networks at k = 4\*\*/);

  const init = [2.2, 2.3, 2.4].map((x, run) => net('init', false, run, 'init', x));
  const withInit = await build([...networks, ...init]);
  // Pruned 2.0, 2.35, 2.1, 1.0 against the init minimum 2.2: 3 of 4 below.
  assert.equal(value(withInit.metrics, 'comparison/fashion/e_prop_below_init_min_k4'), 0.75);
  assert.equal(value(withInit.metrics, 'comparison/e-init/e_init_ncut_min_k4'), 2.2);
  assert.equal(withInit.metrics['comparison/e-init/e_init_ncut_min_k4'].paper, 2.3);
  assert.equal(value(withInit.metrics, 'comparison/e-init/verdict_k4'), 1);
  const highInit = await build([...networks, net('init', false, 0, 'init', 0.5)]);
  assert.equal(value(highInit.metrics, 'comparison/e-init/verdict_k4'), 0);
});

test('claims f–i (Section 3.2, A.5): random-data unpruned vs init, pruned vs shuffles, memorization, mixtures; unlisted without their datasets', async () => {
  const sig = (significant: boolean) => ({ layer: summary(2.1, { significant }) });
  const init = [2.3, 2.32, 2.4].map((x, run) => net('init', false, run, 'init', x));
  const networks = [
    ...init,
    // random: unpruned above the init minimum 2.3 (claim f holds); pruned 1 of 3 significant (g holds).
    ...[2.33, 2.35, 2.29].map((x, run) => net('random', false, run, 'unpruned', x)),
    ...[true, false, false].map((s, run) => net('random', false, run, 'pruned', 2.09, sig(s))),
    // random with dropout: 2 of 3 unpruned below the init minimum (f fails there); 2 of 3 significant (g fails there).
    ...[2.2, 2.25, 2.4].map((x, run) => net('random', true, run, 'unpruned', x)),
    ...[true, true, false].map((s, run) => net('random', true, run, 'pruned', 2.05, sig(s))),
    // memorization: all significant without dropout, none with dropout: h holds.
    ...[0, 1].map((run) => net('memorization', false, run, 'pruned', 1.9, sig(true))),
    ...[0, 1].map((run) => net('memorization', true, run, 'pruned', 2.05, sig(false))),
    // mixtures: line 1.6, mnist 2.0; line-mnist 1.8 lies between, line-mnist-separated 2.1 does not.
    net('line', false, 0, 'pruned', 1.6),
    net('mnist', false, 0, 'pruned', 2.0),
    net('line-mnist', false, 0, 'pruned', 1.8),
    net('line-mnist-separated', false, 0, 'pruned', 2.1),
  ];
  const r = await build(networks);
  assert.equal(value(r.metrics, 'comparison/f-random-unpruned/verdict_k4'), 0.5);
  assert.ok(Math.abs(value(r.metrics, 'comparison/random+dropout/f_prop_unpruned_below_init_min_k4')! - 2 / 3) < 1e-12);
  assert.equal(r.metrics['comparison/random/f_unpruned_ncut_mean_k4'].paper, 2.338);
  assert.equal(r.metrics['comparison/f-random-unpruned/verdict_k4'].paper, 1, "the paper's unpruned means lie at or above its init support");
  assert.equal(value(r.metrics, 'comparison/g-random-pruned/verdict_k4'), 0.5);
  assert.equal(r.metrics['comparison/g-random-pruned/verdict_k4'].paper, 1);
  assert.equal(value(r.metrics, 'comparison/h-memorization/verdict_k4'), 1);
  assert.equal(r.metrics['comparison/h-memorization/verdict_k4'].paper, 1);
  assert.equal(value(r.metrics, 'comparison/line-mnist/i_between_components_k4'), 1);
  assert.equal(value(r.metrics, 'comparison/line-mnist-separated/i_between_components_k4'), 0);
  assert.equal(r.metrics['comparison/line-mnist-separated/i_between_components_k4'].paper, 1);
  assert.equal(value(r.metrics, 'comparison/i-mixtures/verdict_k4'), 0.5);
  assert.match(r.section, /h\. Memorising networks[^\n]*\*\*holds\*\*/);
  // Rows of Tables 2 and 4 beside ours (the random rows name the dataset through report.datasets).
  assert.deepEqual(rowOf(r.section, 'Table 2').slice(1, 5), ['Random', '3', '2.090 ± 0.000', '2.093 ± 0.023']);
  assert.deepEqual(rowOf(r.section, 'Table 4').slice(1, 3), ['Memorization', '2']);
  // Without their datasets, claims f–i are named but not listed.
  const only = await build([net('mnist', false, 0, 'pruned', 2.0, sig(true))]);
  assert.ok(!('comparison/f-random-unpruned/verdict_k4' in only.metrics));
  assert.match(only.section, /Not listed, since no networks of their datasets are in this run: f\. Unpruned networks trained on random data/);
});

test('majority rule on its own', () => {
  assert.equal(majorityVerdict([0.6, 1], 'x', 'r').kind, 'holds');
  assert.equal(majorityVerdict([0.5, 0], 'x', 'r').kind, 'does not hold');
  assert.equal(majorityVerdict([0.6, 0.5], 'x', 'r').kind, 'mixed');
  assert.deepEqual(majorityVerdict([], 'x', 'no data'), { kind: 'not testable', reason: 'no data' });
});

test("rows table: only rows with runs, Δ in paper sds, the paper's values beside ours; the omitted count; other k", async () => {
  // MNIST pruned at k = 4: n-cuts 2.04, 2.07, 2.10 → mean 2.07 ± 0.03; Table 1 says 2.000 ± 0.035 → Δ = +2.0 sd.
  const networks = [2.04, 2.07, 2.1].map((x, run) =>
    net('mnist', false, run, 'pruned', x, { layer: summary(2.2, { significant: run < 2 }), layer_nonzero: summary(2.1, { significant: false }) }),
  );
  networks.push(net('mnist', false, 0, 'pruned', 0.34, { layer: summary(0.35, { significant: true }) }, 2));
  const r = await build(networks);
  const rows = r.section
    .split('\n')
    .filter((l) => /^\| Table [1A]/.test(l))
    .map((l) =>
      l
        .slice(2, -2)
        .split(' | ')
        .map((c) => c.trim()),
    );
  assert.deepEqual(
    rows.map((x) => [x[0], x[1]]),
    [
      ['Table 1', 'MNIST'],
      ['Table A.3', 'MNIST'],
      ['Table 1 (`layer_nonzero`)', 'MNIST'],
      ['Table A.3 (`layer_nonzero`)', 'MNIST'],
    ],
  );
  assert.deepEqual(rows[0].slice(2), ['3', '2.070 ± 0.030', '2.000 ± 0.035', '+2.0', '0.67', '0.7', '2.200', '2.042']);
  // The non-zero twin at k = 4 has its own reference proportion (8/10) and shuffle mean (2.066).
  assert.deepEqual(rows[2].slice(6), ['0.00', '0.8', '2.100', '2.066']);
  // One network at k = 2: no sd of ours; Table A.3's sd 0.003 → Δ = (0.34 − 0.333)/0.003.
  assert.deepEqual(rows[1].slice(2, 6), ['1', '0.340', '0.333 ± 0.003', `+${((0.34 - 0.333) / 0.003).toFixed(1)}`]);
  assert.match(
    r.section,
    /64 of 68 paper rows \(Tables 1–4, A\.1–A\.3 with their `layer_nonzero` twins, and the LINES rows of A\.16–A\.17\) have no pruned networks clustered here/,
  );
  assert.ok(Math.abs(value(r.metrics, 'comparison/mnist/table-1_ncut_diff_sd')! - 2) < 1e-9);
  assert.ok(Math.abs(value(r.metrics, 'comparison/mnist/table-1_prop_sig_diff')! - (2 / 3 - 0.7)) < 1e-12);
  assert.equal(value(r.metrics, 'comparison/rows/omitted'), 64);
  assert.ok(!('comparison/mnist+dropout/table-1_ncut_diff_sd' in r.metrics), 'no metric for a row without runs');
  // The other k present gets a verdict line and its own metrics.
  assert.match(r.section, /Other k: k = 2: holds \(a majority significant in 1 of 1 conditions\)/);
  assert.equal(value(r.metrics, 'comparison/a-shuffles/verdict_k2'), 1);
});

test('README: the section sits right after Provenance; nothing to compare says so; same input → same bytes', async () => {
  const empty = await build([]);
  const order = ['## Provenance', '## Comparison with the paper', '## Tables'].map((h) => empty.readme.indexOf(h));
  assert.ok(order.every((i) => i >= 0) && order[0] < order[1] && order[1] < order[2], `section order ${order}`);
  assert.match(empty.section, /No pruned networks clustered at k = 2, 4, 7 or 10 yet\./);
  assert.match(empty.section, /68 of 68 paper rows/);
  for (const id of ['a-shuffles', 'b-dropout', 'c-nonzero', 'd-pruning', 'e-init']) assert.equal(value(empty.metrics, `comparison/${id}/verdict_k4`), null, id);
  assert.equal((empty.section.match(/\*\*not testable: /g) ?? []).length, 2 * 5, 'summary and detail per claim');

  const input = syntheticInput({ datasets: ['mnist', 'fashion'], runs: 3, ks: [4, 2], initNetworks: 5, samples: 16 });
  const o = { ...DEFAULT_REPORT_OPTIONS, figures: [] };
  const [a, b] = [await buildReport(input, o), await buildReport(input, o)];
  assert.equal(a.files['README.md'], b.files['README.md']);
  assert.equal(a.files['metrics.json'], b.files['metrics.json']);
  assert.match(a.files['README.md'], /### e\. Trained pruned networks are more clusterable than randomly initialised ones/);
  assert.ok(Object.keys(JSON.parse(a.files['metrics.json'])).filter((k) => k.startsWith('comparison/')).length > 50);
});
