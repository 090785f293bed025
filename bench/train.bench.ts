/**
 * Training benchmark (prints figures; not a test). `npm run bench:train [-- options]`
 *
 *   1. the trainer's step on the chosen backend (`--backend auto|onnx|wasm|cpu`, default auto =
 *      what `train.backend: auto` picks here): the paper's MLP (784-256×4-10, batch 128, Adam),
 *      without and with dropout 0.5, and a step of the pruning phase (mask applied every step,
 *      masks recomputed every 10 steps; no dropout); ms per step, median of repeats, the
 *      variants in rotating order. When /usr/bin/python3 can import torch (Debian's
 *      python3-torch), PyTorch's same step on one thread (bench/torch_step.py, OpenBLAS tuning
 *      variables unset) is timed interleaved with ours, and the ratios are printed.
 *   2. throughput of 1 vs 2 worker threads, each training the same number of steps.
 *   3. with --mnist: real MNIST from /work/shared/datasets (or --mnist-dir), the paper's
 *      20 + 20 epochs, without and with dropout (two workers in parallel, or --sequential);
 *      prints per-epoch lines, the wall time and the pruned test accuracy.
 *   With --wasm-detail: the wasm step's variants (tf.grads with the stock and the fixed
 *   BatchMatMul gradient, reference kernels) and its per-part breakdown.
 *
 * With --json, one line of JSON at the end: {"backend", "step_ms": {"dropout_off", "dropout_on"},
 * "prune_step_ms", "workers_2_vs_1", "pytorch": {...} or {"skipped": why}, "load_average", ...}.
 *
 * Options: --steps N (timed steps per measurement, default 60), --repeats N (default 5),
 * --worker-steps N (default 100), --worker-kernels fast|reference|both (section 2 on wasm;
 * default fast), --mnist, --mnist-dir DIR, --sequential, --skip-step, --skip-workers, --skip-torch.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { loadavg, cpus } from 'node:os';
import { parse as parseYaml } from 'yaml';
import { initBackend, resolveBackend, type BackendChoice, type BackendName } from '../science/mlp/backend.ts';
import { installFastMatMulGradient, restoreStockMatMulGradient } from '../science/mlp/matmul-grad.ts';
import * as tf from '@tensorflow/tfjs-core';
import { batchGradients, epochMessage, meanCrossEntropyOp, setStepKernels, trainPhase, type LabelledImages, type StepKernels } from '../science/mlp/trainer.ts';
import { WasmAdam } from '../science/mlp/adam-wasm.ts';
import { dropoutMasks } from '../science/mlp/dropout.ts';
import { glorotUniformInit, layerSizes, PAPER_HIDDEN } from '../science/mlp/model.ts';
import { Adam, KERAS_ADAM } from '../science/mlp/adam.ts';
import { Rng } from '../science/random.ts';
import { gunzipIfNeeded, idxImages, idxLabels, parseIdx } from '../science/datasets/idx.ts';
import { trainParams, pruneParams } from '../stages/params/train.ts';
import { resolvePruneConfig, resolveTrainConfig } from '../stages/conditions.ts';

const BATCH = 128;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const flag = (name: string) => process.argv.includes(`--${name}`);
function argString(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

function syntheticData(examples: number, seed: number): LabelledImages {
  const rng = new Rng(seed);
  const images = new Uint8Array(examples * 784);
  for (let i = 0; i < images.length; i++) images[i] = rng.nextUint32() & 255;
  return { images, labels: Uint8Array.from({ length: examples }, () => rng.int(10)) };
}

/** Wall and CPU time per step of one epoch of `steps` batches (the single 16-example evaluation is negligible). */
async function timePerStep(
  steps: number,
  dropoutRate: number,
  seed: number,
  kernels: StepKernels = 'fast',
  prune = false,
): Promise<{ wall: number; cpu: number }> {
  const previousKernels = setStepKernels(kernels);
  const train = syntheticData(steps * BATCH, seed);
  const test = syntheticData(16, seed + 1);
  const initial = glorotUniformInit(layerSizes(PAPER_HIDDEN), seed);
  // As in the paper's pruning phase: the schedule spans 20 epochs, masks every 10 steps.
  const pruning = prune ? { initialSparsity: 0.5, finalSparsity: 0.9, beginStep: 0, endStep: 20 * steps, frequency: 10, power: 3 } : undefined;
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  await trainPhase({
    phase: 'unpruned',
    train,
    test,
    initial,
    seed,
    epochs: 1,
    batchSize: BATCH,
    adam: KERAS_ADAM,
    dropoutRate,
    shuffle: true,
    pruning,
  });
  const cpu = process.cpuUsage(cpuStarted);
  setStepKernels(previousKernels);
  return { wall: (performance.now() - started) / steps, cpu: (cpu.user + cpu.system) / 1000 / steps };
}

async function msPerStep(steps: number, dropoutRate: number, seed: number, kernels: StepKernels = 'fast'): Promise<number> {
  return (await timePerStep(steps, dropoutRate, seed, kernels)).wall;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Wall and CPU time per step of the step the trainer used before its hand-written backward pass:
 * matMul + add + ReLU (+ mask) forward, tf.grads through the tape, gradients copied out with
 * dataSync, Adam in JS. The BatchMatMul gradient in the registry (stock or fixed) is used.
 */
function tapeStepTime(steps: number, dropoutRate: number, seed: number): { wall: number; cpu: number } {
  const data = syntheticData(steps * BATCH, seed);
  const layers = glorotUniformInit(layerSizes(PAPER_HIDDEN), seed);
  const params = [...layers.map((l) => l.kernel), ...layers.map((l) => l.bias)];
  const adam = new Adam(
    KERAS_ADAM,
    params.map((p) => p.length),
  );
  const x = new Float32Array(BATCH * 784);
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  for (let step = 0; step < steps; step++) {
    for (let j = 0; j < x.length; j++) x[j] = data.images[step * BATCH * 784 + j] / 255;
    const y = data.labels.subarray(step * BATCH, (step + 1) * BATCH);
    const masks = dropoutRate > 0 ? dropoutMasks(seed, step, BATCH, PAPER_HIDDEN, dropoutRate) : null;
    let grads: Float32Array[] = [];
    tf.tidy(() => {
      const xs = tf.tensor2d(x, [BATCH, 784]);
      const maskTensors = masks?.map((m) => tf.tensor2d(m, [BATCH, 256]));
      const weights = [...layers.map((l) => tf.tensor2d(l.kernel, [l.fanIn, l.fanOut])), ...layers.map((l) => tf.tensor1d(l.bias))];
      const loss = meanCrossEntropyOp(y, { lossSum: 0, correct: 0 });
      const f = (...w: tf.Tensor[]) => {
        let h: tf.Tensor = xs;
        for (let i = 0; i < layers.length; i++) {
          h = tf.add(tf.matMul(h as tf.Tensor2D, w[i] as tf.Tensor2D), w[layers.length + i]);
          if (i < layers.length - 1) {
            h = tf.relu(h);
            if (maskTensors) h = tf.mul(h, maskTensors[i]);
          }
        }
        return loss(h) as tf.Scalar;
      };
      grads = tf
        .grads(f)(weights)
        .map((g) => g.dataSync() as Float32Array);
    });
    adam.step(params, grads);
  }
  const cpu = process.cpuUsage(cpuStarted);
  return { wall: (performance.now() - started) / steps, cpu: (cpu.user + cpu.system) / 1000 / steps };
}

type StepVariant = 'tape+stock' | 'tape+fixed' | 'trainer, reference kernels' | 'trainer';

async function stepBenchmark(): Promise<void> {
  const steps = arg('steps', 60);
  const repeats = arg('repeats', 3);
  await initBackend('wasm');
  console.log('\n1b. wasm detail');
  await msPerStep(10, 0.5, 1); // warm-up: JIT, wasm memory growth
  await timePerStep(10, 0.5, 1, 'reference');
  tapeStepTime(5, 0.5, 1);
  console.log(`\n1. wasm training step, paper MLP, batch ${BATCH}, Adam (${steps} steps × ${repeats} repeats, median; rotating order)`);
  const variants: StepVariant[] = ['tape+stock', 'tape+fixed', 'trainer, reference kernels', 'trainer'];
  for (const dropoutRate of [0, 0.5]) {
    const wall = new Map<StepVariant, number[]>(variants.map((v) => [v, []]));
    const cpu = new Map<StepVariant, number[]>(variants.map((v) => [v, []]));
    for (let r = 0; r < repeats; r++) {
      for (let k = 0; k < variants.length; k++) {
        const which = variants[(k + r) % variants.length];
        if (which === 'tape+stock') restoreStockMatMulGradient();
        else installFastMatMulGradient();
        const t =
          which === 'trainer' || which === 'trainer, reference kernels'
            ? await timePerStep(steps, dropoutRate, 10 + r, which === 'trainer' ? 'fast' : 'reference')
            : tapeStepTime(which === 'tape+stock' ? Math.ceil(steps / 3) : steps, dropoutRate, 10 + r);
        wall.get(which)!.push(t.wall);
        cpu.get(which)!.push(t.cpu);
      }
    }
    installFastMatMulGradient();
    const fmt = (v: StepVariant) => `${median(wall.get(v)!).toFixed(1)} ms (cpu ${median(cpu.get(v)!).toFixed(1)})`;
    const speedup = median(wall.get('trainer, reference kernels')!) / median(wall.get('trainer')!);
    console.log(
      `   dropout ${dropoutRate === 0 ? 'off' : dropoutRate}: tf.grads step, stock gradient ${fmt('tape+stock')}; tf.grads step, fixed gradient ${fmt('tape+fixed')}; ` +
        `trainer step, reference kernels ${fmt('trainer, reference kernels')}; trainer step ${fmt('trainer')} (${speedup.toFixed(2)}× faster); target ≤ 13 ms`,
    );
  }
  partsBenchmark(steps);
}

/** ms per call of `f` over `n` calls after 5 warm-up calls. */
function msPerCall(n: number, f: (i: number) => void): number {
  for (let i = 0; i < 5; i++) f(i);
  const started = performance.now();
  for (let i = 0; i < n; i++) f(i);
  return (performance.now() - started) / n;
}

/** One step's parts, reference kernels against fast ones (dropout 0.5; batchGradients includes the masks, not Adam). */
function partsBenchmark(n: number): void {
  const layers = glorotUniformInit(layerSizes(PAPER_HIDDEN), 3);
  const data = syntheticData(BATCH, 3);
  const x = Float32Array.from(data.images, (v) => v / 255);
  const params = [...layers.map((l) => l.kernel), ...layers.map((l) => l.bias)];
  const sizes = params.map((p) => p.length);
  const dropout = (i: number) => ({ seed: 3, step: i, rate: 0.5 });
  const gradientsMs = (kernels: StepKernels) => {
    const previous = setStepKernels(kernels);
    const ms = msPerCall(n, (i) => batchGradients(layers, x, data.labels, BATCH, dropout(i), 2, () => {}));
    setStepKernels(previous);
    return ms;
  };
  let grads: Float32Array[] = [];
  batchGradients(layers, x, data.labels, BATCH, dropout(0), 2, (g) => (grads = g.map((a) => a.slice())));
  const jsAdam = new Adam(KERAS_ADAM, sizes);
  const wasmAdam = WasmAdam.create(KERAS_ADAM, sizes);
  const jsParams = params.map((p) => p.slice());
  wasmAdam?.params.forEach((p, i) => p.set(params[i]));
  const adamJs = msPerCall(n, () => jsAdam.step(jsParams, grads));
  const adamWasm = wasmAdam ? msPerCall(n, () => wasmAdam.step(grads)).toFixed(2) : 'unavailable';
  const masksJs = msPerCall(n, (i) => dropoutMasks(3, i, BATCH, PAPER_HIDDEN, 0.5));
  console.log(
    `   per part (dropout 0.5, ms): forward + backward with masks: reference ${gradientsMs('reference').toFixed(2)}, fast ${gradientsMs('fast').toFixed(2)}; ` +
      `Adam: JavaScript ${adamJs.toFixed(2)}, WebAssembly ${adamWasm} (gradients copied in); masks in JavaScript ${masksJs.toFixed(2)} (reference path)`,
  );
}

interface WorkerJob {
  kind: 'steps' | 'mnist';
  backend: BackendName;
  steps?: number;
  kernels?: StepKernels;
  seed: number;
  dropout?: boolean;
  mnistDir?: string;
}

function startWorker(job: WorkerJob, onMessage: (m: any) => void = () => {}): { worker: Worker; ready: Promise<void>; done: Promise<any> } {
  // Worker threads do not inherit tsx's module hooks on Node 20: register tsx, then load this file.
  const boot = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(import.meta.url)}); })`;
  const worker = new Worker(boot, { eval: true, workerData: job });
  let markReady = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const done = new Promise<any>((resolve, reject) => {
    worker.on('message', (m) => (m.ready ? markReady() : m.done ? resolve(m) : onMessage(m)));
    worker.on('error', reject);
    worker.on('exit', (code) => code !== 0 && reject(new Error(`worker exited with ${code}`)));
  });
  return { worker, ready, done };
}

/** Seconds the slowest of `n` workers needs for `steps` steps each, all started together once every worker is warmed up. */
async function concurrentSteps(n: number, steps: number, kernels: StepKernels): Promise<number> {
  const workers = Array.from({ length: n }, (_, i) => startWorker({ kind: 'steps', backend: BACKEND, steps, seed: 1 + i, kernels }));
  await Promise.all(workers.map((w) => w.ready));
  workers.forEach((w) => w.worker.postMessage('go'));
  const results = await Promise.all(workers.map((w) => w.done));
  return Math.max(...results.map((r) => r.seconds));
}

async function workerBenchmark(): Promise<void> {
  const steps = arg('worker-steps', BACKEND === 'onnx' ? 300 : 100);
  const i = process.argv.indexOf('--worker-kernels');
  const choice = BACKEND === 'wasm' && i >= 0 ? process.argv[i + 1] : 'fast';
  const kernelSets: StepKernels[] = choice === 'both' ? ['reference', 'fast'] : [choice === 'reference' ? 'reference' : 'fast'];
  console.log(`\n2. worker threads, ${steps} steps each (${BACKEND}, dropout 0.5; timed after each worker's start-up and warm-up)`);
  for (const kernels of kernelSets) {
    const t1 = steps / (await concurrentSteps(1, steps, kernels));
    const t2 = (2 * steps) / (await concurrentSteps(2, steps, kernels));
    SUMMARY.workers_2_vs_1 = round(t2 / t1, 2);
    console.log(
      `   ${BACKEND === 'wasm' ? `${kernels} kernels: ` : ''}1 worker: ${t1.toFixed(1)} steps/s; 2 workers: ${t2.toFixed(1)} steps/s → ${(t2 / t1).toFixed(2)}× (target ≥ 1.8×)`,
    );
  }
}

function loadMnist(dir: string): { train: LabelledImages; test: LabelledImages } {
  const read = (name: string) => parseIdx(gunzipIfNeeded(new Uint8Array(readFileSync(join(dir, name))), name), name);
  return {
    train: {
      images: idxImages(read('train-images-idx3-ubyte.gz'), 'train images').images,
      labels: idxLabels(read('train-labels-idx1-ubyte.gz'), 'train labels'),
    },
    test: { images: idxImages(read('t10k-images-idx3-ubyte.gz'), 'test images').images, labels: idxLabels(read('t10k-labels-idx1-ubyte.gz'), 'test labels') },
  };
}

/** One MNIST network with the paper settings resolved from params.yaml. */
async function mnistNetwork(
  job: WorkerJob,
  report: (line: string) => void,
): Promise<{ seconds: number; unprunedAcc: number; prunedAcc: number; sparsity: number }> {
  const yaml = parseYaml(readFileSync(new URL('../params.yaml', import.meta.url), 'utf8'));
  const axes = { dataset: 'mnist', dropout: job.dropout === true, run: 0 };
  const t = resolveTrainConfig(trainParams.parse(yaml.train), axes);
  const p = resolvePruneConfig(pruneParams.parse(yaml.prune), axes);
  await initBackend(job.backend);
  const data = loadMnist(job.mnistDir!);
  const started = performance.now();
  const common = { ...data, batchSize: t.batchSize, adam: t.adam, dropoutRate: t.dropoutRate, shuffle: t.shuffle };
  const tag = job.dropout ? 'dropout' : 'no dropout';
  const unpruned = await trainPhase({
    ...common,
    phase: 'unpruned',
    initial: glorotUniformInit(layerSizes(t.hidden), job.seed),
    seed: job.seed + 1,
    epochs: t.epochs,
    onEpoch: (r) => report(`   [${tag}] ${epochMessage(r)}`),
  });
  const stepsPerEpoch = Math.ceil(data.train.labels.length / t.batchSize);
  const pruned = await trainPhase({
    ...common,
    phase: 'pruned',
    initial: unpruned.layers,
    seed: job.seed + 2,
    epochs: p.epochs,
    pruning: { ...p, endStep: p.endStep ?? stepsPerEpoch * p.epochs },
    onEpoch: (r) => report(`   [${tag}] pruning ${epochMessage(r)} sparsity ${r.metrics.sparsity.toFixed(3)}`),
  });
  const last = pruned.history.at(-1)!;
  return {
    seconds: (performance.now() - started) / 1000,
    unprunedAcc: unpruned.history.at(-1)!.testAccuracy,
    prunedAcc: last.testAccuracy,
    sparsity: last.sparsity,
  };
}

async function mnistBenchmark(): Promise<void> {
  const dir = process.argv.includes('--mnist-dir') ? process.argv[process.argv.indexOf('--mnist-dir') + 1] : '/work/shared/datasets/mnist';
  const sequential = flag('sequential');
  console.log(
    `\n3. MNIST (${dir}), paper settings from params.yaml, 20 + 20 epochs, ${BACKEND}, ${sequential ? 'one after the other' : 'two workers in parallel'}`,
  );
  const jobs = [false, true].map((dropout, i): WorkerJob => ({ kind: 'mnist', backend: BACKEND, seed: 1000 + i, dropout, mnistDir: dir }));
  const started = performance.now();
  const results: any[] = [];
  if (sequential) for (const j of jobs) results.push(await startWorker(j, (m) => console.log(m.line)).done);
  else results.push(...(await Promise.all(jobs.map((j) => startWorker(j, (m) => console.log(m.line)).done))));
  SUMMARY.mnist = results.map((r, i) => ({
    dropout: jobs[i].dropout,
    minutes: round(r.seconds / 60, 2),
    unpruned_test_accuracy: r.unprunedAcc,
    pruned_test_accuracy: r.prunedAcc,
  }));
  results.forEach((r, i) =>
    console.log(
      `   ${jobs[i].dropout ? 'dropout   ' : 'no dropout'}: ${(r.seconds / 60).toFixed(1)} min, unpruned test acc ${r.unprunedAcc.toFixed(4)}, pruned test acc ${r.prunedAcc.toFixed(4)} (paper ${jobs[i].dropout ? '0.979' : '0.984'}), sparsity ${r.sparsity.toFixed(3)}`,
    ),
  );
  console.log(`   wall time ${((performance.now() - started) / 60000).toFixed(1)} min (target ≤ 6 min per network on one worker)`);
}

async function workerMain(job: WorkerJob): Promise<void> {
  if (job.kind === 'steps') {
    await initBackend(job.backend);
    await msPerStep(5, 0.5, job.seed, job.kernels); // warm-up
    parentPort!.postMessage({ ready: true });
    await new Promise((resolve) => parentPort!.once('message', resolve));
    const ms = await msPerStep(job.steps!, 0.5, job.seed, job.kernels);
    parentPort!.postMessage({ done: true, seconds: (ms * job.steps!) / 1000 });
  } else {
    const result = await mnistNetwork(job, (line) => parentPort!.postMessage({ line }));
    parentPort!.postMessage({ done: true, ...result });
  }
}

const round = (v: number, digits = 3) => Number(v.toFixed(digits));
/** What --json prints at the end. */
const SUMMARY: Record<string, unknown> = {};
const BACKEND: BackendName = isMainThread ? resolveBackend(argString('backend', 'auto') as BackendChoice) : (workerData as WorkerJob).backend;

/** PyTorch's step in a child process (bench/torch_step.py), driven line by line; null with the reason when unavailable. */
interface TorchSteps {
  time(dropout: boolean, steps: number): Promise<{ wall: number; cpu: number }>;
  version: string;
  close(): void;
}

async function startTorch(): Promise<TorchSteps | string> {
  if (flag('skip-torch')) return '--skip-torch';
  const python = '/usr/bin/python3';
  if (!existsSync(python)) return `${python} not found`;
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  // torch.set_num_threads(1) does not reach Debian torch's OpenBLAS pool, which otherwise uses
  // every core (CPU time ≈ 2× wall time): pin it, so "one thread" means one core.
  env.OPENBLAS_NUM_THREADS = '1';
  env.OMP_NUM_THREADS = '1';
  const child = spawn(python, [new URL('./torch_step.py', import.meta.url).pathname], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const exited = new Promise<string>((resolve) =>
    child.on('exit', (code) => resolve(`${python} bench/torch_step.py exited with ${code}: ${stderr.trim().split('\n').at(-1) ?? ''}`)),
  );
  const next = async (timeoutMs = 300_000) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<string>(
      (resolve) => (timer = setTimeout(() => resolve(`no answer from ${python} bench/torch_step.py within ${timeoutMs / 1000} s`), timeoutMs)),
    );
    const line = await Promise.race([lines.next(), exited, timeout]);
    clearTimeout(timer);
    if (typeof line === 'string') throw new Error(line);
    return JSON.parse(line.value as string);
  };
  try {
    const ready = await next();
    return {
      version: ready.torch,
      async time(dropout, steps) {
        child.stdin.write(`${dropout ? 1 : 0} ${steps}\n`);
        return next();
      },
      close: () => child.stdin.end(),
    };
  } catch (e) {
    child.kill();
    return e instanceof Error ? e.message : String(e);
  }
}

/** Section 1: the trainer's step on BACKEND (and PyTorch's), interleaved, medians of repeats. */
async function trainerStepBenchmark(): Promise<void> {
  const steps = arg('steps', 60);
  const repeats = arg('repeats', 5);
  const info = await initBackend(BACKEND);
  await timePerStep(10, 0.5, 1); // warm-up: JIT, sessions, memory
  await timePerStep(10, 0, 1);
  await timePerStep(20, 0, 1, 'fast', true);
  const torch = await startTorch();
  console.log(`\n1. the trainer's step on ${info.label}, paper MLP, batch ${BATCH}, Adam (${steps} steps × ${repeats} repeats, median, rotating order)`);
  if (typeof torch === 'string') console.log(`   PyTorch: skipped (${torch})`);
  type Variant = 'off' | 'on' | 'prune' | 'torch off' | 'torch on';
  const variants: Variant[] = typeof torch === 'string' ? ['off', 'on', 'prune'] : ['off', 'torch off', 'on', 'torch on', 'prune'];
  const wall = new Map<Variant, number[]>(variants.map((v) => [v, []]));
  const cpu = new Map<Variant, number[]>(variants.map((v) => [v, []]));
  for (let r = 0; r < repeats; r++)
    for (let k = 0; k < variants.length; k++) {
      const v = variants[(k + r) % variants.length];
      const t = v.startsWith('torch')
        ? await (torch as TorchSteps).time(v === 'torch on', steps)
        : await timePerStep(steps, v === 'on' ? 0.5 : 0, 10 + r, 'fast', v === 'prune');
      wall.get(v)!.push(t.wall);
      cpu.get(v)!.push(t.cpu);
    }
  const ms = (v: Variant) => median(wall.get(v)!);
  const fmt = (v: Variant) => `${ms(v).toFixed(2)} ms (cpu ${median(cpu.get(v)!).toFixed(2)})`;
  console.log(
    `   no dropout ${fmt('off')}; dropout 0.5 ${fmt('on')}; pruning step (no dropout) ${fmt('prune')} = ${(ms('prune') / ms('off')).toFixed(2)}× a training step (target ≤ 1.1×)`,
  );
  const cpuMs = (v: Variant) => round(median(cpu.get(v)!));
  SUMMARY.step_ms = { dropout_off: round(ms('off')), dropout_on: round(ms('on')) };
  SUMMARY.prune_step_ms = round(ms('prune'));
  SUMMARY.prune_vs_train = round(ms('prune') / ms('off'));
  // CPU time moves less than wall time on a shared machine: the steadier figures there.
  SUMMARY.cpu_ms = { dropout_off: cpuMs('off'), dropout_on: cpuMs('on'), prune: cpuMs('prune') };
  if (typeof torch === 'string') SUMMARY.pytorch = { skipped: torch };
  else {
    torch.close();
    const ratio = { dropout_off: round(ms('off') / ms('torch off')), dropout_on: round(ms('on') / ms('torch on')) };
    console.log(`   PyTorch ${torch.version}, 1 thread: no dropout ${fmt('torch off')}; dropout 0.5 ${fmt('torch on')}`);
    console.log(`   ours / PyTorch: no dropout ${ratio.dropout_off.toFixed(2)}, dropout ${ratio.dropout_on.toFixed(2)} (target ≤ 1.0)`);
    SUMMARY.pytorch = {
      version: torch.version,
      step_ms: { dropout_off: round(ms('torch off')), dropout_on: round(ms('torch on')) },
      cpu_ms: { dropout_off: cpuMs('torch off'), dropout_on: cpuMs('torch on') },
      ratio,
    };
  }
}

if (isMainThread) {
  const load = loadavg();
  console.log(
    `training benchmark — Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model.trim()}), load average ${load.map((l) => l.toFixed(2)).join(' ')}, backend ${BACKEND}`,
  );
  Object.assign(SUMMARY, { bench: 'train', backend: BACKEND, load_average_start: round(load[0], 2) });
  if (!flag('skip-step')) await trainerStepBenchmark();
  if (flag('wasm-detail')) await stepBenchmark();
  if (!flag('skip-workers')) await workerBenchmark();
  if (flag('mnist')) await mnistBenchmark();
  if (BACKEND === 'onnx') SUMMARY.cpu_kernels = (await import('../science/mlp/onnx-runtime.ts')).cpuKernelFamily();
  SUMMARY.load_average_end = round(loadavg()[0], 2);
  if (flag('json')) console.log(JSON.stringify(SUMMARY));
  process.exit(0);
} else {
  await workerMain(workerData as WorkerJob);
}
