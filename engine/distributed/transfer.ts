/**
 * Moving runs between a machine's local store (engine/store.ts) and the shared cache.
 *
 * Order matters on both sides: objects first, the run record last, so a record anywhere always
 * means its objects were complete when it was written. Every download is verified twice: by the
 * backend against the digest it was asked for, and by the local store, which re-hashes what it
 * stores.
 */
import type { Digest, StageKey } from '../types.ts';
import type { FilesManifest, RunRecord, Store } from '../store.ts';
import { CorruptObjectError, MissingObjectError, type ObjectBackend } from './backend.ts';

/** Every object a run references: its outputs and, for `files` outputs, each file of the manifest. */
async function referencedObjects(record: RunRecord, readManifest: (digest: Digest) => Promise<FilesManifest>): Promise<Digest[]> {
  const digests: Digest[] = [];
  for (const output of Object.values(record.outputs)) {
    digests.push(output.digest);
    if (output.kind === 'files') {
      for (const file of Object.values((await readManifest(output.digest)).files)) digests.push(file.digest);
    }
  }
  return digests;
}

/** Upload a finished local run to the shared cache: its objects (write-once), then its record. */
export async function pushRun(store: Store, backend: ObjectBackend, record: RunRecord): Promise<void> {
  for (const digest of await referencedObjects(record, (d) => store.readManifest(d))) {
    if (await backend.has(digest)) continue;
    await backend.put(digest, await store.readBytes(digest));
  }
  await backend.putRecord(record.key, record as unknown as Parameters<ObjectBackend['putRecord']>[1]);
}

/** Make sure the local store holds an object, downloading it (verified) if needed. */
export async function fetchObject(store: Store, backend: ObjectBackend, digest: Digest): Promise<void> {
  if (store.hasObject(digest)) return;
  const bytes = await backend.get(digest);
  const stored = await store.putBytes(bytes);
  if (stored.digest !== digest) {
    // Only possible if the backend and the store disagree on the hash function.
    store.deleteObject(stored.digest);
    throw new CorruptObjectError(backend.location, digest, stored.digest, undefined);
  }
}

/** The run record of `key` in the shared cache, if there is one and it is well-formed. */
export async function readRemoteRecord(backend: ObjectBackend, key: StageKey): Promise<RunRecord | undefined> {
  const record = (await backend.getRecord(key)) as RunRecord | undefined;
  if (!record || typeof record !== 'object' || record.format !== 1 || record.key !== key || typeof record.outputs !== 'object') return undefined;
  return record;
}

/**
 * Copy a run from the shared cache into the local store (objects, then the record), so the
 * local store looks exactly as if the run had happened here. Returns undefined when the shared
 * cache has no usable run for the key: no record, or an object missing or corrupt (the corrupt
 * copy is set aside by the backend, so recomputing the key stores a good one).
 */
export async function pullRun(backend: ObjectBackend, store: Store, key: StageKey): Promise<RunRecord | undefined> {
  const record = await readRemoteRecord(backend, key);
  if (!record) return undefined;
  try {
    for (const output of Object.values(record.outputs)) {
      await fetchObject(store, backend, output.digest);
      if (output.kind === 'files') {
        for (const file of Object.values((await store.readManifest(output.digest)).files)) await fetchObject(store, backend, file.digest);
      }
    }
  } catch (error) {
    if (error instanceof MissingObjectError || error instanceof CorruptObjectError) return undefined;
    throw error;
  }
  await store.putRun(record);
  return record;
}
