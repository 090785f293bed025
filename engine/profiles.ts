/**
 * Remembered params files ("profiles") of a work tree, kept in artifacts/state/profiles.json:
 * the params file of the last `repro` (what `status`, `timings`, `dag`, `gc` and `diff`
 * describe when no --params is given) and every params file a `repro` used here (what `gc`
 * keeps unless told `--all`). Only files are remembered, not `-S` overrides: a verb that should
 * describe an override run takes the same `-S` again.
 */
import { existsSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';

export interface Profiles {
  /** The params file of the last `repro` (relative to the project root when inside it). */
  last?: string;
  /** Every params file a `repro` used in this work tree → when it was last used (ISO). */
  used: Record<string, string>;
}

const FILE = 'profiles.json';

/** The project-relative spelling of a params file (absolute when outside the project). */
export function profileName(root: string, file: string): string {
  const abs = isAbsolute(file) ? file : resolve(root, file);
  const rel = relative(root, abs);
  return rel.startsWith('..') || isAbsolute(rel) ? abs : rel;
}

export function readProfiles(stateDir: string): Profiles {
  const path = join(stateDir, FILE);
  if (!existsSync(path)) return { used: {} };
  try {
    const j = JSON.parse(readFileSync(path, 'utf8')) as Partial<Profiles>;
    return { last: typeof j.last === 'string' ? j.last : undefined, used: j.used && typeof j.used === 'object' ? j.used : {} };
  } catch {
    // A damaged memory only costs the default: verbs fall back to the project's params file.
    return { used: {} };
  }
}

/** Record that `repro` used this params file (it becomes the last one). */
export function rememberProfile(stateDir: string, name: string, now = new Date()): void {
  const p = readProfiles(stateDir);
  p.last = name;
  p.used[name] = now.toISOString();
  const path = join(stateDir, FILE);
  writeFileSync(`${path}.tmp`, JSON.stringify(p, null, 2) + '\n');
  renameSync(`${path}.tmp`, path);
}

/** Which params file a verb describes, and why (for the first line it prints). */
export interface ParamsChoice {
  file: string;
  source: 'option' | 'remembered' | 'default';
}

export function chooseParams(root: string, stateDir: string, option: string | undefined, fallback: string): ParamsChoice {
  if (option !== undefined) return { file: option, source: 'option' };
  const last = readProfiles(stateDir).last;
  if (last && existsSync(isAbsolute(last) ? last : join(root, last))) return { file: last, source: 'remembered' };
  return { file: fallback, source: 'default' };
}

export function describeChoice(c: ParamsChoice): string {
  if (c.source === 'remembered') return `params: ${c.file} (the last repro's; --params FILE for another)`;
  if (c.source === 'default') return `params: ${c.file} (the default; no repro has run here yet)`;
  return `params: ${c.file}`;
}
