/**
 * Shared cache in a directory on a shared filesystem (NFS, Lustre, GPFS, or a local disk).
 *
 * Layout under the root:
 *   objects/ab/<digest>         object bytes, write-once
 *   runs/ab/<key>.json          run records
 *   tmp/                        files being written (never read)
 *   quarantine/                 objects that failed verification, kept for inspection
 *
 * Every write goes to tmp/, is fsynced, then moved into place in one step, so a crash or a
 * killed worker leaves at worst a stray temp file, never a half-written object under a real
 * name. Objects are linked into place (link fails if the name exists: first writer wins);
 * records are renamed into place (last writer wins: any complete record is valid).
 */
import { mkdir, open, readFile, rename, link, unlink, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { Digest, Json, StageKey } from '../types.ts';
import { digestBytes } from './digest.ts';
import { describeWriteError } from '../fsutil.ts';
import { CorruptObjectError, MissingObjectError, SharedCacheError, objectPath, recordPath, type ObjectBackend } from './backend.ts';

export class DirectoryBackend implements ObjectBackend {
  private constructor(readonly location: string) {}

  static async open(root: string): Promise<DirectoryBackend> {
    try {
      await mkdir(join(root, 'tmp'), { recursive: true });
    } catch (error) {
      throw new SharedCacheError(`cannot use ${root} as a shared cache directory: ${(error as Error).message}`);
    }
    return new DirectoryBackend(root);
  }

  async has(digest: Digest): Promise<boolean> {
    return exists(join(this.location, objectPath(digest)));
  }

  async get(digest: Digest): Promise<Uint8Array> {
    const path = join(this.location, objectPath(digest));
    let bytes: Uint8Array;
    try {
      const buffer = await readFile(path);
      bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    } catch (error) {
      if (isCode(error, 'ENOENT')) throw new MissingObjectError(this.location, digest);
      throw error;
    }
    const actual = await digestBytes(bytes);
    if (actual !== digest) {
      const aside = join(this.location, 'quarantine', `${digest}.${Date.now()}.${uniqueSuffix()}`);
      let quarantinedAs: string | undefined = aside;
      try {
        await mkdir(dirname(aside), { recursive: true });
        await rename(path, aside);
      } catch {
        quarantinedAs = undefined; // another reader moved it first, or the filesystem refused
      }
      throw new CorruptObjectError(this.location, digest, actual, quarantinedAs);
    }
    return bytes;
  }

  async put(digest: Digest, bytes: Uint8Array): Promise<void> {
    const actual = await digestBytes(bytes);
    if (actual !== digest) {
      throw new SharedCacheError(`refusing to store object ${digest} in ${this.location}: its bytes hash to ${actual}`);
    }
    const path = join(this.location, objectPath(digest));
    if (await exists(path)) return;
    const temp = await this.writeTemp(bytes);
    try {
      await mkdir(dirname(path), { recursive: true });
      await link(temp, path);
    } catch (error) {
      if (!isCode(error, 'EEXIST')) throw error;
    } finally {
      await unlink(temp).catch(() => {});
    }
  }

  async getRecord(key: StageKey): Promise<Json | undefined> {
    const path = join(this.location, recordPath(key));
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if (isCode(error, 'ENOENT')) return undefined;
      throw error;
    }
    try {
      return JSON.parse(text) as Json;
    } catch {
      // Records are renamed into place whole, so this is outside damage: treat it as a miss.
      return undefined;
    }
  }

  async putRecord(key: StageKey, record: Json): Promise<void> {
    const path = join(this.location, recordPath(key));
    const temp = await this.writeTemp(new TextEncoder().encode(JSON.stringify(record, null, 2) + '\n'));
    try {
      await mkdir(dirname(path), { recursive: true });
      await rename(temp, path);
    } catch (error) {
      await unlink(temp).catch(() => {});
      throw error;
    }
  }

  async close(): Promise<void> {}

  /** Write bytes to a fresh file in tmp/ and fsync it; returns its path. */
  private async writeTemp(bytes: Uint8Array): Promise<string> {
    const temp = join(this.location, 'tmp', `${hostname()}.${process.pid}.${uniqueSuffix()}`);
    let handle;
    try {
      handle = await open(temp, 'wx');
    } catch (error) {
      throw describeWriteError(error, temp);
    }
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } catch (error) {
      await handle.close();
      await unlink(temp).catch(() => {});
      throw describeWriteError(error, temp);
    }
    await handle.close();
    return temp;
  }
}

function uniqueSuffix(): string {
  return randomBytes(6).toString('hex');
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if (isCode(error, 'ENOENT')) return false;
    throw error;
  }
}

function isCode(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException)?.code === code;
}
