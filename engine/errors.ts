/**
 * Errors the user can act on. The CLI prints their message as one clean line (no stack) and
 * exits with `exitCode`; anything else that escapes is a bug and keeps its stack.
 */
export class UserError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** A stage declaration is inconsistent (unknown dep, cycle, bad matrix, ...). */
export class GraphError extends UserError {}

/** A stage run returned something the engine cannot store or its declaration forbids. */
export class StageOutputError extends UserError {}

/**
 * A stored object is not what its record says: absent, or its bytes are not the ones its digest
 * names (flipped bits, truncation). Raised as the object is read, after the bad copy was moved to
 * quarantine/, so it never reaches a consumer; the scheduler recomputes the producer.
 */
export class DamagedObjectError extends UserError {
  constructor(
    readonly digest: string,
    readonly problem: 'missing' | 'corrupt',
    /** What was found, e.g. "its bytes hash to …" or "1024 bytes, recorded 2048". */
    readonly detail: string,
  ) {
    super(`${problem} object ${digest}${detail ? ` (${detail})` : ''}`);
  }
}

/** The run was interrupted by SIGINT/SIGTERM (exit 130 / 143, as shells report signals). */
export class InterruptedError extends UserError {
  constructor(readonly signal: string) {
    super(`interrupted by ${signal}; in-flight work was dropped and nothing partial was recorded`, signal === 'SIGTERM' ? 143 : 130);
  }
}

/** True for errors whose message alone is the whole story (no stack needed). */
export function isUserFacing(err: unknown): err is Error & { exitCode: number } {
  return err instanceof Error && typeof (err as { exitCode?: unknown }).exitCode === 'number';
}
