/**
 * Distributed runs safe by default (issue 19) and the shared caches' read-time checks (issue 15):
 * signed run records and jobs, workers that validate jobs, the queue-exposure warning, and inputs
 * damaged in the shared cache. Real redis-server with a password (on a loopback port), real
 * driver and worker processes (test/fixtures/distributed/project), directory and S3 (s3rver) caches.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { readFileSync, writeFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Store } from '../engine/store.ts';
import { objectPath, type ObjectBackend } from '../engine/distributed/backend.ts';
import { openBackend } from '../engine/distributed/open-backend.ts';
import { Signer, cacheTrust } from '../engine/distributed/signing.ts';
import { checkQueueExposure, exposureWarning, redisConnection } from '../engine/distributed/connection.ts';
import { validateJob } from '../engine/distributed/worker.ts';
import type { RemoteJobData } from '../engine/distributed/protocol.ts';
import { toyParams, toyProject } from './fixtures/distributed/project/project.ts';
import { redisAvailable, startRedis, startS3, waitFor, type RedisServer, type S3Server } from './fixtures/distributed/servers.ts';

const PIPELINE = fileURLToPath(new URL('./fixtures/distributed/project/pipeline.ts', import.meta.url));
const SMALL = { a: [0, 1, 2, 3], b: [1, 2] }; // 4 + 8 = 12 instances
const WIDER = { a: [0, 1, 2, 3], b: [1, 2, 3] }; // 4 + 12 = 16 instances
const SECRET = randomBytes(32).toString('hex');
const WRONG_SECRET = randomBytes(32).toString('hex');

// ---- without Redis ----------------------------------------------------------------------

test('the secret comes from $NNMOD_CACHE_SECRET or a file, must be long enough, and never shows', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nnmod-secret-'));
  try {
    const file = join(dir, 'secret');
    writeFileSync(file, SECRET + '\n');
    const fromEnv = Signer.fromEnv({ NNMOD_CACHE_SECRET: SECRET })!;
    const fromFile = Signer.fromEnv({ NNMOD_CACHE_SECRET_FILE: file })!;
    const doc = { key: 'k', outputs: { a: 1 } };
    assert.equal(fromEnv.sign('run-record', doc), fromFile.sign('run-record', doc), 'the trailing newline of the file is not part of the secret');
    assert.notEqual(fromEnv.sign('run-record', doc), fromEnv.sign('job', doc), 'a signed job never passes as a signed record');
    assert.equal(Signer.fromEnv({}), undefined);
    assert.throws(() => Signer.fromEnv({ NNMOD_CACHE_SECRET: 'short' }), /too short \(5 bytes\): use at least 16/);
    assert.throws(
      () => Signer.fromEnv({ NNMOD_CACHE_SECRET_FILE: join(dir, 'absent') }),
      /cannot read the shared-cache secret from the file .*absent .*ENOENT/,
    );
    assert.throws(() => Signer.fromEnv({ NNMOD_CACHE_SECRET: SECRET, NNMOD_CACHE_SECRET_FILE: file }), /set only one of/);
    for (const shown of [String(fromEnv), JSON.stringify({ fromEnv }), inspect(fromEnv), inspect({ fromEnv }, { showHidden: true, depth: 5 })]) {
      assert.ok(!shown.includes(SECRET), `secret leaked: ${shown}`);
    }
    assert.throws(
      () => cacheTrust(false, 'worker', {}),
      /the worker needs the shared-cache secret .* set \$NNMOD_CACHE_SECRET .* or pass --insecure-shared-cache/,
    );
    assert.deepEqual(cacheTrust(true, 'worker', {}), { insecure: true });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a signature binds every field: no signature, a changed digest or another secret are each refused', () => {
  const signer = Signer.fromEnv({ NNMOD_CACHE_SECRET: SECRET })!;
  const other = Signer.fromEnv({ NNMOD_CACHE_SECRET: WRONG_SECRET })!;
  const record = { key: 'ab'.repeat(16), result: { outputs: { table: { kind: 'arrow', digest: 'cd'.repeat(16), size: 10 } } } };
  const signed = signer.signed('run-record', record);
  assert.equal(signer.problem('run-record', signed), undefined);
  assert.equal(signer.problem('run-record', record), 'it has no signature');
  const tampered = structuredClone(signed);
  tampered.result.outputs.table.digest = 'ef'.repeat(16);
  assert.equal(signer.problem('run-record', tampered), 'its signature does not match this secret');
  assert.equal(other.problem('run-record', signed), 'its signature does not match this secret');
  assert.equal(signer.problem('run-record', { ...record, signature: 'zz' }), 'its signature is malformed');
});

test('queue exposure: a warning only when Redis takes unauthenticated clients from other hosts', () => {
  const url = 'redis://10.1.2.3:6379';
  assert.match(
    exposureWarning(url, { host: '10.1.2.3', authRequired: false })!,
    /^warning: the queue redis:\/\/10\.1\.2\.3:6379 accepts connections without a password from other hosts/,
  );
  assert.equal(exposureWarning(url, { host: '10.1.2.3', authRequired: true }), undefined);
  const local = 'redis://127.0.0.1:6379';
  assert.equal(exposureWarning(local, { host: '127.0.0.1', authRequired: false, bind: '127.0.0.1 -::1', protectedMode: 'no' }), undefined);
  assert.equal(
    exposureWarning(local, { host: '127.0.0.1', authRequired: false, bind: '* -::*', protectedMode: 'yes' }),
    undefined,
    'protected mode refuses other hosts',
  );
  assert.match(exposureWarning(local, { host: '127.0.0.1', authRequired: false, bind: '0.0.0.0', protectedMode: 'no' })!, /other hosts/);
});

test('workers validate each job: params against the schema, axes against the matrix, resolved params against the stage', () => {
  const project = toyProject('/nonexistent');
  const def = project.stages.find((s) => s.name === 'base')!;
  const params = { toy: { a: [0, 1], b: [1], work: 1 } };
  const job = (over: Partial<RemoteJobData['job']>, tree: unknown = params) =>
    ({
      protocol: 1,
      params: tree,
      driver: 'd',
      code: {},
      job: { stage: 'base', axes: { a: 1 }, params: { a: [0, 1], work: 1 }, role: 'instance', ...over },
    }) as unknown as RemoteJobData;
  assert.equal(validateJob(def, project, job({})), undefined);
  assert.match(
    validateJob(def, project, job({}, { toy: { a: [0, 1], b: [1], work: 'lots' } }))!,
    /^its params do not parse against this project's schema: toy\.work: .*expected number, received string$/i,
  );
  assert.match(
    validateJob(def, project, job({}, { toy: { a: [0, 1], b: [1], work: 1, extra: 1 } }))!,
    /^its params do not parse against this project's schema: toy: Unrecognized key/,
  );
  assert.equal(validateJob(def, project, job({ axes: { a: 7 } })), `its axes {"a":7} are not a point of the matrix of stage 'base' under its params`);
  assert.equal(
    validateJob(def, project, job({ params: { a: [0, 1], work: 99 } })),
    "its resolved params are not what stage 'base' declares for base[a=1] under its params",
  );
});

// ---- with Redis ---------------------------------------------------------------------------

interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

const children = new Set<ChildProcess>();
/** Everything any driver or worker printed, and every job failure reason (the secret must be in none). */
const transcripts: (() => string)[] = [];
let scratch: string;
let redis: RedisServer;

function start(root: string, args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', PIPELINE, ...args], {
    env: { ...process.env, TOY_ROOT: root, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', NNMOD_CACHE_SECRET: SECRET, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let text = '';
  child.stdout!.on('data', (d) => (text += d));
  child.stderr!.on('data', (d) => (text += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => (children.delete(child), resolve(code))));
  transcripts.push(() => text);
  return { child, output: () => text, exited };
}

async function machine(name: string, params: { a: number[]; b: number[] }): Promise<string> {
  const root = join(scratch, name);
  await mkdir(root, { recursive: true });
  await writeFile(join(root, 'params.yaml'), toyParams(params));
  return root;
}

async function run(root: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  const proc = start(root, args, env);
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), 90_000);
  const code = await proc.exited;
  clearTimeout(timer);
  return { code, output: proc.output() };
}

async function startWorker(name: string, queueName: string, cache: string, env: Record<string, string> = {}, extra: string[] = []): Promise<Proc> {
  const root = await machine(name, WIDER);
  const proc = start(root, ['worker', '--queue', redis.url, '--queue-name', queueName, '--cache', cache, '--name', name, ...extra], env);
  await waitFor(
    () => /worker \S+: queue/.test(proc.output()) || proc.child.exitCode !== null,
    30_000,
    () => `worker ${name} did not start:\n${proc.output()}`,
  );
  return proc;
}

async function stop(...procs: Proc[]): Promise<void> {
  for (const p of procs) p.child.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
}

function records(root: string): Map<string, unknown> {
  const store = new Store(join(root, 'artifacts'));
  const out = new Map<string, unknown>();
  for (const key of store.listRunKeys()) {
    const r = store.getRun(key)!;
    out.set(key, { stage: r.stage, axes: r.axes, role: r.role, outputs: r.outputs, metrics: r.metrics });
  }
  return out;
}

const computed = (p: Proc) => p.output().match(/^✓ /gm)?.length ?? 0;
const distributed = (queueName: string, cache: string, extra: string[] = []) => [
  'repro',
  '--executor',
  'bullmq',
  '--queue',
  redis.url,
  '--queue-name',
  queueName,
  '--cache',
  cache,
  ...extra,
];

describe('signed shared caches and validated jobs, with a real Redis (password set)', {
  skip: !redisAvailable() && 'redis-server is not installed (CI installs it: .ci/run)',
}, () => {
  const local = new Map<string, Map<string, unknown>>();
  let s3: S3Server;
  const caches: Record<'directory' | 's3', () => { cache: string; env: Record<string, string>; open: () => Promise<ObjectBackend> }> = {
    directory: () => {
      const cache = join(scratch, `cache-${randomBytes(4).toString('hex')}`);
      return { cache, env: {}, open: () => openBackend(cache) };
    },
    s3: () => {
      const cache = `s3://${s3.bucket}/c${randomBytes(4).toString('hex')}`;
      const env = { NNMOD_S3_ENDPOINT: s3.endpoint, AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey };
      return { cache, env, open: () => openBackend(cache, { s3: { endpoint: s3.endpoint, credentials: s3.credentials } }) };
    },
  };

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'nnmod-security-'));
    redis = await startRedis();
    assert.ok(redis.password, 'the test Redis has a password');
    s3 = await startS3('nnmod-security');
    for (const [name, params] of Object.entries({ small: SMALL, wider: WIDER })) {
      const root = await machine(`local-${name}`, params);
      const r = await run(root, ['repro']);
      assert.equal(r.code, 0, r.output);
      local.set(name, records(root));
    }
  });

  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await redis?.stop();
    await s3?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  test('the password is required: an unauthenticated client is refused, and no exposure warning is given', async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(redis.port, '127.0.0.1', () => socket.write('PING\r\n'));
      socket.once('data', (d) => (socket.destroy(), resolve(String(d))));
      socket.once('error', reject);
    });
    assert.match(reply, /^-NOAUTH/, 'an unauthenticated client is refused');
    assert.equal(await checkQueueExposure(redis.url), undefined);
    // A passwordless Redis on loopback only (protected mode on): nobody else can reach it either.
    const open = await startRedis({ password: null });
    try {
      assert.equal(await checkQueueExposure(open.url), undefined);
    } finally {
      await open.stop();
    }
  });

  test('driver and worker refuse to start without a secret unless --insecure-shared-cache', async () => {
    const root = await machine('no-secret', SMALL);
    const { cache } = caches.directory();
    const driver = await run(root, distributed('q-nosecret', cache), { NNMOD_CACHE_SECRET: '' });
    assert.equal(driver.code, 1, driver.output);
    assert.match(driver.output, /the driver needs the shared-cache secret .* or pass --insecure-shared-cache/);
    assert.doesNotMatch(driver.output, /at .*\.ts:\d+/, 'no stack trace');
    const worker = await run(root, ['worker', '--queue', redis.url, '--cache', cache], { NNMOD_CACHE_SECRET: '' });
    assert.equal(worker.code, 1, worker.output);
    assert.match(worker.output, /the worker needs the shared-cache secret/);
  });

  for (const kind of ['directory', 's3'] as const) {
    test(`${kind} cache: records written without the secret are not served; each key is recomputed and signed`, async () => {
      const { cache, env } = caches[kind]();
      const queue = `q-unsigned-${kind}`;
      const insecure = { ...env, NNMOD_CACHE_SECRET: '' };
      const w0 = await startWorker(`unsigned-w-${kind}`, queue, cache, insecure, ['--insecure-shared-cache']);
      const first = await run(await machine(`unsigned-d1-${kind}`, SMALL), distributed(queue, cache, ['--insecure-shared-cache']), insecure);
      assert.equal(first.code, 0, first.output);
      assert.equal(computed(w0), 12);
      await stop(w0);

      const w1 = await startWorker(`signed-w-${kind}`, queue, cache, env);
      try {
        const driver = await machine(`unsigned-d2-${kind}`, SMALL);
        const r = await run(driver, distributed(queue, cache), env);
        assert.equal(r.code, 0, r.output);
        const notices = r.output.match(/^\S+: ignored the run record of \S+ [0-9a-f]+ in the shared cache .*: it has no signature; recomputing it$/gm) ?? [];
        assert.equal(notices.length, 12, r.output);
        assert.equal(computed(w1), 12, 'every unsigned record was recomputed');
        assert.deepEqual(records(driver), local.get('small'));
        const again = await run(await machine(`unsigned-d3-${kind}`, SMALL), distributed(queue, cache), env);
        assert.equal(again.code, 0, again.output);
        assert.doesNotMatch(again.output, /ignored the run record/, 'the recomputed records are signed');
        assert.equal(computed(w1), 12);
      } finally {
        await stop(w1);
      }
    });

    test(`${kind} cache: a tampered record (another output digest) is refused and recomputed`, async () => {
      const { cache, env, open } = caches[kind]();
      const queue = `q-tamper-${kind}`;
      const worker = await startWorker(`tamper-w-${kind}`, queue, cache, env);
      try {
        const d1 = await machine(`tamper-d1-${kind}`, SMALL);
        assert.equal((await run(d1, distributed(queue, cache), env)).code, 0);
        assert.equal(computed(worker), 12);
        // Point one combine key at another instance's (real, intact) output: a poisoned mapping.
        const store = new Store(join(d1, 'artifacts'));
        const [victim, donor] = store
          .listRunKeys()
          .map((k) => store.getRun(k)!)
          .filter((r) => r.stage === 'combine');
        const backend = await open();
        const rec = (await backend.getRecord(victim.key)) as any;
        rec.result.outputs.scaled = donor.outputs.scaled;
        rec.result.metrics = donor.metrics;
        await backend.putRecord(victim.key, rec);
        await backend.close();

        const d2 = await machine(`tamper-d2-${kind}`, SMALL);
        const r = await run(d2, distributed(queue, cache), env);
        assert.equal(r.code, 0, r.output);
        assert.match(
          r.output,
          new RegExp(
            `^\\S+: ignored the run record of combine ${victim.key} in the shared cache .*: its signature does not match this secret; recomputing it$`,
            'm',
          ),
        );
        assert.equal(computed(worker), 13, 'only the tampered key was recomputed');
        assert.deepEqual(records(d2), local.get('small'), 'the driver got the true outputs, not the donor');
      } finally {
        await stop(worker);
      }
    });
  }

  test('a worker with the wrong secret refuses jobs and says why; nothing enters the cache', async () => {
    const { cache } = caches.directory();
    const worker = await startWorker('wrong-secret-w', 'q-wrong', cache, { NNMOD_CACHE_SECRET: WRONG_SECRET });
    try {
      const r = await run(await machine('wrong-secret-d', SMALL), distributed('q-wrong', cache));
      assert.equal(r.code, 1, r.output);
      assert.match(
        r.output,
        /refused job base [0-9a-f]+ from .*: its signature does not match this secret: the driver and this worker were given different secrets \(\$NNMOD_CACHE_SECRET\)/,
      );
      assert.match(worker.output(), /refused job/);
      assert.equal(computed(worker), 0);
      assert.deepEqual(await readdir(join(cache, 'runs')).catch(() => []), []);
    } finally {
      await stop(worker);
    }
  });

  test('forged jobs are refused with a reason: params that do not parse, axes off the matrix, no signature', async () => {
    const { cache } = caches.directory();
    const queueName = 'q-forged';
    // Capture a genuine job (no worker yet), then forge variants of it, signed with the right secret.
    const driver = start(await machine('forged-d', SMALL), distributed(queueName, cache));
    const queue = new Queue(queueName, { connection: redisConnection(redis.url) });
    try {
      let genuine: RemoteJobData | undefined;
      await waitFor(
        async () => {
          const [job] = await queue.getWaiting(0, 0);
          genuine = job?.data as RemoteJobData | undefined;
          return genuine !== undefined && genuine.job.stage === 'base';
        },
        30_000,
        () => `no job queued:\n${driver.output()}`,
      );
      await stop(driver);
      await queue.obliterate({ force: true });
      const signer = Signer.fromEnv({ NNMOD_CACHE_SECRET: SECRET })!;
      const { signature: _s, ...unsigned } = genuine!;
      const badParams = signer.signed('job', { ...unsigned, params: { toy: { a: 'all of them', b: [1], work: 1 } } });
      const badAxes = signer.signed('job', { ...unsigned, job: { ...unsigned.job, axes: { a: 42 } } });
      const ids = { badParams: 'a1'.repeat(16), badAxes: 'a2'.repeat(16), unsigned: 'a3'.repeat(16) };
      await queue.add('base', badParams, { jobId: ids.badParams, attempts: 1 });
      await queue.add('base', badAxes, { jobId: ids.badAxes, attempts: 1 });
      await queue.add('base', unsigned, { jobId: ids.unsigned, attempts: 1 });
      const worker = await startWorker('forged-w', queueName, cache);
      try {
        const reason = async (id: string) => {
          await waitFor(
            async () => (await queue.getJobState(id)) === 'failed',
            30_000,
            () => `job ${id} was not refused:\n${worker.output()}`,
          );
          const reason = (await queue.getJob(id))!.failedReason;
          transcripts.push(() => reason);
          return reason;
        };
        assert.match(
          await reason(ids.badParams),
          /refused job base .*: its params do not parse against this project's schema: toy\.a: .*expected array, received string/i,
        );
        assert.match(await reason(ids.badAxes), /refused job base .*: its axes \{"a":42\} are not a point of the matrix of stage 'base'/);
        assert.match(await reason(ids.unsigned), /refused job base .*: the job is not signed, but this worker has the shared-cache secret/);
        assert.equal(computed(worker), 0);
      } finally {
        await stop(worker);
      }
    } finally {
      await queue.close();
    }
  });

  test('an input damaged in the shared cache is set aside by the worker; the driver uploads its good copy and the run completes', async () => {
    const { cache } = caches.directory();
    const queue = 'q-damaged';
    let worker = await startWorker('damaged-w', queue, cache);
    try {
      const driver = await machine('damaged-d', SMALL);
      assert.equal((await run(driver, distributed(queue, cache))).code, 0);
      const store = new Store(join(driver, 'artifacts'));
      const base0 = store
        .listRunKeys()
        .map((k) => store.getRun(k)!)
        .find((r) => r.stage === 'base' && r.axes.a === 0)!;
      const shared = join(cache, objectPath(base0.outputs.table.digest));
      const bytes = readFileSync(shared);
      bytes[bytes.length >> 1] ^= 0x10;
      writeFileSync(shared, bytes);

      // A fresh worker (empty local store) and more values of b: new combine jobs that fetch base[a=0] from the shared cache.
      await stop(worker);
      worker = await startWorker('damaged-w2', queue, cache);
      await writeFile(join(driver, 'params.yaml'), toyParams(WIDER));
      const r = await run(driver, distributed(queue, cache));
      assert.equal(r.code, 0, r.output + worker.output());
      assert.match(worker.output(), /cannot run job combine .*: an input is unusable: object [0-9a-f]+ in the shared cache .* is corrupt/);
      assert.ok((await readdir(join(cache, 'quarantine'))).length >= 1, 'the bad copy was set aside');
      const mine = records(driver); // also holds the earlier run's records
      for (const [key, want] of local.get('wider')!) assert.deepEqual(mine.get(key), want, key);
    } finally {
      await stop(worker);
    }
  });

  test('the secrets and the Redis password appear in no log line or error', () => {
    assert.ok(transcripts.length > 10);
    for (const text of transcripts.map((t) => t())) {
      for (const secret of [SECRET, WRONG_SECRET, redis.password!]) assert.ok(!text.includes(secret), `a secret leaked into:\n${text.slice(0, 2000)}`);
    }
  });
});
