/**
 * science/models: small models of every format written byte by byte in the test (no Python),
 * their graphs checked edge by edge against the definitions of docs/models.md, and bad input.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runNcut } from '../cli/ncut.ts';
import { UserError } from '../engine/errors.ts';
import { buildGraph, toDenseAdjacency } from '../science/cluster/index.ts';
import { louvainPartition, modularity } from '../science/cluster/modularity.ts';
import { shuffleLayers } from '../science/cluster/shuffle.ts';
import { ModelFormatError, readModel, type NetworkGraph } from '../science/models/index.ts';
import { Rng } from '../science/random.ts';
import { weightsToIPC } from '../science/weights.ts';
import {
  PickleWriter,
  keras3Zip,
  kerasH5,
  npy,
  npz,
  onnxModel,
  safetensors,
  stateDictPickle,
  torchStateDict,
  torchZip,
  type OnnxNodeSpec,
  type T,
} from './helpers/model-files.ts';

/** Distinct, non-zero, sign-varying test values. */
const values = (n: number, seed: number) => Array.from({ length: n }, (_, i) => ((((i + 1) * 37 + seed * 11) % 23) - 11.5) / 8);

const read = (bytes: Uint8Array, layers?: string[], convNorm?: 'l1' | 'l2' | 'successor-l1' | 'successor-l2') =>
  readModel(bytes, { source: 'test.model', layers, convNorm });

/** Assert the graph's edge matrices equal `expected` (edge weight = |value|; Float32 storage). */
function assertEdges(g: NetworkGraph, expected: { fanIn: number; fanOut: number; edges: number[] }[], what: string) {
  assert.equal(g.layers.length, expected.length, `${what}: layer count`);
  expected.forEach((e, l) => {
    const got = g.layers[l];
    assert.equal(got.fanIn, e.fanIn, `${what}: layer ${l} fanIn`);
    assert.equal(got.fanOut, e.fanOut, `${what}: layer ${l} fanOut`);
    for (let t = 0; t < e.edges.length; t++) {
      const want = Math.fround(Math.abs(e.edges[t]));
      const have = Math.abs(got.kernel[t]);
      assert.ok(
        Math.abs(have - want) <= 1e-6 * Math.max(1, want),
        `${what}: layer ${l} edge [${Math.floor(t / e.fanOut)}, ${t % e.fanOut}] = ${have}, expected ${want}`,
      );
    }
  });
}

// ---- a 2-3-2 MLP in PyTorch orientation (weight [out, in]) ----
const W1 = values(6, 1); // [3, 2]
const W2 = values(6, 2); // [2, 3]
const transposed = (w: number[], out: number, inp: number) => Array.from({ length: w.length }, (_, t) => w[(t % out) * inp + Math.floor(t / out)]);
// Edge [i, j] = |W[j, i]|: the Keras-orientation kernel.
const mlpExpected = [
  { fanIn: 2, fanOut: 3, edges: transposed(W1, 3, 2) },
  { fanIn: 3, fanOut: 2, edges: transposed(W2, 2, 3) },
];
const mlpTorch: T[] = [
  { name: 'fc1.weight', shape: [3, 2], data: W1 },
  { name: 'fc1.bias', shape: [3], data: [0.1, 0.2, 0.3] },
  { name: 'fc2.weight', shape: [2, 3], data: W2 },
  { name: 'fc2.bias', shape: [2], data: [0.1, 0.2] },
];

test('dense MLP: the same edges |W[i, j]| from a state dict, safetensors, npz, ONNX (Gemm and MatMul), Keras HDF5 and Arrow', async () => {
  const files: Record<string, Uint8Array> = {
    pytorch: torchStateDict(mlpTorch),
    safetensors: safetensors(mlpTorch),
    npz: npz(mlpTorch),
    onnxGemm: onnxModel(
      [
        { op: 'Gemm', inputs: ['x', 'fc1.weight', 'fc1.bias'], output: 'h1', attrs: { transB: 1 } },
        { op: 'Relu', inputs: ['h1'], output: 'a1' },
        { op: 'Gemm', inputs: ['a1', 'fc2.weight', 'fc2.bias'], output: 'y', attrs: { transB: 1 } },
      ],
      mlpTorch,
    ),
    onnxMatMul: onnxModel(
      [
        { op: 'MatMul', inputs: ['x', 'w1'], output: 'm1' },
        { op: 'Add', inputs: ['m1', 'b1'], output: 'h1' },
        { op: 'Tanh', inputs: ['h1'], output: 'a1' },
        { op: 'MatMul', inputs: ['a1', 'w2'], output: 'y' },
      ],
      [
        { name: 'w1', shape: [2, 3], data: mlpExpected[0].edges },
        { name: 'b1', shape: [3], data: [1, 2, 3] },
        { name: 'w2', shape: [3, 2], data: mlpExpected[1].edges },
      ],
    ),
    keras: await kerasH5([
      {
        name: 'dense',
        weights: [
          { name: 'kernel:0', shape: [2, 3], data: mlpExpected[0].edges },
          { name: 'bias:0', shape: [3], data: [0, 0, 0] },
        ],
      },
      { name: 'dropout', weights: [] },
      {
        name: 'dense_1',
        weights: [
          { name: 'kernel:0', shape: [3, 2], data: mlpExpected[1].edges },
          { name: 'bias:0', shape: [2], data: [0, 0] },
        ],
      },
    ]),
    arrow: weightsToIPC({
      layers: mlpExpected.map((e) => ({ fanIn: e.fanIn, fanOut: e.fanOut, kernel: Float32Array.from(e.edges), bias: new Float32Array(e.fanOut) })),
      meta: { dataset: 'toy', dropout: false, run: 0, phase: 'pruned' },
    }),
  };
  const formats: Record<string, string> = {
    pytorch: 'pytorch',
    safetensors: 'safetensors',
    npz: 'npz',
    onnxGemm: 'onnx',
    onnxMatMul: 'onnx',
    keras: 'keras-h5',
    arrow: 'arrow',
  };
  for (const [what, bytes] of Object.entries(files)) {
    const m = await read(bytes);
    assert.equal(m.format, formats[what], what);
    assert.deepEqual(
      m.graph.nodeLayers.map((n) => n.units),
      [2, 3, 2],
      what,
    );
    assertEdges(m.graph, mlpExpected, what);
  }
  // Weights aliased through Identity (as exporters do for shared weights) and Constant nodes are constants.
  const aliased = await read(
    onnxModel(
      [
        { op: 'Identity', inputs: ['w1'], output: 'w1_alias' },
        { op: 'MatMul', inputs: ['x', 'w1_alias'], output: 'h' },
        { op: 'Relu', inputs: ['h'], output: 'y' },
      ],
      [{ name: 'w1', shape: [2, 3], data: mlpExpected[0].edges }],
    ),
  );
  assertEdges(aliased.graph, [mlpExpected[0]], 'Identity alias');
  // Gemm's alpha scales the edges.
  const scaled = await read(
    onnxModel([{ op: 'Gemm', inputs: ['x', 'w'], output: 'y', attrs: { alpha: 0.5 } }], [{ name: 'w', shape: [2, 3], data: mlpExpected[0].edges }]),
  );
  assertEdges(scaled.graph, [{ fanIn: 2, fanOut: 3, edges: mlpExpected[0].edges.map((v) => v / 2) }], 'Gemm alpha');
});

// ---- a CNN: conv [3, 2, 2, 2] → BatchNorm → ReLU → MaxPool → Flatten → dense [4, 3·4] ----
const K = values(3 * 2 * 2 * 2, 3); // [O=3, I=2, 2, 2]
const gamma = [1.5, -0.5, 2];
const variance = [0.25, 4, 1];
const EPS = 1e-5;
const D = values(4 * 12, 4); // [4, 12] PyTorch orientation, input index c·4 + s (NCHW)
const bnScale = gamma.map((g, o) => g / Math.sqrt(variance[o] + EPS));
// Conv edge [i, o] = |γ_o/√(σ²_o + ε)| · Σ_{h,w} |K[o, i, h, w]|.
const convExpected = { fanIn: 2, fanOut: 3, edges: [] as number[] };
for (let i = 0; i < 2; i++)
  for (let o = 0; o < 3; o++) {
    let s = 0;
    for (let t = 0; t < 4; t++) s += Math.abs(K[(o * 2 + i) * 4 + t]);
    convExpected.edges.push(Math.abs(bnScale[o]) * s);
  }
// Flatten edge [c, j] = Σ_s |D[j, c·4 + s]|.
const flatExpected = { fanIn: 3, fanOut: 4, edges: [] as number[] };
for (let c = 0; c < 3; c++)
  for (let j = 0; j < 4; j++) {
    let s = 0;
    for (let p = 0; p < 4; p++) s += Math.abs(D[j * 12 + c * 4 + p]);
    flatExpected.edges.push(s);
  }
const cnnTorch: T[] = [
  { name: 'features.0.weight', shape: [3, 2, 2, 2], data: K },
  { name: 'features.0.bias', shape: [3], data: [0, 0, 0] },
  { name: 'features.1.weight', shape: [3], data: gamma },
  { name: 'features.1.bias', shape: [3], data: [5, 5, 5] },
  { name: 'features.1.running_mean', shape: [3], data: [1, 2, 3] },
  { name: 'features.1.running_var', shape: [3], data: variance },
  { name: 'features.1.num_batches_tracked', shape: [], data: [7], storage: 'LongStorage' },
  { name: 'classifier.weight', shape: [4, 12], data: D },
  { name: 'classifier.bias', shape: [4], data: [0, 0, 0, 0] },
];
const cnnOnnxNodes: OnnxNodeSpec[] = [
  { op: 'Conv', inputs: ['x', 'features.0.weight', 'features.0.bias'], output: 'c', name: 'conv1' },
  {
    op: 'BatchNormalization',
    inputs: ['c', 'features.1.weight', 'features.1.bias', 'features.1.running_mean', 'features.1.running_var'],
    output: 'b',
    attrs: { epsilon: EPS },
  },
  { op: 'Relu', inputs: ['b'], output: 'r' },
  { op: 'MaxPool', inputs: ['r'], output: 'p', attrs: { kernel_shape: 2 } },
  { op: 'Flatten', inputs: ['p'], output: 'f' },
  { op: 'Gemm', inputs: ['f', 'classifier.weight', 'classifier.bias'], output: 'y', attrs: { transB: 1 }, name: 'fc' },
];

test('CNN: channels as nodes, BatchNorm folded, flatten edges over spatial positions (ONNX, state dict, Keras NHWC)', async () => {
  const onnx = await read(
    onnxModel(
      cnnOnnxNodes,
      cnnTorch.filter((t) => t.storage === undefined),
    ),
  );
  assert.deepEqual(
    onnx.graph.nodeLayers.map((n) => [n.name, n.units, n.unit]),
    [
      ['input', 2, 'channel'],
      ['conv1', 3, 'channel'],
      ['fc', 4, 'unit'],
    ],
  );
  assertEdges(onnx.graph, [convExpected, flatExpected], 'onnx');
  const pt = await read(torchStateDict(cnnTorch));
  assertEdges(pt.graph, [convExpected, flatExpected], 'state dict (implied NCHW flatten)');
  // Keras: kernel [kh, kw, in, out], BatchNorm gamma/beta/moving_*, dense kernel [in, out] with NHWC input index s·3 + c.
  const kerasKernel = new Array(K.length);
  for (let o = 0; o < 3; o++) for (let i = 0; i < 2; i++) for (let s = 0; s < 4; s++) kerasKernel[(s * 2 + i) * 3 + o] = K[(o * 2 + i) * 4 + s];
  const kerasDense = new Array(D.length);
  for (let j = 0; j < 4; j++) for (let c = 0; c < 3; c++) for (let s = 0; s < 4; s++) kerasDense[(s * 3 + c) * 4 + j] = D[j * 12 + c * 4 + s];
  const keras = await read(
    await kerasH5([
      {
        name: 'conv2d',
        weights: [
          { name: 'kernel:0', shape: [2, 2, 2, 3], data: kerasKernel },
          { name: 'bias:0', shape: [3], data: [0, 0, 0] },
        ],
      },
      {
        name: 'batch_normalization',
        config: { class_name: 'BatchNormalization', config: { name: 'batch_normalization', epsilon: EPS } },
        weights: [
          { name: 'gamma:0', shape: [3], data: gamma },
          { name: 'beta:0', shape: [3], data: [0, 0, 0] },
          { name: 'moving_mean:0', shape: [3], data: [0, 0, 0] },
          { name: 'moving_variance:0', shape: [3], data: variance },
        ],
      },
      { name: 'flatten', weights: [] },
      {
        name: 'dense',
        weights: [
          { name: 'kernel:0', shape: [12, 4], data: kerasDense },
          { name: 'bias:0', shape: [4], data: [0, 0, 0, 0] },
        ],
      },
    ]),
  );
  assertEdges(keras.graph, [convExpected, flatExpected], 'keras');
});

test('Keras 3 .keras (order from config.json, BatchNorm ε from the config), .npy, Fortran order and float16 safetensors', async () => {
  const kerasKernel = new Array(K.length);
  for (let o = 0; o < 3; o++) for (let i = 0; i < 2; i++) for (let s = 0; s < 4; s++) kerasKernel[(s * 2 + i) * 3 + o] = K[(o * 2 + i) * 4 + s];
  const kerasDense = new Array(D.length);
  for (let j = 0; j < 4; j++) for (let c = 0; c < 3; c++) for (let s = 0; s < 4; s++) kerasDense[(s * 3 + c) * 4 + j] = D[j * 12 + c * 4 + s];
  const keras3 = await read(
    await keras3Zip([
      { name: 'input_layer', className: 'InputLayer', vars: [] },
      {
        name: 'conv2d',
        className: 'Conv2D',
        vars: [
          { name: 'k', shape: [2, 2, 2, 3], data: kerasKernel },
          { name: 'b', shape: [3], data: [0, 0, 0] },
        ],
      },
      {
        name: 'batch_normalization',
        className: 'BatchNormalization',
        config: { epsilon: EPS },
        vars: [
          { name: 'g', shape: [3], data: gamma },
          { name: 'b', shape: [3], data: [0, 0, 0] },
          { name: 'm', shape: [3], data: [0, 0, 0] },
          { name: 'v', shape: [3], data: variance },
        ],
      },
      { name: 'flatten', className: 'Flatten', vars: [] },
      {
        name: 'dense',
        className: 'Dense',
        vars: [
          { name: 'k', shape: [12, 4], data: kerasDense },
          { name: 'b', shape: [4], data: [0, 0, 0, 0] },
        ],
      },
    ]),
  );
  assert.equal(keras3.format, 'keras');
  assertEdges(keras3.graph, [convExpected, flatExpected], 'keras 3');
  // A single .npy matrix is one dense layer ([out, in] unless only [in, out] chains: here PyTorch).
  const one = await read(npy([3, 2], W1));
  assert.equal(one.format, 'npy');
  assertEdges(one.graph, [mlpExpected[0]], '.npy');
  // Fortran order: the same matrix stored column-major.
  const fortran = npy([3, 2], transposed(W1, 3, 2)).slice();
  const text = new TextDecoder().decode(fortran.subarray(10, 80)).replace("'fortran_order': False", "'fortran_order': True ");
  fortran.set(new TextEncoder().encode(text), 10);
  assertEdges((await read(fortran)).graph, [mlpExpected[0]], 'Fortran order');
  // float16 safetensors: values exactly representable in half precision.
  const halfValues = [0.5, -1.25, 2, 3.5, -0.125, 1];
  const half = safetensors([{ name: 'fc.weight', shape: [3, 2], data: halfValues }]);
  const headerLength = Number(new DataView(half.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(half.subarray(8, 8 + headerLength)));
  header['fc.weight'] = { dtype: 'F16', shape: [3, 2], data_offsets: [0, 12] };
  const h = new TextEncoder().encode(JSON.stringify(header));
  const bytes = new Uint8Array(8 + h.length + 12);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(h.length), true);
  bytes.set(h, 8);
  // IEEE half bit patterns of halfValues.
  [0x3800, 0xbd00, 0x4000, 0x4300, 0xb000, 0x3c00].forEach((bits, i) => new DataView(bytes.buffer).setUint16(8 + h.length + 2 * i, bits, true));
  assertEdges((await read(bytes)).graph, [{ fanIn: 2, fanOut: 3, edges: transposed(halfValues, 3, 2) }], 'float16');
});

test('the ncut result names the format and node layers and carries Q (and Louvain on request)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'models-ncut-'));
  try {
    const file = join(dir, 'cnn.pt');
    writeFileSync(file, torchStateDict(cnnTorch));
    const r = await runNcut(file, { k: 2, seed: 3, shuffles: 0, method: 'layer', threads: 1, louvain: true });
    assert.equal(r.format, 'pytorch');
    assert.deepEqual(
      r.layers.map((l) => [l.name, l.units, l.unit]),
      [
        ['input', 2, 'channel'],
        ['features.0', 3, 'channel'],
        ['classifier', 4, 'unit'],
      ],
    );
    const g = buildGraph((await read(torchStateDict(cnnTorch))).graph.layers);
    assert.equal(
      r.modularity,
      modularity(
        g,
        Int32Array.from(g.liveNodes, (n) => r.labels[n]),
      ),
    );
    assert.equal(r.louvain!.modularity, louvainPartition(g, 3).modularity);
    const l2 = await runNcut(file, { k: 2, seed: 3, shuffles: 0, method: 'layer', threads: 1, convNorm: 'l2' });
    assert.notEqual(l2.ncut, r.ncut, 'the conv norm changes the graph');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a conv after a dense layer and a BatchNorm before any weight layer are refused', async () => {
  await assert.rejects(
    read(torchStateDict([mlpTorch[0], { name: 'conv.weight', shape: [2, 3, 1, 1], data: values(6, 1) }])),
    /convolution 'conv' follows the dense layer 'fc1'/,
  );
  await assert.rejects(
    read(torchStateDict([{ name: 'bn.weight', shape: [2], data: [1, 1] }, { name: 'bn.running_var', shape: [2], data: [1, 1] }, mlpTorch[0]])),
    /BatchNorm 'bn' comes before any weight layer/,
  );
});

test('conv norms of one kernel slice [[1, -2], [3, 4]]: l1 10, l2 √30, successor-l1 6 (max column sum), successor-l2 5.4650 (largest singular value)', async () => {
  const bytes = onnxModel([{ op: 'Conv', inputs: ['x', 'k'], output: 'y' }], [{ name: 'k', shape: [1, 1, 2, 2], data: [1, -2, 3, 4] }]);
  // σ_max of [[1, 2], [3, 4]] = √((30 + √(30² − 4·2²))/2).
  const expected = { l1: 10, l2: Math.sqrt(30), 'successor-l1': 6, 'successor-l2': Math.sqrt((30 + Math.sqrt(900 - 16)) / 2) } as const;
  for (const [norm, want] of Object.entries(expected)) {
    const m = await read(bytes, undefined, norm as keyof typeof expected);
    assert.ok(Math.abs(m.graph.layers[0].kernel[0] - want) < 1e-5, `${norm}: ${m.graph.layers[0].kernel[0]} vs ${want}`);
  }
});

test('a layer shuffle of a conv graph moves whole kernels: the shuffled edges are a permutation of the slice norms', async () => {
  const m = await read(
    onnxModel(
      cnnOnnxNodes,
      cnnTorch.filter((t) => t.storage === undefined),
    ),
  );
  const [shuffled] = shuffleLayers([m.graph.layers[0]], 'layer', new Rng(5));
  assert.deepEqual(Array.from(shuffled.kernel).sort(), Array.from(m.graph.layers[0].kernel).sort());
});

test('ONNX: residual Add, grouped conv, branches and unknown ops are refused, naming op, node and where the graph stops', async () => {
  const w = { name: 'w', shape: [2, 2, 1, 1], data: [1, 2, 3, 4] };
  const cases: [string, Uint8Array, RegExp][] = [
    [
      'residual',
      onnxModel(
        [
          { op: 'Conv', inputs: ['x', 'w'], output: 'c', name: 'conv1' },
          { op: 'Relu', inputs: ['c'], output: 'r', name: 'relu1' },
          { op: 'Add', inputs: ['r', 'x'], output: 'y', name: 'skip' },
        ],
        [w],
      ),
      /node 'skip' \(op Add\) joins 2 activations.*stops after node 'relu1' \(op Relu\)/,
    ],
    [
      'grouped',
      onnxModel([{ op: 'Conv', inputs: ['x', 'w'], output: 'y', name: 'g', attrs: { group: 2 } }], [w]),
      /node 'g' \(op Conv\) is a grouped convolution \(group = 2\).*stops after the graph input/,
    ],
    [
      'unknown',
      onnxModel(
        [
          { op: 'Conv', inputs: ['x', 'w'], output: 'c', name: 'conv1' },
          { op: 'Attention', inputs: ['c'], output: 'y', name: 'att' },
        ],
        [w],
      ),
      /node 'att' \(op Attention\) is not supported.*stops after node 'conv1'/,
    ],
    [
      'branch',
      onnxModel(
        [
          { op: 'Relu', inputs: ['x'], output: 'a', name: 'r1' },
          { op: 'Relu', inputs: ['a'], output: 'b', name: 'r2' },
          { op: 'Conv', inputs: ['a', 'w'], output: 'y', name: 'late' },
        ],
        [w],
      ),
      /node 'late' \(op Conv\) reads 'a'.*branches/,
    ],
  ];
  for (const [what, bytes, pattern] of cases) await assert.rejects(read(bytes), (e: Error) => e instanceof ModelFormatError && pattern.test(e.message), what);
});

test('layer order: file order by default, --layers names reorder and globs select; unclear files list the tensors found', async () => {
  // A 2-3-4 network stored fc2 first: [4, 3] then [3, 2] does not chain.
  const W3 = values(12, 5);
  const reversed: T[] = [{ name: 'fc2.weight', shape: [4, 3], data: W3 }, mlpTorch[0]];
  await assert.rejects(read(torchStateDict(reversed)), (e: Error) =>
    /'fc1' has 2 inputs.*Tensors found: fc2\.weight \[4, 3\], fc1\.weight \[3, 2\].*--layers/.test(e.message),
  );
  assertEdges(
    (await read(torchStateDict(reversed), ['fc1', 'fc2'])).graph,
    [mlpExpected[0], { fanIn: 3, fanOut: 4, edges: transposed(W3, 4, 3) }],
    '--layers names',
  );
  const withHead = [...mlpTorch, { name: 'aux.weight', shape: [5, 7], data: values(35, 9) }];
  assertEdges((await read(safetensors(withHead), ['fc*'])).graph, mlpExpected, '--layers glob');
  await assert.rejects(read(npz(mlpTorch), ['conv*']), /--layers 'conv\*' matches no module or tensor; tensors found: fc1\.weight/);
  const layerNorm = [mlpTorch[0], { name: 'ln.weight', shape: [3], data: [1, 1, 1] }, mlpTorch[2]];
  await assert.rejects(read(torchStateDict(layerNorm)), /module 'ln' has a 1-D weight \[3\].*--layers/);
  assertEdges((await read(torchStateDict(layerNorm), ['fc1', 'fc2'])).graph, mlpExpected, 'LayerNorm skipped by --layers');
});

test('the restricted unpickler refuses any global a state dict does not use', async () => {
  for (const [module, name] of [
    ['os', 'system'],
    ['__main__', 'Net'],
    ['builtins', 'eval'],
  ]) {
    const p = new PickleWriter().global(module, name).str('echo hi').op(0x85, 0x52);
    await assert.rejects(
      read(torchZip(p.bytes(), [])),
      (e: Error) => e instanceof ModelFormatError && e.message.includes(`refusing the pickled global '${module}.${name}'`),
    );
  }
});

test("modularity Q matches Newman's formula on the dense adjacency; Louvain is reproducible for a seed", async () => {
  const g = buildGraph((await read(torchStateDict(cnnTorch))).graph.layers);
  const labels = Int32Array.from({ length: g.nodeCount }, (_, i) => i % 3);
  const a = toDenseAdjacency(g);
  const n = g.nodeCount;
  const k = Array.from({ length: n }, (_, i) => a.slice(i * n, (i + 1) * n).reduce((x, y) => x + y, 0));
  const twoM = k.reduce((x, y) => x + y, 0);
  let q = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (labels[i] === labels[j]) q += a[i * n + j] - (k[i] * k[j]) / twoM;
  q /= twoM;
  assert.ok(Math.abs(modularity(g, labels) - q) < 1e-12, `${modularity(g, labels)} vs ${q}`);
  assert.ok(Math.abs(modularity(g, new Int32Array(n))) < 1e-12, 'one cluster: Q = 0');
  const l1 = louvainPartition(g, 7);
  const l2 = louvainPartition(g, 7);
  assert.deepEqual(Array.from(l1.labels), Array.from(l2.labels));
  assert.ok(l1.modularity > 0, 'Louvain finds positive modularity');
});

test('bad input of every format: one-line UserError naming the file and the problem', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'models-bad-'));
  try {
    const nan = mlpTorch.map((t) => (t.name === 'fc2.weight' ? { ...t, data: [1, NaN, 2, 3, 4, 5] } : t));
    const corruptHeader = safetensors(mlpTorch);
    corruptHeader[12] = 0x00;
    const wrongOffsets = safetensors(mlpTorch);
    const headerText = new TextDecoder().decode(wrongOffsets.subarray(8, 8 + Number(new DataView(wrongOffsets.buffer).getBigUint64(0, true))));
    const badShape = [{ ...mlpTorch[0] }, { name: 'fc2.weight', shape: [2, 4], data: values(8, 2) }];
    const pt = torchStateDict(mlpTorch);
    const cases: [string, Uint8Array, RegExp][] = [
      ['truncated.pt', pt.slice(0, pt.length - 300), /zip|truncated|corrupt/],
      ['global.pt', torchZip(new PickleWriter().global('subprocess', 'Popen').op(0x29, 0x52).bytes(), []), /refusing the pickled global 'subprocess\.Popen'/],
      ['legacy.pt', Uint8Array.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]), /legacy/],
      ['nan.pt', torchStateDict(nan), /non-finite weight \(NaN\)/],
      ['shape.pt', torchStateDict(badShape), /'fc2' has 4 inputs.*3 outputs/],
      [
        'storage.pt',
        torchZip(stateDictPickle([mlpTorch[0]]), [new Uint8Array(Float32Array.from([1, 2, 3, 4]).buffer)]),
        /'fc1\.weight': shape \[3, 2\] reaches past its storage of 4 elements/,
      ],
      ['truncated.safetensors', safetensors(mlpTorch).slice(0, 100), /truncated|offset|header/],
      ['corrupt.safetensors', corruptHeader, /not valid JSON/],
      [
        'offsets.safetensors',
        (() => {
          const b = wrongOffsets.slice();
          b.set(new TextEncoder().encode(headerText.replace('"shape":[3,2]', '"shape":[3,3]')), 8);
          return b;
        })(),
        /data_offsets .* shape \[3, 3\]/,
      ],
      ['truncated.npz', npz(mlpTorch).slice(0, 200), /zip|truncated/],
      ['truncated.npy', npy([3, 2], W1).slice(0, 100), /truncated|needs 24 bytes/],
      ['object.npy', npy([2], [1, 2], '|O'), /object array/],
      ['nan.npz', npz(nan), /non-finite/],
      ['truncated.h5', (await kerasH5([{ name: 'dense', weights: [{ name: 'kernel:0', shape: [2, 3], data: W1 }] }])).slice(0, 600), /HDF5|truncated|corrupt/],
      ['corrupt.onnx', Uint8Array.from({ length: 64 }, (_, i) => (i * 97 + 13) & 255), /ONNX|truncated|corrupt/],
      [
        'truncated.onnx',
        onnxModel(
          cnnOnnxNodes,
          cnnTorch.filter((t) => t.storage === undefined),
        ).slice(0, 150),
        /ONNX|truncated|corrupt/,
      ],
      [
        'residual.onnx',
        onnxModel(
          [
            { op: 'Relu', inputs: ['x'], output: 'r' },
            { op: 'Add', inputs: ['r', 'x'], output: 'y', name: 'skip' },
          ],
          [],
        ),
        /op Add/,
      ],
      ['empty.onnx', new Uint8Array(0), /empty/],
    ];
    for (const [name, bytes, pattern] of cases) {
      const file = join(dir, name);
      writeFileSync(file, bytes);
      await assert.rejects(
        runNcut(file, { k: 2, seed: 1, shuffles: 0, method: 'layer', threads: 1 }),
        (e: Error) => e instanceof UserError && e.message.includes(file) && !e.message.includes('\n') && pattern.test(e.message),
        name,
      );
    }
    // The CLI: exit 1, the one line on stderr, no stack trace.
    const file = join(dir, 'truncated.pt');
    assert.throws(
      () => execFileSync(process.execPath, ['--import', 'tsx', 'pipeline.ts', 'ncut', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
      (e: any) => e.status === 1 && e.stderr.includes(file) && e.stderr.trim().split('\n').length === 1 && !e.stderr.includes('    at '),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('damaged files (truncated at random points, random bytes overwritten) fail only with ModelFormatError, never otherwise', async () => {
  const rng = new Rng(11);
  const files = [
    torchStateDict(cnnTorch),
    safetensors(mlpTorch),
    npz(mlpTorch),
    onnxModel(
      cnnOnnxNodes,
      cnnTorch.filter((t) => t.storage === undefined),
    ),
    await kerasH5([{ name: 'dense', weights: [{ name: 'kernel:0', shape: [2, 3], data: W1 }] }]),
  ];
  for (const original of files) {
    for (let trial = 0; trial < 40; trial++) {
      let bytes = Uint8Array.from(original);
      if (trial % 2 === 0) bytes = bytes.slice(0, rng.int(bytes.length));
      else for (let j = 0; j <= rng.int(6); j++) bytes[rng.int(bytes.length)] = rng.int(256);
      try {
        await read(bytes);
        assert.ok(trial % 2 === 1, 'a truncated file must not be accepted');
      } catch (e) {
        assert.ok(e instanceof ModelFormatError, `trial ${trial}: ${(e as Error).name}: ${(e as Error).message}`);
      }
    }
  }
});
