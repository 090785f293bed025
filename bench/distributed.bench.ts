/**
 * Distributed-run benchmark (prints figures; not a test). Run: npx tsx bench/distributed.bench.ts
 *
 * 1. Queue overhead per job on loopback: N trivial jobs (the toy `base` stage with no CPU work),
 *    one worker process, shared cache in a local directory. Per-job cost through BullMQ minus
 *    per-job cost of the same jobs on the local executor, both with one job at a time (latency)
 *    and with all jobs in flight (throughput). Target ≤ 20 ms.
 * 2. Scaling: a CPU-bound toy stage (work rounds per job) run by 1 worker process, then by 2;
 *    throughput ratio. Target ≥ 1.7× on a 2-core machine.
 *
 * Everything runs on this machine: a redis-server on a free loopback port (no persistence) and
 * worker processes of the toy project (test/fixtures/distributed/project). Figures are noisy
 * when other processes share the cores; compare ratios within one run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Session } from '../engine/session.ts';
import { repro } from '../engine/scheduler.ts';
import type { ProgressReporter } from '../engine/progress.ts';
import { openBackend } from '../engine/distributed/open-backend.ts';
import { BullmqExecutor } from '../engine/distributed/executor.ts';
import { cacheTrust } from '../engine/distributed/signing.ts';
import type { Json } from '../engine/types.ts';
import { randomBytes } from 'node:crypto';

// Driver and workers (child processes inherit it) share one throw-away secret.
process.env.NNMOD_CACHE_SECRET ??= randomBytes(32).toString('hex');
import { toyParams, toyProject } from '../test/fixtures/distributed/project/project.ts';
import { redisAvailable, startRedis, waitFor } from '../test/fixtures/distributed/servers.ts';

const PIPELINE = fileURLToPath(new URL('../test/fixtures/distributed/project/pipeline.ts', import.meta.url));
const TRIVIAL_JOBS = Number(process.env.BENCH_JOBS ?? 100);
const CPU_JOBS = Number(process.env.BENCH_CPU_JOBS ?? 24);
const CPU_ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1000);
const REPS = Number(process.env.BENCH_REPS ?? 3);

const silent: ProgressReporter = { start() {}, update() {}, finish() {}, log() {}, setTotal() {}, close() {} };
const children = new Set<ChildProcess>();

if (!redisAvailable()) {
  console.error('redis-server is not installed (apt-get install redis-server)');
  process.exit(1);
}
const scratch = await mkdtemp(join(tmpdir(), 'nnmod-bench-distributed-'));
const redis = await startRedis();
let machines = 0;

async function machine(a: number[], rounds: number): Promise<string> {
  const root = join(scratch, `m${machines++}`);
  await mkdir(root, { recursive: true });
  await writeFile(join(root, 'params.yaml'), toyParams({ a, b: [1], work: rounds }));
  return root;
}

async function startWorker(queueName: string, cache: string, name: string): Promise<ChildProcess> {
  const root = await machine([0], 0); // the worker's own project root (its params are not used)
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', PIPELINE, 'worker', '--queue', redis.url, '--queue-name', queueName, '--cache', cache, '--name', name],
    {
      env: { ...process.env, TOY_ROOT: root },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  children.add(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  await waitFor(
    () => out.includes(`worker ${name}:`),
    60_000,
    () => `worker ${name} did not start:\n${out}`,
  );
  return child;
}

/** Run the `base` stage (one instance per value of a) and return the wall time in ms. */
async function runBase(root: string, jobs: number, remote?: { queueName: string; cache: string }): Promise<number> {
  const session = await Session.open(toyProject(root), { targets: ['base'] });
  const executor = remote
    ? await BullmqExecutor.create({
        queue: redis.url,
        queueName: remote.queueName,
        cache: await openBackend(remote.cache),
        fingerprint: (m) => session.fingerprinter.fingerprint(m),
        trust: cacheTrust(false, 'driver'),
        params: session.params.values as Json,
      })
    : undefined;
  const t0 = performance.now();
  const summary = await repro(session, { jobs, executor, progress: silent });
  const ms = performance.now() - t0;
  if (summary.failed.length) throw new Error(`run failed: ${summary.failed.map((f) => f.message).join('; ')}`);
  return ms;
}

/**
 * What this machine can give right now: the same CPU work done by plain processes (no queue,
 * no cache), all in 1 process vs split over 2. On an idle 2-core machine this is ~2×; when
 * others load the cores it is less, and the workers' ratio should be compared with it.
 */
async function attainableScaling(jobs: number, rounds: number): Promise<number> {
  const spin = `let x=1;for(let j=0;j<${'${n}'};j++)for(let r=0;r<${rounds};r++)for(let i=0;i<100000;i++){x^=x<<13;x^=x>>>17;x^=x<<5;x>>>=0}`;
  const runProcs = async (counts: number[]) => {
    const t0 = performance.now();
    await Promise.all(
      counts.map(
        (n) =>
          new Promise<void>((resolve, reject) => {
            const child = spawn(process.execPath, ['-e', spin.replace('${n}', String(n))], { stdio: 'ignore' });
            child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`spin exited ${code}`))));
          }),
      ),
    );
    return performance.now() - t0;
  };
  const one = await runProcs([jobs]);
  const two = await runProcs([Math.ceil(jobs / 2), Math.floor(jobs / 2)]);
  return one / two;
}

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

try {
  console.log(
    `distributed benchmark: ${availableParallelism()} cores, load average ${loadavg()[0].toFixed(1)}, redis on loopback, cache in a local directory, median of ${REPS} runs`,
  );
  let offset = 1000;
  const fresh = (n: number) => {
    offset += 1000;
    return range(n, offset);
  };

  // ---- 1. queue overhead -------------------------------------------------------------------
  const overheadCache = join(scratch, 'cache-overhead');
  const remote = { queueName: 'bench-overhead', cache: overheadCache };
  const w = await startWorker('bench-overhead', overheadCache, 'w-overhead');
  // Warm up: worker thread start-up, module loading, connections.
  await runBase(await machine(fresh(4), 0), 4, remote);
  await runBase(await machine(fresh(4), 0), 1);
  const serial: { local: number; remote: number }[] = [];
  const pipelined: { local: number; remote: number }[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    serial.push({ local: await runBase(await machine(fresh(TRIVIAL_JOBS), 0), 1), remote: await runBase(await machine(fresh(TRIVIAL_JOBS), 0), 1, remote) });
    pipelined.push({
      // The local executor runs one worker thread per job slot: give it one per core.
      local: await runBase(await machine(fresh(TRIVIAL_JOBS), 0), availableParallelism()),
      remote: await runBase(await machine(fresh(TRIVIAL_JOBS), 0), 64, remote),
    });
  }
  w.kill('SIGTERM');
  const perJob = (ms: number) => ms / TRIVIAL_JOBS;
  const overheads = serial.map((r) => perJob(r.remote - r.local));
  console.log(`\nqueue overhead (${TRIVIAL_JOBS} trivial jobs, 1 worker process, concurrency 1):`);
  console.log(
    `  one job at a time:   local ${fmt(perJob(median(serial.map((r) => r.local))))}/job, bullmq ${fmt(perJob(median(serial.map((r) => r.remote))))}/job → ` +
      `overhead ${fmt(median(overheads))}/job (runs: ${overheads.map((o) => o.toFixed(1)).join(', ')}; target ≤ 20 ms)`,
  );
  console.log(
    `  pipelined:           local (${availableParallelism()} threads) ${fmt(perJob(median(pipelined.map((r) => r.local))))}/job, ` +
      `bullmq (64 in flight, 1 worker) ${fmt(perJob(median(pipelined.map((r) => r.remote))))}/job`,
  );

  // ---- 2. 1 vs 2 workers on CPU-bound jobs -------------------------------------------------
  // Both pools start up front; runs alternate between them so that changes in the machine's
  // load hit both alike. Idle workers only wait on Redis.
  const pools = [1, 2].map((workers) => ({ workers, queueName: `bench-cpu-${workers}`, cache: join(scratch, `cache-cpu-${workers}`) }));
  for (const pool of pools) {
    await Promise.all(range(pool.workers).map((i) => startWorker(pool.queueName, pool.cache, `w-cpu${pool.workers}-${i}`)));
    await runBase(await machine(fresh(pool.workers * 2), 20), 64, pool); // warm-up
  }
  const seconds: number[][] = [[], []];
  for (let rep = 0; rep < REPS; rep++) {
    for (const [i, pool] of pools.entries()) seconds[i].push((await runBase(await machine(fresh(CPU_JOBS), CPU_ROUNDS), 64, pool)) / 1000);
  }
  const throughput = seconds.map((s) => CPU_JOBS / median(s));
  for (const [i, pool] of pools.entries()) {
    console.log(
      `\n${pool.workers} worker process${pool.workers > 1 ? 'es' : ''}: ${CPU_JOBS} CPU-bound jobs (${CPU_ROUNDS} rounds each) in ${seconds[i].map((s) => s.toFixed(2)).join(', ')} s → ${throughput[i].toFixed(2)} jobs/s`,
    );
  }
  const measured = throughput[1] / throughput[0];
  const baseline: number[] = [];
  for (let rep = 0; rep < REPS; rep++) baseline.push(await attainableScaling(CPU_JOBS, CPU_ROUNDS));
  console.log(`\nscaling: 2 workers / 1 worker = ${measured.toFixed(2)}× (target ≥ 1.7× on 2 cores; load average now ${loadavg()[0].toFixed(1)})`);
  console.log(
    `machine baseline now: the same work in 2 plain processes vs 1 = ${median(baseline).toFixed(2)}× (runs: ${baseline.map((b) => b.toFixed(2)).join(', ')}) → ` +
      `workers reach ${((measured / median(baseline)) * 100).toFixed(0)}% of what the machine gives`,
  );
} finally {
  for (const c of children) c.kill('SIGKILL');
  await redis.stop();
  await rm(scratch, { recursive: true, force: true });
}
