/** Lesion science (issue 6): lesions, fast evaluation, random controls, statistics, taxonomy, δ, dependency graph. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tableFromIPC, tableToIPC } from 'apache-arrow';
import { Rng } from '../science/random.ts';
import type { DenseLayer } from '../science/weights.ts';
import { createWasmKernel } from '../science/lesion/kernel-wasm.ts';
import {
  analyseConditional,
  analyseJoint,
  analyseSingle,
  classify,
  conditionalControls,
  controlStats,
  dependencyPairs,
  doubleTrialPlans,
  evaluateLesions,
  findSubmodules,
  lesionWeights,
  predictClasses,
  prepareNetwork,
  randomControls,
  singleTrialPlans,
  submodulesFromTable,
  submodulesToTable,
  trueLesions,
  truePlans,
  type LesionPlan,
  type PairRow,
  type SingleRow,
  type TaxonomyOptions,
} from '../science/lesion/index.ts';

// ------------------------------------------------------------------ helpers

/** A random sparse MLP with ReLU hidden layers (weights float32 as in the weights file). */
function randomNet(widths: number[], density: number, seed: number): DenseLayer[] {
  const rng = new Rng(seed);
  return widths.slice(1).map((fanOut, l) => {
    const fanIn = widths[l];
    const kernel = new Float32Array(fanIn * fanOut);
    const scale = Math.sqrt(2 / (fanIn * density));
    for (let i = 0; i < kernel.length; i++) if (rng.float() < density) kernel[i] = rng.normal() * scale;
    return { fanIn, fanOut, kernel, bias: Float32Array.from({ length: fanOut }, () => rng.normal() * 0.1) };
  });
}

function randomImages(n: number, width: number, seed: number): Uint8Array {
  const rng = new Rng(seed);
  const images = new Uint8Array(n * width);
  for (let i = 0; i < images.length; i++) if (rng.float() < 0.3) images[i] = rng.int(256);
  return images;
}

function accuracyOf(preds: Int32Array, labels: Uint8Array): number {
  let c = 0;
  for (let i = 0; i < labels.length; i++) if (preds[i] === labels[i]) c++;
  return c / labels.length;
}

/** Labels for every node: inputs and outputs −1, hidden neurons from `hidden` (one array per layer). */
function nodeLabels(widths: number[], hidden: number[][]): Int32Array {
  const labels = new Int32Array(widths.reduce((s, w) => s + w, 0)).fill(-1);
  let offset = widths[0];
  hidden.forEach((layer, i) => {
    labels.set(layer, offset);
    offset += widths[i + 1];
  });
  return labels;
}

// ------------------------------------------------------------------ lesions

test('a lesion zeroes exactly the incoming kernel column and the bias of the lesioned neurons', () => {
  const layers = randomNet([6, 5, 4, 3], 1, 1);
  const lesioned = lesionWeights(layers, [
    { level: 1, neurons: [1, 3] },
    { level: 2, neurons: [0] },
  ]);
  // level 1 = outputs of dense layer 0: columns 1 and 3 and their biases are zero, all else unchanged
  for (let l = 0; l < layers.length; l++) {
    const hit = l === 0 ? new Set([1, 3]) : l === 1 ? new Set([0]) : new Set<number>();
    const { fanIn, fanOut } = layers[l];
    for (let i = 0; i < fanIn; i++)
      for (let j = 0; j < fanOut; j++)
        assert.equal(lesioned[l].kernel[i * fanOut + j], hit.has(j) ? 0 : layers[l].kernel[i * fanOut + j], `layer ${l} [${i},${j}]`);
    for (let j = 0; j < fanOut; j++) assert.equal(lesioned[l].bias[j], hit.has(j) ? 0 : layers[l].bias[j]);
  }
  // the input weights are not modified in place, and the outgoing rows (dense layer 1, rows 1 and 3) stay
  assert.notEqual(layers[0].kernel[1], 0);
  const only1 = lesionWeights(layers, [{ level: 1, neurons: [1, 3] }]);
  assert.deepEqual(only1[1].kernel, layers[1].kernel);
  assert.throws(() => lesionWeights(layers, [{ level: 3, neurons: [0] }]), /not a hidden layer/);
  assert.throws(() => lesionWeights(layers, [{ level: 1, neurons: [5] }]), /does not exist in hidden layer 1/);
});

test('hand-set network: a lesioned neuron outputs 0 and the evaluator gives the hand-computed accuracies', () => {
  // 2 inputs → 2 hidden (h0 = relu(x0 − x1), h1 = relu(x1 − x0)) → 2 logits (class 0 ← h0, class 1 ← h1)
  const layers: DenseLayer[] = [
    { fanIn: 2, fanOut: 2, kernel: Float32Array.from([1, -1, -1, 1]), bias: Float32Array.from([0, 0]) },
    { fanIn: 2, fanOut: 2, kernel: Float32Array.from([1, 0, 0, 1]), bias: Float32Array.from([0, 0]) },
  ];
  // images (x0, x1): class 0 when x0 > x1, class 1 when x1 > x0
  const images = Uint8Array.from([200, 10, 10, 200, 150, 50, 0, 255]);
  const labels = Uint8Array.from([0, 1, 0, 1]);
  const r = evaluateLesions(layers, { images, labels }, [[], [{ level: 1, neurons: [0] }], [{ level: 1, neurons: [1] }], [{ level: 1, neurons: [0, 1] }]]);
  // intact: all right. Without h0, class-0 images have logits (0, 0) → argmax 0 (first maximum): still right.
  // Without h1, class-1 images score (0, 0) → 0: wrong. Without both, every image → 0.
  assert.deepEqual(Array.from(r.accuracy), [1, 1, 0.5, 0.5]);
  assert.deepEqual(Array.from(r.classAccuracy), [1, 1, 1, 1, 1, 0, 1, 0]);
});

test('fast evaluation equals a full forward pass of the lesioned weights, for single, pair and same-layer plans', () => {
  const widths = [30, 24, 24, 24, 5];
  const layers = randomNet(widths, 0.3, 2);
  const n = 157; // not a multiple of the blocks or of the 8-row kernel
  const images = randomImages(n, widths[0], 3);
  const intactPreds = predictClasses(layers, images, n);
  const rng = new Rng(4);
  const labels = Uint8Array.from(intactPreds, (p) => (rng.float() < 0.7 ? p : rng.int(5)));
  const pick = (k: number, width: number) => Array.from(rng.permutation(width).subarray(0, k));
  const plans: LesionPlan[] = [[]];
  for (let t = 0; t < 30; t++) {
    const a = 1 + rng.int(3);
    const b = 1 + rng.int(3);
    plans.push([{ level: a, neurons: pick(1 + rng.int(10), 24) }]);
    plans.push([
      { level: a, neurons: pick(1 + rng.int(8), 24) },
      { level: b, neurons: pick(1 + rng.int(8), 24) },
    ]);
  }
  plans.push([{ level: 3, neurons: Array.from({ length: 24 }, (_, i) => i) }]); // a whole layer
  const expected = plans.map((p) => accuracyOf(predictClasses(lesionWeights(layers, p), images, n), labels));
  for (const blockSize of [1, 7, 64, 1000]) {
    const r = evaluateLesions(layers, { images, labels }, plans, { blockSize });
    assert.deepEqual(Array.from(r.accuracy), expected, `block size ${blockSize}`);
  }
  // Each plan's accuracy does not depend on which other plans share the evaluation.
  const alone = plans.slice(5, 9).map((p) => evaluateLesions(layers, { images, labels }, [p]).accuracy[0]);
  assert.deepEqual(alone, expected.slice(5, 9));
});

test('wide layers: the WebAssembly and JavaScript kernels give the same accuracies as a full forward pass', () => {
  assert.ok(createWasmKernel(1024), 'WebAssembly SIMD is available in Node 20');
  const widths = [50, 72, 72, 72, 10];
  const layers = randomNet(widths, 0.2, 9);
  const n = 203;
  const images = randomImages(n, widths[0], 10);
  const rng = new Rng(11);
  const labels = Uint8Array.from(predictClasses(layers, images, n), (p) => (rng.float() < 0.6 ? p : rng.int(10)));
  const pick = (k: number) => Array.from(rng.permutation(72).subarray(0, k));
  const plans: LesionPlan[] = [[]];
  for (let t = 0; t < 12; t++)
    plans.push(
      [{ level: 1 + (t % 3), neurons: pick(5 + t) }],
      [
        { level: 1, neurons: pick(9) },
        { level: 2 + (t % 2), neurons: pick(7) },
      ],
    );
  const expected = plans.map((p) => accuracyOf(predictClasses(lesionWeights(layers, p), images, n), labels));
  for (const kernel of ['wasm', 'js'] as const)
    for (const blockSize of [8, 40, 512]) {
      const r = evaluateLesions(layers, { images, labels }, plans, { kernel, blockSize });
      assert.deepEqual(Array.from(r.accuracy), expected, `${kernel}, block ${blockSize}`);
    }
});

/** The predicted class of every row under every plan, read off evaluateLesions: each image repeated once per class label. */
function predictionsOf(
  net: readonly DenseLayer[],
  images: Uint8Array,
  width: number,
  plans: readonly LesionPlan[],
  nClasses: number,
  opts: { kernel: 'wasm' | 'js'; blockSize?: number },
): Int32Array {
  const rows = images.length / width;
  const preds = new Int32Array(plans.length * rows).fill(-1);
  const labels = Uint8Array.from({ length: nClasses }, (_, c) => c);
  for (let r = 0; r < rows; r++) {
    const repeated = new Uint8Array(nClasses * width);
    for (let c = 0; c < nClasses; c++) repeated.set(images.subarray(r * width, (r + 1) * width), c * width);
    const { classAccuracy } = evaluateLesions(net, { images: repeated, labels }, plans, opts);
    for (let p = 0; p < plans.length; p++) for (let c = 0; c < nClasses; c++) if (classAccuracy[p * nClasses + c] === 1) preds[p * rows + r] = c;
  }
  return preds;
}

const bitsOf = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');

test('chunked WebAssembly backend: bitwise the accuracies of the JavaScript kernels (the pre-chunked implementation), trial by trial', () => {
  // Odd widths and a row count that fills neither the 8-row chunks nor the blocks.
  const widths = [45, 70, 67, 73, 64, 7];
  const layers = randomNet(widths, 0.12, 21);
  const rng = new Rng(22);
  const n = 229;
  const images = randomImages(n, widths[0], 23);
  const predicted = predictClasses(layers, images, n);
  const labels = Uint8Array.from(predicted, (p) => (rng.float() < 0.5 ? p : rng.int(7)));
  const hidden = widths.slice(1, -1).map((w) => Array.from({ length: w }, () => (rng.float() < 0.1 ? -1 : rng.int(4))));
  const set = findSubmodules(nodeLabels(widths, hidden), widths);
  const net = prepareNetwork(layers);
  const experiments: [string, LesionPlan[]][] = [['true lesions', truePlans(set).plans]];
  for (let trial = 0; trial < 3; trial++) {
    experiments.push([`single trial ${trial}`, singleTrialPlans(set, 100 + trial).plans]);
    experiments.push([`double trial ${trial}`, doubleTrialPlans(set, 200 + trial).plans]);
  }
  for (const [name, plans] of experiments) {
    const js = evaluateLesions(net, { images, labels }, plans, { kernel: 'js' });
    for (const blockSize of [8, 24, 64]) {
      const wasm = evaluateLesions(net, { images, labels }, plans, { kernel: 'wasm', blockSize });
      assert.equal(bitsOf(wasm.accuracy), bitsOf(js.accuracy), `${name}, block ${blockSize}: accuracies`);
      assert.equal(bitsOf(wasm.classAccuracy), bitsOf(js.classAccuracy), `${name}, block ${blockSize}: class accuracies`);
      assert.deepEqual(wasm.work, js.work, `${name}: the same trie`);
    }
  }
  // Not only the counts: the predicted class of each row under each plan (40 rows, one double trial).
  const plans = doubleTrialPlans(set, 300).plans;
  const rows = images.subarray(0, 40 * widths[0]);
  const jsPreds = predictionsOf(layers, rows, widths[0], plans, 7, { kernel: 'js' });
  assert.ok(
    jsPreds.every((p) => p >= 0),
    'every row has a prediction',
  );
  assert.deepEqual(predictionsOf(layers, rows, widths[0], plans, 7, { kernel: 'wasm' }), jsPreds);
});

test('activations below a lesion are reused: only the layers above it are recomputed, shared prefixes once', () => {
  const widths = [20, 16, 16, 16, 4];
  const layers = randomNet(widths, 0.5, 5);
  const images = randomImages(40, 20, 6);
  const labels = new Uint8Array(40);
  const net = prepareNetwork(layers);
  const X = { level: 1, neurons: [0, 1, 2] };
  // The intact network costs 4 layer passes; a lesion at the last hidden level only updates the logits.
  assert.deepEqual(evaluateLesions(net, { images, labels }, [[{ level: 3, neurons: [4] }]]).work, { nodes: 1, deltaPasses: 1, layerPasses: 4 });
  // A lesion at level 1: a rank-|G| update of level 2, then full passes of levels 3 and 4.
  assert.deepEqual(evaluateLesions(net, { images, labels }, [[X]]).work, { nodes: 1, deltaPasses: 1, layerPasses: 4 + 2 });
  // X then Y (level 2) and X then Z (level 3) share X's state: X once, then Y (1 pass), Z (0 passes).
  const shared = evaluateLesions(net, { images, labels }, [[X], [X, { level: 2, neurons: [5] }], [{ level: 3, neurons: [1] }, X]]);
  assert.deepEqual(shared.work, { nodes: 3, deltaPasses: 3, layerPasses: 4 + 2 + 1 + 0 });
});

test('evaluation rejects plans and test sets that do not fit the network', () => {
  const layers = randomNet([4, 3, 2], 1, 7);
  const images = new Uint8Array(8);
  assert.throws(() => evaluateLesions(layers, { images, labels: new Uint8Array(2) }, [[{ level: 2, neurons: [0] }]]), /level 2 is not a hidden layer/);
  assert.throws(() => evaluateLesions(layers, { images, labels: new Uint8Array(3) }, [[]]), /expected 3 × 4/);
  assert.throws(() => evaluateLesions(layers, { images, labels: Uint8Array.from([0, 5]) }, [[]]), /label 5 .* 2 outputs/);
});

// ------------------------------------------------------------------ sub-modules and random controls

const WIDTHS = [3, 12, 10, 2];
// layer 1: cluster 0 ×4, cluster 1 ×5, two removed, cluster 2 ×1; layer 2: cluster 1 ×6, cluster 3 ×3, one removed
const LABELS = nodeLabels(WIDTHS, [
  [0, 1, 0, -1, 1, 1, 0, 1, -1, 0, 1, 2],
  [3, 1, 1, -1, 1, 3, 1, 1, 3, 1],
]);

test('sub-modules are the live neurons of one cluster in one hidden layer, sorted by (layer, cluster)', () => {
  const set = findSubmodules(LABELS, WIDTHS);
  assert.deepEqual(
    set.submodules.map((s) => [s.layer, s.cluster, Array.from(s.neurons), s.liveInLayer]),
    [
      [1, 0, [0, 2, 6, 9], 10],
      [1, 1, [1, 4, 5, 7, 10], 10],
      [1, 2, [11], 10],
      [2, 1, [1, 2, 4, 6, 7, 9], 9],
      [2, 3, [0, 5, 8], 9],
    ],
  );
  assert.deepEqual(Array.from(set.liveLayers[0].live), [0, 1, 2, 4, 5, 6, 7, 9, 10, 11]);
  assert.throws(() => findSubmodules(LABELS.subarray(1), WIDTHS), /26 labels for a network with 27 neurons/);
  const back = submodulesFromTable(tableFromIPC(tableToIPC(submodulesToTable(set), 'file')));
  assert.deepEqual(back, set);
});

test('random controls: same size, live neurons of the same layer only, disjoint within a layer, seeded', () => {
  const set = findSubmodules(LABELS, WIDTHS);
  const counts = set.liveLayers.map((l) => new Map<number, number>(Array.from(l.live, (n) => [n, 0])));
  const trials = 3000;
  for (let t = 0; t < trials; t++) {
    const controls = randomControls(set, 1000 + t);
    for (const layer of [1, 2]) {
      const used = new Set<number>();
      for (const s of set.submodules.filter((x) => x.layer === layer)) {
        const c = controls[s.index];
        assert.equal(c.length, s.neurons.length);
        for (const n of c) {
          assert.ok(counts[layer - 1].has(n), `neuron ${n} of layer ${layer} is not live`);
          assert.ok(!used.has(n), 'controls of one layer overlap within a trial');
          used.add(n);
          if (s.index === 0) counts[0].set(n, counts[0].get(n)! + 1);
        }
      }
    }
  }
  // Sub-module (1, 0) has 4 of 10 live neurons: each live neuron is picked with probability 0.4.
  for (const [n, c] of counts[0]) assert.ok(Math.abs(c / trials - 0.4) < 0.04, `neuron ${n} picked ${c} / ${trials}`);
  assert.deepEqual(randomControls(set, 5), randomControls(set, 5));
  assert.notDeepEqual(randomControls(set, 5), randomControls(set, 6));
});

test('conditional controls exclude the conditioning sub-module and stay in its layer', () => {
  const set = findSubmodules(LABELS, WIDTHS);
  const given = set.submodules[1]; // (1, 1): neurons 1, 4, 5, 7, 10
  const seen = new Set<number>();
  for (let t = 0; t < 500; t++) {
    const c = conditionalControls(set, given, t);
    assert.deepEqual([...c.keys()], [0, 2]); // the other sub-modules of layer 1
    const x = c.get(0)!;
    const z = c.get(2)!;
    assert.equal(x.length, 4);
    assert.equal(z.length, 1);
    for (const n of [...x, ...z]) {
      assert.ok(!given.neurons.includes(n), `control uses neuron ${n} of the conditioning sub-module`);
      assert.ok(set.liveLayers[0].live.includes(n));
      seen.add(n);
    }
    assert.ok(!z.some((n) => x.includes(n)));
  }
  assert.deepEqual(
    [...seen].sort((a, b) => a - b),
    [0, 2, 6, 9, 11],
  ); // exactly the pool: live minus (1, 1)
  assert.deepEqual(conditionalControls(set, given, 9), conditionalControls(set, given, 9));
  // In the double-lesion trial, "X | Y" plans lesion Y's true neurons and X's control.
  const { plans, rows } = doubleTrialPlans(set, 11);
  const i = rows.findIndex((r) => r.kind === 'conditional' && r.x === 0 && r.y === 1);
  assert.deepEqual(Array.from(plans[i][1].neurons), Array.from(given.neurons));
  assert.deepEqual(Array.from(plans[i][0].neurons), Array.from(conditionalControls(set, given, 11).get(0)!));
  const n = set.submodules.length;
  assert.equal(rows.filter((r) => r.kind === 'joint').length, (n * (n + 1)) / 2);
  assert.equal(rows.filter((r) => r.kind === 'conditional').length, n * (n - 1));
});

// ------------------------------------------------------------------ statistics and taxonomy

test('p-value, mean, sd (ddof 1) and z match hand-computed values', () => {
  const s = controlStats(0.55, [0.5, 0.6, 0.7, 0.8]);
  assert.equal(s.p, 2 / 5); // one control below 0.55: (1 + 1)/(4 + 1)
  assert.ok(Math.abs(s.mean - 0.65) < 1e-15);
  assert.ok(Math.abs(s.sd - Math.sqrt(0.05 / 3)) < 1e-15); // Σ(x − 0.65)² = 0.05, n − 1 = 3
  assert.ok(Math.abs(s.z - -0.1 / Math.sqrt(0.05 / 3)) < 1e-12);
  assert.equal(controlStats(0.1, [0.5, 0.6]).p, 1 / 3); // worse than all controls: the minimum 1/(n + 1)
  assert.equal(controlStats(0.6, [0.5, 0.6]).p, 2 / 3); // ties are not counted
  assert.equal(controlStats(0.9, [0.5, 0.6]).p, 1);
});

test('taxonomy: every rule is reached, in the original order', () => {
  const o: TaxonomyOptions = { trials: 100, diffThreshold: -0.01, smallSize: 12, withSize: true };
  const sig = 1 / 101;
  const mid = 0.5;
  const cases: [Parameters<typeof classify>[0], string][] = [
    [{ p: sig, diff: -0.5, size: 256, proportion: 1 }, 'complete'],
    [{ p: sig, diff: -0.5, size: 5, proportion: 0.02 }, 'small'],
    [{ p: sig, diff: -0.5, size: 40, proportion: 0.2 }, 'important'],
    [{ p: sig, diff: -0.01, size: 40, proportion: 0.2 }, 'important'], // diff exactly at the threshold: rule 3 first
    [{ p: 1, diff: 0.002, size: 40, proportion: 0.2 }, 'prunable'],
    [{ p: 1, diff: -0.02, size: 40, proportion: 0.2 }, 'least_important'],
    [{ p: sig, diff: -0.005, size: 40, proportion: 0.2 }, 'sig-but-not-diff'],
    [{ p: mid, diff: -0.02, size: 40, proportion: 0.2 }, 'diff-but-not-sig'],
    [{ p: mid, diff: -0.005, size: 40, proportion: 0.2 }, 'other'],
    [{ p: mid, diff: -0.01, size: 40, proportion: 0.2 }, 'other'],
  ];
  for (const [x, want] of cases) assert.equal(classify(x, o), want, JSON.stringify(x));
  // Double lesions skip rules 1–2 and use 1/n of their own trial count.
  assert.equal(classify({ p: 1 / 51, diff: -0.5 }, { ...o, trials: 50, withSize: false }), 'important');
  assert.equal(classify({ p: 2 / 51, diff: -0.5 }, { ...o, trials: 50, withSize: false }), 'diff-but-not-sig');
});

test('a sub-module carrying the whole signal is important; a 5-neuron sub-module is small', () => {
  // inputs x0, x1 (signal), x2, x3 (noise); label 0 when x0 ≥ x1, else 1.
  // layer 1 (40): A+ = relu(x0 − x1) ×8, A− = relu(x1 − x0) ×8 (cluster 0), noise ×24 (cluster 1)
  // layer 2 (20): m0–9 ← A+ (cluster 0), m10–14 ← A− (cluster 1, 5 neurons), m15–19 ← noise (cluster 2)
  // logits: class 0 ← m0–9, class 1 ← m10–14; the noise path feeds both logits, class 0 a bit more
  // (so no lesion leaves exact ties, which float rounding could break either way).
  const w1 = new Float32Array(4 * 40);
  for (let j = 0; j < 8; j++) (w1[0 * 40 + j] = 1), (w1[1 * 40 + j] = -1);
  for (let j = 8; j < 16; j++) (w1[0 * 40 + j] = -1), (w1[1 * 40 + j] = 1);
  for (let j = 16; j < 40; j++) (w1[2 * 40 + j] = 0.5), (w1[3 * 40 + j] = 0.5);
  const w2 = new Float32Array(40 * 20);
  for (let i = 0; i < 8; i++) for (let j = 0; j < 10; j++) w2[i * 20 + j] = 1;
  for (let i = 8; i < 16; i++) for (let j = 10; j < 15; j++) w2[i * 20 + j] = 1;
  for (let i = 16; i < 40; i++) for (let j = 15; j < 20; j++) w2[i * 20 + j] = 0.1;
  const w3 = new Float32Array(20 * 2);
  for (let i = 0; i < 10; i++) w3[i * 2] = 1;
  for (let i = 10; i < 15; i++) w3[i * 2 + 1] = 2;
  for (let i = 15; i < 20; i++) (w3[i * 2] = 0.25), (w3[i * 2 + 1] = 0.2);
  const layers: DenseLayer[] = [
    { fanIn: 4, fanOut: 40, kernel: w1, bias: new Float32Array(40) },
    { fanIn: 40, fanOut: 20, kernel: w2, bias: new Float32Array(20) },
    { fanIn: 20, fanOut: 2, kernel: w3, bias: new Float32Array(2) },
  ];
  const rng = new Rng(8);
  const n = 200;
  const images = new Uint8Array(n * 4);
  const labels = new Uint8Array(n);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < 4; i++) images[r * 4 + i] = rng.int(256);
    if (images[r * 4] === images[r * 4 + 1]) images[r * 4] = images[r * 4 + 1] ^ 1;
    labels[r] = images[r * 4] >= images[r * 4 + 1] ? 0 : 1;
  }
  const widths = [4, 40, 20, 2];
  const set = findSubmodules(
    nodeLabels(widths, [Array.from({ length: 40 }, (_, j) => (j < 16 ? 0 : 1)), Array.from({ length: 20 }, (_, j) => (j < 10 ? 0 : j < 15 ? 1 : 2))]),
    widths,
  );
  const net = prepareNetwork(layers);
  const t = truePlans(set);
  const tr = evaluateLesions(net, { images, labels }, t.plans);
  const truth = trueLesions(set.submodules.length, t.rows, tr.accuracy, tr.classAccuracy, tr.nClasses);
  assert.equal(truth.intact, 1);
  const trials = 30;
  const controls = set.submodules.map(() => new Float64Array(trials));
  for (let i = 0; i < trials; i++) {
    const st = singleTrialPlans(set, 100 + i);
    evaluateLesions(net, { images, labels }, st.plans).accuracy.forEach((a, s) => (controls[s][i] = a));
  }
  const { rows, perClass } = analyseSingle(set, truth, controls, { diffThreshold: -0.01, smallSize: 12 });
  const cat = Object.fromEntries(rows.map((r) => [`${r.layer}-${r.cluster}`, r.category]));
  assert.equal(cat['1-0'], 'important', JSON.stringify(rows[0]));
  assert.equal(rows[0].p, 1 / (trials + 1));
  assert.ok(rows[0].diff < -0.3);
  assert.equal(rows[0].proportion, 16 / 40);
  assert.equal(cat['2-1'], 'small'); // 5 neurons
  // Per class: lesioning A−'s path (2-1) breaks class 1 only.
  const pc = perClass.filter((r) => r.layer === 2 && r.cluster === 1);
  assert.deepEqual(
    pc.map((r) => r.trueAcc),
    [1, 0],
  );
  assert.deepEqual(
    pc.map((r) => r.diff),
    [0, -1],
  );
});

// ------------------------------------------------------------------ double lesions, δ, dependency graph

/** Truth for hand-computed double-lesion checks: 3 sub-modules in layers 1, 2, 3. */
function handTruth() {
  const widths = [2, 4, 4, 4, 2];
  const set = findSubmodules(
    nodeLabels(widths, [
      [0, 0, 1, 1],
      [0, 0, 0, -1],
      [2, 2, 2, 2],
    ]),
    widths,
  );
  // sub-modules: 0 = (1,0), 1 = (1,1), 2 = (2,0), 3 = (3,2)
  const single = [0.7, 0.95, 0.6, 0.5];
  const pair: Record<string, number> = { '0,1': 0.6, '0,2': 0.55, '0,3': 0.45, '1,2': 0.58, '1,3': 0.4, '2,3': 0.3 };
  const rows = [{ kind: 'intact' as const, x: -1, y: -1 }, ...single.map((_, x) => ({ kind: 'single' as const, x, y: -1 }))];
  const acc = [0.96, ...single];
  for (const [k, v] of Object.entries(pair)) {
    const [x, y] = k.split(',').map(Number);
    rows.push({ kind: 'pair' as any, x, y });
    acc.push(v);
  }
  const truth = trueLesions(4, rows, acc, new Float64Array(acc.length * 2).fill(0.5), 2);
  return { set, truth };
}

test('joint and conditional double lesions: diff, δ(X, Y) = ℓ(X∪Y) − ℓ(Y), p and importance by hand', () => {
  const { set, truth } = handTruth();
  const o = { diffThreshold: -0.01, smallSize: 12 };
  const joint = analyseJoint(
    set,
    truth,
    [
      { x: 0, y: 0 },
      { x: 0, y: 2 },
    ],
    [
      [0.8, 0.9, 0.85],
      [0.5, 0.9, 0.95],
    ],
    o,
  );
  assert.equal(joint[0].trueAcc, 0.7); // self-pair = single lesion
  assert.ok(Math.abs(joint[1].diff - (0.55 - 0.96)) < 1e-15);
  assert.equal(joint[0].p, 1 / 4);
  assert.equal(joint[0].category, 'important');
  assert.equal(joint[1].p, 2 / 4);
  assert.equal(joint[1].important, false);
  // "X | Y" for X = (1,0), Y = (2,0): acc(X∪Y) = 0.55, acc(Y) = 0.6 → diff −0.05, δ = +0.05
  const cond = analyseConditional(
    set,
    truth,
    [
      { x: 0, y: 2 },
      { x: 2, y: 0 },
      { x: 1, y: 2 },
    ],
    [
      [0.7, 0.65, 0.6],
      [0.6, 0.62, 0.64],
      [0.5, 0.5, 0.6],
    ],
    o,
  );
  assert.ok(Math.abs(cond[0].diff - -0.05) < 1e-12);
  assert.ok(Math.abs(cond[0].delta! - 0.05) < 1e-12);
  assert.equal(cond[0].p, 1 / 4);
  assert.equal(cond[0].important, true);
  // "Y | X": acc(X∪Y) − acc(X) = 0.55 − 0.7 → δ(Y, X) = 0.15, significant
  assert.ok(Math.abs(cond[1].delta! - 0.15) < 1e-12);
  assert.equal(cond[1].important, true);
  // "(1,1) | (2,0)": 0.58 − 0.6 → δ = 0.02 but worse controls exist (p = 3/4): not important
  assert.equal(cond[2].p, 3 / 4);
  assert.equal(cond[2].category, 'diff-but-not-sig');
  assert.throws(() => analyseConditional(set, truth, [{ x: 1, y: 1 }], [[0.5]], o), /on itself/);
});

test('dependency graph: an edge from the earlier to the later important sub-module when one is unimportant given the other', () => {
  const { set } = handTruth();
  const single = set.submodules.map(
    (s): SingleRow => ({
      submodule: s.index,
      layer: s.layer,
      cluster: s.cluster,
      size: 2,
      proportion: 0.5,
      trueAcc: 0,
      diff: -0.2,
      mean: 0,
      sd: 0,
      z: 0,
      p: 0.01,
      category: s.index === 1 ? 'other' : 'important',
    }),
  );
  const row = (x: number, y: number, important: boolean, delta: number): PairRow => ({
    x,
    y,
    layerX: 0,
    clusterX: 0,
    layerY: 0,
    clusterY: 0,
    trueAcc: 0,
    diff: -delta,
    delta,
    mean: 0,
    sd: 0,
    z: 0,
    p: 0,
    category: important ? 'important' : 'other',
    important,
  });
  const conditional = [
    row(0, 2, true, 0.1),
    row(2, 0, true, 0.2), // (1,0) and (2,0): each important given the other → no edge
    row(0, 3, false, 0.0),
    row(3, 0, true, 0.3), // (1,0) unimportant given (3,2)
    row(2, 3, false, -0.01),
    row(3, 2, false, 0.0), // both unimportant
    row(0, 1, false, 0),
    row(1, 0, false, 0),
    row(1, 2, false, 0),
    row(2, 1, false, 0),
    row(1, 3, false, 0),
    row(3, 1, false, 0),
  ];
  const pairs = dependencyPairs(single, conditional);
  // (1,1) is not important: only pairs among (1,0), (2,0), (3,2), all in different layers
  assert.deepEqual(
    pairs.map((p) => [`${p.fromLayer}-${p.fromCluster}`, `${p.toLayer}-${p.toCluster}`, p.kind, p.deltaFromTo, p.deltaToFrom]),
    [
      ['1-0', '2-0', null, 0.1, 0.2],
      ['1-0', '3-2', 'from-unimportant-given-to', 0.0, 0.3],
      ['2-0', '3-2', 'both', -0.01, 0.0],
    ],
  );
  assert.throws(() => dependencyPairs(single, conditional.slice(1)), /miss the pair/);
});
