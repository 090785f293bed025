/**
 * User-facing dataset failures. The message is complete (what failed, which file/URL, what to
 * do); `exitCode` marks them as expected failures, which the CLI prints without a stack trace.
 */
export class DatasetError extends Error {
  readonly exitCode: number = 1;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A file that exists but is not what it claims to be (bad magic, truncated, wrong counts). */
export class MalformedFileError extends DatasetError {}

/** A file whose content digest differs from the registry's. */
export class ChecksumError extends DatasetError {
  constructor(
    message: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(message);
  }
}
