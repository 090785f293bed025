/**
 * The WebAssembly kernels of the spectral code must be bit-identical to their JavaScript twins
 * (cached clusterings depend on it): random inputs, compared with Object.is entry by entry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { csrGather } from '../science/spectral/kernels.ts';
import { wasmCsrGather } from '../science/spectral/sparse-wasm.ts';
import { WasmArena } from '../science/wasm-asm.ts';
import { Rng } from '../science/random.ts';

function assertSameBits(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) if (!Object.is(actual[i], expected[i])) assert.fail(`${what}: entry ${i} is ${actual[i]}, expected ${expected[i]}`);
}

test('wasm CSR gather equals csrGather bit for bit (rows of 0..2·avg entries, assign and accumulate)', () => {
  for (const [rows, cols, avg] of [[1296, 522, 31], [522, 1296, 77], [9, 4, 3], [50, 60, 1]]) {
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
