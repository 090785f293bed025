/**
 * Lesion benchmark (`npm run bench:lesion`): time per single and per double lesion trial on a
 * random pruned-like MNIST-shaped network (784-256-256-256-256-10, 10 % of weights kept per
 * layer) and 10,000 random sparse test images, then extrapolate the experiments of issue 6:
 * single lesions (100 trials, target ≤ 3 min) and double lesions (50 trials, target ≤ 20 min;
 * issue 14: ≤ 3 min for the paper-like clustering)
 * on 2 cores (the trials are shards of sample stages, so they spread over the cores).
 * Two clusterings: "paper-like" (6 sub-modules per layer = 24, as the paper's networks with
 * k = 10) and "k = 10 everywhere" (40 sub-modules, the worst case).
 * Prints figures. Times are CPU seconds of this process (user + system), which a busy shared
 * machine inflates less than wall-clock time; the wall-clock time is printed beside them.
 */
import { Rng } from '../science/random.ts';
import type { DenseLayer } from '../science/weights.ts';
import { doubleTrialPlans, evaluateLesions, findSubmodules, prepareNetwork, singleTrialPlans, truePlans, type SubmoduleSet } from '../science/lesion/index.ts';

const WIDTHS = [784, 256, 256, 256, 256, 10];
const DENSITY = 0.1;
const N_TEST = Number(process.env.LESION_BENCH_IMAGES ?? 10_000);
const CORES = 2;

function prunedLikeNetwork(rng: Rng): DenseLayer[] {
  return WIDTHS.slice(1).map((fanOut, l) => {
    const fanIn = WIDTHS[l];
    const kernel = new Float32Array(fanIn * fanOut);
    const scale = Math.sqrt(2 / (fanIn * DENSITY));
    for (let i = 0; i < kernel.length; i++) if (rng.float() < DENSITY) kernel[i] = rng.normal() * scale;
    return { fanIn, fanOut, kernel, bias: Float32Array.from({ length: fanOut }, () => rng.normal() * 0.05) };
  });
}

/** Cluster labels: `perLayer` clusters per hidden layer with uneven sizes, 5 % of neurons removed. */
function randomClustering(rng: Rng, perLayer: number): SubmoduleSet {
  const labels = new Int32Array(WIDTHS.reduce((s, w) => s + w, 0)).fill(-1);
  let offset = WIDTHS[0];
  for (let l = 1; l < WIDTHS.length - 1; l++) {
    const clusters = Array.from(rng.permutation(10).subarray(0, perLayer));
    const weights = clusters.map(() => 0.3 + rng.float());
    const total = weights.reduce((s, w) => s + w, 0);
    for (let j = 0; j < WIDTHS[l]; j++) {
      if (rng.float() < 0.05) continue;
      let u = rng.float() * total;
      let c = 0;
      while (u > weights[c] && c < clusters.length - 1) u -= weights[c++];
      labels[offset + j] = clusters[c];
    }
    offset += WIDTHS[l];
  }
  return findSubmodules(labels, WIDTHS);
}

const rng = new Rng(2026);
const layers = prunedLikeNetwork(rng);
const net = prepareNetwork(layers);
const images = new Uint8Array(N_TEST * 784);
for (let i = 0; i < images.length; i++) if (rng.float() < 0.19) images[i] = rng.int(256); // MNIST: ≈ 19 % non-zero pixels
const intact = evaluateLesions(net, { images, labels: new Uint8Array(N_TEST) }, [[]]);
void intact;
const labels = Uint8Array.from({ length: N_TEST }, () => rng.int(10));
const test = { images, labels };

/** A stopwatch reading CPU seconds (user + system) and wall seconds since `start()`. */
function stopwatch() {
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  return () => {
    const c = process.cpuUsage(cpu0);
    return { cpu: (c.user + c.system) / 1e6, wall: (performance.now() - wall0) / 1000 };
  };
}
const show = (t: { cpu: number; wall: number }, digits = 1) => `${t.cpu.toFixed(digits)} s CPU (${t.wall.toFixed(digits)} s wall)`;
const fmtMin = (s: number) => `${(s / 60).toFixed(1)} min`;

console.log(`lesion benchmark: ${WIDTHS.join('-')} at ${DENSITY * 100} % density, ${N_TEST} test images, 1 thread per trial`);
// Warm-up (JIT) on a few images.
evaluateLesions(net, { images: images.subarray(0, 256 * 784), labels: labels.subarray(0, 256) }, singleTrialPlans(randomClustering(new Rng(1), 6), 1).plans);

let watch = stopwatch();
const passes = evaluateLesions(net, test, [[]]);
console.log(`intact forward pass: ${show(watch(), 2)} (${passes.work.layerPasses} layer passes)`);
watch = stopwatch();
evaluateLesions(net, test, singleTrialPlans(randomClustering(new Rng(6), 6), 3).plans, { kernel: 'js' });
const jsSingle = watch();
watch = stopwatch();
evaluateLesions(net, test, singleTrialPlans(randomClustering(new Rng(6), 6), 3).plans, { kernel: 'wasm' });
const wasmSingle = watch();
console.log(
  `kernels on one single trial: JavaScript ${show(jsSingle, 2)}, WebAssembly SIMD ${show(wasmSingle, 2)} (×${(jsSingle.cpu / wasmSingle.cpu).toFixed(1)})`,
);

for (const [name, perLayer] of [
  ['paper-like (6 per layer)', 6],
  ['k = 10 everywhere', 10],
] as const) {
  const set = randomClustering(new Rng(perLayer), perLayer);
  const n = set.submodules.length;
  watch = stopwatch();
  const truth = evaluateLesions(net, test, truePlans(set).plans);
  const trueTime = watch();
  const singleRuns = 3;
  watch = stopwatch();
  let singleWork = { nodes: 0, deltaPasses: 0, layerPasses: 0 };
  for (let i = 0; i < singleRuns; i++) singleWork = evaluateLesions(net, test, singleTrialPlans(set, 10 + i).plans).work;
  const st = watch();
  const single = { cpu: st.cpu / singleRuns, wall: st.wall / singleRuns };
  watch = stopwatch();
  const d = doubleTrialPlans(set, 99);
  const dr = evaluateLesions(net, test, d.plans);
  const double = watch();
  console.log(`\n${name}: ${n} sub-modules`);
  console.log(
    `  true lesions (intact, ${n} single, ${(n * (n - 1)) / 2} pairs; stage lesion-modules): ${show(trueTime)}, ${truth.work.layerPasses} layer passes per block`,
  );
  console.log(`  single trial (${n} lesions): ${show(single, 2)}; ${singleWork.nodes} states, ${singleWork.layerPasses} layer passes per block`);
  console.log(
    `  double trial (${d.plans.length} lesions: ${(n * (n + 1)) / 2} joint + ${n * (n - 1)} conditional): ${show(double)}; ${dr.work.nodes} states, ${dr.work.layerPasses} layer passes per block (a full pass per lesion would be ${d.plans.length * 5})`,
  );
  const scale = 10_000 / N_TEST;
  console.log(`  → single lesions, 100 trials on ${CORES} cores: ${fmtMin((100 * single.cpu * scale) / CORES)} (target ≤ 3 min)`);
  console.log(
    `  → double lesions, 50 trials on ${CORES} cores: ${fmtMin((50 * double.cpu * scale) / CORES)} (targets: ≤ 3 min for the paper-like clustering, issue 14; ≤ 20 min, issue 6; original ≈ 5.5 h per experiment)`,
  );
}
