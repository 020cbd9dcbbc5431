import type { TErrorCode, TFieldIssue } from '@gen3d/shared';

/**
 * An expected failure a service reports: it carries the machine-readable code clients branch on and
 * a message safe to show them. The error formatter turns it into tRPC and HTTP errors.
 */
export class DomainError extends Error {
  readonly code: TErrorCode;
  readonly issues: TFieldIssue[] | undefined;
  /** Seconds a client should wait before retrying (rate limits). */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: TErrorCode,
    message: string,
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
  constructor(message = 'Not found') {
    super('NOT_FOUND', message);
  }
}

export class Forbidden extends DomainError {
  constructor(message = 'You are not allowed to do this') {
    super('FORBIDDEN', message);
  }
}

export class Unauthorized extends DomainError {
  constructor(message = 'Authentication required') {
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
  constructor(retryAfterSeconds: number, message = 'Too many requests, please slow down') {
    super('RATE_LIMITED', message, { retryAfterSeconds });
  }
}

export class ServiceUnavailable extends DomainError {
  constructor(message: string) {
    super('SERVICE_UNAVAILABLE', message);
  }
}
