/**
 * One PyTorch-trained MLP (test/fixtures/models/make_fixtures.py, run once with torch; the files
 * are committed) exported as ONNX, a state dict, safetensors and .npz gives the same graph and
 * n-cut from every format, and the same as its Arrow export. A small CNN with BatchNorm gives the
 * same graph from ONNX (where the exporter folded BatchNorm into the conv) and from its state dict
 * (where the reader folds it).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runNcut } from '../cli/ncut.ts';
import { readModel } from '../science/models/index.ts';
import { readNpz } from '../science/models/numpy.ts';
import { weightsToIPC, type DenseLayer } from '../science/weights.ts';

const FIXTURES = new URL('./fixtures/models/', import.meta.url).pathname;
const MLP_FILES = ['mlp.onnx', 'mlp.pt', 'mlp.safetensors', 'mlp.npz'];
const opts = { k: 4, seed: 42, shuffles: 0, method: 'layer' as const, threads: 1 };

/** The Arrow export of the MLP, written from the raw .npz arrays (PyTorch [out, in] → Keras [in, out]). */
function arrowExport(dir: string): string {
  const arrays = readNpz(readFileSync(join(FIXTURES, 'mlp.npz')), 'mlp.npz');
  const layers: DenseLayer[] = arrays
    .filter((t) => t.name.endsWith('.weight'))
    .map((w) => {
      const [out, inp] = w.shape;
      const kernel = new Float32Array(inp * out);
      for (let o = 0; o < out; o++) for (let i = 0; i < inp; i++) kernel[i * out + o] = w.data[o * inp + i];
      const bias = arrays.find((t) => t.name === w.name.replace(/weight$/, 'bias'))!;
      return { fanIn: inp, fanOut: out, kernel, bias: Float32Array.from(bias.data) };
    });
  const file = join(dir, 'mlp.arrow');
  writeFileSync(file, weightsToIPC({ layers, meta: { dataset: 'fixture', dropout: false, run: 0, phase: 'unpruned' } }));
  return file;
}

test('a PyTorch-trained 64-32-32-10 MLP: the same n-cut, labels and shuffles from .onnx, .pt, .safetensors, .npz and its Arrow export', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'models-cross-'));
  try {
    const files = [...MLP_FILES.map((f) => join(FIXTURES, f)), arrowExport(dir)];
    const results = [];
    for (const f of files) results.push(await runNcut(f, opts));
    assert.deepEqual(
      results[0].layers.map((l) => l.units),
      [64, 32, 32, 10],
    );
    assert.deepEqual(
      results.map((r) => r.format),
      ['onnx', 'pytorch', 'safetensors', 'npz', 'arrow'],
    );
    for (const r of results.slice(1)) {
      assert.equal(r.ncut, results[0].ncut, r.file);
      assert.deepEqual(r.labels, results[0].labels, r.file);
      assert.equal(r.modularity, results[0].modularity, r.file);
    }
    const withShuffles = await Promise.all([files[0], files[4]].map((f) => runNcut(f, { ...opts, shuffles: 6 })));
    assert.deepEqual(withShuffles[0].shuffles!.samples, withShuffles[1].shuffles!.samples);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a small CNN with BatchNorm: ONNX (folded by the exporter) and the state dict (folded by the reader) give the same graph', async () => {
  const read = async (f: string) => (await readModel(readFileSync(join(FIXTURES, f)), { source: f })).graph;
  // cnn_view.onnx flattens with x.view(x.size(0), -1): Shape, Gather, Unsqueeze, Concat, Reshape.
  const [onnx, view, pt] = await Promise.all([read('cnn.onnx'), read('cnn_view.onnx'), read('cnn.pt')]);
  assert.deepEqual(
    onnx.nodeLayers.map((n) => [n.units, n.unit]),
    [
      [1, 'channel'],
      [4, 'channel'],
      [6, 'channel'],
      [5, 'unit'],
    ],
  );
  for (const other of [view, pt]) {
    assert.deepEqual(
      other.nodeLayers.map((n) => n.units),
      onnx.nodeLayers.map((n) => n.units),
    );
    onnx.layers.forEach((l, i) => {
      for (let t = 0; t < l.kernel.length; t++) {
        const a = Math.abs(l.kernel[t]);
        const b = Math.abs(other.layers[i].kernel[t]);
        assert.ok(Math.abs(a - b) <= 1e-5 * Math.max(a, b), `layer ${i} edge ${t}: ${a} vs ${b}`);
      }
    });
  }
});

test('a residual block exported by torch.onnx is refused at its Add, naming the node and where the graph stops', async () => {
  await assert.rejects(
    readModel(readFileSync(join(FIXTURES, 'residual.onnx')), { source: 'residual.onnx' }),
    /residual\.onnx: node '\/Add' \(op Add\) joins 2 activations.*stops after node '\/conv2\/Conv' \(op Conv\)/,
  );
});
