/**
 * Verified downloads: stream a file from the first URL that works into `<dest>.partial`,
 * resuming an interrupted transfer with an HTTP Range request, retrying transient failures
 * with exponential backoff, then verifying the content and only then renaming it atomically
 * to `<dest>`. A file at `dest` is therefore always complete and verified; `.partial` files
 * never look complete. A partial file is kept after a network failure (the next attempt
 * resumes it) and deleted after a failed verification (its bytes are wrong).
 */
import { mkdir, open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DatasetError } from './errors.ts';

export interface DownloadOptions {
  /** Retries per URL after the first attempt, for transient failures (5xx, 429, timeouts, cut or refused connections). */
  retries?: number;
  /** First backoff delay; doubles on each retry up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Time allowed until the response headers arrive. */
  headersTimeoutMs?: number;
  /** Longest silence allowed while the body streams. */
  idleTimeoutMs?: number;
  signal?: AbortSignal;
  onProgress?: (p: { url: string; received: number; total?: number }) => void;
}

const DEFAULTS = { retries: 4, backoffMs: 1000, maxBackoffMs: 30_000, headersTimeoutMs: 30_000, idleTimeoutMs: 60_000 };

export class DownloadError extends DatasetError {
  constructor(
    message: string,
    /** One line per URL: what happened there. */
    readonly attempts: readonly string[],
  ) {
    super(message);
  }
}

/** A failure worth retrying on the same URL. */
class TransientError extends Error {}
/** A definitive answer from this URL (404, 403, unknown host, ...): go to the next one. */
class HttpStatusError extends Error {}

const isTransientStatus = (s: number): boolean => s >= 500 || s === 429 || s === 408;

/** Describe a fetch/stream failure in one short phrase (connection refused, timeout, cut transfer, ...). */
function describeNetworkError(e: unknown): string {
  const err = e as { message?: string; cause?: { code?: string; message?: string } };
  const code = err.cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host not found';
  if (code === 'ECONNRESET') return 'connection reset';
  if (code) return `${code}${err.cause?.message ? ` (${err.cause.message})` : ''}`;
  if (err.cause?.message) return `${err.message}: ${err.cause.message}`;
  return err.message ?? String(e);
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/**
 * One transfer attempt of `url` into `partial`, resuming from its current size.
 * Returns how many bytes were already there (0 = fresh transfer).
 */
async function transferOnce(
  url: string,
  partial: string,
  o: Required<Omit<DownloadOptions, 'signal' | 'onProgress'>> & DownloadOptions,
): Promise<{ resumedFrom: number }> {
  let start = await fileSize(partial);
  const ac = new AbortController();
  let timeoutReason: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  const arm = (ms: number, reason: string) => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timeoutReason = reason;
      ac.abort();
    }, ms);
  };
  const onAbort = () => ac.abort();
  o.signal?.addEventListener('abort', onAbort);
  let fh: FileHandle | undefined;
  let received = start;
  try {
    arm(o.headersTimeoutMs, `no response within ${o.headersTimeoutMs / 1000} s`);
    const res = await fetch(url, { headers: start > 0 ? { range: `bytes=${start}-` } : {}, signal: ac.signal, redirect: 'follow' });
    if (res.status === 416 && start > 0) {
      // Range not satisfiable: the partial file may already hold everything; verification decides.
      await res.body?.cancel();
      return { resumedFrom: start };
    }
    if (res.status !== 200 && res.status !== 206) {
      await res.body?.cancel();
      const what = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
      throw isTransientStatus(res.status) ? new TransientError(what) : new HttpStatusError(what);
    }
    let total: number | undefined;
    const length = res.headers.get('content-length');
    if (res.status === 206) {
      const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
      if (!m || Number(m[1]) !== start) {
        await res.body?.cancel();
        await unlink(partial).catch(() => {});
        throw new TransientError(`server answered the resume request with an unexpected range (${res.headers.get('content-range')}); restarting`);
      }
      total = m[3] === '*' ? undefined : Number(m[3]);
    } else {
      start = 0; // the server ignored the Range header: start over
      received = 0;
      total = length !== null ? Number(length) : undefined;
    }
    fh = await open(partial, start > 0 ? 'a' : 'w');
    arm(o.idleTimeoutMs, `no data for ${o.idleTimeoutMs / 1000} s`);
    if (res.body) {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        await fh.write(chunk);
        received += chunk.length;
        arm(o.idleTimeoutMs, `no data for ${o.idleTimeoutMs / 1000} s`);
        o.onProgress?.({ url, received, total });
      }
    }
    await fh.sync();
    if (total !== undefined && received !== total) throw new TransientError(`transfer cut after ${received} of ${total} bytes`);
    return { resumedFrom: start };
  } catch (e) {
    if (o.signal?.aborted) throw o.signal.reason ?? e;
    if (e instanceof TransientError || e instanceof HttpStatusError) throw e;
    if (timeoutReason) throw new TransientError(`timed out: ${timeoutReason}${received > 0 ? ` after ${received} bytes` : ''}`);
    const phrase = describeNetworkError(e);
    // An unknown host will not appear by retrying: go to the next URL.
    if (phrase === 'host not found') throw new HttpStatusError(phrase);
    throw new TransientError(received > start ? `transfer cut after ${received} bytes (${phrase})` : phrase);
  } finally {
    clearTimeout(timer);
    o.signal?.removeEventListener('abort', onAbort);
    await fh?.close();
    if ((await fileSize(partial)) === 0) await unlink(partial).catch(() => {});
  }
}

export interface FetchVerifiedRequest {
  urls: readonly string[];
  /** Final path; written only after `verify` accepted the bytes. */
  dest: string;
  /** Throws (a DatasetError with expected/actual digests) when the file at `path` is not the right content. */
  verify: (path: string) => Promise<void>;
  /** What is being fetched, for messages (e.g. "dataset mnist: train-images-idx3-ubyte.gz"). */
  what: string;
  /** Extra lines appended to the failure message (e.g. how to use a mirror). */
  hint?: string;
  /** Serialises concurrent fetches of `dest` (see TakeLock). */
  lock: TakeLock;
}

/**
 * Takes the exclusive lock `lockFile`, waiting while another thread or process holds it, and
 * resolves to its release. Injected by the caller (the pipeline passes engine/lock.ts's
 * waitForLock), so that this module, like all of science/, knows nothing of how locks are kept.
 */
export type TakeLock = (lockFile: string, signal?: AbortSignal) => Promise<() => void | Promise<void>>;

/**
 * Download `dest` from the first URL that yields verified content (see the module comment).
 * Concurrent callers for the same dest (other processes or threads) wait for each other, so a
 * file is downloaded once. If `dest` already exists it is returned as is (it was verified
 * before its rename). Returns the URL the file came from (none when it was already there).
 * Throws DownloadError when every URL fails.
 */
export async function fetchVerified(req: FetchVerifiedRequest, options: DownloadOptions = {}): Promise<{ url?: string }> {
  const o = { ...DEFAULTS, ...options };
  await mkdir(dirname(req.dest), { recursive: true });
  const release = await req.lock(`${req.dest}.download.lock`, o.signal);
  try {
    if ((await fileSize(req.dest)) > 0) return {};
    const partial = `${req.dest}.partial`;
    const attempts: string[] = [];
    for (const url of req.urls) {
      let outcome = '';
      let tries = 0;
      let freshRetryDone = false;
      for (let attempt = 0; attempt <= o.retries; attempt++) {
        if (attempt > 0) await sleep(Math.min(o.maxBackoffMs, o.backoffMs * 2 ** (attempt - 1)), undefined, { signal: o.signal });
        tries++;
        let resumedFrom: number;
        try {
          ({ resumedFrom } = await transferOnce(url, partial, o));
        } catch (e) {
          if (e instanceof TransientError) {
            outcome = e.message;
            continue;
          }
          if (e instanceof HttpStatusError) {
            outcome = e.message;
            break;
          }
          throw e;
        }
        try {
          await req.verify(partial);
        } catch (e) {
          if (!(e instanceof DatasetError)) throw e;
          await unlink(partial).catch(() => {});
          outcome = `downloaded, but ${e.message}`;
          // A resumed file may mix bytes of two different versions: try once more from scratch.
          if (resumedFrom > 0 && !freshRetryDone) {
            freshRetryDone = true;
            attempt--;
            continue;
          }
          break;
        }
        await rename(partial, req.dest);
        await syncDir(dirname(req.dest));
        return { url };
      }
      attempts.push(`${url}: ${outcome}${tries > 1 ? ` (${tries} attempts)` : ''}`);
    }
    const partialNote = (await fileSize(partial)) > 0 ? `\n  The incomplete transfer is kept as ${partial} and resumes on the next run.` : '';
    throw new DownloadError(
      `${req.what}: download failed; nothing was stored.\n  Tried:\n    ${attempts.join('\n    ') || '(no URLs)'}${partialNote}${req.hint ? `\n  ${req.hint}` : ''}`,
      attempts,
    );
  } finally {
    await release();
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } catch {
    // some filesystems refuse fsync on directories; the rename is still atomic
  } finally {
    await fh.close();
  }
}
