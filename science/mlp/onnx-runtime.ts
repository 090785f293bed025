/**
 * Loading ONNX Runtime (`onnxruntime-node`, whose npm package ships the CPU runtime for Linux
 * x64/arm64, macOS and Windows) and the facts that decide its arithmetic.
 *
 * Loading never throws: when the native binding cannot load (no binary for this platform, an
 * old C library, a damaged install), `loadOnnxRuntime` reports why and the caller falls back.
 * Sessions use one intra-op thread (one network per core; `--jobs N` trains N at once) and
 * flush denormals to zero: without it the step's gradients and the dropout path decay into
 * subnormal floats, which the CPU handles ≈ 4× slower (measured, docs/training.md).
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { arch, cpus, platform } from 'node:os';
import type * as Ort from 'onnxruntime-node';

export type OrtModule = typeof Ort;

export type OnnxAvailability = { ok: true; ort: OrtModule; version: string } | { ok: false; reason: string };

const require = createRequire(import.meta.url);
let cached: OnnxAvailability | undefined;

/** ONNX Runtime if its native binding loads here (memoised per thread), else why not. */
export function loadOnnxRuntime(): OnnxAvailability {
  if (cached) return cached;
  try {
    const ort = require('onnxruntime-node') as OrtModule;
    const version = (JSON.parse(readFileSync(require.resolve('onnxruntime-node/package.json'), 'utf8')) as { version: string }).version;
    cached = { ok: true, ort, version };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    cached = { ok: false, reason: message.split('\n')[0] };
  }
  return cached;
}

/** The session options every training and evaluation session uses (part of the backend's identity). */
export const SESSION_OPTIONS = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
  extra: { session: { set_denormal_as_zero: '1' } },
} as const satisfies Ort.InferenceSession.SessionOptions;

/** CPU flags that select MLAS kernels (its platform init dispatches on CPUID / hwcaps). */
const X64_FAMILIES: [string, string[]][] = [
  ['avx512f', ['avx512f']],
  ['avx2-fma', ['avx2', 'fma']],
  ['avx', ['avx']],
];
const ARM64_FEATURES = ['asimd', 'asimddp', 'fphp', 'asimdhp', 'i8mm', 'bf16', 'sve', 'sve2', 'sme', 'sme2'];

/**
 * Which family of CPU kernels ONNX Runtime's MLAS runs here, e.g. `x64 avx512f` or
 * `arm64 asimd,i8mm,sve`: MLAS picks its GEMM and softmax kernels by the CPU's features, and the
 * kernels round differently, so this enters the key of every stage the native path computes.
 * From /proc/cpuinfo on Linux; elsewhere the CPU model name stands in (macOS: one Apple chip
 * family per name).
 */
export function cpuKernelFamily(): string {
  const a = arch();
  let flags: Set<string> | null = null;
  if (platform() === 'linux') {
    try {
      const info = readFileSync('/proc/cpuinfo', 'utf8');
      const line = info.split('\n').find((l) => /^(flags|Features)\s*:/.test(l));
      if (line) flags = new Set(line.split(':')[1].trim().split(/\s+/));
    } catch {
      flags = null;
    }
  }
  if (!flags) return `${platform()} ${a} ${cpus()[0]?.model.trim() ?? 'unknown cpu'}`;
  if (a === 'x64') {
    const family = X64_FAMILIES.find(([, need]) => need.every((f) => flags!.has(f)));
    return `x64 ${family ? family[0] : 'sse'}`;
  }
  if (a === 'arm64') return `arm64 ${ARM64_FEATURES.filter((f) => flags!.has(f)).join(',')}`;
  return `${a} ${[...flags].sort().join(',')}`;
}

let nativeTraining = false;

/** Route trainer.ts through ONNX Runtime in this thread (backend.ts initBackend sets it). */
export function setNativeTraining(on: boolean): void {
  nativeTraining = on;
}

export function nativeTrainingActive(): boolean {
  return nativeTraining;
}
