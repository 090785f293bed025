/**
 * Layer order for files without topology (PyTorch state dicts, safetensors, NumPy .npz, Keras
 * weights): tensors are grouped into modules by name ("features.0.weight" → module "features.0",
 * parameter "weight"; "dense/kernel:0" → "dense", "kernel"), modules are taken in file order, or
 * chosen and ordered by `layers` patterns (names or globs), and each module becomes a layer:
 *   weight/kernel 2-D → dense (PyTorch [out, in] for "weight", Keras [in, out] for "kernel");
 *   weight/kernel ≥ 3-D → convolution (PyTorch [out, in, kh, kw] or Keras [kh, kw, in, out]);
 *   running_var / moving_variance → BatchNorm (γ = weight/gamma, ε from the convention);
 *   bias: kept on its dense layer (no edges; the lesions' forward pass uses it);
 *   running_mean, num_batches_tracked, beta: not part of the graph.
 * Anything else is refused with the list of tensors found, so a wrong graph is never built silently.
 */
import type { FlattenLayout, LayerOp } from './network.ts';
import { ModelFormatError, describeShape, isFloatDType, numel, type NamedTensor } from './tensor.ts';

export interface NamingConvention {
  /** Flatten layout of the framework (PyTorch NCHW, Keras NHWC). */
  flatten: FlattenLayout;
  /** BatchNorm ε when the file does not store it (PyTorch 1e-5, Keras 1e-3). */
  batchNormEpsilon: number;
  /** ε per BatchNorm module when the file stores it (a Keras model config). */
  epsilons?: ReadonlyMap<string, number>;
}

export const TORCH_CONVENTION: NamingConvention = { flatten: 'channels-first', batchNormEpsilon: 1e-5 };
export const KERAS_CONVENTION: NamingConvention = { flatten: 'channels-last', batchNormEpsilon: 1e-3 };

interface Module {
  name: string;
  params: Map<string, NamedTensor>;
}

/** "a.b.weight" → ["a.b", "weight"]; "dense/kernel:0" → ["dense", "kernel"]. */
export function splitTensorName(name: string): [string, string] {
  const cut = Math.max(name.lastIndexOf('.'), name.lastIndexOf('/'));
  const param = (cut < 0 ? name : name.slice(cut + 1)).replace(/:\d+$/, '');
  return [cut < 0 ? '' : name.slice(0, cut), param];
}

function groupModules(tensors: readonly NamedTensor[]): Module[] {
  const modules = new Map<string, Module>();
  for (const t of tensors) {
    const [mod, param] = splitTensorName(t.name);
    // A bare name (np.savez positional arrays "arr_0") is a module of its own.
    const key = mod === '' ? t.name : mod;
    if (!modules.has(key)) modules.set(key, { name: key, params: new Map() });
    modules.get(key)!.params.set(mod === '' ? 'weight' : param, t);
  }
  return [...modules.values()];
}

/** A glob (`*`, `?`) or literal name → RegExp matching the whole name. */
function globRegExp(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

const isGlob = (p: string) => /[*?]/.test(p);

/** The modules `patterns` pick: in the given order when all are literal names, else in file order. */
function selectModules(modules: Module[], patterns: readonly string[], listing: string, source: string): Module[] {
  const regs = patterns.map(globRegExp);
  regs.forEach((r, i) => {
    if (!modules.some((m) => r.test(m.name) || [...m.params.values()].some((t) => r.test(t.name))))
      throw new ModelFormatError(`${source}: --layers '${patterns[i]}' matches no module or tensor; tensors found: ${listing}`);
  });
  const matches = (m: Module, r: RegExp) => r.test(m.name) || [...m.params.values()].some((t) => r.test(t.name));
  if (patterns.some(isGlob)) return modules.filter((m) => regs.some((r) => matches(m, r)));
  return regs.map((r) => modules.find((m) => matches(m, r))!);
}

export function listTensors(tensors: readonly NamedTensor[]): string {
  const shown = tensors.slice(0, 40).map((t) => `${t.name} ${describeShape(t.shape)}`);
  return shown.join(', ') + (tensors.length > 40 ? `, … (${tensors.length} in all)` : '');
}

function batchNormOp(m: Module, conv: NamingConvention, source: string): LayerOp {
  const variance = (m.params.get('running_var') ?? m.params.get('moving_variance'))!;
  const gamma = m.params.get('weight') ?? m.params.get('gamma');
  if (gamma && gamma.data.length !== variance.data.length)
    throw new ModelFormatError(`${source}: BatchNorm '${m.name}' has ${gamma.data.length} scales but ${variance.data.length} variances`);
  const scale = Float64Array.from(variance.data, (v, c) => (gamma ? gamma.data[c] : 1) / Math.sqrt(v + (conv.epsilons?.get(m.name) ?? conv.batchNormEpsilon)));
  return { kind: 'batchnorm', name: m.name, scale };
}

/** Keras [kh, kw, in, out] → PyTorch [out, in, kh, kw] order. */
function kerasConvToTorch(t: NamedTensor): Float64Array {
  const spatial = t.shape.slice(0, -2);
  const [I, O] = t.shape.slice(-2);
  const n = numel(spatial);
  const out = new Float64Array(t.data.length);
  for (let s = 0; s < n; s++) for (let i = 0; i < I; i++) for (let o = 0; o < O; o++) out[(o * I + i) * n + s] = t.data[(s * I + i) * O + o];
  return out;
}

function transpose(data: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/** A dense module's `bias` tensor (PyTorch and Keras both name it so), checked against fanOut. */
function denseBias(m: Module, fanOut: number, source: string): { bias?: Float64Array } {
  const b = m.params.get('bias');
  if (!b) return {};
  if (b.data.length !== fanOut)
    throw new ModelFormatError(`${source}: '${b.name}' has ${b.data.length} values ${describeShape(b.shape)}, but its layer has ${fanOut} units`);
  return { bias: b.data };
}

function weightOp(m: Module, w: NamedTensor, kerasOrder: boolean, prevOut: number | null, source: string): LayerOp {
  if (w.shape.length === 2) {
    const [rows, cols] = w.shape;
    // "kernel" is [in, out]; "weight" is [out, in]; an unnamed matrix takes the orientation that chains.
    let inOut = kerasOrder;
    if (!kerasOrder && w.name === m.name && prevOut !== null && cols !== prevOut && rows === prevOut) inOut = true;
    const [fanIn, fanOut] = inOut ? [rows, cols] : [cols, rows];
    return { kind: 'dense', name: m.name, fanIn, fanOut, kernel: inOut ? w.data : transpose(w.data, rows, cols), ...denseBias(m, fanOut, source) };
  }
  if (w.shape.length >= 3) {
    if (kerasOrder) {
      const [I, O] = w.shape.slice(-2);
      return { kind: 'conv', name: m.name, outChannels: O, inChannels: I, spatial: w.shape.slice(0, -2), kernel: kerasConvToTorch(w) };
    }
    const [O, I, ...spatial] = w.shape;
    return { kind: 'conv', name: m.name, outChannels: O, inChannels: I, spatial, kernel: w.data };
  }
  throw new ModelFormatError(
    `${source}: module '${m.name}' has a ${w.shape.length}-D weight ${describeShape(w.shape)} and no running variance (a LayerNorm, embedding or scale?), which has no place in the graph; choose the layers with --layers`,
  );
}

/** The layer chain of a file without topology (see the module comment). */
export function opsFromTensors(tensors: readonly NamedTensor[], conv: NamingConvention, patterns: readonly string[] = [], source = 'model'): LayerOp[] {
  const floats = tensors.filter((t) => isFloatDType(t.dtype));
  const listing = listTensors(tensors);
  if (floats.length === 0) throw new ModelFormatError(`${source}: no floating-point tensors found${tensors.length ? ` (tensors: ${listing})` : ''}`);
  let modules = groupModules(floats);
  if (patterns.length > 0) modules = selectModules(modules, patterns, listing, source);
  const ops: LayerOp[] = [];
  let prevOut: number | null = null;
  for (const m of modules) {
    if (m.params.has('running_var') || m.params.has('moving_variance')) {
      ops.push(batchNormOp(m, conv, source));
      continue;
    }
    const weight = m.params.get('weight') ?? m.params.get('kernel');
    if (!weight) {
      const names = [...m.params.values()].map((t) => t.name).join(', ');
      throw new ModelFormatError(
        `${source}: module '${m.name}' (${names}) has no weight or kernel tensor; tensors found: ${listing}. Pass --layers to choose the weight layers`,
      );
    }
    const op = weightOp(m, weight, m.params.has('kernel') && !m.params.has('weight'), prevOut, source);
    prevOut = op.kind === 'dense' ? op.fanOut : op.kind === 'conv' ? op.outChannels : prevOut;
    ops.push(op);
  }
  return ops;
}
