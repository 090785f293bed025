/**
 * Engine benchmark (`npm run bench:engine`): prints figures, asserts nothing.
 *
 *  1. A synthetic DAG of 10,000 stage instances (gen ×100 → mid ×9,800 → agg ×100, matched on
 *     the shared axis `i`; mid gathers nothing, agg gathers 98 mids each) is computed once, then
 *     timed: a no-op `repro` and a `status`, both in-process (fresh session: params, graph,
 *     fingerprints, keys, record look-ups) and as a whole CLI process (`node --import tsx`).
 *     Targets: ≤ 3 s each.
 *  2. Hashing a 1 GiB artifact from a file (engine/hash.ts hashFile). Target: ≥ 500 MB/s.
 *  3. The cost of checking objects against their digests as they are read, on the run records
 *     of the project's store (bench/hash-on-read.ts; `--store DIR` for another). Goal ≤ 3 %.
 *
 * Run with `--as-cli <verb> ...` this file is the synthetic project's CLI (used by step 1).
 */
import { mkdtempSync, rmSync, writeFileSync, openSync, writeSync, closeSync, mkdirSync } from 'node:fs';
import { tmpdir, availableParallelism } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import { z } from 'zod';
import { defineStage, product } from '../engine/types.ts';
import type { PipelineProject } from '../engine/project.ts';

const N_I = 100;
const N_J = 98;

export const gen = defineStage({
  module: import.meta.url,
  name: 'gen',
  description: 'synthetic source',
  deps: [],
  params: (p: { bench: { salt: number } }) => ({ bench: { salt: p.bench.salt } }),
  matrix: () => product({ i: Array.from({ length: N_I }, (_, i) => i) }),
  outputs: ['v'],
  inline: true,
  async run(ctx) {
    return { outputs: { v: new TextEncoder().encode(`gen ${ctx.axes.i} ${ctx.params.bench.salt}`) } };
  },
});

export const mid = defineStage({
  module: import.meta.url,
  name: 'mid',
  description: 'synthetic fan-out',
  deps: ['gen'],
  matrix: () => product({ i: Array.from({ length: N_I }, (_, i) => i), j: Array.from({ length: N_J }, (_, j) => j) }),
  outputs: ['v'],
  inline: true,
  async run(ctx) {
    return { outputs: { v: new TextEncoder().encode(`mid ${ctx.axes.i} ${ctx.axes.j}`) }, metrics: { j: Number(ctx.axes.j) } };
  },
});

export const agg = defineStage({
  module: import.meta.url,
  name: 'agg',
  description: 'synthetic gather',
  deps: ['mid'],
  matrix: () => product({ i: Array.from({ length: N_I }, (_, i) => i) }),
  outputs: ['v'],
  inline: true,
  async run(ctx) {
    return { outputs: { v: new TextEncoder().encode(`agg ${ctx.axes.i} of ${ctx.inputs.mid.length}`) } };
  },
});

const schema = z.object({ bench: z.object({ salt: z.number().describe('changes gen') }).strict() }).strict();

function project(root: string): PipelineProject {
  return { name: 'engine-bench', root, paramsFile: 'params.yaml', paramsSchema: schema, stages: [gen, mid, agg] };
}

if (!isMainThread) {
  // Loaded by an engine worker thread for the stage definitions above: nothing else to do.
} else if (process.argv[2] === '--as-cli') {
  const { runCli } = await import('../engine/cli.ts');
  await runCli(project(process.env.BENCH_ROOT!), process.argv.slice(3));
} else {
  await main();
}

async function main() {
  const { Session } = await import('../engine/session.ts');
  const { repro } = await import('../engine/scheduler.ts');
  const { computeStatus } = await import('../engine/status.ts');
  const { InlineExecutor } = await import('../engine/executor.ts');
  const { hashFile } = await import('../engine/hash.ts');
  const quiet = { start() {}, update() {}, finish() {}, log() {}, setTotal() {}, close() {} };
  // BENCH_KEEP=DIR keeps the synthetic project there (for profiling); default a temp dir, removed after.
  const keep = process.env.BENCH_KEEP;
  const root = keep ? (mkdirSync(keep, { recursive: true }), keep) : mkdtempSync(join(tmpdir(), 'engine-bench-'));
  console.log(
    `engine benchmark — ${availableParallelism()} cores, node ${process.version}, load average ${(await import('node:os'))
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  try {
    writeFileSync(join(root, 'params.yaml'), 'bench:\n  salt: 1\n');
    const proj = project(root);

    let t = performance.now();
    {
      // Set-up only: fsync off (it would measure the disk, not the engine).
      const s = await Session.open(proj, { durable: false });
      const r = await repro(s, { jobs: 2, progress: quiet, executor: new InlineExecutor(s.graph.byName) });
      console.log(`set-up: computed ${r.ran} instances in ${((performance.now() - t) / 1000).toFixed(1)} s (fsync off)`);
    }
    const inProcess = async (what: 'repro' | 'status') => {
      const t0 = performance.now();
      const s = await Session.open(proj);
      if (what === 'repro') {
        const r = await repro(s, { jobs: 2, progress: quiet });
        if (r.ran !== 0 || r.upToDate !== 10_000) throw new Error(`no-op repro ran ${r.ran}, up to date ${r.upToDate}`);
      } else {
        const st = await computeStatus(s);
        s.close();
        if (st.filter((x) => x.state === 'up-to-date').length !== 10_000) throw new Error('status: not all up to date');
      }
      return (performance.now() - t0) / 1000;
    };
    const cli = (args: string[]) => {
      const t0 = performance.now();
      const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--as-cli', ...args], {
        env: { ...process.env, BENCH_ROOT: root },
        encoding: 'utf8',
        maxBuffer: 64 << 20,
      });
      const s = (performance.now() - t0) / 1000;
      if (r.status !== 0) throw new Error(`CLI ${args.join(' ')} failed: ${r.stderr}`);
      return { s, out: r.stdout };
    };
    const best = (xs: number[]) => Math.min(...xs).toFixed(2);
    const reproIn = [await inProcess('repro'), await inProcess('repro'), await inProcess('repro')];
    const statusIn = [await inProcess('status'), await inProcess('status'), await inProcess('status')];
    console.log(`no-op repro, 10,000 instances, in-process: best ${best(reproIn)} s of ${reproIn.map((x) => x.toFixed(2)).join(', ')}`);
    console.log(`status,      10,000 instances, in-process: best ${best(statusIn)} s of ${statusIn.map((x) => x.toFixed(2)).join(', ')}`);
    const reproCli = [cli(['repro']), cli(['repro'])];
    const statusCli = [cli(['status', '--json']), cli(['status', '--json'])];
    if (!/nothing to do, 10000 instances up to date/.test(reproCli[0].out)) throw new Error(`unexpected repro output: ${reproCli[0].out.slice(-300)}`);
    console.log(`no-op repro, 10,000 instances, whole CLI process: best ${best(reproCli.map((x) => x.s))} s`);
    console.log(`status --json, 10,000 instances, whole CLI process: best ${best(statusCli.map((x) => x.s))} s`);
    const startup = [cli(['--help']), cli(['--help'])];
    console.log(`  (CLI process start-up alone, \`--help\`: ${best(startup.map((x) => x.s))} s)`);

    // Worker threads: cold start (thread + tsx registration + engine and stage module load) vs a warm job.
    {
      const { LocalExecutor } = await import('../engine/executor.ts');
      const { Store } = await import('../engine/store.ts');
      const store = new Store(join(root, 'artifacts'), false).init();
      const pool = new LocalExecutor(1);
      const job = (i: number) => ({
        stage: 'gen',
        module: import.meta.url,
        key: `bench${i}` as any,
        role: 'instance' as const,
        axes: { i },
        params: { bench: { salt: 1 } },
        runtime: {},
        seed: 1,
        inputs: {},
        outputs: ['v'],
        artifactsDir: store.root,
        durable: false,
      });
      const opts = { signal: new AbortController().signal, onProgress: () => {} };
      const { InlineExecutor } = await import('../engine/executor.ts');
      const inlineEx = new InlineExecutor(new Map([['gen', gen]]));
      let t0 = performance.now();
      await pool.run(job(0), opts);
      const cold = performance.now() - t0;
      t0 = performance.now();
      for (let k = 1; k <= 20; k++) await pool.run(job(k), opts);
      const warm = (performance.now() - t0) / 20;
      t0 = performance.now();
      for (let k = 1; k <= 20; k++) await inlineEx.run(job(k), opts);
      const inl = (performance.now() - t0) / 20;
      await pool.close();
      console.log(`worker thread: first job ${cold.toFixed(0)} ms (start-up), then ${warm.toFixed(1)} ms per trivial job; inline ${inl.toFixed(1)} ms per job`);
    }

    // 1 GiB hash.
    const big = join(root, 'big.bin');
    mkdirSync(root, { recursive: true });
    const fd = openSync(big, 'w');
    const chunk = Buffer.alloc(64 << 20);
    for (let i = 0; i < chunk.length; i += 4096) chunk.writeUInt32LE((i * 2654435761) >>> 0, i);
    for (let k = 0; k < 16; k++) {
      chunk.writeUInt32LE(k, 0);
      writeSync(fd, chunk);
    }
    closeSync(fd);
    const rates: number[] = [];
    for (let rep = 0; rep < 3; rep++) {
      t = performance.now();
      const { size } = await hashFile(big);
      const s = (performance.now() - t) / 1000;
      rates.push(size / 1e6 / s);
    }
    console.log(`hashFile, 1 GiB artifact (page-cached), xxh128: best ${Math.max(...rates).toFixed(0)} MB/s of ${rates.map((r) => r.toFixed(0)).join(', ')}`);

    const { hashOnReadCost } = await import('./hash-on-read.ts');
    const at = process.argv.indexOf('--store');
    const storeDir = at > 0 ? process.argv[at + 1] : (process.env.NNMOD_BENCH_STORE ?? join(fileURLToPath(new URL('..', import.meta.url)), 'artifacts'));
    for (const l of await hashOnReadCost(storeDir)) console.log(l);
  } finally {
    if (!keep) rmSync(root, { recursive: true, force: true });
    else rmSync(join(root, 'big.bin'), { force: true });
  }
}
