/**
 * Cost of checking every object against its digest as it is read (issue 15), measured on the
 * run records of a real store (default: the project's artifacts/; `--store DIR` or
 * $NNMOD_BENCH_STORE for another). For each run the inputs it read are the output objects named
 * in its key parts (and, for a sample combine, its shards' outputs); they are read into memory
 * once (a stage reads them anyway), then hashed with the engine's XXH128, best of 3. Printed:
 * the hashing time and its share of the recorded stage time, for the whole pipeline (every run
 * record in the store), for the report stage, and for one MNIST training run. Goal ≤ 3 %.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashBytes, initHashing } from '../engine/hash.ts';
import { Store, type RunRecord } from '../engine/store.ts';

/** Digests of the objects a run read as inputs. */
function inputDigests(rec: RunRecord): string[] {
  const out = rec.keyParts.inputs.flatMap((i) => Object.values(i.outputs));
  const shards = (rec.keyParts as { samples?: { shards?: Record<string, string>[] } }).samples?.shards ?? [];
  for (const s of shards) out.push(...Object.values(s));
  return out;
}

/** Best-of-3 hashing time (ms) of these objects, and their total size. */
function hashCost(store: Store, digests: string[]): { ms: number; bytes: number } | undefined {
  const buffers: Uint8Array[] = [];
  for (const d of digests) {
    try {
      buffers.push(readFileSync(store.objectPath(d)));
    } catch {
      return undefined; // an object this run read is no longer stored
    }
  }
  let best = Infinity;
  for (let rep = 0; rep < 3; rep++) {
    const t = performance.now();
    for (const b of buffers) hashBytes(b);
    best = Math.min(best, performance.now() - t);
  }
  return { ms: best, bytes: buffers.reduce((n, b) => n + b.length, 0) };
}

function line(what: string, runs: RunRecord[], store: Store): string {
  let ms = 0;
  let bytes = 0;
  let stageMs = 0;
  // Distinct objects per run (a run reads each once); the same object read by two runs counts twice.
  for (const rec of runs) {
    const c = hashCost(store, [...new Set(inputDigests(rec))]);
    if (!c) return `hash-on-read, ${what}: inputs no longer in the store (run gc'd?); skipped`;
    ms += c.ms;
    bytes += c.bytes;
    stageMs += rec.timings.ms;
  }
  const pct = stageMs > 0 ? ((100 * ms) / stageMs).toFixed(2) : '?';
  return `hash-on-read, ${what}: ${(bytes / 1e6).toFixed(1)} MB of declared inputs (an upper bound: a stage hashes only the objects it opens) hashed in ${ms.toFixed(1)} ms = ${pct} % of ${(stageMs / 1000).toFixed(1)} s stage time (goal ≤ 3 %)`;
}

export async function hashOnReadCost(storeDir: string): Promise<string[]> {
  await initHashing();
  const store = new Store(storeDir);
  const runs: RunRecord[] = [];
  for (const key of store.listRunKeys()) {
    const rec = store.getRun(key);
    if (rec) runs.push(rec);
  }
  try {
    statSync(store.objectsDir);
  } catch {
    return [`hash-on-read: no store at ${storeDir} (run the pipeline first, or pass --store DIR)`];
  }
  if (runs.length === 0) return [`hash-on-read: no run records in ${storeDir} (run the pipeline first, or pass --store DIR)`];
  const out = [line(`whole pipeline (${runs.length} run records in ${storeDir})`, runs, store)];
  const report = runs.filter((r) => r.stage === 'report').sort((a, b) => b.timings.finishedAt.localeCompare(a.timings.finishedAt))[0];
  out.push(report ? line('report stage', [report], store) : 'hash-on-read, report stage: no report run in this store');
  const train = runs.find((r) => r.stage === 'train' && r.axes.dataset === 'mnist');
  out.push(
    train ? line(`one MNIST training run (${JSON.stringify(train.axes)})`, [train], store) : 'hash-on-read, MNIST training: no MNIST train run in this store',
  );
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const i = process.argv.indexOf('--store');
  const dir = i > 0 ? process.argv[i + 1] : (process.env.NNMOD_BENCH_STORE ?? join(fileURLToPath(new URL('..', import.meta.url)), 'artifacts'));
  console.log(
    `load average ${(await import('node:os'))
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  for (const l of await hashOnReadCost(dir)) console.log(l);
}
