/**
 * Digest of object bytes for the shared cache: the engine's own content digest (engine/hash.ts),
 * so an object fetched from another machine is checked with exactly the algorithm that named
 * it in the local store and in run records.
 */
import { hashBytes, initHashing } from '../hash.ts';
import type { Digest } from '../types.ts';

export async function digestBytes(bytes: Uint8Array): Promise<Digest> {
  await initHashing();
  return hashBytes(bytes);
}
