/**
 * Provenance plumbing for stages that record where their results came from (the report's
 * README): the project's git commit, a project file named by a param, and a digest of the
 * upstream instances. The engine may read git and the project tree; the science may not.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { promisify } from 'node:util';
import { UserError } from './errors.ts';
import { canonicalJson } from './hash.ts';
import type { InputInstance } from './types.ts';

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * The commit of the newest change under `root` outside the `exclude` paths (so committing, say,
 * the reports themselves does not make them stale) and its date; 'unknown' outside a git
 * checkout or without git.
 */
export async function gitCommit(root: string, exclude: readonly string[] = []): Promise<{ commit: string; commit_date: string }> {
  try {
    const args = ['log', '-1', '--format=%H%n%cI', '--', '.', ...exclude.map((p) => `:(exclude)${p}`)];
    const out = await promisify(execFile)('git', args, { cwd: root, encoding: 'utf8' });
    const [commit, date] = out.stdout.trim().split('\n');
    if (commit) return { commit, commit_date: date ?? 'unknown' };
  } catch {
    // not a git checkout, or git missing: fall through
  }
  return { commit: 'unknown', commit_date: 'unknown' };
}

/** A project file a param names cannot be read: the message names the param and the file and says what to do. */
export class ParamFileError extends UserError {}

/**
 * The text of the project file that param `key` names (`path`, relative to `root`), or null
 * when the param is null. `what` says what the file is, for the message ("notes file").
 */
export async function readParamFile(key: string, what: string, path: string | null, root: string): Promise<{ path: string; text: string } | null> {
  if (path === null) return null;
  const file = isAbsolute(path) ? path : resolve(root, path);
  try {
    return { path, text: await readFile(file, 'utf8') };
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read (${(err as Error).message})`;
    throw new ParamFileError(`${key}: the ${what} '${path}' (${file}) ${why}; write it, or set ${key}: null in the params file`);
  }
}

/** Per upstream stage: how many instances, and a digest over their keys (or, without a key, their output digests). */
export function inputsProvenance(inputs: Readonly<Record<string, readonly InputInstance[]>>): { stage: string; instances: number; digest: string }[] {
  return Object.keys(inputs)
    .sort()
    .map((stage) => {
      const ids = inputs[stage].map((i) => i.key ?? canonicalJson(Object.fromEntries(Object.entries(i.outputs).map(([k, o]) => [k, o.digest])))).sort();
      return { stage, instances: ids.length, digest: sha256(ids.join('\n')).slice(0, 16) };
    });
}
