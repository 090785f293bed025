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
import { openBackend } from '../engine/distributed/backend.ts';
import { BullmqExecutor } from '../engine/distributed/executor.ts';
import { toyParams, toyProject } from '../test/fixtures/distributed/project/project.ts';
import { redisAvailable, startRedis, waitFor, type RedisServer } from '../test/fixtures/distributed/servers.ts';

const PIPELINE = fileURLToPath(new URL('../test/fixtures/distributed/project/pipeline.ts', import.meta.url));
const TRIVIAL_JOBS = Number(process.env.BENCH_JOBS ?? 100);
const CPU_JOBS = Number(process.env.BENCH_CPU_JOBS ?? 24);
const CPU_ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1500);

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
  const root = await machine([0], 0);
  const child = spawn(process.execPath, ['--import', 'tsx', PIPELINE, 'worker', '--queue', redis.url, '--queue-name', queueName, '--cache', cache, '--name', name], {
    env: { ...process.env, TOY_ROOT: root },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  await waitFor(() => out.includes(`worker ${name}:`), 60_000, () => `worker ${name} did not start:\n${out}`);
  return child;
}

/** Run the `base` stage (one instance per value of a) and return the wall time in ms. */
async function runBase(root: string, jobs: number, remote?: { queueName: string; cache: string }): Promise<number> {
  const session = await Session.open(toyProject(root), { targets: ['base'] });
  const executor = remote
    ? await BullmqExecutor.create({ queue: redis.url, queueName: remote.queueName, cache: await openBackend(remote.cache), fingerprint: (m) => session.fingerprinter.fingerprint(m) })
    : undefined;
  const t0 = performance.now();
  const summary = await repro(session, { jobs, executor, progress: silent });
  const ms = performance.now() - t0;
  if (summary.failed.length) throw new Error(`run failed: ${summary.failed.map((f) => f.message).join('; ')}`);
  return ms;
}

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);
const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

try {
  console.log(`distributed benchmark: ${availableParallelism()} cores, load average ${loadavg()[0].toFixed(1)}, redis on loopback, cache in a local directory`);

  // ---- 1. queue overhead -------------------------------------------------------------------
  const overheadCache = join(scratch, 'cache-overhead');
  const w = await startWorker('bench-overhead', overheadCache, 'w-overhead');
  // Warm up: worker thread start-up, module loading, connections.
  await runBase(await machine(range(4, 10_000), 0), 4, { queueName: 'bench-overhead', cache: overheadCache });
  await runBase(await machine(range(4, 10_000), 0), 1);

  const localSerial = await runBase(await machine(range(TRIVIAL_JOBS), 0), 1);
  const remoteSerial = await runBase(await machine(range(TRIVIAL_JOBS), 0), 1, { queueName: 'bench-overhead', cache: overheadCache });
  // The local executor runs one worker thread per job slot: give it one per core.
  const localParallel = await runBase(await machine(range(TRIVIAL_JOBS, 1000), 0), availableParallelism());
  const remoteParallel = await runBase(await machine(range(TRIVIAL_JOBS, 1000), 0), 64, { queueName: 'bench-overhead', cache: join(scratch, 'cache-overhead') });
  w.kill('SIGTERM');

  const perJob = (ms: number) => ms / TRIVIAL_JOBS;
  console.log(`\nqueue overhead (${TRIVIAL_JOBS} trivial jobs, 1 worker process, concurrency 1):`);
  console.log(`  one job at a time:   local ${fmt(perJob(localSerial))}/job, bullmq ${fmt(perJob(remoteSerial))}/job → overhead ${fmt(perJob(remoteSerial - localSerial))}/job (target ≤ 20 ms)`);
  console.log(`  pipelined:           local (${availableParallelism()} threads) ${fmt(perJob(localParallel))}/job, bullmq (64 in flight, 1 worker) ${fmt(perJob(remoteParallel))}/job`);

  // ---- 2. 1 vs 2 workers on CPU-bound jobs -------------------------------------------------
  const throughput: number[] = [];
  for (const workers of [1, 2]) {
    const queueName = `bench-cpu-${workers}`;
    const cache = join(scratch, `cache-cpu-${workers}`);
    const procs = await Promise.all(range(workers).map((i) => startWorker(queueName, cache, `w-cpu${workers}-${i}`)));
    await runBase(await machine(range(workers * 2, 50_000), 20), 64, { queueName, cache }); // warm-up
    const ms = await runBase(await machine(range(CPU_JOBS, 100), CPU_ROUNDS), 64, { queueName, cache });
    throughput.push((CPU_JOBS / ms) * 1000);
    console.log(`\n${workers} worker process${workers > 1 ? 'es' : ''}: ${CPU_JOBS} CPU-bound jobs (${CPU_ROUNDS} rounds each) in ${(ms / 1000).toFixed(2)} s → ${throughput.at(-1)!.toFixed(2)} jobs/s`);
    for (const p of procs) p.kill('SIGTERM');
  }
  console.log(`\nscaling: 2 workers / 1 worker = ${(throughput[1] / throughput[0]).toFixed(2)}× (target ≥ 1.7× on 2 cores; load average now ${loadavg()[0].toFixed(1)})`);
} finally {
  for (const c of children) c.kill('SIGKILL');
  await redis.stop();
  await rm(scratch, { recursive: true, force: true });
}
