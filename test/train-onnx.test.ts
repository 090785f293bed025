/**
 * The `onnx` training backend (science/mlp/onnx-*.ts): gradients against the reference kernels,
 * determinism, resume after a crash and after SIGKILL (bit-identical), pruning, accuracy on an
 * MNIST subset against the wasm backend, the fallback when ONNX Runtime cannot load, and the
 * runtime facts that keep its results apart in the cache. The wasm path has its own tests
 * (train-tf, train-step, train-kernels), so `npm test` trains on both.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { arch, platform, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '../science/random.ts';
import { backendRuntime, initBackend, resolveBackend, BackendUnavailableError } from '../science/mlp/backend.ts';
import { batchGradients, evaluate, evaluateOnnx, setStepKernels, trainPhase, type LabelledImages, type PhaseOptions } from '../science/mlp/trainer.ts';
import { onnxBatchGradients } from '../science/mlp/onnx-trainer.ts';
import { cpuKernelFamily, loadOnnxRuntime, setNativeTraining } from '../science/mlp/onnx-runtime.ts';
import { glorotUniformInit, layerSizes } from '../science/mlp/model.ts';
import { KERAS_ADAM } from '../science/mlp/adam.ts';
import { dropoutMasks } from '../science/mlp/dropout.ts';
import { weightsToKeep } from '../science/mlp/pruning.ts';
import { gunzipIfNeeded, idxImages, idxLabels, parseIdx } from '../science/datasets/idx.ts';
import { digest, toyData } from './fixtures/train/data.ts';
import { resumeOptions } from './fixtures/train/resume-options.ts';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const onnx = loadOnnxRuntime();
// Where ONNX Runtime has no binary the fallback test below still runs; the rest is visibly skipped.
const skip = onnx.ok ? false : `ONNX Runtime cannot load here: ${onnx.reason}`;

before(async () => {
  // tfjs (wasm) computes the references; trainPhase runs on onnx after initBackend('onnx').
  await initBackend('wasm');
  if (onnx.ok) await initBackend('onnx');
});

/** Train on `backend` (the module flag trainer.ts reads), restoring onnx afterwards. */
async function trainOn(backend: 'wasm' | 'onnx', o: PhaseOptions) {
  setNativeTraining(backend === 'onnx');
  try {
    return await trainPhase(o);
  } finally {
    setNativeTraining(onnx.ok);
  }
}

const TRAIN = toyData(200, 1);
const TEST = toyData(60, 2);

function options(over: Partial<PhaseOptions> = {}): PhaseOptions {
  return {
    phase: 'unpruned',
    train: TRAIN,
    test: TEST,
    initial: glorotUniformInit(layerSizes([24, 16]), 7),
    seed: 99,
    epochs: 3,
    batchSize: 32,
    adam: KERAS_ADAM,
    dropoutRate: 0.5,
    shuffle: true,
    ...over,
  };
}

function memoryStore(crashAfterSaves = Infinity) {
  let bytes: Uint8Array | undefined;
  let saves = 0;
  return {
    load: async () => bytes,
    save: async (b: Uint8Array) => {
      bytes = b.slice();
      if (++saves === crashAfterSaves) throw new Error('simulated crash');
    },
  };
}

/** max |a − b| over max |b|: the relative error of a whole array. */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  assert.ok(scale > 0, 'reference is not all zero');
  return diff / scale;
}

const CASES = [
  { name: 'small net, 37 rows', sizes: [784, 24, 16, 10], rows: 37, dropout: false },
  { name: 'small net, 37 rows, dropout', sizes: [784, 24, 16, 10], rows: 37, dropout: true },
  { name: "the paper's MLP, 128 rows, dropout", sizes: layerSizes([256, 256, 256, 256]), rows: 128, dropout: true },
];

for (const c of CASES)
  test(`onnx step gradients equal the reference kernels' to 1e-5 relative (${c.name})`, { skip }, async () => {
    const rng = new Rng(c.rows + c.sizes.length);
    const layers = glorotUniformInit(c.sizes, 3);
    for (const l of layers) for (let j = 0; j < l.bias.length; j++) l.bias[j] = (rng.float() - 0.5) * 0.2;
    const x = Float32Array.from({ length: c.rows * 784 }, () => rng.float());
    const labels = Uint8Array.from({ length: c.rows }, () => rng.int(10));
    const masks = c.dropout ? dropoutMasks(5, 9, c.rows, c.sizes.slice(1, -1), 0.5) : null;
    let reference: Float32Array[] = [];
    const previous = setStepKernels('reference');
    const loss = batchGradients(layers, x, labels, c.rows, masks, 2, (g) => (reference = g.map((a) => a.slice())));
    setStepKernels(previous);
    const ours = await onnxBatchGradients(layers, x, labels, c.rows, masks, 2);
    assert.equal(ours.grads.length, reference.length);
    ours.grads.forEach((g, i) => {
      assert.equal(g.length, reference[i].length, `gradient ${i} size`);
      const e = relativeError(g, reference[i]);
      assert.ok(e <= 1e-5, `gradient ${i}: relative error ${e}`);
    });
    // The loss the trainer records comes from the logits (trainer.ts crossEntropyRows).
    let lossSum = 0;
    for (let r = 0; r < c.rows; r++) {
      const z = ours.logits.subarray(r * 10, r * 10 + 10);
      const max = Math.max(...z);
      lossSum += Math.log(z.reduce((s, v) => s + Math.exp(v - max), 0)) + max - z[labels[r]];
    }
    assert.ok(Math.abs(lossSum - loss.lossSum) / loss.lossSum < 1e-5, `loss ${lossSum} vs ${loss.lossSum}`);
  });

test('onnx training is deterministic, learns like wasm, and its evaluation agrees with tfjs', { skip }, async () => {
  const a = await trainOn('onnx', options());
  const b = await trainOn('onnx', options());
  const c = await trainOn('onnx', options({ seed: 100 }));
  assert.equal(digest(a.layers), digest(b.layers), 'same params and backend → identical weights');
  assert.deepEqual(a.history, b.history);
  assert.notEqual(digest(a.layers), digest(c.layers), 'another seed → other weights');
  const w = await trainOn('wasm', options());
  a.history.forEach((h, e) => assert.ok(Math.abs(h.trainLoss - w.history[e].trainLoss) < 1e-3, `epoch ${e + 1} train loss ${h.trainLoss} (onnx) vs ${w.history[e].trainLoss} (wasm)`));
  assert.ok(a.history[2].trainLoss < a.history[0].trainLoss, 'loss decreases');
  const viaOnnx = await evaluateOnnx(a.layers, TEST);
  const viaTfjs = evaluate(a.layers, TEST);
  assert.equal(viaOnnx.accuracy, a.history[2].testAccuracy, 'recorded test metrics are those of the returned weights');
  assert.equal(viaOnnx.accuracy, viaTfjs.accuracy);
  assert.ok(Math.abs(viaOnnx.loss - viaTfjs.loss) < 1e-5, `test loss ${viaOnnx.loss} vs ${viaTfjs.loss}`);
});

test('onnx: a crash after epoch 1 of 3 and a rerun give the uninterrupted bytes; a partial last batch trains', { skip }, async () => {
  const o = (over: Partial<PhaseOptions> = {}) => options({ train: toyData(211, 3), ...over }); // 211 = 6 × 32 + 19
  const uninterrupted = await trainOn('onnx', o());
  const store = memoryStore(1);
  await assert.rejects(trainOn('onnx', o({ checkpoint: store })), /simulated crash/);
  const resumed = await trainOn('onnx', o({ checkpoint: store }));
  assert.equal(resumed.resumedEpochs, 1);
  assert.equal(digest(resumed.layers), digest(uninterrupted.layers));
  assert.deepEqual(resumed.history, uninterrupted.history);
});

test('onnx pruning: exact target sparsity per kernel, biases never masked, resume bit-identical', { skip }, async () => {
  const trained = await trainOn('onnx', options({ epochs: 2 }));
  const schedule = { initialSparsity: 0.5, finalSparsity: 0.9, beginStep: 0, endStep: 20, frequency: 10, power: 3 };
  const prune = (over: Partial<PhaseOptions> = {}) => trainOn('onnx', options({ phase: 'pruned', initial: trained.layers, epochs: 4, pruning: schedule, seed: 3, ...over }));
  const pruned = await prune();
  pruned.layers.forEach((l, i) => {
    assert.equal(l.kernel.reduce((n, w) => n + (w !== 0 ? 1 : 0), 0), weightsToKeep(l.kernel.length, 0.9), `layer ${i} kernel`);
    assert.ok(l.bias.every((b) => b !== 0), `layer ${i} biases are trained, never pruned`);
  });
  const store = memoryStore(2);
  await assert.rejects(prune({ checkpoint: store }), /simulated crash/);
  const resumed = await prune({ checkpoint: store });
  assert.equal(resumed.resumedEpochs, 2);
  assert.equal(digest(resumed.layers), digest(pruned.layers));
});

/** Run the resume child; `killAfterSave` kills it with SIGKILL as soon as it reports that save. */
function runChild(file: string, killAfterSave?: number): Promise<{ out: string; signal: NodeJS.Signals | null; code: number | null }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(HERE, 'fixtures/train/resume-child.ts'), 'onnx', file], { cwd: resolve(HERE, '..'), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
    if (killAfterSave !== undefined && out.includes(`saved ${killAfterSave}\n`)) child.kill('SIGKILL');
  });
  child.stderr.on('data', (d) => (out += d));
  return new Promise((res) => child.on('exit', (code, signal) => res({ out, signal, code })));
}

test('onnx: a training process killed with SIGKILL mid-phase resumes to the uninterrupted bytes', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'onnx-resume-'));
  try {
    const killed = await runChild(join(dir, 'ckpt'), 2);
    assert.equal(killed.signal, 'SIGKILL', killed.out);
    assert.doesNotMatch(killed.out, /done/, 'killed before the end');
    assert.ok(existsSync(join(dir, 'ckpt')));
    const resumed = await runChild(join(dir, 'ckpt'));
    assert.equal(resumed.code, 0, resumed.out);
    assert.match(resumed.out, /resuming pruned phase after epoch [2-9]\/12/);
    const uninterrupted = await trainOn('onnx', resumeOptions());
    assert.equal(resumed.out.match(/done (\w+)/)?.[1], digest(uninterrupted.layers));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function mnistSubset(dir: string, nTrain: number): { train: LabelledImages; test: LabelledImages } {
  const read = (name: string) => parseIdx(gunzipIfNeeded(new Uint8Array(readFileSync(join(dir, name))), name), name);
  const images = idxImages(read('train-images-idx3-ubyte.gz'), 'train images').images;
  const labels = idxLabels(read('train-labels-idx1-ubyte.gz'), 'train labels');
  return {
    train: { images: images.subarray(0, nTrain * 784), labels: labels.subarray(0, nTrain) },
    test: { images: idxImages(read('t10k-images-idx3-ubyte.gz'), 'test images').images, labels: idxLabels(read('t10k-labels-idx1-ubyte.gz'), 'test labels') },
  };
}

const MNIST = join(process.env.NNMOD_MIRROR ?? resolve(HERE, '../../shared/datasets'), 'mnist');
const mnistSkip = skip || (existsSync(join(MNIST, 'train-images-idx3-ubyte.gz')) ? false : `no MNIST mirror at ${MNIST} (set NNMOD_MIRROR)`);

test('MNIST subset (10,000 examples, 3 epochs, the paper MLP): onnx test accuracy within 0.3 points of wasm', { skip: mnistSkip }, async (t) => {
  const data = mnistSubset(MNIST, 10_000);
  const o: PhaseOptions = { ...options(), ...data, initial: glorotUniformInit(layerSizes([256, 256, 256, 256]), 21), seed: 22, batchSize: 128, dropoutRate: 0 };
  const native = await trainOn('onnx', o);
  const wasm = await trainOn('wasm', o);
  const [a, w] = [native.history.at(-1)!.testAccuracy, wasm.history.at(-1)!.testAccuracy];
  t.diagnostic(`test accuracy: onnx ${a}, wasm ${w}`);
  assert.ok(w > 0.9, `wasm learns (test accuracy ${w})`);
  assert.ok(Math.abs(a - w) <= 0.003, `test accuracy onnx ${a} vs wasm ${w}`);
});

test('backend choice: auto prefers onnx; without ONNX Runtime it says why in one line and trains on tfjs', () => {
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => void warnings.push(args.join(' '));
  try {
    const missing = { ok: false as const, reason: 'libonnxruntime.so.1: cannot open shared object file' };
    const fallback = resolveBackend('auto', missing);
    assert.ok(['tensorflow', 'wasm', 'cpu'].includes(fallback));
    resolveBackend('auto', missing);
    assert.equal(warnings.length, 1, 'one line per process');
    assert.match(warnings[0], new RegExp(`training on TensorFlow.js ${fallback}, because ONNX Runtime \\(onnxruntime-node\\) cannot load here: libonnxruntime`));
    assert.throws(() => resolveBackend('onnx', missing), (e: Error) => e instanceof BackendUnavailableError && /train.backend is 'onnx'.*set train.backend to auto or wasm/.test(e.message));
  } finally {
    console.warn = warn;
  }
  if (onnx.ok) assert.equal(resolveBackend('auto'), 'onnx');
});

test('onnx runtime facts name the ONNX Runtime version, the CPU kernel family and the session settings', { skip }, () => {
  const facts = backendRuntime('onnx');
  assert.equal(facts.backend, 'onnx');
  assert.match(facts.backend_version, /^\d+\.\d+\.\d+/);
  assert.match(facts.session, /intra_op_threads=1 denormal_as_zero=1/);
  assert.equal(facts.cpu_kernels, cpuKernelFamily());
  assert.notDeepEqual(facts, backendRuntime('wasm'));
  if (platform() === 'linux' && arch() === 'x64') {
    const flags = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)![1].trim().split(/\s+/);
    const expected = flags.includes('avx512f') ? 'x64 avx512f' : flags.includes('avx2') && flags.includes('fma') ? 'x64 avx2-fma' : /x64 (avx|sse)/;
    if (typeof expected === 'string') assert.equal(facts.cpu_kernels, expected);
    else assert.match(facts.cpu_kernels, expected);
  }
});

