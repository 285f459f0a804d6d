// Operating errors as typed values with a stable code and a one-line message saying what was expected and
// what was found. Broken invariants use `invariant`, which stops the program.

export class SimError extends Error {
  readonly code: string;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'SimError';
    this.code = code;
    this.details = details;
  }
}

export function isSimError(error: unknown): error is SimError {
  return error instanceof SimError;
}

/** An assertion for programmer errors: a broken invariant is a bug, never an operating condition. */
export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new InvariantError(message);
}

/**
 * Throws for a broken invariant. Hot paths write `if (!(condition)) invariantFailed(\`...\`)` so that the message
 * (often a template string) is built only when the invariant actually breaks, never on the normal path.
 */
export function invariantFailed(message: string): never {
  throw new InvariantError(message);
}

export class InvariantError extends Error {
  constructor(message: string) {
    super(`invariant broken: ${message}`);
    this.name = 'InvariantError';
  }
}

export type Result<T, E = SimError> = { ok: true; value: T } | { ok: false; error: E };
