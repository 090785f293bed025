/** Small durable-file helpers used by the store, the stat memo and publishing. */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, statfsSync, unlinkSync, writeSync } from 'node:fs';
import { UserError } from './errors.ts';
import { open, rename, unlink, mkdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** A temp name that no other process or call will pick. */
export function tempName(dir: string, hint: string): string {
  return join(dir, `.${basename(hint)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/** A write failed for a reason the user must fix (full disk, quota, read-only or failing device). */
export class WriteError extends UserError {}

const USER_WRITE_ERRORS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large for the filesystem',
  EROFS: 'the filesystem is read-only',
  EIO: 'input/output error (failing device?)',
};

/**
 * A write error that names the file being written and the space left where it goes. Errors
 * other than the ones above (programming errors) are returned unchanged.
 */
export function describeWriteError(err: unknown, path: string, dir: string = dirname(path)): unknown {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (!code || !(code in USER_WRITE_ERRORS)) return err;
  let free = 'free space unknown';
  try {
    const fs = statfsSync(dir);
    free = `${formatBytes(Number(fs.bavail) * Number(fs.bsize))} free in ${dir}`;
  } catch {}
  return new WriteError(
    `cannot write ${path}: ${USER_WRITE_ERRORS[code]} (${code}); ${free}. Free some space (\`gc\` removes unused results) and run again; nothing already stored was lost`,
  );
}

function formatBytes(n: number): string {
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** fsync a directory so a rename into it survives a power loss. */
export function fsyncDirSync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on directories; the rename itself is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Write a file atomically: write a temp file in `tmpDir` (same filesystem), fsync it, rename it
 * over `path`, fsync the directory. Readers see the old file or the whole new one, never a
 * prefix, even after a crash.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string, opts: { tmpDir?: string; durable?: boolean } = {}): Promise<void> {
  const durable = opts.durable ?? true;
  const tmp = tempName(opts.tmpDir ?? dirname(path), path);
  let fh;
  try {
    fh = await open(tmp, 'w');
  } catch (err) {
    throw describeWriteError(err, path, dirname(tmp));
  }
  try {
    await fh.writeFile(data);
    if (durable) await fh.sync();
    await fh.close();
  } catch (err) {
    await fh.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw describeWriteError(err, path, dirname(tmp));
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      await unlink(tmp).catch(() => {});
      throw err;
    }
    // The destination directory is missing (for example after `gc`): create it and retry once.
    await mkdir(dirname(path), { recursive: true });
    await rename(tmp, path);
  }
  if (durable) fsyncDirSync(dirname(path));
}

/** Synchronous twin of writeFileAtomic, for small state files written on the way out. */
export function writeFileAtomicSync(path: string, data: Uint8Array | string, opts: { tmpDir?: string; durable?: boolean } = {}): void {
  const durable = opts.durable ?? true;
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tempName(opts.tmpDir ?? dirname(path), path);
  let fd: number;
  try {
    fd = openSync(tmp, 'w');
  } catch (err) {
    throw describeWriteError(err, path, dirname(tmp));
  }
  try {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    if (durable) fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {}
    throw describeWriteError(err, path, dirname(tmp));
  }
  closeSync(fd);
  renameSync(tmp, path);
  if (durable) fsyncDirSync(dirname(path));
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
