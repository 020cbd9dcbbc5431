import { ErrorCatalogue, type TErrorCode, type TFieldIssue } from '@gen3d/shared';

/**
 * An expected failure a service reports: it carries the machine-readable code clients branch on and
 * a message safe to show them (the catalogue's default unless given). The error formatter turns it into
 * tRPC and HTTP errors with the catalogue's tRPC code and HTTP status.
 */
export class DomainError extends Error {
  readonly code: TErrorCode;
  readonly issues: TFieldIssue[] | undefined;
  /** Seconds a client should wait before retrying (rate limits). */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: TErrorCode,
    message: string = ErrorCatalogue[code].message,
    options: { issues?: TFieldIssue[]; retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DomainError';
    this.code = code;
    this.issues = options.issues;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export class NotFound extends DomainError {
  constructor(message?: string) {
    super('NOT_FOUND', message);
  }
}

export class Forbidden extends DomainError {
  constructor(message?: string) {
    super('FORBIDDEN', message);
  }
}

export class Unauthorized extends DomainError {
  constructor(message?: string) {
    super('UNAUTHORIZED', message);
  }
}

export class Conflict extends DomainError {
  constructor(message: string) {
    super('CONFLICT', message);
  }
}

export class BadRequest extends DomainError {
  constructor(message: string, issues?: TFieldIssue[]) {
    super('BAD_REQUEST', message, issues ? { issues } : {});
  }
}

export class RateLimited extends DomainError {
  constructor(retryAfterSeconds: number, message?: string) {
    super('RATE_LIMITED', message, { retryAfterSeconds });
  }
}

export class ServiceUnavailable extends DomainError {
  constructor(message: string) {
    super('SERVICE_UNAVAILABLE', message);
  }
}
