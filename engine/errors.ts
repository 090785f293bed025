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
