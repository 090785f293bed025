/**
 * The committed kernels (science/kernels/, docs/kernels.md): every generated module holds exactly
 * the bytes of its build/*.wasm, they validate and export what the wrappers call, and every source
 * has its outputs. (That the outputs are what the sources assemble to is `npm run check:kernels`,
 * run by CI before the tests.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { kernelBytes } from '../science/kernels/runtime.ts';
import { KMEANS_MAX_D, KMEANS_MIN_D, kmeansWasm } from '../science/kernels/generated/kmeans.ts';
import { kmeansModule } from '../science/spectral/kmeans-wasm.ts';

const dir = new URL('../science/kernels/', import.meta.url);
const list = (sub: string) => readdirSync(new URL(sub, dir)).sort();
const wasmFile = (name: string) => new Uint8Array(readFileSync(new URL(`build/${name}.wasm`, dir)));

/** The exports each module must have (the functions its wrapper calls). */
const EXPORTS: Record<string, string[]> = {
  adam: ['adam'],
  dense: ['mulRows', 'mulCols'],
  lanczos: ['dot', 'projections', 'subtract', 'combine'],
  lesion: ['gatherT', 'gatherSubT', 'gatherSubReluT'],
  sparse: ['gather'],
  step: ['transpose4', 'relu', 'reluMask', 'reluGrad', 'columnSums', 'dropoutBits', 'maskKernels'],
  kmeans: ['hamerly', 'nearestTwo', 'assignAll', 'candidatePotential'],
};

function assertModule(bytes: Uint8Array<ArrayBuffer>, exports: string[], what: string): void {
  assert.ok(WebAssembly.validate(bytes), `${what} validates`);
  const module = new WebAssembly.Module(bytes);
  assert.deepEqual(
    WebAssembly.Module.exports(module).map((e) => e.name),
    exports,
    `${what} exports`,
  );
  assert.deepEqual(
    WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}:${i.kind}`),
    ['env.memory:memory'],
    `${what} imports its memory only`,
  );
}

test('every .wat has its build/*.wasm and generated/*.ts, and nothing else is there', () => {
  const sources = list('.')
    .filter((f) => f.endsWith('.wat'))
    .map((f) => f.slice(0, -4));
  assert.deepEqual(
    sources,
    Object.keys(EXPORTS)
      .filter((name) => name !== 'kmeans')
      .sort(),
  );
  const kmeans = Array.from({ length: KMEANS_MAX_D - KMEANS_MIN_D + 1 }, (_, i) => `kmeans-d${KMEANS_MIN_D + i}.wasm`);
  assert.deepEqual(list('build'), [...sources.map((s) => `${s}.wasm`), ...kmeans].sort());
  assert.deepEqual(list('generated'), [...sources, 'kmeans'].map((s) => `${s}.ts`).sort());
});

test('each generated module holds exactly the bytes of its .wasm file, which validate and export what the wrappers call', async () => {
  for (const name of Object.keys(EXPORTS).filter((n) => n !== 'kmeans')) {
    const generated = (await import(`../science/kernels/generated/${name}.ts`)) as Record<string, string>;
    const bytes = kernelBytes(generated[`${name}Wasm`]);
    assert.deepEqual(bytes, wasmFile(name), `generated/${name}.ts = build/${name}.wasm`);
    assertModule(bytes, EXPORTS[name], name);
  }
  assert.equal(kmeansWasm.length, KMEANS_MAX_D - KMEANS_MIN_D + 1);
  kmeansWasm.forEach((base64, i) => {
    const d = KMEANS_MIN_D + i;
    const bytes = kernelBytes(base64);
    assert.deepEqual(bytes, wasmFile(`kmeans-d${d}`), `generated/kmeans.ts d = ${d}`);
    assertModule(bytes, EXPORTS.kmeans, `kmeans d = ${d}`);
  });
});

test('k-means has a module for d in KMEANS_MIN_D..KMEANS_MAX_D and falls back to JavaScript beyond', () => {
  assert.equal(KMEANS_MIN_D, 1);
  for (let d = KMEANS_MIN_D; d <= KMEANS_MAX_D; d++) assert.ok(kmeansModule(d), `d = ${d}`);
  for (const d of [0, KMEANS_MAX_D + 1, 1.5]) assert.equal(kmeansModule(d), null, `d = ${d}`);
});
