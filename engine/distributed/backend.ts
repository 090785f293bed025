/**
 * The shared cache: where workers on many hosts and the driver exchange objects and run records.
 *
 * A shared cache holds two kinds of entries:
 *  - objects, addressed by the digest of their bytes (see digest.ts). They are write-once: a
 *    digest always names the same bytes, so a second writer has nothing to add. Every read
 *    re-hashes the bytes and refuses (and quarantines) an object that does not match its
 *    digest, so a corrupt or partial upload is never used: it just becomes a miss.
 *  - run records, one JSON document per stage key, written after the objects they reference.
 *    A record's presence means "this key is done"; readers still verify the objects it names.
 *
 * Two implementations: a directory (a shared filesystem such as NFS or Lustre on an HPC
 * cluster; dir-backend.ts) and S3-compatible object storage (s3-backend.ts); open-backend.ts
 * picks one from a location. This module holds only what they share (the interface, errors,
 * layout), so it imports neither of them.
 */
import { UserError } from '../errors.ts';
import type { Digest, Json, StageKey } from '../types.ts';

export interface ObjectBackend {
  /** Human-readable location for messages: a directory path or `s3://bucket/prefix`. */
  readonly location: string;
  /** Whether an object with this digest is stored (not verified; `get` verifies). */
  has(digest: Digest): Promise<boolean>;
  /**
   * The object's bytes, verified against the digest. Throws MissingObjectError when absent
   * and CorruptObjectError (after moving the bad copy aside) when the bytes do not match.
   */
  get(digest: Digest): Promise<Uint8Array>;
  /**
   * Store bytes under their digest. Checks the digest first (a caller bug must not poison the
   * cache), then writes once: an existing object is left alone.
   */
  put(digest: Digest, bytes: Uint8Array): Promise<void>;
  /** The run record of a stage key, or undefined if the key has none. */
  getRecord(key: StageKey): Promise<Json | undefined>;
  /** Write (or replace) the run record of a stage key, atomically. */
  putRecord(key: StageKey, record: Json): Promise<void>;
  /** Release connections. */
  close(): Promise<void>;
}

/** A user-facing problem with the shared cache (the CLI prints the message without a stack). */
export class SharedCacheError extends UserError {}

export class MissingObjectError extends SharedCacheError {
  constructor(
    readonly location: string,
    readonly digest: Digest,
  ) {
    super(`object ${digest} is not in the shared cache ${location}`);
  }
}

export class CorruptObjectError extends SharedCacheError {
  constructor(
    readonly location: string,
    readonly digest: Digest,
    readonly actual: string,
    readonly quarantinedAs: string | undefined,
  ) {
    super(
      `object ${digest} in the shared cache ${location} is corrupt (its bytes hash to ${actual}); ` +
        (quarantinedAs ? `it was moved aside to ${quarantinedAs} and ` : '') +
        'it was not used: the run that needs it will recompute it',
    );
  }
}

// Digests and keys are hex (engine/hash.ts). Checking the form keeps a malformed name from
// ever becoming a path or object key outside the cache.
const HEX_NAME = /^[0-9a-f]{16,128}$/;

export function checkName(kind: 'digest' | 'key', name: string): void {
  if (!HEX_NAME.test(name)) {
    throw new SharedCacheError(`invalid ${kind} ${JSON.stringify(name)}: expected 16 to 128 lower-case hex digits`);
  }
}

/** Relative location of an object: `objects/ab/abcdef…` (fan-out keeps directories small). */
export function objectPath(digest: Digest): string {
  checkName('digest', digest);
  return `objects/${digest.slice(0, 2)}/${digest}`;
}

/** Relative location of a run record: `runs/ab/abcdef….json`. */
export function recordPath(key: StageKey): string {
  checkName('key', key);
  return `runs/${key.slice(0, 2)}/${key}.json`;
}

export interface S3Options {
  /** Endpoint URL for S3-compatible stores (MinIO, Ceph, s3rver). Default: $NNMOD_S3_ENDPOINT, then the SDK's own configuration. */
  endpoint?: string;
  /** Address buckets as `endpoint/bucket` instead of `bucket.endpoint`. Default: true when a custom endpoint is set. */
  forcePathStyle?: boolean;
  /** Default: $AWS_REGION, else us-east-1. */
  region?: string;
  /** Default: the SDK's credential chain (environment, profile, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}
