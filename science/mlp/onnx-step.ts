/**
 * The trainer's step as one ONNX graph for ONNX Runtime's CPU provider (MLAS GEMMs), built in
 * code (onnx-graph.ts). One `run` does what trainer.ts `batchGradients` + Adam do on tfjs:
 *
 *   forward   H₀ = X;  Zᵢ = Hᵢ·Wᵢ + bᵢ;  Hᵢ₊₁ = relu(Zᵢ) ⊙ Dᵢ (dropout mask Dᵢ ∈ {0, s}, an input)
 *   loss      P = softmax(Z_L);  G_L = (P − Y)·(1/rows)      (d mean cross-entropy / d logits)
 *   backward  dWᵢ = Hᵢᵀ·Gᵢ;  dbᵢ = Σ_rows Gᵢ;  Gᵢ₋₁ = (Gᵢ·Wᵢᵀ) ⊙ sign(Hᵢ) · s
 *             (H = relu(Z) ⊙ D, so sign(H)·s = D·[Z > 0], the ReLU-and-dropout gradient)
 * Adam and pruning stay with the caller (trainer.ts): it masks the weights before the run, and
 * Adam (adam-wasm.ts, the same float64 arithmetic as on every backend) reads the gradients where
 * ORT wrote them.
 *
 * The gradients are written by ORT into preallocated tensors (views of Adam's memory); the
 * logits are an output too: the caller computes the batch's loss and accuracy from them, as
 * trainer.ts does on tfjs. db = onesᵀ·G as a one-row Gemm (measured faster than ReduceSum).
 */
import { GraphBuilder } from './onnx-graph.ts';

export interface StepGraphOptions {
  /** Layer sizes [input, ...hidden, output]. */
  sizes: readonly number[];
  /** Dropout masks `drop{i}` (rows × width, entries 0 or `dropoutScale`) after each hidden layer. */
  dropoutScale: number | null;
}

/** Names of the step graph's gradient outputs, in checkpoint order (kernels, then biases). */
export const gradientNames = (layers: number) => [...range(layers).map((i) => `dW${i}`), ...range(layers).map((i) => `db${i}`)];

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

export type BiasGradient = 'reduce-sum' | 'gemm';

/**
 * The serialised forward + backward model. Inputs: x (rows × 784, scaled), y (one-hot), inv_rows
 * (1/rows), W{i}, b{i}, drop{i} with dropout, `ones` (1 × rows) for bias gradients by Gemm;
 * outputs: logits, dW{i}, db{i} (1 × width with `gemm` bias gradients).
 */
export function stepGraph(o: StepGraphOptions & { biasGradient?: BiasGradient }): Uint8Array {
  const g = new GraphBuilder();
  const L = o.sizes.length - 1;
  const x = g.input('x', ['rows', o.sizes[0]]);
  const y = g.input('y', ['rows', o.sizes[L]]);
  const invRows = g.input('inv_rows', []);
  const W: string[] = [];
  const b: string[] = [];
  for (let i = 0; i < L; i++) {
    const w = g.input(`W${i}`, [o.sizes[i], o.sizes[i + 1]]);
    W.push(w);
    b.push(g.input(`b${i}`, [o.sizes[i + 1]]));
  }
  // Forward (ORT fuses each Gemm with the Relu after it).
  const H = [x];
  let z = x;
  for (let i = 0; i < L; i++) {
    z = g.node('Gemm', [H[i], W[i], b[i]], {}, i === L - 1 ? { outputs: ['logits'] } : {});
    if (i < L - 1) {
      let h = g.node('Relu', [z]);
      if (o.dropoutScale !== null) h = g.node('Mul', [h, g.input(`drop${i}`, ['rows', o.sizes[i + 1]])]);
      H.push(h);
    }
  }
  g.output('logits', ['rows', o.sizes[L]]);
  // Backward.
  const [dW, db] = [gradientNames(L).slice(0, L), gradientNames(L).slice(L)];
  const ones = o.biasGradient === 'gemm' ? g.input('ones', [1, 'rows']) : null;
  const axis0 = ones ? null : g.int64s([0], 'axis0');
  let grad = g.node('Mul', [g.node('Sub', [g.node('Softmax', [z], { axis: -1 }), y]), invRows]);
  const scale = o.dropoutScale !== null ? g.constant([o.dropoutScale], [], 'dropout_scale') : null;
  for (let i = L - 1; i >= 0; i--) {
    g.node('Gemm', [H[i], grad], { transA: 1 }, { outputs: [dW[i]] });
    g.output(dW[i], [o.sizes[i], o.sizes[i + 1]]);
    if (ones) {
      g.node('Gemm', [ones, grad], {}, { outputs: [db[i]] });
      g.output(db[i], [1, o.sizes[i + 1]]);
    } else {
      g.node('ReduceSum', [grad, axis0!], { keepdims: 0 }, { outputs: [db[i]] });
      g.output(db[i], [o.sizes[i + 1]]);
    }
    if (i > 0) {
      let below = g.node('Mul', [g.node('Gemm', [grad, W[i]], { transB: 1 }), g.node('Sign', [H[i]])]);
      if (scale) below = g.node('Mul', [below, scale]);
      grad = below;
    }
  }
  return g.build('train_step');
}

/** The forward pass alone (evaluation): inputs x, W{i}, b{i}; output logits. */
export function forwardGraph(sizes: readonly number[]): Uint8Array {
  const g = new GraphBuilder();
  const L = sizes.length - 1;
  let h = g.input('x', ['rows', sizes[0]]);
  for (let i = 0; i < L; i++) {
    const z = g.node('Gemm', [h, g.input(`W${i}`, [sizes[i], sizes[i + 1]]), g.input(`b${i}`, [sizes[i + 1]])], {}, i === L - 1 ? { outputs: ['logits'] } : {});
    h = i < L - 1 ? g.node('Relu', [z]) : z;
  }
  g.output('logits', ['rows', sizes[L]]);
  return g.build('forward');
}
