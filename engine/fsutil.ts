/** Small durable-file helpers used by the store, the stat memo and publishing. */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { open, rename, unlink, mkdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** A temp name that no other process or call will pick. */
export function tempName(dir: string, hint: string): string {
  return join(dir, `.${basename(hint)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
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
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(data);
    if (durable) await fh.sync();
  } catch (err) {
    await fh.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await fh.close();
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
  const fd = openSync(tmp, 'w');
  try {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    if (durable) fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    try { unlinkSync(tmp); } catch {}
    throw err;
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
