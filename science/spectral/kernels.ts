/**
 * Matrix–vector kernels for the weight-graph blocks, written for V8: monomorphic, typed arrays
 * only, and unrolled with independent accumulators (a single `s += a·b` chain is limited by the
 * floating-point add latency; several chains run ~3× faster). Matrix values are Float32, vectors
 * and sums Float64.
 */

/** y[yOff + r] += Σ_c A[r, c]·x[xOff + c], A dense row-major rows × cols. */
export function denseMul(A: Float32Array, rows: number, cols: number, x: Float64Array, xOff: number, y: Float64Array, yOff: number): void {
  const c4 = cols - (cols % 4);
  let r = 0;
  for (; r + 1 < rows; r += 2) {
    const b0 = r * cols;
    const b1 = b0 + cols;
    let s0 = 0,
      s1 = 0,
      s2 = 0,
      s3 = 0,
      t0 = 0,
      t1 = 0,
      t2 = 0,
      t3 = 0;
    let c = 0;
    for (; c < c4; c += 4) {
      const x0 = x[xOff + c],
        x1 = x[xOff + c + 1],
        x2 = x[xOff + c + 2],
        x3 = x[xOff + c + 3];
      s0 += A[b0 + c] * x0;
      s1 += A[b0 + c + 1] * x1;
      s2 += A[b0 + c + 2] * x2;
      s3 += A[b0 + c + 3] * x3;
      t0 += A[b1 + c] * x0;
      t1 += A[b1 + c + 1] * x1;
      t2 += A[b1 + c + 2] * x2;
      t3 += A[b1 + c + 3] * x3;
    }
    for (; c < cols; c++) {
      s0 += A[b0 + c] * x[xOff + c];
      t0 += A[b1 + c] * x[xOff + c];
    }
    y[yOff + r] += s0 + s1 + (s2 + s3);
    y[yOff + r + 1] += t0 + t1 + (t2 + t3);
  }
  for (; r < rows; r++) {
    const b0 = r * cols;
    let s = 0;
    for (let c = 0; c < cols; c++) s += A[b0 + c] * x[xOff + c];
    y[yOff + r] += s;
  }
}

/** y[yOff + c] += Σ_r A[r, c]·x[xOff + r] (Aᵀ·x), A dense row-major rows × cols. */
export function denseMulT(A: Float32Array, rows: number, cols: number, x: Float64Array, xOff: number, y: Float64Array, yOff: number): void {
  let r = 0;
  for (; r + 7 < rows; r += 8) {
    const a0 = x[xOff + r],
      a1 = x[xOff + r + 1],
      a2 = x[xOff + r + 2],
      a3 = x[xOff + r + 3];
    const a4 = x[xOff + r + 4],
      a5 = x[xOff + r + 5],
      a6 = x[xOff + r + 6],
      a7 = x[xOff + r + 7];
    const b0 = r * cols,
      b1 = b0 + cols,
      b2 = b1 + cols,
      b3 = b2 + cols;
    const b4 = b3 + cols,
      b5 = b4 + cols,
      b6 = b5 + cols,
      b7 = b6 + cols;
    for (let c = 0; c < cols; c++) {
      y[yOff + c] +=
        A[b0 + c] * a0 + A[b1 + c] * a1 + (A[b2 + c] * a2 + A[b3 + c] * a3) + (A[b4 + c] * a4 + A[b5 + c] * a5 + (A[b6 + c] * a6 + A[b7 + c] * a7));
    }
  }
  for (; r < rows; r++) {
    const a = x[xOff + r];
    const b = r * cols;
    for (let c = 0; c < cols; c++) y[yOff + c] += A[b + c] * a;
  }
}

/**
 * y[r] (+)= Σ_p values[p]·x[indices[p]] over row r of a CSR matrix with Float64 values (assigns
 * when `accumulate` is false). Four independent partial sums per row.
 */
export function csrGather(
  indptr: Int32Array,
  indices: Int32Array,
  values: Float64Array,
  rows: number,
  x: Float64Array,
  y: Float64Array,
  accumulate: boolean,
): void {
  let p = indptr[0];
  for (let r = 0; r < rows; r++) {
    const end = indptr[r + 1];
    let s0 = 0,
      s1 = 0,
      s2 = 0,
      s3 = 0;
    for (; p + 3 < end; p += 4) {
      s0 += values[p] * x[indices[p]];
      s1 += values[p + 1] * x[indices[p + 1]];
      s2 += values[p + 2] * x[indices[p + 2]];
      s3 += values[p + 3] * x[indices[p + 3]];
    }
    for (; p < end; p++) s0 += values[p] * x[indices[p]];
    const s = s0 + s1 + (s2 + s3);
    y[r] = accumulate ? y[r] + s : s;
  }
}
