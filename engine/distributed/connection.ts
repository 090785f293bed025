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

/** What can be learnt about who may use a Redis without credentials. */
export interface QueueExposure {
  /** The host of the queue URL. */
  host: string;
  /** The server refused an unauthenticated PING (requirepass or ACL `default` user off). */
  authRequired: boolean;
  /** `CONFIG GET bind` and `protected-mode`, when the server allowed them. */
  bind?: string;
  protectedMode?: string;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|-::1|localhost|\[::1\])$/;

/**
 * A warning when the queue accepts unauthenticated connections from other hosts, else undefined.
 * Without a password, Redis serves anyone who can reach it unless it listens on loopback only, or
 * it listens on loopback only in practice because protected mode refuses other clients.
 */
export function exposureWarning(url: string, e: QueueExposure): string | undefined {
  if (e.authRequired) return undefined;
  const others = LOOPBACK.test(e.host)
    ? e.bind !== undefined &&
      e.bind
        .split(/\s+/)
        .filter(Boolean)
        .some((a) => !LOOPBACK.test(a)) &&
      e.protectedMode !== 'yes'
    : true;
  if (!others) return undefined;
  return (
    `warning: the queue ${redactUrl(url)} accepts connections without a password from other hosts: anyone who can reach it can submit, ` +
    `delete or read jobs. Start Redis with \`requirepass\` (or an ACL user) and put the password in the URL (redis://:PASSWORD@HOST:PORT, ` +
    `rediss:// for TLS), or bind it to 127.0.0.1; see docs/distributed.md`
  );
}

/** Probe the queue without credentials and say whether that is a risk (never throws). */
export async function checkQueueExposure(url: string, timeoutMs = 5_000): Promise<string | undefined> {
  let options: Record<string, unknown>;
  try {
    options = redisConnection(url) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const client = new Redis({
    ...options,
    username: undefined,
    password: undefined,
    lazyConnect: true,
    enableReadyCheck: false, // its INFO would fail with NOAUTH before our PING could tell
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  let cause: Error | undefined;
  client.on('error', (error: Error) => (cause ??= error));
  const authRefusal = (error: unknown) => /NOAUTH|WRONGPASS|NOPERM|Authentication required/i.test(`${(error as Error)?.message} ${cause?.message}`);
  try {
    try {
      await client.connect(); // ioredis' HELLO already fails with NOAUTH on a server that wants a password
      await client.ping();
    } catch (error) {
      return authRefusal(error) ? exposureWarning(url, { host: String(options.host), authRequired: true }) : undefined;
    }
    let bind: string | undefined;
    let protectedMode: string | undefined;
    try {
      const [, b] = (await client.config('GET', 'bind')) as string[];
      const [, p] = (await client.config('GET', 'protected-mode')) as string[];
      bind = b;
      protectedMode = p;
    } catch {
      // CONFIG renamed or forbidden: judge by the URL's host alone.
    }
    return exposureWarning(url, { host: String(options.host), authRequired: false, bind, protectedMode });
  } catch {
    return undefined; // unreachable: the real connection reports that
  } finally {
    client.disconnect();
  }
}
