/**
 * Command-line surface of distributed runs:
 *   repro --executor bullmq --queue redis://HOST:PORT --cache DIR|s3://bucket/prefix
 *   worker --queue redis://HOST:PORT --cache DIR|s3://bucket/prefix [--concurrency N]
 * (see docs/distributed.md).
 */
import { type Command, Option } from 'commander';
import { UserError } from '../errors.ts';
import type { Executor } from '../job.ts';
import type { PipelineProject } from '../project.ts';
import type { Session } from '../session.ts';
import { DEFAULT_QUEUE_NAME } from './connection.ts';
import type { S3Options } from './backend.ts';
import type { Json } from '../types.ts';

/** Outstanding remote jobs per driver when --jobs is not given: enough to keep a cluster busy. */
export const DEFAULT_REMOTE_JOBS = 256;

export interface DistributedOptions {
  executor?: 'local' | 'bullmq';
  queue?: string;
  queueName?: string;
  cache?: string;
  s3Endpoint?: string;
  insecureSharedCache?: boolean;
}

function sharedOptions(cmd: Command): Command {
  return cmd
    .option('--queue-name <name>', 'BullMQ queue name (several projects can share one Redis)', DEFAULT_QUEUE_NAME)
    .option('--s3-endpoint <url>', 'endpoint of an S3-compatible store (MinIO, Ceph); also $NNMOD_S3_ENDPOINT')
    .option(
      '--insecure-shared-cache',
      'run without $NNMOD_CACHE_SECRET: trust unsigned run records and jobs (anyone who can write to the cache or the queue decides results)',
    );
}

/** Add the distributed options to `repro`. */
export function withDistributedOptions(cmd: Command): Command {
  return sharedOptions(
    cmd
      .addOption(
        new Option('--executor <name>', 'where instances run: local worker threads, or BullMQ workers on any host')
          .choices(['local', 'bullmq'])
          .default('local'),
      )
      .option('--queue <url>', 'with --executor bullmq: the Redis of the queue, redis://HOST:PORT')
      .option('--cache <dir|s3-url>', 'with --executor bullmq: the cache shared with the workers, a directory or s3://bucket/prefix'),
  );
}

function s3Options(o: { s3Endpoint?: string }): S3Options {
  return o.s3Endpoint ? { endpoint: o.s3Endpoint } : {};
}

/**
 * The executor `repro` should use, or undefined for the engine's local one. `jobsGiven` says
 * whether the user set --jobs; if not, a remote run keeps DEFAULT_REMOTE_JOBS jobs in flight.
 */
export async function distributedExecutor(
  session: Session,
  o: DistributedOptions,
  jobsGiven: boolean,
): Promise<{ executor: Executor; jobs?: number } | undefined> {
  if ((o.executor ?? 'local') === 'local') {
    if (o.queue || o.cache) throw new UserError(`--queue and --cache are for distributed runs: add --executor bullmq`);
    return undefined;
  }
  if (!o.queue) throw new UserError('--executor bullmq needs --queue redis://HOST:PORT (the Redis the workers listen on)');
  if (!o.cache) throw new UserError('--executor bullmq needs --cache DIR or --cache s3://bucket/prefix (the cache the workers write to)');
  const [{ openBackend }, { BullmqExecutor }, { cacheTrust }, { checkQueueExposure }] = await Promise.all([
    import('./open-backend.ts'),
    import('./executor.ts'),
    import('./signing.ts'),
    import('./connection.ts'),
  ]);
  const trust = cacheTrust(o.insecureSharedCache, 'driver');
  if ('insecure' in trust) process.stderr.write('warning: --insecure-shared-cache: run records and jobs are not signed or checked\n');
  const cache = await openBackend(o.cache, { s3: s3Options(o) });
  const executor = await BullmqExecutor.create({
    queue: o.queue,
    queueName: o.queueName,
    cache,
    fingerprint: (moduleUrl) => session.fingerprinter.fingerprint(moduleUrl),
    trust,
    params: session.params.values as Json,
  });
  const exposed = await checkQueueExposure(o.queue);
  if (exposed) process.stderr.write(exposed + '\n');
  return { executor, jobs: jobsGiven ? undefined : DEFAULT_REMOTE_JOBS };
}

/** The `worker` verb. */
export function registerWorkerCommand(program: Command, project: PipelineProject): void {
  sharedOptions(
    program
      .command('worker')
      .description('run stage instances submitted by `repro --executor bullmq` on any host (same code, same cache)')
      .requiredOption('--queue <url>', 'the Redis of the queue, redis://HOST:PORT')
      .requiredOption('--cache <dir|s3-url>', 'the shared cache: a directory (shared filesystem) or s3://bucket/prefix')
      .addOption(new Option('-c, --concurrency <n>', 'jobs to run at once (each in its own worker thread)').default(1).argParser(positiveInt('--concurrency')))
      .option('--store <dir>', "this worker's local store, which inputs and outputs pass through (default: artifacts/ under the project root)")
      .option('--name <name>', 'name shown on the driver (default host:pid)')
      .addOption(
        new Option('--lock-duration <ms>', 'how long a silent worker keeps a job before another worker takes it over')
          .default(30_000)
          .argParser(positiveInt('--lock-duration')),
      ),
  ).action(
    async (o: {
      queue: string;
      cache: string;
      concurrency: number;
      store?: string;
      name?: string;
      lockDuration: number;
      queueName: string;
      s3Endpoint?: string;
      insecureSharedCache?: boolean;
    }) => {
      const { startWorker } = await import('./worker.ts');
      const worker = await startWorker(project, {
        queue: o.queue,
        queueName: o.queueName,
        cache: o.cache,
        s3: s3Options(o),
        concurrency: o.concurrency,
        storeDir: o.store,
        name: o.name,
        lockDurationMs: o.lockDuration,
        insecureSharedCache: o.insecureSharedCache,
      });
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals) => {
          process.stdout.write(`${signal}: handing running jobs back to the queue and stopping\n`);
          process.once(signal, () => process.exit(signal === 'SIGTERM' ? 143 : 130));
          void worker.close(true).finally(resolve);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    },
  );
}

function positiveInt(flag: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new UserError(`${flag} must be a positive integer, got '${v}'`);
    return n;
  };
}
