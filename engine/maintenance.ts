/** `gc` and `verify`: keep the store small and trustworthy. */
import { readdirSync, statSync } from 'node:fs';
import { hashFile } from './hash.ts';
import { isPidAlive, liveLocks } from './lock.ts';
import { computeStatus } from './status.ts';
import { UserError } from './errors.ts';
import type { Session } from './session.ts';
import type { RunRecord, Store } from './store.ts';

export interface GcResult {
  keptRuns: number;
  removedRuns: number;
  keptObjects: number;
  removedObjects: number;
  removedBytes: number;
  removedTmp: number;
}

/**
 * Delete objects no kept run record references. Kept records: those of the current params
 * (every up-to-date instance, and the stored shards the current counts use) and `alsoKeep`
 * (the CLI passes those of the other params files a repro used here), or with `allRuns` every record. Other records are deleted too (their objects go). Refuses to run
 * while another process holds a lock, since a running `repro` writes objects before their record.
 */
export async function gc(session: Session, opts: { allRuns?: boolean; dryRun?: boolean; alsoKeep?: ReadonlySet<string> } = {}): Promise<GcResult> {
  const { store } = session;
  const others = liveLocks(store.locksDir, safeList(store.locksDir));
  if (others.length) {
    throw new UserError(`gc: another pipeline process is running (pid ${others[0].pid} on ${others[0].host}); run gc when it has finished`);
  }
  const keep = new Set<string>(opts.alsoKeep ?? []);
  if (opts.allRuns) {
    for (const k of store.listRunKeys()) keep.add(k);
  } else {
    for (const k of await keysInUse(session)) keep.add(k);
  }
  const referenced = new Set<string>();
  let removedRuns = 0;
  for (const key of store.listRunKeys()) {
    const rec = store.getRun(key);
    if (rec && keep.has(key)) {
      for (const d of store.referencedObjects(rec)) referenced.add(d);
    } else {
      if (!opts.dryRun) store.deleteRun(key);
      removedRuns++;
    }
  }
  let removedObjects = 0;
  let removedBytes = 0;
  let keptObjects = 0;
  for (const d of store.listObjects()) {
    if (referenced.has(d)) {
      keptObjects++;
      continue;
    }
    try {
      removedBytes += statSync(store.objectPath(d)).size;
    } catch {}
    if (!opts.dryRun) store.deleteObject(d);
    removedObjects++;
  }
  const removedTmp = opts.dryRun ? 0 : store.cleanTmp(isPidAlive);
  return { keptRuns: keep.size, removedRuns, keptObjects, removedObjects, removedBytes, removedTmp };
}

/** Keys of the run records the session's params use: every up-to-date instance and the stored shards the counts use. */
export async function keysInUse(session: Session): Promise<Set<string>> {
  const keep = new Set<string>();
  for (const s of await computeStatus(session)) {
    if (s.record) keep.add(s.record.key);
    for (const r of s.shards?.records ?? []) if (r) keep.add(r.key);
  }
  return keep;
}

export interface VerifyResult {
  objects: number;
  bytes: number;
  corrupt: { digest: string; actual: string; movedTo: string }[];
  droppedRuns: string[];
}

/**
 * Re-hash every object. A corrupt one (content no longer matches its name) is moved to
 * quarantine/, and every run record that references a missing or corrupt object is dropped,
 * so the next `repro` recomputes exactly those results.
 */
export async function verify(store: Store): Promise<VerifyResult> {
  const corrupt: VerifyResult['corrupt'] = [];
  let bytes = 0;
  const names = store.listObjects();
  for (const d of names) {
    const { digest, size } = await hashFile(store.objectPath(d));
    bytes += size;
    if (digest !== d) corrupt.push({ digest: d, actual: digest, movedTo: store.quarantine(d) });
  }
  const droppedRuns: string[] = [];
  for (const key of store.listRunKeys()) {
    const rec: RunRecord | undefined = store.getRun(key);
    const refs = rec ? store.referencedObjects(rec) : [];
    if (!rec || refs.some((d) => !store.hasObject(d))) {
      store.deleteRun(key);
      droppedRuns.push(key);
    }
  }
  return { objects: names.length, bytes, corrupt, droppedRuns };
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
