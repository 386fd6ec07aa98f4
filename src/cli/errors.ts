// The two ways a CLI command fails on its own (API failures are ApiError): each maps to an exit code.

/** The command line itself is wrong (exit 2), like commander's own errors. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The operation could not be done (exit 1); the message is for the user, never a stack. */
export class CliError extends Error {
  override readonly name = 'CliError';
}

/** The command ran and ended with this status, which the CLI exits with (`solum run`). */
export class ExitStatus extends Error {
  override readonly name = 'ExitStatus';
  constructor(readonly code: number) {
    super(`exited with status ${code}`);
  }
}
