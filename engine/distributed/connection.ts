/**
 * Redis connection settings for the BullMQ queue shared by the driver and the workers.
 *
 * Both sides must ride out a Redis restart: commands wait in ioredis' offline queue instead of
 * failing (maxRetriesPerRequest: null, which BullMQ requires for workers anyway), and the client
 * reconnects every ≤ 2 s for as long as it takes.
 */
import type { ConnectionOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { UserError } from '../errors.ts';

/** Queue name used unless --queue-name says otherwise; one Redis can host several projects. */
export const DEFAULT_QUEUE_NAME = 'nnmod-stages';

export class QueueUrlError extends UserError {}

/** Parse `redis://[user:password@]host:port[/db]` (or `rediss://` for TLS) into BullMQ connection options. */
export function redisConnection(url: string): ConnectionOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new QueueUrlError(`invalid --queue ${JSON.stringify(url)}: expected redis://HOST:PORT (for example redis://127.0.0.1:6379)`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new QueueUrlError(`invalid --queue ${JSON.stringify(url)}: the scheme must be redis:// or rediss://`);
  }
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) {
    throw new QueueUrlError(`invalid --queue ${JSON.stringify(url)}: the path must be a database number, as in redis://HOST:PORT/0`);
  }
  return {
    host: parsed.hostname || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    db: db === '' ? 0 : Number(db),
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    tls: parsed.protocol === 'rediss:' ? {} : undefined,
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    retryStrategy: (times: number) => Math.min(200 * times, 2000),
  };
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

/**
 * Fail fast when Redis cannot be reached at all. The queue's own connections retry forever (so
 * that a run survives a Redis restart), which would make a mistyped --queue hang silently.
 */
export async function probeRedis(url: string, timeoutMs = 10_000): Promise<void> {
  const options = redisConnection(url) as Record<string, unknown>;
  const client = new Redis({
    ...options,
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  let cause: Error | undefined; // the socket error says more than connect()'s "Connection is closed"
  client.on('error', (error: Error) => (cause ??= error));
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    throw new QueueUrlError(`cannot reach the queue ${redactUrl(url)}: ${(cause ?? (error as Error)).message}; is Redis running there?`);
  } finally {
    client.disconnect();
  }
}
