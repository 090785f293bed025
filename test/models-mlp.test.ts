/**
 * science/models/mlp.ts: a network file as the ReLU MLP the lesions run: biases carried through
 * every reader, the same layers from every format of the PyTorch-trained fixture, and refusals
 * (with the reason) for what the lesion forward pass cannot run.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ModelFormatError, readMlp } from '../science/models/index.ts';
import { readNpz } from '../science/models/numpy.ts';
import { weightsToIPC } from '../science/weights.ts';
import { keras3Zip, npz, onnxModel, safetensors, torchStateDict, type T } from './helpers/model-files.ts';

const FIXTURES = new URL('./fixtures/models/', import.meta.url).pathname;
const source = 'model';

const W1 = [1, -2, 3, -4, 5, -6]; // PyTorch [out 3, in 2]
const W2 = [0.5, -1, 1.5, -2, 2.5, -3]; // [out 2, in 3]
const B1 = [0.1, 0.2, 0.3];
const B2 = [-0.1, 0.4];
const torchTensors: T[] = [
  { name: 'fc1.weight', shape: [3, 2], data: W1 },
  { name: 'fc1.bias', shape: [3], data: B1 },
  { name: 'fc2.weight', shape: [2, 3], data: W2 },
  { name: 'fc2.bias', shape: [2], data: B2 },
];
/** [out, in] → Keras [in, out]. */
const keras = (w: number[], out: number, inp: number) => Array.from({ length: w.length }, (_, t) => w[(t % out) * inp + Math.floor(t / out)]);
const f32 = (xs: number[]) => Array.from(Float32Array.from(xs));

function assertLayers(layers: { fanIn: number; fanOut: number; kernel: Float32Array; bias: Float32Array }[], what: string) {
  assert.deepEqual(
    layers.map((l) => [l.fanIn, l.fanOut]),
    [
      [2, 3],
      [3, 2],
    ],
    what,
  );
  assert.deepEqual(Array.from(layers[0].kernel), f32(keras(W1, 3, 2)), `${what}: kernel 1`);
  assert.deepEqual(Array.from(layers[1].kernel), f32(keras(W2, 2, 3)), `${what}: kernel 2`);
  assert.deepEqual(Array.from(layers[0].bias), f32(B1), `${what}: bias 1`);
  assert.deepEqual(Array.from(layers[1].bias), f32(B2), `${what}: bias 2`);
}

test('biases reach the MLP from a state dict, safetensors, npz, ONNX Gemm (C × beta), ONNX MatMul + Add, and Arrow', async () => {
  const files: Record<string, Uint8Array> = {
    pytorch: torchStateDict(torchTensors),
    safetensors: safetensors(torchTensors),
    npz: npz(torchTensors),
    gemm: onnxModel(
      [
        { op: 'Gemm', inputs: ['x', 'fc1.weight', 'fc1.bias'], output: 'h1', attrs: { transB: 1 } },
        { op: 'Relu', inputs: ['h1'], output: 'a1' },
        { op: 'Gemm', inputs: ['a1', 'fc2.weight', 'fc2.bias'], output: 'z', attrs: { transB: 1 } },
        { op: 'Softmax', inputs: ['z'], output: 'y' },
      ],
      torchTensors,
    ),
    matmul: onnxModel(
      [
        { op: 'MatMul', inputs: ['x', 'w1'], output: 'm1' },
        { op: 'Add', inputs: ['m1', 'b1'], output: 'h1' },
        { op: 'Relu', inputs: ['h1'], output: 'a1' },
        { op: 'Dropout', inputs: ['a1'], output: 'd1' },
        { op: 'MatMul', inputs: ['d1', 'w2'], output: 'm2' },
        { op: 'Add', inputs: ['b2', 'm2'], output: 'y' },
      ],
      [
        { name: 'w1', shape: [2, 3], data: keras(W1, 3, 2) },
        { name: 'b1', shape: [3], data: B1 },
        { name: 'w2', shape: [3, 2], data: keras(W2, 2, 3) },
        { name: 'b2', shape: [2], data: B2 },
      ],
    ),
    arrow: weightsToIPC({
      layers: [
        { fanIn: 2, fanOut: 3, kernel: Float32Array.from(keras(W1, 3, 2)), bias: Float32Array.from(B1) },
        { fanIn: 3, fanOut: 2, kernel: Float32Array.from(keras(W2, 2, 3)), bias: Float32Array.from(B2) },
      ],
      meta: { dataset: 'toy', dropout: false, run: 0, phase: 'pruned' },
    }),
  };
  for (const [what, bytes] of Object.entries(files)) assertLayers((await readMlp(bytes, { source: what })).layers, what);
  // Gemm's beta (a float attribute) scales C; a layer without a bias gets zeros.
  const beta = await readMlp(
    onnxModel([{ op: 'Gemm', inputs: ['x', 'fc1.weight', 'fc1.bias'], output: 'y', attrs: { transB: 1, beta: 2.5 } }], torchTensors.slice(0, 2)),
    { source },
  );
  assert.deepEqual(Array.from(beta.layers[0].bias), f32(f32(B1).map((b) => 2.5 * b)));
  const noBias = await readMlp(torchStateDict([torchTensors[0], torchTensors[2]]), { source });
  assert.deepEqual(Array.from(noBias.layers[1].bias), [0, 0]);
});

test('the PyTorch-trained fixture MLP gives the same layers and biases from .onnx, .pt, .safetensors and .npz', async () => {
  const arrays = readNpz(readFileSync(`${FIXTURES}mlp.npz`), 'mlp.npz');
  const biases = arrays.filter((t) => t.name.endsWith('.bias')).map((t) => Array.from(Float32Array.from(t.data)));
  const read = await Promise.all(['mlp.onnx', 'mlp.pt', 'mlp.safetensors', 'mlp.npz'].map((f) => readMlp(readFileSync(`${FIXTURES}${f}`), { source: f })));
  assert.deepEqual(
    read[0].layers.map((l) => Array.from(l.bias)),
    biases,
  );
  for (const r of read.slice(1)) {
    assert.deepEqual(
      r.layers.map((l) => Array.from(l.kernel)),
      read[0].layers.map((l) => Array.from(l.kernel)),
      r.format,
    );
    assert.deepEqual(
      r.layers.map((l) => Array.from(l.bias)),
      biases,
      r.format,
    );
  }
});

const refused = async (bytes: Uint8Array | Promise<Uint8Array>, pattern: RegExp) => {
  await assert.rejects(readMlp(await bytes, { source: 'net.onnx' }), (e: unknown) => e instanceof ModelFormatError && pattern.test(e.message));
};

test('what the lesion forward pass cannot run is refused with the reason: a CNN, a Tanh, no ReLU, an input normalisation', async () => {
  await refused(readFileSync(`${FIXTURES}cnn.onnx`), /cannot be lesioned: '.*' is a convolution/);
  await refused(readFileSync(`${FIXTURES}cnn.pt`), /cannot be lesioned: '.*' is a convolution/);
  const dense = torchTensors;
  const gemm = (input: string, i: number, output: string) => ({ op: 'Gemm', inputs: [input, `fc${i}.weight`, `fc${i}.bias`], output, attrs: { transB: 1 } });
  await refused(
    onnxModel([gemm('x', 1, 'h'), { op: 'Tanh', inputs: ['h'], output: 'a' }, gemm('a', 2, 'y')], dense),
    /'.*' \(Tanh\) between dense layers is not part of a ReLU MLP/,
  );
  await refused(onnxModel([gemm('x', 1, 'h'), gemm('h', 2, 'y')], dense), /no ReLU before dense layer/);
  await refused(
    onnxModel(
      [{ op: 'Sub', inputs: ['x', 'mean'], output: 'xc' }, gemm('xc', 1, 'h'), { op: 'Relu', inputs: ['h'], output: 'a' }, gemm('a', 2, 'y')],
      [...dense, { name: 'mean', shape: [2], data: [0.5, 0.5] }],
    ),
    /\(Sub\) before the first dense layer/,
  );
  // A Keras 3 .keras file is read like the others (no topology check: its config is not an op graph).
  const kerasFile = await keras3Zip([
    { name: 'input_layer', className: 'InputLayer', vars: [] },
    {
      name: 'dense',
      className: 'Dense',
      vars: [
        { name: 'k', shape: [2, 3], data: keras(W1, 3, 2) },
        { name: 'b', shape: [3], data: B1 },
      ],
    },
    {
      name: 'dense_1',
      className: 'Dense',
      vars: [
        { name: 'k', shape: [3, 2], data: keras(W2, 2, 3) },
        { name: 'b', shape: [2], data: B2 },
      ],
    },
  ]);
  assertLayers((await readMlp(kerasFile, { source: 'model.keras' })).layers, 'keras');
});
