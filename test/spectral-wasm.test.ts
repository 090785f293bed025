/**
 * The WebAssembly kernels of the spectral code must be bit-identical to their JavaScript twins
 * (cached clusterings depend on it): random inputs, compared with Object.is entry by entry.
 */
import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { csrGather } from '../science/spectral/kernels.ts';
import { wasmCsrGather } from '../science/spectral/sparse-wasm.ts';
import { WasmArena } from '../science/kernels/runtime.ts';
import { Rng } from '../science/random.ts';

function assertSameBits(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) if (!Object.is(actual[i], expected[i])) assert.fail(`${what}: entry ${i} is ${actual[i]}, expected ${expected[i]}`);
}

test('wasm CSR gather equals csrGather bit for bit (rows of 0..2·avg entries, assign and accumulate)', () => {
  for (const [rows, cols, avg] of [
    [1296, 522, 31],
    [522, 1296, 77],
    [9, 4, 3],
    [50, 60, 1],
  ]) {
    const rng = new Rng(rows * 7 + cols);
    const lengths = Array.from({ length: rows }, () => rng.int(2 * avg + 1));
    const nnz = lengths.reduce((a, b) => a + b, 0);
    const B = WasmArena.bytesFor;
    const arena = new WasmArena(B(rows + 1, 4) + B(nnz, 4) + B(nnz, 8) + B(cols, 8) + 2 * B(rows, 8));
    const gather = wasmCsrGather(arena);
    assert.ok(gather, 'WebAssembly is available in Node 20');
    const indptr = arena.int32(rows + 1);
    for (let r = 0; r < rows; r++) indptr[r + 1] = indptr[r] + lengths[r];
    // Filled in place: typed-array .map would copy out of the arena.
    const indices = arena.int32(nnz);
    const values = arena.float64(nnz);
    const x = arena.float64(cols);
    for (let p = 0; p < nnz; p++) indices[p] = rng.int(cols);
    for (let p = 0; p < nnz; p++) values[p] = rng.float() - 0.5;
    for (let i = 0; i < cols; i++) x[i] = rng.float() * 4 - 1;
    const viaJs = arena.float64(rows);
    const viaWasm = arena.float64(rows);
    for (const accumulate of [false, true]) {
      for (let r = 0; r < rows; r++) viaJs[r] = viaWasm[r] = rng.float() - 0.5;
      csrGather(indptr, indices, values, rows, x, viaJs, accumulate);
      gather(indptr, indices, values, rows, x, viaWasm, accumulate);
      assertSameBits(viaWasm, viaJs, `${rows}×${cols}, accumulate ${accumulate}`);
    }
  }
});

test('wasm Hamerly pass equals the JavaScript pass bit for bit (d = 2, 4, 7, 10, 32; duplicate points and centres)', async () => {
  const js = await import('../science/spectral/kmeans-kernels.ts');
  const { kmeansModule } = await import('../science/spectral/kmeans-wasm.ts');
  for (const d of [2, 4, 7, 10, 32]) {
    const k = d + 3; // odd k (5, 7, 13) and even (10): the pair-major copy pads odd k
    const n = 300;
    const rng = new Rng(d);
    const mod = kmeansModule(d);
    assert.ok(mod, 'WebAssembly is available in Node 20');
    const B = WasmArena.bytesFor;
    const arena = new WasmArena(B(n * d, 8) + 2 * B(k * d, 8) + B(n, 4) + 2 * B(n, 8) + 3 * B(k, 8) + B(2, 8) + B((k + 1) * (d + 1), 8));
    const { hamerly } = arena.instantiate<{ hamerly: (...a: number[]) => void }>(mod);
    const X = arena.float64(n * d);
    const C = arena.float64(k * d);
    const sums = arena.float64(k * d);
    const labels = arena.int32(n);
    const upper = arena.float64(n);
    const lower = arena.float64(n);
    const half = arena.float64(k);
    const moved = arena.float64(k);
    const counts = arena.float64(k);
    const scalars = arena.float64(2);
    const scratch = arena.float64((k + 1) * (d + 1));
    for (let i = 0; i < n * d; i++) X[i] = rng.float() - 0.5;
    for (let i = 0; i < 20; i++) X.copyWithin((i + 40) * d, i * d, (i + 1) * d); // duplicate points
    for (let c = 0; c < k; c++) C.set(X.subarray(c * 7 * d, (c * 7 + 1) * d), c * d);
    C.copyWithin(d, 0, d); // two equal centres: exact distance ties
    for (let pass = 0; pass < 3; pass++) {
      js.nearestTwo(X, n, d, C, k, labels, upper, lower);
      for (let c = 0; c < k; c++) {
        half[c] = rng.float() * 0.1 * pass;
        moved[c] = rng.float() * 0.05;
      }
      for (let i = 0; i < n * 0.2; i++) upper[rng.int(n)] += rng.float(); // some bounds fail, some hold
      counts.fill(0);
      sums.fill(0);
      for (let i = 0; i < n; i++) {
        counts[labels[i]]++;
        for (let f = 0; f < d; f++) sums[labels[i] * d + f] += X[i * d + f];
      }
      const state = [labels, upper, lower, counts, sums].map((a) => a.slice());
      const max1 = Math.max(...moved),
        max2 = [...moved].sort((a, b) => b - a)[1];
      const argMax = moved.indexOf(max1);
      for (let c = 0; c < k; c++) for (let f = 0; f < d; f++) C[c * d + f] += (rng.float() - 0.5) * 0.05 * (pass + 1);
      C.copyWithin(d, 0, d); // centres 0 and 1 stay equal
      js.hamerlyPass(X, n, d, C, k, labels, upper, lower, half, moved, max1, max2, argMax, counts, sums);
      const expected = [labels, upper, lower, counts, sums].map((a) => a.slice());
      [labels, upper, lower, counts, sums].forEach((a, i) => a.set(state[i] as never));
      scalars[0] = max1;
      scalars[1] = max2;
      const at = (a: Float64Array | Int32Array) => a.byteOffset;
      hamerly(at(X), n, at(C), k, at(labels), at(upper), at(lower), at(half), at(moved), argMax, at(counts), at(sums), at(scalars), at(scratch));
      ['labels', 'upper', 'lower', 'counts', 'sums'].forEach((name, i) =>
        assertSameBits([labels, upper, lower, counts, sums][i], expected[i], `d = ${d}, pass ${pass}, ${name}`),
      );
      assert.ok(
        expected[0].some((l, i) => l !== state[0][i]),
        `d = ${d}, pass ${pass}: some point changed cluster (the test exercises moves)`,
      );
    }
  }
});

test('wasm nearestTwo, assignAll and candidatePotential equal the JavaScript kernels bit for bit', async () => {
  const js = await import('../science/spectral/kmeans-kernels.ts');
  const { kmeansModule } = await import('../science/spectral/kmeans-wasm.ts');
  for (const d of [1, 3, 4, 10, 32]) {
    const k = d + 3;
    const n = 257;
    const rng = new Rng(100 + d);
    const B = WasmArena.bytesFor;
    const arena = new WasmArena(B(n * d, 8) + B(k * d, 8) + 2 * B(n, 4) + 6 * B(n, 8) + B(k, 8) + B(4, 8));
    const wasm = arena.instantiate<import('../science/spectral/kmeans-wasm.ts').KMeansWasmExports>(kmeansModule(d)!);
    const X = arena.float64(n * d);
    const C = arena.float64(k * d);
    const labels = arena.int32(n);
    const upper = arena.float64(n);
    const lower = arena.float64(n);
    const closest = arena.float64(n);
    const nearest = arena.int32(n);
    const toCandidate = arena.float64(k);
    const out = arena.float64(n);
    const scalars = arena.float64(4);
    for (let i = 0; i < n * d; i++) X[i] = rng.float() - 0.5;
    for (let c = 0; c < k; c++) C.set(X.subarray(c * 11 * d, (c * 11 + 1) * d), c * d);
    C.copyWithin(2 * d, 0, d); // equal centres 0 and 2: ties go to the lowest index
    const at = (a: Float64Array | Int32Array) => a.byteOffset;

    js.nearestTwo(X, n, d, C, k, labels, upper, lower);
    const expected = [labels.slice(), upper.slice(), lower.slice()];
    labels.fill(-1);
    upper.fill(0);
    lower.fill(0);
    wasm.nearestTwo(at(X), n, at(C), k, at(labels), at(upper), at(lower));
    [labels, upper, lower].forEach((a, i) => assertSameBits(a, expected[i], `d = ${d}, nearestTwo output ${i}`));

    const inertia = js.assignAll(X, n, d, C, k, labels);
    const assigned = labels.slice();
    labels.fill(-1);
    wasm.assignAll(at(X), n, at(C), k, at(labels), at(scalars) + 24);
    assertSameBits(labels, assigned, `d = ${d}, assignAll labels`);
    assert.ok(Object.is(scalars[3], inertia), `d = ${d}, inertia ${scalars[3]} vs ${inertia}`);

    for (let i = 0; i < n; i++) {
      nearest[i] = rng.int(k);
      closest[i] = rng.float() * 0.3 * d;
    }
    for (let c = 0; c < k; c++) toCandidate[c] = rng.float() * 0.6 * d;
    const factor = 4 * (1 + 1e-9);
    const candidate = 17;
    const pot = js.candidatePotential(X, n, d, candidate * d, closest, nearest, toCandidate, out, factor);
    const expectedOut = out.slice();
    out.fill(0);
    scalars[2] = factor;
    wasm.candidatePotential(at(X), n, at(X) + candidate * d * 8, at(closest), at(nearest), at(toCandidate), at(out), at(scalars) + 16, at(scalars) + 24);
    assertSameBits(out, expectedOut, `d = ${d}, candidatePotential out`);
    assert.ok(Object.is(scalars[3], pot), `d = ${d}, potential ${scalars[3]} vs ${pot}`);
    const pruned = Array.from(closest, (c, i) => toCandidate[nearest[i]] >= factor * c);
    assert.ok(pruned.includes(true) && pruned.includes(false), `d = ${d}: both branches of the pruning test are exercised`);
    assert.ok(
      expectedOut.some((v, i) => v < closest[i]),
      `d = ${d}: the candidate is nearer for some points`,
    );
  }
});

test('with WebAssembly disabled, the JavaScript fallbacks give the same embeddings, k-means results and shuffle n-cuts bit for bit', () => {
  // One script, run twice in child processes: as is, and with WebAssembly.validate stubbed to
  // false, so every compileOnce kernel falls back to its JavaScript twin.
  const script = `
    const { Rng } = await import('./science/random.ts');
    const { buildGraph, prepareForShuffles, shuffleSample } = await import('./science/cluster/index.ts');
    const { spectralEmbedding } = await import('./science/spectral/embedding.ts');
    const { kmeans } = await import('./science/spectral/kmeans.ts');
    const rng = new Rng(21);
    const sizes = [120, 40, 40, 10];
    const layers = sizes.slice(1).map((fanOut, l) => {
      const kernel = new Float32Array(sizes[l] * fanOut);
      for (let i = 0; i < kernel.length; i++) kernel[i] = rng.float() < 0.8 ? 0 : rng.float() - 0.5;
      return { fanIn: sizes[l], fanOut, kernel };
    });
    const reduced = prepareForShuffles(layers);
    const graph = buildGraph(reduced);
    const out = { wasm: WebAssembly.validate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])) };
    for (const k of [3, 6]) {
      const emb = spectralEmbedding(graph, k, 5);
      const km = kmeans(emb.embedding, graph.nodeCount, k, k, 9);
      out['k' + k] = {
        embedding: Array.from(emb.embedding, String),
        labels: Array.from(km.labels),
        inertia: String(km.inertia),
        shuffles: ['layer', 'layer_nonzero'].map((m) => String(shuffleSample(reduced, m, k, 33))),
      };
    }
    console.log(JSON.stringify(out));
  `;
  const run = (disableWasm: boolean) => {
    const prelude = disableWasm ? 'WebAssembly.validate = () => false;' : '';
    const stdout = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', prelude + script], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  };
  const withWasm = run(false);
  const withoutWasm = run(true);
  assert.equal(withWasm.wasm, true, 'the first run has WebAssembly');
  assert.equal(withoutWasm.wasm, false, 'the second run has it disabled');
  for (const key of ['k3', 'k6']) assert.deepEqual(withoutWasm[key], withWasm[key], `${key}: JavaScript fallback vs WebAssembly`);
});

test('wasm Lanczos loops (dot, projections, subtract) equal the JavaScript ones bit for bit', async () => {
  const { lanczosJsKernels: js } = await import('../science/spectral/lanczos.ts');
  const { lanczosModule } = await import('../science/spectral/lanczos-wasm.ts');
  for (const [n, count] of [
    [522, 13],
    [7, 4],
    [1, 1],
    [130, 9],
    [64, 3],
  ]) {
    const rng = new Rng(n * 31 + count);
    const B = WasmArena.bytesFor;
    const arena = new WasmArena((count + 5) * B(n, 8) + 4 * B(count, 8) + B(count, 4) + B(1, 8));
    const k = arena.instantiate<import('../science/spectral/lanczos-wasm.ts').LanczosWasmExports>(lanczosModule()!);
    const basis = Array.from({ length: count }, () => {
      const v = arena.float64(n);
      for (let t = 0; t < n; t++) v[t] = rng.float() - 0.5;
      return v;
    });
    const w = arena.float64(n);
    for (let t = 0; t < n; t++) w[t] = rng.float() - 0.5;
    const table = arena.int32(count);
    basis.forEach((v, i) => (table[i] = v.byteOffset));
    const result = arena.float64(1);
    k.dot(basis[0].byteOffset, w.byteOffset, n, result.byteOffset);
    assert.ok(Object.is(result[0], js.dot(basis[0], w, n)), `n = ${n}: dot`);

    const h = arena.float64(count);
    const hJs = new Float64Array(count);
    k.projections(w.byteOffset, table.byteOffset, count, n, h.byteOffset);
    js.projections(w, basis, count, n, hJs);
    assertSameBits(h, hJs, `n = ${n}, ${count} vectors: projections`);

    const wJs = w.slice();
    h[0] = 0; // a zero coefficient: −0·x must round like JavaScript's negation
    hJs[0] = 0;
    k.subtract(w.byteOffset, table.byteOffset, count, n, h.byteOffset);
    js.subtractCombination(wJs, basis, count, n, hJs);
    assertSameBits(w, wJs, `n = ${n}, ${count} vectors: subtract`);

    // Ritz vectors: combinations of the basis with the columns of a count × count matrix (one zero coefficient skipped).
    const Y = Float64Array.from({ length: count * count }, () => rng.float() - 0.5);
    Y[0] = 0;
    const expected = js.ritzVectors(basis, Y, count, [0, count - 1], n);
    [0, count - 1].forEach((t, i) => {
      const y = arena.float64(count);
      for (let l = 0; l < count; l++) y[l] = Y[l * count + t];
      const out = arena.float64(n);
      k.combine(out.byteOffset, table.byteOffset, y.byteOffset, count, n);
      assertSameBits(out, expected[i], `n = ${n}, ${count} vectors: Ritz vector ${t}`);
    });
  }
});
