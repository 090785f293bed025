/**
 * Migration check (issue 17, removed with the opcode arrays): the kernels assembled from
 * science/kernels/*.wat and kmeans-wat.ts are byte for byte the modules the hand-assembled opcode
 * arrays built: every module, every k-means d the build commits (1..32), and the generator beyond
 * it up to d = 44 (the last d the hand assembler could encode: local indices were single bytes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import wabtInit from 'wabt';
import { kmeansWat } from '../science/kernels/kmeans-wat.ts';

const build = (name: string) => new Uint8Array(readFileSync(new URL(`../science/kernels/build/${name}.wasm`, import.meta.url)));

/** The bytes the legacy code compiles when `trigger` runs (captured at new WebAssembly.Module). */
function captured(trigger: () => unknown): Uint8Array {
  const Original = WebAssembly.Module;
  let bytes: Uint8Array | null = null;
  (WebAssembly as { Module: unknown }).Module = class extends Original {
    constructor(b: Uint8Array<ArrayBuffer>) {
      super(b);
      bytes = new Uint8Array(b);
    }
  };
  try {
    trigger();
  } finally {
    (WebAssembly as { Module: unknown }).Module = Original;
  }
  assert.ok(bytes, 'the legacy code compiled a module');
  return bytes;
}

test('every .wat assembles to the bytes of the hand-assembled module it replaces', async () => {
  const dense = await import('../science/spectral/dense-wasm.ts');
  const sparse = await import('../science/spectral/sparse-wasm.ts');
  const lanczos = await import('../science/spectral/lanczos-wasm.ts');
  const lesion = await import('../science/lesion/kernel-wasm.ts');
  const adam = await import('../science/mlp/adam-wasm.ts');
  const step = await import('../science/mlp/step-wasm.ts');
  const { KERAS_ADAM } = await import('../science/mlp/adam.ts');
  assert.deepEqual(
    build('dense'),
    captured(() => dense.wasmDenseProducts([])),
  );
  assert.deepEqual(
    build('sparse'),
    captured(() => sparse.wasmCsrGatherAvailable()),
  );
  assert.deepEqual(
    build('lanczos'),
    captured(() => lanczos.lanczosModule()),
  );
  assert.deepEqual(
    build('lesion'),
    captured(() => lesion.createWasmKernel(16)),
  );
  assert.deepEqual(
    build('adam'),
    captured(() => adam.WasmAdam.create(KERAS_ADAM, [4])),
  );
  assert.deepEqual(
    build('step'),
    captured(() => step.WasmDropoutMasks.create(4)),
  );
});

test('the k-means generator gives the hand-assembled bytes for d = 1..44', async () => {
  const { kmeansModule } = await import('../science/spectral/kmeans-wasm.ts');
  const wabt = await wabtInit();
  for (let d = 1; d <= 44; d++) {
    const legacy = captured(() => kmeansModule(d));
    if (d <= 32) assert.deepEqual(build(`kmeans-d${d}`), legacy, `build/kmeans-d${d}.wasm`);
    const module = wabt.parseWat(`kmeans-d${d}.wat`, kmeansWat(d), { simd: true });
    assert.deepEqual(new Uint8Array(module.toBinary({}).buffer), legacy, `kmeansWat(${d})`);
    module.destroy();
  }
});
