/**
 * Moving objects between a machine's local store (engine/store.ts) and the shared cache, and
 * the shared cache's run records (RemoteRecord).
 *
 * Order matters on both sides: objects first, the record last, so a record anywhere means its
 * objects were complete when it was written. Every download is verified twice: by the backend
 * against the digest it was asked for, and by the local store, which re-hashes what it stores.
 */
import type { Axes, Digest, Json, StageKey } from '../types.ts';
import type { OutputRecord, RunRole, Store } from '../store.ts';
import type { JobResult } from '../job.ts';
import { CorruptObjectError, MissingObjectError, type ObjectBackend } from './backend.ts';
import { DamagedObjectError } from '../errors.ts';
import type { CacheTrust } from './signing.ts';

/**
 * The shared cache's run record of one stage key (runs/ab/<key>.json), written by the worker
 * that computed it, after its objects:
 *   format  1
 *   kind    'remote-run'
 *   key, stage, role, axes   which instance (or shard, or combine) this is
 *   code    the code fingerprint digest the worker ran (equal to the driver's, or it refused)
 *   result  the engine's JobResult: output records {kind, digest, size}, metrics, timings
 *   worker  `host:pid` of the worker, for people reading the record
 * The driver turns it into a local run record of its own (engine/store.ts RunRecord).
 */
export interface RemoteRecord {
  format: 1;
  kind: 'remote-run';
  key: StageKey;
  stage: string;
  role: RunRole;
  axes: Axes;
  code: string;
  result: JobResult;
  worker: string;
}

/** Objects an output stands for: itself and, for a `files` output, each file of its manifest. */
async function expand(
  outputs: Iterable<OutputRecord>,
  readManifest: (digest: Digest, size: number) => Promise<{ files: Record<string, { digest: Digest; size: number }> }>,
): Promise<{ digest: Digest; size: number }[]> {
  const objects: { digest: Digest; size: number }[] = [];
  for (const output of outputs) {
    objects.push(output);
    if (output.kind === 'files') {
      for (const file of Object.values((await readManifest(output.digest, output.size)).files)) objects.push(file);
    }
  }
  return objects;
}

/**
 * Upload outputs held in the local store to the shared cache (write-once: present objects are
 * skipped). Local bytes are checked as they are read: a damaged local copy throws
 * DamagedObjectError (engine/errors.ts) and is never uploaded.
 */
export async function pushOutputs(store: Store, backend: ObjectBackend, outputs: Iterable<OutputRecord>): Promise<void> {
  for (const { digest, size } of await expand(outputs, (d, n) => store.readManifest(d, n))) {
    if (await backend.has(digest)) continue;
    await backend.put(digest, await store.readBytes(digest, size));
  }
}

/**
 * Make sure the local store holds a good copy of an object: a local copy is re-hashed (a damaged
 * one is quarantined by the read), and a missing or damaged one is downloaded (verified).
 */
export async function fetchObject(store: Store, backend: ObjectBackend, digest: Digest): Promise<void> {
  if (store.hasObject(digest)) {
    try {
      await store.readBytes(digest);
      return;
    } catch (error) {
      if (!(error instanceof DamagedObjectError)) throw error;
    }
  }
  const bytes = await backend.get(digest);
  const stored = await store.putBytes(bytes);
  if (stored.digest !== digest) {
    // Only possible if the backend and the store disagree on the hash function.
    store.deleteObject(stored.digest);
    throw new CorruptObjectError(backend.location, digest, stored.digest, undefined);
  }
}

/** Download outputs (and the files of `files` outputs) into the local store. Throws Missing/CorruptObjectError. */
export async function fetchOutputs(store: Store, backend: ObjectBackend, outputs: Iterable<OutputRecord>): Promise<void> {
  for (const output of outputs) {
    await fetchObject(store, backend, output.digest);
    if (output.kind === 'files') {
      for (const file of Object.values((await store.readManifest(output.digest)).files)) await fetchObject(store, backend, file.digest);
    }
  }
}

/** Write a run record to the shared cache, signed unless the cache is explicitly insecure. */
export async function writeRemoteRecord(backend: ObjectBackend, record: RemoteRecord, trust: CacheTrust): Promise<void> {
  const stored = 'signer' in trust ? trust.signer.signed('run-record', record) : record;
  await backend.putRecord(record.key, stored as unknown as Json);
}

/**
 * The shared cache's record of `key`, if there is one, it is well-formed and (unless the cache is
 * explicitly insecure) its signature is valid. A record that fails the signature check is
 * ignored, and `notice` says so in one line: the key is then recomputed and its record rewritten.
 */
export async function readRemoteRecord(
  backend: ObjectBackend,
  key: StageKey,
  trust: CacheTrust,
  notice: (line: string) => void = () => {},
): Promise<RemoteRecord | undefined> {
  const record = (await backend.getRecord(key)) as RemoteRecord | undefined;
  if (!record || typeof record !== 'object' || record.format !== 1 || record.kind !== 'remote-run' || record.key !== key) return undefined;
  if (!record.result || typeof record.result.outputs !== 'object') return undefined;
  if ('signer' in trust) {
    const problem = trust.signer.problem('run-record', record);
    if (problem) {
      notice(`ignored the run record of ${String(record.stage).slice(0, 40)} ${key} in the shared cache ${backend.location}: ${problem}; recomputing it`);
      return undefined;
    }
  }
  const { signature: _signature, ...unsigned } = record as RemoteRecord & { signature?: string };
  return unsigned;
}

/**
 * Copy a finished run's objects from the shared cache into the local store and return its
 * record; undefined when the shared cache has no usable run for the key (no record, or an
 * object missing or corrupt: the backend sets a corrupt copy aside, so recomputing the key
 * stores a good one).
 */
export async function pullRun(
  backend: ObjectBackend,
  store: Store,
  key: StageKey,
  trust: CacheTrust,
  notice?: (line: string) => void,
): Promise<RemoteRecord | undefined> {
  const record = await readRemoteRecord(backend, key, trust, notice);
  if (!record) return undefined;
  try {
    await fetchOutputs(store, backend, Object.values(record.result.outputs));
  } catch (error) {
    if (error instanceof MissingObjectError || error instanceof CorruptObjectError) return undefined;
    throw error;
  }
  return record;
}
