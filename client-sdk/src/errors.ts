import { TRPCClientError } from '@trpc/client';

import type { AppRouter } from '@gen3d/server';
import type { TErrorCode, TFieldIssue } from '@gen3d/shared';

type ErrorShape = TRPCClientError<AppRouter>['shape'];

/**
 * A failed call or generation, with the server's machine-readable code and its human message. Every call
 * of a gen3d client rejects with one. It is also a TRPCClientError (with the same `shape` and `data`), so
 * tRPC tooling that looks for those keeps working.
 */
export class Gen3dError extends TRPCClientError<AppRouter> {
  /** One of `ErrorCodes`, or `NETWORK_ERROR` when no answer came from the server. */
  readonly code: TErrorCode | string;
  /** The HTTP status the REST projection would answer with; undefined when the request never got an answer. */
  readonly status: number | undefined;
  readonly issues: TFieldIssue[];
  readonly requestId: string | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: TErrorCode | string,
    message: string,
    details: {
      status?: number | undefined;
      issues?: TFieldIssue[] | undefined;
      requestId?: string | undefined;
      retryAfterSeconds?: number | undefined;
      cause?: Error | undefined;
      shape?: ErrorShape;
    } = {},
  ) {
    super(message, { cause: details.cause, result: details.shape ? { error: details.shape } : undefined });
    // TRPCClientError puts its own prototype on every instance, which would hide this class's.
    Object.setPrototypeOf(this, new.target.prototype);
    this.name = 'Gen3dError';
    this.code = code;
    this.status = details.status;
    this.issues = details.issues ?? [];
    this.requestId = details.requestId;
    this.retryAfterSeconds = details.retryAfterSeconds;
  }
}

interface ServerErrorData {
  code?: string;
  httpStatus?: number;
  issues?: TFieldIssue[];
  requestId?: string;
  retryAfterSeconds?: number;
}

/** Any error a client call rejects with, as a Gen3dError (`NETWORK_ERROR` when the server was not reached). */
export function toGen3dError(error: unknown): Gen3dError {
  if (error instanceof Gen3dError) return error;
  if (error instanceof TRPCClientError) {
    const data = (error.data ?? {}) as ServerErrorData;
    const shape: ErrorShape = error.shape;
    if (data.code)
      return new Gen3dError(data.code, error.message, {
        status: data.httpStatus,
        issues: data.issues,
        requestId: data.requestId,
        retryAfterSeconds: data.retryAfterSeconds,
        cause: error,
        shape,
      });
    return new Gen3dError('NETWORK_ERROR', error.message, { cause: error });
  }
  return new Gen3dError('NETWORK_ERROR', error instanceof Error ? error.message : String(error), {
    cause: error instanceof Error ? error : undefined,
  });
}

/** True when `error` is a Gen3dError, with `code` when one is given. */
export function isGen3dError(error: unknown, code?: TErrorCode | string): error is Gen3dError {
  return error instanceof Gen3dError && (code === undefined || error.code === code);
}
