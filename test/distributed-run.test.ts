/**
 * Distributed runs end to end (issue 9 acceptance): a real redis-server on loopback, worker
 * and driver processes started through the toy project's CLI (test/fixtures/distributed/project),
 * each with its own project root, so each acts as another machine. Runs are compared with a
 * local run of the same params: same keys, same output digests, same metrics.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Store } from '../engine/store.ts';
import type { Session } from '../engine/session.ts';
import { distributedExecutor } from '../engine/distributed/cli.ts';
import { toyParams } from './fixtures/distributed/project/project.ts';
import { redisAvailable, startRedis, startS3, waitFor, type RedisServer, type S3Server } from './fixtures/distributed/servers.ts';

const PIPELINE = fileURLToPath(new URL('./fixtures/distributed/project/pipeline.ts', import.meta.url));
const ALL = { a: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], b: [1, 2, 3] }; // 10 + 30 = 40 instances
const SMALL = { a: [0, 1, 2, 3], b: [1, 2] }; // 4 + 8 = 12 instances

interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** The shared-cache secret every driver and worker of these tests gets (through the environment). */
const SECRET = randomBytes(32).toString('hex');

const children = new Set<ChildProcess>();
let scratch: string;
let redis: RedisServer;

/** Start the toy CLI in its own project root (a fresh "machine"). */
function start(root: string, args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', PIPELINE, ...args], {
    env: { ...process.env, TOY_ROOT: root, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', NNMOD_CACHE_SECRET: SECRET, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let text = '';
  child.stdout!.on('data', (d) => (text += d));
  child.stderr!.on('data', (d) => (text += d));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      children.delete(child);
      resolve(code);
    }),
  );
  return { child, output: () => text, exited };
}

async function machine(name: string, params: { a: number[]; b: number[] }): Promise<string> {
  const root = join(scratch, name);
  await mkdir(root, { recursive: true });
  await writeFile(join(root, 'params.yaml'), toyParams(params));
  return root;
}

async function run(root: string, args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<{ code: number | null; output: string }> {
  const proc = start(root, args, env);
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), timeoutMs);
  const code = await proc.exited;
  clearTimeout(timer);
  return { code, output: proc.output() };
}

function startWorkers(n: number, queueName: string, cache: string, extra: string[] = [], env: Record<string, string> = {}): Promise<Proc[]> {
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const root = await machine(`${queueName}-worker${i}`, ALL);
      const proc = start(root, ['worker', '--queue', redis.url, '--queue-name', queueName, '--cache', cache, '--name', `w${i}`, ...extra], env);
      await waitFor(
        () => /worker w\d+: queue/.test(proc.output()),
        30_000,
        () => `worker w${i} did not start:\n${proc.output()}`,
      );
      return proc;
    }),
  );
}

async function stopAll(procs: Proc[]): Promise<void> {
  for (const p of procs) p.child.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
}

/** What must agree between runs: per key, the instance, its output digests and its metrics. */
function records(root: string): Map<string, unknown> {
  const store = new Store(join(root, 'artifacts'));
  const out = new Map<string, unknown>();
  for (const key of store.listRunKeys()) {
    const r = store.getRun(key)!;
    out.set(key, { stage: r.stage, axes: r.axes, role: r.role, outputs: r.outputs, metrics: r.metrics });
  }
  return out;
}

/** Computations done by workers (each prints one ✓ line per job it computed). */
const computed = (procs: Proc[]) => procs.reduce((n, p) => n + (p.output().match(/^✓ /gm)?.length ?? 0), 0);

function distributed(queueName: string, cache: string, extra: string[] = []): string[] {
  return ['repro', '--executor', 'bullmq', '--queue', redis.url, '--queue-name', queueName, '--cache', cache, ...extra];
}

/** Why the Redis tests are skipped (false: they run). Each test carries it, so `npm test` counts them as skipped. */
const NEEDS_REDIS = !redisAvailable() && 'redis-server is not installed (sudo apt-get install redis-server; CI installs it: .ci/run)';

describe('distributed runs on BullMQ workers', () => {
  const local = new Map<string, Map<string, unknown>>();

  before(async () => {
    if (NEEDS_REDIS) return;
    scratch = await mkdtemp(join(tmpdir(), 'nnmod-distributed-'));
    redis = await startRedis();
    // Local reference runs of both param sets.
    await Promise.all(
      Object.entries({ all: ALL, small: SMALL }).map(async ([name, params]) => {
        const root = await machine(`local-${name}`, params);
        const r = await run(root, ['repro']);
        assert.equal(r.code, 0, r.output);
        local.set(name, records(root));
      }),
    );
    assert.equal(local.get('all')!.size, 40);
  });

  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await redis?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  test('40 instances on 3 worker processes: the same run records and digests as a local run; a second driver only gets hits', {
    skip: NEEDS_REDIS,
  }, async () => {
    const cache = join(scratch, 'cache-all');
    const workers = await startWorkers(3, 'q-all', cache);
    try {
      const driver = await machine('driver-all', ALL);
      const r = await run(driver, distributed('q-all', cache));
      assert.equal(r.code, 0, r.output);
      assert.deepEqual(records(driver), local.get('all'));
      assert.equal(computed(workers), 40, 'each instance computed exactly once');
      const busy = workers.filter((w) => /^✓ /m.test(w.output())).length;
      assert.ok(busy >= 2, `the work should spread over the workers (${busy} of 3 did any)`);

      // Another machine with an empty local store and the same shared cache: all hits.
      const second = await machine('driver-all-2', ALL);
      const again = await run(second, distributed('q-all', cache));
      assert.equal(again.code, 0, again.output);
      assert.deepEqual(records(second), local.get('all'));
      assert.equal(computed(workers), 40, 'the second driver submitted nothing');

      // A third repro on the first driver computes nothing at all.
      const noop = await run(driver, distributed('q-all', cache));
      assert.match(noop.output, /nothing to do, 40 instances up to date/);
    } finally {
      await stopAll(workers);
    }
  });

  test('a worker killed with SIGKILL mid-job: another worker takes the job over and the digests are identical', { skip: NEEDS_REDIS }, async () => {
    const cache = join(scratch, 'cache-kill');
    const workers = await startWorkers(2, 'q-kill', cache, ['--lock-duration', '1500'], { TOY_SLEEP_MS: '400' });
    try {
      const driver = await machine('driver-kill', SMALL);
      const proc = start(driver, distributed('q-kill', cache));
      // Kill the first worker as soon as it has started a job (before it finishes it).
      await waitFor(
        () => /^▶ /m.test(workers[0].output()),
        30_000,
        () => `worker 0 started no job:\n${workers[0].output()}`,
      );
      workers[0].child.kill('SIGKILL');
      const code = await proc.exited;
      assert.equal(code, 0, proc.output());
      assert.match(workers[1].output(), /^✓ /m, 'the surviving worker did the work');
      assert.deepEqual(records(driver), local.get('small'));
    } finally {
      await stopAll(workers);
    }
  });

  test('Redis stopped for 2 s mid-run and restarted: driver and workers reconnect and the run completes', { skip: NEEDS_REDIS }, async () => {
    const cache = join(scratch, 'cache-redis');
    const workers = await startWorkers(2, 'q-redis', cache, [], { TOY_SLEEP_MS: '500' });
    try {
      const driver = await machine('driver-redis', SMALL);
      const proc = start(driver, distributed('q-redis', cache));
      await waitFor(
        () => computed(workers) >= 2,
        30_000,
        () => `no job finished before the restart:\n${proc.output()}`,
      );
      assert.equal(proc.child.exitCode, null, 'the run was still going when Redis stopped');
      await redis.stop();
      await new Promise((r) => setTimeout(r, 2000));
      await redis.start();
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([proc.exited, new Promise((r) => (timer = setTimeout(() => r('timeout'), 60_000)))]);
      clearTimeout(timer);
      assert.equal(code, 0, proc.output() + '\n--- workers:\n' + workers.map((w) => w.output()).join('\n'));
      assert.deepEqual(records(driver), local.get('small'));
    } finally {
      await stopAll(workers);
    }
  });

  test('a driver killed mid-run and restarted re-submits only what is missing', { skip: NEEDS_REDIS }, async () => {
    const cache = join(scratch, 'cache-driver');
    const workers = await startWorkers(1, 'q-driver', cache, [], { TOY_SLEEP_MS: '150' });
    try {
      const driver = await machine('driver-restart', SMALL);
      const first = start(driver, distributed('q-driver', cache));
      await waitFor(
        () => computed(workers) >= 3,
        30_000,
        () => `no progress before the kill:\n${first.output()}`,
      );
      first.child.kill('SIGKILL');
      await first.exited;
      const second = await run(driver, distributed('q-driver', cache));
      assert.equal(second.code, 0, second.output);
      assert.deepEqual(records(driver), local.get('small'));
      assert.equal(computed(workers), 12, 'every instance computed exactly once across both drivers');
    } finally {
      await stopAll(workers);
    }
  });

  test('a worker running other code refuses every job with a clear message; nothing enters the cache', { skip: NEEDS_REDIS }, async () => {
    const cache = join(scratch, 'cache-other');
    const workers = await startWorkers(1, 'q-other', cache, [], { TOY_VARIANT: 'other' });
    try {
      const driver = await machine('driver-other', SMALL);
      const r = await run(driver, distributed('q-other', cache));
      assert.equal(r.code, 1, r.output);
      assert.match(r.output, /refused job base .* its code differs from the driver's \(file .*stages(-other)?\.ts/);
      assert.match(workers[0].output(), /refused job/);
      assert.equal(computed(workers), 0);
      const runs = existsSync(join(cache, 'runs')) ? await readdir(join(cache, 'runs')) : [];
      const objects = existsSync(join(cache, 'objects')) ? await readdir(join(cache, 'objects')) : [];
      assert.deepEqual({ runs, objects }, { runs: [], objects: [] });
    } finally {
      await stopAll(workers);
    }
  });

  test('s3 cache mode: a run through s3rver matches the local run, and another driver machine gets hits from the bucket', { skip: NEEDS_REDIS }, async () => {
    const s3: S3Server = await startS3('nnmod-runs');
    const env = { NNMOD_S3_ENDPOINT: s3.endpoint, AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey };
    const cache = `s3://${s3.bucket}/team/cache`;
    const workers = await startWorkers(1, 'q-s3', cache, [], env);
    try {
      const driver = await machine('driver-s3', SMALL);
      const r = await run(driver, distributed('q-s3', cache), env);
      assert.equal(r.code, 0, r.output);
      assert.deepEqual(records(driver), local.get('small'));
      const second = await machine('driver-s3-2', SMALL);
      const again = await run(second, distributed('q-s3', cache), env);
      assert.equal(again.code, 0, again.output);
      assert.deepEqual(records(second), local.get('small'));
      assert.equal(computed(workers), 12, 'the second driver computed nothing');
    } finally {
      await stopAll(workers);
      await s3.stop();
    }
  });

  test('bad command lines get one clear message', { skip: NEEDS_REDIS }, async () => {
    const root = await machine('cli-errors', SMALL);
    const session = { params: { values: {} } } as unknown as Session; // not used: the options are checked first
    process.env.NNMOD_CACHE_SECRET = SECRET;
    await assert.rejects(distributedExecutor(session, { executor: 'bullmq', cache: 'x' }, false), /--executor bullmq needs --queue redis:\/\/HOST:PORT/);
    await assert.rejects(distributedExecutor(session, { executor: 'bullmq', queue: redis.url }, false), /needs --cache DIR or --cache s3:\/\/bucket\/prefix/);
    await assert.rejects(distributedExecutor(session, { queue: redis.url }, false), /add --executor bullmq/);
    await assert.rejects(
      distributedExecutor(session, { executor: 'bullmq', queue: 'redis://127.0.0.1:1', cache: join(scratch, 'c') }, false),
      /cannot reach the queue/,
    );
    const badUrl = await run(root, ['repro', '--executor', 'bullmq', '--queue', 'http://x', '--cache', join(scratch, 'c')]);
    assert.match(badUrl.output, /invalid --queue "http:\/\/x"/);
    assert.doesNotMatch(badUrl.output, /at .*\.ts:\d+/, 'no stack trace');
    delete process.env.NNMOD_CACHE_SECRET;
  });
});
