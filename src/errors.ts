/**
 * Typed errors; src/cli.ts turns them into exit codes in exactly one place.
 * UsageError → 2 (bad flag, bad input file, invalid value), RunError → 3 (could not run a required step).
 */
export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export class RunError extends Error {
  readonly exitCode = 3;
  constructor(message: string) {
    super(message);
    this.name = "RunError";
  }
}
