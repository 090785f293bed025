/** Clustering science: graph, n-cut, eigensolvers, embedding, k-means, shuffles, statistics. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildGraph,
  clusterWeights,
  kmeans,
  ncut,
  ncutAdjacency,
  reduceNetwork,
  shuffleLayers,
  shuffleSample,
  spectralEmbedding,
  toAdjacency,
  toDenseAdjacency,
  type WeightMatrix,
} from '../science/cluster/index.ts';
import { largestEigenpairs } from '../science/spectral/lanczos.ts';
import { kmeansPlusPlus } from '../science/spectral/kmeans.ts';
import { Rng, deriveSeed } from '../science/random.ts';
import { cohenD, mean, pValue, sd, summarizeNull, zScore } from '../science/stats.ts';

function layersOf(...kernels: number[][][]): WeightMatrix[] {
  return kernels.map((rows) => ({ fanIn: rows.length, fanOut: rows[0].length, kernel: Float64Array.from(rows.flat()) }));
}

/** Cyclic Jacobi eigendecomposition of a dense symmetric matrix (the test's own reference). */
function jacobiEigen(a: Float64Array, n: number): { values: number[]; vectors: number[][] } {
  const A = Array.from({ length: n }, (_, i) => Array.from(a.subarray(i * n, (i + 1) * n)));
  const V: number[][] = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += A[p][q] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++)
      for (let q = p + 1; q < n; q++) {
        if (Math.abs(A[p][q]) < 1e-300) continue;
        const theta = (A[q][q] - A[p][p]) / (2 * A[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = A[k][p];
          const akq = A[k][q];
          A[k][p] = c * akp - s * akq;
          A[k][q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = A[p][k];
          const aqk = A[q][k];
          A[p][k] = c * apk - s * aqk;
          A[q][k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = V[k][p];
          const vkq = V[k][q];
          V[k][p] = c * vkp - s * vkq;
          V[k][q] = s * vkp + c * vkq;
        }
      }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => A[j][j] - A[i][i]); // descending
  return { values: order.map((i) => A[i][i]), vectors: order.map((j) => V.map((row) => row[j])) };
}

/** A random layered network: sizes per node layer, each weight non-zero with probability `density`. */
function randomNetwork(sizes: number[], density: number, seed: number): WeightMatrix[] {
  const rng = new Rng(seed);
  return sizes.slice(1).map((fanOut, l) => {
    const fanIn = sizes[l];
    const kernel = new Float32Array(fanIn * fanOut);
    for (let i = 0; i < kernel.length; i++) if (rng.float() < density) kernel[i] = rng.float() * 2 - 1;
    return { fanIn, fanOut, kernel };
  });
}

/**
 * k planted modules: every node layer's neurons are split into k groups of consecutive
 * neurons; weights inside a group are strong, between groups weak.
 */
function plantedNetwork(k: number, widths: number[], seed: number): { layers: WeightMatrix[]; truth: number[] } {
  const rng = new Rng(seed);
  const groupOf = (layer: number, i: number) => Math.floor((i * k) / widths[layer]);
  const layers = widths.slice(1).map((fanOut, l) => {
    const fanIn = widths[l];
    const kernel = new Float32Array(fanIn * fanOut);
    for (let i = 0; i < fanIn; i++)
      for (let j = 0; j < fanOut; j++) {
        const same = groupOf(l, i) === groupOf(l + 1, j);
        const magnitude = same ? 0.5 + rng.float() : 0.02 * rng.float();
        kernel[i * fanOut + j] = rng.float() < 0.5 ? -magnitude : magnitude;
      }
    return { fanIn, fanOut, kernel };
  });
  const truth = widths.flatMap((w, l) => Array.from({ length: w }, (_, i) => groupOf(l, i)));
  return { layers, truth };
}

/** Labels equal up to a renaming of clusters. */
function samePartition(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  const ab = new Map<number, number>();
  const ba = new Map<number, number>();
  for (let i = 0; i < a.length; i++) {
    if ((ab.get(a[i]) ?? b[i]) !== b[i] || (ba.get(b[i]) ?? a[i]) !== a[i]) return false;
    ab.set(a[i], b[i]);
    ba.set(b[i], a[i]);
  }
  return true;
}

test("n-cut: the original code's fixtures (0.09890 and 0.037213)", () => {
  const small = layersOf(
    [
      [12, -1.3],
      [0, 7.4],
    ],
    [
      [-8.9, 0.15],
      [0.23, -5.7],
    ],
  );
  const g = buildGraph(small);
  assert.equal(g.nodeCount, 6);
  assert.ok(Math.abs(ncut(g, [0, 1, 0, 1, 0, 1]) - 0.0989) < 1e-4, 'Math.abs(ncut(g, [0, 1, 0, 1, 0, 1]) - 0.0989) < 1e-4');
  assert.ok(
    Math.abs(ncutAdjacency(toAdjacency(g), [0, 1, 0, 1, 0, 1]) - 0.0989) < 1e-4,
    'Math.abs(ncutAdjacency(toAdjacency(g), [0, 1, 0, 1, 0, 1]) - 0.0989) < 1e-4',
  );

  const big = layersOf(
    [
      [5.4, 0.03, 0, 0],
      [0, 0, -0.4, 5.5],
      [-12, 0, 4.8, -0.07],
      [0, 6.3, 0.001, 7],
    ],
    [
      [-13.3, -0.4, 6, 0.1],
      [0.7, -8, 0, -5.8],
      [7.4, 0.3, -15, 0],
      [0, 0, 0, -12.3],
    ],
  );
  const gb = buildGraph(big);
  const labels = Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? 1 : 0));
  assert.ok(Math.abs(ncut(gb, labels) - 0.037213) < 1e-6, `got ${ncut(gb, labels)}`);
});

test('n-cut: matches cut·(1/vol(S) + 1/vol(T)) for two clusters, is 0 for one cluster, ignores −1 clusters', () => {
  const g = buildGraph(randomNetwork([7, 6, 5], 0.7, 3));
  const a = toDenseAdjacency(g);
  const n = g.nodeCount;
  const labels = Array.from({ length: n }, (_, i) => ((i * 7) % 3 === 0 ? 0 : 1));
  let cut = 0;
  const vol = [0, 0];
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      vol[labels[i]] += a[i * n + j];
      if (labels[i] !== labels[j] && i < j) cut += a[i * n + j];
    }
  const expected = cut / (vol[0] + 1e-8) + cut / (vol[1] + 1e-8);
  assert.ok(Math.abs(ncut(g, labels) - expected) < 1e-9, 'Math.abs(ncut(g, labels) - expected) < 1e-9');
  assert.equal(ncut(g, new Array(n).fill(0)), 0);
  // Nodes labelled −1 form no cluster of their own, but edges to them still count as cut.
  const withMissing = labels.map((l, i) => (i === 0 ? -1 : l));
  assert.ok(
    Math.abs(ncutAdjacency(toAdjacency(g), withMissing) - ncut(g, withMissing)) < 1e-12,
    'Math.abs(ncutAdjacency(toAdjacency(g), withMissing) - ncut(g, withMissing)) < 1e-12',
  );
});

test('graph: nodes without a non-zero weight are removed and labelled exactly −1', () => {
  const { layers } = plantedNetwork(2, [40, 30, 30, 10], 11);
  const isolated = [3, 17, 40 + 5, 70 + 29, 100 + 9]; // two inputs, a hidden neuron of each layer, an output
  const zeroNode = (node: number) => {
    let offset = 0;
    for (let l = 0; l <= layers.length; l++) {
      const size = l === 0 ? layers[0].fanIn : layers[l - 1].fanOut;
      if (node < offset + size) {
        const i = node - offset;
        if (l < layers.length) for (let j = 0; j < layers[l].fanOut; j++) layers[l].kernel[i * layers[l].fanOut + j] = 0;
        if (l > 0) for (let r = 0; r < layers[l - 1].fanIn; r++) layers[l - 1].kernel[r * layers[l - 1].fanOut + i] = 0;
        return;
      }
      offset += size;
    }
  };
  isolated.forEach(zeroNode);
  // A neuron with zero incoming but non-zero outgoing weights stays.
  for (let r = 0; r < 40; r++) layers[0].kernel[r * 30 + 8] = 0;
  const result = clusterWeights(layers, 2, 42);
  assert.equal(result.labels.length, 110);
  assert.equal(result.liveNodes, 110 - isolated.length);
  for (let i = 0; i < 110; i++) {
    if (isolated.includes(i)) assert.equal(result.labels[i], -1, `node ${i}`);
    else assert.ok(result.labels[i] === 0 || result.labels[i] === 1, `node ${i} got ${result.labels[i]}`);
  }
  const g = buildGraph(layers);
  assert.deepEqual(
    Array.from(g.liveNodes),
    Array.from({ length: 110 }, (_, i) => i).filter((i) => !isolated.includes(i)),
  );
});

test('eigensolver: Lanczos and dense eigenpairs of S agree with a Jacobi decomposition on random bipartite graphs', () => {
  for (const [seed, sizes, density, k] of [
    [1, [14, 9, 11, 6], 0.5, 4],
    [2, [20, 12, 12, 12, 5], 0.3, 5],
    [3, [9, 16, 7], 0.8, 3],
  ] as [number, number[], number, number][]) {
    const g = buildGraph(randomNetwork(sizes, density, seed));
    const n = g.nodeCount;
    const s = toDenseAdjacency(g);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) s[i * n + j] /= Math.sqrt(g.degree[i] * g.degree[j]);
    const ref = jacobiEigen(s, n);
    for (const solver of ['lanczos', 'dense'] as const) {
      const emb = spectralEmbedding(g, k, 7, { solver, tol: 1e-11 });
      assert.equal(emb.solver, solver);
      for (let t = 0; t < k; t++) {
        assert.ok(Math.abs(emb.eigenvalues[t] - ref.values[t]) < 1e-9, `${solver} seed ${seed}: λ${t} ${emb.eigenvalues[t]} vs ${ref.values[t]}`);
        // Eigenvectors agree up to sign where the eigenvalue is simple.
        const gap = Math.min(t > 0 ? ref.values[t - 1] - ref.values[t] : Infinity, ref.values[t] - ref.values[t + 1]);
        if (gap > 1e-4) {
          let d = 0;
          for (let i = 0; i < n; i++) d += emb.eigenvectors[t][i] * ref.vectors[t][i];
          assert.ok(Math.abs(Math.abs(d) - 1) < 1e-7, `${solver} seed ${seed}: vector ${t} overlap ${d}`);
        }
      }
      // The bipartite spectrum is symmetric: the most negative eigenvalue mirrors the largest.
      assert.ok(Math.abs(ref.values[n - 1] + ref.values[0]) < 1e-9, 'Math.abs(ref.values[n - 1] + ref.values[0]) < 1e-9');
      // Embedding = eigenvector / sqrt(degree), sign chosen so the largest-|·| entry is positive.
      for (let t = 0; t < k; t++) {
        let best = 0;
        for (let i = 0; i < n; i++) {
          const x = emb.embedding[i * k + t];
          assert.ok(
            Math.abs(Math.abs(x) - Math.abs(emb.eigenvectors[t][i] / Math.sqrt(g.degree[i]))) < 1e-12,
            'Math.abs(Math.abs(x) - Math.abs(emb.eigenvectors[t][i] / Math.sqrt(g.degree[i]))) < 1e-12',
          );
          if (Math.abs(x) > Math.abs(best)) best = x;
        }
        assert.ok(best > 0, 'best > 0');
      }
    }
  }
});

test('eigensolver: the first embedding vector is the constant trivial vector', () => {
  const g = buildGraph(randomNetwork([60, 40, 40, 10], 0.4, 5));
  const k = 4;
  const emb = spectralEmbedding(g, k, 1);
  assert.equal(emb.solver, 'lanczos');
  assert.ok(Math.abs(emb.eigenvalues[0] - 1) < 1e-12, 'Math.abs(emb.eigenvalues[0] - 1) < 1e-12');
  const first = emb.embedding[0];
  for (let i = 0; i < g.nodeCount; i++)
    assert.ok(
      Math.abs(emb.embedding[i * k] - first) < 1e-12 * Math.abs(first) + 1e-15,
      'Math.abs(emb.embedding[i * k] - first) < 1e-12 * Math.abs(first) + 1e-15',
    );
  assert.ok(first > 0, 'first > 0');
});

test('Lanczos: residuals below tolerance on a larger random graph; largest algebraic, not largest magnitude', () => {
  // Operator with a very negative eigenvalue: a diagonal matrix with entries −10, 1..n−1.
  const n = 200;
  const diag = Float64Array.from({ length: n }, (_, i) => (i === 0 ? -10 : i / n));
  const op = {
    n,
    apply: (x: Float64Array, y: Float64Array) => {
      for (let i = 0; i < n; i++) y[i] = diag[i] * x[i];
    },
  };
  const r = largestEigenpairs(op, 3, { seed: 3, tol: 1e-10 });
  assert.deepEqual(
    Array.from(r.values, (v) => Math.round(v * n)),
    [n - 1, n - 2, n - 3],
  );
  for (let t = 0; t < 3; t++) {
    const y = new Float64Array(n);
    op.apply(r.vectors[t], y);
    let res = 0;
    for (let i = 0; i < n; i++) res += (y[i] - r.values[t] * r.vectors[t][i]) ** 2;
    assert.ok(Math.sqrt(res) < 1e-9, `residual ${Math.sqrt(res)}`);
  }
});

for (const k of [2, 4, 7, 10]) {
  test(`planted partition with k = ${k} modules is recovered exactly`, () => {
    const widths = [12 * k, 8 * k, 8 * k, 6 * k];
    const { layers, truth } = plantedNetwork(k, widths, 100 + k);
    const result = clusterWeights(layers, k, 42);
    assert.ok(samePartition(result.labels, truth), `labels ${Array.from(result.labels).join(',')}`);
    assert.ok(result.ncut < 0.1 * k, 'result.ncut < 0.1 * k');
  });
}

test('n-cut and labels are invariant to scaling all weights', () => {
  const layers = randomNetwork([100, 60, 60, 10], 0.3, 9);
  const base = clusterWeights(layers, 4, 42);
  for (const factor of [8, 1 / 1024]) {
    const scaled = layers.map((l) => ({ ...l, kernel: Float32Array.from(l.kernel, (w) => w * factor) }));
    const r = clusterWeights(scaled, 4, 42);
    assert.deepEqual(Array.from(r.labels), Array.from(base.labels));
    // Exact up to the ε = 1e-8 in the denominators, which does not scale.
    assert.ok(Math.abs(r.ncut - base.ncut) < 1e-6 * base.ncut, `factor ${factor}: ${r.ncut} vs ${base.ncut}`);
  }
  // The n-cut of fixed labels under a non-power-of-two factor.
  const g = buildGraph(layers);
  const labels = Array.from({ length: g.nodeCount }, (_, i) => i % 3);
  const gs = buildGraph(layers.map((l) => ({ ...l, kernel: Float64Array.from(l.kernel, (w) => w * 3.7) })));
  assert.ok(Math.abs(ncut(gs, labels) - ncut(g, labels)) < 1e-6, `${ncut(gs, labels)} vs ${ncut(g, labels)}`);
});

test('same seed gives the same labels; the seed reaches k-means', () => {
  const layers = randomNetwork([120, 50, 50, 10], 0.2, 21);
  const a = clusterWeights(layers, 4, 5);
  const b = clusterWeights(layers, 4, 5);
  assert.deepEqual(Array.from(a.labels), Array.from(b.labels));
  assert.equal(a.ncut, b.ncut);
  assert.equal(shuffleSample(reduceNetwork(layers), 'layer', 4, 77), shuffleSample(reduceNetwork(layers), 'layer', 4, 77));
});

test('k-means: well-separated blobs are found; best of n_init by inertia; deterministic', () => {
  const rng = new Rng(4);
  const centers = [
    [0, 0],
    [10, 0],
    [0, 10],
  ];
  const n = 90;
  const data = new Float64Array(n * 2);
  const truth: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    truth.push(c);
    data[2 * i] = centers[c][0] + rng.normal() * 0.5;
    data[2 * i + 1] = centers[c][1] + rng.normal() * 0.5;
  }
  const r = kmeans(data, n, 2, 3, 1);
  assert.ok(samePartition(r.labels, truth), 'samePartition(r.labels, truth)');
  let inertia = 0;
  for (let i = 0; i < n; i++) {
    const members = truth
      .map((t, j) => [t, j])
      .filter(([t]) => t === truth[i])
      .map(([, j]) => j);
    for (const f of [0, 1]) {
      const m = members.reduce((s, j) => s + data[2 * j + f], 0) / members.length;
      inertia += (data[2 * i + f] - m) ** 2;
    }
  }
  assert.ok(Math.abs(r.inertia - inertia) < 1e-9 * inertia, 'Math.abs(r.inertia - inertia) < 1e-9 * inertia');
  assert.deepEqual(kmeans(data, n, 2, 3, 1).labels, r.labels);
  // One restart can only be as good as the best of ten.
  for (let s = 0; s < 5; s++)
    assert.ok(kmeans(data, n, 2, 3, s, { nInit: 1 }).inertia >= r.inertia - 1e-9, 'kmeans(data, n, 2, 3, s, { nInit: 1 }).inertia >= r.inertia - 1e-9');
});

test('k-means: the bounded (Elkan) iterations equal plain Lloyd iterations from the same k-means++ start', () => {
  const rng = new Rng(12);
  const n = 400;
  const d = 3;
  const k = 6;
  const data = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let f = 0; f < d; f++) data[i * d + f] = (i % 4) * (f === i % 3 ? 1.5 : 0) + rng.normal();
  for (const seed of [1, 2, 3]) {
    const got = kmeans(data, n, d, k, seed, { nInit: 1 });
    // Reference: centre, seed with the same k-means++ draw, then textbook Lloyd with sklearn's stopping rule.
    const X = Float64Array.from(data);
    let meanVar = 0;
    for (let f = 0; f < d; f++) {
      let m = 0;
      for (let i = 0; i < n; i++) m += X[i * d + f] / n;
      let v = 0;
      for (let i = 0; i < n; i++) v += (X[i * d + f] -= m) ** 2 / n;
      meanVar += v / d;
    }
    const C = kmeansPlusPlus(X, n, d, k, new Rng(deriveSeed(seed, 0)));
    const labels = new Int32Array(n);
    const assignAll = () => {
      let inertia = 0;
      for (let i = 0; i < n; i++) {
        let best = Infinity;
        for (let c = 0; c < k; c++) {
          let s2 = 0;
          for (let f = 0; f < d; f++) s2 += (X[i * d + f] - C[c * d + f]) ** 2;
          if (s2 < best) [best, labels[i]] = [s2, c];
        }
        inertia += best;
      }
      return inertia;
    };
    for (let it = 0; it < 300; it++) {
      assignAll();
      const old = C.slice();
      for (let c = 0; c < k; c++) {
        const members = Array.from(labels.keys()).filter((i) => labels[i] === c);
        assert.ok(members.length > 0, 'no empty clusters in this data');
        for (let f = 0; f < d; f++) C[c * d + f] = members.reduce((a, i) => a + X[i * d + f], 0) / members.length;
      }
      if (old.reduce((a, x, t) => a + (x - C[t]) ** 2, 0) <= 1e-4 * meanVar) break;
    }
    const inertia = assignAll();
    assert.deepEqual(Array.from(got.labels), Array.from(labels), `seed ${seed}`);
    assert.ok(Math.abs(got.inertia - inertia) < 1e-9 * inertia, `seed ${seed}: ${got.inertia} vs ${inertia}`);
  }
});

test("shuffles: 'layer' keeps each layer's multiset of values, 'layer_nonzero' keeps the sparsity pattern exactly", () => {
  const layers = randomNetwork([30, 20, 10], 0.25, 8);
  const sorted = (a: ArrayLike<number>) => Array.from(a).sort((x, y) => x - y);
  const layer = shuffleLayers(layers, 'layer', new Rng(1));
  const nonzero = shuffleLayers(layers, 'layer_nonzero', new Rng(1));
  layers.forEach((l, i) => {
    assert.deepEqual(sorted(layer[i].kernel), sorted(l.kernel));
    assert.deepEqual(sorted(nonzero[i].kernel), sorted(l.kernel));
    assert.deepEqual(
      Array.from(nonzero[i].kernel, (w) => w !== 0),
      Array.from(l.kernel, (w) => w !== 0),
    );
    assert.notDeepEqual(
      Array.from(layer[i].kernel, (w) => w !== 0),
      Array.from(l.kernel, (w) => w !== 0),
    );
    assert.notDeepEqual(Array.from(nonzero[i].kernel), Array.from(l.kernel));
  });
});

test("shuffles: 'layer' draws every arrangement of the entries equally often", () => {
  // [1, 2, 0, 0] has 12 distinct arrangements; a uniform permutation makes each 1/12 likely.
  const kernel = Float32Array.from([1, 2, 0, 0]);
  const rng = new Rng(5);
  const counts = new Map<string, number>();
  const draws = 24000;
  for (let t = 0; t < draws; t++) {
    const [s] = shuffleLayers([{ fanIn: 2, fanOut: 2, kernel }], 'layer', rng);
    const key = Array.from(s.kernel).join(',');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  assert.equal(counts.size, 12);
  let chi2 = 0;
  for (const c of counts.values()) chi2 += (c - draws / 12) ** 2 / (draws / 12);
  assert.ok(chi2 < 31.3, `chi² = ${chi2} (11 dof, p = 0.001 threshold 31.3)`);
});

test("shuffle samples: 'layer' can isolate nodes, which are dropped; samples are independent", () => {
  const layers = randomNetwork([60, 40, 40, 10], 0.08, 13);
  const reduced = reduceNetwork(layers);
  const values = Array.from({ length: 6 }, (_, s) => shuffleSample(reduced, 'layer', 3, 1000 + s));
  assert.ok(new Set(values).size > 1, 'different seeds give different shuffles');
  for (const v of values) assert.ok(v > 0 && v < 3, 'v > 0 && v < 3');
  // With 8 % density, a layer shuffle of a 60×40 kernel almost surely leaves some node without edges.
  const shuffled = shuffleLayers(reduced, 'layer', new Rng(1));
  assert.ok(buildGraph(shuffled).nodeCount < buildGraph(reduced).nodeCount, 'buildGraph(shuffled).nodeCount < buildGraph(reduced).nodeCount');
});

test('stats: p-value, z-score, sd and Cohen d match hand-computed values', () => {
  const xs = [1, 2, 3, 4];
  assert.equal(mean(xs), 2.5);
  assert.equal(sd(xs, 0), Math.sqrt(1.25));
  assert.equal(sd(xs, 1), Math.sqrt(5 / 3));
  assert.equal(pValue(2.5, xs), 3 / 5);
  assert.equal(pValue(2, xs), 2 / 5); // ties are not counted as below
  assert.equal(pValue(0.5, xs), 1 / 5);
  assert.equal(pValue(9, xs), 1);
  assert.ok(Math.abs(zScore(1, xs) - -1.5 / Math.sqrt(1.25)) < 1e-15, 'Math.abs(zScore(1, xs) - -1.5 / Math.sqrt(1.25)) < 1e-15');
  // d = (2 − 5.5) / sqrt((2·1 + 3·(5/3)) / 5) = −3.5 / sqrt(7/5)
  assert.ok(
    Math.abs(cohenD([1, 2, 3], [4, 5, 6, 7]) - -3.5 / Math.sqrt(7 / 5)) < 1e-12,
    'Math.abs(cohenD([1, 2, 3], [4, 5, 6, 7]) - -3.5 / Math.sqrt(7 / 5)) < 1e-12',
  );
  const s = summarizeNull(0.5, xs);
  assert.equal(s.significant, true);
  assert.equal(s.p, 1 / 5);
  assert.equal(s.min, 1);
  assert.equal(s.max, 4);
  assert.equal(summarizeNull(1.5, xs).significant, false);
});

// --- Fast paths added for speed: each must agree exactly with the plain path it replaces. ---

test('WebAssembly dense products equal the JS kernels bit for bit (forward and backward, odd and even shapes)', async () => {
  const { wasmDenseProducts } = await import('../science/spectral/dense-wasm.ts');
  const { denseMul, denseMulT } = await import('../science/spectral/kernels.ts');
  const rng = new Rng(3);
  for (const [rows, cols] of [
    [784, 256],
    [256, 10],
    [7, 5],
    [17, 10],
    [3, 3],
    [16, 4],
  ]) {
    const values = Float32Array.from({ length: rows * cols }, () => (rng.float() < 0.3 ? 0 : rng.float() - 0.5));
    const wasm = wasmDenseProducts([{ values, rows, cols }]);
    if (!wasm) return; // no WebAssembly SIMD here: the JS kernels are used and nothing needs comparing
    for (const kind of ['forward', 'backward'] as const) {
      const [xLen, yLen] = kind === 'forward' ? [cols, rows] : [rows, cols];
      const x = Float64Array.from({ length: xLen + 3 }, () => rng.float() - 0.5);
      const y0 = Float64Array.from({ length: yLen + 2 }, () => rng.float() - 0.5);
      const js = y0.slice();
      const wa = y0.slice();
      if (kind === 'forward') denseMul(values, rows, cols, x, 3, js, 2);
      else denseMulT(values, rows, cols, x, 3, js, 2);
      wasm[kind](0, 3, 2)(x, wa);
      assert.ok(
        js.every((v, i) => Object.is(v, wa[i])),
        `${rows}×${cols} ${kind}: wasm and js products differ`,
      );
      assert.ok(
        js.some((v, i) => v !== y0[i]),
        `${rows}×${cols} ${kind}: the product changed nothing`,
      );
    }
  }
});

test('compact (CSR) shuffles: same draws and values as the dense shuffle, and the same graph from buildGraph', async () => {
  const { shuffleLayers, shuffleLayersCompact } = await import('../science/cluster/shuffle.ts');
  const { buildGraph, toAdjacency } = await import('../science/graph/index.ts');
  const rng = new Rng(11);
  // A pruned-like network: 10 % of entries non-zero, so the compact path returns CSR kernels.
  const sizes = [40, 24, 24, 6];
  const layers = sizes.slice(1).map((fanOut, l) => {
    const fanIn = sizes[l];
    return { fanIn, fanOut, kernel: Float32Array.from({ length: fanIn * fanOut }, () => (rng.float() < 0.1 ? rng.float() - 0.5 : 0)) };
  });
  for (const method of ['layer', 'layer_nonzero'] as const) {
    const dense = shuffleLayers(layers, method, new Rng(5));
    const compact = shuffleLayersCompact(layers, method, new Rng(5));
    assert.ok(
      compact.some((l) => 'indptr' in l),
      `${method}: expected at least one CSR kernel at 10 % density`,
    );
    const a = toAdjacency(buildGraph(dense));
    const b = toAdjacency(buildGraph(compact));
    assert.equal(a.n, b.n, `${method}: live node counts differ`);
    assert.deepEqual(a.indptr, b.indptr, `${method}: adjacency structure differs`);
    assert.deepEqual(a.indices, b.indices, `${method}: adjacency columns differ`);
    assert.deepEqual(a.values, b.values, `${method}: adjacency weights differ`);
  }
});

test('k-means JavaScript distance kernels equal a naive loop bit for bit', async () => {
  const { assignAll, candidatePotential } = await import('../science/spectral/kmeans-kernels.ts');
  const rng = new Rng(5);
  for (const d of [1, 2, 5, 12]) {
    const n = 97;
    const k = 3 + (d % 4);
    const X = Float64Array.from({ length: n * d }, () => rng.normal());
    const C = Float64Array.from({ length: k * d }, () => rng.normal());
    const plain = (i: number, off: number, A: Float64Array) => {
      let s = 0;
      for (let f = 0; f < d; f++) s += (X[i * d + f] - A[off + f]) * (X[i * d + f] - A[off + f]);
      return s;
    };
    const labels = new Int32Array(n);
    const inertia = assignAll(X, n, d, C, k, labels);
    let want = 0;
    for (let i = 0; i < n; i++) {
      let best = 0;
      let bestD = Infinity;
      for (let c = 0; c < k; c++) {
        const s = plain(i, c * d, C);
        if (s < bestD) [bestD, best] = [s, c];
      }
      assert.equal(labels[i], best, `d=${d} point ${i}`);
      want += bestD;
    }
    assert.equal(inertia, want, `d=${d}: inertia bit-identical`);
    // k-means++ potential against candidate point 7 with nothing pruned (toCandidate = 0).
    const closest = Float64Array.from({ length: n }, () => Math.abs(rng.normal()) * d);
    const out = new Float64Array(n);
    const pot = candidatePotential(X, n, d, 7 * d, closest, new Int32Array(n), new Float64Array(1), out, 4);
    let wantPot = 0;
    for (let i = 0; i < n; i++) {
      const s = plain(i, 7 * d, X);
      assert.equal(out[i], s < closest[i] ? s : closest[i]);
      wantPot += out[i];
    }
    assert.equal(pot, wantPot);
  }
});
