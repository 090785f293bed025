/**
 * A small builder for ONNX models (ONNX IR, https://onnx.ai/onnx/repo-docs/IR.html), serialised
 * with onnx-proto's protobufjs classes, so that compute graphs for ONNX Runtime can be written
 * in code instead of being exported by a Python framework. Only what the trainer's graphs
 * use: float32 (and int64 constant) tensors, named values, nodes with int/float/tensor attributes.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** A tensor dimension: a fixed size or a symbolic name (bound at run time). */
export type Dim = number | string;

type Attribute = number | { float: number } | number[] | { ints: number[] };

/** ONNX `TensorProto.DataType` codes used here. */
const FLOAT = 1;
const INT64 = 7;

export class GraphBuilder {
  private readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  private readonly inputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private readonly outputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private readonly initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  private counter = 0;
  private readonly domains = new Set<string>();

  /** A fresh value name with a readable prefix. */
  fresh(prefix: string): string {
    return `${prefix}_${this.counter++}`;
  }

  input(name: string, dims: readonly Dim[]): string {
    this.inputs.push(valueInfo(name, dims));
    return name;
  }

  output(name: string, dims: readonly Dim[]): string {
    this.outputs.push(valueInfo(name, dims));
    return name;
  }

  /** A float32 constant (a scalar when `dims` is empty). */
  constant(values: readonly number[], dims: readonly number[] = [], prefix = 'const'): string {
    const name = this.fresh(prefix);
    this.initializers.push(onnx.TensorProto.create({ name, dims: [...dims], dataType: FLOAT, floatData: [...values] }));
    return name;
  }

  /** An int64 constant vector (axes, shapes). */
  int64s(values: number[], prefix = 'ints'): string {
    const name = this.fresh(prefix);
    this.initializers.push(onnx.TensorProto.create({ name, dims: [values.length], dataType: INT64, int64Data: [...values] }));
    return name;
  }

  /**
   * One node; returns its output name(s). `attributes` values: an integer → INT, { float } → FLOAT,
   * an array or { ints } → INTS. `domain` '' is the standard one; 'com.microsoft' holds ORT's contrib ops.
   */
  node(op: string, inputs: readonly string[], attributes: Record<string, Attribute> = {}, options: { outputs?: string[]; domain?: string } = {}): string {
    const outs = options.outputs ?? [this.fresh(op.toLowerCase())];
    const attribute = Object.entries(attributes).map(([name, a]) => attributeProto(name, a));
    if (options.domain) this.domains.add(options.domain);
    this.nodes.push(onnx.NodeProto.create({ opType: op, input: [...inputs], output: outs, attribute, domain: options.domain ?? '' }));
    return outs[0];
  }

  /** The serialised ModelProto (opset 17 of the standard domain, version 1 of each contrib domain used). */
  build(name: string): Uint8Array {
    const graph = onnx.GraphProto.create({ name, node: this.nodes, input: this.inputs, output: this.outputs, initializer: this.initializers });
    const opsetImport = [{ domain: '', version: 17 }, ...[...this.domains].map((domain) => ({ domain, version: 1 }))];
    const model = onnx.ModelProto.create({ irVersion: 8, producerName: 'nn-modularity-pipeline', opsetImport, graph });
    return onnx.ModelProto.encode(model).finish();
  }
}

function valueInfo(name: string, dims: readonly Dim[]): InstanceType<typeof onnx.ValueInfoProto> {
  const dim = dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: FLOAT, shape: { dim } } } });
}

function attributeProto(name: string, a: Attribute): InstanceType<typeof onnx.AttributeProto> {
  const { AttributeType } = onnx.AttributeProto;
  if (typeof a === 'number') return onnx.AttributeProto.create({ name, type: AttributeType.INT, i: a });
  if (Array.isArray(a)) return onnx.AttributeProto.create({ name, type: AttributeType.INTS, ints: a });
  if ('float' in a) return onnx.AttributeProto.create({ name, type: AttributeType.FLOAT, f: a.float });
  return onnx.AttributeProto.create({ name, type: AttributeType.INTS, ints: a.ints });
}
