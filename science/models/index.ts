/**
 * Any network file → the weighted graph the clustering sees (docs/models.md). The format comes
 * from the file's first bytes (the name only breaks the tie for ONNX, which has no magic):
 *   Arrow IPC "ARROW1" (this project's weights schema) · zip "PK\3\4" holding data.pkl (PyTorch),
 *   *.npy (NumPy .npz) or model.weights.h5 (Keras 3 .keras) · "\x93NUMPY" (.npy) ·
 *   "\x89HDF\r\n\x1a\n" (Keras .h5) · 8-byte length + "{" (safetensors) · else ONNX protobuf.
 */
import { weightsFromIPC, type DenseLayer } from '../weights.ts';
import { mlpFromOps } from './mlp.ts';
import { readKerasH5, kerasConfigLayerOrder, safeJson } from './keras.ts';
import { KERAS_CONVENTION, TORCH_CONVENTION, listTensors, opsFromTensors, type NamingConvention } from './layers.ts';
import { networkGraph, type ConvNorm, type LayerOp, type NetworkGraph } from './network.ts';
import { NPY_MAGIC, readNpy, readNpz } from './numpy.ts';
import { opsFromOnnx, parseOnnx } from './onnx.ts';
import { readPytorch } from './pytorch.ts';
import { readSafetensors, safetensorsHeaderLength } from './safetensors.ts';
import { ModelFormatError, type NamedTensor } from './tensor.ts';
import { readZip } from './zip.ts';

export { ModelFormatError } from './tensor.ts';
export type { NamedTensor } from './tensor.ts';
export {
  CONV_NORMS,
  isConvNorm,
  networkGraph,
  sliceNorm,
  largestSingularValue,
  type ConvNorm,
  type LayerOp,
  type NetworkGraph,
  type NodeLayer,
} from './network.ts';
export { encodeOnnx } from './onnx-schema.ts';
export { unpickle } from './pickle.ts';

export const MODEL_FORMATS = ['arrow', 'onnx', 'pytorch', 'safetensors', 'keras-h5', 'keras', 'npy', 'npz'] as const;
export type ModelFormat = (typeof MODEL_FORMATS)[number];

const startsWith = (b: Uint8Array, sig: readonly number[], at = 0) => b.length >= at + sig.length && sig.every((x, i) => b[at + i] === x);
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));
const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];
/** The magic number of the pre-1.6 (non-zip) torch.save format, pickled as a LONG1 after PROTO 2. */
const LEGACY_TORCH = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8];

/** The format of `bytes`; for zips, by their entries. */
export function detectFormat(bytes: Uint8Array, source: string): ModelFormat {
  if (startsWith(bytes, ascii('ARROW1')) || startsWith(bytes, [0xff, 0xff, 0xff, 0xff])) return 'arrow';
  if (startsWith(bytes, NPY_MAGIC)) return 'npy';
  if (startsWith(bytes, HDF5_MAGIC)) return 'keras-h5';
  if (startsWith(bytes, ZIP_MAGIC)) {
    const names = [...readZip(bytes, source).keys()];
    if (names.some((n) => n.endsWith('data.pkl'))) return 'pytorch';
    if (names.includes('model.weights.h5')) return 'keras';
    if (names.length > 0 && names.every((n) => n.endsWith('.npy'))) return 'npz';
    throw new ModelFormatError(
      `${source}: a zip archive that is none of torch.save (data.pkl), .npz (*.npy) or .keras (model.weights.h5); entries: ${names.slice(0, 10).join(', ')}`,
    );
  }
  if (startsWith(bytes, LEGACY_TORCH))
    throw new ModelFormatError(
      `${source}: a legacy (pre-1.6, non-zip) torch.save file; re-save it with a current PyTorch: torch.save(model.state_dict(), path)`,
    );
  if (bytes[0] === 0x80)
    throw new ModelFormatError(
      `${source}: a bare Python pickle, which is refused (unpickling can run code); save a state dict with torch.save or use safetensors`,
    );
  if (safetensorsHeaderLength(bytes) !== null) return 'safetensors';
  if (bytes.length === 0) throw new ModelFormatError(`${source}: the file is empty`);
  return 'onnx';
}

export interface ReadModelOptions {
  /** Names the file in messages. */
  source: string;
  /** Layer selection and order for files without topology (names or globs). */
  layers?: readonly string[];
  convNorm?: ConvNorm;
}

export interface ModelNetwork {
  format: ModelFormat;
  graph: NetworkGraph;
  /** The layer chain the graph was built from (dense layers keep their biases). */
  ops: LayerOp[];
}

/** Tensors of a topology-less file and the framework conventions that interpret their names. */
async function namedTensors(format: ModelFormat, bytes: Uint8Array, source: string): Promise<{ tensors: NamedTensor[]; convention: NamingConvention }> {
  switch (format) {
    case 'pytorch':
      return { tensors: readPytorch(bytes, source), convention: TORCH_CONVENTION };
    case 'safetensors':
      return { tensors: readSafetensors(bytes, source), convention: TORCH_CONVENTION };
    case 'npz':
      return { tensors: readNpz(bytes, source), convention: TORCH_CONVENTION };
    case 'npy':
      return { tensors: [readNpy(bytes, 'array', source)], convention: TORCH_CONVENTION };
    case 'keras-h5': {
      const { tensors, epsilons } = await readKerasH5(bytes, source);
      return { tensors, convention: { ...KERAS_CONVENTION, epsilons } };
    }
    case 'keras': {
      const entries = readZip(bytes, source);
      const config = safeJson(new TextDecoder().decode(entries.get('config.json') ?? new Uint8Array()));
      const { tensors, epsilons } = await readKerasH5(entries.get('model.weights.h5')!, `${source}: model.weights.h5`, kerasConfigLayerOrder(config), config);
      return { tensors, convention: { ...KERAS_CONVENTION, epsilons } };
    }
  }
  throw new Error(`unreachable format ${format}`);
}

function arrowOps(bytes: Uint8Array, source: string): LayerOp[] {
  let layers;
  try {
    layers = weightsFromIPC(bytes, source).layers;
  } catch (e) {
    throw new ModelFormatError(`${source}: not a readable Arrow weights file (${(e as Error).message})`);
  }
  return layers.map((l, i) => ({
    kind: 'dense',
    name: `dense_${i}`,
    fanIn: l.fanIn,
    fanOut: l.fanOut,
    kernel: Float64Array.from(l.kernel),
    bias: Float64Array.from(l.bias),
  }));
}

/** Read any supported network file into its graph (see the module comment). */
export async function readModel(bytes: Uint8Array, opts: ReadModelOptions): Promise<ModelNetwork> {
  const { source } = opts;
  const format = detectFormat(bytes, source);
  const graphOpts = { convNorm: opts.convNorm, source };
  if (format === 'arrow') {
    const ops = arrowOps(bytes, source);
    return { format, ops, graph: networkGraph(ops, graphOpts) };
  }
  if (format === 'onnx') {
    if (opts.layers?.length) throw new ModelFormatError(`${source}: --layers applies to files without topology; an ONNX model's layers come from its graph`);
    const ops = opsFromOnnx(parseOnnx(bytes, source), source);
    return { format, ops, graph: networkGraph(ops, graphOpts) };
  }
  const { tensors, convention } = await namedTensors(format, bytes, source);
  const ops = opsFromTensors(tensors, convention, opts.layers ?? [], source);
  try {
    return { format, ops, graph: networkGraph(ops, { ...graphOpts, impliedFlatten: convention.flatten }) };
  } catch (e) {
    if (!(e instanceof ModelFormatError) || /non-finite/.test(e.message)) throw e;
    // Without topology the order came from the names: show what was found.
    throw new ModelFormatError(
      `${e.message}. Tensors found: ${listTensors(tensors)}. Pass --layers NAME,NAME,… (names or globs) to choose and order the layers`,
    );
  }
}

/** The file's network as the ReLU MLP the lesion experiments run (mlp.ts), or a ModelFormatError saying why it is not one. */
export async function readMlp(bytes: Uint8Array, opts: ReadModelOptions): Promise<{ format: ModelFormat; layers: DenseLayer[] }> {
  const network = await readModel(bytes, opts);
  return { format: network.format, layers: mlpFromOps(network.ops, { source: opts.source, topology: network.format === 'onnx' }) };
}
