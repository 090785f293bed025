/**
 * Keras weights in HDF5 (read with h5wasm, the HDF5 C library compiled to wasm):
 * - Keras 2 `model.save('m.h5')` / `save_weights('w.h5')`: attribute `layer_names` on
 *   `model_weights` (or the root) in forward order; each layer group's `weight_names` attribute
 *   names its datasets ("dense/kernel:0", …) in order;
 * - Keras 3 `.weights.h5`: `layers/<layer>/vars/<i>`, the variables in the layer's order (Dense and
 *   Conv: kernel, bias; BatchNormalization: gamma, beta, moving_mean, moving_variance); a `.keras`
 *   zip holds it as `model.weights.h5` beside `config.json`, whose layer list gives the order.
 * Tensors are named "<layer>/<parameter>" for layers.ts; BatchNorm ε comes from the model config
 * when the file has one.
 */
import h5wasm from 'h5wasm';
import { naturalCompare } from './safetensors.ts';
import { ModelFormatError, checkShape, type NamedTensor } from './tensor.ts';

export interface KerasWeights {
  tensors: NamedTensor[];
  /** BatchNorm ε per layer name, from the model config. */
  epsilons: Map<string, number>;
}

type H5Group = InstanceType<typeof h5wasm.Group>;
type H5Dataset = InstanceType<typeof h5wasm.Dataset>;

let fileCounter = 0;

function datasetTensor(d: H5Dataset, name: string, source: string): NamedTensor {
  const shape = checkShape((d.shape ?? []).map(Number), `${source}: ${name}`);
  const value = d.value as unknown;
  if (!ArrayBuffer.isView(value) && typeof value !== 'number') throw new ModelFormatError(`${source}: dataset '${name}' is not numeric`);
  const data = Float64Array.from(typeof value === 'number' ? [value] : (value as unknown as ArrayLike<number>), Number);
  const dtype = /f/.test(String(d.dtype)) ? (String(d.dtype).includes('8') ? 'float64' : 'float32') : 'int';
  return { name, shape, data, dtype };
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : []);

function epsilonsFrom(config: unknown): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (x: unknown) => {
    if (!x || typeof x !== 'object') return;
    const o = x as Record<string, unknown>;
    const c = o.config as Record<string, unknown> | undefined;
    if (o.class_name === 'BatchNormalization' && c && typeof c.name === 'string' && typeof c.epsilon === 'number') out.set(c.name, c.epsilon);
    for (const v of Object.values(o)) walk(v);
  };
  walk(config);
  return out;
}

function keras2(weights: H5Group, source: string): NamedTensor[] {
  const out: NamedTensor[] = [];
  for (const layer of strings(weights.attrs['layer_names']?.value)) {
    const g = weights.get(layer) as H5Group | null;
    if (!g) throw new ModelFormatError(`${source}: layer group '${layer}' listed in layer_names is missing`);
    for (const w of strings(g.attrs['weight_names']?.value).filter(Boolean)) {
      const d = g.get(w) as H5Dataset | null;
      if (!d) throw new ModelFormatError(`${source}: dataset '${layer}/${w}' is missing`);
      out.push(datasetTensor(d, `${layer}/${w.split('/').pop()}`, source));
    }
  }
  return out;
}

/** Keras 3 variable names by their count and shapes (see the module comment). */
function keras3ParamNames(vars: NamedTensor[]): string[] {
  if (vars.length === 4 && vars.every((v) => v.shape.length === 1)) return ['gamma', 'beta', 'moving_mean', 'moving_variance'];
  if (vars.length >= 1 && vars.length <= 2 && vars[0].shape.length >= 2) return ['kernel', 'bias'];
  return vars.map((_, i) => `var${i}`);
}

function keras3(layersGroup: H5Group, order: string[], source: string): NamedTensor[] {
  const names = (layersGroup.keys() as string[]).slice().sort(naturalCompare);
  const ordered = order.length ? [...order.filter((n) => names.includes(n)), ...names.filter((n) => !order.includes(n))] : names;
  const out: NamedTensor[] = [];
  for (const layer of ordered) {
    const vars = layersGroup.get(`${layer}/vars`) as H5Group | null;
    if (!vars) continue;
    const tensors = (vars.keys() as string[]).sort(naturalCompare).map((k) => datasetTensor(vars.get(k) as H5Dataset, `${layer}/${k}`, source));
    const params = keras3ParamNames(tensors);
    tensors.forEach((t, i) => out.push({ ...t, name: `${layer}/${params[i]}` }));
  }
  return out;
}

/**
 * Run synchronous HDF5 calls without the library's diagnostic dump: on a damaged file HDF5
 * prints its whole error stack to stderr (through the console the wasm module captured), while
 * the reader reports the problem itself in one line.
 */
function withoutHdf5Diagnostics<R>(fn: () => R): R {
  const write = process.stderr.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    return fn();
  } finally {
    process.stderr.write = write;
  }
}

/** Read Keras weights from HDF5 bytes; `layerOrder` (from a .keras config) orders Keras 3 layers. */
export async function readKerasH5(bytes: Uint8Array, source: string, layerOrder: string[] = [], config?: unknown): Promise<KerasWeights> {
  const Module = await h5wasm.ready;
  return withoutHdf5Diagnostics(() => readOpened(Module, bytes, source, layerOrder, config));
}

function readOpened(Module: Awaited<typeof h5wasm.ready>, bytes: Uint8Array, source: string, layerOrder: string[], config: unknown): KerasWeights {
  const path = `/model-${process.pid}-${fileCounter++}.h5`;
  Module.FS.writeFile(path, bytes);
  let file: InstanceType<typeof h5wasm.File> | undefined;
  try {
    file = new h5wasm.File(path, 'r');
    const modelConfig = file.attrs['model_config']?.value;
    const epsilons = epsilonsFrom(config ?? (typeof modelConfig === 'string' ? safeJson(modelConfig) : undefined));
    const weights = (file.get('model_weights') as H5Group | null) ?? file;
    let tensors: NamedTensor[];
    if (weights.attrs['layer_names']) tensors = keras2(weights, source);
    else if (file.get('layers')) tensors = keras3(file.get('layers') as H5Group, layerOrder, source);
    else throw new ModelFormatError(`${source}: HDF5 file without Keras weights (no layer_names attribute, no layers/ group)`);
    return { tensors, epsilons };
  } catch (e) {
    if (e instanceof ModelFormatError) throw e;
    throw new ModelFormatError(`${source}: not a readable Keras HDF5 file (HDF5: ${(e as Error).message}); the file is truncated or corrupt`);
  } finally {
    try {
      file?.close();
    } catch {
      // A file that never opened has nothing to close.
    }
    Module.FS.unlink(path);
  }
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

/** Layer names of a Keras 3 config.json, in order. */
export function kerasConfigLayerOrder(config: unknown): string[] {
  const layers = (config as { config?: { layers?: { config?: { name?: string } }[] } })?.config?.layers ?? [];
  return layers.map((l) => l.config?.name).filter((n): n is string => typeof n === 'string');
}

export { safeJson };
