/**
 * A network file's layers as the MLP the lesion experiments run (paper §4): dense layers with
 * their biases, ReLU between them, the class scores out of the last one (a Softmax there does
 * not change the argmax). Anything else cannot be lesioned by this forward pass, so it is refused
 * with the reason rather than lesioned wrongly:
 *   - a convolution or BatchNorm (the lesion kernels are dense);
 *   - in a file with topology (ONNX), an activation other than ReLU between dense layers, two
 *     dense layers with no ReLU between them, or an op that changes values before the first dense
 *     layer (an input normalisation: give the test set's mean and std instead);
 *   - a dense layer without a bias is taken with zero biases (nn.Linear(bias=False)).
 * Files without topology (state dicts, safetensors, npz, Keras weights) show no activations: they
 * are taken to be ReLU MLPs, as the paper's and this project's networks are (docs/models.md).
 */
import type { DenseLayer } from '../weights.ts';
import type { LayerOp } from './network.ts';
import { ModelFormatError } from './tensor.ts';

/** Ops that leave values unchanged wherever they stand (shape or type plumbing, inference-time dropout). */
const NEUTRAL_OPS = new Set(['Dropout', 'Identity', 'Cast', 'Squeeze', 'Unsqueeze']);
/** Ops allowed after the last dense layer only: they keep the argmax. */
const OUTPUT_OPS = new Set(['Softmax', 'LogSoftmax']);

export interface MlpOptions {
  /** Names the file in messages. */
  source: string;
  /** True when the ops come from a graph (ONNX): activations are checked, not assumed. */
  topology: boolean;
}

/** Why `op` at position `i` of a dense chain (`denseSeen` dense layers before it) breaks the forward pass, or null. */
function refusal(op: LayerOp, denseSeen: number, denseTotal: number, topology: boolean): string | null {
  if (op.kind === 'conv' || op.kind === 'batchnorm') return `'${op.name}' is a ${op.kind === 'conv' ? 'convolution' : 'BatchNorm'}`;
  if (op.kind !== 'keep' || !topology) return null;
  if (NEUTRAL_OPS.has(op.op)) return null;
  if (op.op === 'Relu' && denseSeen > 0 && denseSeen < denseTotal) return null;
  if (OUTPUT_OPS.has(op.op) && denseSeen === denseTotal) return null;
  const where = denseSeen === 0 ? 'before the first dense layer' : denseSeen === denseTotal ? 'after the last dense layer' : 'between dense layers';
  return `'${op.name}' (${op.op}) ${where} is not part of a ReLU MLP`;
}

/** The dense layers (float32, biases zero where the file has none) of a ReLU MLP, or a ModelFormatError saying why not. */
export function mlpFromOps(ops: readonly LayerOp[], opts: MlpOptions): DenseLayer[] {
  const denseTotal = ops.filter((o) => o.kind === 'dense').length;
  if (denseTotal === 0) throw new ModelFormatError(`${opts.source}: cannot be lesioned: no dense layers`);
  const layers: DenseLayer[] = [];
  let reluSinceDense = false;
  for (const op of ops) {
    const why = refusal(op, layers.length, denseTotal, opts.topology);
    if (why) throw new ModelFormatError(`${opts.source}: cannot be lesioned: ${why}; lesions need a ReLU MLP (dense layers, ReLU between)`);
    if (op.kind === 'keep' && op.op === 'Relu') reluSinceDense = true;
    if (op.kind !== 'dense') continue;
    if (opts.topology && layers.length > 0 && !reluSinceDense)
      throw new ModelFormatError(`${opts.source}: cannot be lesioned: no ReLU before dense layer '${op.name}'; lesions need a ReLU MLP`);
    const previous = layers[layers.length - 1];
    if (previous && previous.fanOut !== op.fanIn)
      throw new ModelFormatError(`${opts.source}: dense layer '${op.name}' takes ${op.fanIn} inputs but the layer before it has ${previous.fanOut} units`);
    layers.push({
      fanIn: op.fanIn,
      fanOut: op.fanOut,
      kernel: Float32Array.from(op.kernel),
      bias: op.bias ? Float32Array.from(op.bias) : new Float32Array(op.fanOut),
    });
    reluSinceDense = false;
  }
  return layers;
}
