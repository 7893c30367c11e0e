/**
 * Kinds of failure, one per gRPC status code the domain may produce. The
 * domain never imports gRPC: src/rpc/errors.ts maps kinds to codes in one place.
 */
export type ErrorKind =
  | 'invalid_argument'
  | 'unauthenticated'
  | 'permission_denied'
  | 'not_found'
  | 'already_exists'
  | 'failed_precondition'
  | 'aborted'
  | 'resource_exhausted'
  | 'unavailable'
  | 'deadline_exceeded'
  | 'cancelled'
  | 'internal';

/** One invalid request field: `field` is the proto field path, e.g. "profile.phone_number". */
export interface FieldViolation {
  field: string;
  description: string;
}

export interface DomainErrorOptions {
  /** Stable, documented machine-readable reason (ErrorInfo.reason), e.g. "EMAIL_TAKEN". */
  reason?: string;
  violations?: FieldViolation[];
  /** For resource_exhausted: when the client may retry. */
  retryAfterMs?: number;
  /** The internal error, kept for logs and never sent to the client. */
  cause?: unknown;
}

/**
 * The one error type of the domain. `id` is unique per raising site
 * (greppable: "ACCT-003"), `message` is safe to show to the caller.
 */
export class DomainError extends Error {
  readonly reason: string | undefined;
  readonly violations: FieldViolation[];
  readonly retryAfterMs: number | undefined;

  constructor(
    readonly kind: ErrorKind,
    readonly id: string,
    message: string,
    options: DomainErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'DomainError';
    this.reason = options.reason;
    this.violations = options.violations ?? [];
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** Collects field violations and throws them together, so a client sees every problem at once. */
export class Violations {
  private readonly list: FieldViolation[] = [];

  add(field: string, description: string): this {
    this.list.push({ field, description });
    return this;
  }

  get isEmpty(): boolean {
    return this.list.length === 0;
  }

  /** Whether `field` already has a violation (so later checks of it can be skipped). */
  has(field: string): boolean {
    return this.list.some((v) => v.field === field);
  }

  /** Throws INVALID_ARGUMENT naming every collected field, if any. */
  throwIfAny(id: string): void {
    if (this.list.length > 0) throw invalidArguments(id, this.list);
  }
}

/** INVALID_ARGUMENT naming every violated field. */
export function invalidArguments(id: string, violations: FieldViolation[]): DomainError {
  const fields = violations.map((v) => v.field).join(', ');
  return new DomainError('invalid_argument', id, `invalid request: ${fields}`, { violations: [...violations] });
}
