/**
 * The stat memo: (size, mtime, inode) → what we learned from a file's content (its digest and,
 * for source files, its import specifiers). A no-op run stats files instead of reading and
 * parsing them. Persisted as artifacts/state/stat-memo.json; concurrent processes may overwrite
 * each other's memo, which only costs a re-read.
 *
 * "Racy" entries: a file rewritten within the mtime granularity right after we hashed it could
 * keep the same (size, mtime). So an entry is trusted only if the file's mtime was at least
 * RACY_MS older than the moment it was hashed; otherwise it is re-read next time.
 */
import { readFileSync, statSync, type Stats } from 'node:fs';
import { writeFileAtomicSync } from './fsutil.ts';

const RACY_MS = 2000;
const FORMAT = 1;

export interface MemoEntry<T> {
  size: number;
  mtimeMs: number;
  ino: number;
  hashedAt: number;
  data: T;
}

export class StatMemo {
  private entries: Record<string, MemoEntry<unknown>> = {};
  private dirty = false;

  constructor(private readonly file: string | undefined) {
    if (!file) return;
    try {
      const parsed = JSON.parse(readFileSync(file, 'utf8'));
      if (parsed?.format === FORMAT && parsed.entries && typeof parsed.entries === 'object') this.entries = parsed.entries;
    } catch {
      // Missing or unreadable memo: start empty (it is only a cache).
    }
  }

  /** The memoised data for `path` if the file is unchanged since it was recorded, else undefined. */
  get<T>(path: string, st: Stats, kind: string): T | undefined {
    const e = this.entries[kind + ':' + path];
    if (!e) return undefined;
    if (e.size !== st.size || e.mtimeMs !== st.mtimeMs || e.ino !== st.ino) return undefined;
    if (e.hashedAt - e.mtimeMs < RACY_MS) return undefined;
    return e.data as T;
  }

  set<T>(path: string, st: Stats, kind: string, data: T): void {
    this.entries[kind + ':' + path] = { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, hashedAt: Date.now(), data };
    this.dirty = true;
  }

  /** Stat `path` and return memoised data, or compute it (and remember it). */
  lookup<T>(path: string, kind: string, compute: (st: Stats) => T): T {
    const st = statSync(path);
    const hit = this.get<T>(path, st, kind);
    if (hit !== undefined) return hit;
    const data = compute(st);
    this.set(path, st, kind, data);
    return data;
  }

  save(): void {
    if (!this.file || !this.dirty) return;
    try {
      writeFileAtomicSync(this.file, JSON.stringify({ format: FORMAT, entries: this.entries }), { durable: false });
      this.dirty = false;
    } catch {
      // Best effort: losing the memo only slows the next run.
    }
  }
}

export function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}
