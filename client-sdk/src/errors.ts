import { TRPCClientError } from '@trpc/client';
import type { TErrorCode, TFieldIssue } from '@gen3d/shared';

/** A failed call or generation, with the server's machine-readable code and its human message. */
export class Gen3dError extends Error {
  readonly code: TErrorCode | string;
  /** The HTTP status the REST projection would answer with; undefined when the request never got an answer. */
  readonly status: number | undefined;
  readonly issues: TFieldIssue[];
  readonly requestId: string | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: TErrorCode | string, message: string, details: { status?: number | undefined; issues?: TFieldIssue[] | undefined; requestId?: string | undefined; retryAfterSeconds?: number | undefined; cause?: unknown } = {}) {
    super(message, { cause: details.cause });
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
    if (data.code) return new Gen3dError(data.code, error.message, { status: data.httpStatus, issues: data.issues, requestId: data.requestId, retryAfterSeconds: data.retryAfterSeconds, cause: error });
    return new Gen3dError('NETWORK_ERROR', error.message, { cause: error });
  }
  return new Gen3dError('NETWORK_ERROR', error instanceof Error ? error.message : String(error), { cause: error });
}

/** True when `error` is a Gen3dError (or a client error carrying a server code), optionally with `code`. */
export function isGen3dError(error: unknown, code?: TErrorCode | string): boolean {
  const converted = error instanceof Gen3dError || error instanceof TRPCClientError ? toGen3dError(error) : undefined;
  return converted !== undefined && converted.code !== 'NETWORK_ERROR' && (code === undefined || converted.code === code);
}
