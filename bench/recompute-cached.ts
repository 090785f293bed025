/**
 * Recompute cached clustering results with the current code and compare them bit for bit (not a
 * benchmark: a check to run after changing the clustering code, before trusting that results did
 * not move). Reads the artifacts cache of this project (the latest run of every stage instance):
 *   - every `cluster` record: labels and n-cut recomputed from its input weights;
 *   - SHARDS randomly chosen `shuffle-sample` shards (default 100; SEED picks them): every sample's
 *     n-cut recomputed from the same seed the stage used.
 * Usage: npx tsx bench/recompute-cached.ts [artifacts dir]   (env SHARDS, SEED, CLUSTERS)
 * Exit code 1 if anything differs.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { initHashing } from '../engine/hash.ts';
import { sampleBaseKey, sampleSeed } from '../engine/keys.ts';
import { weightsFromTable } from '../science/weights.ts';
import { clusterWeights, prepareForShuffles, shuffleSample, type ShuffleMethod } from '../science/cluster/index.ts';
import { Rng } from '../science/random.ts';

interface RunRecordLike {
  stage: string;
  role: string;
  axes: Record<string, unknown>;
  keyParts: { params: Record<string, number | string>; inputs: { stage: string; outputs: Record<string, string> }[]; samples?: unknown };
  outputs: Record<string, { digest: string }>;
  metrics: Record<string, number>;
}

await initHashing();
const root = process.argv[2] ?? 'artifacts';
const object = (digest: string) => readFileSync(join(root, 'objects', digest));
const records: RunRecordLike[] = readdirSync(join(root, 'index')).map((slot) => {
  const key = readFileSync(join(root, 'index', slot), 'utf8').trim();
  return JSON.parse(readFileSync(join(root, 'runs', `${key}.json`), 'utf8')) as RunRecordLike;
});
const weightsOf = (r: RunRecordLike) => {
  const input = r.keyParts.inputs.find((i) => i.stage === 'export');
  if (!input) throw new Error(`${r.stage} ${JSON.stringify(r.axes)} has no export input`);
  return weightsFromTable(tableFromIPC(object(input.outputs.weights)), 'export weights').layers;
};

let differences = 0;
const clusters = records.filter((r) => r.stage === 'cluster' && r.outputs.labels).slice(0, Number(process.env.CLUSTERS ?? Infinity));
let started = performance.now();
for (const r of clusters) {
  const { k, seed, nInit } = r.keyParts.params as { k: number; seed: number; nInit: number };
  const result = clusterWeights(weightsOf(r), k, seed, { nInit });
  const stored = tableFromIPC(object(r.outputs.labels.digest)).getChild('label')!.toArray() as Int32Array;
  const same = Object.is(result.ncut, r.metrics.ncut) && stored.length === result.labels.length && stored.every((l, i) => l === result.labels[i]);
  if (!same) {
    differences++;
    console.log(`cluster ${JSON.stringify(r.axes)}: n-cut ${result.ncut} now, ${r.metrics.ncut} cached`);
  }
}
console.log(`clusterings: ${clusters.length} recomputed, ${differences} different (${((performance.now() - started) / 1000).toFixed(1)} s)`);

const shards = records.filter((r) => r.stage === 'shuffle-sample' && r.role === 'shard');
const rng = new Rng(Number(process.env.SEED ?? 1));
const picked = Array.from({ length: Math.min(shards.length, Number(process.env.SHARDS ?? 100)) }, () => shards[rng.int(shards.length)]);
let samples = 0;
let sampleDifferences = 0;
started = performance.now();
for (const r of picked) {
  const { samples: _shard, ...base } = r.keyParts;
  const baseKey = sampleBaseKey(base as never);
  const { k, method, nInit } = r.keyParts.params as { k: number; method: ShuffleMethod; nInit: number };
  const reduced = prepareForShuffles(weightsOf(r));
  const stored = tableFromIPC(object(r.outputs.ncuts.digest));
  const index = stored.getChild('sample')!.toArray() as Int32Array;
  const ncut = stored.getChild('ncut')!.toArray() as Float64Array;
  for (let j = 0; j < index.length; j++, samples++) {
    const now = shuffleSample(reduced, method, k, sampleSeed(baseKey, index[j]), { nInit });
    if (!Object.is(now, ncut[j])) {
      sampleDifferences++;
      console.log(`shuffle ${JSON.stringify(r.axes)} sample ${index[j]}: n-cut ${now} now, ${ncut[j]} cached`);
    }
  }
}
console.log(
  `shuffle samples: ${samples} recomputed from ${picked.length} shards, ${sampleDifferences} different (${((performance.now() - started) / 1000).toFixed(1)} s)`,
);
process.exitCode = differences + sampleDifferences > 0 ? 1 : 0;
