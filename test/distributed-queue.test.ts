/**
 * The BullMQ queue the driver and workers share, on a throw-away redis-server on loopback:
 * the connection settings parse and reconnect, a duplicate submission (same job id = stage key)
 * collapses into one job, and a job survives a Redis restart from the clients' point of view.
 */
import { test, after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { probeRedis, redisConnection, redactUrl, QueueUrlError } from '../engine/distributed/connection.ts';
import { redisAvailable, startRedis, waitFor, type RedisServer } from './fixtures/distributed/servers.ts';

describe('queue URL', () => {
  test('parses host, port, database and credentials', () => {
    const options = redisConnection('redis://user:p%40ss@10.1.2.3:6380/2') as Record<string, unknown>;
    assert.equal(options.host, '10.1.2.3');
    assert.equal(options.port, 6380);
    assert.equal(options.db, 2);
    assert.equal(options.username, 'user');
    assert.equal(options.password, 'p@ss');
    assert.equal(options.maxRetriesPerRequest, null);
    assert.equal((redisConnection('redis://h') as Record<string, unknown>).port, 6379);
  });

  test('refuses other schemes and malformed URLs with a message naming --queue', () => {
    assert.throws(
      () => redisConnection('http://host:6379'),
      (e: Error) => e instanceof QueueUrlError && /--queue/.test(e.message),
    );
    assert.throws(() => redisConnection('not a url'), QueueUrlError);
    assert.throws(() => redisConnection('redis://h:1/x'), /database number/);
  });

  test('redacts passwords in messages', () => {
    assert.equal(redactUrl('redis://u:secret@h:1'), 'redis://u:***@h:1');
  });
});

/** Why the Redis tests are skipped (false: they run). Each test carries it, so `npm test` counts them as skipped. */
const NEEDS_REDIS = !redisAvailable() && 'redis-server is not installed (sudo apt-get install redis-server; CI installs it: .ci/run)';

describe('BullMQ on a local redis-server', () => {
  let redis: RedisServer;
  before(async () => {
    if (NEEDS_REDIS) return;
    redis = await startRedis();
  });
  after(async () => {
    await redis?.stop();
  });

  test('an unreachable Redis is reported at once instead of retried forever', { skip: NEEDS_REDIS }, async () => {
    await probeRedis(redis.url);
    await assert.rejects(probeRedis('redis://127.0.0.1:1'), (e: Error) => {
      assert.ok(e instanceof QueueUrlError);
      assert.match(e.message, /cannot reach the queue redis:\/\/127\.0\.0\.1:1: .*ECONNREFUSED.*is Redis running there\?/);
      return true;
    });
  });

  test('a job id submitted twice is one job, run once', { skip: NEEDS_REDIS }, async () => {
    const name = 'dedupe';
    const connection = redisConnection(redis.url);
    const queue = new Queue(name, { connection });
    const events = new QueueEvents(name, { connection });
    const runs: string[] = [];
    const worker = new Worker(
      name,
      async (job) => {
        runs.push(job.id!);
        return { doubled: (job.data as { n: number }).n * 2 };
      },
      { connection, autorun: false },
    );
    try {
      await events.waitUntilReady();
      const first = await queue.add('stage', { n: 21 }, { jobId: 'key-1' });
      const second = await queue.add('stage', { n: 99 }, { jobId: 'key-1' });
      assert.equal(second.id, first.id);
      assert.equal(await queue.count(), 1);
      void worker.run();
      const result = await first.waitUntilFinished(events, 20_000);
      assert.deepEqual(result, { doubled: 42 });
      assert.deepEqual(runs, ['key-1']);
    } finally {
      await worker.close();
      await events.close();
      await queue.close();
    }
  });

  test('queue and worker reconnect after Redis restarts and process a job added afterwards', { skip: NEEDS_REDIS }, async () => {
    const name = 'restart';
    const connection = redisConnection(redis.url);
    const queue = new Queue(name, { connection });
    const done: string[] = [];
    const worker = new Worker(
      name,
      async (job) => {
        done.push(job.id!);
      },
      { connection },
    );
    worker.on('error', () => {}); // connection errors while Redis is down are expected
    queue.on('error', () => {});
    try {
      await queue.add('stage', {}, { jobId: 'before' });
      await waitFor(
        () => done.includes('before'),
        20_000,
        () => 'the first job was not processed',
      );
      await redis.stop();
      await new Promise((r) => setTimeout(r, 1500));
      await redis.start();
      // The restarted Redis is empty (no persistence): the clients must simply carry on.
      await queue.add('stage', {}, { jobId: 'after' });
      await waitFor(
        () => done.includes('after'),
        30_000,
        () => 'the job added after the restart was not processed',
      );
    } finally {
      await worker.close();
      await queue.close();
    }
  });
});
