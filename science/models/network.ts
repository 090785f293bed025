/**
 * A network as a chain of layers (what every reader produces) → the weighted graph the clustering
 * sees, as one edge-weight matrix per pair of consecutive node layers (docs/models.md):
 *
 * - dense: one node per unit; the edge between input i and unit j weighs |W[i, j]|, as for the
 *   project's own MLPs (Filan et al. §2);
 * - convolution: one node per channel; the edge between input channel i and output channel o
 *   weighs a norm of the kernel slice K[o, i, …] (`ConvNorm`), after folding a following
 *   BatchNorm in as the per-output-channel factor γ/√(σ² + ε) (as the successor code,
 *   dfilan/clusterability_in_neural_networks `extract_cnn_weights_filters_as_units`, does);
 * - activations, pooling, dropout, flatten and reshape keep the units (channels stay channels);
 * - a dense layer after channels (a flatten in between): the edge between channel c and unit j
 *   weighs the same norm of W[j, ·] over c's spatial positions.
 *
 * Edge values are computed in Float64 and stored as Float32 (the precision of the weights files);
 * a dense layer's values are its kernel unchanged, so an MLP gives the graph of its Arrow export.
 */
import type { WeightMatrix } from '../graph/index.ts';
import { ModelFormatError, describeShape } from './tensor.ts';

export const CONV_NORMS = ['l1', 'l2', 'successor-l1', 'successor-l2'] as const;
/**
 * l1 = Σ|K[o,i]| (entrywise); l2 = √ΣK[o,i]²; successor-l1 / successor-l2 = numpy.linalg.norm(|K[o,i]|,
 * 1 or 2) on the kh × kw slice, the matrix norms the successor code computes (max column sum;
 * largest singular value). On a vector (1-D kernels, the spatial positions after a flatten) the
 * successor norms are the vector norms l1 and l2.
 */
export type ConvNorm = (typeof CONV_NORMS)[number];
export const isConvNorm = (x: unknown): x is ConvNorm => (CONV_NORMS as readonly unknown[]).includes(x);

/** Memory layout of a flattened feature map: PyTorch/ONNX NCHW or Keras NHWC. */
export type FlattenLayout = 'channels-first' | 'channels-last';

export type LayerOp =
  /** kernel: fanIn × fanOut row-major (Keras orientation); bias (fanOut) when the file has one (no edges: used by lesions). */
  | { kind: 'dense'; name: string; fanIn: number; fanOut: number; kernel: Float64Array; bias?: Float64Array }
  /** kernel: out × in × spatial… row-major (PyTorch/ONNX OIHW orientation). */
  | { kind: 'conv'; name: string; outChannels: number; inChannels: number; spatial: number[]; kernel: Float64Array }
  /** scale = γ/√(σ² + ε) per channel; folded into the previous weight layer. */
  | { kind: 'batchnorm'; name: string; scale: Float64Array }
  | { kind: 'flatten'; name: string; layout: FlattenLayout }
  /** An op that keeps the units (activation, pooling, dropout, bias add, …). */
  | { kind: 'keep'; name: string; op: string };

export interface NodeLayer {
  /** The layer whose outputs these nodes are ("input" for the first). */
  name: string;
  units: number;
  unit: 'unit' | 'channel';
}

export interface NetworkGraph {
  /** Edge weights between node layers l and l + 1 (fanIn × fanOut, row-major), one per weight layer. */
  layers: WeightMatrix[];
  /** layers.length + 1 node layers. */
  nodeLayers: NodeLayer[];
}

export interface GraphOptions {
  convNorm?: ConvNorm;
  /** Layout of a flatten the file does not show (a dense layer straight after a conv in a state dict). */
  impliedFlatten?: FlattenLayout;
  /** Names the file in messages. */
  source?: string;
}

/** Norm of a kh × kw (or 1-D) slice of |values| per `ConvNorm`. */
export function sliceNorm(values: ArrayLike<number>, start: number, spatial: readonly number[], norm: ConvNorm, stride = 1): number {
  const n = spatial.reduce((a, b) => a * b, 1);
  const at = (t: number) => Math.abs(values[start + t * stride]);
  if (norm === 'l1' || (norm === 'successor-l1' && spatial.length <= 1)) {
    let s = 0;
    for (let t = 0; t < n; t++) s += at(t);
    return s;
  }
  if (norm === 'l2' || (norm === 'successor-l2' && spatial.length <= 1)) {
    let s = 0;
    for (let t = 0; t < n; t++) s += at(t) ** 2;
    return Math.sqrt(s);
  }
  if (spatial.length !== 2)
    throw new ModelFormatError(`--conv-norm ${norm} is a matrix norm of 2-D kernels; this kernel's spatial shape is ${describeShape(spatial)} (use l1 or l2)`);
  const [rows, cols] = spatial;
  if (norm === 'successor-l1') {
    let best = 0;
    for (let c = 0; c < cols; c++) {
      let s = 0;
      for (let r = 0; r < rows; r++) s += at(r * cols + c);
      best = Math.max(best, s);
    }
    return best;
  }
  return largestSingularValue(
    Float64Array.from({ length: n }, (_, t) => at(t)),
    rows,
    cols,
  );
}

/** Largest singular value of a small rows × cols matrix: √λmax(MᵀM), cyclic Jacobi (Golub & Van Loan §8.5). */
export function largestSingularValue(m: Float64Array, rows: number, cols: number): number {
  const a = new Float64Array(cols * cols);
  for (let i = 0; i < cols; i++)
    for (let j = 0; j < cols; j++) {
      let s = 0;
      for (let r = 0; r < rows; r++) s += m[r * cols + i] * m[r * cols + j];
      a[i * cols + j] = s;
    }
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    for (let p = 0; p < cols; p++) for (let q = p + 1; q < cols; q++) off += a[p * cols + q] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < cols; p++)
      for (let q = p + 1; q < cols; q++) {
        const apq = a[p * cols + q];
        if (apq === 0) continue;
        const theta = (a[q * cols + q] - a[p * cols + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < cols; k++) {
          const akp = a[k * cols + p];
          const akq = a[k * cols + q];
          a[k * cols + p] = c * akp - s * akq;
          a[k * cols + q] = s * akp + c * akq;
        }
        for (let k = 0; k < cols; k++) {
          const apk = a[p * cols + k];
          const aqk = a[q * cols + k];
          a[p * cols + k] = c * apk - s * aqk;
          a[q * cols + k] = s * apk + c * aqk;
        }
      }
  }
  let best = 0;
  for (let i = 0; i < cols; i++) best = Math.max(best, a[i * cols + i]);
  return Math.sqrt(Math.max(0, best));
}

interface Pending {
  /** The weight layer a BatchNorm folds into. */
  edges: Float64Array;
  fanIn: number;
  fanOut: number;
  name: string;
}

/** Edge matrix of a conv layer: in × out, norm of each K[o, i] slice. */
function convEdges(op: Extract<LayerOp, { kind: 'conv' }>, norm: ConvNorm): Float64Array {
  const { inChannels: I, outChannels: O, spatial, kernel } = op;
  const n = spatial.reduce((a, b) => a * b, 1);
  const edges = new Float64Array(I * O);
  for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) edges[i * O + o] = sliceNorm(kernel, (o * I + i) * n, spatial, norm);
  return edges;
}

/** Edge matrix channels × fanOut of a dense layer whose fanIn inputs are `channels` flattened feature maps. */
function flattenedDenseEdges(op: Extract<LayerOp, { kind: 'dense' }>, channels: number, layout: FlattenLayout, norm: ConvNorm, source: string): Float64Array {
  const { fanIn, fanOut, kernel } = op;
  if (fanIn % channels !== 0)
    throw new ModelFormatError(
      `${source}: layer '${op.name}' has ${fanIn} inputs, not a multiple of the ${channels} channels before it; the flatten cannot be mapped to channels`,
    );
  const positions = fanIn / channels;
  const edges = new Float64Array(channels * fanOut);
  for (let c = 0; c < channels; c++)
    for (let j = 0; j < fanOut; j++) {
      // Input index of channel c at spatial position s: c·S + s (NCHW) or s·C + c (NHWC).
      const start = (layout === 'channels-first' ? c * positions : c) * fanOut + j;
      const stride = (layout === 'channels-first' ? 1 : channels) * fanOut;
      edges[c * fanOut + j] = sliceNorm(kernel, start, [positions], norm === 'successor-l1' ? 'l1' : norm === 'successor-l2' ? 'l2' : norm, stride);
    }
  return edges;
}

/** Build the edge-weight chain of a network (see the module comment). */
export function networkGraph(ops: readonly LayerOp[], opts: GraphOptions = {}): NetworkGraph {
  const norm = opts.convNorm ?? 'l1';
  const source = opts.source ?? 'model';
  const done: Pending[] = [];
  const nodeLayers: NodeLayer[] = [];
  let flatten: FlattenLayout | null = null;
  let afterFlatten = false;
  for (const op of ops) {
    const last = done[done.length - 1];
    const current = nodeLayers[nodeLayers.length - 1];
    if (op.kind === 'keep') continue;
    if (op.kind === 'flatten') {
      if (current?.unit === 'channel') flatten = op.layout;
      afterFlatten = true;
      continue;
    }
    if (op.kind === 'batchnorm') {
      if (!last) throw new ModelFormatError(`${source}: BatchNorm '${op.name}' comes before any weight layer; there is nothing to fold it into`);
      if (afterFlatten) throw new ModelFormatError(`${source}: BatchNorm '${op.name}' follows a flatten; it cannot be folded into '${last.name}'`);
      if (op.scale.length !== last.fanOut)
        throw new ModelFormatError(`${source}: BatchNorm '${op.name}' has ${op.scale.length} channels, but '${last.name}' has ${last.fanOut} outputs`);
      for (let i = 0; i < last.fanIn; i++) for (let o = 0; o < last.fanOut; o++) last.edges[i * last.fanOut + o] *= Math.abs(op.scale[o]);
      continue;
    }
    if (op.kind === 'conv') {
      if (current && current.unit !== 'channel' && done.length > 0)
        throw new ModelFormatError(
          `${source}: convolution '${op.name}' follows the dense layer '${last.name}'; a dense-to-feature-map reshape is not supported`,
        );
      if (current && current.units !== op.inChannels)
        throw new ModelFormatError(`${source}: convolution '${op.name}' takes ${op.inChannels} input channels, but the layer before it has ${current.units}`);
      if (!current) nodeLayers.push({ name: 'input', units: op.inChannels, unit: 'channel' });
      done.push({ edges: convEdges(op, norm), fanIn: op.inChannels, fanOut: op.outChannels, name: op.name });
      nodeLayers.push({ name: op.name, units: op.outChannels, unit: 'channel' });
      afterFlatten = false;
      continue;
    }
    // dense
    let edges: Float64Array;
    if (current?.unit === 'channel') {
      edges = flattenedDenseEdges(op, current.units, flatten ?? opts.impliedFlatten ?? 'channels-first', norm, source);
    } else {
      if (current && current.units !== op.fanIn)
        throw new ModelFormatError(
          `${source}: layer '${op.name}' has ${op.fanIn} inputs, but the layer before it ('${last?.name ?? 'input'}') has ${current.units} outputs`,
        );
      if (!current) nodeLayers.push({ name: 'input', units: op.fanIn, unit: 'unit' });
      edges = op.kernel.slice();
    }
    done.push({ edges, fanIn: current?.units ?? op.fanIn, fanOut: op.fanOut, name: op.name });
    nodeLayers.push({ name: op.name, units: op.fanOut, unit: 'unit' });
    flatten = null;
    afterFlatten = false;
  }
  if (done.length === 0) throw new ModelFormatError(`${source}: no dense or convolution layers found`);
  const layers = done.map((p) => {
    const kernel = Float32Array.from(p.edges);
    for (let t = 0; t < kernel.length; t++)
      if (!Number.isFinite(kernel[t])) {
        const i = Math.floor(t / p.fanOut);
        throw new ModelFormatError(
          `${source}: layer '${p.name}' has a non-finite weight (${kernel[t]}) at edge [${i}, ${t - i * p.fanOut}]; the file's weights must be finite numbers`,
        );
      }
    return { fanIn: p.fanIn, fanOut: p.fanOut, kernel };
  });
  return { layers, nodeLayers };
}
