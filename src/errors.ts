// Errors that decide the exit code (operations.md, "Exit codes").

/** Configuration or usage error: exit 2, nothing was connected to. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Another run holds the advisory lock: exit 3, nothing was written. */
export class LockHeldError extends Error {
  override readonly name = 'LockHeldError';
}

/** The run was stopped by SIGTERM/SIGINT: exit 143. */
export class StoppedError extends Error {
  override readonly name = 'StoppedError';
  constructor(message = 'stopped by SIGTERM') {
    super(message);
  }
}

/** A failure with the step it came from, so the log line says where. */
export class StepError extends Error {
  override readonly name = 'StepError';
  constructor(
    readonly step: string,
    override readonly cause: unknown,
  ) {
    super(`${step}: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

export const EXIT = { ok: 0, failed: 1, config: 2, skipped: 3, stopped: 143 } as const;

export function exitCodeFor(err: unknown): number {
  if (err instanceof ConfigError) return EXIT.config;
  if (err instanceof LockHeldError) return EXIT.skipped;
  if (err instanceof StoppedError) return EXIT.stopped;
  if (err instanceof StepError) return exitCodeFor(err.cause) === EXIT.stopped ? EXIT.stopped : EXIT.failed;
  return EXIT.failed;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * An error message on one line, for the log line, the Status line and the report: engines add
 * lines (DuckDB and PostgreSQL quote the statement with a caret under the position); those go.
 */
export function oneLine(message: string): string {
  return message
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^\^+$/.test(l) && !/^LINE \d+:/.test(l))
    .join(' ')
    .replace(/\s+/g, ' ');
}
