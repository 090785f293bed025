/**
 * Writers of small model files in every supported format, byte by byte from the format specs,
 * so the model tests need no Python: PyTorch zip + pickle (protocol 2, as torch.save writes it),
 * safetensors, NumPy .npy/.npz, Keras 2 HDF5 (h5wasm) and ONNX (protobufjs).
 */
import h5wasm from 'h5wasm';
import { zipSync } from 'fflate';
import { encodeOnnx } from '../../science/models/index.ts';

export interface T {
  name: string;
  shape: number[];
  data: number[] | Float32Array;
  /** torch storage type for state dicts (default FloatStorage); LongStorage writes int64. */
  storage?: 'FloatStorage' | 'LongStorage';
}

const enc = new TextEncoder();
const f32 = (data: ArrayLike<number>) => new Uint8Array(Float32Array.from(data as ArrayLike<number>).buffer);

/** A tiny pickle writer for the opcodes a state dict uses. */
export class PickleWriter {
  parts: number[] = [0x80, 0x02];
  op(...b: number[]) {
    this.parts.push(...b);
    return this;
  }
  global(module: string, name: string) {
    return this.op(0x63, ...enc.encode(`${module}\n${name}\n`));
  }
  str(s: string) {
    const b = enc.encode(s);
    return this.op(0x58, b.length & 255, (b.length >> 8) & 255, (b.length >> 16) & 255, b.length >>> 24, ...b);
  }
  int(n: number) {
    return n < 256 ? this.op(0x4b, n) : this.op(0x4a, n & 255, (n >> 8) & 255, (n >> 16) & 255, n >>> 24);
  }
  tuple(values: number[]) {
    this.op(0x28);
    values.forEach((v) => this.int(v));
    return this.op(0x74);
  }
  bytes() {
    return Uint8Array.from([...this.parts, 0x2e]);
  }
}

/** data.pkl of an OrderedDict of float32 tensors, storage i = tensor i, contiguous. */
export function stateDictPickle(tensors: T[]): Uint8Array {
  const p = new PickleWriter();
  p.global('collections', 'OrderedDict').op(0x29, 0x52).op(0x28); // OrderedDict() MARK
  tensors.forEach((t, i) => {
    const numel = t.shape.reduce((a, b) => a * b, 1);
    const stride = t.shape.map((_, d) => t.shape.slice(d + 1).reduce((a, b) => a * b, 1));
    p.str(t.name).global('torch._utils', '_rebuild_tensor_v2');
    p.op(0x28)
      .op(0x28)
      .str('storage')
      .global('torch', t.storage ?? 'FloatStorage')
      .str(String(i))
      .str('cpu')
      .int(numel)
      .op(0x74)
      .op(0x51); // persistent id
    p.int(0).tuple(t.shape).tuple(stride).op(0x89).global('collections', 'OrderedDict').op(0x29, 0x52).op(0x74, 0x52);
  });
  return p.op(0x75).bytes(); // SETITEMS
}

export function torchZip(pkl: Uint8Array, storages: Uint8Array[]): Uint8Array {
  const files: Record<string, [Uint8Array, { level: 0 }]> = { 'archive/data.pkl': [pkl, { level: 0 }] };
  storages.forEach((s, i) => (files[`archive/data/${i}`] = [s, { level: 0 }]));
  files['archive/version'] = [enc.encode('3\n'), { level: 0 }];
  return zipSync(files);
}

const storageBytes = (t: T) => (t.storage === 'LongStorage' ? new Uint8Array(BigInt64Array.from(Array.from(t.data), (v) => BigInt(v)).buffer) : f32(t.data));
export const torchStateDict = (tensors: T[]) => torchZip(stateDictPickle(tensors), tensors.map(storageBytes));

export function safetensors(tensors: T[]): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * t.data.length] };
    offset += 4 * t.data.length;
  }
  const json = enc.encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let p = 8 + json.length;
  for (const t of tensors) {
    out.set(f32(t.data), p);
    p += 4 * t.data.length;
  }
  return out;
}

export function npy(shape: number[], data: ArrayLike<number>, descr = '<f4'): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const body = descr === '<f8' ? new Uint8Array(Float64Array.from(data).buffer) : f32(data);
  const out = new Uint8Array(10 + header.length + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(enc.encode(header), 10);
  out.set(body, 10 + header.length);
  return out;
}

export const npz = (tensors: T[]) => zipSync(Object.fromEntries(tensors.map((t) => [`${t.name}.npy`, npy(t.shape, t.data)])));

export interface KerasLayer {
  name: string;
  weights: T[]; // names like 'kernel:0'
  config?: { class_name: string; config: Record<string, unknown> };
}

/** A Keras 2 `model.save('m.h5')` file: model_weights/<layer>/<layer>/<weight>, layer_names, weight_names. */
export async function kerasH5(layers: KerasLayer[]): Promise<Uint8Array> {
  const Module = await h5wasm.ready;
  const path = `/keras-test-${process.pid}-${Math.random().toString(36).slice(2)}.h5`;
  const f = new h5wasm.File(path, 'w');
  f.create_attribute('model_config', JSON.stringify({ class_name: 'Sequential', config: { layers: layers.filter((l) => l.config).map((l) => l.config) } }));
  const mw = f.create_group('model_weights');
  mw.create_attribute(
    'layer_names',
    layers.map((l) => l.name),
  );
  for (const l of layers) {
    const g = mw.create_group(l.name);
    g.create_attribute('weight_names', l.weights.length ? l.weights.map((w) => `${l.name}/${w.name}`) : ['']);
    if (!l.weights.length) continue;
    const inner = g.create_group(l.name);
    for (const w of l.weights) inner.create_dataset({ name: w.name, data: Float32Array.from(w.data), shape: w.shape, dtype: '<f' });
  }
  f.close();
  const bytes = Module.FS.readFile(path);
  Module.FS.unlink(path);
  return bytes;
}

export interface OnnxNodeSpec {
  op: string;
  inputs: string[];
  output: string;
  name?: string;
  attrs?: Record<string, number>;
}

/** An ONNX model: one input 'x', initializers as float_data, the nodes in order, output = last node's. */
export function onnxModel(nodes: OnnxNodeSpec[], initializers: T[]): Uint8Array {
  return encodeOnnx({
    irVersion: 8,
    producerName: 'test',
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'g',
      input: [{ name: 'x' }],
      output: [{ name: nodes[nodes.length - 1].output }],
      initializer: initializers.map((t) => ({ name: t.name, dims: t.shape, dataType: 1, floatData: Array.from(t.data) })),
      node: nodes.map((n, i) => ({
        name: n.name ?? `${n.op.toLowerCase()}_${i}`,
        opType: n.op,
        input: n.inputs,
        output: [n.output],
        attribute: Object.entries(n.attrs ?? {}).map(([name, v]) => (Number.isInteger(v) ? { name, i: v, type: 2 } : { name, f: v, type: 1 })),
      })),
    },
  });
}

export interface Keras3Layer {
  name: string;
  className: string;
  vars: T[];
  config?: Record<string, unknown>;
}

/** A Keras 3 `.keras` zip: config.json (layer list) + model.weights.h5 (layers/<name>/vars/<i>). */
export async function keras3Zip(layers: Keras3Layer[]): Promise<Uint8Array> {
  const Module = await h5wasm.ready;
  const path = `/keras3-test-${process.pid}-${Math.random().toString(36).slice(2)}.h5`;
  const f = new h5wasm.File(path, 'w');
  const root = f.create_group('layers');
  // Written in reverse so that only config.json can give the forward order.
  for (const l of [...layers].reverse()) {
    const vars = root.create_group(l.name).create_group('vars');
    l.vars.forEach((v, i) => vars.create_dataset({ name: String(i), data: Float32Array.from(v.data), shape: v.shape, dtype: '<f' }));
  }
  f.close();
  const weights = Module.FS.readFile(path);
  Module.FS.unlink(path);
  const config = {
    class_name: 'Sequential',
    config: { name: 'sequential', layers: layers.map((l) => ({ class_name: l.className, config: { name: l.name, ...l.config } })) },
  };
  return zipSync({ 'metadata.json': enc.encode('{"keras_version": "3.3.3"}'), 'config.json': enc.encode(JSON.stringify(config)), 'model.weights.h5': weights });
}
