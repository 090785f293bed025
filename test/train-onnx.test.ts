/**
 * The `onnx` training backend (science/mlp/onnx-*.ts): gradients against the reference kernels,
 * determinism, resume after a crash and after SIGKILL (bit-identical), pruning, accuracy on an
 * MNIST subset against the wasm backend, the fallback when ONNX Runtime cannot load, and the
 * runtime facts that keep its results apart in the cache. The wasm path has its own tests
 * (train-tf, train-step, train-kernels), so `npm test` trains on both.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
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
import { dropoutDraw, dropoutMasks } from '../science/mlp/dropout.ts';
import { WasmDropoutMasks, WasmKernelMasks } from '../science/mlp/step-wasm.ts';
import { applyMask, weightsToKeep } from '../science/mlp/pruning.ts';
import { gunzipIfNeeded, idxImages, idxLabels, parseIdx } from '../science/datasets/idx.ts';
import { digest, memoryStore, TEST, toyData, toyOptions as options, TRAIN } from './fixtures/train/data.ts';
import { tableFromIPC, tableToIPC, type Table } from 'apache-arrow';
import { datasetToTable } from '../science/datasets/table.ts';
import { weightsFromTable } from '../science/weights.ts';
import { trainStage, type TrainStageConfig } from '../stages/train.ts';
import { pruneStage, type PruneStageConfig } from '../stages/prune.ts';
import { exportStage } from '../stages/export.ts';
import type { Axes, InputInstance, RunContext } from '../engine/types.ts';
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

test('the onnx step draws dropout masks in WebAssembly with the bits of dropout.ts', () => {
  const widths = [24, 16, 256];
  const masks = WasmDropoutMasks.create(37 * 296);
  assert.ok(masks, 'WebAssembly SIMD is available');
  for (const [rows, rate] of [
    [37, 0.5],
    [13, 0.2],
  ] as const) {
    const total = rows * widths.reduce((a, b) => a + b, 0);
    masks.fill(total, dropoutDraw(8, 123, rate));
    const reference = dropoutMasks(8, 123, rows, widths, rate);
    let at = 0;
    for (const m of reference) {
      assert.deepEqual(new Int32Array(masks.buffer.slice(at, at + m.length).buffer), new Int32Array(m.buffer));
      at += m.length;
    }
  }
});

test('the onnx path masks kernels in WebAssembly with the bits of pruning.ts applyMask', () => {
  const rng = new Rng(31);
  const n = 1031; // not a multiple of 4
  const memory = new WebAssembly.Memory({ initial: 1 });
  const w = new Float32Array(memory.buffer, 64, n);
  const m = new Float32Array(memory.buffer, 64 + 4 * n + 12, n);
  w.set(Float32Array.from({ length: n }, () => (rng.float() < 0.1 ? -0 : rng.normal())));
  m.set(Float32Array.from({ length: n }, () => [0, -0, 1, 2, Number.NaN][rng.int(5)]));
  const expected = w.slice();
  applyMask(expected, m);
  const masker = WasmKernelMasks.create(memory);
  assert.ok(masker, 'WebAssembly SIMD is available');
  masker.apply(w.byteOffset, m.byteOffset, n);
  assert.deepEqual(new Int32Array(w.slice().buffer), new Int32Array(expected.buffer));
});

test('onnx training is deterministic, learns like wasm, and its evaluation agrees with tfjs', { skip }, async () => {
  const a = await trainOn('onnx', options());
  const b = await trainOn('onnx', options());
  const c = await trainOn('onnx', options({ seed: 100 }));
  assert.equal(digest(a.layers), digest(b.layers), 'same params and backend → identical weights');
  assert.deepEqual(a.history, b.history);
  assert.notEqual(digest(a.layers), digest(c.layers), 'another seed → other weights');
  // uint8 pixels are scaled inside the graph, float32 ones by the trainer: the same bits.
  const floatPixels = await trainOn('onnx', options({ train: { images: Float32Array.from(TRAIN.images), labels: TRAIN.labels } }));
  assert.equal(digest(floatPixels.layers), digest(a.layers), 'uint8 and float32 images train the same bits');
  const w = await trainOn('wasm', options());
  a.history.forEach((h, e) =>
    assert.ok(Math.abs(h.trainLoss - w.history[e].trainLoss) < 1e-3, `epoch ${e + 1} train loss ${h.trainLoss} (onnx) vs ${w.history[e].trainLoss} (wasm)`),
  );
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
  const prune = (over: Partial<PhaseOptions> = {}) =>
    trainOn('onnx', options({ phase: 'pruned', initial: trained.layers, epochs: 4, pruning: schedule, seed: 3, ...over }));
  const pruned = await prune();
  pruned.layers.forEach((l, i) => {
    assert.equal(
      l.kernel.reduce((n, w) => n + (w !== 0 ? 1 : 0), 0),
      weightsToKeep(l.kernel.length, 0.9),
      `layer ${i} kernel`,
    );
    assert.ok(
      l.bias.every((b) => b !== 0),
      `layer ${i} biases are trained, never pruned`,
    );
  });
  const store = memoryStore(2);
  await assert.rejects(prune({ checkpoint: store }), /simulated crash/);
  const resumed = await prune({ checkpoint: store });
  assert.equal(resumed.resumedEpochs, 2);
  assert.equal(digest(resumed.layers), digest(pruned.layers));
});

/** Run the resume child; `killAfterSave` kills it with SIGKILL as soon as it reports that save. */
function runChild(file: string, killAfterSave?: number): Promise<{ out: string; signal: NodeJS.Signals | null; code: number | null }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(HERE, 'fixtures/train/resume-child.ts'), 'onnx', file], {
    cwd: resolve(HERE, '..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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
    assert.match(resumed.out, /resuming pruned phase after epoch [2-7]\/8/);
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
    assert.match(
      warnings[0],
      new RegExp(`training on TensorFlow.js ${fallback}, because ONNX Runtime \\(onnxruntime-node\\) cannot load here: libonnxruntime`),
    );
    assert.throws(
      () => resolveBackend('onnx', missing),
      (e: Error) => e instanceof BackendUnavailableError && /train.backend is 'onnx'.*set train.backend to auto or wasm/.test(e.message),
    );
  } finally {
    console.warn = warn;
  }
  if (onnx.ok) assert.equal(resolveBackend('auto'), 'onnx');
});

test('install hygiene: npm 11 denies onnxruntime-node its postinstall, and the .npmrc setting makes the script exit at once on npm 10', () => {
  const root = resolve(HERE, '..');
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  assert.equal(pkg.allowScripts?.['onnxruntime-node'], false, 'package.json allowScripts denies it');
  const npmrc = readFileSync(join(root, '.npmrc'), 'utf8');
  assert.match(npmrc, /^onnxruntime-node-install=skip$/m);
  // npm passes .npmrc settings to install scripts as npm_config_* variables.
  const script = join(root, 'node_modules/onnxruntime-node/script/install.js');
  if (!existsSync(script)) return; // a future version without the script needs nothing
  const env = { ...process.env, npm_config_onnxruntime_node_install: 'skip', GLOBAL_AGENT_HTTPS_PROXY: 'http://127.0.0.1:9' };
  const run = spawnSync(process.execPath, [script], { env, encoding: 'utf8', timeout: 30_000 });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout + run.stderr, '', 'nothing downloaded, nothing printed');
});

test('onnx runtime facts name the ONNX Runtime version, the CPU kernel family and the session settings', { skip }, () => {
  const facts = backendRuntime('onnx');
  assert.equal(facts.backend, 'onnx');
  assert.match(facts.backend_version, /^\d+\.\d+\.\d+/);
  assert.match(facts.session, /intra_op_threads=1 denormal_as_zero=1/);
  assert.equal(facts.cpu_kernels, cpuKernelFamily());
  assert.notDeepEqual(facts, backendRuntime('wasm'));
  if (platform() === 'linux' && arch() === 'x64') {
    const flags = readFileSync('/proc/cpuinfo', 'utf8')
      .match(/^flags\s*:(.*)$/m)![1]
      .trim()
      .split(/\s+/);
    const expected = flags.includes('avx512f') ? 'x64 avx512f' : flags.includes('avx2') && flags.includes('fma') ? 'x64 avx2-fma' : /x64 (avx|sse)/;
    if (typeof expected === 'string') assert.equal(facts.cpu_kernels, expected);
    else assert.match(facts.cpu_kernels, expected);
  }
});

function artifact(value: Table | Uint8Array): InputInstance['outputs'][string] {
  const bytes = value instanceof Uint8Array ? value : tableToIPC(value, 'file');
  return {
    kind: value instanceof Uint8Array ? 'bytes' : 'arrow',
    digest: 'test' as any,
    table: async () => tableFromIPC(bytes),
    bytes: async () => bytes,
    files: async () => ({}),
  };
}

function context<P>(stage: string, axes: Axes, params: P, inputs: Record<string, InputInstance[]>): RunContext<P> & { messages: string[] } {
  const messages: string[] = [];
  return {
    stage,
    key: 'k' as any,
    axes,
    params,
    inputs,
    runtime: {},
    seed: 1234,
    progress: (u) => u.message && messages.push(u.message),
    checkpoint: { load: async () => undefined, save: async () => {} },
    downloadsDir: '/nonexistent',
    signal: new AbortController().signal,
    messages,
  };
}

test('stages on onnx: train → prune → export, deterministic, the progress line names ONNX Runtime', { skip }, async () => {
  const datasets = [
    { stage: 'datasets', axes: { dataset: 'toy' }, outputs: { table: artifact(datasetToTable({ name: 'toy', train: TRAIN, test: TEST })) }, metrics: {} },
  ];
  const axes = { dataset: 'toy', dropout: true, run: 2 };
  const common = {
    backend: 'onnx' as const,
    source: 'toy',
    batchSize: 32,
    adam: KERAS_ADAM,
    dropoutRate: 0.5,
    shuffle: true,
    trainExamples: 150,
    snapshotEvery: 0,
  };
  const trainConfig: TrainStageConfig = { ...common, hidden: [24, 16], epochs: 2 };
  const trainCtx = context('train', axes, trainConfig, { datasets });
  const trained = await trainStage.run(trainCtx);
  assert.match(trainCtx.messages[0], /^training on ONNX Runtime \d+\.\d+\.\d+ \(/);
  const again = await trainStage.run(context('train', axes, trainConfig, { datasets }));
  assert.deepEqual(tableToIPC(again.outputs.weights as Table), tableToIPC(trained.outputs.weights as Table), 'same context → same bytes');
  const pruneConfig: PruneStageConfig = {
    ...common,
    schedule: { epochs: 3, initialSparsity: 0.5, finalSparsity: 0.8, beginStep: 0, endStep: 10, frequency: 5, power: 3 },
  };
  const pruneCtx = context('prune', axes, pruneConfig, {
    train: [{ stage: 'train', axes, outputs: { weights: artifact(trained.outputs.weights as Table) }, metrics: {} }],
    datasets,
  });
  const pruned = await pruneStage.run(pruneCtx);
  assert.match(pruneCtx.messages[0], /^pruning on ONNX Runtime/);
  const layers = weightsFromTable(pruned.outputs.weights as Table).layers;
  layers.forEach((l, i) =>
    assert.equal(
      l.kernel.reduce((n, w) => n + (w !== 0 ? 1 : 0), 0),
      weightsToKeep(l.kernel.length, 0.8),
      `layer ${i}`,
    ),
  );
  const exported = await exportStage.run(
    context(
      'export',
      { ...axes, phase: 'pruned' },
      { backend: 'onnx' as const, hidden: null, dropoutRate: 0.5 },
      {
        prune: [
          {
            stage: 'prune',
            axes,
            outputs: { weights: artifact(pruned.outputs.weights as Table), history: artifact(pruned.outputs.history as Table) },
            metrics: {},
          },
        ],
      },
    ),
  );
  assert.equal(exported.metrics!.test_accuracy, pruned.metrics!.test_accuracy);
  assert.ok((exported.outputs.model_weights as Uint8Array).length > 0, 'the TF.js export runs beside onnx');
});
