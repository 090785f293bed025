/**
 * Files a params key names (external models, test sets): read with a one-line error naming the
 * key, and their sha256, which is what enters a stage's key; reading again at run time checks the
 * file has not changed since the key was made.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { UserError } from '../engine/errors.ts';

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** The bytes of `path`; `key` names the params key in the message. */
export function readInputFile(key: string, path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new UserError(`${key}: cannot read '${path}': ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
}

/** The bytes of `path` again, refused when they no longer have the digest the key was made with. */
export function readUnchanged(key: string, path: string, digest: string): Uint8Array {
  const bytes = readInputFile(key, path);
  if (sha256(bytes) !== digest) throw new UserError(`${key}: '${path}' changed while the pipeline ran; run again`);
  return bytes;
}
