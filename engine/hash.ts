/**
 * Content digests and canonical JSON.
 *
 * Algorithm: XXH128 (xxHash, 128-bit) from hash-wasm. Why not BLAKE3: on this 2-core machine
 * hash-wasm's BLAKE3 measured ~620–700 MB/s single-threaded with the machine idle, which leaves
 * no margin for the ≥ 500 MB/s target once the cores are shared, while XXH128 measured
 * ~3–4 GB/s. The cache defends against accidents (crashes, bit rot, stale
 * results), not against an adversary forging colliding artifacts, so a 128-bit
 * non-cryptographic hash with a good avalanche is sufficient: the chance of an accidental
 * collision among 10^9 objects is ~10^-21.
 */
import { createXXHash128, type IHasher } from 'hash-wasm';
import { open } from 'node:fs/promises';
import type { Digest } from './types.ts';

export const HASH_ALGORITHM = 'xxh128';

let shared: IHasher | undefined;

/** Prepare the synchronous hasher (call once per thread before hashBytes/hashText). */
export async function initHashing(): Promise<void> {
  shared ??= await createXXHash128();
}

function hasher(): IHasher {
  if (!shared) throw new Error('engine/hash.ts: initHashing() was not awaited before hashing');
  return shared;
}

/** Digest of bytes or a string (UTF-8). Synchronous: the WASM hasher is ready after initHashing(). */
export function hashBytes(data: Uint8Array | string): Digest {
  const h = hasher();
  h.init();
  h.update(data);
  return h.digest('hex') as Digest;
}

/** Digest of a file, streamed in 8 MiB chunks (own hasher, so concurrent calls don't mix). */
export async function hashFile(path: string): Promise<{ digest: Digest; size: number }> {
  const h = await createXXHash128();
  h.init();
  const fh = await open(path, 'r');
  const chunk = Buffer.allocUnsafe(8 << 20);
  let size = 0;
  try {
    for (;;) {
      const { bytesRead } = await fh.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      h.update(bytesRead === chunk.length ? chunk : chunk.subarray(0, bytesRead));
      size += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return { digest: h.digest('hex') as Digest, size };
}

/**
 * Canonical JSON: object keys sorted, no whitespace, `undefined` members dropped, -0 written as
 * 0. Non-finite numbers, functions, bigints and class instances other than plain
 * objects/arrays are rejected so that two equal values always give the same text (and hash).
 */
export function canonicalJson(value: unknown): string {
  return write(value, '$');
}

function write(v: unknown, path: string): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(v)) throw new TypeError(`canonical JSON: ${path} is ${v}, which JSON cannot represent`);
      return Object.is(v, -0) ? '0' : JSON.stringify(v);
    case 'object': {
      if (Array.isArray(v)) return '[' + v.map((x, i) => (x === undefined ? 'null' : write(x, `${path}[${i}]`))).join(',') + ']';
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) {
        throw new TypeError(`canonical JSON: ${path} is a ${proto?.constructor?.name ?? 'non-plain object'}, expected plain data`);
      }
      const keys = Object.keys(v).sort();
      const parts: string[] = [];
      for (const k of keys) {
        const x = (v as Record<string, unknown>)[k];
        if (x === undefined) continue;
        parts.push(JSON.stringify(k) + ':' + write(x, `${path}.${k}`));
      }
      return '{' + parts.join(',') + '}';
    }
    default:
      throw new TypeError(`canonical JSON: ${path} is a ${typeof v}, expected plain data`);
  }
}

/** Digest of a value's canonical JSON. */
export function hashJson(value: unknown): Digest {
  return hashBytes(canonicalJson(value));
}

/** A seed in [0, 2^52) taken from the leading bits of a hex digest. */
export function seedFromDigest(digest: string): number {
  return Number.parseInt(digest.slice(0, 13), 16);
}
