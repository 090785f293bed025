/**
 * Content verification of official files: sha256 of the decompressed bytes of an IDX file, or of
 * each data member of a tar archive, compared with the registry.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { readTarMembers } from './cifar.ts';
import { ChecksumError } from './errors.ts';
import { gunzipIfNeeded } from './idx.ts';
import type { OfficialFile } from './registry.ts';

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The name an IDX file's content goes by (the official name without `.gz`). */
export const contentName = (fileName: string): string => fileName.replace(/\.gz$/, '');

export interface VerifiedContent {
  /** Content name (IDX: file name without .gz; tar: member path) → bytes. */
  contents: Map<string, Uint8Array>;
  /** Content name → verified sha256. */
  digests: Record<string, string>;
}

/**
 * Read a local copy of an official file, verify its content digests and return the content.
 * Throws ChecksumError (naming `label`, expected and actual digests) or MalformedFileError.
 */
export async function readVerified(path: string, file: OfficialFile, label: string): Promise<VerifiedContent> {
  if (file.kind === 'idx') {
    const content = gunzipIfNeeded(new Uint8Array(await readFile(path)), label);
    const actual = sha256Hex(content);
    if (actual !== file.contentSha256)
      throw new ChecksumError(
        `${label}: content sha256 mismatch: expected ${file.contentSha256}, got ${actual} (sha256 of the decompressed bytes)`,
        file.contentSha256,
        actual,
      );
    const name = contentName(file.name);
    return { contents: new Map([[name, content]]), digests: { [name]: actual } };
  }
  const wanted = Object.keys(file.members);
  const members = await readTarMembers(path, wanted, label);
  const digests: Record<string, string> = {};
  const problems: string[] = [];
  const expectedBad: string[] = [];
  const actualBad: string[] = [];
  for (const member of wanted) {
    const bytes = members.get(member);
    const actual = bytes ? sha256Hex(bytes) : 'missing';
    digests[member] = actual;
    if (actual === file.members[member]) continue;
    problems.push(`${member}: expected ${file.members[member]}, got ${actual}`);
    expectedBad.push(file.members[member]);
    actualBad.push(actual);
  }
  if (problems.length > 0)
    throw new ChecksumError(
      `${label}: archive content does not match (sha256 of each member):\n    ${problems.join('\n    ')}`,
      expectedBad.join(','),
      actualBad.join(','),
    );
  return { contents: members, digests };
}
