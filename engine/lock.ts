/**
 * Per-key locks, so that concurrent `repro` processes on one cache never compute a key twice.
 *
 * A lock is a file created with O_EXCL (`wx`) holding {pid, host, token, started}; its mtime is
 * the heartbeat, refreshed every HEARTBEAT_MS while held. A lock is stale when
 *   - its host is this host and its pid is not alive (a killed process): recovered at once, or
 *   - its heartbeat is older than the stale timeout (another host, or a hung/reused pid).
 * Breaking a stale lock is itself serialised by a short-lived "<lock>.break" file, and the
 * breaker re-reads the lock and only removes it if it still holds the same stale token, so two
 * processes that both saw it stale cannot delete a lock the other has just taken.
 *
 * This is the project's one locking scheme: the dataset downloader (science/datasets/download.ts)
 * uses it too, through waitForLock, which its callers pass in (science imports nothing of the
 * engine). proper-lockfile was the other candidate (well used, mtime staleness), but it has no
 * pid check, so a SIGKILLed holder would block every waiter for the whole stale timeout, and no
 * owner record to say who holds a lock or for gc to find live ones.
 */
import { closeSync, openSync, readFileSync, statSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { sleep } from './fsutil.ts';

const HEARTBEAT_MS = 2000;

export interface LockOwner {
  pid: number;
  host: string;
  token: string;
  started: string;
}

/** Stale timeout for locks whose owner cannot be checked by pid (env NNMOD_LOCK_STALE_MS overrides). */
export function staleTimeoutMs(): number {
  const v = Number(process.env.NNMOD_LOCK_STALE_MS);
  return Number.isFinite(v) && v > 0 ? v : 30_000;
}

export function isPidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const HOST = hostname();
/** Locks held by this process, released on exit even when a signal ends the run. */
const held = new Set<Lock>();

export class Lock {
  private timer: NodeJS.Timeout | undefined;
  private released = false;
  constructor(
    readonly path: string,
    readonly owner: LockOwner,
  ) {
    held.add(this);
    this.timer = setInterval(() => {
      try {
        const now = new Date();
        utimesSync(this.path, now, now);
      } catch {
        // Lock file gone (e.g. broken as stale after a long pause): nothing to refresh.
      }
    }, HEARTBEAT_MS);
    this.timer.unref();
  }

  /** Remove the lock file if it is still ours. */
  release(): void {
    if (this.released) return;
    this.released = true;
    held.delete(this);
    clearInterval(this.timer);
    const current = readOwner(this.path);
    if (current?.token === this.owner.token) {
      try {
        unlinkSync(this.path);
      } catch {}
    }
  }
}

export function releaseAllLocks(): void {
  for (const l of [...held]) l.release();
}

function readOwner(path: string): LockOwner | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
}

function createExclusive(path: string, owner: LockOwner): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, JSON.stringify(owner));
  } finally {
    closeSync(fd);
  }
  return true;
}

/** Why the lock at `path` is stale, or undefined if its holder looks alive. */
function staleReason(path: string, owner: LockOwner | undefined): string | undefined {
  let mtimeMs: number;
  try {
    mtimeMs = statSync(path).mtimeMs;
  } catch {
    return 'gone';
  }
  if (owner && owner.host === HOST && !isPidAlive(owner.pid)) return `process ${owner.pid} is gone`;
  // An unreadable owner is a lock being written right now, unless it is old.
  if (Date.now() - mtimeMs > staleTimeoutMs()) return `no heartbeat for ${Math.round((Date.now() - mtimeMs) / 1000)} s`;
  return undefined;
}

/** Remove a stale lock if it still holds `staleToken`; serialised by `<path>.break`. */
function breakStale(path: string, staleToken: string | undefined): void {
  const breaker = path + '.break';
  const me: LockOwner = { pid: process.pid, host: HOST, token: randomBytes(8).toString('hex'), started: new Date().toISOString() };
  if (!createExclusive(breaker, me)) {
    // Someone else is breaking it, or died doing so: clear a dead breaker and let the caller retry.
    const b = readOwner(breaker);
    if (staleReason(breaker, b)) {
      try {
        unlinkSync(breaker);
      } catch {}
    }
    return;
  }
  try {
    const current = readOwner(path);
    if (current?.token === staleToken && staleReason(path, current)) unlinkSync(path);
  } catch {
    // Already gone.
  } finally {
    try {
      unlinkSync(breaker);
    } catch {}
  }
}

export type TryLockResult = { acquired: true; lock: Lock } | { acquired: false; holder: LockOwner | undefined };

/** Try once to take the lock at `path`; breaks it first if its holder is dead or silent. */
export function tryLock(path: string): TryLockResult {
  const owner: LockOwner = { pid: process.pid, host: HOST, token: randomBytes(8).toString('hex'), started: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    if (createExclusive(path, owner)) return { acquired: true, lock: new Lock(path, owner) };
    const holder = readOwner(path);
    if (!staleReason(path, holder)) return { acquired: false, holder };
    breakStale(path, holder?.token);
  }
  return { acquired: false, holder: readOwner(path) };
}

/**
 * Take the lock at `path`, waiting while a live holder keeps it (polling, 100 ms backing off to
 * 1 s); resolves to its release. For callers that must wait in place (the dataset downloader);
 * the scheduler uses tryLock, because it waits outside its job slots. Throws the signal's reason
 * if `signal` aborts the wait.
 */
export async function waitForLock(path: string, signal?: AbortSignal): Promise<() => void> {
  for (let delay = 100; ; delay = Math.min(1000, delay * 1.5)) {
    signal?.throwIfAborted();
    const attempt = tryLock(path);
    if (attempt.acquired) return () => attempt.lock.release();
    await sleep(delay, signal);
  }
}

/** Live locks of other processes in `dir` (used by gc to refuse running beside a repro). */
export function liveLocks(dir: string, names: string[]): LockOwner[] {
  const out: LockOwner[] = [];
  for (const n of names) {
    if (!n.endsWith('.lock')) continue;
    const path = `${dir}/${n}`;
    const o = readOwner(path);
    if (!staleReason(path, o) && o && o.pid !== process.pid) out.push(o);
  }
  return out;
}
