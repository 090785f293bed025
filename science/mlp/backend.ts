/**
 * Which TensorFlow.js backend trains the networks, and its one-time initialisation.
 *
 * Order of preference for `auto`: `@tensorflow/tfjs-node` (an optional dependency: native
 * TensorFlow, fastest, often not installable), then `@tensorflow/tfjs-backend-wasm` (XNNPACK,
 * single-threaded in Node), then the pure-JS `cpu` backend. Backends are imported dynamically,
 * so loading this module never initialises anything; `initBackend` does it once per thread.
 *
 * On wasm the BatchMatMul gradient is replaced (see matmul-grad.ts): the stock one calls the
 * transposed matMul kernels, which XNNPACK runs several times slower than explicit transposes.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { installFastMatMulGradient, restoreStockMatMulGradient } from './matmul-grad.ts';

export type BackendChoice = 'auto' | 'tensorflow' | 'wasm' | 'cpu';
export type BackendName = Exclude<BackendChoice, 'auto'>;

const require = createRequire(import.meta.url);

/** npm package that provides each backend. */
const BACKEND_PACKAGES: Record<BackendName, string> = {
  tensorflow: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};

/** tfjs' own name for each backend. */
const TFJS_NAMES: Record<BackendName, string> = { tensorflow: 'tensorflow', wasm: 'wasm', cpu: 'cpu' };

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

/** The backend `choice` stands for on this machine (without loading it). */
export function resolveBackend(choice: BackendChoice): BackendName {
  if (choice !== 'auto') {
    if (!backendInstalled(choice))
      throw new BackendUnavailableError(
        `train.backend is '${choice}' but ${BACKEND_PACKAGES[choice]} is not installed; set train.backend to auto, wasm or cpu in params.yaml`,
      );
    return choice;
  }
  for (const name of ['tensorflow', 'wasm', 'cpu'] as const) if (backendInstalled(name)) return name;
  throw new BackendUnavailableError('no TensorFlow.js backend is installed (expected @tensorflow/tfjs-backend-wasm or -cpu)');
}

/**
 * The runtime facts that change trained numbers: the backend, its package version, the tfjs
 * version and (on wasm) the gradient fix. Stages put these in StageDef.runtime so they enter keys.
 */
export function backendRuntime(choice: BackendChoice): Record<string, string> {
  const backend = resolveBackend(choice);
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

export interface BackendInfo {
  name: BackendName;
  version: string;
}

const initialised = new Map<BackendName, Promise<void>>();

async function loadBackend(name: BackendName): Promise<void> {
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
  const name = resolveBackend(choice);
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
  return { name, version: packageVersion(BACKEND_PACKAGES[name]) ?? 'unknown' };
}
