import * as ort from 'onnxruntime-node';
import { stepGraph, gradientNames } from '../science/mlp/onnx-step.ts';
import { KERAS_ADAM } from '../science/mlp/adam.ts';
import { WasmAdam } from '../science/mlp/adam-wasm.ts';
import { glorotUniformInit, layerSizes, PAPER_HIDDEN } from '../science/mlp/model.ts';
import { dropoutMasks } from '../science/mlp/dropout.ts';

const sizes = layerSizes(PAPER_HIDDEN);
const L = sizes.length - 1;
const B = 128;
const has = (f: string) => process.argv.includes(f);
const dropout = has('--dropout'), pruning = has('--prune');
const biasGradient = has('--bias-gemm') ? 'gemm' : 'reduce-sum';
const model = stepGraph({ sizes, dropoutScale: dropout ? 2 : null, pruning, biasGradient });
const session = await ort.InferenceSession.create(model, {
  intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
  extra: { session: { set_denormal_as_zero: '1' } }, enableProfiling: has('--profile'), profileFilePrefix: '/tmp/proto/prof',
});
const layers = glorotUniformInit(sizes, 1);
const dims = gradientNames(L).map((_, k) => (k < L ? [sizes[k], sizes[k + 1]] : biasGradient === 'gemm' ? [1, sizes[k - L + 1]] : [sizes[k - L + 1]]));
const pdims = gradientNames(L).map((_, k) => (k < L ? [sizes[k], sizes[k + 1]] : [sizes[k - L + 1]]));
const adam = WasmAdam.create(KERAS_ADAM, pdims.map((d) => d.reduce((a, b) => a * b, 1)))!;
layers.forEach((l, i) => { adam.params[i].set(l.kernel); adam.params[L + i].set(l.bias); });
const T = (a: Float32Array, d: number[]) => new ort.Tensor('float32', a, d);
const x = new Float32Array(B * 784).map(() => Math.random());
const y = new Float32Array(B * 10); for (let r = 0; r < B; r++) y[r * 10 + (r % 10)] = 1;
const logits = T(new Float32Array(B * 10), [B, 10]);
const keep = layers.map((l) => T(new Float32Array(l.kernel.length).map(() => (Math.random() < 0.5 ? 1 : 0)), [l.fanIn, l.fanOut]));
const feeds: Record<string, ort.Tensor> = { x: T(x, [B, 784]), y: T(y, [B, 10]), inv_rows: T(Float32Array.of(1 / B), []) };
if (biasGradient === 'gemm') feeds.ones = T(new Float32Array(B).fill(1), [1, B]);
const fetches: Record<string, ort.Tensor> = { logits };
gradientNames(L).forEach((n, k) => { fetches[n] = T(adam.grads[k], dims[k]); feeds[k < L ? `W${k}` : `b${k - L}`] = T(adam.params[k], pdims[k]); });
if (pruning) keep.forEach((k, i) => (feeds[`keep${i}`] = k));
async function step(t: number) {
  if (dropout) dropoutMasks(7, t, B, PAPER_HIDDEN, 0.5).forEach((m, i) => (feeds[`drop${i}`] = T(m, [B, 256])));
  const out = await session.run(feeds, fetches);
  if (t === 1) console.log('in place:', out.dW0.data === adam.grads[0] || (out.dW0.data as Float32Array).buffer === adam.grads[0].buffer, adam.grads[0][1000]);
  if (!has('--no-adam')) adam.stepOnGradients();
}
for (let t = 1; t <= 30; t++) await step(t);
const N = Number(process.argv[2] ?? 200);
const times: number[] = [], cpus: number[] = [];
for (let rep = 0; rep < 5; rep++) {
  const s = performance.now(); const c = process.cpuUsage();
  for (let t = 0; t < N / 5; t++) await step(31 + rep * 100 + t);
  const cu = process.cpuUsage(c);
  times.push((performance.now() - s) / (N / 5)); cpus.push((cu.user + cu.system) / 1000 / (N / 5));
}
times.sort((a, b) => a - b); cpus.sort((a, b) => a - b);
if (has('--profile')) session.endProfiling();
console.log(JSON.stringify({ dropout, pruning, biasGradient, ms: times.map((t) => +t.toFixed(2)), cpu: cpus.map((t) => +t.toFixed(2)) }), 'W0', adam.params[0][5]);
