/**
 * Which backend trains the networks, and its one-time initialisation.
 *
 * Order of preference for `auto`: `onnx` (ONNX Runtime's native CPU runtime from the
 * onnxruntime-node package: the trainer's step as one graph, onnx-trainer.ts), then the
 * TensorFlow.js backends: `@tensorflow/tfjs-node` (an optional dependency: native TensorFlow,
 * often not installable), `@tensorflow/tfjs-backend-wasm` (XNNPACK, single-threaded in Node),
 * the pure-JS `cpu` backend. When ONNX Runtime cannot load, `auto` says so in one line and
 * goes on with the next. Backends are imported dynamically, so loading this module never
 * initialises anything; `initBackend` does it once per thread.
 *
 * On wasm the BatchMatMul gradient is replaced (see matmul-grad.ts): the stock one calls the
 * transposed matMul kernels, which XNNPACK runs several times slower than explicit transposes.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { readFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { installFastMatMulGradient, restoreStockMatMulGradient } from './matmul-grad.ts';
import { cpuKernelFamily, loadOnnxRuntime, setNativeTraining, SESSION_OPTIONS, type OnnxAvailability } from './onnx-runtime.ts';

export type BackendChoice = 'auto' | 'onnx' | 'tensorflow' | 'wasm' | 'cpu';
export type BackendName = Exclude<BackendChoice, 'auto'>;
/** The TensorFlow.js backends (tfjs also serves the onnx backend's TF.js export, on wasm or cpu). */
type TfjsBackendName = Exclude<BackendName, 'onnx'>;

const require = createRequire(import.meta.url);

/** npm package that provides each backend. */
const BACKEND_PACKAGES: Record<BackendName, string> = {
  onnx: 'onnxruntime-node',
  tensorflow: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};

/** tfjs' own name for each backend. */
const TFJS_NAMES: Record<TfjsBackendName, string> = { tensorflow: 'tensorflow', wasm: 'wasm', cpu: 'cpu' };

export class BackendUnavailableError extends Error {
  override name = 'BackendUnavailableError';
}

function packageVersion(pkg: string): string | undefined {
  try {
    const json = JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), 'utf8')) as { version?: string };
    return json.version;
  } catch {
    return undefined;
  }
}

/** Is the backend's package installed? (Resolution only: nothing is loaded.) */
export function backendInstalled(name: BackendName): boolean {
  return packageVersion(BACKEND_PACKAGES[name]) !== undefined;
}

let fallbackReported = false;

/**
 * The backend `choice` stands for on this machine (loads nothing but ONNX Runtime's binding, to
 * know whether it works here). `onnx` stands in for tests of the fallback.
 */
export function resolveBackend(choice: BackendChoice, onnx: OnnxAvailability = loadOnnxRuntime()): BackendName {
  if (choice === 'onnx' || (choice === 'auto' && onnx.ok)) {
    if (onnx.ok) return 'onnx';
    throw new BackendUnavailableError(
      `train.backend is 'onnx' but ONNX Runtime (onnxruntime-node) cannot load here: ${onnx.reason}; set train.backend to auto or wasm in params.yaml`,
    );
  }
  if (choice !== 'auto') {
    if (!backendInstalled(choice))
      throw new BackendUnavailableError(
        `train.backend is '${choice}' but ${BACKEND_PACKAGES[choice]} is not installed; set train.backend to auto, wasm or cpu in params.yaml`,
      );
    return choice;
  }
  const name = firstTfjsBackend();
  if (!onnx.ok && !fallbackReported && isMainThread) {
    fallbackReported = true;
    console.warn(`train.backend auto: training on TensorFlow.js ${name}, because ONNX Runtime (onnxruntime-node) cannot load here: ${onnx.reason}`);
  }
  return name;
}

function firstTfjsBackend(): TfjsBackendName {
  for (const name of ['tensorflow', 'wasm', 'cpu'] as const) if (backendInstalled(name)) return name;
  throw new BackendUnavailableError('no TensorFlow.js backend is installed (expected @tensorflow/tfjs-backend-wasm or -cpu)');
}

/**
 * The runtime facts that change trained numbers: the backend, its package version, the tfjs
 * version and (on wasm) the gradient fix. Stages put these in StageDef.runtime so they enter keys.
 */
export function backendRuntime(choice: BackendChoice): Record<string, string> {
  const backend = resolveBackend(choice);
  if (backend === 'onnx') return onnxRuntimeFacts();
  const facts: Record<string, string> = {
    backend,
    backend_version: packageVersion(BACKEND_PACKAGES[backend]) ?? 'unknown',
    tfjs_core: packageVersion('@tensorflow/tfjs-core') ?? 'unknown',
  };
  if (backend === 'wasm') facts.matmul_gradient = 'explicit-transpose';
  // How trainer.ts computes a step (fused forward kernels, hand-written backward): its rounding
  // differs from the tf.grads version, so networks trained by the two must not share keys.
  facts.train_step = 'fused-bias-forward+manual-backward';
  return facts;
}

/**
 * The onnx backend's identity: ONNX Runtime's version, the CPU kernel family MLAS dispatches to,
 * the session settings that change bits (threads, denormal flushing), and the step's formulation.
 */
function onnxRuntimeFacts(): Record<string, string> {
  return {
    backend: 'onnx',
    backend_version: packageVersion(BACKEND_PACKAGES.onnx) ?? 'unknown',
    cpu_kernels: cpuKernelFamily(),
    session: `intra_op_threads=${SESSION_OPTIONS.intraOpNumThreads} denormal_as_zero=${SESSION_OPTIONS.extra.session.set_denormal_as_zero} optimization=${SESSION_OPTIONS.graphOptimizationLevel}`,
    train_step: 'onnx-graph(forward+manual-backward, gemm bias gradients, min relu step)+wasm-adam-f64',
  };
}

export interface BackendInfo {
  name: BackendName;
  version: string;
  /** For progress lines: 'ONNX Runtime 1.31.1 (x64 avx512f)', 'TensorFlow.js wasm 4.22.0'. */
  label: string;
}

const initialised = new Map<TfjsBackendName, Promise<void>>();

async function loadBackend(name: TfjsBackendName): Promise<void> {
  // tfjs-core's Node bundle ships no gradient configs; tfjs-layers' bundle registers them all
  // into the same (shared) registry, as the @tensorflow/tfjs union package does.
  await import('@tensorflow/tfjs-layers');
  if (name === 'tensorflow') {
    // Optional dependency; a variable specifier keeps bundlers and tsc from requiring it.
    const specifier = BACKEND_PACKAGES.tensorflow;
    await import(specifier);
  } else if (name === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // Threads are unsupported in Node (tfjs issue 3830); SIMD is detected by the backend.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    const dist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
    wasm.setWasmPaths(join(dist, '/'));
  } else {
    await import('@tensorflow/tfjs-backend-cpu');
  }
  if (!(await tf.setBackend(TFJS_NAMES[name])))
    throw new BackendUnavailableError(`TensorFlow.js backend '${name}' (${BACKEND_PACKAGES[name]}) failed to initialise`);
  // The cpu backend prints an "install tfjs-node" banner on first use; the choice is deliberate here.
  if (name === 'cpu') (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
}

/**
 * Make `choice`'s backend the active tfjs backend of this thread, loading it the first time.
 * Call inside a stage's run (once per worker is memoised), never at module import time.
 */
export async function initBackend(choice: BackendChoice): Promise<BackendInfo> {
  const resolved = resolveBackend(choice);
  setNativeTraining(resolved === 'onnx');
  // The onnx backend still uses tfjs for the TF.js export: the fastest TensorFlow.js backend there is.
  const name = resolved === 'onnx' ? firstTfjsBackend() : resolved;
  let ready = initialised.get(name);
  if (!ready) {
    ready = loadBackend(name);
    initialised.set(name, ready);
    ready.catch(() => initialised.delete(name));
  }
  await ready;
  if (tf.getBackend() !== TFJS_NAMES[name]) await tf.setBackend(TFJS_NAMES[name]);
  // The gradient registry is global, so switch the fix with the backend it belongs to.
  if (name === 'wasm') installFastMatMulGradient();
  else restoreStockMatMulGradient();
  const version = packageVersion(BACKEND_PACKAGES[resolved]) ?? 'unknown';
  const label = resolved === 'onnx' ? `ONNX Runtime ${version} (${cpuKernelFamily()})` : `TensorFlow.js ${name} ${version}`;
  return { name: resolved, version, label };
}
