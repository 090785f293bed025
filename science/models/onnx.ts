/**
 * ONNX models (onnx/docs/IR.md, Operators.md): the initializers are the weights, the node list
 * (topologically sorted, as the IR requires) is the topology. The reader follows the single
 * chain of activations from the graph input and turns each node into a LayerOp (network.ts):
 *   Gemm (transB, alpha) / MatMul with a constant matrix → dense; Conv (group = 1) → convolution;
 *   BatchNormalization (epsilon) → folded scale; Flatten / Reshape → flatten (NCHW);
 *   activations, pooling, dropout, and Add / Sub / Mul / Div with a constant (bias,
 *   normalisation) keep the units. Shape arithmetic (Shape, Gather, Concat, … on shapes or
 *   constants) is followed as constants.
 * Anything else on the activation chain (a residual Add of two activations, attention, grouped
 * convolutions, a branch) stops the reader with an error naming the op, the node and the last
 * node that was understood.
 */
import type { LayerOp } from './network.ts';
import { decodeOnnx, type OnnxAttribute, type OnnxGraph, type OnnxNode, type OnnxTensor } from './onnx-schema.ts';
import { ModelFormatError, decodeLittleEndian, describeShape, numel, type DType, type NamedTensor } from './tensor.ts';

const ONNX_DTYPES: Record<number, DType> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  16: 'bfloat16',
};

const KEEP_OPS = new Set([
  'Relu',
  'LeakyRelu',
  'PRelu',
  'Sigmoid',
  'Tanh',
  'Elu',
  'Selu',
  'Celu',
  'Gelu',
  'Softplus',
  'Softsign',
  'HardSigmoid',
  'HardSwish',
  'Mish',
  'Softmax',
  'LogSoftmax',
  'MaxPool',
  'AveragePool',
  'LpPool',
  'GlobalAveragePool',
  'GlobalMaxPool',
  'Dropout',
  'Identity',
  'Clip',
  'Cast',
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Squeeze',
  'Unsqueeze',
]);
const FLATTEN_OPS = new Set(['Flatten', 'Reshape']);

export function tensorFromOnnx(t: OnnxTensor, source: string): NamedTensor {
  const what = `${source}: initializer '${t.name}'`;
  if (t.dataLocation === 1) throw new ModelFormatError(`${what} is stored in an external data file; re-export with the weights inside the .onnx file`);
  const dtype = ONNX_DTYPES[t.dataType];
  if (!dtype) throw new ModelFormatError(`${what}: unsupported ONNX data type ${t.dataType}`);
  const shape = t.dims.map(Number);
  const count = numel(shape);
  let data: Float64Array;
  if (t.rawData && t.rawData.length > 0) data = decodeLittleEndian(t.rawData, 0, count, dtype, what);
  else {
    const values = dtype === 'float64' ? t.doubleData : dtype === 'float32' ? t.floatData : dtype === 'int64' ? t.int64Data : t.int32Data;
    if (dtype === 'float16' || dtype === 'bfloat16') throw new ModelFormatError(`${what}: ${dtype} outside raw_data is not supported`);
    data = Float64Array.from(values.map(Number));
  }
  if (data.length !== count) throw new ModelFormatError(`${what}: ${data.length} values for shape ${describeShape(shape)} (truncated or corrupt)`);
  return { name: t.name, shape, data, dtype };
}

const attr = (node: OnnxNode, name: string): OnnxAttribute | undefined => node.attribute.find((a) => a.name === name);
const intAttr = (node: OnnxNode, name: string, dflt: number) => (attr(node, name) ? Number(attr(node, name)!.i) : dflt);
const floatAttr = (node: OnnxNode, name: string, dflt: number) => (attr(node, name) ? attr(node, name)!.f : dflt);

const describeNode = (n: OnnxNode | undefined, index: number) => (n ? `node '${n.name || `#${index}`}' (op ${n.opType})` : 'the graph input');

class ChainWalker {
  readonly ops: LayerOp[] = [];
  readonly constants = new Map<string, NamedTensor>();
  readonly shapeValues = new Set<string>();
  current: string;
  lastNode: OnnxNode | undefined;
  lastIndex = -1;

  constructor(
    readonly graph: OnnxGraph,
    readonly source: string,
  ) {
    for (const t of graph.initializer) this.constants.set(t.name, tensorFromOnnx(t, source));
    const inputs = graph.input.map((i) => i.name).filter((n) => !this.constants.has(n));
    if (inputs.length !== 1)
      throw new ModelFormatError(`${source}: the graph has ${inputs.length} inputs (${inputs.join(', ')}); only single-input networks are supported`);
    this.current = inputs[0];
  }

  fail(node: OnnxNode, index: number, why: string): never {
    throw new ModelFormatError(
      `${this.source}: ${describeNode(node, index)} ${why}; the supported graph stops after ${describeNode(this.lastNode, this.lastIndex)}`,
    );
  }

  weight(node: OnnxNode, index: number, input: string | undefined, what: string): NamedTensor {
    const t = input === undefined ? undefined : this.constants.get(input);
    if (!t) this.fail(node, index, `has a ${what} that is not a constant initializer`);
    return t;
  }

  visit(node: OnnxNode, index: number): void {
    const live = node.input.filter((n) => n !== '' && !this.constants.has(n) && !this.shapeValues.has(n));
    if (live.length === 0 || node.opType === 'Shape') {
      // Shape arithmetic or a constant: not on the activation chain.
      for (const o of node.output) this.shapeValues.add(o);
      if (node.opType === 'Constant' && attr(node, 'value')?.t)
        this.constants.set(node.output[0], tensorFromOnnx({ ...attr(node, 'value')!.t!, name: node.output[0] }, this.source));
      // Exporters alias shared weights through Identity.
      const aliased = node.opType === 'Identity' ? this.constants.get(node.input[0]) : undefined;
      if (aliased) this.constants.set(node.output[0], { ...aliased, name: node.output[0] });
      return;
    }
    if (live.length > 1)
      this.fail(node, index, `joins ${live.length} activations (${live.join(', ')}), a residual connection or branch merge, which is not supported`);
    if (live[0] !== this.current)
      this.fail(
        node,
        index,
        `reads '${live[0]}', an earlier activation than the current one ('${this.current}'): the network branches, which is not supported`,
      );
    const op = this.absorbBiasAdd(node, index) ? null : this.toOp(node, index);
    if (op) this.ops.push(op);
    this.current = node.output[0];
    this.lastNode = node;
    this.lastIndex = index;
  }

  toOp(node: OnnxNode, index: number): LayerOp | null {
    const name = node.name || `${node.opType}#${index}`;
    if (node.domain && node.domain !== 'ai.onnx') this.fail(node, index, `is in the custom domain '${node.domain}', which is not supported`);
    switch (node.opType) {
      case 'Gemm':
        return this.gemm(node, index, name);
      case 'MatMul': {
        if (node.input[0] !== this.current) this.fail(node, index, 'multiplies a constant by the activation (not x·W)');
        const w = this.weight(node, index, node.input[1], 'weight matrix');
        if (w.shape.length !== 2) this.fail(node, index, `has a ${w.shape.length}-D weight ${describeShape(w.shape)}, expected 2-D`);
        return { kind: 'dense', name, fanIn: w.shape[0], fanOut: w.shape[1], kernel: w.data };
      }
      case 'Conv': {
        const w = this.weight(node, index, node.input[1], 'kernel');
        const group = intAttr(node, 'group', 1);
        if (group !== 1) this.fail(node, index, `is a grouped convolution (group = ${group}), which is not supported`);
        if (w.shape.length < 3) this.fail(node, index, `has a kernel of shape ${describeShape(w.shape)}, expected [out, in, k…]`);
        const [O, I, ...spatial] = w.shape;
        return { kind: 'conv', name, outChannels: O, inChannels: I, spatial, kernel: w.data };
      }
      case 'BatchNormalization': {
        const gamma = this.weight(node, index, node.input[1], 'scale');
        const variance = this.weight(node, index, node.input[4], 'variance');
        const eps = floatAttr(node, 'epsilon', 1e-5);
        return { kind: 'batchnorm', name, scale: Float64Array.from(gamma.data, (g, c) => g / Math.sqrt(variance.data[c] + eps)) };
      }
    }
    if (FLATTEN_OPS.has(node.opType)) return { kind: 'flatten', name, layout: 'channels-first' };
    if (KEEP_OPS.has(node.opType)) return { kind: 'keep', name, op: node.opType };
    this.fail(node, index, 'is not supported (supported: Gemm, MatMul, Conv, BatchNormalization, Flatten, Reshape, activations, pooling, Dropout, bias Add)');
  }

  gemm(node: OnnxNode, index: number, name: string): LayerOp {
    if (intAttr(node, 'transA', 0) !== 0) this.fail(node, index, 'has transA = 1, which is not supported');
    if (node.input[0] !== this.current) this.fail(node, index, 'takes the activation as its second operand');
    const w = this.weight(node, index, node.input[1], 'weight matrix');
    if (w.shape.length !== 2) this.fail(node, index, `has a ${w.shape.length}-D weight ${describeShape(w.shape)}, expected 2-D`);
    const alpha = floatAttr(node, 'alpha', 1);
    const [rows, cols] = w.shape;
    const transB = intAttr(node, 'transB', 0) !== 0;
    const fanOut = transB ? rows : cols;
    const bias = node.input[2] ? this.bias(node, index, this.weight(node, index, node.input[2], 'bias'), fanOut, floatAttr(node, 'beta', 1)) : undefined;
    const withBias = bias ? { bias } : {};
    if (!transB) return { kind: 'dense', name, fanIn: rows, fanOut: cols, kernel: w.data.map((v) => alpha * v), ...withBias };
    // transB: W is [out, in].
    const kernel = new Float64Array(rows * cols);
    for (let o = 0; o < rows; o++) for (let i = 0; i < cols; i++) kernel[i * rows + o] = alpha * w.data[o * cols + i];
    return { kind: 'dense', name, fanIn: cols, fanOut: rows, kernel, ...withBias };
  }

  /** Gemm's C (× beta), or the constant of an Add right after a MatMul: one value per unit (a broadcast scalar is refused). */
  bias(node: OnnxNode, index: number, c: NamedTensor, fanOut: number, beta = 1): Float64Array {
    if (c.data.length !== fanOut) this.fail(node, index, `has a bias of shape ${describeShape(c.shape)} for ${fanOut} units`);
    return c.data.map((v) => beta * v);
  }

  /** `Add(activation, constant)` straight after a dense layer without bias is that layer's bias (MatMul + Add exports). */
  absorbBiasAdd(node: OnnxNode, index: number): boolean {
    const last = this.ops[this.ops.length - 1];
    if (node.opType !== 'Add' || this.lastNode?.opType !== 'MatMul' || last?.kind !== 'dense' || last.bias) return false;
    const constant = node.input.map((n) => this.constants.get(n)).find((t) => t !== undefined);
    if (!constant || constant.data.length !== last.fanOut) return false;
    last.bias = this.bias(node, index, constant, last.fanOut);
    return true;
  }
}

/** Decode an ONNX file (throws ModelFormatError when the bytes are not a ModelProto with a graph). */
export function parseOnnx(bytes: Uint8Array, source: string): OnnxGraph {
  let graph: OnnxGraph | undefined;
  try {
    graph = decodeOnnx(bytes).graph ?? undefined;
  } catch (e) {
    throw new ModelFormatError(`${source}: not a readable ONNX model (${(e as Error).message}); the file is truncated, corrupt or of another format`);
  }
  if (!graph || (graph.node.length === 0 && graph.initializer.length === 0)) throw new ModelFormatError(`${source}: ONNX model without a graph`);
  return graph;
}

/** The layer chain of an ONNX graph (see the module comment). */
export function opsFromOnnx(graph: OnnxGraph, source: string): LayerOp[] {
  const walker = new ChainWalker(graph, source);
  graph.node.forEach((n, i) => walker.visit(n, i));
  return walker.ops;
}
