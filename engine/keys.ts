/**
 * Stage keys. A key is the digest (engine/hash.ts) of the canonical JSON of KeyParts; a run
 * record exists for a key once that instance's outputs are stored, so "up to date" means
 * "a record exists for the key computed now".
 *
 * Every part is there for a reason:
 *  - format:  bumped when the engine changes how outputs are encoded or keys are built, the
 *             only engine change that may alter stored bytes (engine files are otherwise not
 *             fingerprinted, see fingerprint.ts).
 *  - stage:   two stages with identical code and params still compute different things.
 *  - code:    the digest of the stage module's local import closure and package versions, so
 *             editing `science/kmeans.ts` reruns exactly the stages that import it.
 *  - params:  what the stage's params(p, axes) gives the instance, the only params it sees:
 *             editing any other param leaves the key alone, and per-instance overrides count
 *             once applied.
 *  - axes:    the instance's matrix coordinates (they may not all show in params).
 *  - inputs:  content digests of the upstream outputs actually consumed, not upstream keys:
 *             an upstream rerun that produces identical bytes leaves this key unchanged
 *             (early cutoff), and keys can only be computed once upstream outputs exist.
 *  - runtime: facts the stage declares as affecting its numbers (e.g. the TF.js backend).
 *  - samples: for sample stages, which shard (index, size) or which combine (count and the
 *             shard output digests); the count is deliberately absent from shard keys and from
 *             the sample seeds, so raising it reuses every earlier shard.
 */
import { hashJson, seedFromDigest, hashBytes } from './hash.ts';
import type { Axes, Json, StageKey } from './types.ts';

/**
 * 2: seeds derive from the key parts without code and runtime facts (they used to derive from
 * the whole key), so every stored result drew other random numbers: none may be served.
 */
export const KEY_FORMAT = 2;

export interface InputKeyPart {
  stage: string;
  axes: Axes;
  /** Output name → content digest (only the outputs this instance consumes). */
  outputs: Record<string, string>;
}

export type SamplesKeyPart = { shard: { index: number; size: number } } | { count: number; shards: Record<string, string>[] };

export interface KeyParts {
  format: number;
  stage: string;
  code: string;
  params: Json;
  axes: Axes;
  inputs: InputKeyPart[];
  runtime: Record<string, string>;
  samples?: SamplesKeyPart;
}

export function computeKey(parts: KeyParts): StageKey {
  return hashJson(parts) as string as StageKey;
}

/**
 * What seeds derive from: the key parts without the code fingerprint and the runtime facts.
 * A refactor, a faster kernel or another backend must not re-draw the random numbers: then a
 * change that keeps the arithmetic reproduces the same bytes (early cutoff downstream), and
 * `diff` between commits shows only real changes, not a fresh draw of every shuffle.
 */
function seedIdentity(parts: KeyParts): Omit<KeyParts, 'code' | 'runtime'> {
  const { code: _code, runtime: _runtime, ...rest } = parts;
  return rest;
}

/**
 * The count-free identity of a sample stage instance that its sample seeds derive from: its
 * seed identity with no `samples` part (the count is already removed from params).
 */
export function sampleBaseKey(base: KeyParts): string {
  return hashJson({ ...seedIdentity(base), samples: 'base' });
}

/** Seed of sample i of a sample stage instance: from the count-free base key and i only. */
export function sampleSeed(baseKey: string, i: number): number {
  return seedFromDigest(hashBytes(`${baseKey}:sample:${i}`));
}

/** Seed of a whole run: from its seed identity (its key parts less code and runtime facts). */
export function runSeed(parts: KeyParts): number {
  return seedFromDigest(hashJson({ ...seedIdentity(parts), seed: 'run' }));
}
