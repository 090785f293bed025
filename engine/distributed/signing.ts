/**
 * Authenticating what travels between drivers and workers (docs/distributed.md, threat model).
 *
 * Content-addressed objects vouch for themselves (their digest is checked on every read), but a
 * run record, which maps a stage key to output digests, and a queued job, which tells a worker
 * what to compute, do not: anyone who can write to the shared cache or to Redis could forge them.
 * Both are therefore signed with HMAC-SHA256 under a secret that the driver and every worker
 * share, given by $NNMOD_CACHE_SECRET or by a file named in $NNMOD_CACHE_SECRET_FILE. It is never
 * taken from the command line (other users see it in `ps`) and never printed.
 *
 * What is signed is the canonical JSON (engine/hash.ts) of the document without its `signature`
 * member, prefixed by a purpose tag, so a signed job can never pass as a signed record.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { canonicalJson } from '../hash.ts';
import { UserError } from '../errors.ts';

export const SECRET_ENV = 'NNMOD_CACHE_SECRET';
export const SECRET_FILE_ENV = 'NNMOD_CACHE_SECRET_FILE';
const MIN_SECRET_BYTES = 16;

export type SignedPurpose = 'run-record' | 'job';

export class SecretError extends UserError {}

/** Signs and checks documents; holds the secret (which its methods never reveal). */
export class Signer {
  readonly #secret: Buffer;
  private constructor(secret: Buffer) {
    this.#secret = secret;
  }

  /**
   * The secret from the environment: $NNMOD_CACHE_SECRET, else the file $NNMOD_CACHE_SECRET_FILE
   * (trailing newline ignored); undefined when neither is set.
   */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): Signer | undefined {
    let secret: string | undefined;
    let from: string;
    if (env[SECRET_ENV] !== undefined && env[SECRET_ENV] !== '') {
      if (env[SECRET_FILE_ENV]) throw new SecretError(`set only one of $${SECRET_ENV} and $${SECRET_FILE_ENV}`);
      secret = env[SECRET_ENV];
      from = `$${SECRET_ENV}`;
    } else if (env[SECRET_FILE_ENV]) {
      const file = env[SECRET_FILE_ENV]!;
      from = `the file ${file} ($${SECRET_FILE_ENV})`;
      try {
        secret = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
      } catch (error) {
        throw new SecretError(`cannot read the shared-cache secret from ${from}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
      }
    } else {
      return undefined;
    }
    const bytes = Buffer.from(secret!, 'utf8');
    if (bytes.length < MIN_SECRET_BYTES) {
      throw new SecretError(
        `the shared-cache secret in ${from} is too short (${bytes.length} bytes): use at least ${MIN_SECRET_BYTES}, for example \`openssl rand -hex 32\``,
      );
    }
    return new Signer(bytes);
  }

  /** The signature of a document (any `signature` member is left out). */
  sign(purpose: SignedPurpose, document: object): string {
    const { signature: _ignored, ...rest } = document as { signature?: unknown };
    return createHmac('sha256', this.#secret).update(`nnmod ${purpose} v1\n`).update(canonicalJson(rest)).digest('hex');
  }

  /** The document with its signature added. */
  signed<T extends object>(purpose: SignedPurpose, document: T): T & { signature: string } {
    return { ...document, signature: this.sign(purpose, document) };
  }

  /** Why the document's signature cannot be trusted, or undefined when it is valid. */
  problem(purpose: SignedPurpose, document: object): string | undefined {
    const given = (document as { signature?: unknown }).signature;
    if (given === undefined) return 'it has no signature';
    if (typeof given !== 'string' || !/^[0-9a-f]{64}$/.test(given)) return 'its signature is malformed';
    let expected: string;
    try {
      expected = this.sign(purpose, document);
    } catch {
      return 'it is not plain JSON data';
    }
    return timingSafeEqual(Buffer.from(given, 'hex'), Buffer.from(expected, 'hex')) ? undefined : 'its signature does not match this secret';
  }

  /** Never show the secret, even by accident (`console.log(signer)`, JSON, string templates). */
  toString(): string {
    return 'Signer(secret hidden)';
  }
  toJSON(): string {
    return this.toString();
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/** How a driver or a worker treats the shared cache: signed (the default) or explicitly insecure. */
export type CacheTrust = { signer: Signer } | { insecure: true };

/**
 * The trust of this process: a Signer from the environment, or `--insecure-shared-cache`; with
 * neither, refuse to start (unsigned records would let anyone who can write to the cache choose
 * what every driver gets for a key).
 */
export function cacheTrust(insecure: boolean | undefined, role: 'driver' | 'worker', env: NodeJS.ProcessEnv = process.env): CacheTrust {
  const signer = Signer.fromEnv(env);
  if (signer) return { signer };
  if (insecure) return { insecure: true };
  throw new SecretError(
    `the ${role} needs the shared-cache secret to sign and check run records and jobs: set $${SECRET_ENV} (or $${SECRET_FILE_ENV}=FILE) ` +
      `to the same random string on the driver and every worker (for example \`openssl rand -hex 32\`), ` +
      `or pass --insecure-shared-cache to trust whatever is in the cache and the queue (see docs/distributed.md)`,
  );
}
